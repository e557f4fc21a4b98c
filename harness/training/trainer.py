"""The reward-model trainer: one loop for every method, mode and device.

Built on ``accelerate`` rather than transformers' ``Trainer`` or TRL's ``RewardTrainer``: the
loop needs tie labels beside preferences, length-grouped batches that never drop a pair (TRL
filters pairs longer than max_length), chosen and rejected in one forward pass, and a batch plan
that a resumed or multi-process run replays exactly. Those are a few lines here and would be
overrides of several Trainer internals there. ``accelerate`` still provides devices, DDP (and
FSDP/DeepSpeed through ``accelerate launch --config_file``) and checkpoint state; bf16 is a
``torch.autocast`` set by ``train.precision`` (an accelerate config's mixed precision is not used).

Determinism: dropout is switched off (as TRL's ``disable_dropout``), the new head is seeded
without touching global RNG state, and the batch plan depends only on the seed, so a run killed
and resumed from its last checkpoint ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from harness.config import Config, ConfigError
from harness.data.schema import PreferencePair
from harness.io import jsonl_text, sha256_of, write_json
from harness.models.backbones import load_sequence_classifier, load_tokenizer
from harness.runstore import RunConflict
from harness.scoring.reward_model import FORMS, resolve_dtype
from harness.training.batches import batch_plan, encode_pairs, merges_batches
from harness.training.losses import pair_loss, pairwise_preference
from harness.training.modes import MODES, ModeContext

META_FILE = "crome_bench.json"
STATE_FILE = "trainer_state.json"
LOG_FILE = "train_log.jsonl"


@dataclass
class TrainResult:
    model_dir: str
    steps: int
    pairs: int
    ties: int
    truncated: int
    seconds: float
    pairs_per_second: float
    resumed_from: int = 0
    tokens: int = 0  # real (unpadded) tokens of the chosen and rejected inputs over all steps
    budget: str = "epochs"
    # distinct pairs the plan reached, original and augmented: a steps budget shorter than an
    # epoch over a method's pairs trains on a sample of them
    seen_original: int | None = None
    seen_augmented: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def data_hash(pairs: list[PreferencePair]) -> str:
    return sha256_of([p.to_record() for p in pairs])[:16]


def _disable_dropout(model: torch.nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


def train_reward_model(pairs: list[PreferencePair], config: Config, out_dir: str | Path, *,
                       method: str = "vanilla", meta: dict[str, Any] | None = None,
                       steps: int | None = None, show_progress: bool = True) -> TrainResult:
    """Train an RM on ``pairs`` (ties included) and save it to ``out_dir/model``.

    ``steps``: a fixed number of optimizer steps (``train.budget=steps``; the caller derives it
    from the original pairs) instead of ``train.epochs`` over ``pairs``.

    Resumes from ``out_dir/checkpoint`` when one exists for the same config and data; returns at
    once when ``out_dir/model`` already holds the finished model for them.
    """
    from accelerate import Accelerator
    from transformers import get_linear_schedule_with_warmup

    out = Path(out_dir)
    model_dir, ckpt_dir = out / "model", out / "checkpoint"
    cfg, tcfg = config.model, config.train
    # bf16 autocast is applied below rather than through Accelerator(mixed_precision=...):
    # accelerate fixes that once per process, and one process may train at both precisions.
    # "no" is explicit so that an `accelerate config` file cannot override train.precision.
    # step_scheduler_with_optimizer=False: otherwise accelerate steps the LR schedule once per
    # process per step (it assumes each process has its own dataloader), so a 2-process run
    # decayed the learning rate twice as fast; our plan already counts global steps.
    accelerator = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision="no",
                              step_scheduler_with_optimizer=False)
    identity = {"config": config.training_hash(), "data": data_hash(pairs), "method": method}
    if steps is not None:
        identity["steps"] = steps
    if merges_batches(len(pairs), tcfg.batch_size, tcfg.epochs, config.seed,
                      accelerator.num_processes, steps):
        identity["processes"] = accelerator.num_processes  # its plan is not one process's
    done = _finished(model_dir, identity)
    if done:
        return done

    if cfg.form not in FORMS:
        raise ConfigError(f"model.form: {cfg.form!r} is not one of {', '.join(FORMS)}")
    bf16 = resolve_dtype(tcfg.precision, accelerator.device) == torch.bfloat16
    tokenizer = load_tokenizer(cfg.backbone)
    encoded = encode_pairs(tokenizer, pairs, cfg.max_length, cfg.form)
    plan = batch_plan([e.length for e in encoded], tcfg.batch_size, tcfg.epochs, config.seed,
                      min_batch=accelerator.num_processes, steps=steps)

    model = load_sequence_classifier(cfg.backbone, seed=config.seed)
    _disable_dropout(model)
    sequences = [ids for e in encoded for ids in (e.chosen, e.rejected)]
    context = ModeContext(config, sequences, tokenizer.pad_token_id, accelerator.device)
    model = MODES.get(cfg.mode).prepare(model.to(accelerator.device), context)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(tcfg.warmup_ratio * len(plan)), len(plan))
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)

    start, earlier = _resume(accelerator, ckpt_dir, identity)
    rank, world = accelerator.process_index, accelerator.num_processes
    log = _StepLog(out / LOG_FILE, start) if accelerator.is_main_process else None
    from harness.scoring.forward import rewards

    pad_id = tokenizer.pad_token_id
    began, seen = time.perf_counter(), 0
    # tokens of the steps before a resume count too: the total is the run's, not the process's
    tokens = sum(len(encoded[i].chosen) + len(encoded[i].rejected)
                 for batch in plan[:start] for i in batch)
    progress = _progress(show_progress and accelerator.is_main_process, len(plan), start)
    model.train()
    for step in range(start, len(plan)):
        batch = [encoded[i] for i in plan[step]]
        shard = shard_of(batch, rank, world)
        ids = [e.chosen for e in shard] + [e.rejected for e in shard]
        with torch.autocast(accelerator.device.type, dtype=torch.bfloat16, enabled=bf16):
            scores = rewards(model, ids, pad_id, accelerator.device).float()
        k = len(shard)
        ties = torch.tensor([e.is_tie for e in shard], device=scores.device)
        if cfg.form == "pairpm":
            loss = pairwise_preference(scores[:k], scores[k:], ties, tie_weight=tcfg.tie_weight,
                                       normaliser=len(batch) / world)
        else:
            loss = pair_loss(scores[:k], scores[k:], ties, tie_weight=tcfg.tie_weight,
                             margin=tcfg.margin, center=tcfg.center_rewards,
                             normaliser=len(batch) / world)
        accelerator.backward(loss)
        # The norm of the (already all-reduced) gradient; an infinite bound clips nothing.
        grad_norm = accelerator.clip_grad_norm_(params, tcfg.max_grad_norm or float("inf"))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        # DDP averages the ranks' gradients, so the loss trained on is the mean of the ranks'
        # losses (each normalised by len(batch) / world): the loss of the whole batch, as one
        # process computes it. The pairs the ranks saw add up to the batch.
        totals = accelerator.reduce(
            torch.tensor([float(loss.detach()) / world, float(len(shard))], dtype=torch.float64,
                         device=accelerator.device), reduction="sum")
        batch_loss, batch_pairs = float(totals[0]), int(totals[1])
        seen += batch_pairs
        tokens += sum(len(e.chosen) + len(e.rejected) for e in batch)
        if log:
            # DeepSpeed's clipping may return None: the log says so rather than failing
            log.write(step, batch_loss, None if grad_norm is None else float(grad_norm),
                      batch_pairs)
        if progress:
            rate = seen / (time.perf_counter() - began)
            progress.update(loss=batch_loss, rate=rate)
        if (step + 1) % tcfg.save_every == 0 and step + 1 < len(plan):
            _checkpoint(accelerator, ckpt_dir, identity, step + 1,
                        earlier + time.perf_counter() - began)
    if progress:
        progress.close()
    if log:
        log.close()
    elapsed = time.perf_counter() - began  # this process's share; ``seconds`` is the run's
    seconds = earlier + elapsed

    accelerator.wait_for_everyone()
    used = {i for batch in plan for i in batch}
    augmented = sum(1 for i in used if pairs[i].extra.get("augmentation"))
    result = TrainResult(str(model_dir), len(plan), len(pairs), sum(e.is_tie for e in encoded),
                         sum(e.truncated for e in encoded), seconds,
                         seen / elapsed if elapsed else 0.0, start, tokens,
                         "steps" if steps is not None else "epochs",
                         seen_original=len(used) - augmented, seen_augmented=augmented)
    if accelerator.is_main_process:
        final = MODES.get(cfg.mode).finalize(accelerator.unwrap_model(model))
        _save_model(final, tokenizer, model_dir, config, identity, result, meta or {})
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    accelerator.wait_for_everyone()
    return result


def shard_of(batch: list, rank: int, world: int) -> list:
    """The part of a batch that process ``rank`` of ``world`` trains on: every world-th pair
    from ``rank`` on, so the shards partition the batch (the plan gives each process >= 1)."""
    return batch[rank::world]


class _StepLog:
    """``train_log.jsonl``: one row per optimizer step (loss of the whole batch, gradient norm
    after averaging across processes, pairs seen). A resumed run drops the rows from its
    checkpoint's step on, so the file always describes exactly one run."""

    def __init__(self, path: Path, start: int):
        rows = []
        if start and path.exists():  # a kill may have cut the last line: keep whole rows only
            rows = [row for row in _parsed_rows(path) if row["step"] < start]
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("w", encoding="utf-8")
        self.handle.write(jsonl_text(rows))

    def write(self, step: int, loss: float, grad_norm: float | None, pairs: int) -> None:
        self.handle.write(jsonl_text([{"step": step, "loss": loss, "grad_norm": grad_norm,
                                       "pairs": pairs}]))
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def _parsed_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def read_step_log(out_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a training folder's ``train_log.jsonl``, one per optimizer step."""
    return _parsed_rows(Path(out_dir) / LOG_FILE)


def _finished(model_dir: Path, identity: dict) -> TrainResult | None:
    meta_path = model_dir / META_FILE
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("identity") != identity:
        raise RunConflict(
            f"{model_dir} holds a model trained with other settings or data "
            f"({meta.get('identity')} vs {identity}); choose another --out")
    return TrainResult(**meta["result"])


def _resume(accelerator, ckpt_dir: Path, identity: dict) -> tuple[int, float]:
    """(the step to start at, the training seconds the run spent before it)."""
    state_path = ckpt_dir / STATE_FILE
    if not state_path.exists():
        return 0, 0.0
    state = json.loads(state_path.read_text())
    if state["identity"] != identity:
        raise RunConflict(f"{ckpt_dir} is a checkpoint of another run ({state['identity']})")
    accelerator.load_state(str(ckpt_dir))
    accelerator.print(f"resuming from step {state['step']} ({ckpt_dir})")
    return int(state["step"]), float(state.get("seconds", 0.0))


def _checkpoint(accelerator, ckpt_dir: Path, identity: dict, step: int, seconds: float) -> None:
    """Save state to a fresh folder, then swap it in: a kill never leaves a torn checkpoint.
    ``seconds``: training time so far, so a resumed run reports the whole run's time."""
    tmp = ckpt_dir.with_name(ckpt_dir.name + ".tmp")
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp), safe_serialization=True)
    if accelerator.is_main_process:
        write_json(tmp / STATE_FILE, {"identity": identity, "step": step, "seconds": seconds})
        old = ckpt_dir.with_name(ckpt_dir.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if ckpt_dir.exists():
            ckpt_dir.rename(old)
        tmp.rename(ckpt_dir)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def _save_model(model, tokenizer, model_dir: Path, config: Config, identity: dict,
                result: TrainResult, meta: dict) -> None:
    tmp = model_dir.with_name(model_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    write_json(tmp / META_FILE, {
        "identity": identity, "config": config.to_dict(), "max_length": config.model.max_length,
        "backbone": config.model.backbone, "mode": config.model.mode, "form": config.model.form,
        "result": asdict(result), **meta})
    shutil.rmtree(model_dir, ignore_errors=True)
    tmp.rename(model_dir)


class _Progress:
    """A rich progress bar with loss and pairs/s, or nothing when progress is off."""

    def __init__(self, total: int, start: int):
        from rich.progress import TextColumn

        from harness.progress import progress_bar

        self.bar = progress_bar("train", TextColumn("loss {task.fields[loss]:.4f}"),
                                TextColumn("{task.fields[rate]:.1f} pairs/s"), transient=False)
        self.bar.start()
        self.task = self.bar.add_task("train", total=total, completed=start, loss=0.0, rate=0.0)
        self.ema: float | None = None

    def update(self, loss: float, rate: float) -> None:
        self.ema = loss if self.ema is None else 0.9 * self.ema + 0.1 * loss
        self.bar.update(self.task, advance=1, loss=self.ema, rate=rate)

    def close(self) -> None:
        self.bar.stop()


def _progress(enabled: bool, total: int, start: int) -> _Progress | None:
    return _Progress(total, start) if enabled else None
