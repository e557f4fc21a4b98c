"""A small on-disk store: key -> JSON value in one SQLite table, safe across threads.

Each ``put`` is its own committed transaction, so a run killed at any point keeps every value
stored before the kill and never a half-written one; a rerun reads them back instead of paying
again. Rows carry a few text labels (which oracle, model, step...) for people inspecting the file.
Used by the oracle answer cache (``crome.cache``), the Gemini client's answer cache
(``harness.gemini``) and the transform generation cache.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


class JsonStore:
    """``table(key TEXT PRIMARY KEY, <labels> TEXT, value TEXT)`` in the SQLite file ``path``."""

    def __init__(self, path: str | Path, table: str, labels: tuple[str, ...]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.table, self.labels = table, labels
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        columns = ", ".join(f"{label} TEXT" for label in labels)
        try:
            with self._lock, self._db:
                self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} "
                                 f"(key TEXT PRIMARY KEY, {columns}, value TEXT)")
        except sqlite3.DatabaseError as err:
            self._db.close()
            from harness.data.schema import DataError, Problem

            raise DataError([Problem(str(self.path), None, None, f"not a readable cache "
                                     f"({err}); delete the file and rerun (its answers are "
                                     "asked again)")]) from None

    def get(self, key: str) -> tuple[bool, Any]:
        """(found, value); a stored ``None`` is a found value."""
        with self._lock:
            row = self._db.execute(f"SELECT value FROM {self.table} WHERE key = ?",
                                   (key,)).fetchone()
        return (False, None) if row is None else (True, json.loads(row[0]))

    def put(self, key: str, value: Any, **labels: str) -> None:
        row = (key, *(labels[label] for label in self.labels),
               json.dumps(value, ensure_ascii=False))
        with self._lock, self._db:
            self._db.execute(f"INSERT OR REPLACE INTO {self.table} VALUES "
                             f"({', '.join('?' * len(row))})", row)

    def distinct(self, label: str) -> list[str]:
        """The distinct values of one label column, sorted."""
        with self._lock:
            rows = self._db.execute(f"SELECT DISTINCT {label} FROM {self.table} "
                                    f"ORDER BY {label}").fetchall()
        return [r[0] for r in rows]

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
