"""Suites: section scores against a hand-worked example, stratified sampling, batch invariance,
and the eval command's outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import REPO, shared_file

from harness.data.loaders import load_pairs
from harness.data.schema import PreferencePair
from harness.scoring.reward_model import load_reward_model
from harness.suites.base import stratified_sample
from harness.suites.rewardbench import section_scores, summarise


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


@pytest.mark.parametrize("backbone", [
    "minilm-l6", pytest.param("smollm2-135m", marks=pytest.mark.slow)])
def test_scores_do_not_depend_on_batch_size(backbone):
    pairs = load_pairs("embedded:rewardbench")[::6]
    rm = load_reward_model(backbone, max_length=192)
    prompts, responses = [p.prompt for p in pairs], [p.chosen for p in pairs]
    rm.batch_tokens = 32 * 192
    batched = rm.score(prompts, responses)
    rm.batch_tokens = 1
    single = rm.score(prompts, responses)
    assert max(abs(a - b) for a, b in zip(batched, single, strict=True)) < 1e-4


def test_truncation_keeps_prompt_start_and_response_end():
    rm = load_reward_model("minilm-l6", max_length=64)
    prompt = "START " + "filler " * 200
    response = "beginning " * 200 + "THE END"
    (ids,), (cut,) = rm.encode([prompt], [response])
    text = rm.tokenizer.decode(ids)
    assert cut and len(ids) == 64
    assert "start" in text.split()[1] and text.split()[-2:] == ["end", "[SEP]"]


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


def test_length_reference_prefers_longer():
    rm = load_reward_model("length")
    assert rm.score(["q", "q"], ["short", "a much longer answer"]) == [5.0, 20.0]
    pair = PreferencePair("q", "long answer here", "short")
    assert rm.score([pair.prompt], [pair.chosen])[0] > rm.score([pair.prompt], [pair.rejected])[0]
