"""The sample pool: N_max samples per prompt, generated once, stored on disk, shared by every RM.

One JSONL file per (policy, prompt set, seed, sampling settings), one line per (prompt id, sample
index), appended and fsynced batch by batch: a killed run loses at most the batch in flight (a
torn last line is dropped on the next open), and a resumed run generates only what is missing.
Best-of-n reads the first n samples of a prompt, so curves over n are nested, and raising N_max
later only appends. Sample i of a prompt is seeded by (seed, prompt text, i) alone, so it is the
same however the work was batched or interrupted. A lock file keeps two processes from
generating the same samples at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bon.errors import BonError
from harness.bon.policies import GenParams, Policy
from harness.io import jsonl_text, sha256_of, write_json
from harness.seeding import derive_seed, text_hash

POOL_VERSION = 1
PromptRow = tuple[str, str]  # (prompt id, prompt text as the policy sees it)


@dataclass(frozen=True)
class Sample:
    prompt_id: str
    index: int
    text: str
    n_tokens: int
    finished: bool


def promptset_hash(prompts: Sequence[PromptRow]) -> str:
    """Identity of a prompt set: every (id, text) of the whole source, before any ``--limit``,
    so runs with different limits share one pool and a larger limit only adds prompts."""
    return sha256_of(sorted((pid, text_hash(text)) for pid, text in prompts))[:16]


def sample_seed(seed: int, prompt: str, index: int) -> int:
    return derive_seed(seed, "bon-sample", text_hash(prompt), index)


def pool_name(policy: str, promptset: str, seed: int, params: GenParams) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", policy).strip("_") or "policy"
    return f"{slug}-{promptset[:12]}-{seed}-{sha256_of(params.key())[:10]}"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line; a torn last line (killed mid-write) is skipped."""
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def drop_torn_tail(path: Path) -> None:
    """Cut a partial last line so the next append starts on a line of its own."""
    if not path.exists():
        return
    with open(path, "rb+") as handle:
        data = handle.read()
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)


def append_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    """Append lines and make them durable before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(jsonl_text(records))
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SamplePool:
    """Samples of one (policy, prompt set, seed, sampling settings), read from and appended to
    ``<root>/<name>.jsonl``; ``<name>.meta.json`` records what produced them."""

    def __init__(self, root: str | Path, policy: str, promptset: str, seed: int,
                 params: GenParams):
        self.policy, self.promptset, self.seed, self.params = policy, promptset, seed, params
        name = pool_name(policy, promptset, seed, params)
        self.path = Path(root) / f"{name}.jsonl"
        self.meta_path = Path(root) / f"{name}.meta.json"
        self.stats = {"generated": 0, "reused": 0, "generate_calls": 0}
        self._samples: dict[str, dict[int, Sample]] = {}
        self._hashes: dict[str, str] = {}
        self.reload()

    def reload(self) -> None:
        self._samples, self._hashes = {}, {}
        for r in read_jsonl(self.path):
            # First line wins: a duplicate could only come from a writer that ignored the lock.
            self._samples.setdefault(r["id"], {}).setdefault(
                r["i"], Sample(r["id"], r["i"], r["text"], r["n_tokens"], r["finished"]))
            self._hashes.setdefault(r["id"], r["prompt_hash"])

    def samples(self, prompt_id: str, n: int | None = None) -> list[Sample]:
        """The first ``n`` samples (all stored when None), in index order; raises if a sample
        before ``n`` is missing, since best-of-n must see exactly samples 0..n-1."""
        have = self._samples.get(prompt_id, {})
        count = len(have) if n is None else n
        missing = [i for i in range(count) if i not in have]
        if missing:
            raise BonError(f"pool {self.path.name}: prompt {prompt_id!r} lacks samples {missing}"
                           " (run ensure() first)")
        return [have[i] for i in range(count)]

    def texts(self, prompt_id: str, n: int) -> list[str]:
        return [s.text for s in self.samples(prompt_id, n)]

    def missing(self, prompts: Sequence[PromptRow], n: int) -> list[tuple[str, str, int]]:
        """(prompt id, prompt, index) of every sample below ``n`` not stored yet, prompt-major."""
        out = []
        for pid, text in prompts:
            stored = self._hashes.get(pid)
            if stored is not None and stored != text_hash(text):
                raise BonError(f"pool {self.path.name}: prompt {pid!r} changed text since its "
                               "samples were drawn; the prompt set hash should have differed")
            have = self._samples.get(pid, {})
            out += [(pid, text, i) for i in range(n) if i not in have]
        return out

    def ensure(self, prompts: Sequence[PromptRow], n: int,
               policy: Policy | Callable[[], Policy], *, batch_size: int = 16,
               progress: Callable[[int], None] | None = None) -> int:
        """Generate every missing sample below ``n``; return how many were generated.

        ``policy`` may be a zero-argument factory, called only when something is missing, so a
        complete pool never loads the model.
        """
        with file_lock(self.path.with_suffix(".lock")):
            self.reload()  # another process may have added samples while we waited
            todo = self.missing(prompts, n)
            self.stats["reused"] += len(prompts) * n - len(todo)
            if not todo:
                return 0
            if not hasattr(policy, "generate"):
                policy = policy()
            self._check_meta(policy)
            drop_torn_tail(self.path)
            for start in range(0, len(todo), batch_size):
                chunk = todo[start:start + batch_size]
                seeds = [sample_seed(self.seed, text, i) for _, text, i in chunk]
                generations = policy.generate([t for _, t, _ in chunk], seeds, self.params)
                self.stats["generate_calls"] += 1
                records = [{"id": pid, "i": i, "prompt_hash": text_hash(text), "seed": seed,
                            "text": g.text, "n_tokens": g.n_tokens, "finished": g.finished}
                           for (pid, text, i), seed, g in zip(chunk, seeds, generations,
                                                              strict=True)]
                append_jsonl(self.path, records)
                for r, g in zip(records, generations, strict=True):
                    self._samples.setdefault(r["id"], {})[r["i"]] = Sample(
                        r["id"], r["i"], g.text, g.n_tokens, g.finished)
                    self._hashes.setdefault(r["id"], r["prompt_hash"])
                self.stats["generated"] += len(chunk)
                if progress:
                    progress(len(chunk))
            return len(todo)

    def _check_meta(self, policy: Policy) -> None:
        """The first generation writes what produced the pool; later ones must match it."""
        meta = {"version": POOL_VERSION, "policy": self.policy,
                "policy_fingerprint": policy.fingerprint, "promptset": self.promptset,
                "seed": self.seed, "params": self.params.key()}
        if self.meta_path.exists():
            old = json.loads(self.meta_path.read_text(encoding="utf-8"))
            if old.get("policy_fingerprint") != meta["policy_fingerprint"]:
                raise BonError(f"pool {self.path.name} was drawn from a policy with fingerprint "
                               f"{old.get('policy_fingerprint')}, but {self.policy!r} now has "
                               f"{meta['policy_fingerprint']} (weights or template changed); "
                               "move the pool aside or use another --seed")
            return
        write_json(self.meta_path, meta)
