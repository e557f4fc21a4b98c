"""Running many oracle requests: cache first, then bounded concurrency, a rate limit, retries
with exponential backoff on transient errors, and skip-and-count for what still fails.

Nothing here crashes a run over one bad answer: a transient error (429, 5xx, timeout) is retried
up to ``retries`` times with seeded jittered backoff, a malformed answer is asked again up to
``malformed_retries`` times (never for deterministic oracles, which would repeat it), and then the
request is skipped and counted. Only ``OracleSetupError`` (no key, bad key, unknown model) stops
the run at once, because every further call would fail the same way.

Failure is loud all the same. A circuit breaker opens after ``breaker_errors`` transient errors
in a row with no answer in between (a dead endpoint, no network; a call that timed out counts
``timeout_weight`` times, so a blackholed endpoint stops after one round of timeouts, not
several): waiting retries wake up, queued requests are dropped and ``OracleUnavailable`` stops
the run within seconds instead of after every request's full backoff. A failure budget stops it
with ``OracleFailureBudget`` once more than ``max_failure_rate`` of the requests asked so far
have failed after their retries (or were refused by the service): a run missing that much of
its augmentation is not the method.

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
from crome.errors import (
    MalformedAnswer,
    OracleFailureBudget,
    OracleSkip,
    OracleUnavailable,
    RequestRejected,
    TransientOracleError,
)
from crome.oracles import Oracle
from crome.rubrics import Rubric
from harness.retry import RateLimiter, backoff_delay

Tick = Callable[[], None]


@dataclass(frozen=True)
class CallPolicy:
    concurrency: int = 4
    requests_per_minute: float | None = None  # remote oracles only; None = no limit
    retries: int = 5  # transient errors, per request
    malformed_retries: int = 2
    backoff_s: float = 1.0  # first backoff; doubles each retry, jittered to [50%, 100%]
    max_backoff_s: float = 60.0
    breaker_errors: int = 12  # transient errors in a row (all threads) that open the breaker
    timeout_weight: int = 3  # a call that timed out counts as this many errors in the streak
    max_failure_rate: float = 0.05  # failed requests / requests asked, before the run stops


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
    # None: wait on the breaker's event, so an opened breaker wakes every waiting retry
    sleep: Callable[[float], None] | None = None
    stats: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._open = threading.Event()  # the circuit breaker
        self._stop = threading.Event()  # set when the run stops: wakes every waiting retry
        self._streak = 0  # transient errors in a row, all threads together (timeouts weigh more)
        self._streak_calls = 0  # the calls in that streak
        self._opened_after = 0
        self._last_error = ""
        self._asked = 0  # requests not served by the cache, over every run() call
        rpm = self.policy.requests_per_minute
        self._limiter = (RateLimiter(rpm, sleep=self.sleep or time.sleep)
                         if self.oracle.remote and rpm else None)

    def _wait(self, seconds: float) -> None:
        if self.sleep is not None:
            self.sleep(seconds)
        else:
            self._stop.wait(seconds)

    def _transient(self, err: TransientOracleError) -> None:
        with self._lock:
            self.stats["transient_errors"] += 1
            self._streak += self.policy.timeout_weight if getattr(err, "timeout", False) else 1
            self._streak_calls += 1
            self._last_error = str(err)
            if self._streak >= self.policy.breaker_errors and not self._open.is_set():
                self._opened_after = self._streak_calls
                self._open.set()
                self._stop.set()

    def _answered(self) -> None:
        """The service answered (well or not): it is up, the streak ends."""
        with self._lock:
            self._streak = self._streak_calls = 0

    def _check(self) -> None:
        """Raise when the breaker is open or the failure budget is spent."""
        if self._open.is_set():
            self._stop.set()
            raise OracleUnavailable(
                f"the {self.oracle.name} oracle is unreachable or failing: "
                f"{self._opened_after} calls in a row failed (last: {self._last_error}; a "
                f"timeout counts {self.policy.timeout_weight} of crome.breaker_errors="
                f"{self.policy.breaker_errors}); "
                "stopped. Answers received so far are cached: rerun once it answers "
                "(crome.timeout_s, crome.breaker_errors tune this)")
        failed = self.stats["failed"] + self.stats["rejected"]
        if self._asked and failed > self.policy.max_failure_rate * self._asked:
            self._stop.set()
            raise OracleFailureBudget(
                f"{failed} of {self._asked} {self.oracle.name} oracle requests failed after "
                f"their retries (over crome.max_failure_rate={self.policy.max_failure_rate:g}; "
                f"last error: {self._last_error or 'a refused request'}); stopped. Answers "
                "received so far are cached: rerun to retry only the failed requests")

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
        return backoff_delay(self.seed, key, attempt, self.policy.backoff_s,
                             self.policy.max_backoff_s)

    def _one(self, request: Request, key: str) -> Outcome:
        transient = malformed = 0
        while True:
            if self._stop.is_set():
                return Outcome("failed", reason="the run stopped")
            if self._limiter is not None:
                self._limiter.wait()
            self._count("calls")
            try:
                value = request.call(self.oracle)
            except TransientOracleError as err:
                transient += 1
                self._transient(err)
                if transient > self.policy.retries:
                    self._count("failed")
                    return Outcome("failed", reason=str(err))
                self._wait(self._backoff(key, transient))
                continue
            except MalformedAnswer as err:
                self._answered()
                malformed += 1
                self._count("malformed_answers")
                if self.oracle.deterministic or malformed > self.policy.malformed_retries:
                    self._count("malformed_skipped")
                    if self.oracle.deterministic:  # it would say the same again: keep that
                        self._store(key, request, {"malformed": str(err)})
                    return Outcome("malformed", reason=str(err))
                continue
            except OracleSkip as skip:
                self._answered()
                self._store(key, request, {"skip": skip.reason})
                return Outcome("skip", reason=skip.reason)
            except RequestRejected as err:
                self._answered()
                self._count("rejected")
                return Outcome("rejected", reason=str(err))
            self._answered()
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
        self._asked += len(todo)

        def finish(key: str, outcome: Outcome) -> None:
            self._check()  # a stopped run raises here rather than go on without its oracle
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
        except BaseException:
            # On an error (a setup error, the breaker, Ctrl-C) wake the retries waiting out a
            # backoff and drop the queued calls instead of making them.
            self._stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return results  # type: ignore[return-value]
