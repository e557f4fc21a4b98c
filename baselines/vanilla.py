"""Vanilla Bradley-Terry reward modelling: the original pairs, unchanged."""

from __future__ import annotations

from harness.config import Config
from harness.data.schema import PreferencePair
from harness.methods import METHODS, Method, MethodData


def build(pairs: list[PreferencePair], config: Config, filter_scores=None) -> MethodData:
    return MethodData(list(pairs), {"original": len(pairs)})


METHODS.add("vanilla", Method("vanilla", "the preference pairs as given (Bradley-Terry)", build))
