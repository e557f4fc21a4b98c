"""Statistics cost: our bootstraps against ``scipy.stats.bootstrap``, in time and in memory.

Every board computes a bootstrap CI per RM and suite (weighted for RewardBench sections), a
paired one per RM pair and per transform, and a Spearman CI for length reliance, on up to all
2,985 RewardBench pairs with 2,000 resamples. Issue #20 asks for scipy unless a measurement
shows the hand-written code is needed; this script is that measurement. For each bootstrap it
runs, on the same data and seed:

* ``hand-written``: the block-vectorised resampling harness.stats used for the mean bootstraps
  before they called scipy (kept here as the reference the decision was made against);
* ``scipy, batch=None``: ``scipy.stats.bootstrap(vectorized=True, method="percentile")``,
  ``paired=True`` over the arrays of paired data, as it comes: every resample at once;
* ``scipy, batch=B``: the same with ``batch`` = the rows of one block (4 M index cells);
* ``harness.stats``: what the library runs now (scipy on the per-item differences for paired
  data; the hand-written multiplicity-count Spearman, which scipy was 3x slower than).

Columns: best-of-``--repeats`` wall time (one run for scipy's per-resample Spearman, seconds
each), peak memory traced by ``tracemalloc`` during one call (numpy reports its buffers to it),
and the interval. With the same seed, scipy draws the same index rows as the hand-written code
(both call ``Generator.integers(0, n, (rows, n))``, which fills rows in order, so however the
resamples are cut into batches), and every interval of one statistic agrees to the last digit.
Then the peak memory at 10x the resamples (scipy's default grows with them, the batched call
does not) and McNemar against scipy's exact ``binomtest`` (which it calls). Timing is here,
never in unit tests. Run it on a quiet machine if you can; the load average is printed, and
ratios within one run are what to read.

Usage: python -m benchmarks.stats [--n 2985] [--resamples 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
from scipy import stats as scipy_stats

from harness import stats as hs

Interval = tuple[float, float]
BLOCK_CELLS = hs._BLOCK_CELLS  # index cells per block: the hand-written code's and the batch


# --- the hand-written reference (harness.stats before it called scipy) ------------------------


def hand_mean(x: np.ndarray, resamples: int, seed: int = 0,
              weights: np.ndarray | None = None) -> Interval:
    """The replaced bootstrap_ci: index rows drawn in blocks, statistic per block."""
    parts = []
    for idx in hs._index_blocks(len(x), resamples, seed):
        if weights is None:
            parts.append(x[idx].mean(axis=1))
        else:
            parts.append((x[idx] * weights[idx]).sum(axis=1) / weights[idx].sum(axis=1))
    return hs._interval(np.concatenate(parts), 0.95)


# --- scipy -------------------------------------------------------------------------------------


def scipy_ci(data: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray],
             resamples: int, batch: int | None, paired: bool, seed: int = 0) -> Interval:
    res = scipy_stats.bootstrap(data, statistic, n_resamples=resamples, batch=batch,
                                vectorized=True, paired=paired, method="percentile",
                                **hs._rng_argument(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def mean_diff(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return (a - b).mean(axis=axis)


def diff_of_drops(oa: np.ndarray, ta: np.ndarray, ob: np.ndarray, tb: np.ndarray,
                  axis: int = -1) -> np.ndarray:
    return ((oa - ta) - (ob - tb)).mean(axis=axis)


def rank_correlation(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """Row-wise Spearman for scipy's vectorised call: scipy's ``rankdata`` on every resample,
    then Pearson (harness.stats' point estimate, applied per row)."""
    if axis != -1:
        raise ValueError("rows are resamples: axis must be -1")
    return hs._rank_correlation(a, b)


# --- measurement -------------------------------------------------------------------------------


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def peak_mib(work: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2985)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, r = args.n, args.resamples
    rng = np.random.default_rng(0)
    correct = rng.integers(0, 2, n).astype(float)
    other = rng.integers(0, 2, n).astype(float)
    trans_a = correct * (rng.random(n) > 0.1)
    trans_b = other * (rng.random(n) > 0.2)
    # RewardBench-like section weights: 1 / (size of the item's subset), 23 subsets
    subset = rng.integers(0, 23, n)
    weights = 1.0 / np.bincount(subset, minlength=23)[subset]
    x = rng.normal(size=n)
    y = x + 2 * rng.normal(size=n)
    small = correct[:100]
    rows = max(1, BLOCK_CELLS // n)

    def scipy_pair(data: tuple[np.ndarray, ...], stat: Callable[..., np.ndarray],
                   paired: bool) -> list[tuple[str, Callable[[], Interval]]]:
        return [("scipy, batch=None", lambda: scipy_ci(data, stat, r, None, paired)),
                (f"scipy, batch={rows}", lambda: scipy_ci(data, stat, r, rows, paired))]

    def per_resample_spearman() -> Interval:
        res = scipy_stats.bootstrap((x, y), lambda a, b: scipy_stats.spearmanr(a, b).statistic,
                                    paired=True, n_resamples=r, method="percentile",
                                    vectorized=False, **hs._rng_argument(0))
        return float(res.confidence_interval.low), float(res.confidence_interval.high)

    cases: list[tuple[str, list[tuple[str, Callable[[], Interval]]]]] = [
        ("bootstrap CI of an accuracy", [
            ("hand-written", lambda: hand_mean(correct, r)),
            *scipy_pair((correct,), np.mean, paired=False),
            ("harness.stats.bootstrap_ci", lambda: hs.bootstrap_ci(correct, n_resamples=r))]),
        ("weighted (RewardBench section) accuracy", [
            ("hand-written", lambda: hand_mean(correct, r, weights=weights)),
            *scipy_pair((correct, weights), hs._weighted_mean, paired=True),
            ("harness.stats.bootstrap_ci", lambda: hs.bootstrap_ci(
                correct, weights=weights, n_resamples=r))]),
        ("paired bootstrap of a difference", [
            ("hand-written", lambda: hand_mean(correct - other, r)),
            *scipy_pair((correct, other), mean_diff, paired=True),
            ("harness.stats.paired_bootstrap_diff", lambda: tuple(hs.paired_bootstrap_diff(
                correct, other, n_resamples=r)["ci"]))]),
        ("paired difference of drops (4 arrays)", [
            ("hand-written", lambda: hand_mean((correct - trans_a) - (other - trans_b), r)),
            *scipy_pair((correct, trans_a, other, trans_b), diff_of_drops, paired=True),
            ("harness.stats.paired_diff_of_drops", lambda: tuple(hs.paired_diff_of_drops(
                correct, trans_a, other, trans_b, n_resamples=r)["ci"]))]),
        ("Spearman with a bootstrap CI", [
            *scipy_pair((x, y), rank_correlation, paired=True),
            ("scipy, spearmanr per resample (1 run)", per_resample_spearman),
            ("harness.stats.spearman_with_ci (ours)", lambda: tuple(hs.spearman_with_ci(
                x, y, n_resamples=r)["ci"]))]),
        ("accuracy CI of a 100-item subset (per-call cost)", [
            ("hand-written", lambda: hand_mean(small, r)),
            ("harness.stats.bootstrap_ci", lambda: hs.bootstrap_ci(small, n_resamples=r))]),
    ]
    print(f"n = {n} items, {r} resamples, best of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'statistic / implementation':44} {'time s':>7} {'peak MiB':>9}  interval")
    for title, impls in cases:
        print(title)
        for label, work in impls:
            seconds = best_of(1 if work is per_resample_spearman else args.repeats, work)
            low, high = work()
            print(f"  {label:42} {seconds:7.4f} {peak_mib(work):9.1f}  [{low:.6f}, {high:.6f}]")
    many = 10 * r
    print(f"memory at {many} resamples (accuracy CI)")
    for label, work in [
            ("scipy, batch=None", lambda: scipy_ci((correct,), np.mean, many, None, False)),
            ("harness.stats.bootstrap_ci", lambda: hs.bootstrap_ci(correct, n_resamples=many))]:
        print(f"  {label:42} {'':>7} {peak_mib(work):9.1f}")
    a = np.r_[np.ones(10_200), np.zeros(9_800)]
    print("exact McNemar, 20,000 discordant items")
    for label, work in [("harness.stats.mcnemar_exact", lambda: hs.mcnemar_exact(a, 1 - a)),
                        ("scipy.stats.binomtest", lambda: scipy_stats.binomtest(9_800, 20_000))]:
        print(f"  {label:42} {best_of(args.repeats, work):7.4f}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
