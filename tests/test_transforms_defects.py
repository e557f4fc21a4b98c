"""One test per defect of issue #18, each failing on the code before its fix.

Escaped dollars in math, arithmetic words deleted, ungrammatical synonym swaps, code fences broken
by added text, a snippet drawn per side, one-sided edits, the "not kept" rule, final answers
changed by appended text, and the ``reword`` suite taking its drop on both-side pairs.
"""

from __future__ import annotations

import re
import sys

import pytest
from conftest import REPO

from harness.config import Config
from harness.data.schema import PreferencePair
from harness.io import read_jsonl, write_jsonl
from harness.suites.base import EvalContext
from transforms import TRANSFORMS, apply_to_pair, transform, transform_pair
from transforms.base import Transform
from transforms.extra import article_for
from transforms.synonyms import SYNONYMS

SEEDS = range(40)


def pair(chosen: str, rejected: str, subset: str = "alpacaeval-easy", i: str = "d0",
         prompt: str = "Answer me.") -> PreferencePair:
    return PreferencePair(prompt=prompt, chosen=chosen, rejected=rejected, subset=subset, id=i)


def both(name: str, text: str, seed: int, other: str | None = None) -> tuple[str, str]:
    """(chosen, rejected) after ``name`` on a pair of ``text`` and ``other`` (default: same)."""
    new, _ = apply_to_pair(TRANSFORMS.get(name), pair(text, other or text, "math-prm"), seed)
    return new.chosen, new.rejected


# 1. Inline math across an escaped dollar.

ESCAPED = r"For $\$1$ you get a pen, and a pencil costs $\frac{1}{3}$ of that, or \$0.33 total."


@pytest.mark.parametrize("name", ["punct_spaces", "char_swap", "lowercase", "word_deletion"])
def test_math_with_an_escaped_dollar_is_untouched(name):
    for seed in range(10):
        for out in both(name, ESCAPED, seed):
            assert r"$\$1$" in out and r"$\frac{1}{3}$" in out and r"\$0.33" in out, out


def test_latex_delimiters_keep_an_escaped_dollar_inside():
    out, _ = both("latex_delimiters", r"It costs $\$2500$ and $x,$$y,$ are positive.", 0)
    assert out == r"It costs \(\$2500\) and \(x,\)\(y,\) are positive."


# 2. Unmarked arithmetic: variables, "x" as times, units, and what ties a variable to a number.

ARITHMETIC = ("Compute (a - b + c) then 5 x 8 x 3 and add 1 1/2 cups of flour; when x is -9 "
              "the value is zero, and it is too big because r is 2.")


def test_word_deletion_keeps_unmarked_arithmetic():
    for seed in SEEDS:
        out, _ = both("word_deletion", ARITHMETIC, seed)
        assert out != ARITHMETIC
        for kept in ("(a - b + c)", "5 x 8 x 3", "1 1/2 cups", "x is -9", "zero,", " too ",
                     "because r is 2"):
            assert kept in out, (seed, kept, out)


@pytest.mark.parametrize("name", ["char_swap", "keyboard_typo", "ocr_noise", "synonym_swap"])
def test_noise_keeps_units(name):
    text = "Add 2 cups of sugar and 3 tablespoons of butter, then bake for 45 minutes."
    for seed in SEEDS:
        out, _ = both(name, text, seed)
        assert all(unit in out for unit in ("2 cups", "3 tablespoons", "45 minutes")), out


# 3. Synonyms: wrong senses out of the table, a/an after a swap.

def test_synonym_table_leaves_out_words_with_idioms():
    for word in ("first", "feel", "follow", "whole", "answer", "question", "problem", "area",
                 "started", "very", "sure", "great", "find", "common", "near"):
        assert word not in SYNONYMS, word


def test_synonym_swap_fixes_the_article():
    text = ("It was a big idea, an important task and a huge problem for a useful team with an "
            "easy goal and a difficult reason.")
    swapped = 0
    for seed in SEEDS:
        out, _ = both("synonym_swap", text, seed)
        swapped += out != text
        for article, word in re.findall(r"\b(an?) (\w+)", out):
            assert article == article_for(word), (article, word, out)
    assert swapped == len(SEEDS)
    assert article_for("excellent") == "an" and article_for("useful") == "a"


