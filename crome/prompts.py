"""Every prompt Crome sends to an oracle, with the JSON schemas and the parsers of the answers.

The paper does not publish its prompts (see ../shared/notes/papers.md, section 1b-c); these are
ours. They live in one module, under one ``PROMPT_VERSION``, because the oracle cache is keyed
by it: change any text here and bump the version, or a rerun would reuse answers to old prompts.

Two answer formats: ``json`` (Gemini's structured output, with ``RUBRICS_SCHEMA`` /
``REWRITE_SCHEMA`` as its response schema) and ``text`` (small local chat models, which follow a
schema poorly: rubrics as a list, rewrites as the bare answer). Both are parsed and validated
here; a bad answer raises ``MalformedAnswer`` so the caller can ask again or skip and count it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from crome.errors import MalformedAnswer
from crome.rubrics import MAX_RUBRICS, Rubric, normalize_name

PROMPT_VERSION = "crome-prompts-v1"
DIRECTIONS = ("degrade", "upgrade")
PROMPT_CHARS = 4000  # prompt context shown to the oracle (the answer itself is never cut)

# Names the method treats as spurious by construction (Crome intervenes on causal ones only).
SPURIOUS_NAMES = frozenset(
    {"length", "word_count", "verbosity", "tone", "format", "formatting", "style", "politeness"}
)

RUBRICS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rubrics": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
                "required": ["name", "description"],
            },
        }
    },
    "required": ["rubrics"],
}

REWRITE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"changed": {"type": "boolean"}, "rewrite": {"type": "string"}},
    "required": ["changed", "rewrite"],
}

_RUBRICS_TASK = """\
You help build training data for a reward model. Below is a user's prompt. List the 2 to \
{max_rubrics} attributes of an answer to THIS prompt that truly make the answer better: causal \
quality attributes such as correctness, completeness, relevance, safety, or soundness of \
reasoning. Do not list surface features such as length, tone, style or formatting.
"""

_RUBRICS_JSON = """\
Answer in JSON: {"rubrics": [{"name": "short_snake_case_name", "description": "one \
sentence"}]}.
"""

_RUBRICS_TEXT = """\
Answer with a JSON list of short attribute names only, for example \
["correctness", "completeness", "relevance"].
"""

_DEGRADE = """\
Rewrite the answer below so that it is clearly WORSE in exactly one attribute: \
{name} ({description}). Keep everything else as close to the original as possible: the same \
length, tone, style, formatting, language and all content unrelated to {name}. Do not mention \
or mark the change.
"""

_UPGRADE = """\
Rewrite the answer below so that it is clearly BETTER in exactly one attribute: \
{name} ({description}). Keep everything else as close to the original as possible: the same \
length, tone, style, formatting, language and all content unrelated to {name}. Do not mention \
or mark the change.
"""

_REWRITE_JSON = """\
Answer in JSON: {{"changed": true, "rewrite": "<the rewritten answer>"}}. If the answer cannot \
honestly be made {comparative} in {name} alone, answer {{"changed": false, "rewrite": ""}}.
"""

_REWRITE_TEXT = "Reply with the rewritten answer only.\n"
_ANSWER_LABEL = "The answer to rewrite"
# Pieces of the prompts above that a rewrite has no business containing (an echo).
SCAFFOLDING = ("<<<", ">>>", _ANSWER_LABEL, "The user's prompt:", "clearly WORSE",
               "clearly BETTER", "Keep everything else as close to the original",
               "Do not mention or mark the change", "Reply with the rewritten answer only")


def _clip(text: str, limit: int = PROMPT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit // 2] + "\n[...]\n" + text[-limit // 2:]


def rubrics_prompt(prompt: str, fmt: str = "json") -> str:
    """Step 1: the oracle lists a prompt's causal rubrics."""
    head = _RUBRICS_TASK.format(max_rubrics=MAX_RUBRICS)
    tail = _RUBRICS_JSON if fmt == "json" else _RUBRICS_TEXT
    return f"{head}\nPrompt:\n<<<\n{_clip(prompt)}\n>>>\n\n{tail}"


