"""Statistics for honest comparisons: bootstrap CIs, paired differences, McNemar, Spearman.

Pure functions of per-item outcome arrays (0/1 correctness, or floats). Why these choices:

* Percentile bootstrap over items: RewardBench accuracies are means of independent per-pair
  outcomes, and the bootstrap needs no normality assumption for small subsets.
* Paired resampling: two RMs (or one RM before and after a transform) are scored on the SAME
  pairs, so item indices are resampled jointly; pairing removes the between-item variance both
  share and gives much tighter intervals than comparing two separate CIs.
* Every resampling uses a local ``numpy.random.default_rng(seed)`` (never global state), so an
  interval repeats exactly for a seed, whatever else the process has drawn.
* The mean bootstraps (accuracy, weighted section accuracy, paired differences, difference of
  drops) are ``scipy.stats.bootstrap`` (``vectorized=True``, ``method="percentile"``) with
  ``batch`` set so that one batch holds about 4 M index cells: memory stays bounded whatever
  the number of resamples (scipy's default, ``batch=None``, materialises every resample at
  once: 911 MiB for one accuracy CI at 20,000 resamples, against 92 MiB batched). Measured by
  ``python -m benchmarks.stats`` (2,985 items, 2,000 resamples; benchmarks/README.md,
  "Statistics") against the block-vectorised code this module had before: the same intervals
  to the last digit (scipy draws the same index rows from the Generator), 0.034 s against
  0.030 s for an accuracy, 0.066 s against 0.057 s weighted, and under 1 ms of scipy's
  per-call overhead on a 100-item subset (1.6 ms against 0.8 ms): about as fast, so scipy.
* Paired differences are bootstrapped as the per-item differences (one sample), not with
  ``paired=True`` over the arrays: resampling item i's difference is resampling the pair, so
  the interval is identical to the digit, while ``paired=True`` gathers every array through an
  index array: 0.066 s and 122 MiB against 0.030 s and 61 MiB for two arrays (2.2x, 2x),
  0.109 s and 214 MiB for the four arrays of a difference of drops (3.5x, 3.5x).
* The Spearman CI stays hand-written, because it is measurably needed: scipy's bootstrap has to
  rank every resample again (``rankdata`` per row, vectorised and batched: 1.14 s, 287 MiB;
  ``spearmanr`` once per resample: 1.61 s), while ours ranks the data once and turns each
  resample into multiplicity counts: 0.37 s and 214 MiB, 3.1x faster, the same interval. It
  draws its index rows in the same blocks, so results depend only on (data, n_resamples, seed).
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np

ArrayLike = Sequence[float] | np.ndarray
Statistic = Callable[..., np.ndarray]

N_RESAMPLES = 2000
CONFIDENCE = 0.95
_BLOCK_CELLS = 4_000_000  # index cells drawn per block: bounds memory (~32 MB of int64)


def _array(values: ArrayLike, name: str = "values") -> np.ndarray:
    """1-D float array; NaN/inf rejected because a silent NaN would poison every resample."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _paired(*arrays: ArrayLike) -> list[np.ndarray]:
    """Arrays that must describe the same items, in the same order."""
    out = [_array(a, name=f"array {i}") for i, a in enumerate(arrays)]
    if len({len(a) for a in out}) > 1:
        raise ValueError("paired outcomes must cover the same items (lengths differ)")
    return out


