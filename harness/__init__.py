"""crome-bench harness: CLI, config, data, models, scoring, suites and the run store.

The pieces other packages plug into (registries, seeded RNGs, the pair schema) live here so
that `transforms/`, `baselines/`, `crome/` and `leaderboards/` depend on one spine.
"""

__version__ = "0.1.0"
