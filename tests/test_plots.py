"""The figures carry the tables' uncertainty: reword drop bars with their paired CIs and
best-of-N points with Wilson intervals (hand-worked), drawn into the PNGs."""

from __future__ import annotations

import pytest

from harness.bon.plots import curve_plot, error_bars
from harness.stats import proportion_ci
from leaderboards.plots import drop_plot


def test_wilson_interval_hand_worked():
    # 0 of 8: [0, z^2 / (n + z^2)] = [0, 3.8415 / 11.8415] = [0, 0.3244]
    low, high = proportion_ci(0, 8)
    assert low == pytest.approx(0.0, abs=1e-9) and high == pytest.approx(0.3244, abs=1e-4)
    # 4 of 8: centre 0.5, half-width z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n) = 0.2848
    low, high = proportion_ci(4, 8)
    assert low == pytest.approx(0.2152, abs=1e-4) and high == pytest.approx(0.7848, abs=1e-4)
    assert proportion_ci(0, 0) is None


def test_error_bars_are_distances_from_the_centre_in_points():
    assert error_bars([50.0, 10.0], [(0.4, 0.7), None]) == [[10.0, 0.0], [20.0, 0.0]]
    assert error_bars([5.0], [[None, None]]) == [[0.0], [0.0]]


def _spy(monkeypatch, method: str, error_key: str) -> list:
    """Record (values, error bars) of every call of ``Axes.<method>``, still drawing it."""
    import matplotlib.axes

    drawn = []
    original = getattr(matplotlib.axes.Axes, method)

    def spy(self, positions, values, *args, **kwargs):
        drawn.append((list(values), kwargs.get(error_key)))
        return original(self, positions, values, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, method, spy)
    return drawn


def test_drop_plot_draws_each_drops_ci(tmp_path, monkeypatch):
    drawn = _spy(monkeypatch, "barh", "xerr")
    transforms = {"a": {"drop": 0.05, "drop_ci": [-0.05, 0.15]},
                  "b": {"drop": -0.02, "drop_ci": [-0.1, 0.04]}}
    entries = [{"name": "rm", "metrics": {"reword": {"transforms": transforms}}}]
    path = drop_plot(entries, tmp_path / "drops.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    widths, xerr = drawn[0]
    assert widths == pytest.approx([5.0, -2.0])
    assert xerr == [pytest.approx([10.0, 8.0]), pytest.approx([10.0, 6.0])]


def test_curve_plot_draws_wilson_intervals(tmp_path, monkeypatch):
    drawn = _spy(monkeypatch, "errorbar", "yerr")
    curves = {"rm": {"1": {"acc": {"value": 0.0, "count": 0, "total": 8}},
                     "2": {"acc": {"value": 0.5, "count": 4, "total": 8}}}}
    curve_plot(curves, "acc", tmp_path / "c.png", title="t", ylabel="accuracy (%)")
    (ys, (below, above)), = drawn
    assert ys == [0.0, 50.0]
    assert below == pytest.approx([0.0, 28.48], abs=0.01)
    assert above == pytest.approx([32.44, 28.48], abs=0.01)
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
