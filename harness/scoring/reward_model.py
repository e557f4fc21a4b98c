"""Reward models behind one interface, and the registry that names them.

``load_reward_model(name)`` resolves, in order: a registered reference scorer (``length``), a
registered backbone (the untrained backbone with a seeded new head: the "what does training add"
reference), a local directory (an HF sequence classifier; our checkpoints add a
``crome_bench.json`` with their max length and provenance), or a Hub id.

A fingerprint identifies what produced a score: the weights' bytes (as loaded, so the dtype
counts), the tokenizer (vocabulary and chat template), the max length and the encoding version.
It keys the score cache, so a changed model, tokenizer or template never reuses stale scores.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
import warnings
from abc import abstractmethod
from pathlib import Path
from typing import Any

import torch

from harness.config import Config, ConfigError, Form, Precision
from harness.distributed import default_device
from harness.gemini import GeminiSettings
from harness.models.backbones import LoadOptions
from harness.registry import RegistryError, did_you_mean
from harness.scoring.base import REWARD_KINDS, REWARD_MODELS, RewardModel
from harness.scoring.encoding import TEMPLATE_VERSION, encode_many
from harness.scoring.forward import cast_keeping_head, restore_head, rewards
from harness.scoring.names import GEMINI_PREFIX, kind_of

FORMS = typing.get_args(Form)
PRECISIONS = typing.get_args(Precision)
# Token budget per scoring batch (padded width x rows) when none is given, by device. Measured
# with ``benchmarks/scoring.py`` (minilm-l6, 200 RewardBench pairs, 2 CPU cores): 15.9 pairs/s at
# 2,048 or 4,096 tokens, 12.7 at 16,384, as large CPU batches fall out of cache; a GPU wants
# large batches to fill its cores.
BATCH_TOKENS = {"cpu": 4096, "cuda": 16384}
FULL_HASH_BYTES = 2 << 30  # above this, tensors are fingerprinted by statistics and a sample


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of every parameter and buffer (name, shape, dtype, bytes).

    Models over ``FULL_HASH_BYTES`` hash each large tensor's float64 sum, sum of squares and a
    strided sample instead of all bytes, computed where the tensor lives (no 14 GB copy).
    """
    state = model.state_dict()
    total = sum(t.numel() * t.element_size() for t in state.values())
    digest = hashlib.sha256()
    for name, tensor in sorted(state.items()):
        tensor = tensor.detach()
        digest.update(f"{name}|{tuple(tensor.shape)}|{tensor.dtype}".encode())
        if total > FULL_HASH_BYTES and tensor.numel() > 1 << 20:
            flat = tensor.reshape(-1)
            stats = torch.stack([flat.double().sum(), flat.double().square().sum()])
            tensor = torch.cat([stats.float(), flat[:: max(1, flat.numel() // 65536)].float()])
        data = tensor.to("cpu").contiguous()
        digest.update(data.view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return digest.hexdigest()


def tokenizer_digest(tokenizer) -> str:
    vocab = sorted(tokenizer.get_vocab().items())
    parts = [json.dumps(vocab), str(getattr(tokenizer, "chat_template", None) or "plain-pair"),
             str(tokenizer.bos_token_id), str(tokenizer.eos_token_id)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def check_processes(name: str, load: LoadOptions | None) -> None:
    """What cannot run in several processes (``accelerate launch``/``torchrun``) is refused
    before it loads: a Gemini judge (its call budget, rate limit and counts of answers without
    a verdict are per process, so a split run would under-report them and exceed the limits)
    and a device map (each process would spread its own copy over every GPU)."""
    from harness.distributed import world_size

    if world_size() == 1:
        return
    if name.startswith(GEMINI_PREFIX):
        raise ConfigError(f"{name}: a Gemini judge runs in one process (its call budget, rate "
                          "limit and parse-failure counts are per process); run it without "
                          "accelerate launch/torchrun (eval.gemini_concurrency sets the calls "
                          "in flight)")
    if load is not None and load.device_map:
        raise ConfigError(f"eval.device_map={load.device_map!r} spreads one model over every "
                          "GPU: run it in one process, or drop the device map to give each "
                          "process its own GPU")


def checkpoint_files(name: str) -> list[str]:
    """The safetensors files of a model folder or of a Hub id already in the local cache."""
    path = Path(name)
    if not path.is_dir():
        try:
            from huggingface_hub import snapshot_download

            path = Path(snapshot_download(name, local_files_only=True,
                                          allow_patterns=["model*.safetensors*"]))
        except Exception:  # noqa: BLE001 - not cached as a snapshot: nothing to read
            return []
    index = path / "model.safetensors.index.json"
    if index.exists():  # a sharded checkpoint: the files its index names
        return sorted({str(path / f) for f in json.loads(index.read_text())["weight_map"].values()})
    single = path / "model.safetensors"  # the file transformers loads (not an EMA or adapter)
    return [str(single)] if single.exists() else []


def placed(model: torch.nn.Module) -> bool:
    """Whether transformers placed the model by a device map (``LoadOptions.device_map``); it
    then stays where it was put (over several devices, accelerate's hooks move activations)."""
    return bool(getattr(model, "hf_device_map", None) or getattr(model, "crome_placed", False))


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The weights' dtype for ``precision``: ``auto`` is bf16 on a GPU that supports it, float32
    elsewhere; ``bf16`` casts the weights on any device.

    On a CPU with native bf16 (avx512_bf16 or AMX) bf16 scores about 2.4x faster than float32
    (``benchmarks/scoring.py``), but it is opt-in there: scores move by ~1e-3, near-ties can
    swap, and they depend slightly on the batch, which float32 scores do not (tested). The
    dtype is part of the fingerprint, so bf16 and float32 scores never share a cache entry.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r} (known: {', '.join(PRECISIONS)})")
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"
                               and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float32


def position_limit(model, tokenizer) -> int | None:
    """The longest input the model can take (absolute position tables), if it has a limit."""
    limits = [getattr(model.config, "max_position_embeddings", None),
              getattr(tokenizer, "model_max_length", None)]
    limits = [int(x) for x in limits if isinstance(x, int) and 0 < x < 1_000_000]
    return min(limits) if limits else None


def budget_batches(lengths: list[int], batch_tokens: int) -> list[list[int]]:
    """Index batches, longest first, each within the token budget (padded width x rows)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    out, start = [], 0
    while start < len(order):
        size = max(1, batch_tokens // max(lengths[order[start]], 1))
        out.append(order[start:start + size])
        start += size
    return out


class TokenRewardModel(RewardModel):
    """A reward model that scores token ids: subclasses say how texts become ids (``encode``)
    and how one batch is scored (``score_batch``); batching under ``batch_tokens`` and putting
    results back in input order live here, once (classifiers, DPO, local judges)."""

    batch_tokens: int

    @abstractmethod
    def encode(self, prompts: list[Any], responses: list[str]) -> tuple[list, list[bool]]:
        """(token ids per input, truncated flags)."""

    @abstractmethod
    def score_batch(self, sequences: list) -> list[float]:
        """Rewards of one batch of token ids."""

    def batches(self, lengths: list[int]) -> list[list[int]]:
        return budget_batches(lengths, self.batch_tokens)

    def score_ids(self, sequences: list) -> list[float]:
        """Length-sorted batches under the token budget; results in input order."""
        scores = [0.0] * len(sequences)
        for batch in self.batches([len(s) for s in sequences]):
            for i, value in zip(batch, self.score_batch([sequences[i] for i in batch]),
                                strict=True):
                scores[i] = value
        return scores

    def score_with_info(self, prompts, responses):
        sequences, cut = self.encode(prompts, responses)
        return self.score_ids(sequences), cut


class HFRewardModel(TokenRewardModel):
    """Any transformers sequence classifier with one output (a reward) or two (a classifier)."""

    def __init__(self, model, tokenizer, name: str, max_length: int,
                 device: torch.device | None = None, dtype: torch.dtype | None = None,
                 batch_tokens: int | None = None, form: str = "bt"):
        if form not in FORMS:
            raise RegistryError(f"unknown reward-model form {form!r} (known: {', '.join(FORMS)})")
        self.form = form
        self.device = torch.device(device) if device else default_device()
        if placed(model):  # by a device map: it stays there, and inputs go to its embedding
            self.device = model.get_input_embeddings().weight.device
        model = cast_keeping_head(model, self.device, dtype)
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        limit = position_limit(model, tokenizer)
        if limit is not None and max_length > limit:
            warnings.warn(f"{name}: max_length {max_length} exceeds the model's {limit} "
                          f"positions; using {limit}", stacklevel=2)
            max_length = limit
        self.max_length = max_length
        self.batch_tokens = batch_tokens or BATCH_TOKENS.get(self.device.type, 16384)
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        """Computed on first use (hashing the weights takes ~0.5 s for 135M parameters)."""
        if self._fingerprint is None:
            parts = [weights_digest(self.model), tokenizer_digest(self.tokenizer),
                     str(self.max_length), str(TEMPLATE_VERSION)]
            self._fingerprint = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
        return self._fingerprint

    @property
    def pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else 0

    def encode(self, prompts, responses) -> tuple[list[list[int]], list[bool]]:
        out = encode_many(self.tokenizer, list(prompts), list(responses), self.max_length)
        return [ids for ids, _ in out], [cut for _, cut in out]

    @torch.inference_mode()
    def score_batch(self, sequences: list[list[int]]) -> list[float]:
        return rewards(self.model, sequences, self.pad_id, self.device).float().cpu().tolist()


def _unknown(name: str, err: Exception) -> RegistryError:
    from harness.models.backbones import BACKBONES

    known = sorted({*REWARD_MODELS.names(), *BACKBONES.names()})
    hint = did_you_mean(name, known)
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return RegistryError(f"cannot load reward model {name!r}{hint} (not one of "
                         f"{', '.join(known)}, not a model directory, and loading it as a Hub "
                         f"id failed: {first})")


def _read_meta(path: Path) -> dict[str, Any]:
    meta = path / "crome_bench.json"
    return json.loads(meta.read_text()) if meta.exists() else {}


def model_folder(name: str) -> str:
    """The folder to load for a local path: a Hugging Face model folder as it is; a ``harness
    train --out`` folder or a run's ``train/<method>`` as its ``model/``. A folder holding
    neither is an error that says what was expected."""
    path = Path(name)
    if not path.is_dir() or (path / "config.json").exists():
        return name
    if (path / "model" / "config.json").exists():
        return str(path / "model")
    unfinished = (path / "checkpoint").exists() or (path / "train_pairs.jsonl").exists()
    raise RegistryError(
        f"{name}: no model in this folder; expected a Hugging Face model folder (config.json) "
        "or a `harness train --out` / run `train/<method>` folder with a finished model/"
        + (" (this one looks like a training that has not finished: rerun it to resume)"
           if unfinished else ""))


def rm_options(config: Config) -> dict[str, Any]:
    """``load_reward_model``'s settings from a config, so every command that loads RMs by name
    (evaluation, best-of-N) reads them alike: input length and form from ``model``, batching,
    precision, the DPO reference and beta and the judge template from ``eval``."""
    return {"max_length": config.model.max_length, "batch_tokens": config.eval.batch_tokens,
            "precision": config.eval.precision, "form": config.model.form,
            "dpo_ref": config.eval.dpo_ref or None, "dpo_beta": config.eval.dpo_beta,
            "judge_template": config.eval.judge_template or None,
            "gemini": gemini_settings(config), "load": load_options(config)}


def load_options(config: Config) -> LoadOptions:
    """How weights load, from ``eval.device_map``, ``eval.trust_remote_code`` and
    ``eval.attn_implementation`` (the dtype comes from ``eval.precision`` per device)."""
    e = config.eval
    return LoadOptions(device_map=e.device_map or None, trust_remote_code=e.trust_remote_code,
                       attn_implementation=e.attn_implementation or None)


def gemini_settings(config: Config) -> GeminiSettings:
    """The Gemini client's settings for ``gemini:MODEL`` judges, from ``eval.gemini_*``."""
    e = config.eval
    return GeminiSettings(timeout_s=e.gemini_timeout_s, retries=e.gemini_retries,
                          requests_per_minute=e.gemini_requests_per_minute,
                          concurrency=e.gemini_concurrency, max_calls=e.gemini_max_calls,
                          seed=config.seed)


def load_reward_model(name: str, *, max_length: int | None = None,
                      device: torch.device | None = None, precision: str = "auto",
                      seed: int = 0, batch_tokens: int | None = None, form: str = "bt",
                      dpo_ref: str | None = None, dpo_beta: float = 0.1,
                      judge_template: str | None = None,
                      gemini: GeminiSettings | None = None,
                      load: LoadOptions | None = None) -> RewardModel:
    """A reward model by name: reference scorer, backbone, checkpoint directory or Hub id;
    or a causal LM read as one: ``dpo:POLICY`` (reference ``dpo_ref``, or ``dpo:POLICY@REF``),
    ``dpo-sum:POLICY``, ``dpo-mean:POLICY`` (``harness.scoring.dpo``) and ``judge:MODEL``
    (``harness.scoring.judge``, pairwise; ``judge_template`` a template file, None the
    default); ``gemini:MODEL`` is Gemini as a pairwise judge (``harness.scoring.gemini_judge``,
    the same template; ``gemini`` the client's settings, None its defaults). ``load``: device
    map, remote code and attention for every local model (``LoadOptions``; its dtype is
    ``precision``'s).

    ``precision``: see ``resolve_dtype``. ``batch_tokens`` None: ``BATCH_TOKENS`` by device.
    ``max_length`` None
    means the checkpoint's own (``crome_bench.json``), else 512 (reward-bench's default).
    ``form`` (``bt`` or ``pairpm``) applies to backbones and Hub models; our checkpoints carry
    the form they were trained in, which wins. References (``length``) are always ``bt``,
    DPO rewards ``bt`` and judges ``pairpm``.
    """
    from harness.models.backbones import BACKBONES, load_sequence_classifier, load_tokenizer

    if name in REWARD_MODELS:
        return REWARD_MODELS.get(name)(max_length=max_length)
    check_processes(name, load)
    device = torch.device(device) if device else default_device()
    dtype = resolve_dtype(precision, device)
    load = dataclasses.replace(load or LoadOptions(), dtype=dtype)
    kind = kind_of(name)
    if kind is not None:  # dpo:, judge:, gemini:, plugin kinds (``get`` says when the installed
        # package metadata lacks a built-in kind: reinstall)
        return REWARD_KINDS.get(kind)(name, device=device, dtype=dtype, options=load,
                                      max_length=max_length, batch_tokens=batch_tokens,
                                      dpo_ref=dpo_ref, dpo_beta=dpo_beta,
                                      judge_template=judge_template, gemini=gemini)
    if name in BACKBONES:
        model = load_sequence_classifier(name, seed=seed, options=load)
        label = f"untrained:{name}" + (":pairpm" if form == "pairpm" else "")
        return HFRewardModel(model, load_tokenizer(name, trust_remote_code=load.trust_remote_code),
                             label,
                             max_length or 512, device, dtype, batch_tokens, form)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    name = model_folder(name)
    path = Path(name)
    meta = _read_meta(path) if path.is_dir() else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=load.trust_remote_code)
        model = load.mark(AutoModelForSequenceClassification.from_pretrained(name,
                                                                             **load.kwargs()))
    except (OSError, ValueError) as err:  # not a directory, and no such (reachable) Hub id
        if "trust_remote_code" in str(err):
            raise RegistryError(f"reward model {name!r} ships its own modelling code, which "
                                "runs with your rights: pass --trust-remote-code (or --set "
                                "eval.trust_remote_code=true) if you trust it") from None
        if path.is_dir() and (path / "config.json").exists():  # a model folder that failed
            first = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
            raise RegistryError(f"cannot load the reward model in {name}: {first}") from None
        raise _unknown(name, err) from None
    if dtype != torch.float32:  # the head as stored (float32), not rounded to the load dtype
        restore_head(model, checkpoint_files(name))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    label = (meta.get("method") or path.name) if path.is_dir() else name
    form = meta.get("form") or form
    rm = HFRewardModel(model, tokenizer, str(label) + (":pairpm" if form == "pairpm" else ""),
                       max_length or meta.get("max_length") or 512, device, dtype, batch_tokens,
                       form)
    rm.method = meta.get("method")
    rm.approximate = tuple(meta.get("approximate") or ())
    return rm
