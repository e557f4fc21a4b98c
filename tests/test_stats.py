"""Statistics against hand-worked examples (numbers typed from the hand calculation, not code),
against scipy drawing the same resamples, and by the coverage of their intervals on data whose
true value is known. Speed is measured by ``python -m benchmarks.stats``, never asserted here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, bootstrap, spearmanr

from harness.stats import (
    _index_blocks,
    _rng_argument,
    _spearman_resamples,
    accuracy_with_ci,
    bootstrap_ci,
    compare,
    mcnemar_exact,
    minimum_detectable_difference,
    paired_bootstrap_diff,
    paired_diff_of_drops,
    spearman,
    spearman_with_ci,
)

# --- McNemar ---------------------------------------------------------------------------------


def test_mcnemar_all_discordant_one_way():
    # a right, b wrong on 5 items: b01 = 0, b10 = 5. P[X <= 0] = 1/32, p = 2/32 = 0.0625.
    assert mcnemar_exact([1] * 5, [0] * 5) == {"b01": 0, "b10": 5, "p_value": 0.0625}
    # the test is symmetric in which RM wins
    assert mcnemar_exact([0] * 5, [1] * 5) == {"b01": 5, "b10": 0, "p_value": 0.0625}


def test_mcnemar_one_against_nine():
    # b01 = 1, b10 = 9, n = 10: P[X <= 1] = (C(10,0) + C(10,1)) / 2^10 = (1 + 10) / 1024,
    # p = 2 * 11 / 1024 = 0.021484375. Concordant items (last two) must not count.
    a = [1] * 9 + [0] + [1, 0]
    b = [0] * 9 + [1] + [1, 0]
    result = mcnemar_exact(a, b)
    assert (result["b01"], result["b10"]) == (1, 9)
    assert result["p_value"] == pytest.approx(0.021484375, abs=1e-12)


def test_mcnemar_two_against_six():
    # b01 = 2, b10 = 6, n = 8: P[X <= 2] = (1 + 8 + 28) / 256 = 37/256, p = 74/256 = 0.2890625
    a = [1] * 6 + [0] * 2
    b = [0] * 6 + [1] * 2
    assert mcnemar_exact(a, b)["p_value"] == pytest.approx(0.2890625, abs=1e-12)


def test_mcnemar_large_counts_exact():
    # 9,800 vs 10,200 discordant: scipy's exact binomial test as the reference (speed:
    # python -m benchmarks.stats)
    a = np.r_[np.ones(10_200), np.zeros(9_800)]
    p = mcnemar_exact(a, 1 - a)["p_value"]
    assert p == pytest.approx(binomtest(9_800, 20_000, 0.5).pvalue, rel=1e-9)


def test_mcnemar_no_discordance_and_cap_at_one():
    assert mcnemar_exact([1, 0, 1], [1, 0, 1]) == {"b01": 0, "b10": 0, "p_value": 1.0}
    # b01 = b10 = 1: 2 * P[X <= 1] = 2 * 3/4 = 1.5, capped at 1
    assert mcnemar_exact([1, 0, 1], [0, 1, 1])["p_value"] == 1.0


def test_mcnemar_rejects_non_binary_and_unpaired():
    with pytest.raises(ValueError):
        mcnemar_exact([0.5, 1], [1, 0])
    with pytest.raises(ValueError):
        mcnemar_exact([1, 0, 1], [1, 0])


# --- bootstrap CIs ---------------------------------------------------------------------------


def test_ci_of_constant_outcomes_is_degenerate():
    assert bootstrap_ci([1, 1, 1, 1]) == (1.0, 1.0)
    assert bootstrap_ci([0, 0, 0]) == (0.0, 0.0)
    assert accuracy_with_ci([1] * 10) == {"accuracy": 1.0, "ci": [1.0, 1.0], "n": 10}


def test_bootstrap_deterministic_for_seed_and_varies_across_seeds():
    values = np.random.default_rng(0).integers(0, 2, 400)
    np.random.seed(123)  # global state must not matter
    first = bootstrap_ci(values, seed=3)
    np.random.random(1000)
    assert bootstrap_ci(values, seed=3) == first
    assert bootstrap_ci(values, seed=4) != first


def test_bootstrap_contains_mean_and_matches_normal_width():
    values = np.random.default_rng(0).integers(0, 2, 400)
    low, high = bootstrap_ci(values)
    p = values.mean()
    assert low < p < high
    # normal approximation half-width 1.96 * sqrt(p(1-p)/n) ~ 0.049 at n = 400, p ~ 0.5
    half = 1.96 * math.sqrt(p * (1 - p) / len(values))
    assert (high - low) / 2 == pytest.approx(half, rel=0.1)


def test_bootstrap_width_shrinks_with_n():
    values = np.random.default_rng(2).integers(0, 2, 3200)
    widths = [np.diff(bootstrap_ci(values[:n]))[0] for n in (50, 200, 800, 3200)]
    assert np.all(np.diff(widths) < 0)
    # 4x the items -> about half the width
    assert widths[2] / widths[3] == pytest.approx(2.0, rel=0.2)


def test_bootstrap_confidence_and_statistic():
    values = np.random.default_rng(5).random(500)
    ci90, ci99 = bootstrap_ci(values, confidence=0.90), bootstrap_ci(values, confidence=0.99)
    assert ci99[0] < ci90[0] < ci90[1] < ci99[1]
    med = bootstrap_ci(values, statistic=np.median)
    assert med[0] < np.median(values) < med[1]
    assert med != bootstrap_ci(values)


def test_weighted_accuracy():
    # weights 3 and 1 on outcomes 1 and 0: weighted mean 3/4
    result = accuracy_with_ci([1, 0], weights=[3, 1])
    assert result["accuracy"] == 0.75 and result["n"] == 2
    low, high = result["ci"]
    assert 0.0 <= low <= 0.75 <= high <= 1.0
    with pytest.raises(ValueError):
        bootstrap_ci([1, 0], weights=[1, 1], statistic=np.median)


def test_empty_and_invalid_inputs():
    assert accuracy_with_ci([]) == {"accuracy": None, "ci": None, "n": 0}
    assert paired_bootstrap_diff([], []) == {"diff": None, "ci": None, "n": 0}
    assert all(math.isnan(v) for v in bootstrap_ci([]))
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(ValueError):
        bootstrap_ci([1, 0], confidence=1.5)


def test_single_item_and_resamples_without_weight():
    # one item is every resample: a zero-width interval at its value (scipy needs two items)
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([0.7], weights=[2.0]) == (0.7, 0.7)
    # outcomes [1, 0] weighted [1, 0]: a resample of item 2 alone (1 in 4) has weighted mean
    # 0/0; those ~500 resamples are dropped, every other one has weighted mean exactly 1
    with np.errstate(all="raise"):
        assert bootstrap_ci([1, 0], weights=[1, 0]) == (1.0, 1.0)


def _reference_ci(columns: list[np.ndarray], statistic, n_resamples: int, seed: int,
                  confidence: float = 0.95) -> list[float]:
    """A bootstrap written out in full: every index row at once from default_rng(seed), the
    statistic of each resample, the central ``confidence`` quantiles of them."""
    n = len(columns[0])
    idx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    samples = statistic(*(c[idx] for c in columns))
    alpha = (1 - confidence) / 2
    return list(np.quantile(samples, [alpha, 1 - alpha]))


def test_bootstraps_equal_a_written_out_bootstrap_of_the_same_rows():
    # scipy draws integers(0, n, (rows, n)) per batch from the Generator, which fills rows in
    # order: the batched resamples are exactly the rows drawn all at once above, so the
    # intervals must agree to rounding. A wrong statistic, pairing or quantile changes them.
    rng = np.random.default_rng(11)
    n, r = 700, 1500
    a, b = rng.integers(0, 2, n).astype(float), rng.integers(0, 2, n).astype(float)
    w = rng.choice([0.5, 1.0, 4.0], n)
    assert list(bootstrap_ci(a, n_resamples=r, seed=9)) == pytest.approx(
        _reference_ci([a], lambda x: x.mean(axis=1), r, 9), abs=1e-12)
    assert list(bootstrap_ci(a, weights=w, n_resamples=r, seed=9, confidence=0.9)) == \
        pytest.approx(_reference_ci([a, w], lambda x, v: (x * v).sum(1) / v.sum(1), r, 9,
                                    confidence=0.9), abs=1e-12)
    # paired: both outcomes of a drawn item enter together
    assert paired_bootstrap_diff(a, b, n_resamples=r, seed=9)["ci"] == pytest.approx(
        _reference_ci([a, b], lambda x, y: x.mean(1) - y.mean(1), r, 9), abs=1e-12)
    ta, tb = a * (rng.random(n) > 0.2), b * (rng.random(n) > 0.1)
    assert paired_diff_of_drops(a, ta, b, tb, n_resamples=r, seed=9)["ci"] == pytest.approx(
        _reference_ci([a, ta, b, tb],
                      lambda oa, xa, ob, xb: (oa - xa).mean(1) - (ob - xb).mean(1), r, 9),
        abs=1e-12)


def test_bootstrap_matches_scipys_own_paired_percentile_interval():
    # scipy.stats.bootstrap as documented (paired=True over both arrays, its own percentile
    # interval) with the same seed gives the interval our per-item-difference call gives
    rng = np.random.default_rng(12)
    a, b = rng.integers(0, 2, 300).astype(float), rng.integers(0, 2, 300).astype(float)
    res = bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis) - y.mean(axis), paired=True,
                    vectorized=True, n_resamples=2000, method="percentile", **_rng_argument(3))
    ours = paired_bootstrap_diff(a, b, seed=3)["ci"]
    assert ours == pytest.approx([res.confidence_interval.low, res.confidence_interval.high],
                                 abs=1e-12)


# Coverage: 600 data sets from a known population, one 95% interval each. Tolerance: the count
# of intervals holding the truth is Binomial(600, ~0.95), standard error sqrt(.95 * .05 / 600)
# = 0.009, and a percentile bootstrap of 100 items may miss nominal by about a point either
# way; [0.92, 0.98] is nominal -3.3 / +3.3 standard errors. Measured on these seeds: 0.960,
# 0.947 and 0.947 for the three cases below, while wrong intervals fall outside: a 90% one
# covers 0.917 of the rates, a 99% one 0.993, an unpaired interval of the paired difference
# (A's and B's widths combined) 0.995, the weighted data without their weights 0.463.
# 1,000 resamples keep each case near a second.
COVERAGE_SETS, COVERAGE_N = 600, 100


def _coverage(draw, interval, truth: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for k in range(COVERAGE_SETS):
        low, high = interval(*draw(rng), k)
        hits += low <= truth <= high
    return hits / COVERAGE_SETS


def test_accuracy_ci_covers_a_known_rate():
    cover = _coverage(lambda rng: ((rng.random(COVERAGE_N) < 0.3).astype(float),),
                      lambda x, k: bootstrap_ci(x, n_resamples=1000, seed=k), 0.3, seed=100)
    assert 0.92 <= cover <= 0.98


def test_paired_diff_ci_covers_a_known_difference():
    # per item: both right 50%, only A 15%, only B 5%, both wrong 30%: true diff 0.10
    def draw(rng):
        u = rng.random(COVERAGE_N)
        return ((u < 0.65).astype(float), ((u < 0.5) | ((u >= 0.65) & (u < 0.7))).astype(float))
    cover = _coverage(draw, lambda a, b, k: paired_bootstrap_diff(
        a, b, n_resamples=1000, seed=k)["ci"], 0.10, seed=200)
    assert 0.92 <= cover <= 0.98


def test_weighted_ci_covers_a_known_weighted_rate():
    # weight 3 or 1 with probability 1/2, right with probability 0.8 or 0.4:
    # E[w x] / E[w] = (1.5 * 0.8 + 0.5 * 0.4) / 2 = 0.7
    def draw(rng):
        w = np.where(rng.random(COVERAGE_N) < 0.5, 3.0, 1.0)
        return (rng.random(COVERAGE_N) < np.where(w == 3, 0.8, 0.4)).astype(float), w
    cover = _coverage(draw, lambda x, w, k: bootstrap_ci(x, weights=w, n_resamples=1000,
                                                         seed=k), 0.7, seed=300)
    assert 0.92 <= cover <= 0.98


# --- paired differences ----------------------------------------------------------------------


def _a_and_worse_b(n: int = 600, flips: int = 60, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """B is A with `flips` of A's right answers turned wrong: true diff = flips / n exactly."""
    rng = np.random.default_rng(seed)
    a = np.ones(n, dtype=int)
    a[rng.choice(n, n // 4, replace=False)] = 0
    b = a.copy()
    b[rng.choice(np.flatnonzero(a), flips, replace=False)] = 0
    return a, b


def test_paired_diff_contains_truth_and_is_deterministic():
    a, b = _a_and_worse_b()
    result = paired_bootstrap_diff(a, b, seed=7)
    assert result["diff"] == pytest.approx(60 / 600)
    assert result["n"] == 600
    assert result["ci"][0] < 0.1 < result["ci"][1]
    assert result["ci"][0] > 0  # pairing makes this difference clear
    assert paired_bootstrap_diff(a, b, seed=7) == result
    assert paired_bootstrap_diff(b, a, seed=7)["diff"] == pytest.approx(-0.1)


def test_paired_bootstrap_ci_hand_worked():
    # A right and B wrong on 5 of 10 pairs, both wrong on the other 5: per-pair differences are
    # five 1s and five 0s, so a resampled mean is Binomial(10, 1/2) / 10. P[X <= 1] = 11/1024
    # (1.1%) < 2.5% < P[X <= 2] = 56/1024 (5.5%): the 2.5% point is 0.2, and by symmetry the
    # 97.5% point is 0.8. 2,000 resamples put ~21 draws at <= 0.1 and ~109 at <= 0.2, so the
    # 50th-smallest is 0.2 for any seed.
    a, b = [1] * 5 + [0] * 5, [0] * 10
    for seed in range(3):
        assert paired_bootstrap_diff(a, b, seed=seed) == {"diff": 0.5, "ci": [0.2, 0.8], "n": 10}
    # the same pairs under McNemar: b01 = 0, b10 = 5, p = 2 / 2^5 = 0.0625 (not below 0.05),
    # while the bootstrap interval excludes zero: at n = 10 the two tests can disagree.
    result = compare(a, b)
    assert (result["p_value"], result["significant"]) == (0.0625, True)

def test_pairing_beats_unpaired_comparison():
    a, b = _a_and_worse_b()
    paired = np.diff(paired_bootstrap_diff(a, b)["ci"])[0]
    # an unpaired difference's width is about sqrt(w_a^2 + w_b^2)
    unpaired = math.hypot(np.diff(bootstrap_ci(a))[0], np.diff(bootstrap_ci(b))[0])
    assert paired < unpaired / 2


def test_paired_diff_of_drops_hand_worked():
    # A drops on 1 of 4 pairs (drop 0.25), B on none (drop 0): diff of drops = 0.25
    result = paired_diff_of_drops([1, 1, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1])
    assert result["diff"] == pytest.approx(0.25)
    assert (result["drop_a"], result["drop_b"]) == (0.25, 0.0)
    assert result["ci"][0] <= 0.25 <= result["ci"][1]
    # B drops 0.75 -> 0.25 (drop 0.5) on the same pairs: diff = 0.25 - 0.5 = -0.25 (A more robust)
    mixed = paired_diff_of_drops([1, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1], [0, 0, 0, 1])
    assert (mixed["drop_a"], mixed["drop_b"], mixed["diff"]) == (0.25, 0.5, -0.25)
    # identical RMs: zero difference, degenerate interval at 0
    same = paired_diff_of_drops([1, 0, 1], [0, 0, 1], [1, 0, 1], [0, 0, 1])
    assert same["diff"] == 0.0 and same["ci"] == [0.0, 0.0]
    with pytest.raises(ValueError):
        paired_diff_of_drops([1, 1], [1, 0], [1], [1])


def test_compare_bundles_and_flags_significance():
    a, b = _a_and_worse_b()
    result = compare(a, b)
    assert result["significant"] is True
    assert (result["b01"], result["b10"]) == (0, 60)
    assert result["p_value"] < 1e-10
    assert result["diff"] == pytest.approx(0.1)
    tie = compare(a, a)
    assert tie["significant"] is False and tie["p_value"] == 1.0


# --- Spearman --------------------------------------------------------------------------------


def test_spearman_monotone_and_reversed():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [1, 8, 27, 1000]) == pytest.approx(1.0)  # monotone, not linear
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)


