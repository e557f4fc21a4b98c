"""The one Gemini client (``harness.gemini``) and the transform generator built on it, with the
real google-genai client against the local stand-in server (``tests/gemini_server.py``):
retries with backoff on 429/5xx and timeouts, answers without text asked again, errors that
never hold the key, the disk cache, the call budget and the concurrency bound."""

from __future__ import annotations

import gemini_server
import pytest
from gemini_server import KEY, files_containing

from harness.gemini import (
    CallBudgetSpent,
    GeminiClient,
    GeminiRequest,
    GeminiSettings,
    GeminiSetupError,
    GeminiTransient,
)
from transforms.generators import GeminiGenerator, GeneratorError

FAST = GeminiSettings(backoff_s=0.01, max_backoff_s=0.02, retries=2, timeout_s=0.5)


@pytest.fixture
def gemini(monkeypatch):
    gemini_server.use_key(monkeypatch)
    return lambda script, answer=gemini_server.echo: gemini_server.serve(
        monkeypatch, script, answer)


def test_generator_retries_429_then_answers(gemini, tmp_path, monkeypatch):
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path))
    with gemini(["429", "timeout"]) as server:
        generator = GeminiGenerator(settings=FAST)  # the client reads the URL when built
        assert generator.generate(["rewrite this"], 16) == ["echo: rewrite this"]
        assert server.calls == 3  # 429, timeout, answer
        stats = generator._client.stats
        assert (stats["transient_errors"], stats["requests"], stats["calls"]) == (2, 1, 3)
        body = server.bodies[-1]
        assert body["generationConfig"] == {"temperature": 0.0, "maxOutputTokens": 16}
        # A second generator reads the answer from the client's disk cache: no call.
        assert GeminiGenerator(settings=FAST).generate(["rewrite this"], 16) == [
            "echo: rewrite this"]
        assert server.calls == 3
    assert files_containing(tmp_path, KEY) == []


def test_generator_500_fails_after_retries_without_the_key(gemini, tmp_path, monkeypatch):
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path))
    with gemini(["500"] * 3) as server, pytest.raises(GeneratorError) as err:
        GeminiGenerator(settings=FAST).generate(["a"], 8)
    assert server.calls == 1 + FAST.retries
    assert "500 INTERNAL" in str(err.value) and "1 of 1 prompts failed" in str(err.value)
    assert KEY not in str(err.value)


def test_generator_malformed_answers_are_asked_again(gemini, tmp_path, monkeypatch):
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path))
    with gemini(["garbled", "garbled"]) as server:
        assert GeminiGenerator(settings=FAST).generate(["b"], 8) == ["echo: b"]
        assert server.calls == 3
    with gemini(["garbled"] * 3) as server, pytest.raises(GeneratorError, match="unreadable"):
        GeminiGenerator(settings=FAST).generate(["c"], 8)
    assert server.calls == 1 + FAST.malformed_retries
    with gemini(["empty"]):  # no candidates: a blocked answer, an empty output
        assert GeminiGenerator(settings=FAST).generate(["d"], 8) == [""]


def test_bad_key_stops_with_a_scrubbed_message(gemini, tmp_path, monkeypatch):
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path))
    with gemini([]) as server:
        monkeypatch.setenv("GEMINI_API_KEY", "wrong-key-0000")
        client = GeminiClient("gemini-2.0-flash", FAST)
        with pytest.raises(GeminiSetupError) as err:
            client.generate_many([GeminiRequest(f"p{i}") for i in range(3)])
    assert "401" in str(err.value) and "wrong-key-0000" not in str(err.value)
    assert server.calls <= FAST.concurrency  # no retry, queued requests dropped
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(GeminiSetupError, match="GEMINI_API_KEY"):
        GeminiClient("gemini-2.0-flash")
    with pytest.raises(GeneratorError, match="GEMINI_API_KEY"):
        GeminiGenerator()


def test_a_key_in_a_message_is_scrubbed(gemini, monkeypatch):
    """A message that echoes the key (say a proxy's error page) loses it."""
    with gemini(["500"] * 2, answer=lambda prompt: KEY) as server:
        client = GeminiClient("m", GeminiSettings(retries=0))
        with pytest.raises(GeminiTransient) as err:
            client.generate(GeminiRequest("x"))
        assert KEY not in str(err.value)
    from harness.gemini import scrub

    assert scrub(f"bad key {KEY}!") == "bad key ***!"
    assert server.calls == 1


def test_cache_budget_and_structured_output(gemini, tmp_path):
    schema = {"type": "object", "properties": {"v": {"type": "string", "enum": ["A", "B"]}},
              "required": ["v"]}
    settings = GeminiSettings(max_calls=2, concurrency=2)
    requests = [GeminiRequest(f"q{i}", system="judge", schema=schema) for i in range(3)]
    with gemini([]) as server:
        client = GeminiClient("gemini-2.0-flash", settings, cache=tmp_path / "a.sqlite")
        answers = client.generate_many(requests)
        assert sum(isinstance(a, CallBudgetSpent) for a in answers) == 1
        assert server.calls == 2
        body = server.bodies[0]
        assert body["systemInstruction"]["parts"][0]["text"] == "judge"
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        assert body["generationConfig"]["responseSchema"]["properties"]["v"]["enum"] == [
            "A", "B"]
        # A rerun (a new client, a fresh budget) asks only the request not yet answered.
        again = GeminiClient("gemini-2.0-flash", settings, cache=tmp_path / "a.sqlite")
        assert again.generate_many(requests) == [f"echo: q{i}" for i in range(3)]
        assert server.calls == 3 and again.stats["cache_hits"] == 2
        # Another model is another key.
        other = GeminiClient("gemini-2.5-flash", settings, cache=tmp_path / "a.sqlite")
        assert not other.cached(requests[0])[0] and again.cached(requests[0])[0]
    assert files_containing(tmp_path, KEY) == []
