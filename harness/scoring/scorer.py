"""The scorer every suite uses: deduplicated, cached, length-sorted scoring of pairs.

Both responses of every pair go into one pool, identical (prompt, response) texts are scored
once, and scores are cached on disk by (RM fingerprint, text hash) in SQLite, so an unchanged
text is never scored twice across suites, transforms and runs. SQLite commits per batch, so a
killed run keeps everything scored before the kill.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from harness.data.schema import PreferencePair
from harness.models.backbones import cache_dir as default_cache_dir
from harness.scoring.reward_model import RewardModel
from harness.seeding import text_hash


def _key(prompt: Any, response: str) -> str:
    prompt_text = prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True)
    return text_hash(prompt_text + "\x1e" + response)


class ScoreCache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path))
        self.db.execute("CREATE TABLE IF NOT EXISTS scores "
                        "(fingerprint TEXT, key TEXT, score REAL, truncated INTEGER, "
                        "PRIMARY KEY (fingerprint, key))")

    def get(self, fingerprint: str, keys: list[str]) -> dict[str, tuple[float, bool]]:
        found: dict[str, tuple[float, bool]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self.db.execute(
                f"SELECT key, score, truncated FROM scores WHERE fingerprint = ? AND key IN "
                f"({','.join('?' * len(chunk))})", [fingerprint, *chunk])
            found.update({k: (s, bool(t)) for k, s, t in rows})
        return found

    def put(self, fingerprint: str, items: list[tuple[str, float, bool]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)",
                                [(fingerprint, k, s, int(t)) for k, s, t in items])


class Scorer:
    """Scores (prompt, response) texts and pairs for one RM, through the cache."""

    def __init__(self, rm: RewardModel, cache_dir: str | Path | None = None,
                 use_cache: bool = True, chunk: int = 512, show_progress: bool = False):
        self.rm = rm
        self.chunk = chunk
        self.show_progress = show_progress
        root = Path(cache_dir) if cache_dir else default_cache_dir()
        self.cache = ScoreCache(root / "scores.sqlite") if use_cache else None
        self.stats = {"scored": 0, "cached": 0, "truncated": 0}

    def score_texts(self, prompts: list[Any], responses: list[str]) -> list[float]:
        keys = [_key(p, r) for p, r in zip(prompts, responses, strict=True)]
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        known = self.cache.get(self.rm.fingerprint, list(first)) if self.cache else {}
        missing = [k for k in first if k not in known]
        self.stats["cached"] += len(first) - len(missing)
        for start in self._chunks(len(missing)):
            batch = missing[start:start + self.chunk]
            idx = [first[k] for k in batch]
            values, cut = self.rm.score_with_info([prompts[i] for i in idx],
                                                  [responses[i] for i in idx])
            fresh = list(zip(batch, values, cut, strict=True))
            known.update({k: (v, c) for k, v, c in fresh})
            if self.cache:
                self.cache.put(self.rm.fingerprint, fresh)
            self.stats["scored"] += len(batch)
        self.stats["truncated"] += sum(known[k][1] for k in first)
        return [known[k][0] for k in keys]

    def _chunks(self, total: int):
        starts = range(0, total, self.chunk)
        if not self.show_progress or total <= self.chunk:
            yield from starts
            return
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            task = progress.add_task(f"scoring {self.rm.name}", total=total)
            for start in starts:
                yield start
                progress.update(task, completed=min(total, start + self.chunk))

    def score_pairs(self, pairs: list[PreferencePair]
                    ) -> tuple[list[float], list[float], dict[str, int]]:
        """(chosen scores, rejected scores, stats); chosen and rejected share one pass."""
        before = dict(self.stats)
        prompts = [p.prompt for p in pairs] * 2
        responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
        scores = self.score_texts(prompts, responses)
        stats = {k: self.stats[k] - before[k] for k in self.stats}
        return scores[:len(pairs)], scores[len(pairs):], stats
