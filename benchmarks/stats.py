"""Statistics speed: our vectorised bootstraps and exact McNemar against the obvious baselines.

Every board computes a bootstrap CI per RM and suite and a paired one per RM pair, on up to all
2,985 RewardBench pairs with 2,000 resamples, so these must cost well under a second. Baselines:
a Python loop that draws and averages one resample at a time (what a first implementation
does), scipy's ``bootstrap`` for the Spearman CI (``paired=True``; scipy has no vectorised
Spearman, so it calls the statistic once per resample), and scipy's exact ``binomtest`` for
McNemar. Each timing is the best of ``--repeats`` runs, which keeps other processes' load out of
the ratio. (These were timing assertions in unit tests, which fail on a loaded machine.)

Usage: python -m benchmarks.stats [--n 2985] [--resamples 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy import stats as scipy_stats

from harness.stats import bootstrap_ci, mcnemar_exact, paired_bootstrap_diff, spearman_with_ci


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def loop_bootstrap(values: np.ndarray, resamples: int, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = [values[rng.integers(0, len(values), len(values))].mean() for _ in range(resamples)]
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2985)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    correct = rng.integers(0, 2, args.n)
    other = rng.integers(0, 2, args.n)
    x, y = rng.normal(size=args.n), rng.normal(size=args.n)
    r = args.resamples
    rows = [
        ("bootstrap CI of an accuracy",
         best_of(args.repeats, lambda: bootstrap_ci(correct, n_resamples=r)),
         best_of(args.repeats, lambda: loop_bootstrap(correct, r)), "Python loop"),
        ("paired bootstrap of a difference",
         best_of(args.repeats, lambda: paired_bootstrap_diff(correct, other, n_resamples=r)),
         best_of(args.repeats, lambda: loop_bootstrap(correct - other, r)), "Python loop"),
        ("Spearman with a bootstrap CI",
         best_of(args.repeats, lambda: spearman_with_ci(x, y, n_resamples=r)),
         best_of(1, lambda: scipy_stats.bootstrap(
             (x, y), lambda a, b: scipy_stats.spearmanr(a, b).statistic, paired=True,
             n_resamples=r, method="percentile", vectorized=False,
             random_state=np.random.default_rng(0))), "scipy.stats.bootstrap"),
    ]
    a = np.r_[np.ones(10_200), np.zeros(9_800)]
    rows.append(("exact McNemar, 20,000 discordant",
                 best_of(args.repeats, lambda: mcnemar_exact(a, 1 - a)),
                 best_of(args.repeats, lambda: scipy_stats.binomtest(9_800, 20_000, 0.5)),
                 "scipy.stats.binomtest"))
    print(f"n = {args.n}, {r} resamples, best of {args.repeats}")
    print(f"{'statistic':36} {'ours s':>8} {'baseline s':>11} {'speed-up':>9}  baseline")
    for name, ours, base, label in rows:
        print(f"{name:36} {ours:8.3f} {base:11.3f} {base / ours:8.1f}x  {label}")


if __name__ == "__main__":
    main()
