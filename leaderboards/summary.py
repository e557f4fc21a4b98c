"""The short tables printed at the end of ``harness eval`` and ``harness run``: the summary,
then spurious-cue diagnostics, best-of-N and paired comparisons when there is anything to
show."""

from __future__ import annotations

from typing import Any

from harness.data.rewardbench import SECTIONS
from leaderboards.render import (
    NO_VERDICT,
    budget_line,
    consistency,
    data_line,
    diagnostics_table,
    has_judge,
    has_pairpm,
    label,
    length_reliance,
    no_verdict,
    pct,
    rmbench_domain_table,
    table,
    trained_entries,
    training_table,
)


def summary_rows(results: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    has = {k for r in results for k in r["metrics"]}
    headers = ["RM"]
    if "preference" in has:
        headers.append("preference acc [95% CI]")
    if "rewardbench" in has:
        headers += ["RewardBench avg [95% CI]", *SECTIONS]
    if "reword" in has:
        headers.append("reword mean drop")
    if "diagnostics" in has:
        headers.append("length reliance ρ")
    if "rmbench" in has:
        headers += ["RM-Bench hard [95% CI]", "RM-Bench avg"]
    pairpm = [s for s in ("preference", "rewardbench") if has_pairpm(results, s)]
    headers += [f"{s} positional consistency" for s in pairpm]
    from harness.suites import SUITES

    judged = [s for s in dict.fromkeys(k for r in results for k in r["metrics"])
              if s in SUITES and has_judge(results, s)]  # plugin suites' too
    headers += [f"{s} {NO_VERDICT}" for s in judged]
    rows = []
    for r in results:
        m = r["metrics"]
        row = [label(r)]
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
        if "diagnostics" in has:
            row.append(length_reliance(r))
        if "rmbench" in has:
            rmb = m.get("rmbench") or {}
            row += [pct(rmb.get("hard")), pct(rmb.get("average"), with_ci=False)]
        row += [consistency(m.get(s)) for s in pairpm]
        row += [no_verdict(m.get(s)) for s in judged]
        rows.append(row)
    return headers, rows


def print_summary(results: list[dict[str, Any]]) -> None:
    """``results``: dicts with ``name`` and ``metrics`` (and ``eval_dir`` for paired tests)."""
    from leaderboards.paired import paired_section

    headers, rows = summary_rows(results)
    print(table(headers, rows))
    for suite in ("preference", "rewardbench", "reword", "rmbench"):
        if any(r["metrics"].get(suite) for r in results):
            print(f"{suite}: {data_line(results, suite)}")
    notes = sorted({n for r in results for n in r.get("approximate") or []})
    if notes:
        print("\n† approximate: " + "; ".join(notes))
    if trained_entries(results):
        print("\nTraining. " + budget_line(results))
        print(training_table(results))
    diagnosed = [r for r in results if r["metrics"].get("diagnostics")]
    if diagnosed:
        data = diagnosed[0]["metrics"]["diagnostics"].get("data")
        print(f"\nSpurious-cue diagnostics ({data}; accuracy [95% CI] (n)):")
        print(diagnostics_table(diagnosed))
    if any(r["metrics"].get("rmbench") for r in results):
        print("\nRM-Bench per domain (hard: chosen less styled than rejected; accuracy [95% "
              "CI]):")
        print(rmbench_domain_table(results))
    print_bon(results)
    if len(results) > 1:
        lines = paired_section(results, heading="")
        if lines:
            print("\n" + "\n".join(lines).strip())


def print_bon(results: list[dict[str, Any]]) -> None:
    """Each best-of-N suite's table (RM x metric, one column per n), when any entry has one:
    the tables ``harness bon`` prints, labelled as on the board."""
    from harness.bon.report import tables_text
    from leaderboards.bon import board_rows

    by_suite = board_rows(results)
    if by_suite:
        print("\n" + tables_text(by_suite))
