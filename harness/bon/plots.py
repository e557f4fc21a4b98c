"""Curves vs n: one PNG per metric, one line per RM, n on a log2 axis (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.figures import save_figure

Curves = Mapping[str, Mapping[str, Mapping[str, Any]]]  # model -> n -> metric -> rate


def error_bars(centres: list[float], bounds: list[Any]) -> list[list[float]]:
    """matplotlib's [below, above] bar lengths (points) from intervals given as fractions;
    a missing interval draws no bar."""
    def usable(b: Any) -> bool:
        return bool(b) and None not in b

    below = [c - 100 * b[0] if usable(b) else 0.0 for c, b in zip(centres, bounds, strict=True)]
    above = [100 * b[1] - c if usable(b) else 0.0 for c, b in zip(centres, bounds, strict=True)]
    return [below, above]


def curve_plot(curves: Curves, metric: str, path: str | Path, *, title: str, ylabel: str,
               references: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """``curves[model][n][metric]["value"]`` as one line per model; ``references`` (label ->
    n -> rate) are drawn dashed, e.g. majority vote and pass@n, which no RM affects. Every
    point carries its 95% Wilson interval (from ``count``/``total``) as an error bar, so a
    reader of the picture alone sees how far apart two curves must be to differ."""
    import matplotlib

    from harness.stats import proportion_ci

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ticks: set[int] = set()

    def draw(label: str, by_n: Mapping[str, Any], style: str, offset: float) -> None:
        points = sorted((int(n), v) for n, v in by_n.items()
                        if v is not None and v.get("value") is not None)
        if not points:
            return
        ticks.update(n for n, _ in points)
        # lines sharing a point would hide each other's bars: shift each a little along n
        xs = [n * 2 ** offset for n, _ in points]
        ys = [100 * v["value"] for _, v in points]
        bounds = [proportion_ci(v.get("count", 0), v.get("total", 0)) for _, v in points]
        ax.errorbar(xs, ys, yerr=error_bars(ys, bounds), fmt=style, capsize=3, label=label)

    lines = len(curves) + len(references or {})
    offsets = [0.06 * (k - (lines - 1) / 2) for k in range(lines)]
    for k, (model, by_n) in enumerate(curves.items()):
        draw(model, {n: m.get(metric) for n, m in by_n.items()}, "-o", offsets[k])
    for k, (label, by_n) in enumerate((references or {}).items(), start=len(curves)):
        draw(label, by_n, "--", offsets[k])
    ax.set_xscale("log", base=2)
    if ticks:
        ax.set_xticks(sorted(ticks), [str(t) for t in sorted(ticks)])
    ax.set_xlabel("n (samples per prompt the RM chooses from)")
    ax.set_ylabel(ylabel + " [95% CI]")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)
