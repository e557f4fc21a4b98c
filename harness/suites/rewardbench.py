"""Suite ``rewardbench``: per-subset accuracy, section scores weighted as reward-bench does, and
their unweighted mean (the convention the RRM and Crome papers report).

Strict accuracy: a pair whose two rewards are equal counts as wrong; ties are reported.
Section score = sum(acc_s * w_s) / sum(w_s) over the section's subsets present in the data, with
w_s from ``harness.data.rewardbench.SECTIONS`` (math-prm weighted as all six hep-* subsets
together). Its CI is a weighted bootstrap over the section's items, each item weighted
w_s / n_s, which reproduces the section score on the full sample.
"""

from __future__ import annotations

from collections import defaultdict

from harness.data.loaders import load_pairs
from harness.data.rewardbench import SECTIONS, section_of
from harness.data.schema import DataError, Problem
from harness.io import write_jsonl
from harness.stats import accuracy_with_ci
from harness.suites.base import (
    SUITES,
    EvalContext,
    Suite,
    pair_outcomes,
    positional_consistency,
    stratified_sample,
)


def section_scores(subset_accuracy: dict[str, float]) -> dict[str, float]:
    """Weighted section scores from per-subset accuracies (subsets absent from the data skip)."""
    scores = {}
    for section, weights in SECTIONS.items():
        present = {s: w for s, w in weights.items() if s in subset_accuracy}
        if present:
            total = sum(present.values())
            scores[section] = sum(subset_accuracy[s] * w for s, w in present.items()) / total
    return scores


def item_weights(subsets: list[str]) -> list[float]:
    counts: dict[str, int] = defaultdict(int)
    for s in subsets:
        counts[s] += 1
    weights = {s: w for ws in SECTIONS.values() for s, w in ws.items()}
    return [weights[s] / counts[s] for s in subsets]


def summarise(subsets: list[str], correct: list[int], ties: list[int], seed: int) -> dict:
    """Subset accuracies, section scores with CIs, and their mean, from per-item outcomes."""
    by_subset: dict[str, list[int]] = defaultdict(list)
    tie_count: dict[str, int] = defaultdict(int)
    for s, c, t in zip(subsets, correct, ties, strict=True):
        by_subset[s].append(c)
        tie_count[s] += t
    subset_metrics = {s: {**accuracy_with_ci(v, seed=seed), "ties": tie_count[s]}
                      for s, v in sorted(by_subset.items())}
    scores = section_scores({s: m["accuracy"] for s, m in subset_metrics.items()})
    sections = {}
    for section, score in scores.items():
        idx = [i for i, s in enumerate(subsets) if section_of(s) == section]
        sub = [subsets[i] for i in idx]
        ci = accuracy_with_ci([correct[i] for i in idx], weights=item_weights(sub), seed=seed)
        sections[section] = {"accuracy": score, "ci": ci["ci"], "n": len(idx)}
    average = sum(scores.values()) / len(scores) if scores else None
    overall = accuracy_with_ci(correct, weights=average_weights(subsets), seed=seed)
    overall["accuracy"] = average  # equal to the weighted mean; set exactly
    return {"sections": sections, "subsets": subset_metrics, "average": average,
            "overall": overall, "n": len(subsets), "ties": sum(ties)}


def average_weights(subsets: list[str]) -> list[float]:
    """Per-item weights whose weighted mean of outcomes is the mean of the section scores."""
    base = item_weights(subsets)
    section_total: dict[str, float] = defaultdict(float)
    for s, w in zip(subsets, base, strict=True):
        section_total[section_of(s)] += w
    n_sections = len(section_total)
    return [w / section_total[section_of(s)] / n_sections
            for s, w in zip(subsets, base, strict=True)]


def load_rewardbench(source: str, limit: int | None, seed: int):
    pairs = [p for p in load_pairs(source) if section_of(p.subset)]
    if not pairs:
        raise DataError([Problem(str(source), None, "subset", "no pair has a RewardBench subset "
                                 "name (e.g. alpacaeval-easy, math-prm): the rewardbench suite "
                                 "scores by subset; use the preference suite for plain pairs")])
    return stratified_sample(pairs, limit, seed)


def run(ctx: EvalContext) -> dict:
    source = SUITE.source(ctx)
    pairs = load_rewardbench(source, ctx.limit, ctx.config.seed)
    chosen, rejected, stats = ctx.scorer.score_pairs(pairs)
    correct, ties = pair_outcomes(chosen, rejected)
    consistent = stats.get("consistent") or [None] * len(pairs)
    write_jsonl(ctx.out_dir / "rewardbench_items.jsonl", [
        {"key": p.key, "subset": p.subset, "section": section_of(p.subset),
         "chosen_score": c, "rejected_score": r, "correct": k, "tie": t,
         **({} if o is None else {"consistent": o})}
        for p, c, r, k, t, o in zip(pairs, chosen, rejected, correct, ties, consistent,
                                    strict=True)])
    result = summarise([p.subset for p in pairs], correct, ties, ctx.config.seed)
    return {**result, **positional_consistency(stats, ctx.config.seed),
            "truncated": stats["truncated"], "data": source}


SUITE = Suite("rewardbench", "RewardBench accuracy per subset and section", run,
              "data.rewardbench")
SUITES.add(SUITE.name, SUITE)
