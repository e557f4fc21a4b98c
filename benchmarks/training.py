"""Our trainer vs TRL's RewardTrainer: same backbone, data, length, batch and learning rate.

Both fine-tune ``minilm-l6`` in full at max length 512, batch 8, one epoch, on the same
UltraFeedback pairs from the shared datasets. Prints pairs/s of each, their ratio, and how many
pairs each kept (TRL drops pairs longer than max_length; ours truncates and keeps them all).

Each precision (``--precision fp32,bf16``; bf16 is autocast with float32 weights in both
trainers) runs four jobs, each in a fresh process (accelerate fixes mixed precision once per
process, and a fresh process keeps one job's allocations out of the next): ours on every pair,
ours on only the pairs that fit (the same work TRL does), TRL as it comes (``trl``: its
defaults, which turn gradient checkpointing on) and TRL without gradient checkpointing
(``trl-no-gc``, the faster of the two here, so the ratio to read). Ratios are printed at equal
precision, and against TRL at the first precision. TRL's own default precision is bf16
(``RewardConfig.bf16=True``); ours is exact float32 on a CPU.

Usage: python -m benchmarks.training [N_PAIRS] [--precision fp32,bf16]
(default 240 pairs; TRL needs `pip install trl`)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import REPO, shared

MAX_LENGTH, BATCH, LR = 512, 8, 2e-5
UF = "ultrafeedback/sethtye-ultrafeedback_2k/ultrafeedback_2k.jsonl"
JOBS = ("ours", "ours-fitting", "trl", "trl-no-gc")
TRL_JOBS = ("trl", "trl-no-gc")


def ours(pairs, out: Path, precision: str) -> int:
    from harness.config import Config
    from harness.training.trainer import train_reward_model

    config = Config()
    for item in ("model.backbone=minilm-l6", "model.mode=full", f"model.max_length={MAX_LENGTH}",
                 f"train.batch_size={BATCH}", f"train.lr={LR}", "train.epochs=1",
                 "train.save_every=100000", f"train.precision={precision}"):
        config.set(item)
    return train_reward_model(pairs, config, out, show_progress=False).pairs


def trl(pairs, out: Path, precision: str, checkpointing: bool = True) -> int:
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    from harness.models.backbones import load_sequence_classifier, load_tokenizer

    tokenizer = load_tokenizer("minilm-l6")
    if tokenizer.eos_token is None:  # TRL appends EOS to each text; BERT's end marker is [SEP]
        tokenizer.eos_token = tokenizer.sep_token
    model = load_sequence_classifier("minilm-l6", seed=0)
    data = Dataset.from_list([{"prompt": p.prompt_text, "chosen": p.chosen,
                               "rejected": p.rejected} for p in pairs])
    args = RewardConfig(output_dir=str(out), per_device_train_batch_size=BATCH,
                        learning_rate=LR, num_train_epochs=1, max_length=MAX_LENGTH,
                        report_to=[], save_strategy="no", logging_steps=1000, use_cpu=True,
                        dataloader_num_workers=0, seed=0, bf16=precision == "bf16",
                        gradient_checkpointing=checkpointing)
    trainer = RewardTrainer(model=model, args=args, train_dataset=data,
                            processing_class=tokenizer)
    trainer.train()
    return len(trainer.train_dataset)


def run_job(job: str, n: int, precision: str) -> dict:
    """One timed job in this process; the time includes model load and tokenisation."""
    from harness.data.loaders import load_pairs
    from harness.models.backbones import load_tokenizer
    from harness.training.batches import encode_pairs

    pairs = load_pairs(shared(UF), limit=n)
    if job == "ours-fitting":  # TRL's filter, by our encoder (agrees up to a token of template)
        encoded = encode_pairs(load_tokenizer("minilm-l6"), pairs, MAX_LENGTH)
        pairs = [p for p, e in zip(pairs, encoded, strict=True) if not e.truncated]
    if job in TRL_JOBS:  # imported outside the timing, as ours is
        import trl as _trl  # noqa: F401  (a plain "import trl" would shadow trl() here)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if job in TRL_JOBS:
            kept = trl(pairs, Path(tmp), precision, checkpointing=job == "trl")
        else:
            kept = ours(pairs, Path(tmp), precision)
        seconds = time.perf_counter() - start
    return {"job": job, "precision": precision, "given": n, "kept": kept, "seconds": seconds,
            "pairs_per_s": kept / seconds}


def spawn(job: str, n: int, precision: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.training", str(n), "--job", job,
                           "--precision", precision], cwd=REPO, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{job} ({precision}) failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(results: dict[tuple[str, str], dict], precisions: list[str], threads: int) -> None:
    given = next(iter(results.values()))["given"]
    print(f"pairs given: {given} (minilm-l6, full fine-tune, max length {MAX_LENGTH}, batch "
          f"{BATCH}, 1 epoch, {threads} torch thread(s); times include model load)")
    for precision in precisions:
        for job in JOBS:
            r = results[(job, precision)]
            print(f"  {precision:5} {job:13}: {r['kept']:4} kept, {r['seconds']:7.1f} s, "
                  f"{r['pairs_per_s']:.2f} pairs/s")
    for trl_job in TRL_JOBS:
        base = results[(trl_job, precisions[0])]["pairs_per_s"]
        for precision in precisions:
            trl_rate = results[(trl_job, precision)]["pairs_per_s"]
            every = results[("ours", precision)]["pairs_per_s"]
            same = results[("ours-fitting", precision)]["pairs_per_s"]
            line = (f"  ratio vs {trl_job} at {precision}: every pair {every / trl_rate:.2f}x, "
                    f"same work {same / trl_rate:.2f}x")
            if precision != precisions[0]:
                line += (f"; vs {trl_job} {precisions[0]}: every pair {every / base:.2f}x, same "
                         f"work {same / base:.2f}x")
            print(line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="?", type=int, default=240)
    parser.add_argument("--precision", default="fp32,bf16",
                        help="comma-separated; the first is the reference for the others")
    parser.add_argument("--job", choices=JOBS, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shared(UF)  # skip cleanly before spawning anything
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    if args.job:
        print(json.dumps(run_job(args.job, args.pairs, args.precision)))
        return
    import torch

    precisions = args.precision.split(",")
    results = {(job, p): spawn(job, args.pairs, p) for p in precisions for job in JOBS}
    report(results, precisions, torch.get_num_threads())


if __name__ == "__main__":
    main()
