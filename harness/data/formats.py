"""Record formats: how one raw record (a dict from JSONL/JSON/parquet/Hub) becomes a schema item.

This module owns the record formats: each knows how to recognise its records and how to parse
one, reporting every problem with its field name, and ``detect_format`` picks the format of a
record among every registered one, a plugin's (``crome_bench.formats`` entry points) included.
Built-in formats: ``pairs`` (prompt/chosen/rejected: RewardBench, UltraFeedback plain-string
samples, our own files), ``chat_pairs`` (chosen/rejected as message lists that contain the
prompt: HuggingFaceH4/ultrafeedback_binarized), ``rmbench`` (chosen/rejected as lists of three
answers, one per style: THU-KEG/RM-Bench), ``wildguardtest`` and ``gsm8k``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.data.rmbench import DOMAINS as RMBENCH_DOMAINS
from harness.data.rmbench import STYLES as RMBENCH_STYLES
from harness.data.rmbench import domain_of as rmbench_domain
from harness.data.schema import LABELS, PreferencePair, PromptItem, StyledItem
from harness.registry import Registry

FieldProblems = list[tuple[str | None, str]]
# Real UltraFeedback rows hold a few empty responses (a model answered nothing). They are valid
# preferences, so an empty *response* is a warning, reported by `data check`; an empty prompt, a
# missing field or a wrong type is an error.
EMPTY_RESPONSE = "empty response (kept: a model answered nothing)"


class RecordInvalid(Exception):
    """Raised by a parser with every (field, message) wrong in one record."""

    def __init__(self, problems: FieldProblems):
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


@dataclass(frozen=True)
class RecordFormat:
    name: str
    kind: str  # "pairs", "prompts" or "styled" (RM-Bench)
    detect: Callable[[dict[str, Any]], bool]
    # (record, index) -> (item, warnings); raises RecordInvalid listing every error
    parse: Callable[[dict[str, Any], int], tuple[Any, FieldProblems]]
    fields: tuple[str, ...] = ()  # the fields a record of this format must have
    # Detection tries formats by descending priority, then by name. The built-ins (0) recognise
    # disjoint shapes; a plugin format that recognises a narrower shape of a built-in's records
    # (pairs with extra fields) sets priority > 0 to be tried first, a catch-all sets it < 0.
    priority: int = 0


FORMATS: Registry[RecordFormat] = Registry("record format", group="crome_bench.formats")


def _text(
    record: dict,
    key: str,
    problems: FieldProblems,
    *,
    optional: bool = False,
    warnings: FieldProblems | None = None,
):
    if key not in record or record[key] is None:
        if not optional:
            problems.append((key, "missing"))
        return None
    value = record[key]
    if not isinstance(value, str):
        problems.append((key, f"expected text, got {type(value).__name__}"))
        return None
    if not value.strip():
        if warnings is not None:
            warnings.append((key, EMPTY_RESPONSE))
            return value
        problems.append((key, "empty text"))
        return None
    return value


def _messages(
    value: Any, key: str, problems: FieldProblems, warnings: FieldProblems | None = None
) -> list[dict[str, str]] | None:
    if not isinstance(value, list) or not value:
        problems.append((key, "expected a non-empty list of {role, content} messages"))
        return None
    for i, m in enumerate(value):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            problems.append((f"{key}[{i}]", "expected a message with 'role' and 'content'"))
            return None
        if not isinstance(m.get("content"), str):
            problems.append((f"{key}[{i}].content", "missing text"))
            return None
        if not m["content"].strip():
            last_answer = i == len(value) - 1 and m["role"] == "assistant"
            if warnings is None or not last_answer:
                problems.append((f"{key}[{i}].content", "empty text"))
                return None
            warnings.append((f"{key}[{i}].content", EMPTY_RESPONSE))
    return [{"role": m["role"], "content": m["content"]} for m in value]


def _optional_id(record: dict, problems: FieldProblems) -> str | None:
    value = record.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        problems.append(("id", f"expected text or integer, got {type(value).__name__}"))
        return None
    return str(value)


_PAIR_FIELDS = {"prompt", "chosen", "rejected", "subset", "id", "label"}


def _prompt(record: dict, problems: FieldProblems) -> Any:
    """A record's prompt: text, or a list of chat messages."""
    prompt = record.get("prompt")
    if isinstance(prompt, list):
        return _messages(prompt, "prompt", problems)
    return _text(record, "prompt", problems)


