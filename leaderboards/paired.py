"""Paired comparisons of RMs scored on the same items: accuracy deltas and differences of drops.

Two RMs' accuracies on the same pairs are not independent, so comparing their separate CIs
overstates the uncertainty (and eyeballing two close numbers understates it). Here the per-item
records each suite writes (``OUT/<suite>_items.jsonl``) are joined on the item key, and
``harness.stats`` gives the paired bootstrap CI of the difference plus an exact McNemar p-value
(reword: the paired CI of the difference of drops). Seeds are fixed, so tables repeat exactly.

Which pairs: with two or more trained RMs, method vs method (same form, or the same method
across forms), listed later-minus-earlier, plus every trained RM against every reference and
outside RM; otherwise every pair. Entries without item records (older runs, other folders) are
skipped, never an error.
"""

from __future__ import annotations

import statistics
from itertools import combinations
from pathlib import Path
from typing import Any

from harness.io import read_jsonl
from harness.stats import (
    bootstrap_ci,
    compare,
    minimum_detectable_difference,
    paired_diff_of_drops,
)
from leaderboards.render import Entry, label, table

ACCURACY_SUITES = {"rewardbench": "RewardBench", "preference": "preference"}
SEED = 0  # every comparison uses the same seed: the intervals are reproducible


def data_title(entry: Entry, suite: str) -> str:
    """The suite and the data it was computed on (``preference: vanilla/heldout.jsonl``), as
    the entry's metrics record it: a table never calls a file held-out that was not."""
    source = (entry["metrics"].get(suite) or {}).get("data")
    if not source:
        return ACCURACY_SUITES[suite]
    short = source if source.startswith("embedded:") else "/".join(Path(source).parts[-2:])
    return f"{ACCURACY_SUITES[suite]}: {short}"


def _records(entry: Entry, suite: str) -> list[dict[str, Any]]:
    folder = entry.get("eval_dir")
    path = Path(folder) / f"{suite}_items.jsonl" if folder else None
    if path is None or not path.is_file():
        return []
    return read_jsonl(path)


def load_outcomes(entry: Entry) -> dict[str, Any]:
    """Per-item correctness of one entry: {suite: {key: 0/1}}, reword {transform: {key: (o, t)}}."""
    out: dict[str, Any] = {suite: {r["key"]: int(r["correct"]) for r in _records(entry, suite)}
                           for suite in ACCURACY_SUITES}
    reword: dict[str, dict[str, tuple[int, int]]] = {}
    for r in _records(entry, "reword"):
        if r.get("sides", "both") != "both":  # drops are taken on pairs changed on both sides
            continue
        reword.setdefault(r["transform"], {})[r["key"]] = (int(r["original_correct"]),
                                                          int(r["correct"]))
    out["reword"] = reword
    out["rmbench_hard"] = rmbench_hard(entry)
    return out


def rmbench_hard(entry: Entry) -> dict[str, tuple[str, float]]:
    """RM-Bench per prompt: {prompt key: (domain, hard accuracy)}, the share of its three
    hard comparisons (chosen less styled than rejected) the RM got right."""
    cells: dict[str, tuple[str, list[int]]] = {}
    for r in _records(entry, "rmbench"):
        if r["difficulty"] == "hard":
            cells.setdefault(r["prompt_key"], (r["domain"], []))[1].append(int(r["correct"]))
    return {k: (d, sum(v) / len(v)) for k, (d, v) in cells.items()}


