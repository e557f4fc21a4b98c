"""Pure functions: results -> markdown tables.

Each RM entry is a dict with ``name``, ``method``, ``form``, ``config_hash``, ``approximate``
(list of words) and ``metrics`` (the ``metrics.json`` that ``harness eval`` writes, plus
``bon`` when best-of-N ran). Values are read leniently: a metric may be a number or a dict with
``accuracy``/``value`` and ``ci``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tabulate import tabulate

from harness.data.rewardbench import SECTIONS

Entry = dict[str, Any]


def value(metric: Any) -> float | None:
    if metric is None:
        return None
    if isinstance(metric, (int, float)):
        return float(metric)
    for key in ("accuracy", "value", "score", "diff", "drop"):
        if key in metric and isinstance(metric[key], (int, float)):
            return float(metric[key])
    return None


def ci(metric: Any, key: str = "ci") -> tuple[float, float] | None:
    if isinstance(metric, dict) and isinstance(metric.get(key), (list, tuple)):
        low, high = metric[key]
        return float(low), float(high)
    return None


def pct(metric: Any, *, with_ci: bool = True, ci_key: str = "ci", signed: bool = False) -> str:
    number = value(metric) if not isinstance(metric, (int, float)) else float(metric)
    if number is None:
        return "–"
    text = f"{100 * number:+.1f}" if signed else f"{100 * number:.1f}"
    interval = ci(metric, ci_key) if with_ci else None
    if interval:
        text += f" [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"
    return text


def label(entry: Entry) -> str:
    """RM name, with a dagger when anything about it was approximate."""
    return entry["name"] + (" †" if entry.get("approximate") else "")


def table(headers: list[str], rows: Iterable[list[Any]]) -> str:
    return tabulate(list(rows), headers=headers, tablefmt="github", disable_numparse=True)


def consistency(metric: Any) -> str:
    """PairPM positional consistency of a suite's metrics; "–" for BT models."""
    return pct((metric or {}).get("positional_consistency"))


NO_VERDICT = "judge answers without a verdict"


def no_verdict(metric: Any) -> str:
    """A judge's answers without a verdict in a suite (unparseable or blocked), of those it
    read: shown, never folded silently into the accuracy; "–" for RMs that are not judges."""
    judge = (metric or {}).get("judge")
    if not judge:
        return "–"
    return f"{judge['unparseable'] + judge['blocked']} / {judge['answers']}"


def has_judge(entries: list[Entry], suite: str) -> bool:
    return any((e["metrics"].get(suite) or {}).get("judge") for e in entries)


def has_pairpm(entries: list[Entry], suite: str) -> bool:
    return any((e["metrics"].get(suite) or {}).get("positional_consistency") for e in entries)


def rewardbench_table(entries: list[Entry]) -> str:
    """Sections and average per RM; a length-reliance column when the diagnostics suite ran,
    a positional-consistency column when a PairPM RM is there, and the judge answers without a
    verdict when a judge is there."""
    with_length = any(e["metrics"].get("diagnostics") for e in entries)
    with_pairpm = has_pairpm(entries, "rewardbench")
    with_judge = has_judge(entries, "rewardbench")
    headers = ["RM", "method", "form", *SECTIONS, "Average", "n",
               *(["length reliance ρ [95% CI]"] if with_length else []),
               *(["positional consistency [95% CI]"] if with_pairpm else []),
               *([NO_VERDICT] if with_judge else [])]
    rows = []
    for e in entries:
        rb = e["metrics"].get("rewardbench")
        if not rb:
            continue
        sections = rb.get("sections", {})
        rows.append([label(e), e.get("method", "–"), e.get("form", "–"),
                     *(pct(sections.get(s)) for s in SECTIONS),
                     pct(rb.get("average", rb.get("score"))), str(rb.get("n", "–")),
                     *([length_reliance(e)] if with_length else []),
                     *([consistency(rb)] if with_pairpm else []),
                     *([no_verdict(rb)] if with_judge else [])])
    return table(headers, rows)


RMBENCH_COLUMNS = {"easy": "Easy", "normal": "Normal", "hard": "Hard", "average": "Average"}