# 4. Fences: added text goes outside fenced blocks.

FENCED = "Run this:\n```bash\nls -la\n```"
OPENS_FENCED = "```python\nprint(1)\n```\nThat prints 1."
FENCE = re.compile(r"^```[^\n]*\n.*?^```$", re.S | re.M)


@pytest.mark.parametrize("name", ["stress_test", "twitter_url", "twitter_handle", "add_quotes"])
def test_added_text_leaves_code_fences_whole(name):
    for text in (FENCED, OPENS_FENCED):
        for seed in range(5):
            out, _ = both(name, text, seed)
            assert FENCE.findall(out) == FENCE.findall(text), out


def test_ignore_above_keeps_an_opening_fence():
    t = TRANSFORMS.get("ignore_above")
    new, _ = apply_to_pair(t, pair("a", "b", prompt=OPENS_FENCED), 0)
    assert FENCE.findall(new.prompt) == FENCE.findall(OPENS_FENCED)


# 5. code_append_other: one snippet per pair.

def test_code_append_other_appends_the_same_snippet_to_both_sides():
    t = TRANSFORMS.get("code_append_other")
    for i in range(20):
        p = pair("    return 1\n", "    return 2\n", "hep-python", f"c{i}",
                 "Write a Python function `f()`.")
        new, _ = apply_to_pair(t, p, 0)
        assert new.chosen[len(p.chosen):] == new.rejected[len(p.rejected):]


# 6. One-sided edits are undone, or kept and reported where a transform allows them.

def test_a_one_sided_noise_edit_is_undone():
    p = pair("It is a big house with a large garden.", "Yes.")
    applied = transform_pair(TRANSFORMS.get("synonym_swap"), p, 0)
    assert (applied.sides, applied.undone, applied.pair) == ("neither", True, p)
    applied = transform_pair(TRANSFORMS.get("synonym_swap"), pair(p.chosen, "A big yes."), 0)
    assert applied.sides == "both" and applied.changed


def test_a_transform_may_allow_one_sided_edits():
    def shout_long(text, rng, ctx):
        return text.upper() if len(text) > 5 else text

    t = Transform("shout_long_test", "controlled", "responses", fn=shout_long, one_sided=True)
    applied = transform_pair(t, pair("A long answer.", "No."), 0)
    assert applied.sides == "one" and applied.pair.chosen == "A LONG ANSWER."


# 9. "'not' kept": word_deletion never deletes a negation or quantifier.

def test_word_deletion_keeps_negations():
    text = ("You should not go there and never touch the wire, because nothing is safe; only the "
            "staff may enter, and all visitors must not run without a guide.")
    kept = re.compile(r"\b(not|never|nothing|only|all|must|without|because)\b")
    for seed in SEEDS:
        out, _ = both("word_deletion", text, seed)
        assert out != text
        assert kept.findall(out) == kept.findall(text), out


# Final answers: appended text never joins the "# Answer" section.

ANSWERED = "So the total is 4800.\n# Answer\n\n4800"


@pytest.mark.parametrize("name", ["stress_test", "twitter_url", "twitter_handle"])
def test_appended_text_leaves_the_final_answer(name):
    for text in (ANSWERED, "# Answer\n\nNo solution.\n# Answer\n\nNo solution."):
        out, _ = both(name, text, 0)
        section = text[text.index("# Answer"):]
        assert out.endswith(section) and f"\n{section}" in f"\n{out}", out


# The reword suite: the drop is taken on pairs changed on both sides.

class LengthScorer:
    """Scores a response by its length: the longer one wins."""

    def score_pairs(self, pairs):
        return [len(p.chosen) for p in pairs], [len(p.rejected) for p in pairs], {}


