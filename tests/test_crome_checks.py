"""Checked oracle rewrites (``crome.checks``) and the ``hf`` oracle with a stub generator:
rewrites that change nothing that was asked are rejected and counted by reason, and ``hf`` is
labelled approximate, in words, as the small local model it is."""

from __future__ import annotations

import re

import pytest

from crome import prompts
from crome.augment import augment_pairs
from crome.calls import OracleRunner
from crome.checks import REASONS, rewrite_rejection
from crome.method import approximations
from crome.oracles import make_oracle
from crome.rubrics import COMPLETENESS, CORRECTNESS, RELEVANCE, SAFETY, Rubric
from harness.data.schema import PreferencePair

Q = "How many moons does the planet Mars have, and what are their names?"
A = "Mars has 2 moons, Phobos and Deimos. Phobos is the larger one."


@pytest.mark.parametrize(("rewrite", "rubric", "direction", "reason"), [
    (A, CORRECTNESS, "degrade", "identical"),
    ("Mars  has 2 moons,\nPhobos and Deimos.   Phobos is the larger one.", CORRECTNESS,
     "degrade", "identical"),
    (f"<<<\n{A}\n>>>", CORRECTNESS, "degrade", "echo"),
    (f"Keep everything else as close to the original as possible. {A}", RELEVANCE, "upgrade",
     "echo"),
    (Q, CORRECTNESS, "degrade", "echo"),  # the user's prompt instead of an answer
    ("MARS HAS 2 MOONS: **Phobos** and Deimos! Phobos is *the* larger one", CORRECTNESS,
     "degrade", "cosmetic"),
    ("Mars has 2 moons, Phobos and Deimos. Phobos is the larger one. Both are small.",
     CORRECTNESS, "degrade", "facts_kept"),  # only added: no fact changed
    ("Mars has 2 moons, Phobos and Deimos. Phobos is the larger one. Both are small.",
     COMPLETENESS, "degrade", "facts_kept"),
    ("\n".join(["Phobos is a moon of Mars, I say."] * 3), CORRECTNESS, "degrade", "repeats"),
    ("Mars has 2 moons, Phobos and Deimos.", COMPLETENESS, "upgrade", "only_removed"),
    ("Mars.", CORRECTNESS, "degrade", None),  # short original: length is not judged
])
def test_rejections(rewrite, rubric, direction, reason):
    assert rewrite_rejection(Q, A, rewrite, rubric, direction) == reason
    assert reason is None or reason in REASONS


@pytest.mark.parametrize(("rewrite", "rubric", "direction"), [
    ("Mars has 3 moons, Phobos and Deimos. Phobos is the larger one.", CORRECTNESS, "degrade"),
    ("Mars has 2 moons, Deimos and Phobos. Deimos is the larger one.", CORRECTNESS, "degrade"),
    ("Mars has 2 moons, Phobos and Deimos. Phobos is not the larger one.", CORRECTNESS,
     "degrade"),  # a negation is no function word
    ("Mars has 2 moons. Phobos is the larger one.", COMPLETENESS, "degrade"),
    ("Mars has 2 moons, Phobos and Deimos. Phobos is the larger one. I like pizza a lot.",
     RELEVANCE, "degrade"),  # an off-topic addition is a relevance degrade
    ("Mars has 2 moons, Phobos and Deimos. Phobos is the larger one. Neither can be visited.",
     SAFETY, "degrade"),
    ("Mars has 2 moons, Phobos and Deimos. Phobos, about 22 km across, is the larger one.",
     Rubric("detail"), "upgrade"),  # upgrades may only add
    ("3", CORRECTNESS, "degrade"),
    ("Mars has 2 moons, Phobos and Deimos.", CORRECTNESS, "upgrade"),  # a wrong claim cut
])
def test_real_changes_pass(rewrite, rubric, direction):
    assert rewrite_rejection(Q, A, rewrite, rubric, direction) is None


def test_length_and_short_answers():
    long = "The first step is to measure the room carefully. " * 6
    assert rewrite_rejection(Q, long, "Measure.", CORRECTNESS, "degrade") == "length"
    assert rewrite_rejection(Q, long, long * 4, RELEVANCE, "degrade") == "length"
    # A one-word answer whose new value happens to be in the prompt is no echo.
    assert rewrite_rejection("Rate it from 0 to 5.", "3", "0", CORRECTNESS, "degrade") is None
    assert prompts.parse_rewrite('{"changed": true, "rewrite": "x"}', long) == "x"  # parse only


class _Tokenizer:
    def encode(self, text: str) -> list[str]:
        return text.split()


def _stub_hf(monkeypatch, reply):
    """The hf oracle with its model replaced by ``reply(prompt text) -> generated text``."""
    oracle = make_oracle("hf", seed=0)
    oracle._loaded = (None, _Tokenizer())
    monkeypatch.setattr(oracle, "generate", lambda text, max_new_tokens: reply(text))
    return oracle


def _answer_in(text: str) -> str:
    return re.search(r"The answer to rewrite:\n<<<\n(.*)\n>>>", text, re.S).group(1)


def test_hf_rewrites_are_checked_counted_and_labelled(monkeypatch):
    def reply(text: str) -> str:
        if "attributes of an answer" in text:
            return '["correctness"]'
        answer = _answer_in(text)
        if "clearly BETTER" in text:
            return "Here is the rewritten answer: " + answer + " This is well established."
        return {"Echo": text.splitlines()[0],  # the instructions, as small models do
                "Same": answer,
                "Case": answer.lower(),
                "Good": answer.replace("8", "6")}[answer.split()[0]]

    pairs = [PreferencePair(f"Question {word}?", f"{word} answer: spiders have 8 legs.", "No.",
                            id=word) for word in ("Echo", "Same", "Case", "Good")]
    oracle = _stub_hf(monkeypatch, reply)
    result = augment_pairs(pairs, oracle, OracleRunner(oracle), seed=0, neutrals_per_pair=0)
    assert result.details["rewrite_rejections"] == {
        "degrade:cosmetic": 1, "degrade:echo": 1, "degrade:identical": 1}
    assert result.counts["rewrites_rejected"] == 3 and result.counts["degrade_skipped"] == 3
    degrades = [p for p in result.pairs if p.extra["augmentation"] == "causal-degrade"]
    assert [(p.id, p.rejected) for p in degrades] == [
        ("Good#crome-degrade-correctness", "Good answer: spiders have 6 legs.")]
    assert len([p for p in result.pairs if p.extra["augmentation"] == "causal-upgrade"]) == 4
    assert result.approximate and all(p.extra["approximate"] for p in result.pairs)
    (note,) = approximations(result)
    assert "'hf' (smollm2-135m)" in note and "135M parameters" in note and "Gemini" in note
