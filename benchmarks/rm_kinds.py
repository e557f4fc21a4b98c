"""Throughput of every kind of reward model on the same RewardBench pairs, through ``Scorer``.

Each kind is timed the way ``harness eval`` runs it: ``Scorer.score_pairs`` with a cold cache
(one pool of texts, deduplicated, length-sorted, batched by a token budget), the fingerprint
hashed before the clock starts. What one pair costs differs by kind:
- a classifier (``smollm2-135m`` untrained head, ``minilm-l6``): 2 forward passes, one per
  response;
- ``dpo:POLICY@REF``: 2 responses x 2 models = 4 forward passes, plus a log-softmax over the
  vocabulary at every response token;
- ``dpo-mean:POLICY``: 2 forward passes of the policy and the log-softmax;
- ``judge:MODEL``: 2 forward passes (both orders), each over a template, the question and both
  answers, so about twice a classifier input's tokens.
Tokens are counted per kind (the ids each model actually read), and accuracy on the sample is
shown beside the speed so a number is never read without what it bought (an untrained head and
a DPO model scored against itself are chance or ties by construction).

The CPU is shared with whatever else runs; the load average at the start and end is printed and
recorded, and kinds run one after another (not alternated), so compare figures taken together.

Usage: python -m benchmarks.rm_kinds [--pairs 200] [--max-length 512]
       [--models smollm2-135m,minilm-l6,dpo:smollm2-135m@smollm2-135m,...] [--json FILE]
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
DEFAULT_MODELS = ("minilm-l6", "smollm2-135m", "judge:smollm2-135m",
                  "dpo:smollm2-135m@smollm2-135m", "dpo-mean:smollm2-135m")


def input_tokens(rm, pairs) -> int:
    """Tokens the model reads for these pairs (both orders for a pairwise judge)."""
    from harness.scoring.encoding import PairedResponses

    prompts = [p.prompt for p in pairs] * 2
    if getattr(rm, "form", "bt") == "pairpm":
        responses = ([PairedResponses(p.chosen, p.rejected) for p in pairs]
                     + [PairedResponses(p.rejected, p.chosen) for p in pairs])
    else:
        responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    if not hasattr(rm, "encode"):
        return 0
    return sum(len(ids) for ids in rm.encode(prompts, responses)[0])


def time_kind(name: str, pairs, args: argparse.Namespace) -> dict:
    import torch

    from harness.scoring.reward_model import load_reward_model
    from harness.scoring.scorer import Scorer
    from harness.suites.base import pair_outcomes

    began = time.perf_counter()
    rm = load_reward_model(name, max_length=args.max_length, device=args.device,
                           precision=args.precision)
    rm.fingerprint  # hashed once up front, outside the timing  # noqa: B018
    load_s = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as cache:
        scorer = Scorer(rm, cache_dir=cache)
        began = time.perf_counter()
        chosen, rejected, stats = scorer.score_pairs(pairs)
        seconds = time.perf_counter() - began
    correct, ties = pair_outcomes(chosen, rejected)
    weights = getattr(getattr(rm, "model", None), "dtype", None)
    return {"model": rm.name, "form": getattr(rm, "form", "bt"), "load_s": load_s,
            "seconds": seconds, "pairs_per_s": len(pairs) / seconds,
            "texts_scored": stats["scored"], "tokens": input_tokens(rm, pairs),
            "truncated_pairs": stats["truncated_pairs"],
            "accuracy": sum(correct) / len(pairs), "ties": sum(ties),
            "consistency": (sum(stats["consistent"]) / len(pairs)
                            if "consistent" in stats else None),
            "dtype": str(weights).removeprefix("torch.") if weights else None,
            "threads": torch.get_num_threads()}


def run(args: argparse.Namespace) -> dict:
    from benchmarks.common import RB_FILE, shared
    from harness.data.loaders import load_pairs
    from harness.suites.base import stratified_sample

    data = args.data or str(shared(RB_FILE))
    pairs = stratified_sample(load_pairs(data), args.pairs, args.seed)
    result: dict = {"pairs": len(pairs), "max_length": args.max_length,
                    "load_average_start": os.getloadavg(), "cpus": os.cpu_count(), "kinds": []}
    for name in args.models.split(","):
        entry = time_kind(name.strip(), pairs, args)
        result["kinds"].append(entry)
        result["load_average_end"] = os.getloadavg()
        print(f"  {entry['model']}: {entry['pairs_per_s']:.2f} pairs/s", flush=True)
        if args.json:  # after every kind: a long run that is stopped keeps what it measured
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


def report(result: dict) -> None:
    print(f"{result['pairs']} RewardBench pairs, max length {result['max_length']}, "
          f"{result['cpus']} CPUs, load average {result['load_average_start'][0]:.1f} at the "
          f"start, {result['load_average_end'][0]:.1f} at the end")
    print(f"  {'reward model':38} {'form':7} {'pairs/s':>8} {'s':>7} {'load s':>7} "
          f"{'k tokens':>9} {'acc':>6} {'ties':>5} {'consist.':>8}")
    for k in result["kinds"]:
        consistency = "" if k["consistency"] is None else f"{k['consistency']:.2f}"
        print(f"  {k['model'][:38]:38} {k['form']:7} {k['pairs_per_s']:8.2f} "
              f"{k['seconds']:7.1f} {k['load_s']:7.1f} {k['tokens'] / 1000:9.1f} "
              f"{k['accuracy']:6.3f} {k['ties']:5d} {consistency:>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--pairs", type=int, default=200, help="stratified RewardBench sample")
    parser.add_argument("--data", default=None, help="pairs file (default: shared RewardBench)")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the result here")
    args = parser.parse_args(argv)
    from harness.cli import quiet_libraries

    quiet_libraries()
    report(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
