"""GSM8K answer extraction and checking, as lm-eval's ``gsm8k`` task does them.

From EleutherAI/lm-evaluation-harness (MIT), ``lm_eval/tasks/gsm8k/gsm8k.yaml``:
- ``strict-match``: regex ``#### (\\-?[0-9\\.\\,]+)``, first match;
- ``flexible-extract``: regex ``(-?[$0-9.,]{2,})|(-?[0-9]+)``, last match (``group_select: -1``);
- no match gives ``[invalid]``;
- ``exact_match`` with ``ignore_case`` and ``regexes_to_ignore: [",", "\\$", "(?s).*#### ",
  "\\.$"]`` applied to prediction and reference (the full solution, whose "#### N" tail
  survives).
lm-eval's own ``RegexFilter`` is used when it imports (it does offline); otherwise the same
regexes run here. Majority vote here is over normalised answers (so "$1,000" and "1000" agree);
lm-eval's ``majority_vote`` filter votes on the raw extracted strings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

STRICT = r"#### (\-?[0-9\.\,]+)"
FLEXIBLE = r"(-?[$0-9.,]{2,})|(-?[0-9]+)"
FILTERS = {"strict-match": (STRICT, 0), "flexible-extract": (FLEXIBLE, -1)}
IGNORE = (",", "\\$", "(?s).*#### ", "\\.$")
INVALID = "[invalid]"
INSTRUCTION = ("Solve the problem step by step. End with the final answer on its own line, "
               "written as '#### <number>'.")


def gsm8k_prompt(question: str) -> str:
    """The user message the policy (and the RM) sees for a GSM8K question (zero-shot chat)."""
    return f"{question}\n\n{INSTRUCTION}"


def _own_regex_filter(pattern: str, group_select: int, text: str) -> str:
    """lm-eval's RegexFilter.apply for one response (the fallback when lm-eval is missing)."""
    matches = re.findall(pattern, text if isinstance(text, str) else "")
    if not matches:
        return INVALID
    match = matches[group_select]
    if isinstance(match, tuple):
        match = next((m for m in match if m), INVALID)
    return match.strip()


def _lm_eval_filter(pattern: str, group_select: int):
    try:
        from lm_eval.filters.extraction import RegexFilter
    except Exception:  # noqa: BLE001 - any import failure means: use our copy
        return None
    return RegexFilter(regex_pattern=pattern, group_select=group_select, fallback=INVALID)


_FILTER_CACHE: dict[str, object] = {}


def extract(text: str, mode: str = "flexible-extract", *, use_lm_eval: bool = True) -> str:
    """The answer lm-eval's filter ``mode`` takes from a response, or ``[invalid]``."""
    pattern, group = FILTERS[mode]
    if use_lm_eval:
        if mode not in _FILTER_CACHE:
            _FILTER_CACHE[mode] = _lm_eval_filter(pattern, group)
        lm_filter = _FILTER_CACHE[mode]
        if lm_filter is not None:
            return list(lm_filter.apply([[text]], [{}]))[0][0]  # type: ignore[attr-defined]
    return _own_regex_filter(pattern, group, text)


def normalise(answer: str) -> str:
    """exact_match's normalisation: drop the ignored patterns, then lower-case."""
    for pattern in IGNORE:
        answer = re.sub(pattern, "", answer)
    return answer.lower().strip()


def is_correct(extracted: str, reference: str) -> bool:
    """``reference`` may be the full solution ("... #### 72") or the bare number."""
    return extracted != INVALID and normalise(extracted) == normalise(reference)


def majority(answers: Sequence[str]) -> str:
    """Most common answer; ties go to the one seen first (``Counter`` keeps insertion order)."""
    return Counter(answers).most_common(1)[0][0]
