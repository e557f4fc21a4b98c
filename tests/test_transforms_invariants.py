"""What every rule-based transform must keep: numbers, code, math, and what code transforms keep.

- Text transforms: on prose with numbers, inline code, a fenced code block, LaTeX, a URL and an
  e-mail address, the multiset of numbers (``transforms.text.numbers``) is unchanged and every
  protected span (code, math, URL, ...) survives verbatim, for 20 seeds; the same number check
  runs on the first 300 real RewardBench pairs for the noise transforms.
- ROT-13 / ROT-2 encode the prompt: decoding (with our own decoder) gives back the text.
- math_answer_format keeps the answer; latex_delimiters keeps the math inside the delimiters.
- Code transforms (hep-*): minification keeps every identifier, number literal and string in
  order and changes nothing but whitespace and comments; comment insertion adds only comments;
  appending keeps the original code as a prefix; on real hep-python, Python ASTs are compared.
"""

from __future__ import annotations

import ast
import codecs
import random
import re
import string
from collections import Counter

import pytest
from conftest import shared_file

from harness.data.schema import PreferencePair
from harness.seeding import text_hash
from transforms import TRANSFORMS, applies_to, apply_to_pair, transform_pair, transform_pairs
from transforms import code as codelib
from transforms.base import TextContext, field_rng
from transforms.text import numbers, protected_spans

RB_FILE = "rewardbench/rewardbench_filtered.hf_schema.jsonl"
SEEDS = range(20)

FENCE = ("```python\ndef area(r):\n    # radius in metres, e.g. 5\n"
         "    return 3.14159 * r ** 2  # about 78.54 for r = 5\n```")
TEXTS = [
    "It costs $1,234.50 and takes 12 days, or about 2 weeks.",
    "Set x = 3.14 and then divide by 7 to get roughly 0.449, which rounds to 0.45.",
    "Use `x = 3.14` inline, then call `round(x, 2)` with 2 digits; the result is 3.14 again.",
    "Here is the code:\n\n" + FENCE + "\n\nThe function returns 78.54 for a radius of 5 metres.",
    "The area is $\\pi r^2 = 3.14 \\cdot 25 = 78.5$, and $$\\int_0^1 x^2\\,dx = \\frac{1}{3}.$$ "
    "So the answer is 78.5, not \\(78\\).",
    "Between 9:30 and 17:45 on 12/05/2023, 50% of the 1,000 users (i.e. 500 people) logged in "
    "3 times.",
    "Version 2.10.3 fixed bug #4512; see https://example.com/issues/4512 or mail "
    "dev42@example.com about it.",
    "The temperature dropped from -5 to -12.5 degrees, a change of 7.5; their record is -20.",
    "**Step 1:** Add 2 cups of flour.\n**Step 2:** Bake at 180 degrees for 25-30 minutes.\n\n"
    "# Notes\n\nServes 4, whether or not you add the 3 eggs.",
    "Prices: apples cost 0.99, bread costs 2.50 and milk costs 1.20 (total 4.69). However, "
    "the usual price is higher.",
    "We get \\begin{align*}\na_4 &= 2a_3 - cab \\\\\n&= 12 \\text{ for all } n\n\\end{align*} "
    "and the figure [asy]draw((0,0)--(1,1),gray(.7));\nlabel(\"$A$\",(0,0),SW);[/asy] shows it "
    "(see \\label{fig:one} in \\begin{itemize} \\item the list \\end{itemize}), about .5 of it.",
]
# Spans that must come back verbatim wherever they occur (independently of ``protected_spans``).
VERBATIM = [
    FENCE, "`x = 3.14`", "`round(x, 2)`", "$\\pi r^2 = 3.14 \\cdot 25 = 78.5$",
    "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}.$$", "\\(78\\)", "https://example.com/issues/4512",
    "dev42@example.com", "\\begin{align*}\na_4 &= 2a_3 - cab \\\\\n&= 12 \\text{ for all } n\n"
    "\\end{align*}", "[asy]draw((0,0)--(1,1),gray(.7));\nlabel(\"$A$\",(0,0),SW);[/asy]",
    "\\label{fig:one}", "\\begin{itemize}", "\\end{itemize}",
]

