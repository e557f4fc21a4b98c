"""Where prose ends and code, math and numbers begin: the spans noise may never touch.

Character- and word-level noise edits text in place (never re-joining tokens, which is how nlpaug
loses newlines and layout). It only touches *eligible words*: runs of ASCII letters of length
>= 3 that stand alone (no digit, underscore, backslash or apostrophe attached, no inner capital
as in ``camelCase`` or ``NASA``) outside protected spans. Protected are fenced code blocks,
inline code, LaTeX math (``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]``), LaTeX environments
(``\\begin{align*}..\\end{align*}``, whose content is math or code), LaTeX commands (with the
name argument of ``\\begin``, ``\\label``, ``\\usepackage`` and the like), Asymptote blocks
(``[asy]..[/asy]``), URLs, e-mail addresses and markdown link targets. So a typo never changes a
digit or a code token.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable

PROTECTED = re.compile(
    r"""
    ^[ \t]*(?P<fence>```|~~~)[^\n]*\n.*?(?:^[ \t]*(?P=fence)[^\n]*$|\Z)   # fenced code block
    | `[^`\n]+`                                    # inline code
    | \$\$.+?\$\$                                  # display math
    | (?<!\\)\$[^$]+?(?<!\\)\$                     # inline math (or a pair of prices: safe)
    | \\\[.+?\\\] | \\\(.+?\\\)                    # LaTeX display / inline math
    | \\begin\{(?P<env>[^{}\n]+)\}.*?\\end\{(?P=env)\}  # a LaTeX environment (align*, ...)
    | \\(?:begin|end|usepackage|documentclass|usetikzlibrary|label|ref|eqref|cite
         |includegraphics|input|include)(?:\[[^\]\n]*\])?\{[^{}\n]*\}  # command + name argument
    | \[asy\].*?\[/asy\]                            # Asymptote code (MATH problems)
    | \\[A-Za-z]+                                  # a LaTeX command outside math
    | (?:https?|ftp)://\S+ | www\.\S+              # URLs
    | [\w.+-]+@[\w-]+\.[\w.]+                       # e-mail addresses
    | \]\([^)\s]*\)                                # markdown link targets
    """,
    re.S | re.M | re.X,
)

WORD = re.compile(r"(?<![\w\\@#$/.'’])[A-Za-z]{3,}(?![\w'’(/@])(?!\.\w)")
ANY_WORD = re.compile(r"(?<![\w\\@#$/.'’])[A-Za-z]+(?![\w'’(/@])(?!\.\w)")
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?!\w)")

Span = tuple[int, int]


def protected_spans(text: str) -> list[Span]:
    return [m.span() for m in PROTECTED.finditer(text)]


def prose_spans(text: str) -> list[Span]:
    """The (start, end) spans outside every protected span, in order."""
    spans, pos = [], 0
    for start, end in protected_spans(text):
        if start > pos:
            spans.append((pos, start))
        pos = max(pos, end)
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def _plain(word: str) -> bool:
    """No capital after the first letter: ``camelCase``, ``NASA`` and ``iPhone`` are left alone."""
    return word[1:].islower()


def eligible_words(text: str, pattern: re.Pattern[str] = WORD,
                   keep: Callable[[str], bool] = _plain) -> list[Span]:
    """Spans of the words noise may touch (see module docstring)."""
    found = []
    for start, end in prose_spans(text):
        for m in pattern.finditer(text, start, end):
            if keep(m.group()):
                found.append(m.span())
    return found


def replace_spans(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """Apply non-overlapping (start, end, replacement) edits."""
    out, pos = [], 0
    for start, end, new in sorted(edits):
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def pick(rng: random.Random, n: int, rate: float, minimum: int = 1) -> list[int]:
    """Sorted indices of ``max(minimum, round(rate * n))`` of ``n`` items (all if fewer)."""
    if n <= 0:
        return []
    k = min(n, max(minimum, round(rate * n)))
    return sorted(rng.sample(range(n), k))


def perturb_words(text: str, rng: random.Random, edit: Callable[[str, random.Random], str | None],
                  rate: float, *, spans: list[Span] | None = None) -> str:
    """Edit ``rate`` of the eligible words (at least one) with ``edit(word, rng)``.

    ``edit`` returns the new word, or ``None`` when this word cannot be edited (then another
    candidate is tried, so a text with any editable word always changes).
    """
    spans = eligible_words(text) if spans is None else spans
    if not spans:
        return text
    order = list(range(len(spans)))
    rng.shuffle(order)
    want = max(1, round(rate * len(spans)))
    edits = []
    for i in order:
        start, end = spans[i]
        new = edit(text[start:end], rng)
        if new is not None and new != text[start:end]:
            edits.append((start, end, new))
            if len(edits) == want:
                break
    return replace_spans(text, edits)


def match_case(template: str, word: str) -> str:
    """``word`` cased like ``template`` (``Big`` -> ``Large``, ``BIG`` -> ``LARGE``)."""
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def numbers(text: str) -> list[str]:
    """Stand-alone numbers in order (what a meaning-preserving transform must keep)."""
    return NUMBER.findall(text)