def _index_blocks(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of bootstrap index rows (each row: n item indices drawn with replacement), for
    the Spearman CI; the rows scipy's bootstrap draws with the same seed and batch."""
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    rng = np.random.default_rng(seed)
    rows = max(1, _BLOCK_CELLS // max(n, 1))
    for start in range(0, n_resamples, rows):
        yield rng.integers(0, n, size=(min(rows, n_resamples - start), n))


def _interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval: the central `confidence` mass of the bootstrap distribution."""
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    samples = samples[~np.isnan(samples)]
    if len(samples) == 0:
        return (math.nan, math.nan)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(samples, [alpha, 1.0 - alpha])
    return (float(low), float(high))


def _excludes_zero(ci: Sequence[float] | None) -> bool:
    return ci is not None and (ci[0] > 0 or ci[1] < 0)


def _rng_argument(seed: int) -> dict[str, np.random.Generator]:
    """scipy >= 1.15 seeds through ``rng``, older versions through ``random_state``; both take a
    Generator and draw the same rows from it."""
    from scipy.stats import bootstrap

    name = "rng" if "rng" in inspect.signature(bootstrap).parameters else "random_state"
    return {name: np.random.default_rng(seed)}


def _scipy_bootstrap(data: tuple[np.ndarray, ...], statistic: Statistic, *, paired: bool,
                     n_resamples: int, confidence: float, seed: int) -> tuple[float, float]:
    """Percentile CI from ``scipy.stats.bootstrap`` in bounded batches (``_BLOCK_CELLS``).

    The interval is read off scipy's bootstrap distribution by ``_interval`` (the same
    quantile rule, ``np.quantile``'s linear one, as scipy's percentile interval), so that a
    statistic undefined on some resamples (a weighted mean whose resample holds only zero
    weights) drops those resamples as the Spearman CI does, instead of turning into nan.
    scipy needs two items; one item is its own every resample.
    """
    from scipy.stats import DegenerateDataWarning, bootstrap

    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    n = len(data[0])
    if n == 1:
        value = np.asarray(statistic(*(d[None, :] for d in data), axis=-1), dtype=float)
        return _interval(value.reshape(-1), confidence)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)  # nan resamples: dropped below
        result = bootstrap(data, statistic, n_resamples=n_resamples,
                           batch=max(1, _BLOCK_CELLS // n), vectorized=True, paired=paired,
                           confidence_level=confidence, method="percentile",
                           **_rng_argument(seed))
    return _interval(np.asarray(result.bootstrap_distribution, dtype=float), confidence)


def _weighted_mean(values: np.ndarray, weights: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (values * weights).sum(axis=axis) / weights.sum(axis=axis)


def bootstrap_ci(values: ArrayLike, *, n_resamples: int = N_RESAMPLES,
                 confidence: float = CONFIDENCE, seed: int = 0,
                 statistic: Statistic = np.mean,
                 weights: ArrayLike | None = None) -> tuple[float, float]:
    """Percentile bootstrap CI of ``statistic`` (default: the mean) of per-item values.

    ``statistic`` is called numpy-reduction style, ``statistic(resamples, axis=-1)``, on a
    (resamples x items) batch, so np.mean / np.median work as-is and stay vectorised.
    ``weights`` gives a weighted mean instead (used for RewardBench section scores, where each
    item carries its subset's weight / subset size); it only combines with the default mean,
    and is bootstrapped with scipy's ``paired=True``: an item's value and weight are drawn
    together. Returns (nan, nan) for no items.
    """
    x = _array(values)
    if weights is not None and statistic is not np.mean:
        raise ValueError("weights only apply to the mean statistic")
    if len(x) == 0:
        return (math.nan, math.nan)
    if weights is None:
        return _scipy_bootstrap((x,), statistic, paired=False, n_resamples=n_resamples,
                                confidence=confidence, seed=seed)
    w = _paired(x, weights)[1]
    return _scipy_bootstrap((x, w), _weighted_mean, paired=True, n_resamples=n_resamples,
                            confidence=confidence, seed=seed)


def proportion_ci(count: int, total: int, confidence: float = CONFIDENCE
                  ) -> tuple[float, float] | None:
    """Wilson score interval of ``count`` successes in ``total`` trials (scipy), for rates
    stored as counts (best-of-N): unlike a bootstrap it stays informative at 0 or ``total``
    successes, where a resample of all-equal outcomes has zero width. None when total is 0."""
    if not total:
        return None
    from scipy.stats import binomtest

    interval = binomtest(int(count), int(total)).proportion_ci(confidence, method="wilson")
    return float(interval.low), float(interval.high)


def accuracy_with_ci(correct: ArrayLike, *, n_resamples: int = N_RESAMPLES,
                     confidence: float = CONFIDENCE, seed: int = 0,
                     weights: ArrayLike | None = None) -> dict:
    """{"accuracy", "ci": [low, high], "n"} for per-item 0/1 outcomes (optionally weighted).

    The CI is a list so the dict is JSON-ready. No items -> accuracy and ci are None.
    """
    x = _array(correct, name="correct")
    if len(x) == 0:
        return {"accuracy": None, "ci": None, "n": 0}
    acc = float(np.average(x, weights=weights)) if weights is not None else float(x.mean())
    ci = bootstrap_ci(x, n_resamples=n_resamples, confidence=confidence, seed=seed,
                      weights=weights)
    return {"accuracy": acc, "ci": list(ci), "n": int(len(x))}


def paired_bootstrap_diff(a: ArrayLike, b: ArrayLike, *, n_resamples: int = N_RESAMPLES,
                          confidence: float = CONFIDENCE, seed: int = 0) -> dict:
    """{"diff": mean(a) - mean(b), "ci": [low, high], "n"} for outcomes on the SAME items.

    Item indices are resampled jointly, which is what makes the test paired: scipy's bootstrap
    resamples the per-item differences a_i - b_i, so each drawn item brings both of its
    outcomes (the same interval as ``paired=True`` over (a, b), at half its cost). Uses: RM A
    vs RM B on the same pairs, or original vs transformed outcomes of one RM (the drop under a
    transform). No items -> diff and ci are None.
    """
    x, y = _paired(a, b)
    if len(x) == 0:
        return {"diff": None, "ci": None, "n": 0}
    d = x - y  # mean of differences == difference of means, resampled jointly
    ci = bootstrap_ci(d, n_resamples=n_resamples, confidence=confidence, seed=seed)
    return {"diff": float(d.mean()), "ci": list(ci), "n": int(len(x))}


def paired_diff_of_drops(orig_a: ArrayLike, trans_a: ArrayLike, orig_b: ArrayLike,
                         trans_b: ArrayLike, *, n_resamples: int = N_RESAMPLES,
                         confidence: float = CONFIDENCE, seed: int = 0) -> dict:
    """A's drop minus B's drop under one transform, all four arrays indexed by the same pairs.

    drop = mean(orig) - mean(trans). A negative diff means A is more robust than B. The CI
    resamples pairs jointly across all four arrays, so the correlation between the two RMs'
    per-pair outcomes is kept. Returns {"diff", "ci", "n", "drop_a", "drop_b"}.
    """
    oa, ta, ob, tb = _paired(orig_a, trans_a, orig_b, trans_b)
    result = paired_bootstrap_diff(oa - ta, ob - tb, n_resamples=n_resamples,
                                   confidence=confidence, seed=seed)
    empty = len(oa) == 0
    result["drop_a"] = None if empty else float((oa - ta).mean())
    result["drop_b"] = None if empty else float((ob - tb).mean())
    return result


def _binary(values: ArrayLike, name: str) -> np.ndarray:
    x = _array(values, name=name)
    if not np.isin(x, (0.0, 1.0)).all():
        raise ValueError(f"{name} must hold 0/1 outcomes for McNemar's test")
    return x.astype(bool)


def mcnemar_exact(a: ArrayLike, b: ArrayLike) -> dict:
    """Exact two-sided McNemar test on paired 0/1 outcomes: {"b01", "b10", "p_value"}.

    b01 = items A gets wrong and B right, b10 = A right and B wrong. Under the null (equal
    accuracy) the discordant items split as X ~ Binomial(b01 + b10, 1/2), and
    p = min(1, 2 * P[X <= min(b01, b10)]); p = 1.0 with no discordant items.
    Computed with scipy's exact ``binomtest`` (for p = 1/2 its two-sided p-value is exactly
    that: the distribution is symmetric), not the chi-square approximation, because discordant
    counts between similar RMs are often small. An exact integer sum written here before was
    80x slower at 20,000 discordant items (``python -m benchmarks.stats``).
    """
    from scipy.stats import binomtest

    x, y = _paired(a, b)
    x, y = _binary(x, "a"), _binary(y, "b")
    b01, b10 = int((~x & y).sum()), int((x & ~y).sum())
    n = b01 + b10
    if n == 0:
        return {"b01": 0, "b10": 0, "p_value": 1.0}
    p_value = float(binomtest(min(b01, b10), n, 0.5).pvalue)
    return {"b01": b01, "b10": b10, "p_value": min(1.0, p_value)}


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (tied values share the mean of their positions)."""
    from scipy.stats import rankdata

    return rankdata(x, axis=-1)


def _rank_correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of average ranks, row-wise; nan where either side is constant."""
    rx, ry = _ranks(x), _ranks(y)
    rx = rx - rx.mean(axis=-1, keepdims=True)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    denom = np.sqrt((rx ** 2).sum(axis=-1) * (ry ** 2).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (rx * ry).sum(axis=-1) / denom, np.nan)


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman rank correlation (ties get average ranks); nan if either input is constant."""
    xs, ys = _paired(x, y)
    if len(xs) < 2:
        return math.nan
    return float(_rank_correlation(xs, ys))


def _resample_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """(resamples x items) multiplicity of each original item in each index row."""
    offsets = (np.arange(len(idx)) * n)[:, None]
    return np.bincount((idx + offsets).ravel(), minlength=len(idx) * n).reshape(len(idx), n)


def _resampled_ranks(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Average rank each original item takes in each resample, given multiplicities.

    Sorting once and taking cumulative counts replaces re-sorting every resample: an item's tie
    group (equal values) holds k resampled copies with `before` copies below it, so each copy
    ranks before + (k + 1) / 2, exactly what average ranking of the resampled data gives.
    """
    order = np.argsort(values, kind="stable")
    v = values[order]
    new_group = np.r_[True, v[1:] != v[:-1]]
    ends = np.r_[np.flatnonzero(new_group)[1:], len(v)] - 1
    upto = np.cumsum(counts[:, order], axis=1)[:, ends]  # copies in this group or below it
    below = np.hstack([np.zeros((len(counts), 1), dtype=upto.dtype), upto[:, :-1]])
    item_group = np.empty(len(v), dtype=np.intp)
    item_group[order] = np.cumsum(new_group) - 1
    return ((below + upto + 1) / 2.0)[:, item_group]


def _spearman_resamples(x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Spearman correlation of each bootstrap resample, without re-sorting per resample.

    Pearson correlation of the resampled ranks, written as sums over original items weighted
    by their multiplicities w. Ranks of n items always average (n + 1) / 2, so centring needs
    no per-resample mean; a constant side has every rank exactly (n + 1) / 2 and gives nan.
    """
    w = _resample_counts(idx, len(x))
    centre = (len(x) + 1) / 2.0
    dx, dy = _resampled_ranks(x, w) - centre, _resampled_ranks(y, w) - centre
    denom = np.sqrt((w * dx * dx).sum(axis=1) * (w * dy * dy).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (w * dx * dy).sum(axis=1) / denom, np.nan)


def spearman_with_ci(x: ArrayLike, y: ArrayLike, *, n_resamples: int = N_RESAMPLES,
                     confidence: float = CONFIDENCE, seed: int = 0) -> dict:
    """{"rho", "ci": [low, high], "n"}: Spearman correlation with a paired bootstrap CI.

    Used for length reliance = Spearman(reward margin, token-length margin): rank-based so a
    few huge margins do not dominate. Each resample's ranks (ties averaged, as in the point
    estimate) come from one sort of the data plus multiplicity counts, so 2,000 resamples of
    ~3,000 pairs stay well under a second. Resamples where one side is constant are dropped
    from the percentile interval.
    """
    xs, ys = _paired(x, y)
    if len(xs) < 2:
        return {"rho": math.nan, "ci": [math.nan, math.nan], "n": int(len(xs))}
    parts = [_spearman_resamples(xs, ys, idx) for idx in _index_blocks(len(xs), n_resamples, seed)]
    ci = _interval(np.concatenate(parts), confidence)
    return {"rho": spearman(xs, ys), "ci": list(ci), "n": int(len(xs))}


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2.0))


