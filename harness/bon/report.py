"""The one shape of best-of-N results, and the one table and the one set of plots drawn from it.

``harness.bon.runner.run_bon`` returns (and writes as ``metrics.json``) a result::

    {"settings": {...}, "ns": [1, 2, 4], "rms": {model: {"name", "fingerprint", "form"}},
     "pools": {suite: {...}}, "suites": {suite: {"info": {...}, "models": {model: curves}}},
     "plots": [...]}

where curves are ``n -> metric -> {"value", "count", "total"}``. ``harness run`` attaches to
each RM's entry the same shape narrowed to that RM (``for_model``). ``harness bon``, the
leaderboard and ``leaderboards.summary`` all turn results into ``RmCurves`` rows (``rows_of``)
and render them with ``suite_table`` and ``suite_plots``; what a suite shows comes from its
``BonSuite`` object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bon.suites import BonSuite, Curves, get_suite

Result = dict[str, Any]


@dataclass(frozen=True)
class RmCurves:
    """One RM's curves on one suite, as shown: its row label, its form, and the ``info`` of the
    run that produced them."""

    label: str
    form: str
    info: dict[str, Any]
    curves: Curves


def for_model(result: Result, model: str) -> Result:
    """``result`` narrowed to one RM (the same shape, every suite's ``models`` one entry)."""
    return {**{k: v for k, v in result.items() if k not in ("rms", "suites", "plots")},
            "rms": {model: result["rms"][model]},
            "suites": {name: {"info": suite["info"],
                              "models": {model: suite["models"][model]}}
                       for name, suite in result["suites"].items()}}


def rows_of(result: Result, *, label: str | None = None, form: str | None = None
            ) -> dict[str, list[RmCurves]]:
    """Suite name -> one ``RmCurves`` per RM of ``result``; ``label``/``form`` name the RM of
    a one-RM result as a board does (else the RM's own name and form)."""
    out: dict[str, list[RmCurves]] = {}
    for name, suite in result["suites"].items():
        for model, curves in suite["models"].items():
            rm = result["rms"].get(model) or {}
            out.setdefault(name, []).append(RmCurves(
                label or model, form or rm.get("form", "bt"), suite["info"], curves))
    return out


def merge(parts: Sequence[Mapping[str, list[RmCurves]]]) -> dict[str, list[RmCurves]]:
    """Rows of several results, suites in order of first appearance."""
    out: dict[str, list[RmCurves]] = {}
    for part in parts:
        for suite, rows in part.items():
            out.setdefault(suite, []).extend(rows)
    return out


def cell(rate: Any) -> str:
    """``37.5 (3/8)``; "–" when absent or with nothing to count."""
    if not isinstance(rate, dict) or rate.get("value") is None:
        return "–"
    return f"{100 * rate['value']:.1f} ({rate['count']}/{rate['total']})"


def ns_of(rows: Sequence[RmCurves]) -> list[str]:
    return [str(n) for n in sorted({int(n) for r in rows for n in r.curves})]


def reference_lines(suite: BonSuite, rows: Sequence[RmCurves]) -> dict[str, dict[str, Any]]:
    """The suite's curves no RM affects (label -> n -> rate): once when every RM chose from the
    same samples, else once per distinct pool ("..., pool 2")."""
    pools: list[dict[str, dict[str, Any]]] = []
    for r in rows:
        pool = {ref.key: {n: (m or {}).get(ref.key) for n, m in r.curves.items()}
                for ref in suite.references}
        if pool not in pools:
            pools.append(pool)
    return {ref.label if len(pools) == 1 else f"{ref.label}, pool {k}": pool[ref.key]
            for ref in suite.references for k, pool in enumerate(pools, 1)}


def suite_table(suite: BonSuite, rows: Sequence[RmCurves]) -> str:
    """One row per (metric, RM), one column per n, then the reference lines; github markdown,
    cells "percent (count/total)"."""
    from tabulate import tabulate

    ns = ns_of(rows)
    body = [[r.label, r.form, metric.label, *(cell((r.curves.get(n) or {}).get(metric.key))
                                              for n in ns)]
            for metric in suite.rows for r in rows]
    body += [["–", "–", name, *(cell(by_n.get(n)) for n in ns)]
             for name, by_n in reference_lines(suite, rows).items()]
    return tabulate(body, headers=["RM", "form", "metric", *(f"n={n}" for n in ns)],
                    tablefmt="github", disable_numparse=True)


def heading(suite: BonSuite, rows: Sequence[RmCurves]) -> str:
    return f"Best-of-N, {suite.name} ({suite.note(rows[0].info)}; percent (count/total)):"


def tables_text(by_suite: Mapping[str, Sequence[RmCurves]]) -> str:
    """Every suite's heading and table, as ``harness bon`` and ``harness run`` print them."""
    return "\n\n".join(f"{heading(s, rows)}\n{suite_table(s, rows)}"
                       for s, rows in ((get_suite(name), rows) for name, rows in by_suite.items()))


def suite_plots(suite: BonSuite, rows: Sequence[RmCurves], out_dir: str | Path,
                prefix: str = "") -> dict[str, str]:
    """One PNG per plotted metric of ``suite`` (one line per RM, the reference lines dashed):
    ``{metric: file name}``, files named ``{prefix}{suite}_{metric}.png``."""
    from harness.bon.plots import curve_plot

    curves = {r.label: r.curves for r in rows}
    refs = reference_lines(suite, rows) or None
    note = suite.note(rows[0].info)
    out: dict[str, str] = {}
    for metric in suite.rows:
        if metric.plot is None or not any((m or {}).get(metric.key, {}).get("value") is not None
                                          for r in rows for m in r.curves.values()):
            continue  # not plotted, or nothing to plot (e.g. no adversarial prompt sampled)
        name = f"{prefix}{suite.name}_{metric.key}.png"
        curve_plot(curves, metric.key, Path(out_dir) / name,
                   title=f"{suite.name}: {metric.key} vs n ({note})", ylabel=metric.plot,
                   references=refs)
        out[metric.key] = name
    return out
