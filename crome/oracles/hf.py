"""The ``hf`` oracle: a local chat model (``harness.models.chat``, no network, no key).

``smollm2-135m`` by default (ships with the project, runs on a laptop CPU); any Hub id or local
path works on a machine that has it. Small models follow JSON schemas poorly, so this oracle uses
the ``text`` prompt format (rubrics as a list, rewrites as the bare answer) and the tolerant
parsers of ``crome.prompts``. It runs on the CPU (its cached answers then do not depend on the
machine) and decoding is greedy, so the same input always gives the same answer:
a malformed answer is skipped at once (asking again would repeat it) and answers are cached.
A 135M model's rewrites are poor: it often hands back the answer, the prompt or our
instructions, or changes only punctuation. They are real model rewrites, but from a model far
below the paper's Gemini, so the oracle is labelled approximate (``crome.method`` says what it
is in words), and ``crome.checks`` drops the rewrites that plainly did not change what was
asked, counted by reason.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from crome import prompts
from crome.errors import OracleSkip
from crome.oracles import ORACLES, Oracle
from crome.rubrics import Rubric

if TYPE_CHECKING:
    from harness.models.chat import ChatLM


@ORACLES.register("hf")
class HFOracle(Oracle):
    name = "hf"
    default_model = "smollm2-135m"
    approximate = True  # a small local model stands in for the paper's Gemini
    deterministic = True
    max_concurrency = 1

    def __init__(self, model: str = "", *, seed: int = 0, max_new_tokens: int = 384,
                 max_answer_chars: int = 2000, threads: int | None = None, **options: Any):
        super().__init__(model, seed=seed)
        self.max_new_tokens = max_new_tokens
        self.max_answer_chars = max_answer_chars
        # One-sequence greedy decoding of a small model gains little from threads and loses a
        # lot when the cores are shared: on a busy 2-core machine, 64 tokens took 3 s with one
        # thread and 13-32 s with two. A quarter of the cores, at least one.
        self.threads = threads or max(1, (os.cpu_count() or 1) // 4)
        self._lm: ChatLM | None = None
        self._lock = threading.Lock()

    def _model(self) -> ChatLM:
        with self._lock:
            if self._lm is None:
                from harness.models.chat import chat_model

                self._lm = chat_model(self.model, device="cpu")
            return self._lm

    def generate(self, text: str, max_new_tokens: int) -> str:
        """One greedy chat completion."""
        import torch

        lm = self._model()
        with self._lock:
            threads = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            try:
                return lm.generate([text], max_new_tokens=max_new_tokens)[0].text
            finally:
                torch.set_num_threads(threads)

    def rubrics(self, prompt: str) -> list[Rubric]:
        text = self.generate(prompts.rubrics_prompt(prompt, "text"), 64)
        return prompts.parse_rubrics(text, "text")

    def rewrite(self, prompt: str, answer: str, rubric: Rubric, direction: str) -> str | None:
        if len(answer) > self.max_answer_chars:
            raise OracleSkip("too_long")  # a cut answer could not be "the same but for one thing"
        tokenizer = self._model().tokenizer
        budget = min(self.max_new_tokens, int(len(tokenizer.encode(answer)) * 1.5) + 16)
        text = self.generate(prompts.rewrite_prompt(prompt, answer, rubric, direction, "text"),
                             budget)
        return prompts.parse_rewrite(text, answer, "text")
