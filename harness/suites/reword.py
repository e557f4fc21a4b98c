"""Suite ``reword``: RewardBench under each registered transform (reWordBench-style).

For each transform, on the pairs of the subsets it applies to: accuracy after the transform,
accuracy of the same pairs unchanged, the drop (unchanged - transformed) with a paired
bootstrap CI, and the flip rate (share of pairs whose ranking changed), overall and per
section. Pairs a transform left unchanged still count (their outcome is the same by
construction), and the no-op rate is reported so a transform that does nothing is visible.
"""

from __future__ import annotations

from harness.data.rewardbench import section_of
from harness.stats import accuracy_with_ci, paired_bootstrap_diff
from harness.suites.base import SUITES, EvalContext, Suite, pair_outcomes, write_records
from harness.suites.rewardbench import load_rewardbench


def selected_transforms(ctx: EvalContext) -> list:
    from transforms import TRANSFORMS

    names = ctx.config.eval.transforms or [
        n for n in TRANSFORMS.names() if TRANSFORMS.get(n).kind == "rule"]
    return [TRANSFORMS.get(n) for n in names]


def _block(orig: list[int], trans: list[int], seed: int) -> dict:
    drop = paired_bootstrap_diff(orig, trans, seed=seed)
    flips = sum(o != t for o, t in zip(orig, trans, strict=True))
    return {**accuracy_with_ci(trans, seed=seed), "original": sum(orig) / len(orig),
            "drop": drop["diff"], "drop_ci": drop["ci"], "flip_rate": flips / len(orig)}


def run(ctx: EvalContext) -> dict:
    from transforms import applies_to, apply_to_pairs

    source = ctx.data or ctx.config.data.rewardbench
    limit = ctx.config.eval.reword_limit or ctx.limit
    pairs = load_rewardbench(source, limit, ctx.config.seed)
    chosen, rejected, _ = ctx.scorer.score_pairs(pairs)
    original, _ = pair_outcomes(chosen, rejected)
    results, records = {}, []
    for transform in selected_transforms(ctx):
        idx = [i for i, p in enumerate(pairs) if applies_to(transform, p)]
        if not idx:
            continue
        changed_pairs = apply_to_pairs(transform, [pairs[i] for i in idx], ctx.config.seed)
        new_pairs = [p for p, _ in changed_pairs]
        c, r, _ = ctx.scorer.score_pairs(new_pairs)
        trans, _ = pair_outcomes(c, r)
        orig = [original[i] for i in idx]
        entry = _block(orig, trans, ctx.config.seed)
        entry["n"] = len(idx)
        entry["noop_rate"] = sum(not changed for _, changed in changed_pairs) / len(idx)
        entry["kind"] = transform.kind
        sections = {}
        for section in sorted({section_of(pairs[i].subset) for i in idx}):
            pos = [k for k, i in enumerate(idx) if section_of(pairs[i].subset) == section]
            sections[section] = {**_block([orig[k] for k in pos], [trans[k] for k in pos],
                                          ctx.config.seed), "n": len(pos)}
        entry["sections"] = sections
        results[transform.name] = entry
        records.extend({"transform": transform.name, "key": pairs[i].key,
                        "subset": pairs[i].subset, "original_correct": o, "correct": t,
                        "changed": ch, "chosen_score": cs, "rejected_score": rs}
                       for i, o, t, (_, ch), cs, rs in zip(idx, orig, trans, changed_pairs,
                                                           c, r, strict=True))
    write_records(ctx.out_dir / "reword_items.jsonl", records)
    drops = [e["drop"] for e in results.values()]
    return {"transforms": results, "mean_drop": sum(drops) / len(drops) if drops else None,
            "n": len(pairs), "data": source}


SUITES.add("reword", Suite("reword", "RewardBench under meaning-preserving transforms", run,
                           lambda config: config.data.rewardbench))
