"""Suite ``diagnostics``: how much an RM's verdicts follow spurious cues (length, markdown).

On any pairs file (default: RewardBench, sampled like the ``rewardbench`` suite so the scores
come from the same cache entries):

* length reliance: Spearman correlation of the reward margin (chosen - rejected) with the
  length margin, with a bootstrap CI. Rank-based, so a few very long answers do not dominate.
  Length is counted in the RM's own tokens when it has a tokenizer (what the model sees), else
  in characters: the ``length`` reference scores characters, so its reliance is exactly 1 and
  anchors the scale (whitespace words would give it ~0.98 on RewardBench, a unit mismatch, not
  a finding);
* accuracy on the pairs where the chosen response is the shorter one vs the longer one (equal
  lengths apart): an RM that rewards length does well on one and badly on the other;
* the same split for markdown formatting (lists, headers, bold) present in only one response.

Accuracy is strict (a tie counts as wrong) and unweighted over pairs: these are diagnostics of
behaviour, not a RewardBench score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness.cues import MARKDOWN_FEATURES, markdown_features
from harness.data.loaders import load_pairs
from harness.data.rewardbench import section_of
from harness.io import write_jsonl
from harness.stats import accuracy_with_ci, spearman_with_ci
from harness.suites.base import (
    SUITES,
    EvalContext,
    Suite,
    pair_outcomes,
    stratified_sample,
)

if TYPE_CHECKING:  # suites are named (checks, --plan) without loading torch
    from harness.scoring.reward_model import RewardModel


def response_lengths(rm: RewardModel, texts: list[str]) -> tuple[list[int], str]:
    """(lengths, unit): tokens of the RM's tokenizer (no special tokens), else characters."""
    tokenizer = getattr(rm, "tokenizer", None)
    if tokenizer is None:
        return [len(t) for t in texts], "characters"
    ids = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    return [len(x) for x in ids], "tokens"


def _subset_accuracy(correct: Sequence[int], mask: Sequence[bool], seed: int) -> dict:
    return accuracy_with_ci([c for c, m in zip(correct, mask, strict=True) if m], seed=seed)


def _cue_split(correct: list[int], in_chosen: list[bool], in_rejected: list[bool],
               seed: int) -> dict[str, Any]:
    """Accuracy where only the chosen / only the rejected response has a cue; counts of rest."""
    pairs = list(zip(in_chosen, in_rejected, strict=True))
    return {"only_chosen": _subset_accuracy(correct, [c and not r for c, r in pairs], seed),
            "only_rejected": _subset_accuracy(correct, [r and not c for c, r in pairs], seed),
            "both": sum(c and r for c, r in pairs),
            "neither": sum(not c and not r for c, r in pairs)}


def _finite(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def diagnose(chosen_scores: list[float], rejected_scores: list[float], chosen_len: list[int],
             rejected_len: list[int], chosen_md: list[frozenset[str]],
             rejected_md: list[frozenset[str]], seed: int = 0) -> dict[str, Any]:
    """All diagnostics from per-pair scores, lengths and markdown features (pure)."""
    correct, ties = pair_outcomes(chosen_scores, rejected_scores)
    score_margin = [c - r for c, r in zip(chosen_scores, rejected_scores, strict=True)]
    length_margin = [c - r for c, r in zip(chosen_len, rejected_len, strict=True)]
    rho = spearman_with_ci(score_margin, length_margin, seed=seed)
    lengths = _cue_split(correct, [m > 0 for m in length_margin],
                         [m < 0 for m in length_margin], seed)
    markdown = _cue_split(correct, [bool(m) for m in chosen_md], [bool(m) for m in rejected_md],
                          seed)
    by_feature = {}
    for feature in MARKDOWN_FEATURES:
        split = _cue_split(correct, [feature in m for m in chosen_md],
                           [feature in m for m in rejected_md], seed)
        by_feature[feature] = {k: split[k] for k in ("only_chosen", "only_rejected")}
    n = len(correct)
    return {
        "length_reliance": {"spearman": _finite(rho["rho"]),
                            "ci": [_finite(v) for v in rho["ci"]], "n": rho["n"]},
        "accuracy": accuracy_with_ci(correct, seed=seed),
        "accuracy_when_chosen_shorter": lengths["only_rejected"],  # the rejected is longer
        "accuracy_when_chosen_longer": lengths["only_chosen"],
        "accuracy_when_equal_length": _subset_accuracy(correct, [m == 0 for m in length_margin],
                                                       seed),
        "chosen_longer_share": lengths["only_chosen"]["n"] / n if n else None,
        "accuracy_when_only_chosen_markdown": markdown["only_chosen"],
        "accuracy_when_only_rejected_markdown": markdown["only_rejected"],
        "markdown_in_both": markdown["both"], "markdown_in_neither": markdown["neither"],
        "markdown_by_feature": by_feature,
        "ties": sum(ties),
    }


def run(ctx: EvalContext) -> dict:
    source = SUITE.source(ctx)
    # Same sampling as the rewardbench suite (stratified by subset, seeded), so on RewardBench
    # with the same --limit both suites see the same pairs and share cached scores.
    pairs = [p for p in load_pairs(source) if not p.is_tie]
    if any(section_of(p.subset) for p in pairs):  # RewardBench data: keep what its suite keeps
        pairs = [p for p in pairs if section_of(p.subset)]
    pairs = stratified_sample(pairs, ctx.limit, ctx.config.seed)
    chosen, rejected, _ = ctx.scorer.score_pairs(pairs)
    lengths, unit = response_lengths(ctx.rm, [p.chosen for p in pairs] +
                                     [p.rejected for p in pairs])
    n = len(pairs)
    chosen_len, rejected_len = lengths[:n], lengths[n:]
    chosen_md = [markdown_features(p.chosen) for p in pairs]
    rejected_md = [markdown_features(p.rejected) for p in pairs]
    result = diagnose(chosen, rejected, chosen_len, rejected_len, chosen_md, rejected_md,
                      ctx.config.seed)
    correct, ties = pair_outcomes(chosen, rejected)
    write_jsonl(ctx.out_dir / "diagnostics_items.jsonl", [
        {"key": p.key, "subset": p.subset, "chosen_score": c, "rejected_score": r,
         "correct": k, "tie": t, "chosen_length": cl, "rejected_length": rl,
         "chosen_markdown": sorted(cmd), "rejected_markdown": sorted(rmd)}
        for p, c, r, k, t, cl, rl, cmd, rmd in zip(pairs, chosen, rejected, correct, ties,
                                                 chosen_len, rejected_len, chosen_md,
                                                 rejected_md, strict=True)])
    return {**result, "length_unit": unit, "n": n, "data": source}


SUITE = Suite("diagnostics", "spurious-cue diagnostics: length and markdown reliance", run,
              "data.rewardbench")
SUITES.add(SUITE.name, SUITE)