# Transforms whose purpose is to edit code or to encode the whole text: checked separately.
CODE_EDITORS = {"code_minify", "code_comment_bad", "code_comment_good", "code_append_other",
                "code_fence"}
ENCODERS = {"rot13": 13, "rot2": 2}
NOT_TEXT_PRESERVING = CODE_EDITORS | set(ENCODERS) | {"math_answer_format"}


def rule_names() -> list[str]:
    return [n for n in TRANSFORMS.names() if TRANSFORMS.get(n).kind == "rule"
            and TRANSFORMS.origin(n) == "builtin"]


TEXT_TRANSFORMS = [n for n in rule_names() if n not in NOT_TEXT_PRESERVING]
NOISE = [n for n in TEXT_TRANSFORMS if TRANSFORMS.get(n).category == "naturalistic"]


def subset_for(name: str) -> str:
    t = TRANSFORMS.get(name)
    return t.subsets[0] if t.subsets is not None else "alpacaeval-easy"


def field_text(pair: PreferencePair, field: str) -> str:
    value = pair.prompt if field == "prompt" else getattr(pair, field)
    return value if isinstance(value, str) else value[-1]["content"]


def outputs(name: str, text: str, seed: int, subset: str | None = None,
            prompt: str | None = None) -> dict[str, str]:
    """field -> output, with ``text`` in every field (so prompt and responses are checked)."""
    t = TRANSFORMS.get(name)
    pair = PreferencePair(prompt=text if prompt is None else prompt, chosen=text, rejected=text,
                          subset=subset or subset_for(name), id=f"inv-{text_hash(text)[:8]}")
    new, _ = apply_to_pair(t, pair, seed)
    return {f: field_text(new, f) for f in t.fields}


def test_the_lists_cover_every_rule_transform():
    assert len(TEXT_TRANSFORMS) >= 20
    assert sum(v in text for v in VERBATIM for text in TEXTS) == len(VERBATIM)
    assert set(rule_names()) == set(TEXT_TRANSFORMS) | NOT_TEXT_PRESERVING
    assert {"homoglyph", "char_swap", "word_deletion", "back_transcription"} <= set(NOISE)


@pytest.mark.parametrize("name", TEXT_TRANSFORMS)
def test_numbers_and_protected_spans_survive(name):
    for text in TEXTS:
        want = Counter(numbers(text))
        spans = [text[s:e] for s, e in protected_spans(text)]
        spans += [v for v in VERBATIM if v in text]
        for seed in SEEDS:
            for field, out in outputs(name, text, seed).items():
                where = f"{name} seed {seed} {field}: {out!r}"
                assert Counter(numbers(out)) == want, where
                for span in spans:
                    if name == "latex_delimiters" and any(d in span for d in ("$", "\\(")):
                        continue  # its purpose; checked in test_latex_delimiters_keep_the_math
                    assert span in out, f"{where} lost {span!r}"


def test_the_number_check_can_fail():
    """The checks above catch a number that moves or a damaged code block."""
    assert Counter(numbers("costs 1,234.50")) != Counter(numbers("costs 1, 234.50"))
    assert Counter(numbers("x = 3.14")) != Counter(numbers("x = 3 . 14"))
    assert Counter(numbers("takes 12 days")) != Counter(numbers("takes 12days"))
    assert Counter(numbers("Step 1.5")) == Counter(["1.5"])


def test_punct_spaces_keeps_number_separators():
    out = outputs("punct_spaces", "Pay $1,234.50 at 9:30 on 1/2, i.e. 3.14!", 0)["chosen"]
    assert out == "Pay $ 1,234.50 at 9:30 on 1/2 , i . e . 3.14 !"


