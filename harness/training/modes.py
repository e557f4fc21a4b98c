"""Training modes: which parameters a method trains. Same data, loss and loop for each.

- ``full``: every weight is trained.
- ``lora``: low-rank adapters (peft) on every linear layer, the score head trained in full and
  saved with them; merged into the weights at the end so the result loads like any HF model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from harness.config import Config
from harness.registry import Registry


@dataclass(frozen=True)
class Mode:
    name: str
    description: str
    prepare: Callable[[torch.nn.Module, Config], torch.nn.Module]
    finalize: Callable[[torch.nn.Module], torch.nn.Module]


MODES: Registry[Mode] = Registry("training mode", group="crome_bench.modes")


def head_names(model: torch.nn.Module) -> list[str]:
    """The newly initialised head's module names (Llama ``score``, BERT ``classifier``)."""
    return [n for n in ("score", "classifier") if hasattr(model, n)]


def _lora(model: torch.nn.Module, config: Config) -> torch.nn.Module:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(task_type="SEQ_CLS", r=config.model.lora_r,
                      lora_alpha=config.model.lora_alpha, lora_dropout=0.0,
                      target_modules="all-linear", modules_to_save=head_names(model))
    return get_peft_model(model, lora)


def _merge(model: torch.nn.Module) -> torch.nn.Module:
    return model.merge_and_unload()


MODES.add("full", Mode("full", "train every weight", lambda m, c: m, lambda m: m))
MODES.add("lora", Mode("lora", "LoRA adapters on all linear layers + trained head", _lora, _merge))
