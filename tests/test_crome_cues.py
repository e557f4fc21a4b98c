"""Cue balance (``harness.cues``): the shared length/markdown balance, by hand; the ``rules``
oracle on real UltraFeedback data inside the 0.45-0.55 band; RRM's sampling and balance on its
method record; ``harness augment`` printing both."""

from __future__ import annotations

import re

import pytest
from conftest import shared_file

from baselines.rrm import PAPER_PER_PAIR, sampling_details
from crome.augment import augment_pairs
from crome.calls import OracleRunner
from crome.oracles import make_oracle
from harness.cli import main
from harness.config import Config
from harness.cues import (
    BAND,
    Balance,
    augmentation_groups,
    balance_report,
    balance_rows,
    cue_balance,
    markdown_marks,
    out_of_band,
)
from harness.data.loaders import load_pairs, write_pairs
from harness.data.schema import PreferencePair
from harness.methods import METHODS

UF = "ultrafeedback/sethtye-ultrafeedback_2k/ultrafeedback_2k.jsonl"


def _pair(chosen: str, rejected: str, label: str = "chosen", **extra) -> PreferencePair:
    return PreferencePair("q", chosen, rejected, None, f"{chosen}|{rejected}", label, extra)


def test_cue_balance_by_hand():
    pairs = [_pair("long answer", "short"),  # longer wins
             _pair("longer one", "tiny"),  # longer wins
             _pair("ok", "much longer"),  # shorter wins
             _pair("same", "four"),  # equal length: not counted
             _pair("a tie", "tie b", "tie")]  # ties never counted
    balance = cue_balance(pairs)
    assert balance == Balance(pairs=4, differ=3, wins=2, ties=1)
    assert balance.share == pytest.approx(2 / 3)
    assert balance.in_band is None  # 3 differing pairs: too few to judge
    assert cue_balance([]).share is None
    many = [_pair("xx", "x")] * 16 + [_pair("x", "xx")] * 14
    assert cue_balance(many).in_band is True and cue_balance(many).share == 16 / 30
    noisy = cue_balance([_pair("xx", "x")] * 17 + [_pair("x", "xx")] * 13)
    assert noisy.in_band is False and noisy.cue is False  # 17 of 30: binomial p = 0.58
    assert noisy.p_value == pytest.approx(0.5847, abs=1e-4)
    strong = cue_balance([_pair("xx", "x")] * 25 + [_pair("x", "xx")] * 5)
    assert strong.cue is True and strong.p_value < 0.001  # 25 of 30
    row = strong.to_dict()
    assert row["ci"][0] < 25 / 30 < row["ci"][1]
    md = [_pair("- a\n- b\n**c**", "- a"), _pair("plain", "# Head\n- item")]
    assert markdown_marks("- a\n- b\n**c**") == 3 and markdown_marks("```\n# x\n- y\n```") == 0
    assert cue_balance(md, markdown_marks) == Balance(2, 2, 1)


def test_balance_report_groups_and_rows():
    pairs = ([_pair("x" * 5, "x" * 3, augmentation="causal-degrade", rubric="completeness")] * 40
             + [_pair("x" * 3, "x" * 5, augmentation="causal-degrade", rubric="relevance")] * 40
             + [_pair("a", "b", "tie", augmentation="neutral")] * 5)
    report = balance_report(pairs, augmentation_groups())
    length = report["length"]
    assert length["all"]["all"]["share"] == 0.5 and length["all"]["all"]["ties"] == 5
    assert length["causal"]["causal"]["differ"] == 80
    assert length["rubric"]["completeness"]["share"] == 1.0
    assert length["rubric"]["relevance"]["share"] == 0.0
    assert set(length["type"]) == {"causal-degrade", "neutral"}
    assert out_of_band(report) == ["length, rubric=completeness: 1.00 of 40",
                                   "length, rubric=relevance: 0.00 of 40"]
    rows = {row[0]: row for row in balance_rows(report)}
    assert rows["rubric completeness"][3] == "1.00 of 40 !"
    assert rows["all"][1:4] == (80, 5, "0.50 of 80") and rows["type neutral"][3] == "-"