def _rot_decode(text: str, shift: int) -> str:
    if shift == 13:
        return codecs.decode(text, "rot13")
    lower, upper = string.ascii_lowercase, string.ascii_uppercase
    back = {c: lower[(i - shift) % 26] for i, c in enumerate(lower)}
    back.update({c: upper[(i - shift) % 26] for i, c in enumerate(upper)})
    return "".join(back.get(c, c) for c in text)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_rot_decodes_back_to_the_prompt(name):
    shift = ENCODERS[name]
    t = TRANSFORMS.get(name)
    instruction = t.apply_text("", random.Random(0), TextContext("prompt"))
    assert f"{shift} places" in instruction and instruction.endswith("\n\n")
    for text in TEXTS:
        out = outputs(name, text, 0)["prompt"]
        assert out.startswith(instruction)
        encoded = out[len(instruction):]
        assert _rot_decode(encoded, shift) == text
        assert encoded != text
        assert Counter(numbers(encoded)) == Counter(numbers(text))
    assert _rot_decode("Jgnnq", 2) == "Hello"  # the decoder itself


def _last_boxed(text: str) -> str:
    """The content of the last ``\\boxed{...}``, braces matched."""
    start = text.rindex("\\boxed{") + len("\\boxed{")
    depth = 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0) if text[i - 1] != "\\" else 0
        if depth == 0:
            return text[start:i]
    raise ValueError("unclosed \\boxed{")


def _bare(answer: str) -> str:
    """The answer without math delimiters around it."""
    answer = answer.strip()
    for wrap in (r"^\$(.+)\$$", r"^\\\[(.+)\\\]$", r"^\\\((.+)\\\)$"):
        answer = re.sub(wrap, r"\1", answer, flags=re.S).strip()
    return answer


def check_answer_swap(old: str, out: str) -> None:
    """``# Answer`` X -> ``$\\boxed{X}$`` at the end, or the last box unboxed and X repeated
    under ``# Answer``; the answer verbatim, and no number lost but a repeated section's."""
    if "# Answer" in old:
        answer = _bare(old.rsplit("# Answer", 1)[1])
        assert out.endswith(f"$\\boxed{{{answer}}}$") and "# Answer" not in out
        assert out.count("\\boxed") == old.count("\\boxed") + 1
        lost = Counter(numbers(old)) - Counter(numbers(out))
        for _ in range(old.count("# Answer") - 1):  # a repeated section becomes one box
            lost -= Counter(numbers(answer))
        assert not lost
    else:
        answer = _last_boxed(old).strip()
        assert out.endswith(f"\n# Answer\n\n{answer}") and out.count("# Answer") == 1
        assert out.count("\\boxed") == old.count("\\boxed") - 1
        assert Counter(numbers(out)) == Counter(numbers(old)) + Counter(numbers(answer))


MATH_TEXTS = [
    "So $x = 2 + 3 = \\boxed{5}$.",
    "The sum is $\\frac{1}{2} + 12 = \\boxed{\\frac{25}{2}}$ and that is all.",
    "First $a = 3$.\nThen $b = 4.5$.\n# Answer\n\n7.5",
    "I get $\\sqrt{2}$.\n\n# Answer\n\n$\\sqrt{2}$",
    "Twice.\n# Answer\n\n\\[\\frac{1}{4}\\]\n\n# Answer\n\n\\[\\frac{1}{4}\\]",
]


@pytest.mark.parametrize("text", MATH_TEXTS)
def test_math_answer_format_keeps_the_answer(text):
    out = outputs("math_answer_format", text, 0)["chosen"]
    check_answer_swap(text, out)
    twice = outputs("math_answer_format", out, 0)["chosen"]  # swapping back: the first format
    if "# Answer" in text:
        assert twice.endswith(f"# Answer\n\n{_bare(text.rsplit('# Answer', 1)[1])}")
    else:
        assert twice.endswith(f"$\\boxed{{{_last_boxed(text).strip()}}}$")


def test_math_answer_format_on_real_math_prm():
    from harness.data.loaders import load_pairs

    pairs = [p for p in load_pairs(shared_file(RB_FILE)) if p.subset == "math-prm"]
    assert len(pairs) == 447
    t = TRANSFORMS.get("math_answer_format")
    for pair in pairs:
        new, changed = apply_to_pair(t, pair, 0)
        assert changed, pair.key
        assert "\\boxed" in pair.chosen and "# Answer" in pair.rejected  # the format cue
        for field in ("chosen", "rejected"):
            try:
                check_answer_swap(getattr(pair, field), getattr(new, field))
            except AssertionError as err:
                raise AssertionError(f"{pair.key} {field}") from err


