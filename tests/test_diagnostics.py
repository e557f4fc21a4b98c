"""Spurious-cue diagnostics (length reliance, length/markdown splits) and the paired comparisons
that leaderboards and ``harness eval`` print."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import REPO, shared_file

from harness.config import Config
from harness.data.loaders import load_pairs
from harness.evaluate import evaluate_model
from harness.io import read_jsonl, slug, write_json, write_jsonl
from harness.scoring.base import LengthRewardModel, RewardModel
from harness.suites.diagnostics import diagnose, markdown_features, response_lengths
from leaderboards.paired import comparison_pairs
from leaderboards.publish import publish

RB_FILE = "rewardbench/rewardbench_filtered.hf_schema.jsonl"


def _diagnose_pairs(pairs, chosen, rejected, rm: RewardModel, seed: int = 0) -> dict:
    lengths, _ = response_lengths(rm, [p.chosen for p in pairs] + [p.rejected for p in pairs])
    n = len(pairs)
    return diagnose(chosen, rejected, lengths[:n], lengths[n:],
                    [markdown_features(p.chosen) for p in pairs],
                    [markdown_features(p.rejected) for p in pairs], seed)


# --- markdown features -----------------------------------------------------------------------


def test_markdown_features_hand_made():
    assert markdown_features("Plain prose, no formatting at all.") == frozenset()
    assert markdown_features("Steps:\n- mix\n- bake") == {"list"}
    assert markdown_features("1. first\n2) second") == {"list"}
    assert markdown_features("## Summary\nText") == {"header"}
    assert markdown_features("This is **important** here.") == {"bold"}
    assert markdown_features("# Title\n\n* one\n\n**Note:** done") == {"header", "list", "bold"}


def test_markdown_features_ignores_look_alikes():
    assert markdown_features("x**2 + y**2 = z**2") == frozenset()  # powers, not bold
    assert markdown_features("#hashtag and 3 - 2 = 1") == frozenset()  # no space / not line start
    assert markdown_features("a ** b ** c") == frozenset()
    fenced = "Use this:\n```python\n# a comment\n- not a list\nf(**kwargs)\n```\nDone."
    assert markdown_features(fenced) == frozenset()
    assert markdown_features(fenced + "\n\n- a real list") == {"list"}


# --- splits on a hand-made set ---------------------------------------------------------------


def test_length_and_markdown_splits_hand_made():
    # pair:          0     1     2     3     4     5
    chosen_len = [10, 20, 5, 5, 30, 8]
    rejected_len = [5, 10, 9, 5, 40, 8]  # chosen longer: 0, 1; shorter: 2, 4; equal: 3, 5
    chosen = [1.0, 0.0, 2.0, 1.0, 3.0, 1.0]
    rejected = [0.0, 1.0, 1.0, 1.0, 4.0, 0.0]  # correct: 0, 2, 5 (pair 3 is a tie: wrong)
    md_c = [frozenset({"list"}), frozenset(), frozenset({"bold"}), frozenset(),
            frozenset({"list"}), frozenset()]
    md_r = [frozenset(), frozenset({"header"}), frozenset({"bold"}), frozenset(),
            frozenset(), frozenset({"list"})]
    d = diagnose(chosen, rejected, chosen_len, rejected_len, md_c, md_r)
    longer, shorter = d["accuracy_when_chosen_longer"], d["accuracy_when_chosen_shorter"]
    assert (longer["n"], longer["accuracy"]) == (2, 0.5)  # pairs 0 (right), 1 (wrong)
    assert (shorter["n"], shorter["accuracy"]) == (2, 0.5)  # pairs 2 (right), 4 (wrong)
    assert (d["accuracy_when_equal_length"]["n"], d["accuracy_when_equal_length"]["accuracy"]) \
        == (2, 0.5)  # pairs 3 (tie: wrong), 5 (right)
    assert d["chosen_longer_share"] == pytest.approx(2 / 6)
    assert d["ties"] == 1 and d["accuracy"]["accuracy"] == pytest.approx(3 / 6)
    only_c, only_r = (d["accuracy_when_only_chosen_markdown"],
                      d["accuracy_when_only_rejected_markdown"])
    assert (only_c["n"], only_c["accuracy"]) == (2, 0.5)  # pairs 0 (right), 4 (wrong)
    assert (only_r["n"], only_r["accuracy"]) == (2, 0.5)  # pairs 1 (wrong), 5 (right)
    assert (d["markdown_in_both"], d["markdown_in_neither"]) == (1, 1)  # pair 2; pair 3
    assert d["markdown_by_feature"]["bold"]["only_chosen"]["n"] == 0  # bold is in both of 2
    assert d["markdown_by_feature"]["list"]["only_chosen"]["n"] == 2
    assert d["length_reliance"]["n"] == 6
    json.dumps(d, allow_nan=False)  # JSON-ready: no NaN even for degenerate inputs


def test_constant_scorer_has_no_length_reliance_value():
    d = diagnose([1.0] * 4, [1.0] * 4, [1, 2, 3, 4], [2, 2, 2, 2], [frozenset()] * 4,
                 [frozenset()] * 4)
    assert d["length_reliance"]["spearman"] is None
    assert d["accuracy_when_only_chosen_markdown"] == {"accuracy": None, "ci": None, "n": 0}


def test_response_lengths_use_the_tokenizer_when_there_is_one():
    from harness.models.backbones import load_tokenizer

    tokenizer = load_tokenizer("minilm-l6")
    texts = ["short", "a rather longer response with several words"]
    lengths, unit = response_lengths(SimpleNamespace(tokenizer=tokenizer), texts)
    assert unit == "tokens"
    assert lengths == [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    assert response_lengths(LengthRewardModel(), texts) == ([5, 43], "characters")


# --- real RewardBench ------------------------------------------------------------------------


def test_length_reliance_of_length_and_random_scorers_on_rewardbench():
    pairs = load_pairs(shared_file(RB_FILE))
    assert len(pairs) >= 1000
    rm = LengthRewardModel()
    chosen = rm.score([p.prompt for p in pairs], [p.chosen for p in pairs])
    rejected = rm.score([p.prompt for p in pairs], [p.rejected for p in pairs])
    length = _diagnose_pairs(pairs, chosen, rejected, rm)["length_reliance"]
    # the reference ranks by length alone: reliance 1 (its margin IS the length margin)
    assert length["spearman"] == pytest.approx(1.0, abs=1e-9)
    assert length["ci"] == pytest.approx([1.0, 1.0], abs=1e-9)
    rng = np.random.default_rng(0)
    random = _diagnose_pairs(pairs, list(rng.normal(size=len(pairs))),
                             list(rng.normal(size=len(pairs))), rm)
    assert abs(random["length_reliance"]["spearman"]) < 0.1
    low, high = random["length_reliance"]["ci"]
    assert low < 0 < high
    # a random scorer is right about half the time whichever response is longer
    for key in ("accuracy_when_chosen_shorter", "accuracy_when_chosen_longer"):
        assert abs(random[key]["accuracy"] - 0.5) < 0.06 and random[key]["n"] > 500


# --- the eval command ------------------------------------------------------------------------


def test_eval_diagnostics_command(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "harness", "eval", "--model", "length", "--suite", "diagnostics",
         "--out", str(out)], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    d = json.loads((out / "metrics.json").read_text())["diagnostics"]
    assert {"length_reliance", "accuracy_when_chosen_shorter", "accuracy_when_chosen_longer",
            "accuracy_when_equal_length", "accuracy_when_only_chosen_markdown",
            "accuracy_when_only_rejected_markdown", "markdown_by_feature", "length_unit",
            "n", "data"} <= set(d)
    assert d["length_unit"] == "characters" and d["length_reliance"]["spearman"] == 1.0
    assert d["accuracy_when_chosen_longer"]["accuracy"] == 1.0
    assert d["accuracy_when_chosen_shorter"]["accuracy"] == 0.0
    items = read_jsonl(out / "diagnostics_items.jsonl")
    assert len(items) == d["n"]
    assert {"key", "correct", "chosen_length", "rejected_length", "chosen_markdown"} <= set(
        items[0])
    assert "Spurious-cue diagnostics" in result.stdout
    assert "length reliance" in result.stdout and "+1.00 [+1.00, +1.00]" in result.stdout


def test_diagnostics_on_any_pairs_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    metrics = evaluate_model("length", ["diagnostics"], Config(), tmp_path / "out",
                             sources={"diagnostics": "embedded:preferences"}, limit=120,
                             show_progress=False)
    d = metrics["diagnostics"]
    assert d["n"] == 120 and d["data"] == "embedded:preferences"
    assert d["length_reliance"]["spearman"] == pytest.approx(1.0)


# --- paired comparisons in leaderboards ------------------------------------------------------


class ShorterRewardModel(RewardModel):
    """Test RM: the shorter response wins (the length reference's mirror image)."""

    kind = "reference"

    def __init__(self):
        self.name, self.fingerprint = "shorter", "test-shorter-v1"

    def score_with_info(self, prompts, responses):
        return [-float(len(r)) for r in responses], [False] * len(responses)


class CheatRewardModel(RewardModel):
    """Test RM that knows the answers: 1 for a response that is some pair's chosen one."""

    kind = "reference"

    def __init__(self, pairs):
        self.name, self.fingerprint = "cheat", "test-cheat-v1"
        self.chosen = {p.chosen for p in pairs}

    def score_with_info(self, prompts, responses):
        return [float(r in self.chosen) for r in responses], [False] * len(responses)


def test_comparison_pairs_method_vs_method_then_references():
    entries = [{"kind": "trained", "method": "vanilla", "form": "bt"},
               {"kind": "trained", "method": "rrm", "form": "bt"},
               {"kind": "reference"}]
    accuracy, methods = comparison_pairs(entries)
    assert methods == [(1, 0)]  # rrm - vanilla
    assert accuracy == [(1, 0), (0, 2), (1, 2)]
    assert comparison_pairs([{}, {}, {}])[1] == [(1, 0), (2, 0), (2, 1)]


def _write_reword(folder, original, transformed):
    records = [{"transform": "t1", "key": f"k/{i}", "original_correct": o, "correct": t}
               for i, (o, t) in enumerate(zip(original, transformed, strict=True))]
    write_jsonl(folder / "reword_items.jsonl", records)
    drop = (sum(original) - sum(transformed)) / len(original)
    return {"transforms": {"t1": {"accuracy": sum(transformed) / len(original), "drop": drop}},
            "mean_drop": drop}


def test_leaderboard_of_two_trained_rms_has_paired_deltas_and_length_reliance(tmp_path,
                                                                                monkeypatch):
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "runs" / "two"
    config = Config()
    entries = []
    rms = [("vanilla", LengthRewardModel(), [1, 1, 1, 1], [0, 1, 1, 1]),
           ("rrm", ShorterRewardModel(), [1, 1, 1, 1], [1, 1, 1, 1]),
           ("crome", CheatRewardModel(load_pairs(config.data.rewardbench)), [1, 1, 1, 1],
            [1, 1, 0, 0])]
    for method, rm, original, transformed in rms:
        folder = run / "eval" / slug(method)
        metrics = evaluate_model(rm, ["rewardbench", "diagnostics"], config, folder,
                                 show_progress=False)
        metrics["reword"] = _write_reword(folder, original, transformed)
        entries.append({"name": method, "kind": "trained", "method": method, "form": "bt",
                        "config_hash": config.hash(), "approximate": [], "metrics": metrics})
    # an older entry: no diagnostics, no per-item records; must not break anything
    entries.append({"name": "old reference", "kind": "reference", "method": "–", "form": "bt",
                    "metrics": {"rewardbench": {"average": 0.5, "n": 92}}})
    write_json(run / "results.json", {"run": "two", "config_hash": config.hash(),
                                      "command": "test", "entries": entries})
    text = publish([run], tmp_path / "board").read_text()

    # the RewardBench table gains the length-reliance column: +1 for length, -1 for shorter
    assert "length reliance ρ [95% CI]" in text
    rb_section = text.split("## RewardBench")[1].split("\n## ")[0]
    rb_rows = {line.split("|")[1].strip(): line for line in rb_section.splitlines()
               if line.startswith("| ") and "Chat" not in line}
    assert "+1.00 [+1.00, +1.00]" in rb_rows["vanilla"]
    assert "-1.00 [-1.00, -1.00]" in rb_rows["rrm"]
    assert "## Spurious-cue diagnostics" in text

    # paired delta: rrm - vanilla on the same pairs, by hand from the item records
    def correct(method):
        path = run / "eval" / method / "rewardbench_items.jsonl"
        return {r["key"]: r["correct"] for r in map(json.loads, path.open())}

    assert "## Paired comparisons" in text and "McNemar p" in text
    lines = text.splitlines()
    for a_name, b_name in (("rrm", "vanilla"), ("crome", "vanilla"), ("crome", "rrm")):
        a, b = correct(a_name), correct(b_name)
        diff = 100 * (sum(a.values()) - sum(b.values())) / len(a)
        row = next(line for line in lines if line.startswith(f"| {a_name} ")
                   and f"| {b_name} " in line and "RewardBench" in line)
        assert f"{diff:+.1f} [" in row
        assert f"{sum(a[k] and not b[k] for k in a)} / {sum(b[k] and not a[k] for k in a)}" in row
        low, high = (float(x) for x in row.split("[")[1].split("]")[0].split(","))
        assert ("✓" in row) == (low > 0 or high < 0)
    crome_row = next(line for line in lines if line.startswith("| crome ") and "| vanilla " in line)
    assert "**" in crome_row and "✓" in crome_row  # knows every answer: clearly better
    assert not any(line.startswith("| old reference ") for line in
                   text.split("## Paired comparisons")[1].splitlines())

    # difference of drops: rrm drops 0, vanilla 0.25 on the same 4 pairs -> -25.0 points;
    # crome drops 0.5 -> crome - vanilla = +25.0, crome - rrm = +50.0
    assert "### Difference of drops under each transform" in text
    header = next(line for line in lines if line.startswith("| transform ") and " − " in line)
    assert [c.strip() for c in header.split("|")[2:-1]] == [
        "rrm − vanilla", "crome − vanilla", "crome − rrm"]
    drop_row = next(line for line in lines if line.startswith("| t1 ") and "[" in line)
    assert [c.strip().split(" [")[0] for c in drop_row.split("|")[2:-1]] == [
        "-25.0", "+25.0", "+50.0"]
    assert "Smallest detectable difference at this size" in text
    assert "±" in text.split("Smallest detectable difference")[1].splitlines()[0]
