"""Oracles: what lists a prompt's causal rubrics and rewrites an answer along one of them.

One interface, chosen by name (``crome.oracle`` in the config, ``--oracle`` on the command line):
- ``gemini``: Google's Gemini through the project's one Gemini client (``harness.gemini``),
  structured JSON output (the paper's oracle);
- ``hf``: a local chat model through the one local chat-model wrapper (``harness.models.chat``;
  ``smollm2-135m`` by default, any Hub id);
  labelled approximate: a small model stands in for the paper's Gemini;
- ``rules``: offline heuristics, no model at all; everything it makes is labelled approximate.
Each lives in its own module and registers in ``ORACLES`` when imported; the registry imports
the built-ins and any third-party oracle through the ``crome_bench.oracles`` entry-point group
(``pyproject.toml``) the first time it is read.

An oracle only answers one request at a time and raises the errors of ``crome.errors``;
concurrency, rate limits, retries, caching and counting live in ``crome.calls``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from crome.prompts import PROMPT_VERSION
from crome.rubrics import Rubric
from harness.data.schema import PreferencePair
from harness.registry import Registry


class Oracle(ABC):
    """Base class. Subclasses set the class attributes and implement ``rubrics``/``rewrite``."""

    name: ClassVar[str]
    default_model: ClassVar[str] = ""
    approximate: ClassVar[bool] = False  # not an LLM of the paper's class: say so everywhere
    remote: ClassVar[bool] = False  # a paid/limited service: rate-limit the calls
    deterministic: ClassVar[bool] = False  # same input, same answer: asking again is pointless
    cacheable: ClassVar[bool] = True  # answers go to the disk cache (cheap rules do not)
    max_concurrency: ClassVar[int | None] = None  # local models: one generation at a time
    version: ClassVar[str] = PROMPT_VERSION  # part of every cache key

    def __init__(self, model: str = "", *, seed: int = 0, **options: Any):
        self.model = model or self.default_model
        self.seed = seed

    def prepare(self, pairs: list[PreferencePair]) -> None:  # noqa: B027 (optional hook)
        """See the whole dataset once before any request (``rules`` takes donor sentences)."""

    @abstractmethod
    def rubrics(self, prompt: str) -> list[Rubric]:
        """The prompt's causal rubrics (1 to ``MAX_RUBRICS``)."""

    @abstractmethod
    def rewrite(self, prompt: str, answer: str, rubric: Rubric, direction: str) -> str | None:
        """``answer`` made worse (``degrade``) or better (``upgrade``) along ``rubric`` only.

        None: the oracle says no such rewrite exists. ``OracleSkip``: declined, with a reason.
        """

    def __repr__(self) -> str:  # never show options: the gemini one holds a client with a key
        return f"{type(self).__name__}(model={self.model!r})"


ORACLES: Registry[type[Oracle]] = Registry("oracle", group="crome_bench.oracles")


def make_oracle(name: str, model: str = "", *, seed: int = 0, **options: Any) -> Oracle:
    """An oracle by registered name; ``model`` empty means the oracle's default."""
    return ORACLES.get(name)(model, seed=seed, **options)


__all__ = ["ORACLES", "Oracle", "Rubric", "make_oracle"]