def rmbench_table(entries: list[Entry]) -> str:
    """RM-Bench per RM: easy / normal / hard / average over the domains [95% CI], each
    domain's average (mean of its nine comparisons), prompts; PairPM positional consistency
    when a PairPM RM is there."""
    shown = [e for e in entries if e["metrics"].get("rmbench")]
    domains = list(dict.fromkeys(d for e in shown for d in e["metrics"]["rmbench"]["domains"]))
    with_pairpm = has_pairpm(entries, "rmbench")
    rows = []
    for e in shown:
        rm = e["metrics"]["rmbench"]
        rows.append([label(e), e.get("method", "–"), e.get("form", "–"),
                     *(pct(rm.get(k)) for k in RMBENCH_COLUMNS),
                     *(pct((rm["domains"].get(d) or {}).get("average"), with_ci=False)
                       for d in domains), str(rm.get("n", "–")),
                     *([consistency(rm)] if with_pairpm else [])])
    return table(["RM", "method", "form", *RMBENCH_COLUMNS.values(), *domains, "prompts",
                  *(["positional consistency [95% CI]"] if with_pairpm else [])], rows)


def rmbench_domain_table(entries: list[Entry]) -> str:
    """One row per RM and domain: easy / normal / hard [95% CI] and prompts."""
    rows = []
    for e in entries:
        rm = e["metrics"].get("rmbench")
        for domain, m in (rm or {}).get("domains", {}).items():
            rows.append([label(e), domain, *(pct(m.get(k)) for k in ("easy", "normal", "hard")),
                         str(m.get("n", "–"))])
        if rm:
            rows.append([label(e), "domain mean",
                         *(pct(rm.get(k)) for k in ("easy", "normal", "hard")),
                         str(rm.get("n", "–"))])
    return table(["RM", "domain", "Easy", "Normal", "Hard", "prompts"], rows)


def correlation(metric: Any) -> str:
    """A correlation dict ``{"spearman", "ci"}`` as ``+0.57 [+0.52, +0.61]``; "–" if absent."""
    rho = metric.get("spearman") if isinstance(metric, dict) else None
    if not isinstance(rho, (int, float)):
        return "–"
    interval = ci(metric) if all(isinstance(v, (int, float)) for v in metric.get("ci") or []) \
        else None
    return f"{rho:+.2f}" + (f" [{interval[0]:+.2f}, {interval[1]:+.2f}]" if interval else "")


def length_reliance(entry: Entry) -> str:
    """Spearman(reward margin, length margin) from the diagnostics suite; "–" for older runs."""
    return correlation((entry["metrics"].get("diagnostics") or {}).get("length_reliance"))


def with_n(metric: Any) -> str:
    """Accuracy [CI] followed by its item count, for subsets whose size varies by cue."""
    n = metric.get("n") if isinstance(metric, dict) else None
    return "–" if not n else f"{pct(metric)} (n={n})"


def diagnostics_table(entries: list[Entry]) -> str:
    """Spurious-cue diagnostics per RM: length reliance and accuracy split by length/markdown."""
    headers = ["RM", "form", "length unit", "length reliance ρ [95% CI]", "acc, chosen shorter",
               "acc, chosen longer", "acc, only chosen has markdown",
               "acc, only rejected has markdown"]
    rows = []
    for e in entries:
        d = e["metrics"].get("diagnostics")
        if not d:
            continue
        rows.append([label(e), e.get("form", "–"), d.get("length_unit", "–"), length_reliance(e),
                     with_n(d.get("accuracy_when_chosen_shorter")),
                     with_n(d.get("accuracy_when_chosen_longer")),
                     with_n(d.get("accuracy_when_only_chosen_markdown")),
                     with_n(d.get("accuracy_when_only_rejected_markdown"))])
    return table(headers, rows)


def preference_table(entries: list[Entry]) -> str:
    with_pairpm = has_pairpm(entries, "preference")
    rows = [[label(e), e.get("method", "–"), e.get("form", "–"), pct(e["metrics"]["preference"]),
             str(e["metrics"]["preference"].get("n")),
             *([consistency(e["metrics"]["preference"])] if with_pairpm else [])]
            for e in entries if e["metrics"].get("preference")]
    return table(["RM", "method", "form", "accuracy [95% CI]", "n",
                  *(["positional consistency [95% CI]"] if with_pairpm else [])], rows)


def data_line(entries: list[Entry], suite: str) -> str:
    """Which data a suite's numbers were computed on, as the metrics record it."""
    sources = list(dict.fromkeys(str((e["metrics"].get(suite) or {}).get("data"))
                                 for e in entries if e["metrics"].get(suite)))
    return "Data: " + ", ".join(f"`{s}`" for s in sources) + "."


