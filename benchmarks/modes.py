"""Which backbone and training mode to default to: train, time and evaluate each combination.

For every (backbone, mode, form) given, trains the vanilla RM on the sethtye UltraFeedback sample
with the project's defaults (seeded 300-pair held-out split, max length 256, batch 8, lr 2e-5,
one epoch), then evaluates it, the untrained backbone and the ``length`` reference through the
shared scorer: held-out accuracy and RewardBench accuracy (a stratified sample), each with its
bootstrap 95% CI. Prints a markdown table (one row as each run finishes) and writes JSON.

Usage: python -m benchmarks.modes OUT_DIR [COMBO ...] [--rb-limit N] [--max-pairs N]
  COMBO = backbone:mode[:form], e.g. minilm-l6:full minilm-l6:lora smollm2-135m:frozen:pairpm
Reruns reuse finished training (the trainer resumes) and cached scores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.common import RB_FILE, shared
from harness.config import Config
from harness.evaluate import evaluate_model
from harness.training.pipeline import train_method

UF = "ultrafeedback/sethtye-ultrafeedback_2k/ultrafeedback_2k.jsonl"
DEFAULT_COMBOS = ("minilm-l6:full", "minilm-l6:lora", "minilm-l6:frozen")


def pct(metric: dict) -> str:
    low, high = metric["ci"]
    return f"{100 * metric['accuracy']:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def row(name: str, seconds: float | None, pairs: int | None, metrics: dict) -> str:
    took = f"{seconds:.0f} s ({pairs} pairs)" if seconds is not None else "–"
    return (f"| {name} | {took} | {pct(metrics['preference'])} | "
            f"{pct(metrics['rewardbench']['overall'])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("combos", nargs="*", default=list(DEFAULT_COMBOS))
    parser.add_argument("--rb-limit", type=int, default=400)
    parser.add_argument("--max-pairs", type=int, default=None,
                        help="cap on training pairs (after the held-out split)")
    args = parser.parse_args()
    uf, rb = str(shared(UF)), str(shared(RB_FILE))
    out = Path(args.out)
    results = []
    print("| RM (backbone, mode, form) | train time | held-out acc [95% CI] | "
          f"RewardBench avg, {args.rb_limit} pairs [95% CI] |")
    print("|---|---|---|---|")
    references_done: set[str] = set()
    for combo in args.combos:
        backbone, mode, form = (combo.split(":") + ["bt"])[:3]
        config = Config()
        for item in (f"model.backbone={backbone}", f"model.mode={mode}", f"model.form={form}",
                     f"data.train={uf}"):
            config.set(item)
        if args.max_pairs:
            config.set_value("train.max_pairs", args.max_pairs)
        folder = out / combo.replace(":", "-")
        began = time.perf_counter()
        result = train_method("vanilla", config, folder, show_progress=False)
        wall = time.perf_counter() - began
        heldout = str(folder / "heldout.jsonl")
        metrics = evaluate_model(result.model_dir, ["preference", "rewardbench"], config,
                                 folder / "eval",
                                 sources={"rewardbench": rb, "preference": heldout},
                                 limit=args.rb_limit,
                                 show_progress=False)
        print(row(f"vanilla ({backbone}, {mode}, {form})", result.seconds, result.pairs,
                  metrics), flush=True)
        results.append({"combo": combo, "train_seconds": result.seconds, "wall_seconds": wall,
                        "pairs": result.pairs, "truncated": result.truncated,
                        "pairs_per_second": result.pairs_per_second,
                        "heldout": metrics["preference"], "rewardbench": metrics["rewardbench"]})
        for ref in ("length", backbone):
            if ref in references_done:
                continue
            references_done.add(ref)
            ref_config = Config.from_dict(config.to_dict())
            ref_metrics = evaluate_model(ref, ["preference", "rewardbench"], ref_config,
                                         out / f"ref-{ref}",
                                         sources={"rewardbench": rb, "preference": heldout},
                                         limit=args.rb_limit, show_progress=False)
            label = "length (reference)" if ref == "length" else f"untrained {ref}"
            print(row(label, None, None, ref_metrics), flush=True)
            results.append({"combo": f"reference:{ref}", "heldout": ref_metrics["preference"],
                            "rewardbench": ref_metrics["rewardbench"]})
    out.mkdir(parents=True, exist_ok=True)
    (out / "modes.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
