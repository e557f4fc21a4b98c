"""Policies: what samples the best-of-N candidates, behind one interface, two backends.

Every sample carries its own seed (the pool derives it from the run seed, the prompt and the
sample index), so a sample is the same whether it was generated alone, in a batch with other
prompts, or after a resume. transformers' ``generate`` would sample from the global torch RNG
for the whole batch, tying each sample to its batch-mates and touching global state; instead the
transformers backend samples inside a logits processor that draws from one ``torch.Generator``
per row and hands greedy decoding a one-hot choice. vLLM takes a seed per request natively.

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
from harness.registry import Registry

SAMPLER_VERSION = 1  # bump when the sampling procedure changes: it is part of every pool key


@dataclass(frozen=True)
class GenParams:
    """Sampling settings; part of the pool key, so changing one starts a new pool."""

    temperature: float = 0.8
    top_p: float = 1.0
    max_new_tokens: int = 128

    def key(self) -> dict[str, Any]:
        return {**asdict(self), "sampler": SAMPLER_VERSION}


@dataclass(frozen=True)
class Generation:
    text: str
    n_tokens: int
    finished: bool  # stopped at end of turn (False: cut at max_new_tokens)


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


def sampled_tokens(scores, generators: list, temperature: float, top_p: float):
    """One token id per row: temperature and nucleus (top-p) sampling, row i drawing only from
    ``generators[i]``; temperature 0 is greedy."""
    import torch

    scores = scores.float()
    if temperature <= 0:
        return scores.argmax(dim=-1)
    probs = torch.softmax(scores / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        # Drop a token when the mass before it already reaches top_p (the top one always stays).
        drop = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p
        sorted_probs = sorted_probs.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.stack([torch.multinomial(probs[i], 1, generator=g)[0]
                        for i, g in enumerate(generators)])


class SeededSampler:
    """A logits processor: samples per row from its own generator, returns a one-hot mask that
    greedy decoding turns into that token. Rows advance in lockstep, so row i's t-th draw is
    always its generator's t-th, whatever else is in the batch."""

    def __init__(self, seeds: list[int], temperature: float, top_p: float):
        import torch

        self.generators = [torch.Generator().manual_seed(s % (1 << 63)) for s in seeds]
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids, scores):
        import torch

        chosen = sampled_tokens(scores, self.generators, self.temperature, self.top_p)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter(1, chosen.to(scores.device)[:, None], 0.0)


def render_prompt(tokenizer, prompt: str) -> str:
    """The user message in the model's chat template (plain text for models without one)."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                             tokenize=False, add_generation_prompt=True)
    return prompt


class TransformersPolicy(Policy):
    """``model.generate`` with left padding, length-sorted batches and per-row seeded sampling."""

    def __init__(self, model: str, *, batch_size: int = 16, device: str | None = None):
        import torch

        from harness.models.backbones import BACKBONES, load_causal_lm

        self.name = model
        self.batch_size = batch_size
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        kwargs: dict[str, Any] = {}
        if self.device.type == "cuda":
            kwargs["dtype"] = torch.bfloat16
        if model in BACKBONES:
            self.model, self.tokenizer = load_causal_lm(model, **kwargs)
        else:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            try:
                self.tokenizer = AutoTokenizer.from_pretrained(model)
                self.model = AutoModelForCausalLM.from_pretrained(model, **kwargs)
            except (OSError, ValueError) as err:
                raise BonError(f"policy {model!r}: not a backbone, a model directory or a "
                               f"reachable Hub id ({str(err).splitlines()[0]})") from None
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"
        self.model = self.model.to(self.device).eval()
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            from harness.scoring.reward_model import tokenizer_digest, weights_digest

            parts = [weights_digest(self.model), tokenizer_digest(self.tokenizer)]
            self._fingerprint = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
        return self._fingerprint

    def generate(self, prompts, seeds, params):
        texts = [render_prompt(self.tokenizer, p) for p in prompts]
        lengths = [len(self.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: (-lengths[i], i))
        out: list[Generation | None] = [None] * len(texts)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = self._generate([texts[i] for i in rows], [seeds[i] for i in rows], params)
            for i, generation in zip(rows, batch, strict=True):
                out[i] = generation
        return out  # type: ignore[return-value]

    def _generate(self, texts: list[str], seeds: list[int], params: GenParams
                  ) -> list[Generation]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        enc = self.tokenizer(texts, return_tensors="pt", padding=True,
                             add_special_tokens=not has_template).to(self.device)
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        config = GenerationConfig(do_sample=False, max_new_tokens=params.max_new_tokens,
                                  eos_token_id=eos, pad_token_id=self.tokenizer.pad_token_id)
        sampler = SeededSampler(seeds, params.temperature, params.top_p)
        with torch.inference_mode():
            output = self.model.generate(**enc, generation_config=config,
                                         logits_processor=LogitsProcessorList([sampler]))
        stops = set(eos if isinstance(eos, list) else [eos])
        result = []
        for row in output[:, enc["input_ids"].shape[1]:].tolist():
            cut = next((k for k, t in enumerate(row) if t in stops), None)
            tokens = row if cut is None else row[:cut]
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            result.append(Generation(text, len(tokens), cut is not None))
        return result


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
        texts = [render_prompt(self.tokenizer, p) for p in prompts]
        sampling = [self._vllm.SamplingParams(n=1, temperature=params.temperature,
                                              top_p=params.top_p,
                                              max_tokens=params.max_new_tokens,
                                              seed=s % (1 << 31)) for s in seeds]
        outputs = self.llm.generate(texts, sampling, use_tqdm=False)
        return [Generation(o.outputs[0].text, len(o.outputs[0].token_ids),
                           o.outputs[0].finish_reason == "stop") for o in outputs]


POLICIES.add("transformers", TransformersPolicy)
POLICIES.add("vllm", VLLMPolicy)
