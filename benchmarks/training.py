"""Our trainer vs TRL's RewardTrainer: same backbone, data, length, batch and learning rate.

Both fine-tune ``minilm-l6`` in full at max length 512, batch 8, one epoch, on the same
UltraFeedback pairs from the shared datasets. Prints pairs/s of each, their ratio, and how many
pairs each kept (TRL drops pairs longer than max_length; ours truncates and keeps them all).
Usage: python -m benchmarks.training [N_PAIRS]   (default 240; TRL needs `pip install trl`)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import shared
from harness.config import Config
from harness.data.loaders import load_pairs
from harness.models.backbones import load_sequence_classifier, load_tokenizer, model_source
from harness.training.batches import encode_pairs
from harness.training.trainer import train_reward_model

MAX_LENGTH, BATCH, LR = 512, 8, 2e-5


def ours(pairs, out: Path) -> tuple[float, int]:
    config = Config()
    for item in ("model.backbone=minilm-l6", "model.mode=full", f"model.max_length={MAX_LENGTH}",
                 f"train.batch_size={BATCH}", f"train.lr={LR}", "train.epochs=1",
                 "train.save_every=100000"):
        config.set(item)
    start = time.perf_counter()
    result = train_reward_model(pairs, config, out, show_progress=False)
    return time.perf_counter() - start, result.pairs


def trl(pairs, out: Path) -> tuple[float, int]:
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    tokenizer = load_tokenizer("minilm-l6")
    if tokenizer.eos_token is None:  # TRL appends EOS to each text; BERT's end marker is [SEP]
        tokenizer.eos_token = tokenizer.sep_token
    model = load_sequence_classifier("minilm-l6", seed=0)
    data = Dataset.from_list([{"prompt": p.prompt_text, "chosen": p.chosen,
                               "rejected": p.rejected} for p in pairs])
    args = RewardConfig(output_dir=str(out), per_device_train_batch_size=BATCH,
                        learning_rate=LR, num_train_epochs=1, max_length=MAX_LENGTH,
                        report_to=[], save_strategy="no", logging_steps=1000, use_cpu=True,
                        dataloader_num_workers=0, seed=0)
    start = time.perf_counter()
    trainer = RewardTrainer(model=model, args=args, train_dataset=data,
                            processing_class=tokenizer)
    kept = len(trainer.train_dataset)
    trainer.train()
    return time.perf_counter() - start, kept


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 240
    pairs = load_pairs(shared("ultrafeedback/sethtye-ultrafeedback_2k/ultrafeedback_2k.jsonl"),
                       limit=n)
    model_source("minilm-l6")
    # TRL drops pairs longer than max_length; ours truncates them. For an equal-work ratio, ours
    # also trains on just the pairs that fit (by our encoder, which agrees with TRL's filter up to
    # a token or two of template).
    fitting = [p for p, e in zip(pairs, encode_pairs(load_tokenizer("minilm-l6"), pairs,
                                                     MAX_LENGTH), strict=True) if not e.truncated]
    with tempfile.TemporaryDirectory() as tmp:
        our_s, our_kept = ours(pairs, Path(tmp) / "ours")
        fit_s, fit_kept = ours(fitting, Path(tmp) / "ours-fitting")
        trl_s, trl_kept = trl(pairs, Path(tmp) / "trl")
    print(f"pairs given: {len(pairs)} (minilm-l6, full fine-tune, max length {MAX_LENGTH}, "
          f"batch {BATCH}, 1 epoch, {torch.get_num_threads()} torch thread(s))")
    print(f"ours, all pairs      : {our_kept} kept, {our_s:.1f} s, {our_kept / our_s:.2f} pairs/s "
          "(includes model load and tokenisation)")
    print(f"ours, pairs that fit : {fit_kept} kept, {fit_s:.1f} s, {fit_kept / fit_s:.2f} pairs/s")
    print(f"TRL                  : {trl_kept} kept, {trl_s:.1f} s, {trl_kept / trl_s:.2f} pairs/s")
    print(f"ratio (ours / TRL, pairs/s), all pairs vs TRL's kept: "
          f"{(our_kept / our_s) / (trl_kept / trl_s):.2f}x; same work (pairs that fit): "
          f"{(fit_kept / fit_s) / (trl_kept / trl_s):.2f}x")


if __name__ == "__main__":
    main()