def rmbench_hard_comparisons(outcomes: list[dict[str, Any]], pairs: list[tuple[int, int]]
                             ) -> list[dict[str, Any]]:
    """A's RM-Bench hard accuracy minus B's on the prompts both were scored on, averaged over
    domains as the board's Hard column is (each prompt weighs 1 / (its domain's prompts x
    domains)), with a weighted paired bootstrap CI over prompts."""
    rows = []
    for a, b in pairs:
        xa, xb = outcomes[a]["rmbench_hard"], outcomes[b]["rmbench_hard"]
        keys = [k for k in xa if k in xb]
        if not keys:
            continue
        domains = [xa[k][0] for k in keys]
        size = {d: domains.count(d) for d in domains}
        weights = [1 / (size[d] * len(size)) for d in domains]
        diffs = [xa[k][1] - xb[k][1] for k in keys]
        rows.append({"a": a, "b": b, "n": len(keys),
                     "diff": sum(w * d for w, d in zip(weights, diffs, strict=True)),
                     "ci": list(bootstrap_ci(diffs, weights=weights, seed=SEED)),
                     "a_better": sum(d > 0 for d in diffs), "b_better": sum(d < 0 for d in diffs)})
    return rows


def rmbench_table(entries: list[Entry], rows: list[dict[str, Any]]) -> str:
    body = [[label(entries[r["a"]]), label(entries[r["b"]]), _delta(r),
             f"{r['a_better']} / {r['b_better']}", str(r["n"])] for r in rows]
    return table(["A", "B", "Δ RM-Bench hard A − B [95% paired CI]",
                  "prompts A better / B better", "prompts"], body)


