"""Checks on an oracle's rewrite: keep it only if it plausibly changed what was asked.

A model asked to make an answer worse (or better) in one rubric can hand back the answer as it
was, the prompt or our instructions, a loop, or the same words with new punctuation; a small
local model (``hf``) does all of these. Such a pair would be labelled as a causal change that
is not there. Nothing here can prove that the named rubric moved (that needs a judge); these
are the checks text alone allows, each with a short reason that is counted per run:

- ``identical``: the same text once whitespace is evened out;
- ``echo``: our scaffolding (``<<<``, the instructions) that the answer did not have, or the
  user's prompt instead of an answer (5+ content words, 80% of them the prompt's and under half
  of them the answer's; a one-word answer like "3" is never an echo);
- ``repeats``: one line three times or more where the answer had no such loop;
- ``length``: a rewrite of an answer of 200+ characters that is under 0.3x or over 3x as long
  ("keep everything else, length included": not a single-attribute edit);
- ``cosmetic``: the same words and numbers in the same order (case, punctuation, markdown and
  function words apart), which cannot have changed a causal attribute (two names swapped is a
  change: the order differs);
- ``facts_kept``: a degrade of a facts-or-steps rubric (correctness, accuracy, completeness,
  detail, ...) in which every word and number of the answer is still there, in order: nothing
  named was changed or left out, only text added (an added negation is a change). Other
  rubrics may be degraded by adding (an off-topic aside, unsafe content), so they are not held
  to this.

- ``only_removed``: an upgrade of a coverage rubric (completeness, detail, steps, ...) that
  only left text out (its words are the answer's, in order): it cannot cover more.

The checks run where the rewrites are used (``crome.augment``), not inside the oracles, so
cached answers are checked too and a change here needs no new oracle calls. They run for
every oracle; ``rules`` builds its edits to pass them.
"""

from __future__ import annotations

import re
from collections import Counter

from crome.prompts import SCAFFOLDING
from crome.rubrics import Rubric

ECHO_MIN = 5  # content words a rewrite needs before it can be called the prompt's echo
REASONS = ("identical", "echo", "repeats", "length", "cosmetic", "facts_kept", "only_removed")
FACT_RUBRICS = re.compile(r"correct|accura|fact|complete|step|detail|precis|thorough|numer|truth")
COVERAGE_RUBRICS = re.compile(r"complete|step|detail|thorough|cover")
# Function words: changing only these is cosmetic. Negations (not, no, never) are not among
# them: "is not a mammal" says the opposite.
STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being "
    "it its this that these those there here so than then too very can could would should will "
    "shall may might must do does did has have had i you he she we they me him her us "
    "them my your his our their what which who whom when where why how all any each also just "
    "about into over such only own same other more most some".split()
)
# An added "not" turns a claim around: that is a change, not an addition.
_NEGATION_RE = re.compile(r"\b(?:not|no|never|none|nothing|neither|nor|cannot)\b|n't", re.I)
_TOKEN_RE = re.compile(r"[^\W_]+(?:[.,][0-9]+)*", re.U)


def content_tokens(text: str) -> list[str]:
    """Lower-cased words and numbers in order, function words left out."""
    return [t for t in (m.group().lower() for m in _TOKEN_RE.finditer(text))
            if t not in STOPWORDS]


def _coverage(tokens: list[str], other: list[str]) -> float:
    """Share of ``tokens`` (with repeats) that ``other`` also has."""
    mine, theirs = Counter(tokens), Counter(other)
    return sum(min(n, theirs[t]) for t, n in mine.items()) / len(tokens) if tokens else 1.0


def _only_added(old: list[str], new: list[str]) -> bool:
    """``old`` is a subsequence of ``new``: everything kept, in order, and only text added."""
    rest = iter(new)
    return all(token in rest for token in old)


def _repeats(text: str) -> int:
    lines = [line.strip() for line in text.splitlines() if len(line.strip()) >= 15]
    return max((lines.count(line) for line in set(lines)), default=0)


def rewrite_rejection(prompt: str, original: str, rewrite: str, rubric: Rubric,
                      direction: str) -> str | None:
    """Why ``rewrite`` does not count as ``original`` changed along ``rubric`` (one of
    ``REASONS``), or None when it passes every check."""
    if " ".join(rewrite.split()) == " ".join(original.split()):
        return "identical"
    if any(mark in rewrite and mark not in original for mark in SCAFFOLDING):
        return "echo"
    new, old, asked = content_tokens(rewrite), content_tokens(original), content_tokens(prompt)
    if len(new) >= ECHO_MIN and _coverage(new, asked) >= 0.8 and _coverage(new, old) < 0.5:
        return "echo"
    if _repeats(rewrite) >= 3 > _repeats(original):
        return "repeats"
    if len(original) >= 200 and not 0.3 <= len(rewrite) / len(original) <= 3.0:
        return "length"
    if new == old:
        return "cosmetic"
    if (direction == "degrade" and FACT_RUBRICS.search(rubric.name) and _only_added(old, new)
            and len(_NEGATION_RE.findall(rewrite)) == len(_NEGATION_RE.findall(original))):
        return "facts_kept"
    if direction == "upgrade" and COVERAGE_RUBRICS.search(rubric.name) and _only_added(new, old):
        return "only_removed"
    return None
