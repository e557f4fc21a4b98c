"""Suite ``reword``: RewardBench under each registered transform (reWordBench-style).

For each transform, on the pairs of the subsets it applies to, the pairs are split by what
changed (``transforms.base.transform_pair``): both sides (the prompt, or both responses), one
side only, or neither. Accuracy after the transform, accuracy of the same pairs unchanged, the
drop (unchanged - transformed) with a paired bootstrap CI and the flip rate (share of pairs
whose ranking changed) are taken on the *both-side* pairs, overall and per section: an
unchanged pair would dilute the drop, and a one-sided edit is a cue of its own. The counts of
the three groups, and accuracy on the one-side and neither pairs, are reported beside it
(``sides``, ``one_side``, ``neither``), with the no-op rate (pairs the transform found nothing
to edit in / n, as ``transforms apply`` reports it; ``sides["undone"]`` counts the one-sided
edits undone, the rest of ``neither``); a model-based
transform also reports why rewrites were rejected (``rejections``: similarity, numbers, empty,
too_long).
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.data.rewardbench import section_of
from harness.io import write_jsonl
from harness.stats import accuracy_with_ci, paired_bootstrap_diff
from harness.suites.base import SUITES, EvalContext, Suite, pair_outcomes, stratified_sample
from harness.suites.rewardbench import load_rewardbench


def selected_transforms(ctx: EvalContext) -> list:
    from transforms import TRANSFORMS

    names = ctx.config.eval.transforms or [
        n for n in TRANSFORMS.names() if TRANSFORMS.get(n).kind == "rule"]
    return [TRANSFORMS.get(n) for n in names]


def _block(orig: list[int], trans: list[int], seed: int) -> dict:
    if not orig:
        return {"accuracy": None, "original": None, "drop": None, "drop_ci": None,
                "flip_rate": None}
    drop = paired_bootstrap_diff(orig, trans, seed=seed)
    flips = sum(o != t for o, t in zip(orig, trans, strict=True))
    return {**accuracy_with_ci(trans, seed=seed), "original": sum(orig) / len(orig),
            "drop": drop["diff"], "drop_ci": drop["ci"], "flip_rate": flips / len(orig)}


def _side_block(orig: list[int], trans: list[int], sides: list[str], side: str,
                positions: Iterable[int], seed: int) -> dict:
    """``_block`` on the pairs at ``positions`` changed on ``side``, with their count."""
    keep = [k for k in positions if sides[k] == side]
    return {**_block([orig[k] for k in keep], [trans[k] for k in keep], seed), "n": len(keep)}


def run(ctx: EvalContext) -> dict:
    from transforms import applies_to, side_counts, transform_pairs

    source = SUITE.source(ctx)
    limit = ctx.config.eval.reword_limit or ctx.limit
    everything = load_rewardbench(source, None, ctx.config.seed)
    pairs = stratified_sample(everything, limit, ctx.config.seed)
    chosen, rejected, _ = ctx.scorer.score_pairs(pairs)
    original, _ = pair_outcomes(chosen, rejected)
    results, records = {}, []
    for transform in selected_transforms(ctx):
        idx = [i for i, p in enumerate(pairs) if applies_to(transform, p)]
        if not idx:
            continue
        # Transforms that draw from other items (code_append_other) draw from the whole data,
        # so a pair gets the same edit whatever sample it is in.
        applied = transform_pairs(transform, [pairs[i] for i in idx], ctx.config.seed,
                                  others=everything)
        c, r, _ = ctx.scorer.score_pairs([a.pair for a in applied])
        trans, _ = pair_outcomes(c, r)
        orig = [original[i] for i in idx]
        sides = [a.sides for a in applied]
        seed = ctx.config.seed
        entry = _side_block(orig, trans, sides, "both", range(len(idx)), seed)
        counts = side_counts(applied)
        entry.update(n=len(idx), n_both=counts["both"], sides=counts,
                     noop_rate=counts["noop"] / len(idx), kind=transform.kind,
                     one_side=_side_block(orig, trans, sides, "one", range(len(idx)), seed),
                     neither=_side_block(orig, trans, sides, "neither", range(len(idx)), seed))
        if hasattr(transform, "rejections"):  # model-based: why rewrites were not used
            texts = [getattr(pairs[i], f) for i in idx for f in transform.fields if f != "prompt"]
            entry["rejections"] = dict(transform.rejections(texts))
        sections = {}
        for section in sorted({section_of(pairs[i].subset) for i in idx}):
            pos = [k for k, i in enumerate(idx) if section_of(pairs[i].subset) == section]
            sections[section] = _side_block(orig, trans, sides, "both", pos, seed)
        entry["sections"] = sections
        results[transform.name] = entry
        records.extend({"transform": transform.name, "key": pairs[i].key,
                        "subset": pairs[i].subset, "original_correct": o, "correct": t,
                        "changed": a.changed, "sides": a.sides, "chosen_score": cs,
                        "rejected_score": rs}
                       for i, o, t, a, cs, rs in zip(idx, orig, trans, applied, c, r,
                                                     strict=True))
    write_jsonl(ctx.out_dir / "reword_items.jsonl", records)
    drops = [e["drop"] for e in results.values() if e["drop"] is not None]
    return {"transforms": results, "mean_drop": sum(drops) / len(drops) if drops else None,
            "n": len(pairs), "data": source}


SUITE = Suite("reword", "RewardBench under meaning-preserving transforms", run,
              "data.rewardbench")
SUITES.add(SUITE.name, SUITE)
