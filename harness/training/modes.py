"""Training modes: which parameters a method trains. Same data, loss and loop for each.

- ``full``: every weight is trained.
- ``lora``: low-rank adapters (peft) on every linear layer, the score head trained in full and
  saved with them; merged into the weights at the end so the result loads like any HF model.
- ``frozen``: the top ``model.frozen_top_layers`` layers and the head are trained on cached
  outputs of the frozen layers below (see ``harness.training.frozen``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.config import Config
from harness.registry import Registry

if TYPE_CHECKING:  # the modes are named (checks, --plan) without loading torch
    import torch


@dataclass
class ModeContext:
    """What a mode may need beyond the model: the training sequences (for caches)."""

    config: Config
    sequences: list[list[int]]
    pad_id: int
    device: torch.device


@dataclass(frozen=True)
class Mode:
    name: str
    description: str
    prepare: Callable[[torch.nn.Module, ModeContext], torch.nn.Module]
    finalize: Callable[[torch.nn.Module], torch.nn.Module]


MODES: Registry[Mode] = Registry("training mode", group="crome_bench.modes")


def head_names(model: torch.nn.Module) -> list[str]:
    """The newly initialised head's module names (Llama ``score``, BERT ``classifier``)."""
    return [n for n in ("score", "classifier") if hasattr(model, n)]


def _lora(model: torch.nn.Module, ctx: ModeContext) -> torch.nn.Module:
    from peft import LoraConfig, get_peft_model

    cfg = ctx.config.model
    lora = LoraConfig(task_type="SEQ_CLS", r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                      lora_dropout=0.0, target_modules="all-linear",
                      modules_to_save=head_names(model))
    return get_peft_model(model, lora)


def _merge(model: torch.nn.Module) -> torch.nn.Module:
    return model.merge_and_unload()


def _frozen(model: torch.nn.Module, ctx: ModeContext) -> torch.nn.Module:
    from harness.training.frozen import FrozenPrefix

    prefix = FrozenPrefix(model, ctx.config.model.frozen_top_layers)
    prefix.freeze()
    prefix.build_cache(ctx.sequences, ctx.pad_id, ctx.device)
    prefix.attach()
    model._crome_frozen_prefix = prefix  # finalize puts the layers back
    return model


def _unfreeze(model: torch.nn.Module) -> torch.nn.Module:
    prefix = getattr(model, "_crome_frozen_prefix", None)
    if prefix is not None:
        prefix.detach()
        del model._crome_frozen_prefix
    return model


MODES.add("full", Mode("full", "train every weight", lambda m, ctx: m, lambda m: m))
MODES.add("lora", Mode("lora", "LoRA adapters on all linear layers + trained head", _lora, _merge))
MODES.add("frozen", Mode("frozen", "top-k layers + head on cached frozen-layer outputs",
                         _frozen, _unfreeze))
