"""Best-of-N in leaderboards: the section's prose, and each suite's table and curves, drawn by
``harness.bon.report`` (the table ``harness bon`` prints) from the entries' results.

An entry carries ``metrics["bon"]`` when ``harness run`` ran best-of-N: the run's best-of-N
result narrowed to that RM (``harness.bon.report.for_model``). Entries without it are left out
of this section. What each suite shows and says comes from its ``BonSuite``.
"""

from __future__ import annotations

from pathlib import Path

from harness.bon.report import RmCurves, merge, rows_of, suite_plots, suite_table
from harness.bon.suites import get_suite
from leaderboards.render import Entry, label


def bon_entries(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if (e.get("metrics") or {}).get("bon")]


def board_rows(entries: list[Entry]) -> dict[str, list[RmCurves]]:
    """Suite -> one row per entry that ran it, labelled as the board labels RMs."""
    return merge([rows_of(e["metrics"]["bon"], label=label(e), form=e.get("form", "–"))
                  for e in bon_entries(entries)])


def settings_text(entries: list[Entry]) -> str:
    """Policy, sampling and seed; several, ';'-separated, when runs differ."""
    lines = []
    for e in bon_entries(entries):
        s = e["metrics"]["bon"]["settings"]
        params = s.get("params") or {}
        line = (f"policy `{s.get('policy')}`, {s.get('n_max')} samples per prompt "
                f"(temperature {params.get('temperature')}, top-p {params.get('top_p')}, "
                f"at most {params.get('max_new_tokens')} new tokens), seed {s.get('seed')}")
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)


def bon_section(entries: list[Entry], images: dict[str, str]) -> list[str]:
    """Markdown lines: settings, then per suite its prose, table and curves; [] without
    best-of-N."""
    by_suite = board_rows(entries)
    if not by_suite:
        return []
    lines = ["## Best-of-N", "",
             "The policy samples N responses per prompt once; every RM picks its highest-scored "
             "response among the first n (a PairPM RM: the Copeland winner of its preference "
             "matrix), so the RMs differ only in what they select. Cells: percent (count/total). "
             + settings_text(entries) + ".", ""]
    for name, rows in by_suite.items():
        suite = get_suite(name)
        lines += [f"### {suite.title}", "", *suite.describe([r.info for r in rows]), "",
                  suite_table(suite, rows), ""]
        for key in [k for k in images if k.startswith(name + ":")]:
            lines += [f"![{key.split(':', 1)[1]} vs n, {name}]({images[key]})", ""]
    return lines


def bon_plots(entries: list[Entry], out_dir: str | Path) -> dict[str, str]:
    """Every suite's curves, one line per RM: {"suite:metric": file name}."""
    return {f"{name}:{metric}": file
            for name, rows in board_rows(entries).items()
            for metric, file in suite_plots(get_suite(name), rows, out_dir, "bon_").items()}
