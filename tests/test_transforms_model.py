"""Model-based transforms (paraphrase, back_translation) with a fake generator.

The generator is any object with ``name`` and ``generate(prompts, max_new_tokens)``; here it
records its calls and rewrites the text after ``Text:\\n`` by fixed rules. The similarity model is
replaced by a stand-in except in ``test_real_minilm_similarity_filter``, which loads MiniLM.
"""

from __future__ import annotations

import dataclasses

import pytest

import transforms.generators as generators
import transforms.model_based as mb
from harness.cli import main
from harness.data.schema import PreferencePair
from harness.io import read_jsonl, write_jsonl
from transforms import TRANSFORMS, applies_to, apply_to_pairs, transform_pairs
from transforms.generators import GENERATORS, GenerationCache, cache_path

REWRITES = {
    "Delivery usually takes 12 days.": "Shipping normally needs 12 days.",
    "It costs $5 and is quick.": "The price is $5 and it is fast.",
    "Keep the 3 keys safe.": "Keep the keys safe.",  # drops a number
    "Call me at noon.": "",  # empty
    "Add one cup of flour.": "Add 1 cup of flour.",  # adds a number
    "The sky is blue today.": "Bananas grow in 3 countries.",  # unrelated (and adds a number)
    "Cats sleep a lot.": "Bananas are yellow fruit.",  # unrelated, same numbers (none)
}
SPANISH = {"Delivery usually takes 12 days.": "La entrega suele tardar 12 dias.",
           "It costs $5 and is quick.": "Cuesta $5 y es rapido."}
ENGLISH = {"La entrega suele tardar 12 dias.": "Delivery tends to take 12 days.",
           "Cuesta $5 y es rapido.": "It costs $5 and it is fast."}


class FakeGenerator:
    def __init__(self, name: str = "fake:v1"):
        self.name = name
        self.calls: list[tuple[list[str], int]] = []

    def generate(self, prompts, max_new_tokens):
        self.calls.append((list(prompts), max_new_tokens))
        out = []
        for prompt in prompts:
            text = prompt.rsplit("Text:\n", 1)[1]
            table = (SPANISH if "into Spanish" in prompt else ENGLISH if "into English" in prompt
                     else REWRITES)
            out.append(table.get(text, text + " Indeed."))
        return out


def fake_similarity(a, b):
    """High unless the rewrite talks about bananas."""
    return [0.1 if "Bananas" in y else 0.95 for x, y in zip(a, b, strict=True)]


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    forget_in_memory(monkeypatch)
    return tmp_path / "cache"


def forget_in_memory(monkeypatch) -> None:
    """What a new process starts without: open cache handles and accepted rewrites, so a
    second run can only be served by the disk cache."""
    monkeypatch.setattr(generators, "_CACHES", {})
    monkeypatch.setattr(mb, "_ACCEPTED", {})


@pytest.fixture
def fake_sim(monkeypatch):
    monkeypatch.setattr(mb, "cosine_similarities", fake_similarity)


def pair(chosen: str, rejected: str, i: int = 0, subset: str = "alpacaeval-easy"):
    return PreferencePair(prompt="Say something.", chosen=chosen, rejected=rejected,
                          subset=subset, id=f"m{i}")


def test_outputs_are_cached_on_disk(cache, fake_sim, monkeypatch):
    t = TRANSFORMS.get("paraphrase")
    pairs = [pair("Delivery usually takes 12 days.", "It costs $5 and is quick.", 0),
             pair("It costs $5 and is quick.", "Cats purr.", 1)]
    first_gen = FakeGenerator()
    first = apply_to_pairs(t, pairs, 0, generator=first_gen)
    # Three distinct texts, each generated once, batched by its own token budget (a text's
    # output never depends on longer texts beside it), no regeneration after the prefetch.
    generated = [(p.rsplit("Text:\n", 1)[1], budget) for prompts, budget in first_gen.calls
                 for p in prompts]
    assert sorted(generated) == sorted(
        (text, mb.token_budget(text)) for text in
        ("Cats purr.", "Delivery usually takes 12 days.", "It costs $5 and is quick."))
    assert [(new.chosen, new.rejected, changed) for new, changed in first] == [
        ("Shipping normally needs 12 days.", "The price is $5 and it is fast.", True),
        ("The price is $5 and it is fast.", "Cats purr. Indeed.", True)]
    assert cache_path() == cache / "transforms" / "generations.sqlite"
    assert len(GenerationCache(cache_path())) == 3

    forget_in_memory(monkeypatch)  # as a new process would: read from disk
    second_gen = FakeGenerator()
    assert apply_to_pairs(t, pairs, 5, generator=second_gen) == first
    assert second_gen.calls == []
    other_model = FakeGenerator("fake:v2")  # the generator's name is part of the key
    apply_to_pairs(t, pairs[:1], 0, generator=other_model)
    assert sum(len(prompts) for prompts, _ in other_model.calls) == 2  # both texts again