def minimum_detectable_difference(n: int, accuracy: float = 0.5, *,
                                  confidence: float = CONFIDENCE,
                                  discordance: float | None = None) -> float:
    """Smallest accuracy difference between two RMs that n pairs can resolve: the CI half-width.

    Independent (default): each accuracy has standard error sqrt(p(1-p)/n), their difference
    sqrt(2p(1-p)/n), so MDD = z * sqrt(2 p (1-p) / n) (z = 1.96 at 95%). With p = 0.5 it is the
    worst case: 2,985 RewardBench pairs give ~0.0254. We chose this closed form over a
    bootstrap because it needs no outcomes, so it can be quoted before any run.
    Paired (``discordance`` = share of pairs the two RMs disagree on, p01 + p10): the paired
    difference has variance ~ discordance / n near the null, so MDD = z * sqrt(discordance / n);
    usually much smaller, since similar RMs agree on most pairs.
    A true difference of exactly MDD is detected only about half the time; 80% power needs
    (z + 0.84) / z ~ 1.43 times it.
    """
    if n <= 0:
        return math.nan
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError("accuracy must be in [0, 1]")
    if discordance is None:
        variance = 2.0 * accuracy * (1.0 - accuracy)
    elif 0.0 <= discordance <= 1.0:
        variance = discordance
    else:
        raise ValueError("discordance must be in [0, 1]")
    return _z(confidence) * math.sqrt(variance / n)


def compare(a_correct: ArrayLike, b_correct: ArrayLike, *, n_resamples: int = N_RESAMPLES,
            confidence: float = CONFIDENCE, seed: int = 0) -> dict:
    """A vs B on the same items: {"diff", "ci", "n", "b01", "b10", "p_value", "significant"}.

    ``significant`` is True when the paired bootstrap CI excludes zero; the McNemar p-value is
    reported beside it as an exact cross-check that does not depend on resampling.
    """
    diff = paired_bootstrap_diff(a_correct, b_correct, n_resamples=n_resamples,
                                 confidence=confidence, seed=seed)
    test = mcnemar_exact(a_correct, b_correct)
    return {**diff, **test, "significant": _excludes_zero(diff["ci"])}
