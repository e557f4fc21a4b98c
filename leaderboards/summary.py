"""The short table printed at the end of ``harness eval`` and ``harness run``."""

from __future__ import annotations

from typing import Any

from harness.data.rewardbench import SECTIONS
from leaderboards.render import pct, table


def summary_rows(results: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    has = {k for r in results for k in r["metrics"]}
    headers = ["RM"]
    if "preference" in has:
        headers.append("held-out acc [95% CI]")
    if "rewardbench" in has:
        headers += ["RewardBench avg [95% CI]", *SECTIONS]
    if "reword" in has:
        headers.append("reword mean drop")
    rows = []
    for r in results:
        m = r["metrics"]
        row = [r["name"]]
        if "preference" in has:
            row.append(pct(m.get("preference")))
        if "rewardbench" in has:
            rb = m.get("rewardbench") or {}
            overall = rb.get("overall") or rb.get("average")
            row.append(pct(overall))
            row += [pct((rb.get("sections") or {}).get(s), with_ci=False) for s in SECTIONS]
        if "reword" in has:
            drop = (m.get("reword") or {}).get("mean_drop")
            row.append("–" if drop is None else f"{100 * drop:+.1f}")
        rows.append(row)
    return headers, rows


def print_summary(results: list[dict[str, Any]]) -> None:
    headers, rows = summary_rows(results)
    print(table(headers, rows))
