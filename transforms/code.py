"""A small lexer for the six HumanEvalPack languages, enough to edit code without breaking it.

Code transforms must know what is a string or a comment (never edit inside a string; remove only
real comments) and where a line starts inside a string or an open bracket (no comment may be
inserted there, and Python's indentation only counts on logical lines). ``lex`` splits a text
into ``code``, ``string`` and ``comment`` pieces; ``line_starts`` says, for each line, whether it
starts inside a string and whether it continues the previous logical line.

Rules per language: Python ``#`` comments and (triple-)quoted strings with any prefix; C++,
Java, JavaScript, Go and Rust ``//`` and ``/* */`` comments, double-quoted strings, character
literals (Rust lifetimes such as ``'a`` are code), Go raw strings and JavaScript template
literals in backquotes, JavaScript regex literals, Rust raw strings ``r#"..."#``; C++
preprocessor lines count as strings (kept verbatim).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUBSET_LANGUAGE = {"hep-python": "python", "hep-cpp": "cpp", "hep-go": "go", "hep-java": "java",
                   "hep-js": "js", "hep-rust": "rust"}
_PROMPT_LANGUAGE = {"python": "python", "c++": "cpp", "go": "go", "java": "java",
                    "javascript": "js", "rust": "rust"}
_PROMPT_NAMES = re.compile(r"\b(Python|C\+\+|Go|Java|JavaScript|Rust)\b function")


def language(subset: str | None, prompt: str = "", code: str = "") -> str:
    """The language of a code response: from the hep-* subset, the prompt, or the code itself."""
    if subset in SUBSET_LANGUAGE:
        return SUBSET_LANGUAGE[subset]
    m = _PROMPT_NAMES.search(prompt)
    if m:
        return _PROMPT_LANGUAGE[m.group(1).lower()]
    if re.search(r"^\s*(def |return\b|for .+ in .+:|if .+:)", code, re.M) and "{" not in code:
        return "python"
    return "cpp"


def comment_prefix(lang: str) -> str:
    return "#" if lang == "python" else "//"


@dataclass(frozen=True)
class Piece:
    kind: str  # "code", "string" or "comment"
    text: str
    start: int


_RUST_CHAR = re.compile(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^'\\\n])'")
_C_CHAR = re.compile(r"'(?:\\.[^'\n]*|[^'\\\n]+)'")
_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}


def _string_end(text: str, i: int, quote: str, multiline: bool) -> int:
    """Index after the string that starts at ``i`` with ``quote`` (or at the line end)."""
    j = i + len(quote)
    n = len(text)
    while j < n:
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if text.startswith(quote, j):
            return j + len(quote)
        if ch == "\n" and not multiline:
            return j
        j += 1
    return n


def _js_regex_end(text: str, i: int) -> int | None:
    """End of a JavaScript regex literal starting at ``i`` (a ``/``), or None if not one."""
    j, in_class = i + 1, False
    while j < len(text):
        ch = text[j]
        if ch == "\n":
            return None
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            j += 1
            while j < len(text) and text[j].isalpha():
                j += 1
            return j
        j += 1
    return None


def lex(text: str, lang: str) -> list[Piece]:
    """Split code into code/string/comment pieces that concatenate back to ``text``."""
    pieces: list[Piece] = []
    code_start = 0
    i, n = 0, len(text)

    def flush(upto: int) -> None:
        if upto > code_start:
            pieces.append(Piece("code", text[code_start:upto], code_start))

    while i < n:
        ch = text[i]
        end, kind = None, None
        if lang == "python":
            if ch == "#":
                end, kind = text.find("\n", i), "comment"
                end = n if end < 0 else end
            elif ch in "'\"":
                triple = text.startswith(ch * 3, i)
                end, kind = _string_end(text, i, ch * 3 if triple else ch, triple), "string"
        else:
            if text.startswith("//", i):
                end, kind = text.find("\n", i), "comment"
                end = n if end < 0 else end
            elif text.startswith("/*", i):
                end, kind = text.find("*/", i + 2), "comment"
                end = n if end < 0 else end + 2
            elif ch == "#" and lang == "cpp" and not text[text.rfind("\n", 0, i) + 1:i].strip():
                # A preprocessor line is kept verbatim (``#define X (a)`` must keep its space).
                end, kind = text.find("\n", i), "string"
                end = n if end < 0 else end
            elif ch == '"':
                end, kind = _string_end(text, i, '"', lang in ("js", "cpp", "java", "rust")), \
                    "string"
            elif ch == "`" and lang in ("go", "js"):
                end, kind = _string_end(text, i, "`", True), "string"
            elif ch == "'":
                if lang == "js":
                    end, kind = _string_end(text, i, "'", False), "string"
                else:
                    m = (_RUST_CHAR if lang == "rust" else _C_CHAR).match(text, i)
                    if m:
                        end, kind = m.end(), "string"
            elif lang == "rust" and ch == "r" and (m := re.match(r'r(#*)"', text[i:i + 12])):
                if i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"):
                    close = '"' + m.group(1)
                    found = text.find(close, i + len(m.group()))
                    end, kind = (n if found < 0 else found + len(close)), "string"
            elif ch == "/" and lang == "js":
                before = text[:i].rstrip()[-1:]
                word = re.search(r"(\w+)\s*$", text[:i])
                if before in _REGEX_BEFORE or (word and word.group(1) in ("return", "typeof")):
                    end = _js_regex_end(text, i)
                    kind = "string" if end is not None else None
        if kind is None:
            i += 1
            continue
        flush(i)
        pieces.append(Piece(kind, text[i:end], i))
        i = code_start = end
    flush(n)
    return pieces


@dataclass(frozen=True)
class Line:
    """One line of code and the state at its start."""

    start: int  # offset of the first character
    text: str  # without the newline
    in_string: bool  # starts inside a (multi-line) string or block comment
    continuation: bool  # continues the previous logical line (open bracket or backslash)


def lines(text: str, lang: str) -> list[Line]:
    """The lines of ``text`` with their start states."""
    pieces = lex(text, lang)
    # Offsets where a string or comment spans a newline: lines starting there are "inside".
    inside: list[tuple[int, int]] = [(p.start, p.start + len(p.text)) for p in pieces
                                     if p.kind != "code" and "\n" in p.text]
    depth_at: dict[int, int] = {}
    depth = 0
    for p in pieces:
        if p.kind != "code":
            continue
        for k, ch in enumerate(p.text):
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(0, depth - 1)
            elif ch == "\n":
                depth_at[p.start + k + 1] = depth
    out, pos = [], 0
    previous = ""
    for raw in text.split("\n"):
        in_string = any(s < pos < e for s, e in inside)
        open_bracket = depth_at.get(pos, 0) > 0 if lang == "python" else False
        backslash = previous.rstrip().endswith("\\")
        out.append(Line(pos, raw, in_string, pos > 0 and (open_bracket or backslash)))
        previous = raw
        pos += len(raw) + 1
    return out
