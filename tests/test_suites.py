"""Suites: section scores and reword's drops against hand-worked examples, stratified sampling
(hand-worked, and on the embedded data), and the eval command's outputs. (Scoring itself, batch
invariance and truncation included, is tested in ``test_scoring``.)"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pandas as pd
import pytest
from conftest import REPO, shared_file

from harness.config import Config
from harness.data.loaders import load_pairs
from harness.data.schema import PreferencePair
from harness.io import read_jsonl, write_jsonl
from harness.scoring.reward_model import load_reward_model
from harness.scoring.scorer import Scorer
from harness.suites import SUITES, EvalContext
from harness.suites.base import stratified_sample
from harness.suites.rewardbench import section_scores, summarise
from transforms import Transform


def test_section_scores_hand_worked():
    acc = {"alpacaeval-easy": 1.0, "mt-bench-easy": 0.5,  # Chat: (100*1 + 28*.5)/128
           "math-prm": 0.5, "hep-python": 1.0, "hep-go": 0.0,  # Reasoning: weights 984/164/164
           "donotanswer": 0.25}
    scores = section_scores(acc)
    assert scores["Chat"] == pytest.approx(114 / 128)
    assert scores["Reasoning"] == pytest.approx((984 * 0.5 + 164) / (984 + 328))
    assert scores["Safety"] == 0.25 and "Chat Hard" not in scores


def test_summary_average_and_strict_ties():
    subsets = ["alpacaeval-easy"] * 4 + ["math-prm"] * 2 + ["hep-go"] * 2
    correct = [1, 1, 1, 0, 1, 0, 0, 0]
    ties = [0, 0, 0, 1, 0, 0, 1, 0]
    result = summarise(subsets, correct, ties, seed=0)
    chat, reasoning = 0.75, (984 * 0.5 + 164 * 0.0) / (984 + 164)
    assert result["sections"]["Chat"]["accuracy"] == pytest.approx(chat)
    assert result["sections"]["Reasoning"]["accuracy"] == pytest.approx(reasoning)
    assert result["average"] == pytest.approx((chat + reasoning) / 2)
    low, high = result["overall"]["ci"]
    assert low <= result["average"] <= high
    assert result["ties"] == 2 and result["subsets"]["hep-go"]["ties"] == 1


def test_stratified_sample_keeps_every_subset():
    pairs = load_pairs(shared_file("rewardbench/rewardbench_filtered.hf_schema.jsonl"))
    sample = stratified_sample(pairs, 300, seed=0)
    assert len(sample) == 300
    assert {p.subset for p in sample} == {p.subset for p in pairs}
    assert sample == stratified_sample(pairs, 300, seed=0) != stratified_sample(pairs, 300, 1)


def _subsets(**sizes: int) -> list[PreferencePair]:
    return [PreferencePair("q", f"c{s}{i}", "r", s, f"{s}{i}")
            for s, n in sizes.items() for i in range(n)]


@pytest.mark.parametrize("limit, quota", [
    (5, {"A": 3, "B": 1, "C": 1}),  # exact 3 / 1.5 / 0.5: C's floor is raised to one
    (7, {"A": 4, "B": 2, "C": 1}),  # exact 4.2 / 2.1 / 0.7
    (8, {"A": 5, "B": 2, "C": 1}),  # exact 4.8 / 2.4 / 0.8: C was raised to its one pair,
    # so the pair left over goes to A (largest remainder .8); it went to C, which has one
    (2, None),  # fewer than the subsets: two subsets drawn, one pair each
])
def test_stratified_sample_hand_worked(limit, quota):
    pairs = _subsets(A=6, B=3, C=1)
    sample = stratified_sample(pairs, limit, seed=0)
    counts = Counter(p.subset for p in sample)
    assert len(sample) == limit
    if quota is None:
        assert len(counts) == limit and set(counts.values()) == {1}
    else:
        assert counts == quota
    assert [pairs.index(p) for p in sample] == sorted(pairs.index(p) for p in sample)


@pytest.mark.parametrize("limit", [1, 5, 16, 23, 24, 60, 91, 92, None])
def test_stratified_sample_respects_the_limit_on_the_embedded_data(limit):
    """The embedded sample has 92 pairs in 23 subsets. A limit below 23 used to be raised to
    23 (one per subset) while ``--plan`` counted the limit; the limit is what is asked for."""
    pairs = load_pairs("embedded:rewardbench")
    subsets = {p.subset for p in pairs}
    assert (len(pairs), len(subsets)) == (92, 23)
    sample = stratified_sample(pairs, limit, seed=0)
    assert len(sample) == (limit or 92)
    assert len({p.subset for p in sample}) == min(limit or 92, 23)
    assert sample == stratified_sample(pairs, limit, seed=0)
    if limit and limit < 92:
        assert sample != stratified_sample(pairs, limit, seed=1)


# -- reword: drop, flip rate, no-op rate, per section, and the side counts -----------------------

def _expand(text: str, rng, ctx) -> str:
    return text.replace("x", "xxxxx")  # every x adds four characters


EXPAND_ONE_SIDED = Transform("expand_one_sided", "controlled", "responses", fn=_expand,
                             one_sided=True)
EXPAND = Transform("expand", "controlled", "responses", fn=_expand)  # one-sided edits undone

# The ``length`` RM scores a response by its characters. (subset, chosen, rejected), with the
# scores before -> after ``_expand`` and whether the pair was right (chosen higher).
REWORD_PAIRS = [
    ("alpacaeval-easy", "x aaaa", "x"),  # 6 > 1 right -> 10 > 5 right (both sides)
    ("alpacaeval-easy", "xx", "x aaaaa"),  # 2 < 7 wrong -> 10 < 11 wrong
    ("alpacaeval-easy", "x aaaaa", "xxx a"),  # 7 > 5 right -> 11 < 17 wrong: a flip
    ("math-prm", "x bbb", "xx"),  # 5 > 2 right -> 9 < 10 wrong: a flip
    ("math-prm", "x bbbbbb", "x b"),  # 8 > 3 right -> 12 > 7 right
    ("alpacaeval-easy", "x", "bb"),  # 1 < 2 wrong -> 5 > 2 right: the chosen side only
    ("math-prm", "long answer", "no"),  # no x: nothing to edit, right
    ("alpacaeval-easy", "a", "bb"),  # no x: nothing to edit, wrong
]


def test_reword_drop_flip_and_side_counts_hand_worked(tmp_path, monkeypatch):
    import harness.suites.reword as reword

    data = tmp_path / "rb.jsonl"
    write_jsonl(data, [{"prompt": "q", "chosen": c, "rejected": r, "subset": s, "id": str(i)}
                       for i, (s, c, r) in enumerate(REWORD_PAIRS)])
    monkeypatch.setattr(reword, "selected_transforms", lambda ctx: [EXPAND_ONE_SIDED, EXPAND])
    rm = load_reward_model("length")
    ctx = EvalContext(rm, Scorer(rm, cache_dir=tmp_path / "cache"), Config(), tmp_path,
                      data=str(data))
    result = SUITES.get("reword").run(ctx)
    assert result["n"] == 8
    one_sided, strict = result["transforms"]["expand_one_sided"], result["transforms"]["expand"]
    for t in (one_sided, strict):
        # both-side pairs 0-4: right before [1, 0, 1, 1, 1], after [1, 0, 0, 0, 1]
        assert t["n"] == 8 and t["n_both"] == 5
        assert t["original"] == pytest.approx(0.8) and t["accuracy"] == pytest.approx(0.4)
        assert t["drop"] == pytest.approx(0.4) and t["flip_rate"] == pytest.approx(0.4)
        assert t["drop_ci"][0] <= 0.4 <= t["drop_ci"][1]
        chat, reasoning = t["sections"]["Chat"], t["sections"]["Reasoning"]
        assert chat["n"] == 3 and chat["drop"] == pytest.approx(1 / 3)  # 2/3 -> 1/3
        assert chat["flip_rate"] == pytest.approx(1 / 3)
        assert reasoning["n"] == 2 and reasoning["drop"] == pytest.approx(0.5)  # 1 -> 1/2
        assert reasoning["flip_rate"] == pytest.approx(0.5)
        assert t["noop_rate"] == pytest.approx(2 / 8)  # pairs 6 and 7 have no x
    assert one_sided["sides"] == {"both": 5, "one": 1, "neither": 2, "undone": 0, "noop": 2}
    assert one_sided["one_side"]["n"] == 1 and one_sided["one_side"]["accuracy"] == 1.0
    assert one_sided["one_side"]["drop"] == pytest.approx(-1.0)  # wrong -> right
    assert one_sided["neither"]["n"] == 2 and one_sided["neither"]["accuracy"] == 0.5
    # the strict transform undoes pair 5's one-sided edit: it counts as neither, unchanged
    assert strict["sides"] == {"both": 5, "one": 0, "neither": 3, "undone": 1, "noop": 2}
    assert strict["one_side"]["n"] == 0 and strict["one_side"]["accuracy"] is None
    assert strict["neither"]["n"] == 3 and strict["neither"]["drop"] == 0.0
    assert strict["neither"]["accuracy"] == pytest.approx(1 / 3)
    assert result["mean_drop"] == pytest.approx(0.4)
    records = read_jsonl(tmp_path / "reword_items.jsonl")
    assert [r["sides"] for r in records if r["transform"] == "expand"] == \
        ["both"] * 5 + ["neither"] * 3
    assert [(r["original_correct"], r["correct"]) for r in records[:8]] == [
        (1, 1), (0, 0), (1, 0), (1, 0), (1, 1), (0, 1), (1, 1), (0, 0)]


def test_eval_command_writes_metrics_and_records(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "harness", "eval", "--model", "length", "--suite",
         "rewardbench,preference", "--out", str(out)], capture_output=True, text=True,
        cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["rewardbench"]["sections"]) == {"Chat", "Chat Hard", "Safety",
                                                       "Reasoning"}
    assert 0 <= metrics["preference"]["accuracy"] <= 1
    items = pd.read_json(out / "rewardbench_items.jsonl", lines=True)
    assert len(items) == metrics["rewardbench"]["n"]
    assert "RewardBench avg" in result.stdout and "length" in result.stdout


def test_eval_precision_flag_reaches_the_model(tmp_path):
    from harness.cli import main

    for precision, dtype in (("bf16", "bfloat16"), ("fp32", "float32")):
        out = tmp_path / precision
        assert main(["eval", "--model", "minilm-l6", "--suite", "rewardbench", "--limit", "8",
                     "--precision", precision, "--out", str(out)]) == 0
        assert json.loads((out / "metrics.json").read_text())["dtype"] == dtype
