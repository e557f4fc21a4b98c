"""Text generators for model-based transforms, and the disk cache in front of them.

A generator turns prompts into completions: ``generate(prompts, max_new_tokens) -> texts``. Its
``name`` identifies the model *and* the decoding settings, because it is part of the cache key.

- ``smollm2``: SmolLM2-135M-Instruct (ships with the project, runs on a CPU) as the project's
  one local chat model (``harness.models.chat``), with its chat template. Greedy by default, so
  one input always gives one output; ``temperature > 0`` samples each prompt under its own seed
  (from the generator's seed and the prompt), never from torch's global RNG, so an output does
  not depend on the prompts batched with it.
- ``gemini``: Gemini through the project's one client (``harness.gemini``: retries with backoff,
  timeouts, rate limit, the key from ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY`` and never
  written), temperature 0.

``default_generator()`` picks ``$CROME_BENCH_GENERATOR`` if set, else ``gemini`` when a key is
set, else ``smollm2``. Every generation is cached in SQLite under
``cache_dir()/transforms/generations.sqlite`` keyed by (transform step, generator name, text
hash), so a rerun or a second RM evaluation never regenerates a text.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harness.gemini import (
    GeminiBlocked,
    GeminiClient,
    GeminiError,
    GeminiRequest,
    GeminiSettings,
    GeminiSetupError,
    default_cache_path,
    has_key,
)
from harness.kvstore import JsonStore
from harness.models.chat import SAMPLER_VERSION, chat_model
from harness.registry import Registry
from harness.seeding import derive_seed, text_hash

if TYPE_CHECKING:
    from harness.models.chat import ChatLM

SAMPLED_TOP_P = 0.95  # the nucleus of a sampling generator (temperature > 0)


class Generator(Protocol):
    name: str

    def generate(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]: ...


class GeneratorError(RuntimeError):
    """A generator could not be set up or failed to answer."""


GENERATORS: Registry[Callable[..., Generator]] = Registry(
    "generator", group="crome_bench.generators")


class SmolLM2Generator:
    """A local chat model (default ``smollm2-135m``) on the CPU, the shared one of
    ``harness.models.chat``: batches in input order, greedy, or sampled (top-p 0.95) with each
    prompt's own seed, drawn from (``seed``, the prompt's text)."""

    def __init__(self, model: str = "smollm2-135m", *, temperature: float = 0.0, seed: int = 0,
                 batch_size: int = 8):
        self.model_name = model
        self.temperature = temperature
        self.seed = seed
        self.batch_size = batch_size
        decoding = ("greedy" if temperature <= 0
                    else f"t{temperature:g}-p{SAMPLED_TOP_P:g}-s{seed}-sampler{SAMPLER_VERSION}")
        self.name = f"{model}:{decoding}"
        self._lm: ChatLM | None = None
        self._lock = threading.Lock()

    def generate(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        with self._lock:
            if self._lm is None:
                self._lm = chat_model(self.model_name, device="cpu")
        seeds = [derive_seed(self.seed, "generator-sample", text_hash(p)) for p in prompts]
        outputs = self._lm.generate(prompts, max_new_tokens=max_new_tokens,
                                    temperature=self.temperature, top_p=SAMPLED_TOP_P,
                                    seeds=seeds, batch_size=self.batch_size)
        return [g.text.strip() for g in outputs]


class GeminiGenerator:
    """Gemini through the project's one client (``harness.gemini``): key, retries with backoff
    on 429/5xx, timeouts, rate limit and concurrency are the client's. Besides
    ``cached_generate``'s cache (which stores a batch once all of it is answered) the client
    keeps every answer in its own disk cache as it arrives, so a batch that fails part-way is
    not paid for twice."""

    def __init__(self, model: str = "gemini-2.0-flash", *,
                 settings: GeminiSettings | None = None):
        try:
            self._client = GeminiClient(model, settings, cache=default_cache_path(),
                                        who="the gemini generator")
        except GeminiSetupError as err:
            raise GeneratorError(str(err)) from None
        self.name = f"gemini:{model}"
        self.model = model

    def generate(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """One output per prompt (temperature 0), asked concurrently; a prompt that still
        fails after the client's retries fails the batch, with a message that never holds
        the key. A blocked answer (safety) is an empty output, which the transforms reject
        as they reject any empty rewrite."""
        answers = self._client.generate_many([
            GeminiRequest(p, max_output_tokens=max_new_tokens) for p in prompts])
        answers = ["" if isinstance(a, GeminiBlocked) else a for a in answers]
        errors = [a for a in answers if isinstance(a, GeminiError)]
        if errors:
            raise GeneratorError(f"{self.name}: {len(errors)} of {len(prompts)} prompts "
                                 f"failed (answers received are cached; rerun to retry the "
                                 f"rest); first: {errors[0]}")
        return [str(a).strip() for a in answers]


GENERATORS.add("smollm2", SmolLM2Generator)
GENERATORS.add("gemini", GeminiGenerator)

_DEFAULTS: dict[str, Generator] = {}


def make_generator(name: str | None = None, **options: Any) -> Generator:
    """A generator by registry name (``smollm2``, ``gemini``, plugins); one instance per name."""
    name = name or os.environ.get("CROME_BENCH_GENERATOR") or (
        "gemini" if has_key() else "smollm2")
    if options:
        return GENERATORS.get(name)(**options)
    if name not in _DEFAULTS:
        _DEFAULTS[name] = GENERATORS.get(name)()
    return _DEFAULTS[name]


def default_generator() -> Generator:
    return make_generator(None)


def cache_path() -> Path:
    from harness.models.backbones import cache_dir

    return cache_dir() / "transforms" / "generations.sqlite"


class GenerationCache:
    """(step, generator, text) -> generated text, committed as each output arrives."""

    def __init__(self, path: str | Path):
        # "outputs", not the "generations" table of caches written before the JSON store: that
        # one has other columns, and its keys (no instruction hash in the step) are stale anyway.
        self.store = JsonStore(path, "outputs", ("step", "generator"))

    @staticmethod
    def _key(step: str, generator: str, text: str) -> str:
        return f"{step}\x1f{generator}\x1f{text_hash(text)}"

    def get(self, step: str, generator: str, text: str) -> str | None:
        found, value = self.store.get(self._key(step, generator, text))
        return value if found else None

    def put(self, step: str, generator: str, text: str, output: str) -> None:
        self.store.put(self._key(step, generator, text), output, step=step, generator=generator)

    def steps(self) -> list[str]:
        return self.store.distinct("step")

    def __len__(self) -> int:
        return len(self.store)


_CACHES: dict[Path, GenerationCache] = {}


def generation_cache() -> GenerationCache:
    """The cache at ``cache_path()`` (re-read each call, so tests can point it elsewhere)."""
    path = cache_path()
    if path not in _CACHES:
        _CACHES[path] = GenerationCache(path)
    return _CACHES[path]


def cached_generate(step: str, generator: Generator, texts: Sequence[str],
                    build_prompt: Callable[[str], str], max_new_tokens: Callable[[str], int]
                    ) -> list[str]:
    """Outputs for ``texts`` from the cache, generating only the missing ones: one batch per
    distinct token budget, so a text's output never depends on the longer texts beside it."""
    cache = generation_cache()
    outputs: list[str | None] = [cache.get(step, generator.name, t) for t in texts]
    by_budget: dict[int, list[int]] = {}
    for i, output in enumerate(outputs):
        if output is None:
            by_budget.setdefault(max_new_tokens(texts[i]), []).append(i)
    for budget, missing in sorted(by_budget.items()):
        made = generator.generate([build_prompt(texts[i]) for i in missing], budget)
        if len(made) != len(missing):
            raise GeneratorError(f"{generator.name} returned {len(made)} outputs for "
                                 f"{len(missing)} prompts")
        for i, text in zip(missing, made, strict=True):
            cache.put(step, generator.name, texts[i], text)
            outputs[i] = text
    return [o or "" for o in outputs]
