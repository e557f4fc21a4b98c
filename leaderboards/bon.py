"""Best-of-N in leaderboards: per-suite tables (each RM's metric at every n) and curves vs n.

An entry carries ``metrics["bon"]`` when ``harness run`` ran best-of-N (see ``harness.run.bon_of``):
the shared settings (policy, n grid, prompts, seed) and, per suite, what the numbers mean (the
judge's label, the GSM8K answer filter) beside the RM's curves, ``n -> metric -> rate`` with
``{"value", "count", "total"}``. Entries without it are left out of this section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.bon.suites import SUITES
from leaderboards.render import Entry, label, table

# (metric, row label, plot y label) per suite, in display order.
SAFETY_ROWS = (("asr", "ASR, harmful prompts", "attack success on harmful prompts (%)"),
               ("asr_adversarial", "ASR, adversarial", None),
               ("asr_vanilla", "ASR, vanilla", None),
               ("refusal_benign", "refusal, benign prompts", "refusal rate on benign prompts (%)"))
MATH_ROWS = (("rm_acc", "RM pick accuracy", "accuracy of the RM's pick (%)"),)
MATH_REFERENCES = (("maj_acc", "majority vote (no RM)"), ("pass_at_n", "pass@n (any correct)"))


def bon_entries(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if (e.get("metrics") or {}).get("bon")]


def suites_of(entries: list[Entry]) -> list[str]:
    return [s for s in SUITES if any(s in e["metrics"]["bon"] for e in entries)]


def ns_of(entries: list[Entry], suite: str) -> list[str]:
    ns: set[int] = set()
    for e in entries:
        ns.update(int(n) for n in (e["metrics"]["bon"].get(suite) or {}).get("curves", {}))
    return [str(n) for n in sorted(ns)]


def cell(rate: Any) -> str:
    """``37.5 (3/8)``; "–" when absent or with nothing to count."""
    if not isinstance(rate, dict) or rate.get("value") is None:
        return "–"
    return f"{100 * rate['value']:.1f} ({rate['count']}/{rate['total']})"


def with_suite(entries: list[Entry], suite: str) -> list[Entry]:
    """The entries that ran best-of-N ``suite``."""
    return [e for e in entries if suite in e["metrics"]["bon"]]


def reference_lines(entries: list[Entry], suite: str) -> dict[str, dict[str, Any]]:
    """GSM8K's majority vote and pass@n (label -> n -> rate), which no RM affects: once when
    every RM chose from the same samples, else once per distinct pool ("..., pool 2")."""
    pools: list[dict[str, dict[str, Any]]] = []
    for e in entries:
        curves = e["metrics"]["bon"][suite]["curves"]
        pool = {metric: {n: (m or {}).get(metric) for n, m in curves.items()}
                for metric, _ in MATH_REFERENCES}
        if pool not in pools:
            pools.append(pool)
    return {name if len(pools) == 1 else f"{name}, pool {k}": pool[metric]
            for metric, name in MATH_REFERENCES for k, pool in enumerate(pools, 1)}


def suite_table(entries: list[Entry], suite: str) -> str:
    """One row per (RM, metric), one column per n; GSM8K adds ``reference_lines``."""
    ns = ns_of(entries, suite)
    shown = with_suite(entries, suite)
    rows = []
    metrics = SAFETY_ROWS if suite == "wildguard_bon" else MATH_ROWS
    for metric, name, _ in metrics:
        for e in shown:
            curves = e["metrics"]["bon"][suite]["curves"]
            rows.append([label(e), e.get("form", "–"), name,
                         *(cell((curves.get(n) or {}).get(metric)) for n in ns)])
    if suite == "gsm8k_bon":
        for name, by_n in reference_lines(shown, suite).items():
            rows.append(["–", "–", name, *(cell(by_n.get(n)) for n in ns)])
    return table(["RM", "form", "metric", *(f"n={n}" for n in ns)], rows)


def settings_text(entries: list[Entry]) -> str:
    """Policy, sampling and prompt counts; several lines when runs differ."""
    lines = []
    for e in entries:
        b = e["metrics"]["bon"]
        params = b.get("params") or {}
        line = (f"policy `{b.get('policy')}`, {b.get('n_max')} samples per prompt "
                f"(temperature {params.get('temperature')}, top-p {params.get('top_p')}, "
                f"at most {params.get('max_new_tokens')} new tokens), seed {b.get('seed')}")
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)


def bon_section(entries: list[Entry], images: dict[str, str]) -> list[str]:
    """Markdown lines: settings, then a table and curves per suite; [] without best-of-N."""
    shown = bon_entries(entries)
    if not shown:
        return []
    lines = ["## Best-of-N", "",
             "The policy samples N responses per prompt once; every RM picks its highest-scored "
             "response among the first n (a PairPM RM: the Copeland winner of its preference "
             "matrix), so the RMs differ only in what they select. Cells: percent (count/total). "
             + settings_text(shown) + ".", ""]
    for suite in suites_of(shown):
        first = with_suite(shown, suite)[0]["metrics"]["bon"][suite]
        if suite == "wildguard_bon":
            judges = sorted({e["metrics"]["bon"][suite].get("judge_label", "?")
                             for e in with_suite(shown, suite)})
            prompts = first.get("prompts") or {}
            lines += ["### WildGuardTest (safety)", "",
                      f"Judge: **{', '.join(judges)}**; attack success = "
                      f"{first.get('attack_success', '?')}. ASR on harmful prompts (lower is "
                      "safer), refusal rate on benign prompts (lower is more helpful); "
                      f"{prompts.get('harmful', '?')} harmful and {prompts.get('benign', '?')} "
                      "benign prompts."]
            if "refusal by keywords" in judges:
                lines += ["", "† approximate: refusal by keywords stands in for the WildGuard "
                          "classifier (`--set bon.judge=wildguard`); it decides refusal only, "
                          "never harm."]
        else:
            lines += ["### GSM8K (math)", "",
                      f"Accuracy of each RM's pick ({first.get('filter', '?')} answer "
                      f"extraction, {first.get('prompts', '?')} problems), beside majority vote "
                      "and pass@n on the same samples, which no RM affects."]
        lines += ["", suite_table(shown, suite), ""]
        for key in [k for k in images if k.startswith(suite + ":")]:
            lines += [f"![{key.split(':', 1)[1]} vs n, {suite}]({images[key]})", ""]
    return lines


def bon_plots(entries: list[Entry], out_dir: str | Path) -> dict[str, str]:
    """Curves vs n per suite and metric, one line per RM: {"suite:metric": relative path}."""
    from harness.bon.plots import curve_plot

    shown = bon_entries(entries)
    images: dict[str, str] = {}
    for suite in suites_of(shown):
        curves = {label(e): e["metrics"]["bon"][suite]["curves"]
                  for e in with_suite(shown, suite)}
        refs = None
        rows = SAFETY_ROWS if suite == "wildguard_bon" else MATH_ROWS
        first_info = with_suite(shown, suite)[0]["metrics"]["bon"][suite]
        note = first_info.get("judge_label") or f"{first_info.get('filter')} answers"
        if suite == "gsm8k_bon":
            refs = reference_lines(with_suite(shown, suite), suite)
        for metric, _, ylabel in rows:
            if ylabel is None:
                continue
            name = f"bon_{suite}_{metric}.png"
            curve_plot(curves, metric, Path(out_dir) / name,
                       title=f"{suite}: {metric} vs n ({note})", ylabel=ylabel, references=refs)
            images[f"{suite}:{metric}"] = name
    return images
