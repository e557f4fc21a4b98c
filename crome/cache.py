"""The oracle answer cache: a rerun or a resumed run never pays for the same call twice.

One SQLite file; each answer is committed as soon as it arrives, and SQLite's journal makes each
commit all-or-nothing, so a run killed at any point leaves every finished answer usable and no
half-written one. The key is a SHA-256 of (oracle, model, prompt version, request kind, request
input): a new model or a new prompt text never reads an old answer. Only the request and the
answer are stored: never an API key, a header or a URL.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from harness.io import sha256_of


def default_cache_path() -> Path:
    from harness.models.backbones import cache_dir

    return cache_dir() / "crome-oracle" / "answers.sqlite"


def cache_key(oracle: str, model: str, version: str, kind: str, request: dict[str, Any]) -> str:
    return sha256_of({"oracle": oracle, "model": model, "version": version, "kind": kind,
                      "input": request})


class OracleCache:
    """Thread-safe get/put of JSON answers by key."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, oracle TEXT, "
                "model TEXT, version TEXT, kind TEXT, value TEXT)"
            )

    def get(self, key: str) -> tuple[bool, Any]:
        """(found, value); a stored ``None`` is a found value (an honest "no rewrite")."""
        with self._lock:
            row = self._db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
        return (False, None) if row is None else (True, json.loads(row[0]))

    def put(self, key: str, value: Any, *, oracle: str, model: str, version: str,
            kind: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                (key, oracle, model, version, kind, json.dumps(value, ensure_ascii=False)),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
