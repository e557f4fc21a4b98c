"""Suite ``preference``: pairwise accuracy with a bootstrap 95% CI on any pairs file
(the trainer's held-out split, or an outside preference set)."""

from __future__ import annotations

from harness.data.loaders import load_pairs
from harness.io import write_jsonl
from harness.stats import accuracy_with_ci
from harness.suites.base import (
    SUITES,
    EvalContext,
    Suite,
    pair_outcomes,
    positional_consistency,
)


def run(ctx: EvalContext) -> dict:
    source = SUITE.source(ctx)
    pairs = [p for p in load_pairs(source, limit=ctx.limit) if not p.is_tie]
    chosen, rejected, stats = ctx.scorer.score_pairs(pairs)
    correct, ties = pair_outcomes(chosen, rejected)
    consistent = stats.get("consistent") or [None] * len(pairs)
    write_jsonl(ctx.out_dir / "preference_items.jsonl", [
        {"key": p.key, "chosen_score": c, "rejected_score": r, "correct": k, "tie": t,
         **({} if o is None else {"consistent": o})}
        for p, c, r, k, t, o in zip(pairs, chosen, rejected, correct, ties, consistent,
                                    strict=True)])
    result = accuracy_with_ci(correct, seed=ctx.config.seed)
    return {**result, **positional_consistency(stats, ctx.config.seed), "ties": sum(ties),
            "truncated": stats["truncated"], "data": source}


SUITE = Suite("preference", "pairwise accuracy on any pairs file", run, "data.train")
SUITES.add(SUITE.name, SUITE)
