"""crome-bench harness: the CLI, config, data, models, scoring, training, evaluation suites,
best-of-N, statistics and the run store.

The pieces other packages plug into (registries, seeded RNGs, the pair schema) live here so
that `transforms/`, `baselines/`, `crome/` and `leaderboards/` depend on one spine.
"""

__version__ = "0.1.0"
