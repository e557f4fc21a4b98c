"""Deterministic randomness without global state.

Every random choice in crome-bench comes from ``rng_for(seed, component, item_id, ...)``: a fresh
``random.Random`` whose seed is a SHA-256 of the parts. Python's ``hash()`` is salted per
process for strings, so it must not be used for this.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(*parts: object) -> int:
    """A 64-bit integer that depends only on the parts' ``repr`` (stable across processes)."""
    digest = hashlib.sha256("\x1f".join(repr(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def rng_for(seed: int, component: str, *item: object) -> random.Random:
    """The RNG for one (seed, component, item ...) triple; same inputs, same stream."""
    return random.Random(derive_seed(seed, component, *item))


def text_hash(text: str) -> str:
    """Short content hash used as a cache key for texts."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
