"""Statistics for honest comparisons: bootstrap CIs, paired differences, McNemar, Spearman.

Pure functions of per-item outcome arrays. Every resampling uses a local
``numpy.random.default_rng(seed)`` (never global state), so intervals repeat exactly.
Resampling is vectorised: 2,000 resamples of 2,985 items take a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ArrayLike = Sequence[float] | np.ndarray
N_RESAMPLES = 2000


def _array(values: ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def _interval(samples: np.ndarray, confidence: float) -> list[float]:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(samples, [alpha, 1.0 - alpha])
    return [float(low), float(high)]


def bootstrap_ci(values: ArrayLike, *, weights: ArrayLike | None = None,
                 n_resamples: int = N_RESAMPLES, confidence: float = 0.95,
                 seed: int = 0) -> list[float]:
    """Percentile bootstrap CI of the (optionally weighted) mean of per-item values."""
    x = _array(values)
    if len(x) == 0:
        return [math.nan, math.nan]
    idx = _indices(len(x), n_resamples, seed)
    if weights is None:
        return _interval(x[idx].mean(axis=1), confidence)
    w = _array(weights)
    return _interval((x[idx] * w[idx]).sum(axis=1) / w[idx].sum(axis=1), confidence)


def accuracy_with_ci(correct: ArrayLike, *, weights: ArrayLike | None = None,
                     n_resamples: int = N_RESAMPLES, seed: int = 0) -> dict:
    """{"accuracy", "ci": [low, high], "n"} for per-item 0/1 outcomes."""
    x = _array(correct)
    if len(x) == 0:
        return {"accuracy": None, "ci": None, "n": 0}
    acc = float(np.average(x, weights=weights)) if weights is not None else float(x.mean())
    return {"accuracy": acc, "ci": bootstrap_ci(x, weights=weights, n_resamples=n_resamples,
                                                 seed=seed), "n": int(len(x))}


def paired_bootstrap_diff(a: ArrayLike, b: ArrayLike, *, n_resamples: int = N_RESAMPLES,
                          confidence: float = 0.95, seed: int = 0) -> dict:
    """mean(a) - mean(b) on the same items, with a CI from resampling items jointly."""
    x, y = _array(a), _array(b)
    if x.shape != y.shape:
        raise ValueError("paired outcomes must cover the same items")
    if len(x) == 0:
        return {"diff": None, "ci": None, "n": 0}
    idx = _indices(len(x), n_resamples, seed)
    samples = x[idx].mean(axis=1) - y[idx].mean(axis=1)
    return {"diff": float(x.mean() - y.mean()), "ci": _interval(samples, confidence),
            "n": int(len(x))}


def paired_diff_of_drops(orig_a: ArrayLike, trans_a: ArrayLike, orig_b: ArrayLike,
                         trans_b: ArrayLike, *, n_resamples: int = N_RESAMPLES,
                         seed: int = 0) -> dict:
    """(A's drop) - (B's drop) under one transform, all four arrays on the same pairs."""
    drop_a = _array(orig_a) - _array(trans_a)
    drop_b = _array(orig_b) - _array(trans_b)
    return paired_bootstrap_diff(drop_a, drop_b, n_resamples=n_resamples, seed=seed)


def mcnemar_exact(a: ArrayLike, b: ArrayLike) -> dict:
    """Exact two-sided McNemar test on paired 0/1 outcomes.

    b01 = items A gets wrong and B right, b10 = the reverse. Under the null the discordant items
    split as Binomial(b01 + b10, 1/2); p = min(1, 2 P[X <= min(b01, b10)]), computed exactly
    with integer binomial coefficients (no normal approximation: the counts are often small).
    """
    x, y = _array(a).astype(bool), _array(b).astype(bool)
    b01, b10 = int((~x & y).sum()), int((x & ~y).sum())
    n = b01 + b10
    if n == 0:
        return {"b01": 0, "b10": 0, "p_value": 1.0}
    tail = sum(math.comb(n, k) for k in range(min(b01, b10) + 1)) / 2 ** n
    return {"b01": b01, "b10": b10, "p_value": min(1.0, 2.0 * tail)}


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions) along the last axis."""
    from scipy.stats import rankdata

    return rankdata(x, axis=-1)


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    rx, ry = _ranks(_array(x)), _ranks(_array(y))
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def spearman_with_ci(x: ArrayLike, y: ArrayLike, *, n_resamples: int = 500, seed: int = 0
                     ) -> dict:
    """Spearman correlation with a bootstrap CI (fewer resamples: each one re-ranks)."""
    xs, ys = _array(x), _array(y)
    idx = _indices(len(xs), n_resamples, seed)
    rx, ry = _ranks(xs[idx]), _ranks(ys[idx])
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    denom = np.sqrt((rx ** 2).sum(axis=1) * (ry ** 2).sum(axis=1))
    samples = np.where(denom > 0, (rx * ry).sum(axis=1) / np.where(denom > 0, denom, 1), np.nan)
    samples = samples[~np.isnan(samples)]
    ci = _interval(samples, 0.95) if len(samples) else [math.nan, math.nan]
    return {"rho": spearman(xs, ys), "ci": ci, "n": int(len(xs))}


def minimum_detectable_difference(n: int, accuracy: float = 0.5, z: float = 1.96) -> float:
    """Smallest accuracy difference between two RMs that n pairs can resolve, roughly.

    Two independent accuracies near ``accuracy`` each have standard error sqrt(p(1-p)/n); their
    difference has sqrt(2p(1-p)/n), and a 95% interval excludes zero only beyond z times that.
    Paired designs do better when the RMs agree on most items, so this is a conservative bound.
    """
    if n <= 0:
        return math.nan
    return z * math.sqrt(2.0 * accuracy * (1.0 - accuracy) / n)


def compare(a_correct: ArrayLike, b_correct: ArrayLike, *, seed: int = 0) -> dict:
    """A vs B on the same items: paired difference, its CI, McNemar p, and significance."""
    diff = paired_bootstrap_diff(a_correct, b_correct, seed=seed)
    test = mcnemar_exact(a_correct, b_correct)
    significant = diff["ci"] is not None and (diff["ci"][0] > 0 or diff["ci"][1] < 0)
    return {**diff, **test, "significant": bool(significant)}
