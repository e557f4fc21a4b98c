"""Statistics against hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.stats import (
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


def test_mcnemar_hand_worked():
    # b01 = 5, b10 = 0: p = 2 * (1/2)^5 = 0.0625
    assert mcnemar_exact([0] * 5, [1] * 5) == {"b01": 5, "b10": 0, "p_value": 0.0625}
    # b01 = 1, b10 = 9: p = 2 * (C(10,0) + C(10,1)) / 2^10 = 2 * 11 / 1024 = 0.021484375
    result = mcnemar_exact([1] * 9 + [0] + [1, 0], [0] * 9 + [1] + [1, 0])
    assert (result["b01"], result["b10"]) == (1, 9)
    assert result["p_value"] == pytest.approx(0.021484375)
    assert mcnemar_exact([1, 0], [1, 0])["p_value"] == 1.0
    assert mcnemar_exact([1, 0, 1], [0, 1, 1])["p_value"] == 1.0  # 1 vs 1: min(1, 2*3/4)


def test_bootstrap_is_deterministic_and_sensible():
    assert bootstrap_ci([1, 1, 1, 1]) == [1.0, 1.0]
    values = np.random.default_rng(0).integers(0, 2, 400)
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    low, high = bootstrap_ci(values)
    assert low < values.mean() < high
    wide = bootstrap_ci(values[:50])
    assert (wide[1] - wide[0]) > (high - low)  # fewer items, wider interval
    weighted = accuracy_with_ci([1, 0], weights=[3, 1])
    assert weighted["accuracy"] == 0.75


def test_paired_difference_contains_truth_and_is_paired():
    rng = np.random.default_rng(1)
    a = rng.random(600) < 0.7
    b = a.copy()
    flip = rng.choice(600, 60, replace=False)
    b[flip] = False  # B is A with some right answers turned wrong
    result = paired_bootstrap_diff(a, b)
    assert result["diff"] == pytest.approx(a.mean() - b.mean())
    assert result["ci"][0] > 0  # pairing makes this small difference clear
    unpaired = bootstrap_ci(a)[1] - bootstrap_ci(a)[0]
    assert result["ci"][1] - result["ci"][0] < unpaired
    assert compare(a, b)["significant"] and not compare(a, a)["significant"]
    drops = paired_diff_of_drops([1, 1, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1])
    assert drops["diff"] == pytest.approx(0.25)


def test_spearman_hand_worked():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks x = [1.5, 1.5, 3, 4, 5], y = [4.5, 4.5, 1, 2.5, 2.5]; centred: [-1.5, -1.5, 0, 1, 2]
    # and [1.5, 1.5, -2, -0.5, -0.5]; sum of products -6, sums of squares 9.5 and 9:
    # rho = -6 / sqrt(85.5) = -0.648886
    assert spearman([1, 1, 2, 3, 4], [5, 5, 1, 2, 2]) == pytest.approx(-0.648886, abs=1e-6)
    result = spearman_with_ci(np.arange(30), np.arange(30) ** 2)
    assert result["rho"] == pytest.approx(1.0) and result["ci"][0] == pytest.approx(1.0)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_minimum_detectable_difference():
    # 1.96 * sqrt(2 * 0.25 / 2985) = 0.02537
    assert minimum_detectable_difference(2985) == pytest.approx(0.025367, abs=1e-5)
    assert minimum_detectable_difference(300) > minimum_detectable_difference(2985)
