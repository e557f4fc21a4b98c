"""Domain transforms: code (hep-*), math (math-prm) and safety (reWordBench group 3).

Code transforms edit *both responses* of the hep-* subsets (HumanEvalPack function bodies in
Python, C++, Go, Java, JavaScript and Rust) and keep their behaviour: only whitespace, comments
and code after the function change. The math transform swaps the answer format of both
math-prm responses; the jailbreak transform wraps safety prompts.
"""

from __future__ import annotations

import random
import re

from harness.data.rewardbench import CODE_SUBSETS, MATH_SUBSETS, SAFETY_SUBSETS
from transforms import code as codelib
from transforms.base import TextContext, transform
from transforms.other_code import candidates
from transforms.snippets import JAILBREAKS

CODE = {"subsets": CODE_SUBSETS}

# -- minification ---------------------------------------------------------------------------------

# Spaces next to these characters never separate two tokens that would merge without them.
# Only spaces after a non-space character go: indentation is handled line by line.
_TIGHT = re.compile(r"(?<=\S)[ \t]+(?=[=,;(){}\[\]])|(?<=[=,;(){}\[\]])[ \t]+")
_SPACES = re.compile(r"(?<=\S)[ \t]{2,}")


def _tighten(code: str) -> str:
    return _TIGHT.sub("", _SPACES.sub(" ", code))


def minify(text: str, lang: str) -> str:
    """Drop comments and blank lines, tighten spaces, shrink indentation; behaviour unchanged.

    Newlines stay (JavaScript and Go insert semicolons at line ends, so joining lines could change
    the program). Python keeps one space per indentation level; other languages lose indentation.
    Strings are never edited, and lines that start inside a multi-line string stay as they are.
    """
    pieces = [p for p in codelib.lex(text, lang) if p.kind != "comment"]
    stripped = "".join(p.text if p.kind == "string" else _tighten(p.text) for p in pieces)
    # Tightening may leave "a=b" from "a = b"; it never touches text inside strings, which were
    # joined back untouched. Now fix the layout line by line.
    out: list[str] = []
    stack = [0]  # Python indentation widths seen, outermost first
    for line in codelib.lines(stripped, lang):
        if line.in_string:
            out.append(line.text)
            continue
        body = line.text.strip()
        if not body:
            continue
        if lang != "python" or line.continuation:
            out.append(body)
            continue
        width = len(line.text) - len(line.text.lstrip())
        while len(stack) > 1 and width < stack[-1]:
            stack.pop()
        if width > stack[-1]:
            stack.append(width)
        out.append(" " * (len(stack) - 1) + body)
    result = "\n".join(out)
    return result + "\n" if text.endswith("\n") and result else result


