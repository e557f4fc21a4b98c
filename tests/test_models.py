"""Both embedded backbones load offline and run one forward pass; the GGUF cache works."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from conftest import REPO

from harness.models import BACKBONES, load_sequence_classifier, load_tokenizer, resolve
from harness.models.backbones import cache_dir


@pytest.mark.parametrize("name", ["minilm-l6", "smollm2-135m"])
def test_backbone_forward_pass(name):
    tokenizer = load_tokenizer(name)
    model = load_sequence_classifier(name, seed=0)
    batch = tokenizer(["What is 2 + 2?", "Four."], return_tensors="pt", padding=True)
    with torch.inference_mode():
        logits = model(**batch).logits
    assert logits.shape == (2, 1) and torch.isfinite(logits).all()
    again = load_sequence_classifier(name, seed=0)
    with torch.inference_mode():
        assert torch.equal(again(**batch).logits, logits)  # seeded head, same scores


def test_smollm2_second_load_uses_the_safetensors_cache():
    load_tokenizer("smollm2-135m")  # makes sure the conversion exists
    path, gguf = resolve("smollm2-135m")
    assert gguf is None and str(cache_dir()) in path
    load_sequence_classifier("smollm2-135m")  # from the safetensors copy, not the GGUF


def test_unknown_backbone_suggests():
    with pytest.raises(KeyError, match="did you mean 'minilm-l6'"):
        BACKBONES.get("minilm")


def test_models_list_cli():
    out = subprocess.run(
        [sys.executable, "-m", "harness", "models", "list", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    rows = json.loads(out.stdout)
    assert {r["name"] for r in rows} >= {"smollm2-135m", "minilm-l6"}
    assert all(r["status"].startswith("available") for r in rows)
