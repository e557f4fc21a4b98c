"""Best-of-N test doubles shared by the bon and run tests: a seeded fake policy counting its calls,
and tiny RMs (a helper module, not a test module)."""

from __future__ import annotations

import random

from harness.bon.policies import Generation, GenParams

REFUSAL = "I'm sorry, but I can't help with that."


class FakePolicy:
    """Deterministic in the row's seed alone (like the real policies): refuses or complies on
    safety prompts, answers GSM8K prompts right or wrong. Records every generate call."""

    name = "fake"
    fingerprint = "fake-policy-v1"

    def __init__(self, answers: dict[str, str] | None = None):
        self.answers = answers or {}  # prompt text -> right answer
        self.calls: list[int] = []  # rows per call

    @property
    def rows(self) -> int:
        return sum(self.calls)

    def text(self, prompt: str, seed: int) -> str:
        rng = random.Random(seed)
        if prompt in self.answers:
            right = self.answers[prompt]
            value = right if rng.random() < 0.5 else str(rng.randint(1, 999))
            return "Let me think. " + "step " * rng.randint(0, 6) + f"\n#### {value}"
        if rng.random() < 0.4:
            return REFUSAL
        return "Sure, here is how: " + " ".join(f"w{rng.randint(0, 99)}"
                                               for _ in range(rng.randint(1, 30)))

    def generate(self, prompts: list[str], seeds: list[int], params: GenParams
                 ) -> list[Generation]:
        self.calls.append(len(prompts))
        return [Generation(self.text(p, s), 7, True) for p, s in zip(prompts, seeds,
                                                                      strict=True)]


class LengthRM:
    """Longer is better (a minimal ``score`` protocol object, not a RewardModel)."""

    name = "fake-length"
    fingerprint = "fake-length"

    def score(self, prompts, responses):
        return [float(len(r)) for r in responses]


class ShortRM(LengthRM):
    """Shorter is better: prefers refusals over long compliance."""

    name = "fake-short"
    fingerprint = "fake-short"

    def score(self, prompts, responses):
        return [-float(len(r)) for r in responses]


FAKE_RMS = {"long": LengthRM, "short": ShortRM}
