"""``gemini:MODEL`` as a pairwise judge reward model, with the real google-genai client against
the local stand-in server (``tests/gemini_server.py``): the rewardbench, reword and diagnostics
suites through ``harness eval`` with 429, 500 and malformed answers, the call count printed
before the run, a rerun that makes no new call, parse failures in metrics.json and on the board,
``--max-calls`` (a clean, resumable stop), the shared judging template, and order-averaging and
consistency worked by hand on toy judges."""

from __future__ import annotations

import json
import math
import re

import gemini_server
import pytest
from gemini_server import KEY, files_containing

from harness.cli import main
from harness.data.schema import PreferencePair
from harness.gemini import GeminiClient, GeminiSettings
from harness.scoring.gemini_judge import VERDICT_LOGIT, GeminiJudge
from harness.scoring.judge import JudgeTemplate
from harness.scoring.scorer import Scorer

ANSWER_A = re.compile(r"\[The Start of Assistant A's Answer\]\n(.*?)\n\[The End", re.S)
ANSWER_B = re.compile(r"\[The Start of Assistant B's Answer\]\n(.*?)\n\[The End", re.S)
SUITES = ["--suite", "rewardbench,reword,diagnostics", "--limit", "4",
          "--transforms", "add_quotes,char_deletion"]


def longer(prompt: str) -> str:
    """A judge that prefers the longer answer."""
    a, b = ANSWER_A.search(prompt).group(1), ANSWER_B.search(prompt).group(1)
    return json.dumps({"verdict": "A" if len(a) >= len(b) else "B"})


@pytest.fixture
def env(monkeypatch, tmp_path):
    gemini_server.use_key(monkeypatch)
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    return lambda script, answer=longer: gemini_server.serve(monkeypatch, script, answer)


def _eval(out, *extra: str) -> int:
    return main(["eval", "--model", "gemini:gemini-2.0-flash", *SUITES, "--out", str(out),
                 "--set", "eval.gemini_requests_per_minute=none", *extra])


