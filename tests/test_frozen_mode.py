"""Frozen mode: the cached frozen stack gives exactly the normal forward, only the top layers
and the head train, and the saved model is a whole HF model that learned."""

from __future__ import annotations

import torch
from test_trainer import _config, _pairs, _weights

from harness.data.loaders import load_pairs, write_pairs
from harness.models.backbones import load_sequence_classifier, load_tokenizer
from harness.scoring.encoding import encode_many
from harness.scoring.forward import rewards
from harness.training.frozen import FrozenPrefix


def test_cached_stack_matches_the_normal_forward():
    model = load_sequence_classifier("minilm-l6", seed=0).eval()
    tokenizer = load_tokenizer("minilm-l6")
    pairs = _pairs(6)
    sequences = [ids for ids, _ in encode_many(tokenizer, [p.prompt for p in pairs],
                                               [p.chosen for p in pairs], 64)]
    with torch.inference_mode():
        plain = rewards(model, sequences, tokenizer.pad_token_id, "cpu")
    prefix = FrozenPrefix(model, top_layers=2)
    prefix.freeze()
    prefix.build_cache(sequences, tokenizer.pad_token_id, torch.device("cpu"))
    prefix.attach()
    with torch.inference_mode():
        cached = rewards(model, sequences, tokenizer.pad_token_id, "cpu")
    prefix.detach()
    assert torch.allclose(plain, cached, atol=1e-5)
    trainable = {n.split(".")[3] for n, p in model.named_parameters()
                 if p.requires_grad and n.startswith("bert.encoder.layer.")}
    assert trainable == {"4", "5"}  # MiniLM has 6 layers: the top 2 train


def test_frozen_training_changes_only_the_top_and_learns(tmp_path):
    from harness.scoring.reward_model import load_reward_model
    from harness.training.pipeline import train_method

    data = tmp_path / "pairs.jsonl"
    write_pairs(_pairs(48), data)
    config = _config(**{"data.train": str(data), "train.epochs": "3", "model.mode": "frozen",
                        "train.lr": "5e-4"})
    result = train_method("vanilla", config, tmp_path / "run", show_progress=False)
    trained = _weights(tmp_path / "run" / "model")
    initial = load_sequence_classifier("minilm-l6", seed=0).state_dict()
    changed = {k for k, v in trained.items() if not torch.equal(v, initial[k])}
    assert changed and all(k.startswith(("bert.encoder.layer.4.", "bert.encoder.layer.5.",
                                         "bert.pooler.", "classifier.")) for k in changed)
    rm = load_reward_model(result.model_dir, max_length=64)
    held = load_pairs(tmp_path / "run" / "heldout.jsonl")  # never trained on
    assert len(held) == 8
    chosen = rm.score([p.prompt for p in held], [p.chosen for p in held])
    rejected = rm.score([p.prompt for p in held], [p.rejected for p in held])
    assert sum(c > r for c, r in zip(chosen, rejected, strict=True)) >= 7
