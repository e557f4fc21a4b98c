"""Causal rubrics: the few attributes of an answer that make it better for one prompt.

Crome intervenes only along these (never along length, tone or format), so the reward model
learns that they, and not the spurious features, move the preference.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

MAX_RUBRICS = 5  # "a small set, per prompt": more would mostly repeat the same attributes


@dataclass(frozen=True)
class Rubric:
    name: str  # short snake_case name, e.g. "correctness"
    description: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rubric:
        return cls(str(data["name"]), str(data.get("description", "")))


# Used when an oracle's rubric answer cannot be parsed (counted, never silent), and by ``rules``.
CORRECTNESS = Rubric("correctness", "facts, numbers, names and reasoning are right")
COMPLETENESS = Rubric("completeness", "covers every part and step the prompt asks for")
RELEVANCE = Rubric("relevance", "stays on the prompt's topic and answers what was asked")
SAFETY = Rubric("safety", "declines to help with harm; gives no dangerous content")
DEFAULT_RUBRICS = (CORRECTNESS, COMPLETENESS, RELEVANCE)


def normalize_name(name: str) -> str:
    """``"Factual accuracy"`` -> ``"factual_accuracy"``: names are cache and record keys."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")[:40]