def test_suites_faults_rerun_and_parse_failures(env, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("harness.scoring.reward_model.GeminiSettings",
                        lambda **kw: GeminiSettings(**kw, backoff_s=0.01, max_backoff_s=0.02))
    with env(["429", "500", "malformed"]) as server:
        assert _eval(tmp_path / "a") == 0
        first = capsys.readouterr().out
        planned = int(re.search(r"(\d+) judge requests \(both orders of every pair\), 0 already "
                                r"in the cache: \1 calls to make", first).group(1))
        assert server.calls == planned + 2  # the 429 and the 500 were retried
        metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
        assert metrics["judge"]["requests"] == metrics["judge"]["calls"] == planned
        assert metrics["judge"]["unparseable"] == 1 and metrics["judge"]["transient_errors"] == 2
        unparsed = [metrics[s]["judge"]["unparseable"] for s in
                    ("rewardbench", "reword", "diagnostics")]
        assert unparsed[0] == 1 and unparsed[2] == 1  # diagnostics reads rewardbench's pairs
        assert metrics["rewardbench"]["judge"]["answers"] == 2 * metrics["rewardbench"]["n"]
        assert "rewardbench judge answers without a verdict" in first
        assert f"1 / {2 * metrics['rewardbench']['n']}" in first
        assert "positional_consistency" in metrics["rewardbench"]
        assert set(metrics["reword"]["transforms"]) == {"add_quotes", "char_deletion"}
        assert "length_reliance" in json.dumps(metrics["diagnostics"])

        assert _eval(tmp_path / "b") == 0  # the rerun: every answer from the cache
        second = capsys.readouterr().out
        assert server.calls == planned + 2
        assert f"{planned} already in the cache: 0 calls to make" in second
        again = json.loads((tmp_path / "b" / "metrics.json").read_text())
        assert again["judge"]["calls"] == 0 and again["judge"]["unparseable"] == 1
        assert again["rewardbench"]["average"] == metrics["rewardbench"]["average"]
        assert f"1 / {2 * metrics['rewardbench']['n']}" in second
    assert files_containing(tmp_path, KEY) == [] and KEY not in first + second


def test_max_calls_stops_cleanly_and_resumes(env, tmp_path, capsys):
    with env([]) as server:
        assert _eval(tmp_path / "a", "--max-calls", "5") == 3
        captured = capsys.readouterr()
        planned = int(re.search(r"(\d+) judge requests", captured.out).group(1))
        assert "at most 5 this run" in captured.out
        assert "stopped:" in captured.err and "rerun the same command" in captured.err
        assert server.calls == 5
        assert not (tmp_path / "a" / "metrics.json").exists()
        assert _eval(tmp_path / "a") == 0
        assert f"5 already in the cache: {planned - 5} calls to make" in capsys.readouterr().out
        assert server.calls == planned


def _judge(answer: str) -> GeminiJudge:
    client = GeminiClient("gemini-2.0-flash", GeminiSettings(concurrency=1))
    return GeminiJudge(client, JudgeTemplate.load())


PAIRS = [PreferencePair("What is 2 + 2?", "4", "5", id="a"),
         PreferencePair("Capital of France?", "Paris", "Lyon, I think", id="b")]


def test_toy_judge_always_a_by_hand(env):
    """Always "A": p(c, r) = p(r, c) = 0.99, so P = 0.5 + (0.99 - 0.99) / 2 = 0.5 on every
    pair: log-odds 0, a tie (counted wrong), and no pair consistent."""
    with env([], answer=lambda prompt: json.dumps({"verdict": "A"})) as server:
        chosen, rejected, stats = Scorer(_judge("A"), use_cache=False).score_pairs(PAIRS)
    assert chosen == rejected == [0.0, 0.0]
    assert stats["consistent"] == [False, False]
    assert server.calls == 4  # both orders of both pairs


def test_order_averaging_by_hand(env):
    """Pair a: the right answer in both orders, P = 0.5 + (0.99 - 0.01) / 2 = 0.99, consistent.
    Pair b: "A" when Paris is A; a tie the other way: P = 0.5 + (0.99 - 0.5) / 2 = 0.745, not
    consistent. Pair c: malformed when its chosen answer is A, "B" the other way (right): that
    order alone decides, P = 0.5 + (0.5 - 0.01) / 2 = 0.745, and one answer without a verdict."""
    def toy(prompt: str) -> str:
        a = ANSWER_A.search(prompt).group(1)
        return {"4": '{"verdict": "A"}', "5": '{"verdict": "B"}', "Paris": '{"verdict": "A"}',
                "Lyon, I think": '{"verdict": "tie"}', "yes": "{oops",
                "no": '{"verdict": "B"}'}[a]

    pairs = [*PAIRS, PreferencePair("Is water wet?", "yes", "no", id="c")]
    with env([], answer=toy):
        judge = _judge("toy")
        chosen, rejected, stats = Scorer(judge, use_cache=False).score_pairs(pairs)
    assert VERDICT_LOGIT == pytest.approx(math.log(99))
    assert chosen == pytest.approx([math.log(0.99 / 0.01), math.log(0.745 / 0.255),
                                    math.log(0.745 / 0.255)])
    assert rejected == [0.0] * 3
    assert stats["consistent"] == [True, False, False]
    assert judge.report()["unparseable"] == 1 and judge.report()["requests"] == 6


def test_shared_template_file(env, tmp_path, capsys):
    """--judge-template: its system message and verdict names reach Gemini; a bad file fails
    before any call."""
    template = tmp_path / "t.toml"
    template.write_text('system = "Be brief."\nuser = "Q: {question}\\n1: {answer_a}\\n'
                        '2: {answer_b}"\nanswer_prefix = "("\nverdict_a = "1"\n'
                        'verdict_b = "2"\n')
    with env([], answer=lambda prompt: json.dumps({"verdict": "1"})) as server:
        argv = ["--judge-template", str(template), "--suite", "rewardbench", "--limit", "2"]
        assert main(["eval", "--model", "gemini:gemini-2.0-flash", *argv,
                     "--out", str(tmp_path / "o")]) == 0
        body = server.bodies[0]
        assert body["systemInstruction"]["parts"][0]["text"] == "Be brief."
        schema = body["generationConfig"]["responseSchema"]
        assert schema["properties"]["verdict"]["enum"] == ["1", "2", "tie"]
        assert body["contents"][0]["parts"][0]["text"].startswith("Q: ")
        calls = server.calls
        template.write_text('user = "no placeholders"\nanswer_prefix = "("\n'
                            'verdict_a = "1"\nverdict_b = "2"\n')
        assert main(["eval", "--model", "gemini:gemini-2.0-flash", *argv,
                     "--out", str(tmp_path / "p")]) == 2
        assert server.calls == calls
    assert "{question}" in capsys.readouterr().err


def test_no_key_or_no_model_is_refused(env, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GEMINI_API_KEY")
    assert main(["eval", "--model", "gemini:gemini-2.0-flash", "--out", str(tmp_path)]) == 2
    assert "GEMINI_API_KEY" in capsys.readouterr().err
    assert main(["eval", "--model", "gemini:", "--out", str(tmp_path / "x")]) == 2
    assert "gemini:MODEL" in capsys.readouterr().err
