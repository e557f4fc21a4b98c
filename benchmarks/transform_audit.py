"""Audit of every rule-based transform on all of RewardBench: what it must keep, does it keep it?

Applies each rule-based transform to every pair it is meant for (seed 0 unless ``--seed``), then
checks, per field it edits, the invariants a meaning-preserving transform must hold:

- ``numbers``: the stand-alone numbers, the word right after each (its unit: ``5 cups``) and the
  one-letter variables (``a - b``, ``5 x 8``) are unchanged (units and variables in prose, with
  spaces around punctuation ignored);
- ``math``: the contents of ``$..$``, ``$$..$$``, ``\\(..\\)`` and ``\\[..\\]`` are unchanged, in
  order (delimiters may change: that is ``latex_delimiters``' purpose);
- ``fences``: every fenced code block of the original is still there, same fence lines and
  content, and the number of fence lines keeps its parity (an unclosed block stays unclosed);
- ``py_ast``: on hep-python, the Python AST of the function is identical (for
  ``code_append_other``, the original function's; the appended one is its purpose);
- ``js_parses``: on hep-js, the program still parses where it parsed (with ``node`` when it is
  on the PATH; skipped with a note otherwise);
- ``answers``: the final answers (last ``\\boxed{}``, text after the last ``# Answer``) are
  unchanged, delimiters aside.

Each field is checked on its own output, before a one-sided edit is undone. A field counts for an
invariant only when the original has something to keep (a number, math, a fence, an answer,
parseable code). Exemptions are the transform's purpose and are listed in
``EXEMPT`` with the reason (the transform's docstring says the same). Per transform it also
prints the pairs changed on both sides, one side, neither, and one-sided edits undone.

Usage: python -m benchmarks.transform_audit [RB_JSONL] [--seed S] [--examples N] [--only NAMES]
Exits 1 when an invariant that is not exempt fails, or a noise transform edits both sides in
fewer than 98% of the pairs it changes; 0 otherwise (and when the shared file is absent).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
from collections import Counter

from transforms.text import NUMBER, protected_spans

INVARIANTS = ("numbers", "math", "fences", "py_ast", "js_parses", "answers")
NOISE = ("char_swap", "char_substitution", "char_insertion", "char_deletion", "word_deletion",
         "synonym_swap", "homoglyph", "keyboard_typo", "ocr_noise", "lowercase", "punct_spaces",
         "back_transcription")
MIN_BOTH = 0.98
_ROT = ("encodes every letter of the prompt and names the shift (its purpose); digits kept, "
        "decoding restores the prompt")
EXEMPT: dict[tuple[str, str], str] = {
    **{(rot, inv): _ROT for rot in ("rot13", "rot2")
       for inv in ("math", "fences", "answers")},
    ("math_answer_format", "answers"): "swaps the answer's format (its purpose); the answer "
                                       "itself is copied verbatim",
    ("math_answer_format", "math"): "moves the answer into or out of $\\boxed{}$ (its purpose)",
    ("math_answer_format", "numbers"): "repeats the unboxed answer under '# Answer', or merges "
                                       "a repeated section into one box (its purpose)",
    ("rot13", "numbers"): _ROT, ("rot2", "numbers"): _ROT,
    ("add_quotes", "answers"): "the closing quotes wrap the whole response, so they follow the "
                               "final answer (on their own line)",
}

_MATH = re.compile(r"(?<!\\)\$\$(.+?)\$\$|(?<!\\)\$((?:\\.|[^$\\])+?)\$|\\\[(.+?)\\\]"
                   r"|\\\((.+?)\\\)", re.S)
_UNIT = re.compile(r"(?<!\w)(\d+)[ \t]+([A-Za-z]+)")
_LETTER = re.compile(r"(?<![\w\\@#$'’])[B-HJ-Zb-hj-z](?![\w'’@])")
_ARITHMETIC = frozenset("=+-*/^<>()[]{}|0123456789")
_PUNCT_GAP = re.compile(r"[ \t]*([^\w\s\x00])[ \t]*")
_CODE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?(?:^[ \t]*\1[^\n]*$|\Z)|`[^`\n]+`", re.S | re.M)
_FENCE_BLOCK = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[^\n]*$", re.S | re.M)
_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~)", re.M)
_ANSWER = re.compile(r"^[ \t]*#[ \t]*Answer[ \t]*\n(.*)\Z", re.S | re.M)
_BOXED = re.compile(r"\\boxed\s*\{")
_JS_SIGNATURE = re.compile(r"`(const \w+ = \([^`]*\))`")


def _prose(text: str) -> str:
    """The text without code (fenced blocks, inline code), where ``$`` is not math."""
    return _CODE.sub(" ", text)


def numbers_and_units(text: str) -> tuple:
    """Numbers anywhere; units and one-letter variables in the prose between protected spans
    (math and code are checked by ``math``, ``py_ast``...), with the spaces around punctuation
    closed (``punct_spaces`` only adds those)."""
    parts, pos = [], 0
    for start, end in protected_spans(text):
        parts.append(text[pos:start] + "\x00")
        pos = max(pos, end)
    prose = "".join(parts) + text[pos:]
    prose = _PUNCT_GAP.sub(r"\1", prose)
    return (Counter(NUMBER.findall(text)), _UNIT.findall(prose), variables(prose))


def variables(prose: str) -> list[str]:
    """One-letter words next to an operator or digit: ``(x - b)``, ``5 x 8`` (``a``, ``A``,
    ``I`` and ``i`` are left out: mostly words, and a neighbour's typo can put a digit next to
    them)."""
    found = []
    for m in _LETTER.finditer(prose):
        before = prose[max(0, m.start() - 40):m.start()].rstrip(" \t")
        # A digit that ends a handle or a word (``@sam42``, ``mean8``) is no number.
        left = "" if re.search(r"[A-Za-z_@]\w*\d$", before) else before[-1:]
        right = prose[m.end():m.end() + 40].lstrip(" \t")
        right = "" if re.match(r"\d+[A-Za-z_]", right) else right[:1]
        if left in _ARITHMETIC and left or right in _ARITHMETIC and right:
            found.append(m.group())
    return found


def math_contents(text: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None)
            for m in _MATH.finditer(_prose(text))]


def fence_blocks(text: str) -> list[str]:
    return [m.group() for m in _FENCE_BLOCK.finditer(text)]


def _bare(answer: str) -> str:
    """The answer without math delimiters (``latex_delimiters`` may change them)."""
    return re.sub(r"\$|\\[()\[\]]", "", answer).strip()


def final_answers(text: str) -> tuple[str | None, str | None]:
    """(last ``\\boxed{}`` content, text after the first ``# Answer`` heading), bare."""
    boxed = None
    boxes = list(_BOXED.finditer(text))
    if boxes:
        depth, start = 0, boxes[-1].end() - 1
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0) if text[i - 1] != "\\" else 0
            if depth == 0:
                boxed = _bare(text[start + 1:i])
                break
    m = _ANSWER.search(text)
    return boxed, (_bare(m.group(1)) if m else None)


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _python_body(text: str) -> str:
    """The code of a hep-python response (inside a fence ``code_fence`` added)."""
    m = re.match(r"```\w*\n(.*)```\s*$", text, re.S)
    return m.group(1) if m else text


