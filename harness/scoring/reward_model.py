"""Reward models behind one interface, and the registry that names them.

``load_reward_model(name)`` resolves, in order: a registered reference scorer (``length``), a
registered backbone (the untrained backbone with a seeded new head: the "what does training add"
reference), a local directory (an HF sequence classifier; our checkpoints add a
``crome_bench.json`` with their max length and provenance), or a Hub id.

A fingerprint identifies what produced a score: the weights' bytes, the tokenizer's chat
template, the max length and the encoding version. It keys the score cache, so a changed model
or template can never reuse stale scores.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from harness.registry import Registry
from harness.scoring.encoding import TEMPLATE_VERSION, encode
from harness.scoring.forward import rewards


class RewardModel(ABC):
    name: str
    fingerprint: str
    kind: str = "classifier"  # "classifier" | "reference"

    @abstractmethod
    def score_with_info(self, prompts: list[Any], responses: list[str]
                        ) -> tuple[list[float], list[bool]]:
        """(rewards, truncated flags), in input order."""

    def score(self, prompts: list[Any], responses: list[str]) -> list[float]:
        return self.score_with_info(prompts, responses)[0]


REWARD_MODELS: Registry[Callable[..., RewardModel]] = Registry(
    "reward model", group="crome_bench.reward_models")


class LengthRewardModel(RewardModel):
    """Reference: the reward is the response's length in characters; the longer one wins.

    The classic spurious cue. Characters rather than tokens so it needs no tokenizer and is the
    same for every backbone.
    """

    kind = "reference"

    def __init__(self, **_: Any):
        self.name = "length"
        self.fingerprint = "length-chars-v1"

    def score_with_info(self, prompts, responses):
        return [float(len(r)) for r in responses], [False] * len(responses)


REWARD_MODELS.add("length", LengthRewardModel)


def _weights_digest(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu").contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class HFRewardModel(RewardModel):
    """Any transformers sequence classifier with one output (a reward)."""

    def __init__(self, model, tokenizer, name: str, max_length: int,
                 device: torch.device | None = None, dtype: torch.dtype | None = None,
                 batch_tokens: int = 16384):
        self.device = device or default_device()
        self.model = model.to(self.device, dtype=dtype).eval() if dtype else \
            model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.name = name
        self.max_length = max_length
        self.batch_tokens = batch_tokens
        template = getattr(tokenizer, "chat_template", None) or "plain-pair"
        parts = [_weights_digest(model), template, str(max_length), str(TEMPLATE_VERSION)]
        self.fingerprint = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]

    def encode(self, prompts, responses) -> tuple[list[list[int]], list[bool]]:
        out = [encode(self.tokenizer, p, r, self.max_length) for p, r in zip(prompts, responses,
                                                                            strict=True)]
        return [ids for ids, _ in out], [cut for _, cut in out]

    @torch.inference_mode()
    def score_ids(self, sequences: list[list[int]]) -> list[float]:
        """Length-sorted batches under a token budget; results in input order."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]), reverse=True)
        scores = [0.0] * len(sequences)
        start = 0
        while start < len(order):
            width = len(sequences[order[start]])  # longest first: the batch's padded width
            size = max(1, self.batch_tokens // max(width, 1))
            chunk = order[start:start + size]
            values = rewards(self.model, [sequences[i] for i in chunk],
                             self.tokenizer.pad_token_id, self.device).float().cpu().tolist()
            for i, v in zip(chunk, values, strict=True):
                scores[i] = v
            start += size
        return scores

    def score_with_info(self, prompts, responses):
        sequences, cut = self.encode(prompts, responses)
        return self.score_ids(sequences), cut


def _read_meta(path: Path) -> dict[str, Any]:
    meta = path / "crome_bench.json"
    return json.loads(meta.read_text()) if meta.exists() else {}


def load_reward_model(name: str, *, max_length: int | None = None,
                      device: torch.device | None = None, dtype: torch.dtype | None = None,
                      seed: int = 0, batch_tokens: int = 16384) -> RewardModel:
    from harness.models.backbones import (
        BACKBONES,
        load_sequence_classifier,
        load_tokenizer,
    )

    if name in REWARD_MODELS:
        return REWARD_MODELS.get(name)(max_length=max_length)
    if dtype is None and (device or default_device()).type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if name in BACKBONES:
        model = load_sequence_classifier(name, seed=seed)
        return HFRewardModel(model, load_tokenizer(name), f"untrained:{name}",
                             max_length or 256, device, dtype, batch_tokens)
    path = Path(name)
    meta = _read_meta(path) if path.is_dir() else {}
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    model = AutoModelForSequenceClassification.from_pretrained(name)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    label = meta.get("method") or path.name if path.is_dir() else name
    return HFRewardModel(model, tokenizer, str(label),
                         max_length or meta.get("max_length") or 512, device, dtype, batch_tokens)