def transforms_of(entries: list[Entry]) -> list[str]:
    names: list[str] = []
    for e in entries:
        for name in e["metrics"].get("reword", {}).get("transforms", {}):
            if name not in names:
                names.append(name)
    return names


def sides_cell(entries: list[Entry], name: str) -> str:
    """``both / one / neither`` pair counts of a transform (the first entry that ran it; the
    same data and seed give every RM the same counts), ``–`` for results from before counts."""
    for e in entries:
        t = e["metrics"].get("reword", {}).get("transforms", {}).get(name)
        if t and t.get("sides"):
            return " / ".join(str(t["sides"].get(k, 0)) for k in ("both", "one", "neither"))
    return "–"


def reword_table(entries: list[Entry]) -> str:
    """One row per transform, one column per RM: accuracy and drop from the original, on the
    pairs changed on both sides; the pair counts by side changed come first."""
    names = transforms_of(entries)
    shown = [e for e in entries if e["metrics"].get("reword")]
    rows = []
    for name in names:
        row = [name, sides_cell(shown, name)]
        for e in shown:
            t = e["metrics"]["reword"]["transforms"].get(name)
            row.append("–" if t is None else
                       f"{pct(t.get('accuracy'), with_ci=False)} "
                       f"({pct(t.get('drop'), signed=True)})")
        rows.append(row)
    return table(["transform", "pairs changed: both / one / neither",
                  *(label(e) for e in shown)], rows)


def robustness_table(entries: list[Entry]) -> str:
    rows = []
    for e in entries:
        transforms = e["metrics"].get("reword", {}).get("transforms", {})
        drops = {n: value(t.get("drop")) for n, t in transforms.items()}
        drops = {n: d for n, d in drops.items() if d is not None}
        if not drops:
            continue
        worst = max(drops, key=lambda n: drops[n])
        rows.append([label(e), e.get("form", "–"), f"{100 * sum(drops.values()) / len(drops):+.1f}",
                     f"{worst} ({100 * drops[worst]:+.1f})", str(len(drops))])
    return table(["RM", "form", "mean drop (points)", "worst transform (drop)", "transforms"],
                 rows)


def _count(number: Any) -> str:
    return "–" if number is None else f"{number:,}"


def augmented_cell(kept: dict[str, int], built: dict[str, int] | None = None) -> str:
    """Augmented pairs kept by the filter of those built, by type (``neutral 0/149``): a type
    the filter removed entirely shows as 0, never disappears."""
    built = built or {}
    cells = [f"{k} {v:,}" + (f"/{built[k]:,}" if k in built else "")
             for k, v in (kept or {}).items() if v or built.get(k)]
    return ", ".join(cells) or "none"


def seen_cell(available: Any, seen: Any) -> str:
    """Pairs available, and how many distinct ones the plan reached when not all of them."""
    if seen is None or available is None or seen >= available:
        return _count(available)
    return f"{available:,} ({seen:,} seen)"


def dropped_types(entry: Entry) -> list[str]:
    """Augmentation types the filter removed entirely (``neutral 149``): worth a warning, as
    the method then trains without that part (no tie loss without neutrals)."""
    t = entry.get("training") or {}
    built = t.get("augmented_built") or {}
    return [f"{k} {built[k]:,}" for k, v in (t.get("augmented_kept") or {}).items()
            if not v and built.get(k)]


def trained_entries(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.get("kind") == "trained" and e.get("training")]


def training_table(entries: list[Entry]) -> str:
    """What each trained RM saw and cost: the budget rule, original and augmented pairs (kept
    after filtering, by type), optimizer steps x batch size, tokens trained on, seconds."""
    rows = []
    for e in trained_entries(entries):
        t = e["training"]
        augmented = sum((t.get("augmented_kept") or {}).values())
        rows.append([label(e), e.get("form", "–"), t.get("budget", "–"),
                     seen_cell(t.get("original"), t.get("seen_original")),
                     augmented_cell(t.get("augmented_kept", {}), t.get("augmented_built")),
                     seen_cell(augmented, t.get("seen_augmented")) if augmented else "–",
                     _count(t.get("ties")),
                     f"{_count(t.get('steps'))} x {t.get('batch_size') or '–'}",
                     _count(t.get("tokens")),
                     "–" if t.get("seconds") is None else f"{t['seconds']:.0f}"])
    return table(["RM", "form", "budget", "original pairs", "augmented kept/built",
                  "augmented trained", "ties", "steps x batch", "tokens trained on", "train s"],
                 rows)


