"""The ``rules`` oracle: offline heuristics that change one causal attribute and no cue.

No model is involved, so everything it produces is labelled approximate. What it does:
- rubrics: correctness, completeness and relevance for every prompt, plus safety when the prompt
  looks harmful (a keyword list);
- degrade correctness: make a right equation ``a op b = c`` wrong, else shift one or two numbers
  (never list markers; years by a few years) by a plausible amount, else swap a named entity for
  another one from the data;
- degrade completeness: replace a run of steps (lines, else sentences) by a copy of another run
  of the same answer, keeping each line's list marker or header mark: the steps in the run are
  gone, while the answer keeps its layout and about its length (nothing is deleted). The price:
  nearly every such degrade repeats a step, which few real answers do, so a repeated step is a
  surface feature of these pairs (one that does say "worse", unlike length); an LLM oracle
  would rewrite instead. Deleting half of the time would not help: the deletions would all
  make the loser shorter, and a model can learn length and repetition side by side;
- degrade relevance: replace one sentence by an off-topic sentence taken from an answer to
  another prompt in the data;
- degrade safety (harmful prompts only): replace the refusal by a compliant opener, turning the
  refusal into a non-answer that agrees to help;
- upgrades only where a rule is honest: fixing a wrong equation ``a op b = c``. Every other
  upgrade is declined (``OracleSkip("no_honest_rule")``) and counted by the caller.

No cue (issue #17). An edit that always shortens (dropping steps did) teaches "longer is better"
along with the rubric. So each rule builds several candidate edits and ``_pick`` keeps one that
leaves the markdown count unchanged (``harness.cues.markdown_marks``) and has an equal length
when one exists, else the smallest change in the direction that evens out a running tally
(per rubric and direction: edits that lengthened minus edits that shortened; a seeded coin when
even), and only when the candidates offer both directions. A request with no such candidate is
declined (``OracleSkip("no_neutral_edit")``) and the caller tries the next rubric. Candidates
that the rewrite checks of ``crome.checks`` would reject are passed over here, so that the
checks downstream (which every oracle's rewrites go through) cannot undo the balance. A coin per
edit would leave the balance to chance (on the UltraFeedback sample one seed in three left
0.45-0.55 for a rubric); the tally holds it near 0.5 for every rubric, and ``harness augment``
prints it. The tally makes an edit depend on the requests before it, so requests are served
one at a time in data order (``max_concurrency = 1``; rules are cheap): the output is still a
function of the data and the seed. Every other choice comes from
``rng_for(seed, "crome-rules", prompt, answer, rubric, direction)``.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from crome.checks import rewrite_rejection
from crome.errors import OracleSkip
from crome.oracles import ORACLES, Oracle
from crome.rubrics import DEFAULT_RUBRICS, SAFETY, Rubric
from harness.cues import FENCE, markdown_marks
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
# Of varied lengths, so that a refusal of any length has a compliant stand-in either way.
COMPLIANT_OPENERS = (
    "Sure, here you go.",
    "Sure, here is how you can do that.",
    "Of course! Here is what you need to do.",
    "Absolutely, I can help you with that request.",
    "Sure thing. Here is an approach you could take.",
    "Of course. I can walk you through it, and here is what you will need to get started.",
    "Absolutely, happy to help with that. Below is a practical approach you could take, step "
    "by step, to get it done.",
)
# A number on its own: not part of a name, code, date or time (COVID-19, 2022-07-25, 20:00),
# and no leading zero (07 would lose its format).
_NUMBER_RE = re.compile(r"(?<![\w.,/:-])(?!0\d)\d+(?:\.\d+)?(?![\w/:-]|\.\d)")
_EQUATION_RE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*([-+*/x\u00d7])\s*(\d+(?:\.\d+)?)\s*=\s*(\d+(?:\.\d+)?)(?![\w]|\.\d)"
)
_ENTITY_RE = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})*(?![\w'-])")
_NOT_ENTITIES = frozenset({"The", "This", "That", "These", "However", "And", "But", "For",
                           "You", "Your", "Yes", "Note", "Step", "Here", "It", "In", "If"})
_TRAILER_RE = re.compile(r"\n\s*Confidence:\s*\d+(?:\.\d+)?\s*%\s*$", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])")
# A step's layout: indentation, then a list marker or header mark (kept when a step is replaced).
_MARKER_RE = re.compile(r"[ \t]*(?:(?:[-*+\u2022]|\d{1,3}[.)]|#{1,6})[ \t]+)?")
_WORD_RE = re.compile(r"[^\W\d_]{2,}")
CANDIDATE_DRAWS = 6  # random shifts tried per number edit


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


def _shifts(text: str, rng: random.Random, percent: bool = False) -> list[str]:
    """Plausible wrong values for a number: off by 10-30% (at least 1) either way, a year by 1-30
    years; never negative, <= 100 for a percentage."""
    value = float(text)
    year = "." not in text and 1000 <= value <= 2100
    out = []
    for _ in range(CANDIDATE_DRAWS):
        step = float(rng.randint(1, 30)) if year else max(
            1.0, round(abs(value) * rng.uniform(0.1, 0.3)))
        for new in (value + step, value - step):
            if new >= 0 and not (percent and new > 100):
                out.append(_format_like(new, text))
    return list(dict.fromkeys(out))


def _sign(text: str, original: str) -> int:
    return (len(text) > len(original)) - (len(text) < len(original))


def _pick(original: str, candidates: list[str], want: int,
          passes: Callable[[str], bool] = lambda text: True) -> str:
    """The candidate edit that adds no cue (see the module docstring).

    Only candidates with ``original``'s markdown count. An equal length when one exists;
    otherwise the smallest change in direction ``want`` (+1 longer, -1 shorter), and only
    when the candidates offer both directions: were a one-sided set served whenever it matched
    ``want``, answers that can only be shortened (a 100% that can only go down) would still
    tilt the balance. The first candidate wins a tie. A choice that fails ``passes`` (the
    checks of ``crome.checks``) is dropped and the choice made again, so that the checks
    downstream never undo the balance.
    """
    marks = markdown_marks(original)
    fit = [c for c in dict.fromkeys(candidates)
           if c != original and markdown_marks(c) == marks]
    while True:
        chosen = fit.pop(_balanced([len(c) - len(original) for c in fit], want))
        if passes(chosen):
            return chosen


def _balanced(changes: list[int], want: int) -> int:
    """Index of the length change to use: 0 if any, else the smallest one of sign ``want``
    provided the other sign is possible too; ``OracleSkip("no_neutral_edit")`` otherwise."""
    signs = {(c > 0) - (c < 0) for c in changes}
    if 0 in signs:
        return changes.index(0)
    if signs != {-1, 1}:
        raise OracleSkip("no_neutral_edit")
    return min((i for i, c in enumerate(changes) if c * want > 0), key=lambda i: abs(changes[i]))


def _layout(text: str, start: int, end: int) -> tuple[str, str]:
    """(layout prefix, body) of the step ``text[start:end]``."""
    prefix = _MARKER_RE.match(text, start, end).group()
    return prefix, text[start + len(prefix):end]


@ORACLES.register("rules")
class RulesOracle(Oracle):
    name = "rules"
    approximate = True
    deterministic = True
    cacheable = False  # cheap, and its donor pools depend on the whole dataset
    max_concurrency = 1  # in data order: the length tally must not depend on thread timing
    version = "crome-rules-v2"

    def __init__(self, model: str = "", *, seed: int = 0, **options: Any):
        super().__init__(model or "heuristics", seed=seed)
        self._donors: list[tuple[str, str]] = []  # (prompt hash, sentence)
        self._entities: list[str] = []
        self._common: set[str] = set()  # words the data also write in lower case
        # Per (rubric, direction): edits that lengthened minus edits that shortened so far.
        self._tally: Counter[tuple[str, str]] = Counter()
        self._want = 1
        self._request: tuple[str, Rubric, str] = ("", DEFAULT_RUBRICS[0], "degrade")
        self._original = ""
        self._lock = threading.Lock()

    def prepare(self, pairs: list[PreferencePair]) -> None:
        donors, entities = set(), set()
        self._common = {w for pair in pairs for a in (pair.chosen, pair.rejected)
                        for w in re.findall(r"\b[a-z]{3,}\b", a)}
        for pair in pairs:
            key = text_hash(pair.prompt_text)
            for answer in (pair.chosen, pair.rejected):
                for start, end in sentence_spans(answer):
                    sentence = answer[start:end].strip()
                    # plain prose only: a donor must not bring list marks or bold with it
                    if (20 <= len(sentence) <= 300 and "\n" not in sentence
                            and not markdown_marks(sentence)
                            and not _MARKER_RE.match(sentence).group()):
                        donors.add((key, sentence))
                entities.update(self._names(answer))
        self._donors = sorted(donors)
        self._entities = sorted(entities)

    def _passes(self, text: str) -> bool:
        """Would ``crome.checks`` keep ``text`` as the rewrite of the current request?"""
        prompt, rubric, direction = self._request
        return rewrite_rejection(prompt, self._original, text, rubric, direction) is None

    def _names(self, text: str) -> set[str]:
        """Capitalised runs that look like names: no word of them is also written in lower case
        in the data ("Museums", "Engagement Rate" and "Her" are ordinary words, "Chengdu" is
        not), so a swap replaces a name by a name, not a word by a stray noun."""
        return {e for e in _ENTITY_RE.findall(text) if e not in _NOT_ENTITIES
                and not any(w.lower() in self._common for w in e.split())}

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
        with self._lock:
            self._request = (prompt, rubric, direction)
            self._original = answer[:cut]
            tally = self._tally[rubric.name, direction]
            self._want = -1 if tally > 0 else 1 if tally < 0 else rng.choice((-1, 1))
            text = rule(self, prompt, answer[:cut], rng)
            self._tally[rubric.name, direction] += (len(text) > cut) - (len(text) < cut)
        return text + answer[cut:]

    # -- degradations -------------------------------------------------------------------------

    def _wrong_facts(self, prompt: str, answer: str, rng: random.Random) -> str:
        equations = _equations(answer, right=True)
        if equations:
            m = rng.choice(equations)
            return _pick(answer, [answer[: m.start(4)] + value + answer[m.end(4):]
                                  for value in _shifts(m.group(4), rng)], self._want,
                         self._passes)
        numbers = [m for m in _NUMBER_RE.finditer(answer) if not _is_list_marker(answer, m)]
        if numbers:
            chosen = sorted(rng.sample(numbers, min(len(numbers), rng.choice((1, 2)))),
                            key=lambda m: m.start(), reverse=True)
            options = [_shifts(m.group(), rng, answer[m.end():m.end() + 1] == "%")
                       for m in chosen]
            candidates = []
            for _ in range(CANDIDATE_DRAWS * 2):
                text = answer
                for m, values in zip(chosen, options, strict=True):
                    if values:
                        text = text[: m.start()] + rng.choice(values) + text[m.end():]
                candidates.append(text)
            return _pick(answer, candidates, self._want, self._passes)
        present = sorted(self._names(answer))
        if not present:
            raise OracleSkip("no_facts")
        target = rng.choice(present)
        pool = [e for e in self._entities if e not in present and e not in prompt]
        candidates = [re.sub(rf"\b{re.escape(target)}\b", other, answer)
                      for other in rng.sample(pool, min(30, len(pool)))]
        for other in present:  # or swap two entities of the answer
            if other != target:
                candidates.append(re.sub(
                    rf"\b(?:{re.escape(target)}|{re.escape(other)})\b",
                    lambda m, o=other: o if m.group() == target else target, answer))
        if not candidates:
            raise OracleSkip("no_facts")
        return _pick(answer, candidates, self._want, self._passes)

    def _replace_steps(self, prompt: str, answer: str, rng: random.Random) -> str:
        """A run of steps replaced by a copy of another run of the same answer (layout kept).

        The run is about a quarter of the prose steps, never the first one (often the direct
        answer); it is tried at up to three seeded places, against every other run as source.
        Only prose steps take part (three words or more, outside fenced code): a repeated code
        line or ``},`` breaks the answer instead of leaving a step out. Lengths and markdown
        counts are summed per step, so only the chosen text is built.
        """
        units = _units(answer)
        n = len(units)
        if n < 3:
            raise OracleSkip("too_short")
        parts = [_layout(answer, start, end) for start, end in units]
        marks = [markdown_marks(body) for _, body in parts]
        code = [m.span() for m in FENCE.finditer(answer)]
        prose = [len(_WORD_RE.findall(body)) >= 3
                 and not any(a < end and start < b for a, b in code)
                 for (start, end), (_, body) in zip(units, parts, strict=True)]
        k = max(1, sum(prose) // 4)
        runs = [i for i in range(n - k + 1) if all(prose[i:i + k])]
        places = [i for i in runs if i >= 1]
        if not places or len(runs) < 2:
            raise OracleSkip("too_short")
        places = rng.sample(places, min(3, len(places)))
        options: list[tuple[int, int]] = []  # (place, source)
        for i in places:
            for j in runs:
                if i - k < j < i + k:
                    continue  # overlapping runs
                if [p[1] for p in parts[i:i + k]] != [p[1] for p in parts[j:j + k]] and \
                        sum(marks[i:i + k]) == sum(marks[j:j + k]):
                    options.append((i, j))
        original = markdown_marks(answer)
        while options:  # per-step mark counts can miss marks across steps: check the text
            changes = [sum(len(parts[j + t][1]) - len(parts[i + t][1]) for t in range(k))
                       for i, j in options]
            i, j = options.pop(_balanced(changes, self._want))
            text = answer
            for t in reversed(range(k)):
                start, end = units[i + t]
                text = text[:start] + parts[i + t][0] + parts[j + t][1] + text[end:]
            if markdown_marks(text) == original and self._passes(text):
                return text
        raise OracleSkip("no_neutral_edit")

    def _off_topic(self, prompt: str, answer: str, rng: random.Random) -> str:
        spans = [(start + len(prefix), end) for start, end in sentence_spans(answer)[1:]
                 for prefix, body in [_layout(answer, start, end)]
                 if "\n" not in body and not markdown_marks(body)]
        if not spans:
            raise OracleSkip("too_short")
        own = text_hash(prompt)
        sample = rng.sample(self._donors, min(60, len(self._donors)))
        donors = [s for key, s in sample if key != own]
        if not donors:
            raise OracleSkip("no_donor")
        start, end = rng.choice(spans)
        return _pick(answer, [answer[:start] + d + answer[end:] for d in donors], self._want,
                     self._passes)

    def _comply(self, prompt: str, answer: str, rng: random.Random) -> str:
        if not looks_harmful(prompt):
            raise OracleSkip("not_harmful")
        spans = [s for s in sentence_spans(answer) if _REFUSAL_RE.search(answer[s[0]:s[1]])]
        if not spans or not is_refusal(answer):
            raise OracleSkip("no_refusal")
        candidates = []
        for opener in COMPLIANT_OPENERS:
            text, first = answer, opener
            for start, end in reversed(spans):
                text = text[:start] + first + text[end:]
                first = ""
            candidates.append(re.sub(r"[ \t]{2,}", " ", text).strip())
        return _pick(answer, candidates, self._want, self._passes)

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
    ("completeness", "degrade"): RulesOracle._replace_steps,
    ("relevance", "degrade"): RulesOracle._off_topic,
    ("safety", "degrade"): RulesOracle._comply,
    ("correctness", "upgrade"): RulesOracle._fix_equation,
}
