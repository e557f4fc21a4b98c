"""Scorer throughput against a plain reward-bench-style loop, same model, data and inputs.

The baseline does what ``rewardbench`` does for a sequence classifier: batches of 8 pairs in
dataset order, chosen and rejected in two separate forward passes, each batch padded to its
longest text, no sorting, no cache. It gets exactly the token ids our encoder makes (same
template and truncation), so the only differences are batching and the forward pass. Ours is
``Scorer`` with a cold cache: one pool of texts, deduplicated, length-sorted, batched by a token
budget, reward read at the last real token. Runs alternate (baseline, ours, ...) and the best
time of each counts, which keeps other processes' load out of the ratio.

Each precision (``--precision fp32,bf16``) times both loops with the weights in that dtype, so
every "equal precision" ratio compares like with like; later precisions are also compared with
the first (reward-bench's loop runs float32 on a CPU): speed and how far the scores move. The
"exact ceiling" is the baseline's tokens (padding and repeated texts included) over the tokens
of the distinct texts: at equal precision, on a compute-bound CPU, no exact scorer can beat the
baseline by more than that.

Usage: python -m benchmarks.scoring [--model minilm-l6] [--max-length 512] [--pairs 200]
       [--precision fp32,bf16]
Skips cleanly (exit 0) when the shared RewardBench file is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
BASELINE_BATCH = 8  # reward-bench's default batch size


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def baseline_scores(rm, pairs, batch_size: int) -> tuple[list[float], list[float], int]:
    """reward-bench's loop: per batch, tokenise, then chosen and rejected separately.

    Also returns the tokens it ran through the model, padding included."""
    import torch

    from harness.scoring.encoding import encode_many
    from harness.scoring.forward import pad_batch

    chosen, rejected, tokens = [], [], 0
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start:start + batch_size]
            for side, out in (("chosen", chosen), ("rejected", rejected)):
                encoded = encode_many(rm.tokenizer, [p.prompt for p in batch],
                                      [getattr(p, side) for p in batch], rm.max_length)
                ids, mask = pad_batch([e for e, _ in encoded], rm.pad_id)
                tokens += ids.numel()
                logits = rm.model(input_ids=ids.to(rm.device),
                                  attention_mask=mask.to(rm.device)).logits
                out.extend(logits[:, 0].float().cpu().tolist())
    return chosen, rejected, tokens


def distinct_tokens(rm, pairs) -> int:
    """Tokens an ideal exact scorer must run: each distinct text once, no padding."""
    from harness.scoring.scorer import text_key

    texts = {text_key(p.prompt, r): (p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)}
    prompts, responses = zip(*texts.values(), strict=True)
    return sum(len(ids) for ids in rm.encode(list(prompts), list(responses))[0])


def ours_scores(rm, pairs, cache_dir: str | None = None):
    from harness.scoring.scorer import Scorer

    scorer = Scorer(rm, cache_dir=cache_dir, use_cache=cache_dir is not None)
    return scorer.score_pairs(pairs)


def timed(fn):
    _sync()
    start = time.perf_counter()
    result = fn()
    _sync()
    return time.perf_counter() - start, result


def compare(rm, pairs, repeats: int) -> dict:
    """Best-of-``repeats`` seconds of the baseline and of ours, alternating, on one RM."""
    ours_scores(rm, pairs[:4])  # warm-up (allocator, kernels) for both
    best_base = best_ours = float("inf")
    for _ in range(repeats):
        seconds, (base_c, base_r, padded) = timed(
            lambda: baseline_scores(rm, pairs, BASELINE_BATCH))
        best_base = min(best_base, seconds)
        seconds, (our_c, our_r, stats) = timed(lambda: ours_scores(rm, pairs))
        best_ours = min(best_ours, seconds)
    return {"baseline_s": best_base, "ours_s": best_ours, "padded_tokens": padded,
            "truncated_pairs": stats["truncated_pairs"], "baseline": base_c + base_r,
            "ours": our_c + our_r, "dtype": str(rm.model.dtype), "batch_tokens": rm.batch_tokens}


def disagreement(scores: list[float], reference: list[float]) -> dict:
    """How far one run's pair scores (chosen then rejected) are from another's: max |diff| and
    the number of pairs whose ranking (chosen above rejected) differs."""
    half = len(scores) // 2
    flips = sum((scores[i] > scores[half + i]) != (reference[i] > reference[half + i])
                for i in range(half))
    return {"max_abs_diff": max(abs(a - b) for a, b in zip(scores, reference, strict=True)),
            "ranking_flips": flips}


def run(args: argparse.Namespace) -> dict:
    from benchmarks.common import RB_FILE, shared
    from harness.data.loaders import load_pairs
    from harness.scoring.reward_model import load_reward_model
    from harness.suites.base import stratified_sample

    data = args.data or str(shared(RB_FILE))
    pairs = stratified_sample(load_pairs(data), args.pairs, args.seed)
    result: dict = {"model": args.model, "pairs": len(pairs), "runs": {}}
    for precision in args.precision.split(","):
        rm = load_reward_model(args.model, max_length=args.max_length, device=args.device,
                               batch_tokens=args.batch_tokens, precision=precision)
        rm.fingerprint  # hashed once up front, outside the timings  # noqa: B018
        timing = compare(rm, pairs, args.repeats)
        timing["ratio"] = timing["baseline_s"] / timing["ours_s"]
        if not result["runs"]:
            result.update(device=str(rm.device), max_length=rm.max_length,
                          distinct_tokens=distinct_tokens(rm, pairs),
                          truncated_pairs=timing["truncated_pairs"])
            result["padding_ceiling"] = timing["padded_tokens"] / result["distinct_tokens"]
            result["reference"] = precision
            with tempfile.TemporaryDirectory() as cache:
                ours_scores(rm, pairs, cache)
                warm, _ = timed(lambda rm=rm: ours_scores(rm, pairs, cache))
            result["warm_cache_pairs_per_s"] = len(pairs) / warm
            reference = timing
        timing["vs_reference"] = disagreement(timing["ours"], reference["ours"])
        timing["same_as_baseline"] = disagreement(timing["ours"], timing["baseline"])
        timing["ratio_vs_reference_baseline"] = reference["baseline_s"] / timing["ours_s"]
        result["runs"][precision] = {k: v for k, v in timing.items()
                                     if k not in ("baseline", "ours")}
    return result


def report(result: dict, n: int) -> None:
    print(f"{result['model']} on {result['device']}, max length {result['max_length']}, "
          f"{n} RewardBench pairs ({result['truncated_pairs']} truncated)")
    print(f"  exact ceiling: the baseline runs {result['padding_ceiling']:.2f} tokens (padding and "
          "repeated texts) per token an ideal scorer needs; at equal precision no exact scorer "
          "beats it by more")
    ref = result["reference"]
    for precision, run in result["runs"].items():
        print(f"  [{precision}: weights {run['dtype']}, our batches {run['batch_tokens']} tokens]")
        print(f"    reward-bench-style loop (batch {BASELINE_BATCH}, chosen/rejected separate): "
              f"{n / run['baseline_s']:.1f} pairs/s")
        print(f"    crome-bench scorer (sorted, deduplicated, cold cache): "
              f"{n / run['ours_s']:.1f} pairs/s   ratio {run['ratio']:.2f}x at equal precision "
              f"(max |diff| vs the loop {run['same_as_baseline']['max_abs_diff']:.1e})")
        if precision != ref:
            print(f"    vs the {ref} loop: {run['ratio_vs_reference_baseline']:.2f}x; vs {ref} "
                  f"scores: max |diff| {run['vs_reference']['max_abs_diff']:.1e}, "
                  f"{run['vs_reference']['ranking_flips']} of {n} pair rankings differ")
    print(f"  warm cache: {result['warm_cache_pairs_per_s']:.0f} pairs/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-l6")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--pairs", type=int, default=200, help="stratified RewardBench sample")
    parser.add_argument("--data", default=None, help="pairs file (default: shared RewardBench)")
    parser.add_argument("--batch-tokens", type=int, default=None,
                        help="our token budget (default: the scorer's for the device)")
    parser.add_argument("--precision", default="fp32,bf16",
                        help="comma-separated; the first is the reference for the others")
    parser.add_argument("--repeats", type=int, default=2, help="alternating timed runs each")
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the result here")
    args = parser.parse_args(argv)
    from harness.cli import quiet_libraries

    quiet_libraries()
    result = run(args)
    report(result, result["pairs"])
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