def test_spearman_with_ties_hand_worked():
    # ranks x = [1.5, 1.5, 3, 4, 5], y = [4.5, 4.5, 1, 2.5, 2.5]; centred (mean 3):
    # [-1.5, -1.5, 0, 1, 2] and [1.5, 1.5, -2, -0.5, -0.5]; sum of products
    # -2.25 - 2.25 + 0 - 0.5 - 1 = -6, sums of squares 9.5 and 9: rho = -6 / sqrt(85.5)
    x, y = [1, 1, 2, 3, 4], [5, 5, 1, 2, 2]
    assert spearman(x, y) == pytest.approx(-0.6488856845, abs=1e-9)
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)


def test_spearman_matches_scipy_on_random_ties():
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 5, 200), rng.integers(0, 7, 200)
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)


def test_resampled_spearman_equals_reranking_each_resample():
    # the CI's shortcut (one sort + multiplicity counts) must equal scipy on the resampled data
    rng = np.random.default_rng(6)
    x, y = rng.integers(0, 4, 40).astype(float), rng.normal(size=40).round(1)
    idx = next(_index_blocks(len(x), 50, seed=2))
    fast = _spearman_resamples(x, y, idx)
    slow = [spearmanr(x[row], y[row]).statistic for row in idx]
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)


def test_spearman_ci_equals_scipy_reranking_every_resample():
    # scipy's bootstrap, spearmanr once per resample, same seed: it draws the same index rows as
    # our blocks, so the whole interval must agree (ties included), not just one resample
    rng = np.random.default_rng(8)
    x, y = rng.integers(0, 6, 60).astype(float), rng.normal(size=60).round(1)
    res = bootstrap((x, y), lambda a, b: spearmanr(a, b).statistic, paired=True,
                    vectorized=False, n_resamples=300, method="percentile", **_rng_argument(5))
    ours = spearman_with_ci(x, y, n_resamples=300, seed=5)["ci"]
    assert ours == pytest.approx([res.confidence_interval.low, res.confidence_interval.high],
                                 abs=1e-12)


