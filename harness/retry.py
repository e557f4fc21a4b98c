"""Pacing remote calls: the rate limiter and the retry backoff, written once.

Both the Gemini client (``harness.gemini``, for the judge and the transform generator) and the
oracle runner (``crome.calls``, which retries every oracle and adds a circuit breaker and a
failure budget) pace their calls with these, so a 429 is waited out the same way everywhere.
The backoff's jitter is seeded per request (``rng_for``), never drawn from a global RNG, so a
run's waits are reproducible.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from harness.seeding import rng_for


def backoff_delay(seed: int, key: str, attempt: int, first_s: float, max_s: float) -> float:
    """Seconds to wait before retry ``attempt`` (1-based) of request ``key``: ``first_s``
    doubled each retry, capped at ``max_s``, jittered to [50%, 100%] so that threads hit by one
    429 do not come back in lockstep."""
    base = min(max_s, first_s * 2 ** (attempt - 1))
    return base * (0.5 + 0.5 * rng_for(seed, "crome-backoff", key, attempt).random())


class RateLimiter:
    """At most ``per_minute`` call starts a minute, spaced evenly, shared by all threads."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 60.0 / per_minute
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
