"""GPU check: scorer throughput and a full fine-tune of SmolLM2-135M on all UltraFeedback samples.

Run on a CUDA machine (bf16): prints and writes JSON with scorer pairs/s on all 2,985
RewardBench pairs, training pairs/s and time, and the trained RM's held-out and RewardBench
accuracy beside the untrained backbone and the length reference.
Usage: python -m benchmarks.gpu_run UF_PAIRS.jsonl REWARDBENCH.jsonl OUT.json [max_pairs]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from harness.config import Config
from harness.data.loaders import load_pairs
from harness.evaluate import evaluate_model
from harness.scoring.reward_model import load_reward_model
from harness.scoring.scorer import Scorer
from harness.training.pipeline import train_method


def scorer_throughput(rb_path: str, max_length: int, batch_tokens: int) -> dict:
    pairs = load_pairs(rb_path)
    rm = load_reward_model("smollm2-135m", max_length=max_length, batch_tokens=batch_tokens)
    warm = Scorer(rm, use_cache=False)
    warm.score_pairs(pairs[:64])
    torch.cuda.synchronize()
    start = time.perf_counter()
    _, _, stats = Scorer(rm, use_cache=False).score_pairs(pairs)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {"pairs": len(pairs), "seconds": seconds, "pairs_per_s": len(pairs) / seconds,
            "max_length": max_length, "batch_tokens": batch_tokens, "dtype": str(rm.model.dtype),
            "truncated_texts": stats["truncated"]}


def main() -> None:
    uf, rb, out = sys.argv[1:4]
    max_pairs = int(sys.argv[4]) if len(sys.argv) > 4 else None
    report: dict = {"device": torch.cuda.get_device_name(0)}
    for length, tokens in ((512, 65536), (512, 262144), (1024, 262144)):
        report[f"scorer_{length}_{tokens}"] = scorer_throughput(rb, length, tokens)
        print(report[f"scorer_{length}_{tokens}"], flush=True)
    config = Config()
    for item in ("model.backbone=smollm2-135m", "model.mode=full", "model.max_length=512",
                 "train.batch_size=16", "train.lr=1e-5", "train.epochs=1",
                 f"data.train={uf}", "eval.batch_tokens=262144"):
        config.set(item)
    if max_pairs:
        config.set(f"train.max_pairs={max_pairs}")
    run_dir = Path("/tmp/gpu-run")
    start = time.perf_counter()
    result = train_method("vanilla", config, run_dir / "vanilla", show_progress=False)
    report["train"] = {"seconds": time.perf_counter() - start, "pairs": result.pairs,
                       "steps": result.steps, "pairs_per_s": result.pairs_per_second,
                       "truncated": result.truncated}
    print(report["train"], flush=True)
    heldout = str(run_dir / "vanilla" / "heldout.jsonl")
    for name in (result.model_dir, "smollm2-135m", "length"):
        metrics = evaluate_model(name, ["preference", "rewardbench"], config,
                                 run_dir / "eval" / Path(name).name,
                                 sources={"rewardbench": rb, "preference": heldout},
                                 show_progress=False)
        report[f"eval:{name}"] = {
            "heldout": metrics["preference"],
            "rewardbench": {"overall": metrics["rewardbench"]["overall"],
                            "sections": metrics["rewardbench"]["sections"]}}
        print(name, json.dumps(report[f"eval:{name}"]), flush=True)
    Path(out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
