"""The records crome-bench passes around, and the errors that point at bad input.

A ``PreferencePair`` is (prompt, chosen, rejected) with an optional subset, id and label. The
label is ``"chosen"`` (chosen is better, the usual case) or ``"tie"`` (neither is better: RRM and
Crome neutrals). The prompt is plain text or a chat (a list of ``{role, content}`` messages,
ending before the assistant's answer).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Message = dict[str, str]
Prompt = str | list[Message]
LABELS = ("chosen", "tie")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong."""

    file: str
    line: int | None
    field: str | None
    message: str
    severity: str = "error"  # "error" stops loading; "warning" is reported and the item kept

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        what = f" field {self.field!r}:" if self.field else ""
        tag = " warning:" if self.severity == "warning" else ""
        return f"{where}:{tag}{what} {self.message}"


class DataError(ValueError):
    """Bad input; ``problems`` lists every one found (file, line, field, message)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) in input:\n{shown}{more}")


DataProblems = list[Problem]


@dataclass(frozen=True)
class PreferencePair:
    prompt: Prompt
    chosen: str
    rejected: str
    subset: str | None = None
    id: str | None = None
    label: str = "chosen"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        """Unique key: RewardBench ids repeat across subsets, so the key is ``subset/id``."""
        return f"{self.subset}/{self.id}" if self.subset else str(self.id)

    @property
    def is_tie(self) -> bool:
        return self.label == "tie"

    @property
    def prompt_text(self) -> str:
        """The prompt as one string (chat turns joined), for hashing, lengths and display."""
        return prompt_to_text(self.prompt)

    def to_record(self) -> dict[str, Any]:
        record = {k: v for k, v in asdict(self).items() if k != "extra"}
        record.update(self.extra)
        return record


@dataclass(frozen=True)
class PromptItem:
    """A prompt without responses (best-of-N inputs): WildGuardTest, GSM8K."""

    prompt: str
    id: str
    reference: str | None = None  # GSM8K: the numeric answer
    harmful: bool | None = None  # WildGuardTest: prompt harm label
    adversarial: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class StyledItem:
    """One RM-Bench prompt: chosen and rejected answers written in the same styles, index k of
    each list being style k (RM-Bench: 0 concise, 1 detailed plain text, 2 detailed markdown).
    ``domain`` is chat, code, math or safety (the Hub's safety-refuse / safety-response are
    safety, the original name kept in ``extra["subdomain"]``)."""

    prompt: Prompt
    chosen: tuple[str, ...]
    rejected: tuple[str, ...]
    domain: str
    subset: str | None = None
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        """Unique key: ids repeat across RM-Bench's domain files, so the key is ``domain/id``."""
        return f"{self.domain}/{self.id}"


def prompt_to_text(prompt: Prompt) -> str:
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(m["content"] for m in prompt)