def rewrite_prompt(prompt: str, answer: str, rubric: Rubric, direction: str,
                   fmt: str = "json") -> str:
    """Step 2: the oracle rewrites one answer along one rubric, in one direction."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    task = _DEGRADE if direction == "degrade" else _UPGRADE
    description = rubric.description or rubric.name.replace("_", " ")
    head = task.format(name=rubric.name, description=description)
    if fmt == "json":
        comparative = "worse" if direction == "degrade" else "better"
        tail = _REWRITE_JSON.format(comparative=comparative, name=rubric.name)
    else:
        tail = _REWRITE_TEXT
    return (f"{head}\nThe user's prompt:\n<<<\n{_clip(prompt)}\n>>>\n\n"
            f"{_ANSWER_LABEL}:\n<<<\n{answer}\n>>>\n\n{tail}")


# ---------------------------------------------------------------------------------------------
# Parsing and validation


def _first_json(text: str) -> Any:
    """The whole text as JSON, else the first JSON object or list inside it (code fences etc.)."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text[match.start():])
            return value
        except json.JSONDecodeError:
            continue
    raise MalformedAnswer("no JSON in the answer")


def _bullets(text: str) -> list[str]:
    """``- correctness: ...`` / ``1. Relevance`` lines: what small models write instead of JSON."""
    names = []
    for line in text.splitlines():
        m = re.match(r"\s*(?:[-*\u2022]|\d+[.)])\s+\**([A-Za-z][A-Za-z _-]{1,38})", line)
        if m and len(m.group(1).split()) <= 3:  # a name, not a sentence
            names.append(m.group(1))
    return names


def parse_rubrics(text: str, fmt: str = "json") -> list[Rubric]:
    """Validated rubrics: 1..MAX_RUBRICS distinct, snake_case, none of them spurious."""
    try:
        data = _first_json(text)
    except MalformedAnswer:
        if fmt == "json":
            raise
        data = _bullets(text)
    if isinstance(data, dict):
        data = data.get("rubrics")
    if not isinstance(data, list):
        raise MalformedAnswer("expected a list of rubrics")
    rubrics: dict[str, Rubric] = {}
    for item in data:
        if isinstance(item, str):
            name, description = item, ""
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            name, description = item["name"], str(item.get("description") or "")
        else:
            continue
        key = normalize_name(name)
        if key and key not in SPURIOUS_NAMES and key not in rubrics:
            rubrics[key] = Rubric(key, description.strip()[:200])
    if not rubrics:
        raise MalformedAnswer("no usable rubric in the answer")
    return list(rubrics.values())[:MAX_RUBRICS]


def _check_rewrite(rewrite: str) -> str:
    """Parsing only: whether the rewrite changed what was asked is ``crome.checks``' job."""
    rewrite = rewrite.strip()
    if not rewrite:
        raise MalformedAnswer("empty rewrite")
    return rewrite


def parse_rewrite(text: str, original: str, fmt: str = "json") -> str | None:
    """The rewritten answer; None when the oracle says no such rewrite exists.

    Raises ``MalformedAnswer`` when there is no answer to read (no JSON, no rewrite, empty).
    Whether the rewrite is usable (not identical, not an echo, not cosmetic, ...) is checked
    by ``crome.checks`` where rewrites are used, so cached answers are checked the same way.
    """
    if fmt == "json":
        data = _first_json(text)
        if not isinstance(data, dict) or not isinstance(data.get("rewrite"), str):
            raise MalformedAnswer("expected {\"changed\": bool, \"rewrite\": str}")
        if data.get("changed") is False:
            return None
        return _check_rewrite(data["rewrite"])
    text = text.strip()
    fence = re.fullmatch(r"```[a-z]*\n(.*)\n```", text, flags=re.S)
    if fence:
        text = fence.group(1)
    text = re.sub(r"^(?:here is |here's )?(?:the )?rewritten answer\s*:\s*", "", text, flags=re.I)
    text = text.strip().removeprefix("<<<").removesuffix(">>>")
    return _check_rewrite(text)