@transform("code_minify", "domain", "responses", **CODE)
def code_minify(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Minify the code: no comments, no blank lines, tight spaces, minimal indentation.

    Behaviour-preserving by construction (the tests check Python ASTs before and after on all
    hep-python responses). Newlines are kept because JavaScript and Go end statements at line
    ends; Python indentation shrinks to one space per level. Deterministic.
    """
    return minify(text, codelib.language(ctx.subset, ctx.prompt, text))


# -- comments -------------------------------------------------------------------------------------

BAD_COMMENTS = (
    "not sure why this works", "TODO: clean this up later", "magic, do not touch",
    "this part is a bit hacky", "fix me", "copied from somewhere", "weird but it works",
    "I wrote this late at night", "don't ask", "probably fine", "this could be better",
    "temporary hack", "no idea what this does", "trust me", "legacy stuff, ignore",
)


def _comment_spots(text: str, lang: str) -> list[codelib.Line]:
    """Lines a comment line may go before: code lines that start a logical line."""
    return [line for line in codelib.lines(text, lang)
            if line.text.strip() and not line.in_string and not line.continuation]


def _insert_comments(text: str, lang: str, spots: list[tuple[codelib.Line, str]]) -> str:
    prefix = codelib.comment_prefix(lang)
    edits = []
    for line, comment in spots:
        indent = line.text[: len(line.text) - len(line.text.lstrip())]
        edits.append((line.start, f"{indent}{prefix} {comment}\n"))
    out, pos = [], 0
    for start, new in sorted(edits, key=lambda e: e[0]):
        out.append(text[pos:start])
        out.append(new)
        pos = start
    out.append(text[pos:])
    return "".join(out)


def _choose(rng: random.Random, items: list, rate: float) -> list:
    if not items:
        return []
    k = min(len(items), max(1, round(rate * len(items))))
    return [items[i] for i in sorted(rng.sample(range(len(items)), k))]


@transform("code_comment_bad", "domain", "responses", preserves="ranking", **CODE)
def code_comment_bad(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Insert unhelpful comments (``# fix me``, ``// trust me``) before 30% of the code lines.

    "Bad" here means uninformative and unprofessional, never a false statement about the code:
    comments cannot change behaviour, and both responses get them, so the ranking stands. Each
    comment is a whole line, indented like the line it precedes, never inside a string or a
    continued Python line.
    """
    lang = codelib.language(ctx.subset, ctx.prompt, text)
    spots = _choose(rng, _comment_spots(text, lang), 0.3)
    return _insert_comments(text, lang, [(s, rng.choice(BAD_COMMENTS)) for s in spots])


def _clip(expr: str, limit: int = 60) -> str:
    expr = " ".join(expr.split())
    return expr if len(expr) <= limit else expr[: limit - 3].rstrip() + "..."


_GOOD_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), t) for p, t in (
        (r"^for\s+(?:\w+\s*,\s*)*(?:\(?[\w, ]+\)?)\s+in\s+(.+?):$", "Iterate over {0}"),
        # for-each with an optional type (``for (const auto& x : xs)``, ``for (String s : xs)``,
        # ``for (const c of s)``); ``:=`` is Go's declaration, not a for-each colon.
        (r"^for\s*\(?\s*(?:[\w:<>\[\]]+[&*]?\s+[&*]?)*?(\w+)\s*(?:of|:(?![=:]))\s*(.+?)\)?\s*\{?$",
         "Go through each {0} in {1}"),
        (r"^for\s+(?:mut\s+)?(&?\w+|\([\w, &]+\))\s+in\s+(.+?)\s*\{$",
         "Go through each {0} in {1}"),
        (r"^for\s*\(?[^;]*;\s*([^;]+);.*$", "Loop while {0}"),
        (r"^for\s+(?:\w+\s*,\s*)?\w+\s*:=\s*range\s+(.+?)\s*\{$", "Go through each element of {0}"),
        (r"^for\s+(?![(&])(?!.*\sin\s)(.+?)\s*\{$", "Loop while {0}"),  # Go's ``for cond {``
        (r"^while\s*\(?(.+?)\)?\s*[:{]?$", "Repeat while {0}"),
        (r"^(?:\}\s*)?(?:elif|else\s+if)\s*\(?(.+?)\)?\s*[:{]?$", "Otherwise, check whether {0}"),
        (r"^if\s*\(?(.+?)\)?\s*[:{]?$", "Check whether {0}"),
        (r"^(?:\}\s*)?else\s*[:{]?$", "Otherwise"),
        (r"^return\s*;?$", "Return"),
        (r"^return\s+(.+?);?$", "Return {0}"),
        (r"^(?:let\s+(?:mut\s+)?|var\s+|const\s+|auto\s+|[\w<>\[\], ]+?\s+)?(\w+)(?:\s*:\s*[^=]+)?"
         r"\s*(?::=|=(?![=>]))\s*(.+?);?$", "Set {0} to {1}"),
        (r"^(\w+)\s*(\+=|-=|\*=|/=)\s*(.+?);?$", "Update {0} ({1} {2})"),
        (r"^(\w+)\s*(\+\+|--);?$", "Step {0}"),
        (r"^([\w.]+)\.(append|push|push_back|add|insert)\((.+)\);?$", "Add {2} to {0}"),
    )
)


# Templates whose first group is a condition: the line must end where the condition does, or a
# body on the same line (``if (x) return y;``, ``if x: return y``) would be read into it.
_CONDITIONS = ("Check whether {0}", "Otherwise, check whether {0}", "Repeat while {0}")


def _code_only(line: str, lang: str) -> str:
    """The line without its comments (a trailing ``// note`` is no part of what it does)."""
    return "".join(p.text for p in codelib.lex(line, lang) if p.kind != "comment")


def _one_expression(expr: str, lang: str) -> bool:
    """No ``;`` outside strings (one statement), and brackets outside strings never close more
    than were opened and are all closed."""
    depth = 0
    for piece in codelib.lex(expr, lang):
        if piece.kind != "code":
            continue
        for ch in piece.text:
            if ch == ";":
                return False
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth < 0:
                    return False
    return depth == 0


def good_comment(line: str, lang: str = "python") -> str | None:
    """An accurate one-line description of a code line, or None if we cannot say one.

    The line's own comments are dropped first. A match is refused when a captured expression has
    unbalanced brackets (``if (a) && (b)``, ``if (x) y();`` read wrongly) or holds a ``;`` (two
    statements on one line), when a condition is followed by a body on the same line, and when
    an assignment has several targets (``a, b = b, a % b``, ``let a = 1, b = 2``).
    """
    body = _code_only(line, lang).strip()
    for pattern, template in _GOOD_RULES:
        m = pattern.match(body)
        if not m:
            continue
        if not all(_one_expression(g, lang) for g in m.groups()):
            return None
        if template in _CONDITIONS and not body.endswith((":", "{", ")")):
            return None
        if template.startswith("Set ") and (body[: m.start(1)].rstrip().endswith(",")
                                            or re.search(r",\s*\w+\s*=(?!=)", m.group(2))):
            return None
        return template.format(*(_clip(g) for g in m.groups()))
    return None