def test_reword_drop_is_on_both_side_pairs(tmp_path):
    from harness.suites import reword

    rows = [  # synonym_swap edits both sides of the first two, one side of the third (undone)
        pair("A big house with a huge garden.", "A big hut.", i="r1"),
        pair("It is a large house.", "A small big house here indeed.", i="r2"),
        pair("It is a large house.", "Nope, nothing here at all today.", i="r3"),
    ]
    source = tmp_path / "rb.jsonl"
    write_jsonl(source, [p.to_record() for p in rows])
    config = Config()
    config.set("eval.transforms=synonym_swap")
    ctx = EvalContext(rm=None, scorer=LengthScorer(), config=config, out_dir=tmp_path,
                      data=str(source))
    entry = reword.run(ctx)["transforms"]["synonym_swap"]
    assert entry["sides"] == {"both": 2, "one": 0, "neither": 1, "undone": 1, "noop": 0}
    assert (entry["n"], entry["n_both"], entry["neither"]["n"]) == (3, 2, 1)
    assert entry["original"] == 0.5  # r1 right, r2 wrong: r3 (wrong) is not mixed in
    assert entry["neither"]["accuracy"] == 0.0
    records = read_jsonl(tmp_path / "reword_items.jsonl")
    assert [r["sides"] for r in records] == ["both", "both", "neither"]


def test_reword_draws_other_code_from_the_whole_data_not_the_sample(tmp_path):
    """A sample holding one hep-python pair still gets another problem's code appended, from
    the pairs left out of the sample, and the same code it gets in the full run."""
    from harness.suites import reword

    rows = [pair(f"    return {k}\n", "    return None\n", "hep-python", f"h{k}",
                 f"Write a Python function `f{k}(x)` to solve the following problem:\nF{k}.")
            for k in range(4)]
    rows += [pair(f"Yes, {k}.", f"No, {k}.", i=f"c{k}") for k in range(4)]
    source = tmp_path / "rb.jsonl"
    write_jsonl(source, [p.to_record() for p in rows])
    appended = {}
    for limit in (None, 2):
        config = Config()
        config.set("eval.transforms=code_append_other")
        out = tmp_path / f"limit-{limit}"
        out.mkdir()
        ctx = EvalContext(rm=None, scorer=LengthScorer(), config=config, out_dir=out,
                          data=str(source), limit=limit)
        entry = reword.run(ctx)["transforms"]["code_append_other"]
        assert entry["sides"]["both"] == entry["n"] >= 1, (limit, entry["sides"])
        appended[limit] = {r["key"]: r for r in read_jsonl(out / "reword_items.jsonl")}
    assert set(appended[2]) < set(appended[None])
    for key, record in appended[2].items():  # the same edit as in the full run
        assert record == appended[None][key]


# The audit's checks can fail.

def test_the_audit_checks_catch_each_defect():
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from benchmarks import transform_audit as audit

    assert audit.numbers_and_units("Add 5 cups now.") != audit.numbers_and_units("Add 5 now.")
    assert audit.numbers_and_units("(x - b)") != audit.numbers_and_units("(- b)")
    assert audit.math_contents(r"a $\$1$ b") == [r"\$1"]
    assert audit.math_contents(r"a $\$1$ b") != audit.math_contents(r"a $ \ $ 1$ b")
    assert audit.fence_blocks(FENCED) != audit.fence_blocks(FENCED + " and true is true")
    assert audit.final_answers(ANSWERED) == (None, "4800")
    assert audit.final_answers(ANSWERED + " https://t.co/x") != audit.final_answers(ANSWERED)
    report = {"synonym_swap": {"pairs": 10, "sides": {"both": 5, "one": 5, "neither": 0,
                                                      "undone": 0, "noop": 0},
                               "checks": {inv: [1, 2, ["x"]] if inv == "numbers" else [0, 0, []]
                                          for inv in audit.INVARIANTS}}}
    failed = audit.failures(report)
    assert "synonym_swap: numbers 1/2" in failed
    assert "synonym_swap: both sides in 5/10 changed pairs" in failed


def test_the_decorator_registers_a_pair_drawn_transform_in_the_registry_given():
    """The decorator path plugins use takes the new fields; an empty registry is no default."""
    from harness.registry import Registry

    local: Registry[Transform] = Registry("transform")

    @transform("pair_drawn_test", "controlled", "responses", registry=local, pair_draw=True)
    def tag(text, rng, ctx):
        return f"{text} #{rng.randrange(10**6)}"

    new, _ = apply_to_pair(local.get("pair_drawn_test"), pair("a", "b"), 0)
    assert new.chosen[1:] == new.rejected[1:]
