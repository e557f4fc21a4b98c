"""Running many oracle requests: cache first, then bounded concurrency, a rate limit, retries
with exponential backoff on transient errors, and skip-and-count for what still fails.

Nothing here crashes a run over one bad answer: a transient error (429, 5xx, timeout) is retried
up to ``retries`` times with seeded jittered backoff, a malformed answer is asked again up to
``malformed_retries`` times (never for deterministic oracles, which would repeat it), and then the
request is skipped and counted. Only ``OracleSetupError`` (no key, bad key, unknown model) stops
the run, because every further call would fail the same way.

Successful answers and honest skips are cached as soon as they arrive, and so are malformed
answers of deterministic oracles (asking again would repeat them); transient failures and
other malformed answers are not, so a rerun retries exactly those and pays for nothing twice.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, ClassVar

from crome.cache import OracleCache, cache_key
from crome.errors import MalformedAnswer, OracleSkip, RequestRejected, TransientOracleError
from crome.oracles import Oracle
from crome.rubrics import Rubric
from harness.seeding import rng_for

Tick = Callable[[], None]


@dataclass(frozen=True)
class CallPolicy:
    concurrency: int = 4
    requests_per_minute: float | None = None  # remote oracles only; None = no limit
    retries: int = 5  # transient errors, per request
    malformed_retries: int = 2
    backoff_s: float = 1.0  # first backoff; doubles each retry, jittered to [50%, 100%]
    max_backoff_s: float = 60.0


@dataclass(frozen=True)
class RubricsRequest:
    prompt: str
    kind: ClassVar[str] = "rubrics"

    def payload(self) -> dict[str, Any]:
        return {"prompt": self.prompt}

    def call(self, oracle: Oracle) -> Any:
        return [r.to_dict() for r in oracle.rubrics(self.prompt)]


@dataclass(frozen=True)
class RewriteRequest:
    prompt: str
    answer: str
    rubric: Rubric
    direction: str
    kind: ClassVar[str] = "rewrite"

    def payload(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "answer": self.answer, "rubric": self.rubric.to_dict(),
                "direction": self.direction}

    def call(self, oracle: Oracle) -> Any:
        return oracle.rewrite(self.prompt, self.answer, self.rubric, self.direction)


Request = RubricsRequest | RewriteRequest


@dataclass
class Outcome:
    """``ok`` (value: JSON answer, None = "no such rewrite"), ``skip`` (reason), ``malformed``,
    ``failed`` (transient errors outlasted the retries) or ``rejected`` (per-request 4xx)."""

    status: str
    value: Any = None
    reason: str = ""
    cached: bool = False


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


def _from_cache(entry: dict[str, Any]) -> Outcome:
    if "ok" in entry:
        return Outcome("ok", entry["ok"], cached=True)
    status = "skip" if "skip" in entry else "malformed"
    return Outcome(status, reason=entry[status], cached=True)


@dataclass
class OracleRunner:
    oracle: Oracle
    cache: OracleCache | None = None
    policy: CallPolicy = field(default_factory=CallPolicy)
    seed: int = 0
    sleep: Callable[[float], None] = time.sleep
    stats: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        rpm = self.policy.requests_per_minute
        self._limiter = (RateLimiter(rpm, sleep=self.sleep)
                         if self.oracle.remote and rpm else None)

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] += n

    def _key(self, request: Request) -> str:
        o = self.oracle
        return cache_key(o.name, o.model, o.version, request.kind, request.payload())

    def _store(self, key: str, request: Request, entry: dict[str, Any]) -> None:
        if self.cache is not None and self.oracle.cacheable:
            o = self.oracle
            self.cache.put(key, entry, oracle=o.name, model=o.model, version=o.version,
                           kind=request.kind)

    def _backoff(self, key: str, attempt: int) -> float:
        base = min(self.policy.max_backoff_s, self.policy.backoff_s * 2 ** (attempt - 1))
        return base * (0.5 + 0.5 * rng_for(self.seed, "crome-backoff", key, attempt).random())

    def _one(self, request: Request, key: str) -> Outcome:
        transient = malformed = 0
        while True:
            if self._limiter is not None:
                self._limiter.wait()
            self._count("calls")
            try:
                value = request.call(self.oracle)
            except TransientOracleError:
                transient += 1
                self._count("transient_errors")
                if transient > self.policy.retries:
                    self._count("failed")
                    return Outcome("failed")
                self.sleep(self._backoff(key, transient))
                continue
            except MalformedAnswer as err:
                malformed += 1
                self._count("malformed_answers")
                if self.oracle.deterministic or malformed > self.policy.malformed_retries:
                    self._count("malformed_skipped")
                    if self.oracle.deterministic:  # it would say the same again: keep that
                        self._store(key, request, {"malformed": str(err)})
                    return Outcome("malformed", reason=str(err))
                continue
            except OracleSkip as skip:
                self._store(key, request, {"skip": skip.reason})
                return Outcome("skip", reason=skip.reason)
            except RequestRejected as err:
                self._count("rejected")
                return Outcome("rejected", reason=str(err))
            self._store(key, request, {"ok": value})
            return Outcome("ok", value)

    def run(self, requests: list[Request], tick: Tick | None = None) -> list[Outcome]:
        """One outcome per request, in order; ``tick`` is called once per finished request.

        Equal requests in one batch are asked once; cached ones are not asked at all.
        """
        results: list[Outcome | None] = [None] * len(requests)
        todo: dict[str, list[int]] = {}
        use_cache = self.cache is not None and self.oracle.cacheable
        for i, request in enumerate(requests):
            key = self._key(request)
            if key in todo:
                todo[key].append(i)
                continue
            found, entry = self.cache.get(key) if use_cache else (False, None)
            if found:
                self._count("cache_hits")
                results[i] = _from_cache(entry)
                if tick:
                    tick()
            else:
                todo[key] = [i]

        def finish(key: str, outcome: Outcome) -> None:
            for i in todo[key]:
                results[i] = outcome
                if tick:
                    tick()

        workers = max(1, min(self.policy.concurrency, self.oracle.max_concurrency or 1 << 30))
        if len(todo) <= 1 or workers == 1:
            for key, indices in todo.items():
                finish(key, self._one(requests[indices[0]], key))
            return results  # type: ignore[return-value]
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crome-oracle")
        try:
            futures = {pool.submit(self._one, requests[ix[0]], key): key
                       for key, ix in todo.items()}
            for future in as_completed(futures):
                finish(futures[future], future.result())
        finally:
            # On an error (a setup error, Ctrl-C) drop the queued calls instead of making them.
            pool.shutdown(wait=True, cancel_futures=True)
        return results  # type: ignore[return-value]