def test_a_cache_file_from_before_the_json_store_still_opens(cache):
    import sqlite3

    cache_path().parent.mkdir(parents=True)
    with sqlite3.connect(cache_path()) as old:  # the earlier schema, same file and table name
        old.execute("CREATE TABLE generations (step TEXT, generator TEXT, text_hash TEXT, "
                    "output TEXT, PRIMARY KEY (step, generator, text_hash))")
    store = GenerationCache(cache_path())
    assert store.get("paraphrase/x", "fake", "Cats purr.") is None
    store.put("paraphrase/x", "fake", "Cats purr.", "Cats hum.")
    assert store.get("paraphrase/x", "fake", "Cats purr.") == "Cats hum."


def test_bad_outputs_are_rejected(cache, fake_sim):
    t = TRANSFORMS.get("paraphrase")
    pairs = [pair("Keep the 3 keys safe.", "Call me at noon.", 0),
             pair("Add one cup of flour.", "The sky is blue today.", 1),
             pair("Cats sleep a lot.", "", 2),
             pair("Delivery usually takes 12 days.", "Keep the 3 keys safe.", 3)]
    gen = FakeGenerator()
    done = apply_to_pairs(t, pairs, 0, generator=gen)
    # Pair 3's chosen rewrite is fine, but its rejected one drops a number: the pair is rejected
    # as a whole, so neither side carries a rewrite the other lacks.
    assert [changed for _, changed in done] == [False, False, False, False]
    for (new, _), old in zip(done, pairs, strict=True):
        assert (new.chosen, new.rejected) == (old.chosen, old.rejected)
    [applied] = transform_pairs(t, pairs[3:], 0, generator=gen)
    assert (applied.sides, applied.undone) == ("neither", True)
    texts = [text for p in pairs for text in (p.chosen, p.rejected)]
    assert t.rejections(texts, gen) == {"numbers": 2, "empty": 1, "similarity": 2,
                                        "accepted": 1}
    asked = [p.rsplit("Text:\n", 1)[1] for prompts, _ in gen.calls for p in prompts]
    assert "" not in asked  # an empty text is never sent


def test_a_text_too_long_for_the_cap_is_not_rewritten(cache, fake_sim):
    """A rewrite that could be cut at the token cap is never sent, and is counted."""
    t = TRANSFORMS.get("paraphrase")
    long = "Delivery usually takes 12 days. " * 80
    assert mb.too_long(long) and not mb.too_long("Cats purr.")
    gen = FakeGenerator()
    [(new, changed)] = apply_to_pairs(t, [pair(long, "Cats purr.")], 0, generator=gen)
    assert not changed and new.chosen == long
    asked = [p.rsplit("Text:\n", 1)[1] for prompts, _ in gen.calls for p in prompts]
    assert asked == ["Cats purr."]
    assert t.rejections([long, "Cats purr."], gen) == {"too_long": 1, "accepted": 1}


def test_back_translation_runs_two_steps(cache, fake_sim, monkeypatch):
    t = TRANSFORMS.get("back_translation")
    pairs = [pair("Delivery usually takes 12 days.", "It costs $5 and is quick.")]
    gen = FakeGenerator()
    [(new, changed)] = apply_to_pairs(t, pairs, 0, generator=gen)
    assert changed
    assert (new.chosen, new.rejected) == ("Delivery tends to take 12 days.",
                                          "It costs $5 and it is fast.")
    prompts = [p for batch, _ in gen.calls for p in batch]
    assert len(prompts) == 4  # two texts, two steps, each generated once
    to_spanish = [p for p in prompts if "into Spanish" in p]
    to_english = [p for p in prompts if "into English" in p]
    assert len(to_spanish) == len(to_english) == 2
    assert all("from English into Spanish" in p for p in to_spanish)
    assert all("from Spanish into English" in p for p in to_english)
    assert sorted(p.rsplit("Text:\n", 1)[1] for p in to_english) == sorted(SPANISH.values())
    steps = GenerationCache(cache_path()).steps()
    assert [s.rsplit("/", 1)[0] for s in steps] == ["back_translation/en-es",
                                                    "back_translation/es-en"]
    forget_in_memory(monkeypatch)
    again = FakeGenerator()
    assert apply_to_pairs(t, pairs, 0, generator=again) == [(new, True)]
    assert again.calls == []


