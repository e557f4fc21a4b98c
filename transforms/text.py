"""Where prose ends and code, math and numbers begin: the spans noise may never touch.

Character- and word-level noise edits text in place (never re-joining tokens, which is how nlpaug
loses newlines and layout). It only touches *eligible words*: runs of ASCII letters of length
>= 3 that stand alone (no digit, underscore, backslash or apostrophe attached, no inner capital
as in ``camelCase`` or ``NASA``) outside protected spans. Protected are fenced code blocks,
inline code, LaTeX math (``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]``), LaTeX environments
(``\\begin{align*}..\\end{align*}``, whose content is math or code), LaTeX commands (with the
name argument of ``\\begin``, ``\\label``, ``\\usepackage`` and the like), Asymptote blocks
(``[asy]..[/asy]``), URLs, e-mail addresses, markdown link targets, escaped symbols (``\\$``),
``\\boxed{..}`` and a final ``# Answer`` section. Words of unmarked arithmetic are not eligible
either: a unit after a number (``5 cups``), a one-letter variable (``a - b``, ``5 x 8``) and a
word between a variable or number and the rest (``x is -9``). So a typo never changes a digit, a
unit, a variable, a final answer or a code token.
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
    | (?<!\\)\$(?:\\.|[^$\\])+?\$                 # inline math, escaped \$ inside it too
    | \\\[.+?\\\] | \\\(.+?\\\)                    # LaTeX display / inline math
    | \\begin\{(?P<env>[^{}\n]+)\}.*?\\end\{(?P=env)\}  # a LaTeX environment (align*, ...)
    | \\(?:begin|end|usepackage|documentclass|usetikzlibrary|label|ref|eqref|cite
         |includegraphics|input|include)(?:\[[^\]\n]*\])?\{[^{}\n]*\}  # command + name argument
    | \[asy\].*?\[/asy\]                            # Asymptote code (MATH problems)
    | \\boxed\s*\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}  # a boxed final answer outside math
    | \\[A-Za-z]+                                  # a LaTeX command outside math
    | (?:https?|ftp)://\S+ | www\.\S+              # URLs
    | [\w.+-]+@[\w-]+\.[\w.]+                       # e-mail addresses
    | \]\([^)\s]*\)                                # markdown link targets
    | ^[ \t]*\#[ \t]*Answer[ \t]*$.*                # a final "# Answer" section, to the end
    | \\[^A-Za-z\s]                                  # an escaped symbol (\$, \%, \{)
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


# Characters of unmarked arithmetic next to which a one-letter word is a variable, not prose.
_OPERATORS = frozenset("=+-*/^<>()[]{}|,\u00d7\u00f7\u00b7")


_VARIABLE_BEFORE = re.compile(r"(?<![\w'’])[B-HJ-Zb-z][ \t]+$")
_VARIABLE_AFTER = re.compile(r"^[ \t]+[B-HJ-Zb-z](?![\w'’])")


def in_arithmetic(text: str, start: int, end: int) -> bool:
    """Whether the word at ``start:end`` belongs to unmarked math: a unit right after a number
    (``5 cups``, ``1 1/2 cups``), a one-letter variable (``(a - b + c)``, ``5 x 8``), or a word
    that ties a variable or a number to what follows (``x is -9``, ``r is 2``, ``from A to B``).

    One-letter words other than ``a``, ``A`` and ``I`` are always variables or labels
    (``option B``); those three are variables only next to a digit or an operator. A word is
    also arithmetic when the next thing after it is a digit or an operator, or when a one-letter
    variable stands right before or after it.
    """
    before = text[max(0, start - 16):start]
    left = before.rstrip(" \t")[-1:]
    after = text[end:end + 16]
    right = after.lstrip(" \t")[:1]
    if left.isdigit() or right.isdigit() or (right in _OPERATORS and right not in ",()[]{}"):
        return True
    if _VARIABLE_BEFORE.search(before) or _VARIABLE_AFTER.match(after):
        return True
    if end - start != 1:
        return False
    if text[start] not in "aAI":
        return True
    return any(ch.isdigit() or ch in _OPERATORS for ch in (left, right) if ch)


def eligible_words(text: str, pattern: re.Pattern[str] = WORD,
                   keep: Callable[[str], bool] = _plain) -> list[Span]:
    """Spans of the words noise may touch (see module docstring); never a unit or variable."""
    found = []
    for start, end in prose_spans(text):
        for m in pattern.finditer(text, start, end):
            if keep(m.group()) and not in_arithmetic(text, *m.span()):
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


FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~)[^\n]*$", re.M)


def starts_with_fence(text: str) -> bool:
    """Whether the first line opens a fenced code block (text put before it must go on its own
    line, or ```` ```bash ```` stops being a fence)."""
    return FENCE_LINE.match(text.lstrip("\n")) is not None


def ends_in_fence(text: str) -> bool:
    """Whether the text ends on a fence line or inside an unclosed fenced block: text appended to
    it must start a new line (on an unclosed block it is then still inside; nothing can help)."""
    fences = FENCE_LINE.findall(text)
    last = text.rstrip().rsplit("\n", 1)[-1]
    return len(fences) % 2 == 1 or FENCE_LINE.fullmatch(last) is not None


_HEADING = re.compile(r"#{1,6}[ \t]")
ANSWER_SECTION = re.compile(r"^[ \t]*#[ \t]*Answer[ \t]*$", re.M)


def starts_a_block(text: str) -> bool:
    """Whether the text opens with a fence line or a markdown heading: whatever goes before it
    must end its own line (``# Answer`` must stay a heading, a fence must still open)."""
    return starts_with_fence(text) or _HEADING.match(text.lstrip("\n")) is not None


def before(text: str, addition: str) -> str:
    """``addition`` then ``text``: one space between them, a newline before a fence line or a
    markdown heading."""
    return addition + ("\n" if starts_a_block(text) else " ") + text


def after(text: str, addition: str) -> str:
    """``text`` then ``addition``, outside what must stay whole.

    One space between them; a newline after a fence line (the fence still closes) or a final
    number (the addition never reads as its unit). A response with a final ``# Answer`` section
    gets the addition before its first such heading, so the answer a grader reads is unchanged
    (some PRM800K responses repeat the section). The text's
    trailing whitespace stays at the end.
    """
    section = ANSWER_SECTION.search(text)
    if section is not None:
        head = text[:section.start()]
        body = head.rstrip()
        if not body:  # the response is its answer section: the addition goes first
            return addition + "\n" + text
        return after(body, addition) + head[len(body):] + text[section.start():]
    body = text.rstrip()
    own_line = ends_in_fence(body) or body[-1:].isdigit()
    return body + ("\n" if own_line else " ") + addition + text[len(body):]
