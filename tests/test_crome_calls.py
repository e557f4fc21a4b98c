"""The oracle call layer: cache, retries with backoff, malformed answers, skips, rate limit."""

from __future__ import annotations

import threading

import pytest

from crome.cache import OracleCache, cache_key
from crome.calls import CallPolicy, OracleRunner, RateLimiter, RewriteRequest, RubricsRequest
from crome.errors import (
    MalformedAnswer,
    OracleSetupError,
    OracleSkip,
    RequestRejected,
    TransientOracleError,
)
from crome.oracles import Oracle
from crome.rubrics import CORRECTNESS, Rubric


class ScriptedOracle(Oracle):
    """Raises the scripted errors for a prompt, in order, then answers."""

    name = "scripted"

    def __init__(self, script: dict[str, list[BaseException]] | None = None, **kw):
        super().__init__("m1", **kw)
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def _next(self, prompt: str) -> None:
        with self.lock:
            self.calls.append(prompt)
            queue = self.script.get(prompt, [])
            error = queue.pop(0) if queue else None
        if error is not None:
            raise error

    def rubrics(self, prompt):
        self._next(prompt)
        return [CORRECTNESS, Rubric("clarity", "clear")]

    def rewrite(self, prompt, answer, rubric, direction):
        self._next(prompt)
        return None if answer == "perfect" else f"{answer} ({direction} {rubric.name})"


def runner_for(oracle, cache=None, **policy):
    sleeps: list[float] = []
    # no failure budget here: these tests count skips (the budget has its own tests)
    policy = {"concurrency": 3, "retries": 2, "malformed_retries": 1, "max_failure_rate": 1.0,
              **policy}
    runner = OracleRunner(oracle, cache, CallPolicy(**policy), seed=0, sleep=sleeps.append)
    return runner, sleeps


def test_transient_errors_are_retried_with_growing_jittered_backoff():
    oracle = ScriptedOracle({"p": [TransientOracleError("429", 429),
                                   TransientOracleError("503", 503)]})
    runner, sleeps = runner_for(oracle, backoff_s=1.0)
    [outcome] = runner.run([RubricsRequest("p")])
    assert outcome.status == "ok" and outcome.value[0]["name"] == "correctness"
    assert runner.stats["calls"] == 3 and runner.stats["transient_errors"] == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0
    again, again_sleeps = runner_for(ScriptedOracle({"p": [TransientOracleError("x")] * 2}),
                                     backoff_s=1.0)
    again.run([RubricsRequest("p")])
    assert again_sleeps == sleeps  # the jitter is seeded: same inputs, same waits


def test_too_many_transient_errors_skip_and_count():
    oracle = ScriptedOracle({"p": [TransientOracleError("500", 500)] * 5})
    runner, sleeps = runner_for(oracle)
    outcomes = runner.run([RubricsRequest("p"), RubricsRequest("q")])
    assert [o.status for o in outcomes] == ["failed", "ok"]
    assert runner.stats["failed"] == 1 and len(sleeps) == 2


def test_malformed_answers_are_asked_again_then_skipped():
    oracle = ScriptedOracle({"p": [MalformedAnswer("bad")], "q": [MalformedAnswer("bad")] * 3})
    runner, _ = runner_for(oracle)
    outcomes = runner.run([RubricsRequest("p"), RubricsRequest("q")])
    assert [o.status for o in outcomes] == ["ok", "malformed"]
    assert runner.stats["malformed_answers"] == 3 and runner.stats["malformed_skipped"] == 1

    class Greedy(ScriptedOracle):
        deterministic = True  # asking again would repeat the same answer

    greedy = Greedy({"p": [MalformedAnswer("bad")]})
    runner, _ = runner_for(greedy)
    assert runner.run([RubricsRequest("p")])[0].status == "malformed"
    assert greedy.calls == ["p"]


def test_deterministic_malformed_answers_are_cached_others_not(tmp_path):
    class Greedy(ScriptedOracle):
        deterministic = True

    cache = OracleCache(tmp_path / "a.sqlite")
    for cls, cached in ((Greedy, True), (ScriptedOracle, False)):
        oracle = cls({"p": [MalformedAnswer("bad")] * 3})  # 2 on the first run, 1 on the rerun
        oracle.name = cls.__name__  # separate cache keys
        runner, _ = runner_for(oracle, cache)
        assert runner.run([RubricsRequest("p")])[0].status == "malformed"
        rerun, _ = runner_for(oracle, cache)
        outcome = rerun.run([RubricsRequest("p")])[0]
        assert outcome.cached is cached and rerun.stats["calls"] == (0 if cached else 2)
        assert outcome.status == ("malformed" if cached else "ok")