def test_latex_delimiters_keep_the_math():
    text = "Let $x = 3.5$ and $$y = \\frac{1}{2}$$; also \\(z\\) stays as it is."
    out = outputs("latex_delimiters", text, 0)["chosen"]
    assert out == "Let \\(x = 3.5\\) and \\[y = \\frac{1}{2}\\]; also \\(z\\) stays as it is."
    back = outputs("latex_delimiters", "Let \\(x = 3.5\\) and \\[y = 2\\].", 0)["chosen"]
    assert back == "Let $x = 3.5$ and $$y = 2$$."
    assert outputs("latex_delimiters", "No math at 3 pm.", 0)["chosen"] == "No math at 3 pm."


# -- code -----------------------------------------------------------------------------------------

TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def code_tokens(text: str, lang: str) -> list[str]:
    """Identifiers, number literals and whole string literals outside comments, in order."""
    out: list[str] = []
    for piece in codelib.lex(text, lang):
        if piece.kind == "code":
            out.extend(TOKEN.findall(piece.text))
        elif piece.kind == "string":
            out.append(piece.text)
    return out


def squashed(text: str, lang: str) -> str:
    """The code without comments and without any whitespace outside strings."""
    return "".join(re.sub(r"\s+", "", p.text) if p.kind == "code" else p.text
                   for p in codelib.lex(text, lang) if p.kind != "comment")


CODE = {
    "python": ("    # count values above 2.5\n    total = 0\n    for v in values:\n"
               "        if v > 2.5:  # strictly\n            total += 1\n\n"
               "    note = '# 12 is not a comment'\n    doc = \"\"\"\n  keep   this\n\n\"\"\"\n"
               "    return total * 1e-3 + len(doc)\n"),
    "js": ("  // count values above 2.5\n  let total = 0;\n  for (const v of values) {\n"
           "    if (v > 2.5) { total += 1; } /* strictly */\n  }\n"
           "  const re = /a\\/\\/b/g; const s = `x // ${total}`;\n  return total * 1e-3;\n}\n"),
    "go": ("    total := 0\n    for _, v := range values {\n        if v > 2.5 {\n"
           "            total++ // one more\n        }\n    }\n    s := `raw // 12`\n"
           "    _ = s\n    return total\n}\n"),
    "rust": ("    let mut total = 0;\n    for v in values.iter() {\n        // strictly greater\n"
             "        if *v > 2.5 { total += 1; }\n    }\n"
             "    let _s: &str = r#\"raw \"// 12\"\"#;\n    let _c = '\\'';\n    total\n}\n"),
    "cpp": ("#define STEP (1)\n    int total = 0;\n    for (int i = 0; i < values.size(); i++)\n"
            "        if (values[i] > 2.5) total += STEP;  // strictly\n"
            "    char c = '/'; string s = \"/* 12 */\";\n    return total;\n}\n"),
    "java": ("        int total = 0;\n        /* count\n           them */\n"
             "        for (double v : values) {\n            if (v > 2.5) {\n"
             "                total += 1;\n            }\n        }\n"
             "        String s = \"/* no */ // 12\";\n        return total;\n    }\n}\n"),
}
SUBSET = {lang: sub for sub, lang in codelib.SUBSET_LANGUAGE.items()}
CODE_CASES = [(lang, seed) for lang in CODE for seed in range(5)]


def _code_out(name: str, lang: str, seed: int) -> str:
    prompt = "Write a function `f` to solve the following problem:\nCount values above 2.5."
    return outputs(name, CODE[lang], seed, SUBSET[lang], prompt)["chosen"]


@pytest.mark.parametrize("lang,seed", CODE_CASES)
def test_code_minify_keeps_every_token(lang, seed):
    text = CODE[lang]
    out = _code_out("code_minify", lang, seed)
    assert code_tokens(out, lang) == code_tokens(text, lang)
    assert squashed(out, lang) == squashed(text, lang)
    assert len(out) < len(text)
    assert not [p for p in codelib.lex(out, lang) if p.kind == "comment"]


