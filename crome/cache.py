"""The oracle answer cache: a rerun or a resumed run never pays for the same call twice.

One SQLite file; each answer is committed as soon as it arrives, and SQLite's journal makes each
commit all-or-nothing, so a run killed at any point leaves every finished answer usable and no
half-written one. The key is a SHA-256 of (oracle, model, prompt version, request kind, request
input): a new model or a new prompt text never reads an old answer. Only the request and the
answer are stored: never an API key, a header or a URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.io import sha256_of
from harness.kvstore import JsonStore


def default_cache_path() -> Path:
    from harness.models.backbones import cache_dir

    return cache_dir() / "crome-oracle" / "answers.sqlite"


def cache_key(oracle: str, model: str, version: str, kind: str, request: dict[str, Any]) -> str:
    return sha256_of({"oracle": oracle, "model": model, "version": version, "kind": kind,
                      "input": request})


class OracleCache(JsonStore):
    """Thread-safe get/put of JSON answers by key; a stored ``None`` is an honest "no rewrite"."""

    def __init__(self, path: str | Path):
        super().__init__(path, "answers", ("oracle", "model", "version", "kind"))
