"""The ``gemini`` oracle with the real google-genai client against a local stand-in server.

The server is ``tests/gemini_server.py`` (Gemini's REST format on 127.0.0.1, found by the
client through google-genai's own GOOGLE_GEMINI_BASE_URL variable). Scripted faults (429,
500, a timeout, a malformed answer) come first; the run must still complete, a rerun must be
served from the cache with zero calls, and the API key must not appear in any file written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import gemini_server
import pytest
from gemini_server import KEY, FakeGemini, files_containing

from crome.calls import CallPolicy
from harness.cli import main
from harness.data.loaders import load_pairs, write_pairs
from harness.data.schema import PreferencePair


def _good_answer(prompt: str) -> str:
    if "attributes of an answer" in prompt:
        return json.dumps({"rubrics": [
            {"name": "Correctness", "description": "facts are right"},
            {"name": "relevance", "description": "answers the question"},
            {"name": "length", "description": "spurious, must be dropped"}]})
    answer = re.search(r"The answer to rewrite:\n<<<\n(.*)\n>>>", prompt, re.S).group(1)
    if "clearly WORSE" in prompt:  # a fact changed, as a degrade must
        worse = answer.replace("4", "5").replace("7", "9").replace("Paris", "Lyon")
        return json.dumps({"changed": True, "rewrite": worse})
    return json.dumps({"changed": True, "rewrite": answer + " Indeed."})


@pytest.fixture
def gemini_env(monkeypatch):
    gemini_server.use_key(monkeypatch)
    # Fast backoff: the retry logic under test is ours, its real delays are not.
    monkeypatch.setattr("crome.method.CallPolicy",
                        lambda **kw: CallPolicy(**kw, backoff_s=0.01, max_backoff_s=0.05))

    def serve(script: list[str], answer=_good_answer) -> FakeGemini:
        return gemini_server.serve(monkeypatch, script, answer)

    return serve


def _pairs(tmp_path: Path) -> Path:
    pairs = [
        PreferencePair("What is 2 + 2?", "2 + 2 = 4.", "It is 5.", id="a"),
        PreferencePair("Name a prime number.", "7 is prime.", "4 is prime.", id="b"),
        PreferencePair("Capital of France?", "Paris is the capital.", "Lyon.", id="c"),
    ]
    path = tmp_path / "pairs.jsonl"
    write_pairs(pairs, path)
    return path


def test_gemini_faults_cache_and_no_key_on_disk(tmp_path, gemini_env, capsys):
    data = _pairs(tmp_path)
    cache = tmp_path / "cache" / "answers.sqlite"
    argv = ["augment", "--method", "crome", "--oracle", "gemini", "--data", str(data),
            "--cache", str(cache), "--no-progress", "--set", "crome.timeout_s=0.5",
            "--set", "crome.neutrals_per_pair=1", "--set", "crome.requests_per_minute=6000"]
    with gemini_env(["429", "500", "timeout", "malformed"]) as server:
        assert main([*argv, "--out", str(tmp_path / "out1.jsonl")]) == 0
        first_calls = server.calls
        first = capsys.readouterr().out
        # 3 rubric prompts + 6 rewrites, plus one extra call per scripted fault.
        assert first_calls == 9 + 4
        assert all(re.search(r"/models/gemini-2\.0-flash:generateContent$", p)
                   for p in server.paths)
        assert main([*argv, "--out", str(tmp_path / "out2.jsonl")]) == 0
        assert server.calls == first_calls  # the rerun is served from the cache
        second = capsys.readouterr().out
    assert re.search(r"oracle_calls\s*│\s*13\b", first)
    assert re.search(r"transient_errors\s*│\s*3\b", first)
    assert re.search(r"malformed_answers\s*│\s*1\b", first)
    assert re.search(r"oracle_calls\s*│\s*0\b", second)
    assert re.search(r"cache_hits\s*│\s*9\b", second)
    out1 = load_pairs(str(tmp_path / "out1.jsonl"))
    out2 = load_pairs(str(tmp_path / "out2.jsonl"))
    assert [p.to_record() for p in out1] == [p.to_record() for p in out2]
    types = sorted(p.extra["augmentation"] for p in out1)
    assert types == ["causal-degrade"] * 3 + ["causal-upgrade"] * 3 + ["neutral"] * 3
    causal = [p for p in out1 if p.extra["augmentation"].startswith("causal")]
    assert {p.extra["oracle"] for p in causal} == {"gemini"}
    assert {p.extra["approximate"] for p in causal} == {False}
    assert {p.extra["rubric"] for p in causal} <= {"correctness", "relevance"}  # no "length"
    degrade = next(p for p in out1 if p.id.startswith("a#crome-degrade-"))
    assert degrade.chosen == "2 + 2 = 4." and degrade.rejected == "2 + 2 = 5."
    assert "rewrites rejected" not in first  # every rewrite passed the checks
    assert files_containing(tmp_path, KEY) == []
    assert KEY not in first + second


def test_gemini_persistent_malformed_is_skipped_and_counted(tmp_path, gemini_env):
    from crome.method import augment_with_config
    from harness.config import Config

    pairs = load_pairs(str(_pairs(tmp_path)))[:1]
    config = Config()
    config.set_value("crome.neutrals_per_pair", 0.0)
    config.set_value("crome.requests_per_minute", None)
    # Every call malformed: 1 rubric request and 2 rewrites (x2 fallback rubrics tried each),
    # each asked 1 + malformed_retries (2) times.
    with gemini_env(["malformed"] * 100) as server:
        result = augment_with_config(pairs, config, oracle_name="gemini",
                                     cache_path=tmp_path / "c.sqlite")
    assert result.pairs == []
    assert result.counts["rubrics_fallback"] == 1
    assert result.counts["degrade_skipped"] == result.counts["upgrade_skipped"] == 1
    assert result.counts["malformed_skipped"] == 1 + 2 * 3
    assert server.calls == result.counts["oracle_calls"] == 3 * (1 + 2 * 3)


def test_gemini_needs_a_key_and_a_valid_one(tmp_path, gemini_env, monkeypatch, capsys):
    data = _pairs(tmp_path)
    argv = ["augment", "--oracle", "gemini", "--data", str(data), "--no-progress",
            "--cache", str(tmp_path / "c.sqlite"), "--out", str(tmp_path / "o.jsonl")]
    monkeypatch.delenv("GEMINI_API_KEY")
    assert main(argv) == 2
    assert "GEMINI_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("GEMINI_API_KEY", "wrong-key-0000")
    with gemini_env([]) as server:
        assert main(argv) == 2  # 401: stop at once, not one skipped item per call
    err = capsys.readouterr().err
    assert "401" in err and "wrong-key-0000" not in err
    assert server.calls <= 4  # at most the calls already in flight
    assert not (tmp_path / "o.jsonl").exists()


def _bad_rewrites(prompt: str) -> str:
    """Correctness as the one rubric, and degrades that change nothing that was asked, chosen
    by the first word of the answer."""
    if "attributes of an answer" in prompt:
        return json.dumps({"rubrics": [{"name": "correctness", "description": "facts"}]})
    if "clearly WORSE" not in prompt:
        return _good_answer(prompt)
    answer = re.search(r"The answer to rewrite:\n<<<\n(.*)\n>>>", prompt, re.S).group(1)
    user = re.search(r"The user's prompt:\n<<<\n(.*?)\n>>>", prompt, re.S).group(1)
    rewrite = {"Same": answer, "Echo": user, "Shout": answer.upper(),
               "More": answer + " Many people also enjoy hiking in the mountains."}
    return json.dumps({"changed": True, "rewrite": rewrite[answer.split(":")[0]]})


def test_gemini_rewrites_that_change_nothing_are_rejected_and_counted(tmp_path, gemini_env,
                                                                      capsys):
    pairs = [PreferencePair("Why is the sky blue during a clear day?",
                            "Same: Rayleigh scattering of sunlight.", "No idea.", id="same"),
             PreferencePair("Explain the echo chamber effect in social media feeds today.",
                            "Echo: people see views like their own.", "Nope.", id="echo"),
             PreferencePair("What is the boiling point of water at sea level?",
                            "Shout: it boils at 100 degrees Celsius.", "50.", id="shout"),
             PreferencePair("Name the largest planet in the solar system.",
                            "More: Jupiter is the largest planet.", "Mars.", id="more")]
    data = tmp_path / "pairs.jsonl"
    write_pairs(pairs, data)
    argv = ["augment", "--oracle", "gemini", "--data", str(data), "--no-progress",
            "--cache", str(tmp_path / "c.sqlite"), "--out", str(tmp_path / "o.jsonl"),
            "--set", "crome.neutrals_per_pair=0", "--set", "crome.requests_per_minute=6000"]
    with gemini_env([], answer=_bad_rewrites):
        assert main(argv) == 0
    text = capsys.readouterr().out
    assert ("rewrites rejected by the checks: degrade:cosmetic 1, degrade:echo 1, "
            "degrade:facts_kept 1, degrade:identical 1") in " ".join(text.split())
    assert re.search(r"rewrites_rejected\s*│\s*4\b", text)
    assert re.search(r"degrade_skipped\s*│\s*4\b", text)
    out = load_pairs(str(tmp_path / "o.jsonl"))
    assert {p.extra["augmentation"] for p in out} == {"causal-upgrade"} and len(out) == 4
