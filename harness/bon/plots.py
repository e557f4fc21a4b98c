"""Curves vs n: one PNG per metric, one line per RM, n on a log2 axis (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

Curves = Mapping[str, Mapping[str, Mapping[str, Any]]]  # model -> n -> metric -> rate


def curve_plot(curves: Curves, metric: str, path: str | Path, *, title: str, ylabel: str,
               references: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """``curves[model][n][metric]["value"]`` as one line per model; ``references`` (label ->
    n -> rate) are drawn dashed, e.g. majority vote and pass@n, which no RM affects."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ticks: set[int] = set()

    def draw(label: str, by_n: Mapping[str, Any], style: str) -> None:
        points = sorted((int(n), v["value"]) for n, v in by_n.items()
                        if v is not None and v.get("value") is not None)
        if points:
            ticks.update(n for n, _ in points)
            ax.plot([n for n, _ in points], [100 * v for _, v in points], style, label=label)

    for model, by_n in curves.items():
        draw(model, {n: m.get(metric) for n, m in by_n.items()}, "-o")
    for label, by_n in (references or {}).items():
        draw(label, by_n, "--")
    ax.set_xscale("log", base=2)
    if ticks:
        ax.set_xticks(sorted(ticks), [str(t) for t in sorted(ticks)])
    ax.set_xlabel("n (samples per prompt the RM chooses from)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