def test_spearman_constant_is_nan():
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_spearman_with_ci():
    perfect = spearman_with_ci(np.arange(30), np.arange(30) ** 2)
    assert perfect["rho"] == pytest.approx(1.0) and perfect["ci"] == pytest.approx([1.0, 1.0])
    rng = np.random.default_rng(4)
    x = rng.normal(size=400)
    y = x + rng.normal(size=400)  # true Spearman ~ 0.68
    result = spearman_with_ci(x, y, seed=1)
    assert result["n"] == 400
    assert result["ci"][0] < result["rho"] < result["ci"][1]
    assert 0.55 < result["ci"][0] and result["ci"][1] < 0.8
    assert spearman_with_ci(x, y, seed=1) == result
    noise = spearman_with_ci(x, rng.normal(size=400))
    assert noise["ci"][0] < 0 < noise["ci"][1]
    assert math.isnan(spearman_with_ci([1], [2])["rho"])


# --- minimum detectable difference -----------------------------------------------------------


def test_minimum_detectable_difference():
    # 1.96 * sqrt(2 * 0.25 / 2985) = 1.96 * 0.012942 = 0.025367
    assert minimum_detectable_difference(2985) == pytest.approx(0.025367, abs=1e-5)
    # p = 0.9: 1.96 * sqrt(2 * 0.09 / 100) = 1.96 * 0.042426 = 0.083155
    assert minimum_detectable_difference(100, accuracy=0.9) == pytest.approx(0.083155, abs=1e-5)
    # paired, 10% discordant on 1000 pairs: 1.96 * sqrt(0.1 / 1000) = 0.019600
    paired = minimum_detectable_difference(1000, discordance=0.1)
    assert paired == pytest.approx(0.0196, abs=1e-5)
    assert minimum_detectable_difference(300) > minimum_detectable_difference(2985)
    assert math.isnan(minimum_detectable_difference(0))