def budget_line(entries: list[Entry]) -> str:
    """One sentence on compute that the training table's numbers bear out: equal steps are
    claimed only when every trained RM of a form took the same number."""
    trained = trained_entries(entries)
    if not trained:
        return ""
    budgets = sorted({e["training"].get("budget", "epochs") for e in trained})
    parts = []
    by_form: dict[str, list[Entry]] = {}
    for e in trained:
        by_form.setdefault(e.get("form") or "bt", []).append(e)
    for form, group in by_form.items():
        steps = {e["training"].get("steps") for e in group}
        tokens = [e["training"].get("tokens") or 0 for e in group]
        if len(steps) == 1:
            spread = (f"; tokens trained on range {min(tokens):,} to {max(tokens):,}"
                      if max(tokens) != min(tokens) else "")
            parts.append(f"{form}: every trained RM took {steps.pop():,} optimizer steps{spread}")
        else:
            parts.append(f"{form}: optimizer steps differ ("
                         + ", ".join(f"{e['name']} {e['training'].get('steps'):,}"
                                     for e in group)
                         + "), so differences between methods mix method and compute")
    dropped = [f"{e['name']}: {', '.join(types)}" for e in trained
               if (types := dropped_types(e))]
    if dropped:
        parts.append("the filter removed every pair of a type (" + "; ".join(dropped)
                     + "), so that part of the method was not trained")
    rule = {"steps": "train.budget=steps (compute-matched: the steps of train.epochs over the "
                     "original pairs; a method with more pairs trains on a sample of them, "
                     "the seen counts)",
            "epochs": "train.budget=epochs (each method train.epochs over its own pairs, as "
                      "the papers do)"}
    return ("Compute: " + ", ".join(rule.get(b, b) for b in budgets) + ". "
            + "; ".join(parts) + ".")


def settings_line(entries: list[Entry]) -> str:
    """Which trained RMs share one config, per form (a form changes the config, so each form has
    its own hash); several hashes within a form are named, so a mixed board cannot pass as a
    controlled comparison."""
    by_form: dict[str, dict[str, list[str]]] = {}
    for e in entries:
        if e.get("kind") == "trained":
            by_form.setdefault(e.get("form") or "bt", {}).setdefault(
                e.get("config_hash") or "?", []).append(e["name"])
    if not by_form:
        hashes = sorted({e["config_hash"] for e in entries if e.get("config_hash")})
        return ("No trained RMs." if not hashes else
                f"Config hashes: {', '.join(f'`{h}`' for h in hashes)}.")
    parts = []
    for form, hashes in by_form.items():
        if len(hashes) == 1:
            (config_hash, names), = hashes.items()
            parts.append(f"{form}: all trained RMs ({', '.join(names)}) share one config, hash "
                         f"`{config_hash}`")
        else:
            parts.append(f"{form}: config hashes differ, " + "; ".join(
                f"`{h}` ({', '.join(names)})" for h, names in hashes.items()))
    same = all(len(h) == 1 for h in by_form.values())
    return ("; ".join(parts) + "." + (" Same backbone, mode, seed and hyper-parameters within "
                                       "each form (compute: see the training table)."
                                       if same else ""))


def suite_table(entries: list[Entry], suite: str) -> str:
    """Any suite's metrics, for a suite the board has no section of its own for (a plugin's):
    one column per top-level number it reports, in its own order and units (an ``accuracy``
    with a ``ci`` is shown as a percentage with its interval); nested results stay in
    results.json."""
    columns: list[str] = []
    for e in entries:
        for key, metric in (e["metrics"].get(suite) or {}).items():
            if key not in columns and _scalar(metric):
                columns.append(key)

    def cell(metrics: dict[str, Any], key: str) -> str:
        metric = metrics.get(key)
        if key == "accuracy" and "ci" in metrics:
            return pct({"accuracy": metric, "ci": metrics["ci"]})
        return "–" if metric is None else f"{metric:.4g}" if isinstance(metric, float) \
            else str(metric)

    return table(["RM", *columns], ([label(e), *(cell(e["metrics"].get(suite) or {}, k)
                                                 for k in columns)]
                                    for e in entries if e["metrics"].get(suite)))


def _scalar(metric: Any) -> bool:
    return isinstance(metric, (int, float)) and not isinstance(metric, bool)