@pytest.mark.parametrize("name", ["code_comment_bad", "code_comment_good"])
@pytest.mark.parametrize("lang,seed", CODE_CASES)
def test_code_comments_add_only_comments(name, lang, seed):
    text = CODE[lang]
    out = _code_out(name, lang, seed)
    assert out != text
    assert code_tokens(out, lang) == code_tokens(text, lang)
    assert squashed(out, lang) == squashed(text, lang)
    # Only whole comment lines were added: the original lines are all there, in order.
    original, extra, i = text.splitlines(), [], 0
    for line in out.splitlines():
        if i < len(original) and line == original[i]:
            i += 1
        else:
            extra.append(line)
    assert i == len(original) and extra
    assert all(line.lstrip().startswith(codelib.comment_prefix(lang) + " ") for line in extra)


# Another problem per language, as RewardBench has it: the prompt quotes the signature, the
# response is the body (Java's closes the method and the class).
OTHER_PROBLEM = {
    "python": ("`is_even(n: int) -> bool`", "    return n % 2 == 0\n"),
    "js": ("`const isEven = (n)`", "  return n % 2 == 0;\n}\n"),
    "go": ("`func IsEven(n int) bool`", "    return n%2 == 0\n}\n"),
    "java": ("`public boolean isEven(int n)`", "        return n % 2 == 0;\n    }\n}\n"),
    "cpp": ("`bool is_even(int n)`", "    return n % 2 == 0;\n}\n"),
    "rust": ("`is_even(n:i32) -> bool`", "    return n % 2 == 0;\n}\n"),
}


@pytest.mark.parametrize("lang,seed", CODE_CASES)
def test_code_append_other_appends_another_problems_solution(lang, seed):
    """The code appended is the other pair's signature and chosen body, after the whole response;
    a pair transformed alone has no other problem and stays as it is."""
    text, (sig, body) = CODE[lang], OTHER_PROBLEM[lang]
    t = TRANSFORMS.get("code_append_other")
    pair = PreferencePair(prompt="Write a function `f` to solve the following problem:\nCount.",
                          chosen=text, rejected=text, subset=SUBSET[lang], id="mine")
    other = PreferencePair(prompt=f"Write a function {sig} to solve the following problem:\n"
                           "Is n even?", chosen=body, rejected=body, subset=SUBSET[lang], id="o")
    new, changed = apply_to_pair(t, pair, seed, others=(pair, other))
    appended = new.chosen[len(text):]
    assert changed and new.chosen.startswith(text) and new.rejected == new.chosen
    assert appended.startswith("\n") and appended.endswith(body)
    assert sig.strip("`").split("(")[0].split()[-1] in appended  # the other function's name
    assert code_tokens(new.chosen, lang)[: len(code_tokens(text, lang))] == code_tokens(text, lang)
    if lang == "python":  # annotations dropped: they would run when the function is defined
        assert appended.strip().startswith("def is_even(n):")
        ast.parse("def f():\n" + new.chosen)
    assert apply_to_pair(t, pair, seed) == (pair, False)


@pytest.mark.parametrize("lang", sorted(CODE))
def test_code_fence_keeps_the_code(lang):
    out = _code_out("code_fence", lang, 0)
    first, _, rest = out.partition("\n")
    assert first.startswith("```") and rest.endswith("```")
    assert rest[: -len("```")] == CODE[lang]


def test_good_comments_describe_the_line():
    from transforms.domain import good_comment

    assert good_comment("    if v > limit:  # strictly", "python") == "Check whether v > limit"
    assert good_comment("for i := 0; i < len(xs); i++ {", "go") == "Loop while i < len(xs)"
    assert good_comment("for (String s : words) {", "java") == "Go through each s in words"
    assert good_comment("for (indx, c) in s.chars().enumerate() {", "rust") == \
        "Go through each (indx, c) in s.chars().enumerate()"
    # Lines a rule would misread get no comment rather than a wrong one.
    for line, lang in [("if (x < 0) return true;", "cpp"), ("if s == '': return 0", "python"),
                       ("if level<0 {return false;}", "rust"), ("a, b = b, a % b", "python"),
                       ("m=a;a=b;b=m;", "cpp"), ("None => {}", "rust"),
                       ("if (a) && (b) {", "js"), ("let a = 1, b = 2;", "js")]:
        assert good_comment(line, lang) is None, line