def test_cache_serves_reruns_and_keeps_failures_out(tmp_path):
    cache = OracleCache(tmp_path / "a.sqlite")
    requests = [RewriteRequest("p", "ans", CORRECTNESS, "degrade"),
                RewriteRequest("p", "perfect", CORRECTNESS, "upgrade"),
                RewriteRequest("skip", "ans", CORRECTNESS, "upgrade"),
                RewriteRequest("rej", "ans", CORRECTNESS, "upgrade"),
                RewriteRequest("p", "ans", CORRECTNESS, "degrade")]  # a duplicate: asked once
    script = {"skip": [OracleSkip("no_rule")], "rej": [RequestRejected("400")]}
    first_oracle = ScriptedOracle(script)
    runner, _ = runner_for(first_oracle, cache)
    first = runner.run(requests)
    assert [o.status for o in first] == ["ok", "ok", "skip", "rejected", "ok"]
    assert first[0].value == "ans (degrade correctness)" and first[1].value is None
    assert len(first_oracle.calls) == 4 and len(cache) == 3  # rejected is not cached
    cache.close()

    cache = OracleCache(tmp_path / "a.sqlite")  # a new process: the file is the cache
    oracle = ScriptedOracle()
    runner, _ = runner_for(oracle, cache)
    second = runner.run(requests)
    assert [(o.status, o.value, o.reason, o.cached) for o in second] == [
        ("ok", "ans (degrade correctness)", "", True),
        ("ok", None, "", True),  # "no such rewrite" is an answer, cached like one
        ("skip", None, "no_rule", True),
        ("ok", "ans (upgrade correctness)", "", False),  # the rejected one is asked again
        ("ok", "ans (degrade correctness)", "", True),
    ]
    assert oracle.calls == ["rej"] and runner.stats["cache_hits"] == 4


def test_cache_key_covers_oracle_model_version_and_input():
    base = cache_key("gemini", "m", "v1", "rewrite", {"a": 1})
    assert base == cache_key("gemini", "m", "v1", "rewrite", {"a": 1})
    assert len({base, cache_key("hf", "m", "v1", "rewrite", {"a": 1}),
                cache_key("gemini", "m2", "v1", "rewrite", {"a": 1}),
                cache_key("gemini", "m", "v2", "rewrite", {"a": 1}),
                cache_key("gemini", "m", "v1", "rewrite", {"a": 2})}) == 5


def test_setup_errors_stop_the_run():
    oracle = ScriptedOracle({f"p{i}": [OracleSetupError("bad key")] for i in range(20)})
    runner, _ = runner_for(oracle)
    with pytest.raises(OracleSetupError, match="bad key"):
        runner.run([RubricsRequest(f"p{i}") for i in range(20)])
    assert len(oracle.calls) < 20  # the queued calls were dropped


def test_rate_limiter_spaces_calls_evenly():
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)

    limiter = RateLimiter(120, clock=lambda: now[0], sleep=sleep)  # one call per 0.5 s
    for _ in range(3):
        limiter.wait()
    assert waits == [0.5, 1.0]
    now[0] += 10  # idle time is not saved up into a burst
    limiter.wait()
    assert waits == [0.5, 1.0]


def test_remote_oracles_are_rate_limited_local_ones_not():
    class Remote(ScriptedOracle):
        remote = True

    runner, _ = runner_for(Remote(), requests_per_minute=60)
    assert runner._limiter is not None and runner._limiter.interval == 1.0
    runner, _ = runner_for(ScriptedOracle(), requests_per_minute=60)
    assert runner._limiter is None


def test_the_breaker_stops_a_dead_oracle_after_a_streak_and_answers_reset_it():
    from crome.errors import OracleUnavailable

    dead = ScriptedOracle({f"p{i}": [TransientOracleError("refused")] * 50 for i in range(30)})
    runner, sleeps = runner_for(dead, concurrency=1, retries=5, breaker_errors=7)
    with pytest.raises(OracleUnavailable, match="7 calls in a row failed"):
        runner.run([RubricsRequest(f"p{i}") for i in range(30)])
    assert len(dead.calls) == 7  # not 30 requests x 6 tries
    # errors broken up by answers never open it: each request's 2 errors then an answer
    flaky = ScriptedOracle({f"p{i}": [TransientOracleError("429")] * 2 for i in range(30)})
    runner, _ = runner_for(flaky, concurrency=1, retries=5, breaker_errors=3)
    assert {o.status for o in runner.run([RubricsRequest(f"p{i}") for i in range(30)])} == {"ok"}
