"""The ``rules`` oracle: offline heuristics that change one causal attribute and little else.

No model is involved, so everything it produces is labelled approximate. What it does:
- rubrics: correctness, completeness and relevance for every prompt, plus safety when the prompt
  looks harmful (a keyword list);
- degrade correctness: make a right equation ``a op b = c`` wrong, else shift one or two numbers
  (never list markers) by a plausible amount, else swap a named entity for another one from the
  data; the length barely moves;
- degrade completeness: drop a block of steps (lines or sentences) from the middle, or cut the
  end off; shorter by nature, which the tie pairs of ``crome.augment`` counter;
- degrade relevance: replace one sentence by an off-topic sentence of similar length taken from
  an answer to another prompt in the data;
- degrade safety (harmful prompts only): replace the refusal by a compliant opener, turning the
  refusal into a non-answer that agrees to help;
- upgrades only where a rule is honest: fixing a wrong equation ``a op b = c``. Every other
  upgrade is declined (``OracleSkip("no_honest_rule")``) and counted by the caller.
Each choice comes from ``rng_for(seed, "crome-rules", prompt, answer, rubric, direction)``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from crome.errors import OracleSkip
from crome.oracles import ORACLES, Oracle
from crome.rubrics import DEFAULT_RUBRICS, SAFETY, Rubric
from harness.data.schema import PreferencePair
from harness.seeding import rng_for, text_hash

HARM_WORDS = (
    "kill", "murder", "bomb", "explosive", "weapon", "gun", "poison", "hack", "hacking",
    "malware", "ransomware", "phishing", "steal", "shoplift", "counterfeit", "launder",
    "drugs", "meth", "cocaine", "overdose", "suicide", "self-harm", "terrorist", "terrorism",
    "attack", "abuse", "kidnap", "racist", "illegal", "fraud", "scam", "torture",
)
_HARM_RE = re.compile(r"\b(?:" + "|".join(map(re.escape, HARM_WORDS)) + r")\w*", re.I)
_REFUSAL_RE = re.compile(
    r"\b(?:I(?:'m| am) sorry|I apologi[sz]e|I can(?:no|')t|I cannot|I won't|I will not|"
    r"I(?:'m| am) (?:not able|unable)|as an AI|I must decline|not (?:able|going) to help)\b",
    re.I,
)
COMPLIANT_OPENERS = (
    "Sure, here is how you can do that.",
    "Of course! Here is what you need to do.",
    "Absolutely, I can help you with that request.",
    "Sure thing. Here is an approach you could take.",
)
_NUMBER_RE = re.compile(r"(?<![\w.,])\d+(?:\.\d+)?(?![\w]|\.\d)")
_EQUATION_RE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*([-+*/x\u00d7])\s*(\d+(?:\.\d+)?)\s*=\s*(\d+(?:\.\d+)?)(?![\w]|\.\d)"
)
_ENTITY_RE = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})*")
_NOT_ENTITIES = frozenset({"The", "This", "That", "These", "However", "And", "But", "For",
                           "You", "Your", "Yes", "Note", "Step", "Here", "It", "In", "If"})
_TRAILER_RE = re.compile(r"\n\s*Confidence:\s*\d+(?:\.\d+)?\s*%\s*$", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])")


def looks_harmful(prompt: str) -> bool:
    return bool(_HARM_RE.search(prompt))


def is_refusal(answer: str) -> bool:
    return bool(_REFUSAL_RE.search(answer[:400]))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; the whitespace between sentences belongs to neither."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _units(text: str) -> list[tuple[int, int]]:
    """Steps: non-empty lines when the answer is laid out in lines, else sentences."""
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]*\S[^\n]*", text)]
    return lines if len(lines) >= 3 else sentence_spans(text)


def _eval(a: float, op: str, b: float) -> float | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op in "*x\u00d7":
        return a * b
    return a / b if b else None


def _format_like(value: float, like: str) -> str:
    decimals = len(like.split(".")[1]) if "." in like else 0
    if decimals == 0 and abs(value - round(value)) > 1e-9:
        decimals = 2
    return f"{value:.{decimals}f}"


def _equations(answer: str, right: bool) -> list[re.Match[str]]:
    found = []
    for m in _EQUATION_RE.finditer(answer):
        value = _eval(float(m.group(1)), m.group(2), float(m.group(3)))
        if value is None:
            continue
        is_right = abs(value - float(m.group(4))) <= 1e-6 + 0.005 * abs(value)
        if is_right == right:
            found.append(m)
    return found


def _shift_number(text: str, rng: random.Random, percent: bool = False) -> str:
    """A plausible wrong value: off by 10-30% (at least 1), never negative, <= 100 for %."""
    value = float(text)
    step = max(1.0, round(abs(value) * rng.uniform(0.1, 0.3)))
    up = value < 2 or rng.random() < 0.5
    if percent and value + step > 100:
        up = False
    return _format_like(value + step if up else value - step, text)


@ORACLES.register("rules")
class RulesOracle(Oracle):
    name = "rules"
    approximate = True
    deterministic = True
    cacheable = False  # cheap, and its donor pools depend on the whole dataset
    version = "crome-rules-v1"

    def __init__(self, model: str = "", *, seed: int = 0, **options: Any):
        super().__init__(model or "heuristics", seed=seed)
        self._donors: list[tuple[str, str]] = []  # (prompt hash, sentence)
        self._entities: list[str] = []

    def prepare(self, pairs: list[PreferencePair]) -> None:
        donors, entities = set(), set()
        for pair in pairs:
            key = text_hash(pair.prompt_text)
            for answer in (pair.chosen, pair.rejected):
                for start, end in sentence_spans(answer):
                    sentence = answer[start:end].strip()
                    if 20 <= len(sentence) <= 300 and "\n" not in sentence:
                        donors.add((key, sentence))
                entities.update(e for e in _ENTITY_RE.findall(answer) if e not in _NOT_ENTITIES)
        self._donors = sorted(donors)
        self._entities = sorted(entities)

    def rubrics(self, prompt: str) -> list[Rubric]:
        return [*DEFAULT_RUBRICS, SAFETY] if looks_harmful(prompt) else list(DEFAULT_RUBRICS)

    def rewrite(self, prompt: str, answer: str, rubric: Rubric, direction: str) -> str | None:
        rule = _RULES.get((rubric.name, direction))
        if rule is None:
            raise OracleSkip("no_honest_rule" if direction == "upgrade" else "no_rule")
        rng = rng_for(self.seed, "crome-rules", text_hash(prompt), text_hash(answer),
                      rubric.name, direction)
        # UltraFeedback answers often end in "Confidence: 90%": a self-report, not content.
        trailer = _TRAILER_RE.search(answer)
        cut = trailer.start() if trailer else len(answer)
        return rule(self, prompt, answer[:cut], rng) + answer[cut:]

    # -- degradations -------------------------------------------------------------------------

    def _wrong_facts(self, prompt: str, answer: str, rng: random.Random) -> str:
        equations = _equations(answer, right=True)
        if equations:
            m = rng.choice(equations)
            return answer[: m.start(4)] + _shift_number(m.group(4), rng) + answer[m.end(4):]
        numbers = [m for m in _NUMBER_RE.finditer(answer) if not _is_list_marker(answer, m)]
        if numbers:
            chosen = sorted(rng.sample(numbers, min(len(numbers), rng.choice((1, 2)))),
                            key=lambda m: m.start(), reverse=True)
            for m in chosen:
                percent = answer[m.end():m.end() + 1] == "%"
                answer = (answer[: m.start()] + _shift_number(m.group(), rng, percent)
                          + answer[m.end():])
            return answer
        present = sorted({e for e in _ENTITY_RE.findall(answer) if e not in _NOT_ENTITIES})
        if not present:
            raise OracleSkip("no_facts")
        target = rng.choice(present)
        pool = [e for e in self._entities if e not in present and e not in prompt]
        if pool:
            close = sorted(rng.sample(pool, min(30, len(pool))),
                           key=lambda e: abs(len(e) - len(target)))
            other = close[0]
        elif len(present) >= 2:  # swap two entities of the answer
            other = rng.choice([e for e in present if e != target])
            return re.sub(rf"\b(?:{re.escape(target)}|{re.escape(other)})\b",
                          lambda m: other if m.group() == target else target, answer)
        else:
            raise OracleSkip("no_facts")
        return re.sub(rf"\b{re.escape(target)}\b", other, answer)

    def _drop_steps(self, prompt: str, answer: str, rng: random.Random) -> str:
        units = _units(answer)
        if len(units) < 3:
            raise OracleSkip("too_short")
        n = len(units)
        k = max(1, n // 3)
        if rng.random() < 0.5:  # drop key steps from the middle
            first = rng.randint(1, n - k - 1) if n - k - 1 >= 1 else 1
            return (answer[: units[first][0]] + answer[units[first + k - 1][1]:].lstrip()).rstrip()
        return answer[: units[n - k - 1][1]]  # truncate: cut the last steps off

    def _off_topic(self, prompt: str, answer: str, rng: random.Random) -> str:
        spans = sentence_spans(answer)
        if len(spans) < 2:
            raise OracleSkip("too_short")
        own = text_hash(prompt)
        start, end = spans[rng.randint(1, len(spans) - 1)]
        target = end - start
        sample = rng.sample(self._donors, min(60, len(self._donors)))
        donors = [s for key, s in sample if key != own]
        if not donors:
            raise OracleSkip("no_donor")
        donor = min(donors, key=lambda s: abs(len(s) - target))
        return answer[:start] + donor + answer[end:]

    def _comply(self, prompt: str, answer: str, rng: random.Random) -> str:
        if not looks_harmful(prompt):
            raise OracleSkip("not_harmful")
        spans = [s for s in sentence_spans(answer) if _REFUSAL_RE.search(answer[s[0]:s[1]])]
        if not spans or not is_refusal(answer):
            raise OracleSkip("no_refusal")
        opener = rng.choice(COMPLIANT_OPENERS)
        for start, end in reversed(spans):
            answer = answer[:start] + opener + answer[end:]
            opener = ""
        return re.sub(r"[ \t]{2,}", " ", answer).strip()

    # -- upgrades -----------------------------------------------------------------------------

    def _fix_equation(self, prompt: str, answer: str, rng: random.Random) -> str:
        wrong = _equations(answer, right=False)
        if not wrong:
            raise OracleSkip("no_honest_rule")
        for m in sorted(wrong, key=lambda m: m.start(), reverse=True):
            value = _eval(float(m.group(1)), m.group(2), float(m.group(3)))
            answer = answer[: m.start(4)] + _format_like(value, m.group(4)) + answer[m.end(4):]
        return answer


def _is_list_marker(text: str, m: re.Match[str]) -> bool:
    """``1.`` / ``2)`` at the start of a line: numbering, a format feature, not a fact."""
    line_start = text.rfind("\n", 0, m.start()) + 1
    return not text[line_start:m.start()].strip() and text[m.end():m.end() + 1] in (".", ")")


_RULES: dict[tuple[str, str], Callable[[RulesOracle, str, str, random.Random], str]] = {
    ("correctness", "degrade"): RulesOracle._wrong_facts,
    ("completeness", "degrade"): RulesOracle._drop_steps,
    ("relevance", "degrade"): RulesOracle._off_topic,
    ("safety", "degrade"): RulesOracle._comply,
    ("correctness", "upgrade"): RulesOracle._fix_equation,
}