def python_ast(text: str) -> ast.Module | None:
    try:
        return ast.parse("def f():\n" + _python_body(text))
    except SyntaxError:
        return None


def js_program(prompt: str, text: str) -> str | None:
    m = _JS_SIGNATURE.search(prompt)
    body = _python_body(text)
    return None if m is None else f"{m.group(1)} => {{\n{body}"


NODE_CHECK = """
const vm = require('vm');
const sources = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(sources.map((s) => {
  try { new vm.Script(s); return true; } catch (e) { return false; }
})));
"""


def js_parse_all(sources: list[str]) -> list[bool] | None:
    """Whether each JavaScript program parses (one ``node`` process), or None without node."""
    node = shutil.which("node")
    if node is None or not sources:
        return None if node is None else []
    done = subprocess.run([node, "-e", NODE_CHECK], input=json.dumps(sources), text=True,
                          capture_output=True, timeout=300, check=True)
    return json.loads(done.stdout)


def _difference(old: tuple | list, new: tuple | list) -> str:
    """The first items that differ between two checked sequences (or Counters)."""
    if isinstance(old, tuple):
        for a, b in zip(old, new, strict=True):
            if a != b:
                return _difference(a, b)
        return ""
    if isinstance(old, Counter):
        return f"lost {dict(old - new)}, gained {dict(new - old)}"
    i = next((k for k, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
             min(len(old), len(new)))
    return f"{old[i:i + 2]!r} -> {new[i:i + 2]!r}"


def _snippet(old: str, new: str, width: int = 70) -> str:
    """Where ``old`` and ``new`` first differ, with a little context."""
    i = next((k for k, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
             min(len(old), len(new)))
    a = old[max(0, i - width // 2): i + width // 2]
    b = new[max(0, i - width // 2): i + width // 2]
    return f"{a!r}\n        -> {b!r}"


def _check_field(checks: dict, name: str, pair, field: str, old: str, new: str) -> None:
    """Record, per invariant the original has something for, whether ``new`` keeps it."""
    where = f"{pair.key} {field}"

    def check(inv: str, applicable: bool, held: bool, detail: str = "") -> None:
        if not applicable:
            return
        entry = checks[inv]
        entry[1] += 1
        entry[0] += held
        if not held:
            entry[2].append(f"{where}: {detail or _snippet(old, new)}")

    code = pair.subset.startswith("hep-") and field != "prompt"
    kept = numbers_and_units(old)
    check("numbers", any(kept) and not code, kept == numbers_and_units(new),
          _difference(kept, numbers_and_units(new)))
    math = math_contents(old)
    check("math", bool(math) and not code, math == math_contents(new),
          _difference(math, math_contents(new)))
    blocks = fence_blocks(old)
    parity = len(_FENCE_LINE.findall(old)) % 2 == len(_FENCE_LINE.findall(new)) % 2
    check("fences", bool(_FENCE_LINE.search(old)),
          parity and _is_subsequence(blocks, fence_blocks(new)))
    answers = final_answers(old)
    check("answers", any(x is not None for x in answers) and not code,
          answers == final_answers(new))
    if field != "prompt" and pair.subset == "hep-python":
        before, after = python_ast(old), python_ast(new)
        if before is not None:
            if name == "code_append_other":  # the original function, first
                held = after is not None and ast.dump(after.body[0]) == ast.dump(before.body[0])
            else:
                held = after is not None and ast.dump(after) == ast.dump(before)
            check("py_ast", True, held)


def audit(pairs: list, seed: int = 0, names: list[str] | None = None) -> dict:
    """Per transform: side counts and, per invariant, [held, applicable, examples]."""
    from transforms import TRANSFORMS, applies_to, side_counts, transform_pairs
    from transforms.base import TextContext, _prompt_get, field_rng

    names = names or [n for n in TRANSFORMS.names() if TRANSFORMS.get(n).kind == "rule"]
    report: dict = {}
    js_jobs: list[tuple[str, str, str, str, str]] = []  # (transform, key, field, old, new)
    for name in names:
        t = TRANSFORMS.get(name)
        todo = [p for p in pairs if applies_to(t, p)]
        applied = transform_pairs(t, todo, seed)
        together = tuple(todo)  # what transform_pairs passes as TextContext.others
        checks = {inv: [0, 0, []] for inv in INVARIANTS}
        for pair in todo:
            prompt = _prompt_get(pair.prompt)[0]
            for field in t.fields:
                # Each field's own output, before a one-sided edit is undone: an undone edit
                # must keep the invariants too (it may not be undone under another seed).
                old = prompt if field == "prompt" else getattr(pair, field)
                new = t.apply_text(old, field_rng(seed, t, pair, field),
                                   TextContext(field, pair.subset, pair.key, prompt,
                                               others=together))
                _check_field(checks, name, pair, field, old, new)
                if field != "prompt" and pair.subset == "hep-js":
                    js_jobs.append((name, f"{pair.key} {field}", old, new, pair.prompt_text))
        report[name] = {"pairs": len(todo), "sides": side_counts(applied), "checks": checks}
    _check_js(report, js_jobs)
    return report


def _check_js(report: dict, jobs: list[tuple[str, str, str, str, str]]) -> None:
    programs = [(js_program(prompt, old), js_program(prompt, new))
                for _, _, old, new, prompt in jobs]
    flat = [s for pair in programs for s in pair if s is not None]
    parsed = js_parse_all(flat)
    if parsed is None:
        for entry in report.values():
            entry["checks"]["js_parses"] = None  # no parser: skipped
        return
    results = dict(zip(flat, parsed, strict=True))
    for (name, where, old, new, _), (before, after) in zip(jobs, programs, strict=True):
        if before is None or not results[before]:
            continue
        entry = report[name]["checks"]["js_parses"]
        entry[1] += 1
        held = after is not None and results[after]
        entry[0] += held
        if not held:
            entry[2].append(f"{where}: {_snippet(old, new)}")


def _cell(name: str, inv: str, entry: list | None) -> str:
    if entry is None:
        return "skipped"
    held, applicable, _ = entry
    if not applicable:
        return "–"
    mark = "*" if (name, inv) in EXEMPT else ""
    return f"{100 * held / applicable:.1f}%{mark} ({held}/{applicable})"


def failures(report: dict) -> list[str]:
    """What makes the audit fail: invariants broken without an exemption, one-sided noise."""
    out = []
    for name, entry in report.items():
        for inv, check in entry["checks"].items():
            if check and check[0] < check[1] and (name, inv) not in EXEMPT:
                out.append(f"{name}: {inv} {check[0]}/{check[1]}")
        sides = entry["sides"]
        changed = sides["both"] + sides["one"]
        if name in NOISE and changed and sides["both"] / changed < MIN_BOTH:
            out.append(f"{name}: both sides in {sides['both']}/{changed} changed pairs")
    return out


def print_report(report: dict, n_pairs: int, examples: int) -> None:
    print(f"{len(report)} rule-based transforms on {n_pairs} pairs; per invariant: share of "
          "fields that keep it (kept/fields that have it); * = exempt, its purpose; "
          "– = no field has it")
    head = (f"{'transform':<19} {'pairs':>5} {'both':>5} {'one':>4} {'neither':>7} "
            f"{'undone':>6} {'both/changed':>12} {'one%':>6} {'neither%':>8}")
    print(head)
    for name, entry in report.items():
        s, n = entry["sides"], entry["pairs"]
        changed = s["both"] + s["one"]
        share = f"{100 * s['both'] / changed:.1f}%" if changed else "n/a"
        one = f"{100 * s['one'] / n:.1f}%" if n else "n/a"
        neither = f"{100 * s['neither'] / n:.1f}%" if n else "n/a"
        print(f"{name:<19} {n:>5} {s['both']:>5} {s['one']:>4} {s['neither']:>7} "
              f"{s['undone']:>6} {share:>12} {one:>6} {neither:>8}")
    print()
    for inv in INVARIANTS:
        print(f"{inv}:")
        for name, entry in report.items():
            cell = _cell(name, inv, entry["checks"][inv])
            if cell != "–":
                print(f"  {name:<19} {cell}")
        if all(e["checks"][inv] is None for e in report.values()):
            print("  skipped: no JavaScript parser (node) on the PATH")
    exempt = sorted({(n, i) for n in report for i in INVARIANTS if (n, i) in EXEMPT})
    if exempt:
        print("\nexempt (the transform's purpose):")
        for n, i in exempt:
            print(f"  {n} {i}: {EXEMPT[(n, i)]}")
    shown = False
    for name, entry in report.items():
        for inv, check in entry["checks"].items():
            if not check or not check[2] or examples <= 0:
                continue
            if not shown:
                print("\nfailure examples (key field: before -> after):")
                shown = True
            print(f"  {name} / {inv}: {len(check[2])} failing fields")
            for line in check[2][:examples]:
                print(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=None, help="RewardBench pairs (JSONL)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=3, help="failure examples to print")
    parser.add_argument("--only", default=None, help="comma-separated transform names")
    args = parser.parse_args(argv)

    from benchmarks.common import rewardbench_pairs

    pairs = rewardbench_pairs(args.data)
    if pairs is None:
        return 2
    names = [n.strip() for n in args.only.split(",")] if args.only else None
    report = audit(pairs, args.seed, names)
    print_report(report, len(pairs), args.examples)
    failed = failures(report)
    if failed:
        print("\nFAIL: " + "; ".join(failed))
        return 1
    print(f"\nOK: every invariant kept where not exempt; noise transforms edit both sides in "
          f">= {MIN_BOTH:.0%} of the pairs they change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