def _parse_pairs(record: dict, index: int) -> tuple[PreferencePair, FieldProblems]:
    problems: FieldProblems = []
    warnings: FieldProblems = []
    prompt = _prompt(record, problems)
    chosen = _text(record, "chosen", problems, warnings=warnings)
    rejected = _text(record, "rejected", problems, warnings=warnings)
    if chosen is not None and rejected is not None and not (chosen.strip() or rejected.strip()):
        problems.append(("rejected", "both responses are empty"))
    subset = record.get("subset")
    if subset is not None and not isinstance(subset, str):
        problems.append(("subset", f"expected text, got {type(subset).__name__}"))
    label = record.get("label", "chosen")
    if label not in LABELS:
        problems.append(("label", f"expected one of {LABELS}, got {label!r}"))
    pid = _optional_id(record, problems)
    if problems:
        raise RecordInvalid(problems)
    extra = {k: v for k, v in record.items() if k not in _PAIR_FIELDS}
    pair = PreferencePair(
        prompt, chosen, rejected, subset, pid if pid is not None else str(index), label, extra
    )
    return pair, warnings


def _parse_chat_pairs(record: dict, index: int) -> tuple[PreferencePair, FieldProblems]:
    problems: FieldProblems = []
    warnings: FieldProblems = []
    chosen = _messages(record.get("chosen"), "chosen", problems, warnings)
    rejected = _messages(record.get("rejected"), "rejected", problems, warnings)
    if problems:
        raise RecordInvalid(problems)
    for key, conv in (("chosen", chosen), ("rejected", rejected)):
        if conv[-1]["role"] != "assistant":
            problems.append((key, "the last message must be the assistant's answer"))
    if not problems and chosen[:-1] != rejected[:-1]:
        problems.append(("rejected", "its prompt messages differ from those of 'chosen'"))
    if not problems and not chosen[:-1]:
        problems.append(("chosen", "no prompt messages before the answer"))
    pid = _optional_id(record, problems)
    if problems:
        raise RecordInvalid(problems)
    prompt: Any = chosen[:-1]
    if len(prompt) == 1 and prompt[0]["role"] == "user":
        prompt = prompt[0]["content"]
    extra = {k: v for k, v in record.items() if k not in {"chosen", "rejected", "id", "prompt"}}
    if not (chosen[-1]["content"].strip() or rejected[-1]["content"].strip()):
        raise RecordInvalid([("rejected", "both responses are empty")])
    pair = PreferencePair(
        prompt,
        chosen[-1]["content"],
        rejected[-1]["content"],
        None,
        pid if pid is not None else str(index),
        "chosen",
        extra,
    )
    return pair, warnings


_HARM = {"harmful": True, "unharmful": False}


def _parse_wildguard(record: dict, index: int) -> tuple[PromptItem, FieldProblems]:
    problems: FieldProblems = []
    prompt = _text(record, "prompt", problems)
    harm = record.get("prompt_harm_label")
    if harm is not None and harm not in _HARM:
        problems.append(("prompt_harm_label", f"expected harmful/unharmful/null, got {harm!r}"))
    adversarial = record.get("adversarial")
    if adversarial is not None and not isinstance(adversarial, bool):
        problems.append(("adversarial", f"expected true/false, got {adversarial!r}"))
    for key in ("response", "response_refusal_label"):
        if record.get(key) is not None and not isinstance(record[key], str):
            problems.append((key, f"expected text or null, got {type(record[key]).__name__}"))
    if problems:
        raise RecordInvalid(problems)
    extra = {
        k: record.get(k)
        for k in ("response", "response_refusal_label", "response_harm_label", "subcategory")
    }
    item = PromptItem(
        prompt, str(record.get("id", index)), None, _HARM.get(harm), adversarial, extra
    )
    return item, []


_GSM_ANSWER = re.compile(r"####\s*(-?[\d,]*\.?\d+)\s*$")


def _parse_gsm8k(record: dict, index: int) -> tuple[PromptItem, FieldProblems]:
    problems: FieldProblems = []
    question = _text(record, "question", problems)
    answer = _text(record, "answer", problems)
    match = _GSM_ANSWER.search(answer) if answer else None
    if answer and not match:
        problems.append(("answer", "does not end with '#### <number>'"))
    if problems:
        raise RecordInvalid(problems)
    reference = match.group(1).replace(",", "")
    item = PromptItem(question, str(record.get("id", index)), reference, extra={"solution": answer})
    return item, []


