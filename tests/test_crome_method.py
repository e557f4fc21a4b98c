"""Crome augmentation (steps 1-3), the ``crome`` method with a fake filter RM, and
``harness augment --oracle rules``."""

from __future__ import annotations

from crome.augment import augment_pairs
from crome.calls import OracleRunner
from crome.method import RULES_APPROXIMATION, build
from crome.oracles import make_oracle
from harness.cli import main
from harness.config import Config
from harness.data.loaders import load_pairs, write_pairs
from harness.data.schema import PreferencePair
from harness.io import read_jsonl
from harness.methods import METHODS


def _data(n: int = 12) -> list[PreferencePair]:
    pairs = []
    for i in range(n):
        chosen = (f"Step one: take {i + 3} cups of flour. Step two: add {i + 1} eggs and stir. "
                  f"Step three: bake for {20 + i} minutes. Serve warm with Butter.")
        pairs.append(PreferencePair(f"How do I make cake number {i}?", chosen,
                                    f"Just bake {i} things.", id=str(i)))
    return pairs


def _rules_augment(pairs, seed=0, neutrals=1.0):
    oracle = make_oracle("rules", seed=seed)
    return augment_pairs(pairs, oracle, OracleRunner(oracle), seed=seed, neutrals_per_pair=neutrals)


def test_augmented_pairs_have_the_right_shape_and_labels():
    pairs = _data()
    result = _rules_augment(pairs)
    by_id = {p.id: p for p in pairs}
    counts = result.counts
    assert counts["original"] == 12 and counts["causal-degrade"] == 12
    assert counts["causal-upgrade"] == 0 and counts["upgrade_skipped"] == 12
    assert counts["neutral"] == 12 and 0 < counts["neutral_from_causal"] < 12
    for p in result.pairs:
        source = by_id[p.extra["source_pair"]]
        assert p.extra["approximate"] is (p.extra["oracle"] == "rules")
        if p.extra["augmentation"] == "causal-degrade":
            assert p.prompt == source.prompt and p.chosen == source.chosen
            assert p.rejected != source.chosen and p.label == "chosen"
            assert p.extra["oracle"] == "rules" and p.extra["rubric"] in (
                "correctness", "completeness", "relevance")
        else:
            assert p.label == "tie" and p.prompt != source.prompt  # an unrelated prompt
            assert p.prompt == by_id[p.extra["prompt_from"]].prompt
            if p.extra["neutral_of"] == "original":
                assert (p.chosen, p.rejected) == (source.chosen, source.rejected)
                assert p.extra["oracle"] == "none" and p.extra["approximate"] is False
    assert len({p.id for p in result.pairs}) == len(result.pairs)


def test_augmentation_is_deterministic_and_seeded():
    first = [p.to_record() for p in _rules_augment(_data()).pairs]
    assert first == [p.to_record() for p in _rules_augment(_data()).pairs]
    assert first != [p.to_record() for p in _rules_augment(_data(), seed=1).pairs]
    assert _rules_augment(_data(), neutrals=0.0).counts["neutral"] == 0
    assert _rules_augment(_data(), neutrals=2.0).counts["neutral"] == 24


def test_build_filters_with_the_vanilla_rm_and_reports_counts():
    assert METHODS.get("crome").uses_filter
    pairs = _data()
    config = Config()
    config.set_value("crome.neutrals_per_pair", 1.0)
    seen: list[PreferencePair] = []

    def filter_scores(augmented):  # confident on degrades (drop them), unsure on ties (keep)
        seen.extend(augmented)
        return [5.0 if not p.is_tie else 3.0 if i % 2 else 0.0
                for i, p in enumerate(augmented)]

    data = build(pairs, config, filter_scores)
    assert data.pairs[:12] == pairs  # originals always kept
    kept = data.pairs[12:]
    assert all(p.is_tie for p in kept) and len(kept) == sum(
        1 for i, p in enumerate(seen) if p.is_tie and not i % 2)
    assert data.counts["causal-degrade"] == 12 and data.counts["causal-degrade_kept"] == 0
    assert data.counts["neutral_kept"] == len(kept)
    assert data.counts["filtered_out"] == len(seen) - len(kept)
    assert data.approximate == [RULES_APPROXIMATION]
    assert data.details["oracle"] == "rules"
    balance = data.details["cue_balance"]  # before and after the filter
    assert balance["augmented"]["length"]["type"]["causal-degrade"]["pairs"] == 12
    assert balance["kept"]["length"]["all"]["all"] == {
        "pairs": 0, "differ": 0, "wins": 0, "share": None, "ties": len(kept), "in_band": None,
        "ci": None, "p_value": None, "cue": None}
    config.set_value("crome.filter_threshold", None)  # no filtering: everything kept
    assert len(build(pairs, config, None).pairs) == 12 + len(seen)


def test_augment_command_with_rules(tmp_path, capsys):
    data = tmp_path / "pairs.jsonl"
    write_pairs(_data(), data)
    out = tmp_path / "aug.jsonl"
    assert main(["augment", "--method", "crome", "--oracle", "rules", "--data", str(data),
                 "--out", str(out), "--limit", "6", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "oracle rules (heuristics), approximate" in text
    assert "causal-degrade" in text and "neutral" in text
    records = read_jsonl(out)
    assert {r["augmentation"] for r in records} == {"causal-degrade", "neutral"}
    assert all(r["id"].split("#")[0] in {str(i) for i in range(6)} for r in records)
    assert len(load_pairs(str(out))) == len(records)  # readable by the shared loader
    assert main(["augment", "--oracle", "nope", "--data", str(data), "--out", str(out)]) == 2
    assert "crome.oracle: 'nope' is not one of" in capsys.readouterr().err
