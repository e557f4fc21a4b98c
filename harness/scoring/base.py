"""The reward-model interface every scorer and suite reads, the registry that names reward
models (``REWARD_MODELS``, entry-point group ``crome_bench.reward_models``), the registry of
reward-model kinds read through another model (``REWARD_KINDS``: ``dpo:``, ``judge:``,
``gemini:``; group ``crome_bench.reward_kinds``, so a package can add its own ``kind:NAME``) and
the ``length`` reference.

Free of torch, so that names can be checked and ``--plan`` printed without loading the model
stack; the models that need torch live in ``harness.scoring.reward_model`` and beside it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from harness.registry import Registry


class RewardModel(ABC):
    """Scores (prompt, response) texts; higher is better."""

    name: str
    fingerprint: str
    kind: str = "classifier"  # "classifier" | "reference"
    # "bt": one reward per (prompt, response). "pairpm": a pairwise preference model whose
    # reward for (prompt, PairedResponses(a, b)) is the log-odds that a is better than b.
    form: str = "bt"
    # Our checkpoints: the method that trained it and what about it was approximate (in words,
    # from crome_bench.json), so every output that names the RM can say so.
    method: str | None = None
    approximate: tuple[str, ...] = ()
    # False for a model whose own cache already keys everything a score reads (a Gemini
    # judge's answer cache): the scorer then skips the score cache, so every run reads, and
    # counts, its answers.
    uses_score_cache: bool = True
    stats: Any = None  # the counts ``report`` reads (a snapshot is taken before each suite)

    @abstractmethod
    def score_with_info(self, prompts: list[Any], responses: list[str]
                        ) -> tuple[list[float], list[bool]]:
        """(rewards, truncated flags), in input order."""

    def score(self, prompts: list[Any], responses: list[str]) -> list[float]:
        return self.score_with_info(prompts, responses)[0]

    def call_plan(self) -> RewardModel | None:
        """A paid model's dry twin, which counts the calls a run would make (``harness eval``
        runs the suites with it first and prints its ``summary()``); None: nothing to pay."""
        return None

    def report(self, since: Any = None) -> dict[str, Any] | None:
        """A judge's answers and those without a verdict (since a snapshot of ``stats``, for
        one suite), for metrics.json and the boards; None: not a judge that parses answers."""
        return None



REWARD_MODELS: Registry[Callable[..., RewardModel]] = Registry(
    "reward model", group="crome_bench.reward_models")


class LengthRewardModel(RewardModel):
    """Reference: the reward is the response's length in characters; the longer one wins.

    The classic spurious cue. Characters rather than tokens so it needs no tokenizer and is the
    same for every backbone; nothing is ever truncated.
    """

    kind = "reference"

    def __init__(self, **_: Any):
        self.name = "length"
        self.fingerprint = "length-chars-v1"

    def score_with_info(self, prompts, responses):
        return [float(len(r)) for r in responses], [False] * len(responses)


REWARD_MODELS.add("length", LengthRewardModel)
# The references every ``harness run`` evaluates beside its trained RMs.
REFERENCES = ("length",)


# A kind's loader: ``loader(name, **settings)`` with the full name (``dpo:P@R``) and every
# setting of ``harness.scoring.reward_model.load_reward_model`` as keywords (device, dtype,
# options, max_length, batch_tokens, dpo_ref, dpo_beta, judge_template, gemini); it reads the
# ones it needs.
REWARD_KINDS: Registry[Callable[..., RewardModel]] = Registry(
    "reward-model kind", group="crome_bench.reward_kinds")
