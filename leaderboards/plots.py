"""Figures for leaderboards (matplotlib, Agg backend): accuracy drop per transform per RM.

Best-of-N curves are drawn by ``harness.bon.report.suite_plots``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.bon.plots import error_bars
from harness.figures import save_figure
from leaderboards.render import label, transforms_of, value


def drop_plot(entries: list[dict[str, Any]], path: str | Path) -> Path | None:
    """Grouped horizontal bars: one group per transform, one bar per RM (drop in points), each
    with its paired 95% bootstrap CI (``drop_ci``), the interval the reword table's drops have:
    at a hundred pairs most bars sit inside an interval that crosses zero."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [e for e in entries if e["metrics"].get("reword")]
    names = transforms_of(shown)
    if not shown or not names:
        return None
    height = 0.8 / len(shown)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) * max(1, len(shown) / 2) + 1.5))
    for k, entry in enumerate(shown):
        transforms = entry["metrics"]["reword"]["transforms"]
        drops = [100 * (value((transforms.get(n) or {}).get("drop")) or 0.0) for n in names]
        bounds = [(transforms.get(n) or {}).get("drop_ci") for n in names]
        ax.barh([i + k * height for i in range(len(names))], drops, height=height,
                xerr=error_bars(drops, bounds),
                error_kw={"elinewidth": 0.8, "capsize": 1.5, "alpha": 0.7},
                label=label(entry))
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))], names, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("accuracy drop from unchanged RewardBench (points; positive = worse) "
                  "[95% paired CI]")
    ax.legend(fontsize=8)
    return save_figure(fig, path)

