"""The scorer every suite uses: deduplicated, cached, length-sorted scoring of pairs.

Both responses of every pair go into one pool, identical (prompt, response) texts are scored
once, and the texts still to score are encoded in one batched call, sorted by token length and
cut into batches under a token budget (padded width x rows), longest first, so padding is
nearly gone and an out-of-memory shows up on the first batch. Results come back in input order.

Scores are cached on disk by (RM fingerprint, text hash) in SQLite (WAL, one commit per batch),
so an unchanged text is never scored twice across suites, transforms and runs, and a killed run
keeps everything scored before the kill. Several processes may share one cache file. Started by
``accelerate launch``/``torchrun``, the processes split the texts still to score and gather
the scores (``harness.distributed``), so every process returns the same scores as one would.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.data.schema import PreferencePair
from harness.distributed import from_main, is_main, share_work
from harness.models.backbones import cache_dir as default_cache_dir
from harness.scoring.encoding import PairedResponses
from harness.scoring.reward_model import RewardModel
from harness.seeding import text_hash

PROGRESS_MIN_TEXTS = 64


def text_key(prompt: Any, response: str) -> str:
    """Cache key of one (prompt, response); a chat prompt is keyed by its canonical JSON."""
    prompt_text = prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True)
    return text_hash(prompt_text + "\x1e" + response)


class ScoreCache:
    """(fingerprint, key) -> (score, truncated) in one SQLite file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=60)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS scores "
                            "(fingerprint TEXT, key TEXT, score REAL, truncated INTEGER, "
                            "PRIMARY KEY (fingerprint, key))")
        except sqlite3.DatabaseError as err:
            self.db.close()
            from harness.data.schema import DataError, Problem

            raise DataError([Problem(str(path), None, None, f"not a readable score cache "
                                     f"({err}); delete the file and rerun (scores are "
                                     "recomputed)")]) from None

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
    """Scores (prompt, response) texts and pairs for one RM, through the cache.

    ``stats`` accumulates over calls: ``scored`` (texts run through the model), ``cached``
    (texts found in the cache), ``truncated`` (distinct texts cut to max length), ``seconds``.
    """

    def __init__(self, rm: RewardModel, cache_dir: str | Path | None = None,
                 use_cache: bool = True, chunk: int = 512, show_progress: bool = False):
        self.rm = rm
        self.chunk = chunk  # texts per call for models without token-level batching
        self.show_progress = show_progress
        root = Path(cache_dir) if cache_dir else default_cache_dir()
        # Every scorer of the RM, not only eval's (getattr: duck-typed RMs default to caching).
        use_cache = use_cache and getattr(rm, "uses_score_cache", True)
        self.cache = ScoreCache(root / "scores.sqlite") if use_cache else None
        self.stats: dict[str, float] = {"scored": 0, "cached": 0, "truncated": 0,
                                        "seconds": 0.0}

    def score_texts(self, prompts: list[Any], responses: list[str]) -> list[float]:
        return self.score_texts_with_info(prompts, responses)[0]

    def score_texts_with_info(self, prompts: list[Any], responses: list[str]
                              ) -> tuple[list[float], list[bool]]:
        """(scores, truncated flags) in input order."""
        began = time.perf_counter()
        keys = [text_key(p, r) for p, r in zip(prompts, responses, strict=True)]
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        fingerprint = self.rm.fingerprint
        known = self.cache.get(fingerprint, list(first)) if self.cache else {}
        # In several processes every rank takes the main rank's view of the cache (what it
        # found, and so what is missing): another job may write the cache between two ranks'
        # reads, and ranks on several machines may not share one cache file at all.
        known = from_main(known)
        missing = [k for k in first if k not in known]
        self.stats["cached"] += len(first) - len(missing)
        idx = [first[k] for k in missing]
        # Launched in several processes, each scores its share and all get every score.
        values = share_work(idx, lambda part: self._score_missing(
            fingerprint, [keys[i] for i in part], [prompts[i] for i in part],
            [responses[i] for i in part]))
        known.update(zip(missing, values, strict=True))
        self.stats["scored"] += len(missing)
        self.stats["truncated"] += sum(known[k][1] for k in first)
        self.stats["seconds"] += time.perf_counter() - began
        return [known[k][0] for k in keys], [known[k][1] for k in keys]

    def _score_missing(self, fingerprint: str, keys: list[str], prompts: list[Any],
                       responses: list[str]) -> list[tuple[float, bool]]:
        """(score, truncated) per text, in order; each batch goes to the cache as it is done,
        so a killed run keeps what it scored."""
        out: list[tuple[float, bool]] = [(math.nan, False)] * len(keys)
        for batch in self._score(prompts, responses):
            if self.cache:
                self.cache.put(fingerprint, [(keys[j], value, cut) for j, value, cut in batch])
            for j, value, cut in batch:
                out[j] = (value, cut)
        return out

    def _score(self, prompts: list[Any], responses: list[str]
               ) -> Iterator[list[tuple[int, float, bool]]]:
        """Batches of (position, score, truncated) for the given texts."""
        if not prompts:
            return
        rm = self.rm
        if hasattr(rm, "encode") and hasattr(rm, "score_batch") and hasattr(rm, "batches"):
            sequences, cut = rm.encode(prompts, responses)
            with self._progress(len(sequences)) as advance:
                for batch in rm.batches([len(s) for s in sequences]):
                    values = rm.score_batch([sequences[j] for j in batch])
                    yield [(j, v, cut[j]) for j, v in zip(batch, values, strict=True)]
                    advance(len(batch))
            return
        with self._progress(len(prompts)) as advance:
            for start in range(0, len(prompts), self.chunk):
                stop = min(start + self.chunk, len(prompts))
                values, cut = rm.score_with_info(prompts[start:stop], responses[start:stop])
                yield [(start + j, v, c) for j, (v, c) in enumerate(zip(values, cut,
                                                                         strict=True))]
                advance(stop - start)

    @contextmanager
    def _progress(self, total: int):
        if not self.show_progress or total < PROGRESS_MIN_TEXTS or not is_main():
            yield lambda n: None
            return
        from harness.progress import progress_bar

        with progress_bar(f"scoring {self.rm.name}") as progress:
            task = progress.add_task("score", total=total)
            yield lambda n: progress.advance(task, n)

    def score_pairs(self, pairs: list[PreferencePair]
                    ) -> tuple[list[float], list[float], dict[str, Any]]:
        """(chosen scores, rejected scores, stats); all texts share one pass.

        In both forms ``chosen - rejected`` is the log-odds that chosen is preferred, so every
        suite and filter reads a pair the same way (> 0 right, == 0 a tie, counted wrong):
        - ``bt``: the two rewards.
        - ``pairpm``: both orders are scored, P = (p(c, r) + 1 - p(r, c)) / 2, and chosen gets
          logit(P), rejected 0. ``stats["consistent"]`` says per pair whether the two orders
          picked the same response (a model that always prefers position A never does).

        ``stats``: this call's ``scored``/``cached``/``truncated`` texts and ``seconds``, plus
        ``truncated_pairs`` (pairs with any input cut).
        """
        before = dict(self.stats)
        n = len(pairs)
        prompts = [p.prompt for p in pairs] * 2
        if getattr(self.rm, "form", "bt") == "pairpm":
            responses = ([PairedResponses(p.chosen, p.rejected) for p in pairs]
                         + [PairedResponses(p.rejected, p.chosen) for p in pairs])
        else:
            responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
        scores, cut = self.score_texts_with_info(prompts, responses)
        stats: dict[str, Any] = {k: self.stats[k] - before[k] for k in self.stats}
        stats["truncated_pairs"] = sum(a or b for a, b in zip(cut[:n], cut[n:], strict=True))
        if getattr(self.rm, "form", "bt") != "pairpm":
            return scores[:n], scores[n:], stats
        logits, consistent = order_averaged(scores[:n], scores[n:])
        stats["consistent"] = consistent
        return logits, [0.0] * n, stats

    def preference_matrices(self, prompts: list[Any], candidates: list[list[str]]
                            ) -> list[list[list[float]]]:
        """PairPM, per prompt: ``M[i][j]`` = order-averaged log-odds that candidate i beats j
        (0 on the diagonal). Every ordered pair of candidates is one input, n(n-1) per prompt,
        all prompts in one cached, length-sorted pass."""
        cells = [(k, i, j) for k, texts in enumerate(candidates)
                 for i in range(len(texts)) for j in range(len(texts)) if i != j]
        scores = self.score_texts(
            [prompts[k] for k, _, _ in cells],
            [PairedResponses(candidates[k][i], candidates[k][j]) for k, i, j in cells])
        raw = dict(zip(cells, scores, strict=True))
        matrices = [[[0.0] * len(texts) for _ in texts] for texts in candidates]
        for k, i, j in cells:
            if i < j:
                (logit,), _ = order_averaged([raw[k, i, j]], [raw[k, j, i]])
                matrices[k][i][j], matrices[k][j][i] = logit, -logit
        return matrices


def order_averaged(forward: list[float], backward: list[float]) -> tuple[list[float], list[bool]]:
    """PairPM position-bias correction, from the log-odds of (a, b) and of (b, a).

    P = (p(a, b) + 1 - p(b, a)) / 2, written 0.5 + (p(a, b) - p(b, a)) / 2 so that equal
    probabilities give exactly 0.5; returns (logit(P), whether both orders chose the same).
    P is clipped to [1e-12, 1 - 1e-12] so the log-odds stay finite.
    """
    logits, consistent = [], []
    for f, b in zip(forward, backward, strict=True):
        p_ab, p_ba = _sigmoid(f), _sigmoid(b)
        p = min(max(0.5 + (p_ab - p_ba) / 2, 1e-12), 1 - 1e-12)
        logits.append(0.0 if p == 0.5 else math.log(p / (1 - p)))
        consistent.append((p_ab > 0.5 and p_ba < 0.5) or (p_ab < 0.5 and p_ba > 0.5))
    return logits, consistent


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