def comparison_pairs(entries: list[Entry]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(accuracy pairs, method pairs) as (a, b) entry indices, each read as a minus b."""
    trained = [i for i, e in enumerate(entries) if e.get("kind") == "trained"]
    if len(trained) < 2:
        pairs = [(j, i) for i, j in combinations(range(len(entries)), 2)]
        return pairs, pairs
    methods = [(j, i) for i, j in combinations(trained, 2)
               if entries[i].get("form") == entries[j].get("form")
               or entries[i].get("method") == entries[j].get("method")]
    others = [k for k in range(len(entries)) if k not in trained]
    return methods + [(t, k) for t in trained for k in others], methods


def accuracy_comparisons(entries: list[Entry], outcomes: list[dict[str, Any]],
                         pairs: list[tuple[int, int]]) -> list[dict[str, Any]]:
    rows = []
    for suite in ACCURACY_SUITES:
        for a, b in pairs:
            xa, xb = outcomes[a][suite], outcomes[b][suite]
            keys = [k for k in xa if k in xb]
            if not keys:
                continue
            result = compare([xa[k] for k in keys], [xb[k] for k in keys], seed=SEED)
            rows.append({"suite": suite, "a": a, "b": b, **result})
    return rows


def drop_comparisons(outcomes: list[dict[str, Any]], pairs: list[tuple[int, int]]
                     ) -> list[dict[str, Any]]:
    rows = []
    for a, b in pairs:
        ra, rb = outcomes[a]["reword"], outcomes[b]["reword"]
        for transform in [t for t in ra if t in rb]:
            keys = [k for k in ra[transform] if k in rb[transform]]
            if not keys:
                continue
            oa, ta = zip(*(ra[transform][k] for k in keys), strict=True)
            ob, tb = zip(*(rb[transform][k] for k in keys), strict=True)
            rows.append({"transform": transform, "a": a, "b": b,
                         **paired_diff_of_drops(oa, ta, ob, tb, seed=SEED)})
    return rows


def _delta(row: dict[str, Any]) -> str:
    low, high = row["ci"]
    text = f"{100 * row['diff']:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]"
    return f"**{text}** ✓" if _significant(row) else text


def _significant(row: dict[str, Any]) -> bool:
    return row["ci"][0] > 0 or row["ci"][1] < 0


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _half_width(rows: list[dict[str, Any]]) -> float:
    return statistics.median((r["ci"][1] - r["ci"][0]) / 2 for r in rows)


def accuracy_table(entries: list[Entry], rows: list[dict[str, Any]]) -> str:
    body = [[label(entries[r["a"]]), label(entries[r["b"]]),
             data_title(entries[r["a"]], r["suite"]), _delta(r), _p(r["p_value"]),
             f"{r['b10']} / {r['b01']}", str(r["n"])]
            for r in rows]
    return table(["A", "B", "data", "Δ accuracy A − B [95% paired CI]", "McNemar p",
                  "only A right / only B right", "n"], body)


def drop_table(entries: list[Entry], rows: list[dict[str, Any]]) -> str:
    """Rows: transforms; columns: one per compared pair (A's drop minus B's drop)."""
    pairs = list(dict.fromkeys((r["a"], r["b"]) for r in rows))
    cells = {(r["transform"], r["a"], r["b"]): _delta(r) for r in rows}
    transforms = list(dict.fromkeys(r["transform"] for r in rows))
    body = [[t, *(cells.get((t, a, b), "–") for a, b in pairs)] for t in transforms]
    return table(["transform", *(f"{label(entries[a])} − {label(entries[b])}"
                                 for a, b in pairs)], body)


def detectable_line(accuracy_rows: list[dict[str, Any]], drop_rows: list[dict[str, Any]],
                    rmbench_rows: list[dict[str, Any]] = ()) -> str:
    """The smallest difference these tables can resolve, read off their own CIs."""
    parts = []
    for suite, title in ACCURACY_SUITES.items():
        rows = [r for r in accuracy_rows if r["suite"] == suite]
        if rows:
            n = int(statistics.median(r["n"] for r in rows))
            parts.append(f"±{100 * _half_width(rows):.1f} points on {title} (n = {n}; two "
                         f"unpaired accuracies near 50% would need "
                         f"±{100 * minimum_detectable_difference(n):.1f})")
    if drop_rows:
        parts.append(f"±{100 * _half_width(drop_rows):.1f} points for a difference of drops "
                     "under one transform")
    if rmbench_rows:
        parts.append(f"±{100 * _half_width(rmbench_rows):.1f} points on RM-Bench hard "
                     f"(n = {int(statistics.median(r['n'] for r in rmbench_rows))} prompts)")
    return ("Smallest detectable difference at this size (median half-width of the paired 95% "
            "CIs): " + "; ".join(parts) + ". A smaller difference cannot be told from zero "
            "here, and one of about this size is detected only about half the time.")


def paired_section(entries: list[Entry], heading: str = "##") -> list[str]:
    """Markdown lines for the paired comparisons of ``entries``; [] when nothing pairs up."""
    outcomes = [load_outcomes(e) for e in entries]
    accuracy_pairs, method_pairs = comparison_pairs(entries)
    acc_rows = accuracy_comparisons(entries, outcomes, accuracy_pairs)
    drop_rows = drop_comparisons(outcomes, method_pairs)
    rmbench_rows = rmbench_hard_comparisons(outcomes, accuracy_pairs)
    if not acc_rows and not drop_rows and not rmbench_rows:
        return []
    lines = [f"{heading} Paired comparisons".strip(), "",
             "Each RM pair on the pairs both were scored on (joined by item key). Δ is the "
             "difference of plain pair accuracy (RewardBench here is not section-weighted), "
             "with a paired bootstrap 95% CI (seed 0) and an exact McNemar p-value; **bold ✓** "
             "= the CI excludes zero.", ""]
    if acc_rows:
        lines += [accuracy_table(entries, acc_rows), ""]
    if rmbench_rows:
        title = "RM-Bench hard accuracy"
        lines += [f"{heading}# {title}" if heading else f"{title}:", "",
                  "A's hard accuracy (chosen answer less styled than the rejected one) minus "
                  "B's on the same prompts, averaged over domains like the Hard column (points, "
                  "[95% paired bootstrap CI over prompts]; a prompt's outcome is a share of "
                  "three comparisons, so there is no McNemar test).", "",
                  rmbench_table(entries, rmbench_rows), ""]
    if drop_rows:
        title = "Difference of drops under each transform"
        lines += [f"{heading}# {title}" if heading else f"{title}:", "",
                  "A's accuracy drop minus B's on the same pairs (points, [95% paired CI]); "
                  "negative = A is more robust.", "", drop_table(entries, drop_rows), ""]
    lines += [detectable_line(acc_rows, drop_rows, rmbench_rows), ""]
    return lines