def test_rules_oracle_adds_no_length_or_markdown_cue_on_ultrafeedback():
    """Issue #17's bar: among causal pairs the longer answer wins 45-55% of the time, overall
    and per rubric with >= 30 differing pairs; the same for markdown."""
    pairs = load_pairs(str(shared_file(UF)))
    oracle = make_oracle("rules", seed=0)
    result = augment_pairs(pairs, oracle, OracleRunner(oracle), seed=0)
    report = result.details["cue_balance"]["augmented"]
    causal = report["length"]["causal"]["causal"]
    assert causal["differ"] >= 300 and BAND[0] <= causal["share"] <= BAND[1]
    judged = [name for name, row in report["length"]["rubric"].items()
              if row["in_band"] is not None]
    assert {"completeness", "relevance"} <= set(judged)  # the rubrics that change lengths
    assert out_of_band(report) == []


def test_rrm_records_its_sampling_and_balance():
    pairs = [PreferencePair(f"prompt {i}", "chosen " * (i % 5 + 1), "rejected", id=str(i))
             for i in range(12)]
    config = Config()
    config.set_value("rrm.filter_threshold", None)
    data = METHODS.get("rrm").build(pairs, config, None)
    sampling = data.details["sampling"]
    assert sampling["per_pair"] == 1.25 and sampling["paper_per_pair"] == PAPER_PER_PAIR == 14
    assert sampling["built_per_pair"] == pytest.approx((len(data.pairs) - 12) / 12)
    assert len(data.approximate) == 1 and "1.25 of the paper's 14" in data.approximate[0]
    balance = data.details["cue_balance"]
    assert balance["augmented"]["length"]["type"]["rrm-noncontextual"]["pairs"] == 12
    assert balance["kept"] == balance["augmented"]  # no filter: everything kept
    config.set_value("rrm.borrowed_per_pair", 8)
    config.set_value("rrm.tie_ratio", 6.0)
    full = METHODS.get("rrm").build(pairs, config, None)
    assert full.approximate == [] and len(full.pairs) == 12 + 12 * 14
    assert sampling_details(8, 6.0, 12, 12 * 14)["built_per_pair"] == 14


WORDS = ("flour water yeast salt sugar butter dough oven tray knife bowl spoon timer glove "
         "rack towel lid pan whisk scale").split()


def _steps(i: int, steps: int = 5) -> str:
    """Numbered steps of varied lengths, no two with the same words."""
    return "\n".join(f"{n}. Take the " + " ".join(WORDS[(i + n * 3 + k) % len(WORDS)]
                                                 for k in range((i * 7 + n * 3) % 5 + 2)) + "."
                     for n in range(1, steps + 1))


def test_augment_prints_the_balance_for_crome_and_rrm(tmp_path, capsys):
    pairs = [PreferencePair(f"How do I do task {i}?", _steps(i), "No idea.", id=str(i))
             for i in range(12)]
    data = tmp_path / "pairs.jsonl"
    write_pairs(pairs, data)
    assert main(["augment", "--method", "crome", "--oracle", "rules", "--data", str(data),
                 "--out", str(tmp_path / "c.jsonl"), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "cue balance of the augmented pairs" in text
    assert re.search(r"rubric completeness\s*│\s*\d+\s*│\s*0\s*│\s*[01]\.\d\d of \d+ \(few\)",
                     text)
    assert main(["augment", "--method", "rrm", "--data", str(data),
                 "--out", str(tmp_path / "r.jsonl"), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "1.25 of the paper's 14" in text and "type rrm-noncontextual" in text
    assert len(load_pairs(str(tmp_path / "r.jsonl"))) > 12


def test_augment_warns_when_a_cue_rides_along():
    from rich.console import Console

    from harness.commands.augment import print_balance

    pairs = [_pair("x" * 9, "x" * 3, augmentation="causal-degrade", rubric="completeness")] * 31
    console = Console(record=True, width=200)
    print_balance(console, balance_report(pairs, augmentation_groups()), "t")
    text = console.export_text()
    assert "rubric completeness" in text and "1.00 of 31 !" in text
    assert "carries a cue (the label follows it): length, all=all: 1.00 of 31" in text
    console = Console(record=True, width=200)
    print_balance(console, balance_report(pairs[:29], augmentation_groups()), "t")
    assert "carries a cue" not in console.export_text()  # 29 pairs: too few to judge