def _python_ast(body: str) -> str:
    return ast.dump(ast.parse("def f():\n" + body))


def test_code_transforms_on_real_hep_code():
    """All six hep-* subsets: tokens kept by every code transform; hep-python ASTs compared."""
    from harness.data.loaders import load_pairs

    pairs = [p for p in load_pairs(shared_file(RB_FILE)) if p.subset.startswith("hep-")]
    assert len(pairs) == 984
    names = ("code_minify", "code_comment_bad", "code_comment_good", "code_append_other")
    for name in names:
        t = TRANSFORMS.get(name)
        for pair, applied in zip(pairs, transform_pairs(t, pairs, 0), strict=True):
            new = applied.pair
            lang = codelib.language(pair.subset, pair.prompt_text, pair.chosen)
            for field in ("chosen", "rejected"):
                old, out = getattr(pair, field), getattr(new, field)
                where = f"{name} {pair.key} {field}"
                tokens = code_tokens(old, lang)
                if name == "code_append_other":
                    assert out.startswith(old), where
                    assert code_tokens(out, lang)[: len(tokens)] == tokens, where
                else:
                    assert code_tokens(out, lang) == tokens, where
                    assert squashed(out, lang) == squashed(old, lang), where
                if lang == "python":
                    try:
                        before = ast.parse("def f():\n" + old)
                    except SyntaxError:
                        continue  # a few rejected responses do not parse to begin with
                    after = ast.parse("def f():\n" + out)
                    if name == "code_append_other":
                        assert ast.dump(after.body[0]) == ast.dump(before.body[0]), where
                        assert len(after.body) == len(before.body) + 1, where
                    else:
                        assert ast.dump(after) == ast.dump(before), where


def test_noise_keeps_numbers_on_real_rewardbench():
    """The first 300 real pairs: numbers and protected spans kept by every noise transform, on
    each field's own output (before a one-sided edit is undone); at least 90% of the pairs are
    edited on some side, and a pair is never changed on one side only."""
    from harness.data.loaders import load_pairs

    pairs = load_pairs(shared_file(RB_FILE), limit=300)
    for name in [*NOISE, "punct_spaces"]:
        t = TRANSFORMS.get(name)
        acted = 0
        for pair in (p for p in pairs if applies_to(t, p)):
            applied = transform_pair(t, pair, 0)
            assert applied.sides in ("both", "neither"), (name, pair.key)
            acted += applied.changed or applied.undone
            for field in t.fields:
                old = field_text(pair, field)
                ctx = TextContext(field, pair.subset, pair.key, pair.prompt_text)
                out = t.apply_text(old, field_rng(0, t, pair, field), ctx)
                where = f"{name} {pair.key} {field}"
                assert Counter(numbers(out)) == Counter(numbers(old)), where
                for s, e in protected_spans(old):
                    assert old[s:e] in out, f"{where} lost {old[s:e]!r}"
        assert acted >= 0.9 * len(pairs), name


@pytest.mark.slow
@pytest.mark.parametrize("name", TEXT_TRANSFORMS)
def test_numbers_survive_on_all_of_rewardbench(name):
    """Every text transform over all 2985 pairs: no number lost (punct_spaces may add one
    by splitting ``word_123``); noise transforms keep the multiset exactly."""
    from harness.data.loaders import load_pairs

    t = TRANSFORMS.get(name)
    for pair in (p for p in load_pairs(shared_file(RB_FILE)) if applies_to(t, p)):
        new, _ = apply_to_pair(t, pair, 0)
        for field in t.fields:
            old, out = field_text(pair, field), field_text(new, field)
            lost = Counter(numbers(old)) - Counter(numbers(out))
            assert not lost, f"{name} {pair.key} {field} lost {dict(lost)}"
            if name in NOISE:
                assert Counter(numbers(out)) == Counter(numbers(old)), (name, pair.key, field)