def test_model_transforms_are_declared_as_such():
    for name in ("paraphrase", "back_translation"):
        t = TRANSFORMS.get(name)
        assert (t.kind, t.category, t.fields) == ("model", "naturalistic", ("chosen", "rejected"))
        assert "generator" in t.requires and "minilm-l6" in t.requires
        assert not applies_to(t, pair("a", "b", subset="hep-go"))
        assert applies_to(t, pair("a", "b", subset="math-prm"))
    assert mb.token_budget("x" * 30) == 42 and mb.token_budget("x" * 100_000) == mb.MAX_NEW_TOKENS


def test_cli_applies_a_model_transform(cache, fake_sim, tmp_path, capsys):
    if "fake-test" not in GENERATORS:
        GENERATORS.add("fake-test", lambda: FakeGenerator("fake:cli"))
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    pairs = [pair("Delivery usually takes 12 days.", "It costs $5 and is quick.", 0),
             pair("Keep the 3 keys safe.", "Call me at noon.", 1),
             pair("a", "b", 2, subset="hep-python")]
    write_jsonl(source, [dataclasses.asdict(p) for p in pairs])
    assert main(["transforms", "apply", "--transform", "paraphrase", "--generator", "fake-test",
                 "--input", str(source), "--output", str(out)]) == 0
    records = read_jsonl(out)
    assert [(r["id"], r["changed"]) for r in records] == [("m0", True), ("m1", False)]
    assert records[0]["chosen"] == "Shipping normally needs 12 days."
    printed = capsys.readouterr().out
    assert "50.0%" in printed and "no-op rate >= 10%: paraphrase" in printed
    assert "rejected rewrites: paraphrase: 1 numbers, 1 empty" in printed


def test_real_minilm_similarity_filter(cache):
    """MiniLM itself (offline): a close paraphrase passes 0.7, an unrelated text does not."""
    sims = mb.cosine_similarities(
        ["The cat sat on the mat.", "Delivery usually takes 12 days.", "Cats sleep a lot."],
        ["A cat was sitting on the mat.", "Shipping normally needs 12 days.",
         "Bananas are yellow fruit."])
    assert sims[0] > 0.8 and sims[1] > mb.MIN_SIMILARITY and sims[2] < 0.3
    assert mb.cosine_similarities(["Same text."], ["Same text."])[0] == pytest.approx(1.0)
    t = TRANSFORMS.get("paraphrase")
    gen = FakeGenerator()
    [(new, changed)] = apply_to_pairs(
        t, [pair("Delivery usually takes 12 days.", "Cats sleep a lot.")], 0, generator=gen)
    # The rejected side's rewrite has the same numbers but is not similar: rejected, and with
    # it the whole pair.
    assert not changed and new.chosen == "Delivery usually takes 12 days."
    assert t.rejections(["Delivery usually takes 12 days.", "Cats sleep a lot."], gen) == {
        "accepted": 1, "similarity": 1}


def test_real_minilm_similarity_reads_the_whole_text(cache):
    """A rewrite whose first 256 tokens match but whose rest is unrelated must not pass."""
    original = "The cat sat on the mat. " * 80
    rewrite = ("The cat sat on the mat. " * 40
               + "Bananas are yellow fruit grown in warm lands. " * 100)
    head = mb.cosine_similarities([original[:600]], [rewrite[:600]])[0]
    whole = mb.cosine_similarities([original], [rewrite])[0]
    assert head > 0.99 and whole < mb.MIN_SIMILARITY


def test_reword_takes_model_pairs_as_a_whole_and_counts_rejections(cache, fake_sim, monkeypatch,
                                                                   tmp_path):
    """In the reword suite, a pair with one rejected rewrite is left out of the drop (neither,
    undone) and the rejection is counted by reason."""
    from harness.config import Config
    from harness.suites import reword
    from harness.suites.base import EvalContext

    if "fake-test" not in GENERATORS:
        GENERATORS.add("fake-test", lambda: FakeGenerator("fake:cli"))
    monkeypatch.setenv("CROME_BENCH_GENERATOR", "fake-test")
    pairs = [pair("Delivery usually takes 12 days.", "It costs $5 and is quick.", 0),
             pair("Delivery usually takes 12 days.", "Keep the 3 keys safe.", 1)]
    source = tmp_path / "rb.jsonl"
    write_jsonl(source, [dataclasses.asdict(p) for p in pairs])

    class LengthScorer:
        def score_pairs(self, items):
            return [len(p.chosen) for p in items], [len(p.rejected) for p in items], {}

    config = Config()
    config.set("eval.transforms=paraphrase")
    ctx = EvalContext(rm=None, scorer=LengthScorer(), config=config, out_dir=tmp_path,
                      data=str(source))
    entry = reword.run(ctx)["transforms"]["paraphrase"]
    assert entry["sides"] == {"both": 1, "one": 0, "neither": 1, "undone": 1, "noop": 0}
    assert entry["n_both"] == 1 and entry["neither"]["n"] == 1
    assert entry["rejections"] == {"accepted": 2, "numbers": 1}