@transform("code_comment_good", "domain", "responses", **CODE)
def code_comment_good(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Insert accurate comments (``# Iterate over numbers``) before half the describable lines.

    Each comment is derived from the line it precedes by a fixed rule (loops, conditions,
    assignments, returns, appends) and names the line's own expressions, so it is correct by
    construction; lines no rule describes get no comment. Placement as ``code_comment_bad``.
    """
    lang = codelib.language(ctx.subset, ctx.prompt, text)
    spots = [(s, c) for s in _comment_spots(text, lang) if (c := good_comment(s.text, lang))]
    return _insert_comments(text, lang, _choose(rng, spots, 0.5))


@transform("code_append_other", "domain", "responses", preserves="ranking", pair_draw=True,
           **CODE)
def code_append_other(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Append another HumanEvalPack problem's correct solution after the response's code.

    reWordBench's Append Other Code: irrelevant code that leaves the original function's
    behaviour alone. The other problem is one of the pairs transformed together (same hep-*
    subset, another prompt and function name), its function rebuilt from its prompt's
    signature and its chosen body (``transforms.other_code``, which also states what may not
    compile). It is drawn once per
    pair (``pair_draw``), so both responses get the same code and their lengths change alike.
    No candidate (the pair transformed alone, an unknown language): the response is left as it
    is, and the pair counts as unchanged.
    """
    lang = codelib.language(ctx.subset, ctx.prompt, text)
    pool = candidates(ctx.subset, ctx.prompt, lang, ctx.others)
    if not pool:
        return text
    body = text if text.endswith("\n") else text + "\n"
    return body + "\n" + rng.choice(pool)


# -- math -----------------------------------------------------------------------------------------

# The last "# Answer" section: its answer runs to the end and holds no other heading.
_ANSWER_HEADING = re.compile(
    r"(?:^|\n)#[ \t]*Answer[ \t]*\n+(?P<answer>(?:(?!\n#[ \t]*Answer).)+?)\s*\Z", re.S)
_MATH_WRAP = (("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)"))
_BOXED = re.compile(r"\\boxed\s*\{")


def _braced(text: str, open_at: int) -> int | None:
    """Index after the ``}`` closing the ``{`` at ``open_at``, or None."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{" and text[i - 1] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def swap_answer_format(text: str) -> str:
    """``# Answer\\n\\nX`` -> ``$\\boxed{X}$``; otherwise the last ``\\boxed{X}`` -> ``X`` plus
    a final ``# Answer\\n\\nX``."""
    m = _ANSWER_HEADING.search(text)
    if m:
        answer, start = m.group("answer").strip(), m.start()
        # Some PRM800K responses repeat the section; identical repeats before it go too.
        while (before := _ANSWER_HEADING.search(text[:start])) and \
                before.group("answer").strip() == answer:
            start = before.start()
        for left, right in _MATH_WRAP:  # the answer goes inside $\boxed{}$: no math delimiters
            inner = answer[len(left):-len(right)]
            if (answer.startswith(left) and answer.endswith(right) and inner.strip()
                    and left not in inner and right not in inner):
                answer = inner.strip()
                break
        head = text[:start].rstrip("\n")
        return head + ("\n\n" if head else "") + f"$\\boxed{{{answer}}}$"
    boxes = list(_BOXED.finditer(text))
    if not boxes:
        return text
    box = boxes[-1]
    end = _braced(text, box.end() - 1)
    if end is None:
        return text
    answer = text[box.end(): end - 1].strip()
    return text[: box.start()] + answer + text[end:].rstrip() + f"\n# Answer\n\n{answer}"


@transform("math_answer_format", "domain", "responses", subsets=MATH_SUBSETS)
def math_answer_format(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Swap the final-answer format: ``\\boxed{X}`` <-> a closing ``# Answer`` section.

    PRM800K responses end with ``# Answer\\n\\nX``; MATH solutions put ``\\boxed{X}`` inline. In
    RewardBench's math-prm every chosen response is boxed and every rejected one uses ``# Answer``,
    a format cue; the swap flips it on both sides. A boxed answer is unboxed in place and repeated
    under a new ``# Answer`` heading; an ``# Answer`` section becomes ``$\\boxed{X}$`` (a section
    repeated verbatim, as in a few PRM800K responses, becomes one box, and math delimiters around
    X are dropped inside it). The answer itself is copied verbatim. Exempt in the audit (its
    purpose): the final answer's format, the math holding the box, and the answer's numbers,
    which the new ``# Answer`` section repeats. Deterministic.
    """
    return swap_answer_format(text)


# -- safety ---------------------------------------------------------------------------------------


@transform("jailbreak", "domain", "prompt", subsets=SAFETY_SUBSETS, preserves="ranking")
def jailbreak(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Wrap the prompt in a jailbreak template (role-play, "developer mode", fiction framing, ...).

    reWordBench takes templates from the JailbreakChat collection; those are not available
    offline, so we wrote eight short templates in the same genres (DAN-style persona, developer
    mode, amoral character, fiction writer, opposite day, research framing, grandmother story,
    prefix injection). The item's RNG picks one. The preferred response stays preferred: a
    refusal of a harmful request, and a helpful answer to a benign one.
    """
    return rng.choice(JAILBREAKS).format(prompt=text)
