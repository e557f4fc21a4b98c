"""Policies: what samples the best-of-N candidates, behind one interface, two backends.

Every sample carries its own seed (the pool derives it from the run seed, the prompt and the
sample index), so a sample is the same whether it was generated alone, in a batch with other
prompts, or after a resume. The transformers backend is the project's one local chat model
(``harness.models.chat``), which samples each row from its own seeded ``torch.Generator`` (never
torch's global RNG, never tied to batch-mates); vLLM takes a seed per request natively.

A policy is named by a spec: ``NAME`` (the transformers backend on a registered backbone, a local
directory or a Hub id) or ``BACKEND:MODEL`` (``transformers:...``, ``vllm:...``). vLLM is
imported only when a ``vllm:`` policy is asked for.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from harness.bon.errors import BonError
from harness.models.chat import SAMPLER_VERSION, Generation, chat_text
from harness.registry import Registry, RegistryError


@dataclass(frozen=True)
class GenParams:
    """Sampling settings; part of the pool key, so changing one starts a new pool."""

    temperature: float = 0.8
    top_p: float = 1.0
    max_new_tokens: int = 128

    def key(self) -> dict[str, Any]:
        return {**asdict(self), "sampler": SAMPLER_VERSION}


class Policy(ABC):
    """Generates one response per (prompt, seed) row; equal rows give equal responses."""

    name: str

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """What produced the samples (model files, chat template); recorded with the pool."""

    @abstractmethod
    def generate(self, prompts: list[str], seeds: list[int], params: GenParams
                 ) -> list[Generation]:
        """One generation per row, in input order; ``prompts`` are user messages."""


POLICIES: Registry[Callable[..., Policy]] = Registry("policy backend", group="crome_bench.policies")


def split_spec(spec: str) -> tuple[str, str]:
    """``"vllm:org/model"`` -> ("vllm", "org/model"); a bare name -> ("transformers", name)."""
    backend, sep, model = spec.partition(":")
    if sep and backend in POLICIES:
        return backend, model
    return "transformers", spec


def load_policy(spec: str, **kwargs: Any) -> Policy:
    backend, model = split_spec(spec)
    return POLICIES.get(backend)(model, **kwargs)


class TransformersPolicy(Policy):
    """The shared local chat model (``harness.models.chat``): longest-first batches, per-row
    seeded sampling, bf16 on a GPU."""

    def __init__(self, model: str, *, batch_size: int = 16, device: str | None = None):
        import torch

        from harness.distributed import default_device
        from harness.models.backbones import LoadOptions
        from harness.models.chat import chat_model

        self.name = model
        self.batch_size = batch_size
        self.device = torch.device(device or default_device())
        dtype = torch.bfloat16 if self.device.type == "cuda" else None
        try:
            self.lm = chat_model(model, device=self.device, options=LoadOptions(dtype=dtype))
        except (OSError, ValueError, RegistryError) as err:
            raise BonError(f"policy {model!r}: not a backbone, a model directory or a "
                           f"reachable Hub id ({str(err).splitlines()[0]})") from None

    @property
    def fingerprint(self) -> str:
        parts = [self.lm.weights_digest, self.lm.tokenizer_digest]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]

    def generate(self, prompts, seeds, params):
        return self.lm.generate(prompts, max_new_tokens=params.max_new_tokens,
                                temperature=params.temperature, top_p=params.top_p, seeds=seeds,
                                batch_size=self.batch_size, longest_first=True)


class VLLMPolicy(Policy):
    """vLLM with one seeded request per sample (vLLM applies per-request seeds natively)."""

    def __init__(self, model: str, *, batch_size: int = 0, **engine_kwargs: Any):
        try:
            import vllm
        except ImportError:
            raise BonError(f"policy 'vllm:{model}' needs vLLM, which is not installed here: "
                           "pip install 'crome-bench[vllm]', or use the transformers policy "
                           f"(--policy {model})") from None
        from harness.models.backbones import BACKBONES, model_source

        self._vllm = vllm
        self.name = f"vllm:{model}"
        source = model_source(model) if model in BACKBONES else model
        self.llm = vllm.LLM(model=source, seed=0, **engine_kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self._source = source

    @property
    def fingerprint(self) -> str:
        from harness.scoring.reward_model import tokenizer_digest

        parts = [self._source, tokenizer_digest(self.tokenizer), self._vllm.__version__]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]

    def generate(self, prompts, seeds, params):
        texts = [chat_text(self.tokenizer, p) for p in prompts]
        sampling = [self._vllm.SamplingParams(n=1, temperature=params.temperature,
                                              top_p=params.top_p,
                                              max_tokens=params.max_new_tokens,
                                              seed=s % (1 << 31)) for s in seeds]
        outputs = self.llm.generate(texts, sampling, use_tqdm=False)
        return [Generation(o.outputs[0].text, len(o.outputs[0].token_ids),
                           o.outputs[0].finish_reason == "stop") for o in outputs]


POLICIES.add("transformers", TransformersPolicy)
POLICIES.add("vllm", VLLMPolicy)