FORMATS.add(
    "pairs",
    RecordFormat(
        "pairs",
        "pairs",
        lambda r: "chosen" in r and "rejected" in r and not isinstance(r.get("chosen"), list),
        _parse_pairs,
        ("prompt", "chosen", "rejected"),
    ),
)
FORMATS.add(
    "chat_pairs",
    RecordFormat(
        "chat_pairs",
        "pairs",
        lambda r: ((isinstance(r.get("chosen"), list) or isinstance(r.get("rejected"), list))
                   and not _styled_lists(r)),
        _parse_chat_pairs,
        ("chosen", "rejected"),
    ),
)
FORMATS.add(
    "wildguardtest",
    RecordFormat(
        "wildguardtest",
        "prompts",
        lambda r: "prompt_harm_label" in r or "response_refusal_label" in r,
        _parse_wildguard,
        ("prompt", "prompt_harm_label"),
    ),
)
FORMATS.add(
    "gsm8k",
    RecordFormat("gsm8k", "prompts", lambda r: "question" in r and "answer" in r, _parse_gsm8k,
                 ("question", "answer")),
)


def _styled_answers(record: dict, key: str, problems: FieldProblems) -> tuple[str, ...] | None:
    value = record.get(key)
    if not isinstance(value, list) or len(value) != len(RMBENCH_STYLES):
        problems.append((key, f"expected a list of {len(RMBENCH_STYLES)} answers "
                              f"({', '.join(RMBENCH_STYLES)})"))
        return None
    for k, text in enumerate(value):
        if not isinstance(text, str) or not text.strip():
            problems.append((f"{key}[{k}]", "expected non-empty text"))
            return None
    return tuple(value)


def _styled_lists(record: dict) -> bool:
    """RM-Bench's shape: chosen and rejected are lists of answers (text), not chats."""
    return all(isinstance(record.get(k), list) and record[k]
               and all(isinstance(x, str) for x in record[k]) for k in ("chosen", "rejected"))


def _parse_rmbench(record: dict, index: int) -> tuple[StyledItem, FieldProblems]:
    problems: FieldProblems = []
    prompt = _prompt(record, problems)
    chosen = _styled_answers(record, "chosen", problems)
    rejected = _styled_answers(record, "rejected", problems)
    raw_domain = record.get("domain")
    domain = rmbench_domain(raw_domain) if isinstance(raw_domain, str) else None
    if domain is None:
        problems.append(("domain", f"expected one of {', '.join(RMBENCH_DOMAINS)} (or "
                                   f"safety-refuse/safety-response), got {raw_domain!r}"))
    subset = record.get("subset")
    if subset is not None and not isinstance(subset, str):
        problems.append(("subset", f"expected text, got {type(subset).__name__}"))
    pid = _optional_id(record, problems)
    if problems:
        raise RecordInvalid(problems)
    extra = {k: v for k, v in record.items()
             if k not in {"prompt", "chosen", "rejected", "domain", "subset", "id"}}
    if raw_domain != domain:
        extra["subdomain"] = raw_domain
    item = StyledItem(prompt, chosen, rejected, domain, subset,
                      pid if pid is not None else str(index), extra)
    return item, []


FORMATS.add(
    "rmbench",
    RecordFormat(
        "rmbench",
        "styled",
        _styled_lists,
        _parse_rmbench,
        ("prompt", "chosen", "rejected", "domain"),
    ),
)

def detection_order() -> list[RecordFormat]:
    """Every registered format, built-in or plugin, in the order detection tries them."""
    return sorted((FORMATS.get(name) for name in FORMATS.names()),
                  key=lambda f: (-f.priority, f.name))


def detect_format(record: dict) -> RecordFormat | None:
    return next((fmt for fmt in detection_order() if fmt.detect(record)), None)


def missing_fields(record: dict) -> tuple[str, list[str]] | None:
    """For a record no format recognises: (closest format, its fields the record lacks).

    Closest = most required fields present; None when the record shares no field with any.
    """
    best = max(detection_order(), key=lambda f: sum(k in record for k in f.fields))
    if not any(k in record for k in best.fields):
        return None
    return best.name, [k for k in best.fields if k not in record]
