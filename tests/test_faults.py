"""Fault injection (issue #19): every fault a user under pressure meets ends in a clear error
and a non-zero exit, or in the correct result; none in a wrong result with exit code 0.

A dead Gemini endpoint (a closed port and a server that only answers 500 on 127.0.0.1), a
failure budget, a Crome augmentation with no causal pair, data changed under a run, two
processes on one folder and a lock left by a killed one, typos in settings and names, bad files
(UTF-16, not UTF-8, lone surrogates, Parquet under a .jsonl name, a corrupt Parquet, malformed
JSON), impossible output paths, a corrupt score cache, reused output folders, file modes and
the per-step ``requires_grad`` warning. The numbered repros of the issue are named in each
test's docstring.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from conftest import REPO
from test_crome_calls import ScriptedOracle, runner_for
from test_crome_gemini import KEY, FakeGemini

from crome.augment import augment_pairs
from crome.errors import NoCausalPairs, OracleFailureBudget, TransientOracleError
from crome.method import require_causal
from harness.cli import main
from harness.config import Config
from harness.data.loaders import load_pairs, write_pairs
from harness.data.schema import PreferencePair
from harness.io import write_json
from harness.locks import LOCK_FILE, LockHeld, hold
from harness.runstore import RunConflict, RunStore

ENV = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
       "TOKENIZERS_PARALLELISM": "false"}


def _pairs(n: int, offset: int = 0) -> list[PreferencePair]:
    return [PreferencePair(f"What is {i} + {i}?", f"{i} + {i} = {2 * i}.",
                           f"It is {2 * i + 1}.", None, str(i)) for i in range(offset, offset + n)]


def _file(tmp_path: Path, n: int = 12, name: str = "pairs.jsonl") -> Path:
    path = tmp_path / name
    write_pairs(_pairs(n), path)
    return path


def _cli(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


def _clean_error(err: str) -> None:
    assert err.startswith("error:") or "\nerror:" in err, err
    assert "Traceback" not in err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed when the block ends: connections are refused


def _harness(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=REPO,
                            env={**os.environ, **ENV, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)


# -- 1. a dead oracle -------------------------------------------------------------------------

@pytest.fixture
def gemini_key(monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)


@pytest.mark.parametrize("n", [12, 400])
def test_dead_gemini_endpoint_fails_augment_in_seconds(tmp_path, gemini_key, monkeypatch,
                                                      capsys, n):
    """Repro 1: `augment --oracle gemini` against an unreachable endpoint exited 0 with only
    neutrals, after minutes of backoff. Now: exit 1 within 30 s on any data size (the real
    backoff policy, not a test one), no output file."""
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    data, out = _file(tmp_path, n), tmp_path / "a.jsonl"
    began = time.monotonic()
    code, err = _cli(["augment", "--method", "crome", "--oracle", "gemini", "--data", str(data),
                      "--out", str(out), "--cache", str(tmp_path / "c.sqlite"),
                      "--no-progress"], capsys)
    elapsed = time.monotonic() - began
    assert code == 1 and elapsed < 30, (code, elapsed)
    _clean_error(err)
    assert "unreachable or failing" in err and "12 calls in a row" in err
    assert not out.exists()


def _augment_against(fault: str, setting: str, tmp_path, monkeypatch, capsys
                     ) -> tuple[int, str, int]:
    """(exit code, stderr, server calls) of ``augment --oracle gemini`` on 40 prompts against
    a stand-in that answers every call with ``fault``, with one ``--set``."""
    with FakeGemini([fault] * 10_000) as server:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
        code, err = _cli(["augment", "--oracle", "gemini", "--data", str(_file(tmp_path, 40)),
                          "--out", str(tmp_path / "a.jsonl"), "--no-progress",
                          "--cache", str(tmp_path / "c.sqlite"), "--set", setting], capsys)
        return code, err, server.calls


def test_gemini_answering_only_500_trips_the_breaker(tmp_path, gemini_key, monkeypatch, capsys):
    """Repro 1 with a live server that fails every call: the breaker opens after
    crome.breaker_errors errors, not after every request's retries."""
    code, err, calls = _augment_against("500", "crome.breaker_errors=6", tmp_path, monkeypatch,
                                        capsys)
    assert code == 1 and "6 calls in a row" in err
    # 40 prompts with 6 tries each would be 240 calls; the breaker stops it near 6 (the
    # calls already in flight when it opens finish).
    assert 6 <= calls < 6 + 4, calls


def test_a_blackholed_endpoint_stops_after_one_round_of_timeouts(tmp_path, gemini_key,
                                                                monkeypatch, capsys):
    """An endpoint that never answers: each call waits its full crome.timeout_s, so a timeout
    weighs 3 in the breaker's streak and the first round of timeouts (4 concurrent calls) opens
    it, where 12 plain errors would take three rounds of timeouts."""
    code, err, calls = _augment_against("timeout", "crome.timeout_s=0.5", tmp_path, monkeypatch,
                                        capsys)
    assert code == 1 and "calls in a row failed" in err and "Timeout" in err, err
    assert calls < 12, calls


def test_failure_budget_stops_a_flaky_oracle():
    """An oracle that answers most requests but fails some for good: the streak never grows
    (answers reset it), the failure budget stops the run."""
    prompts = [f"p{i}" for i in range(20)]
    flaky = {p: [TransientOracleError("500", 500)] * 10 for p in prompts[:3]}
    runner, _ = runner_for(ScriptedOracle(flaky), concurrency=1, max_failure_rate=0.1)
    from crome.calls import RubricsRequest

    with pytest.raises(OracleFailureBudget, match=r"3 of 20 .* crome.max_failure_rate=0.1"):
        runner.run([RubricsRequest(p) for p in prompts])
    # within the budget the same run completes and counts its failures
    runner, _ = runner_for(ScriptedOracle(flaky), concurrency=1, max_failure_rate=0.2)
    outcomes = runner.run([RubricsRequest(p) for p in prompts])
    assert [o.status for o in outcomes].count("failed") == 3


def test_crome_without_causal_pairs_is_never_trained(tmp_path, monkeypatch):
    """Repro 1 (train): an augmentation with no causal pair (every rewrite declined) is refused
    before training, naming the counts."""

    class Declines(ScriptedOracle):
        def rewrite(self, prompt, answer, rubric, direction):
            return None  # "no such rewrite", for every pair

    oracle = Declines()
    result = augment_pairs(_pairs(6), oracle, runner_for(oracle)[0], neutrals_per_pair=1.0)
    assert result.counts["neutral"] == 6  # neutrals alone: Vanilla plus ties, not Crome
    with pytest.raises(NoCausalPairs, match="no causal pair out of 6 pairs"):
        require_causal(result)
    # and the crome method refuses it before any filtering or training
    import crome.method

    monkeypatch.setattr(crome.method, "augment_with_config", lambda pairs, config: result)
    with pytest.raises(NoCausalPairs):
        crome.method.build(_pairs(6), Config(), lambda augmented: pytest.fail("filtered"))


def test_train_crome_with_a_dead_oracle_fails_before_any_training(tmp_path, gemini_key,
                                                                 monkeypatch, capsys):
    """Repro 1 (train): `train --method crome --set crome.oracle=gemini` exited 0 having
    trained on zero causal pairs. Now the oracle runs before the filter RM is trained: exit 1,
    and a folder the command made is not left behind."""
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "crome"
    code, err = _cli(["train", "--method", "crome", "--data", str(_file(tmp_path)),
                      "--out", str(out), "--no-progress", "--set", "crome.oracle=gemini",
                      "--set", "data.heldout_size=2"], capsys)
    assert code == 1 and "unreachable or failing" in err
    assert not (out / "model").exists() and not (out / "filter-vanilla").exists()


# -- 2. data changed under a run ----------------------------------------------------------------

def test_a_run_with_changed_data_is_refused_and_new_run_starts_beside_it(tmp_path):
    """Repro 2: resume compared only the config hash, so changed labels brought back the old
    results. Now the card's data hashes are compared too; --new-run takes the next free name."""
    from harness.commands.run import next_free

    data = _file(tmp_path)
    config = Config()
    config.set_value("data.train", str(data))
    store = RunStore(tmp_path / "runs" / "r", config)
    store.open(["run"])
    RunStore(tmp_path / "runs" / "r", config).open(["run"])  # same run: resumes
    flipped = [PreferencePair(p.prompt, p.rejected, p.chosen, None, p.id) for p in _pairs(12)]
    write_pairs(flipped, data)
    with pytest.raises(RunConflict, match=r"data.train .*content changed"):
        RunStore(tmp_path / "runs" / "r", config).open(["run"])
    other = Config.from_dict(config.to_dict())
    other.set_value("train.lr", 1e-3)
    with pytest.raises(RunConflict, match=r"setting train.lr: 2e-05 then, 0.001 now"):
        RunStore(tmp_path / "runs" / "r", other).open(["run"])
    fresh = next_free(RunStore(tmp_path / "runs" / "r", config))
    assert fresh.root.name == "r-2"
    fresh.open(["run"])
    assert next_free(RunStore(tmp_path / "runs" / "r", config)).root.name == "r-2"  # resumes


def test_a_setting_added_later_at_its_default_keeps_a_run_resumable(tmp_path):
    """A card written before a setting existed: at its default it is no difference."""
    config = Config()
    store = RunStore(tmp_path / "r", config)
    store.open(["run"])
    card = store.card()
    del card["config"]["train"]["budget"]
    write_json(store.card_path, card)
    RunStore(tmp_path / "r", config).open(["run"])
    config.set_value("train.budget", "steps")
    with pytest.raises(RunConflict, match="train.budget"):
        RunStore(tmp_path / "r", config).open(["run"])


def _fake_trainer(monkeypatch) -> list:
    """Replace the trainer with one that records its pairs (the pipeline's checks are under
    test, not training)."""
    from harness.training import pipeline
    from harness.training.trainer import TrainResult

    calls = []

    def fake(pairs, config, out_dir, **kw):
        calls.append(pairs)
        return TrainResult(str(Path(out_dir) / "model"), 1, len(pairs), 0, 0, 0.1, 1.0)

    monkeypatch.setattr(pipeline, "train_reward_model", fake)
    return calls


def test_train_out_on_a_folder_trained_on_other_data_refuses_before_writing(tmp_path,
                                                                           monkeypatch):
    """Repro 3: `train --out D` rewrote train_pairs/method.json/heldout, then refused. Now
    nothing in D changes; the same inputs resume."""
    from harness.training.pipeline import INPUTS_FILE, train_method

    calls = _fake_trainer(monkeypatch)
    data, out = _file(tmp_path), tmp_path / "out"
    config = Config()
    config.set_value("data.train", str(data))
    config.set_value("data.heldout_size", 2)
    train_method("vanilla", config, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert INPUTS_FILE in before and "heldout.jsonl" in before
    write_pairs(_pairs(12, offset=100), data)  # other data, same file name
    with pytest.raises(RunConflict, match="other inputs .*data differ"):
        train_method("vanilla", config, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    with pytest.raises(RunConflict, match=r"\(method, settings differ: method=.vanilla."):
        write_pairs(_pairs(12), data)
        train_method("rrm", config, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    train_method("vanilla", config, out)  # same inputs again: accepted
    assert len(calls) == 2
    # a folder from before inputs.json: its held-out split decides
    (out / INPUTS_FILE).unlink()
    write_pairs(_pairs(12, offset=100), data)
    with pytest.raises(RunConflict, match="held-out split differs"):
        train_method("vanilla", config, out)


def test_train_out_ignores_how_oracle_calls_are_made(tmp_path, monkeypatch):
    """A longer timeout after an outage is the same training; more neutrals are not."""
    from harness.training.pipeline import train_method

    _fake_trainer(monkeypatch)
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    config = Config()
    for key, value in (("data.train", str(_file(tmp_path))), ("data.heldout_size", 2),
                       ("crome.filter_threshold", None)):
        config.set_value(key, value)
    train_method("crome", config, tmp_path / "out")
    config.set_value("crome.timeout_s", 300.0)
    config.set_value("crome.concurrency", 1)
    train_method("crome", config, tmp_path / "out")
    config.set_value("crome.neutrals_per_pair", 2.0)
    with pytest.raises(RunConflict, match="settings differ"):
        train_method("crome", config, tmp_path / "out")
    # a folder whose inputs.json recorded call settings (an earlier version) still resumes
    config.set_value("crome.neutrals_per_pair", 0.5)
    recorded = json.loads((tmp_path / "out" / "inputs.json").read_text())
    recorded["settings"]["timeout_s"] = 1.0
    write_json(tmp_path / "out" / "inputs.json", recorded)
    train_method("crome", config, tmp_path / "out")


# -- 3. two processes, one folder -------------------------------------------------------------

def test_a_held_run_folder_refuses_a_second_process_at_once(tmp_path):
    """Repro 3: two `harness run` on one --name raced on checkpoints. The second now refuses
    at once, naming the holder, and touches nothing."""
    data = _file(tmp_path)
    root = tmp_path / "runs" / "same"
    root.mkdir(parents=True)
    with hold(root, "--name"):
        began = time.monotonic()
        proc = _harness("run", "--models", "vanilla", "--data", str(data), "--name", "same",
                        "--runs-dir", str(tmp_path / "runs"), "--no-progress",
                        "--set", "data.heldout_size=2")
        output, _ = proc.communicate(timeout=120)
        elapsed = time.monotonic() - began
    assert proc.returncode == 2, output
    assert f"in use by pid {os.getpid()}" in output and "Traceback" not in output
    assert sorted(p.name for p in root.iterdir()) == [LOCK_FILE]
    assert elapsed < 60  # startup and checks only (seconds on a quiet machine)


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    """A lock whose holder was killed (SIGKILL: no cleanup ran) is taken over, and the
    previous holder is reported."""
    folder = tmp_path / "out"
    folder.mkdir()
    code = ("import sys, time; from harness.locks import hold\n"
            f"with hold({str(folder)!r}):\n"
            "    print('held', flush=True); time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    with pytest.raises(LockHeld, match=f"pid {proc.pid}"):
        with hold(folder):
            pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    with hold(folder) as stale:
        assert stale["pid"] == proc.pid
    with hold(folder) as stale:  # released cleanly this time: nothing stale
        assert stale == {}


def test_train_out_is_locked_too(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with hold(out, "--out"):
        code, err = _cli(["train", "--data", str(_file(tmp_path)), "--out", str(out),
                          "--no-progress"], capsys)
    assert code == 2 and "in use by pid" in err and "another --out" in err
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]


@pytest.mark.slow
def test_two_concurrent_runs_on_one_name(tmp_path):
    """Done-when: the second `harness run` on a name refuses at once; the first finishes with
    the same results as the same run alone."""
    data = _file(tmp_path, 16)
    runs = tmp_path / "runs"
    args = ["--models", "vanilla", "--data", str(data), "--runs-dir", str(runs), "--no-progress",
            "--set", "data.heldout_size=4", "--set", "model.max_length=48",
            "--set", "train.batch_size=4", "--set", "eval.suites=preference",
            "--set", "eval.bootstrap=50"]
    env = {"CROME_BENCH_CACHE": str(tmp_path / "cache")}
    alone = _harness("run", "--name", "alone", *args, env=env)
    output, _ = alone.communicate(timeout=900)
    assert alone.returncode == 0, output
    first = _harness("run", "--name", "twice", *args, env=env)
    lock = runs / "twice" / LOCK_FILE
    deadline = time.monotonic() + 300
    while not (lock.exists() and '"held"' in lock.read_text()):
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    began = time.monotonic()
    second = _harness("run", "--name", "twice", *args, env=env)
    refused, _ = second.communicate(timeout=300)
    assert second.returncode == 2 and f"in use by pid {first.pid}" in refused, refused
    assert time.monotonic() - began < 60
    assert first.poll() is None  # still working when the second was refused
    output, _ = first.communicate(timeout=900)
    assert first.returncode == 0, output

    def metrics(name: str) -> list:
        results = json.loads((runs / name / "results.json").read_text())
        return [(e["name"], e["metrics"]["preference"]["accuracy"],
                 e["metrics"]["preference"]["n"]) for e in results["entries"]]

    assert metrics("twice") == metrics("alone")


# -- 4. settings checked before any work ------------------------------------------------------

@pytest.mark.parametrize("extra, message", [
    (["--set", "model.mode=fulll"], "model.mode: 'fulll' is not one of .*did you mean 'full'"),
    (["--set", "model.form=xx"], "model.form: 'xx' is not one of bt, pairpm"),
    (["--eval-model", "foo"], "unknown --eval-model 'foo'"),
    (["--set", "eval.suites=rewardbnch"], "eval.suites: 'rewardbnch' .*did you mean "
                                          "'rewardbench'"),
    (["--models", "foo"], "unknown method 'foo' .*known: crome, rrm, vanilla"),
    (["--models", "vanila"], "did you mean 'vanilla'"),
    (["--set", "train.batch_size=0"], "train.batch_size: 0 must be >= 1"),
    (["--set", "train.lr=nan"], "train.lr: nan is not a finite number"),
    (["--backbone", "minilm-l7"], "unknown backbone 'minilm-l7'; did you mean 'minilm-l6'"),
    (["--set", "crome.oracle=gemni"], "crome.oracle: 'gemni' .*did you mean 'gemini'"),
    (["--set", "data.heldout_size=300"], "held-out size 300 leaves no training pairs"),
    (["--form", "bt,pm"], "--form: 'pm' is not one of bt, pairpm"),
])
def test_run_checks_every_setting_before_any_work(tmp_path, capsys, extra, message):
    """Repro 4: typos failed after the split or training, after the run card was written (so
    the corrected rerun was refused), or were dropped silently. Now: exit 2 at once, no run
    folder, and the corrected command is free to run."""
    import re

    code, err = _cli(["run", "--data", str(_file(tmp_path)), "--name", "typo", "--runs-dir",
                      str(tmp_path / "runs"), "--no-progress", *extra], capsys)
    assert code == 2, err
    _clean_error(err)
    assert re.search(message, err), err
    assert not (tmp_path / "runs").exists()


def test_run_checks_its_evaluation_data_before_training(tmp_path, capsys):
    """A bad RewardBench file failed only after every method was trained."""
    bad, message = _bad_files(tmp_path)["utf16"]
    code, err = _cli(["run", "--data", str(_file(tmp_path)), "--name", "x", "--runs-dir",
                      str(tmp_path / "runs"), "--no-progress", "--set", "data.heldout_size=2",
                      "--set", f"data.rewardbench={bad}"], capsys)
    assert code == 2 and "the file is UTF-16 text" in err, err
    assert not (tmp_path / "runs").exists()


def test_an_unknown_method_lists_the_known_ones_in_a_fresh_process():
    """Repro 4: `--models foo` said "known: " with an empty list (no built-in loaded yet)."""
    code = ("from harness.methods import METHODS\n"
            "try:\n    METHODS.get('foo')\nexcept KeyError as err:\n    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=120, env={**os.environ, **ENV}).stdout
    assert "known: crome, rrm, vanilla" in out, out


@pytest.mark.parametrize("setting, message", [
    ("crome.tie_weight=1", "'crome.tie_weight' was removed: use train.tie_weight"),
    ("train.lrr=1", "unknown config field 'train.lrr'; did you mean 'train.lr'"),
    ("trian.lr=1", "unknown config section 'trian.lr'; did you mean 'train.lr'"),
])
def test_did_you_mean_for_an_unknown_setting(capsys, setting, message):
    code, err = _cli(["config", "show", "--set", setting], capsys)
    assert code == 2 and message in err, err


# -- 5. bad input: one clean error line, exit 2 -----------------------------------------------

def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


RECORD = {"prompt": "What is 2 + 2?", "chosen": "4.", "rejected": "5."}


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    import pandas as pd

    line = json.dumps(RECORD)
    good = "\n".join([line] * 3) + "\n"
    pd.DataFrame([RECORD] * 3).to_parquet(tmp_path / "real.parquet")
    parquet = (tmp_path / "real.parquet").read_bytes()
    surrogate = json.dumps({**RECORD, "chosen": "a\ud800b"})  # JSON escapes it: \ud800
    return {
        "utf16": (_write_bytes(tmp_path / "u16.jsonl", good.encode("utf-16")),
                  r"u16.jsonl:1: the file is UTF-16 text; save it as UTF-8"),
        "latin1": (_write_bytes(tmp_path / "latin.jsonl",
                                (line + "\n").replace("4.", "caf\u00e9").encode("latin-1")),
                   r"latin.jsonl:1: not UTF-8 text at column \d+"),
        "surrogate": (_write_bytes(tmp_path / "sur.jsonl", f"{line}\n{surrogate}\n".encode()),
                      r"sur.jsonl:2: field 'chosen': lone surrogate \(\\ud800\) at character 2"),
        "parquet_as_jsonl": (_write_bytes(tmp_path / "pq.jsonl", parquet),
                             r"pq.jsonl: this is a Parquet file"),
        "corrupt_parquet": (_write_bytes(tmp_path / "bad.parquet", parquet[:40] + b"PAR1"),
                            r"bad.parquet: not a readable Parquet file \(ArrowInvalid"),
        "json_column": (_write_bytes(tmp_path / "col.jsonl",
                                     f'{line}\n{{"prompt": "x" "chosen": 1}}\n'.encode()),
                        r"col.jsonl:2: malformed JSON at column 16"),
    }


@pytest.mark.parametrize("kind", ["utf16", "latin1", "surrogate", "parquet_as_jsonl",
                                  "corrupt_parquet", "json_column"])
def test_bad_files_are_clean_errors_in_data_check_and_every_loader(tmp_path, capsys, kind):
    """Repro 5: UTF-16, non-UTF-8, lone surrogates (passed `data check`, then crashed
    train/eval with UnicodeEncodeError), Parquet named .jsonl, corrupt Parquet: tracebacks.
    Now `data check` fails them and train/eval/augment stop with one error line naming file,
    line (and column), exit 2, leaving no output folder."""
    import re

    path, message = _bad_files(tmp_path)[kind]
    code, out = main(["data", "check", str(path)]), capsys.readouterr().out
    assert code == 1 and re.search(message, out), out
    for argv in (["train", "--data", str(path), "--out", str(tmp_path / "t"), "--no-progress"],
                 ["eval", "--model", "length", "--suite", "preference", "--data", str(path),
                  "--out", str(tmp_path / "e")],
                 ["augment", "--oracle", "rules", "--data", str(path), "--out",
                  str(tmp_path / "a.jsonl"), "--no-progress"]):
        code, err = _cli(argv, capsys)
        assert code == 2, (argv, err)
        _clean_error(err)
        assert re.search(message, err), err
    assert not (tmp_path / "t").exists() and not (tmp_path / "e").exists()
    assert not (tmp_path / "a.jsonl").exists()


def test_rewardbench_file_without_subsets_is_a_clean_error(tmp_path, capsys):
    code, err = _cli(["eval", "--model", "length", "--suite", "rewardbench", "--data",
                      str(_file(tmp_path)), "--out", str(tmp_path / "e")], capsys)
    assert code == 2 and "field 'subset': no pair has a RewardBench subset name" in err, err
    assert not (tmp_path / "e").exists()


def test_corrupt_score_cache_names_the_file(tmp_path, capsys, monkeypatch):
    from harness.scoring.scorer import default_cache_dir

    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    cache = Path(default_cache_dir()) / "scores.sqlite"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(b"this is not a database, " * 100)
    code, err = _cli(["eval", "--model", "minilm-l6", "--suite", "preference", "--data",
                      str(_file(tmp_path)), "--out", str(tmp_path / "e")], capsys)
    assert code == 2 and str(cache) in err and "not a readable score cache" in err, err


@pytest.mark.parametrize("out", ["/proc/crome-bench-test/out", "FILE"])
def test_impossible_output_paths_are_clean_errors(tmp_path, capsys, out):
    """Repro 5: an output path under /proc or on an existing file gave a traceback."""
    if out == "FILE":
        out = str(_file(tmp_path, name="existing.jsonl"))
    else:
        out = "/proc/crome-bench-test/out"  # the error names the part that cannot be made
    code, err = _cli(["eval", "--model", "length", "--suite", "preference", "--data",
                      str(_file(tmp_path)), "--out", out], capsys)
    assert code == 2, err
    _clean_error(err)
    assert out.removesuffix("/out") in err


def test_unexpected_errors_have_no_traceback_unless_debug(tmp_path, capsys, monkeypatch):
    import harness.commands.eval as eval_command

    def boom(*args, **kw):
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setattr("harness.evaluate.evaluate_model", boom)
    argv = ["eval", "--model", "length", "--suite", "preference", "--data",
            str(_file(tmp_path)), "--out", str(tmp_path / "e")]
    assert eval_command is not None
    code, err = _cli(argv, capsys)
    assert code == 1 and "error: RuntimeError: something broke (rerun with --debug" in err
    with pytest.raises(RuntimeError, match="something broke"):
        main([*argv, "--debug"])


# -- 6. smaller things --------------------------------------------------------------------------

def test_reused_eval_out_keeps_no_stale_per_item_files(tmp_path, capsys):
    """Repro 6: a reused `eval --out` kept per-item files of the earlier evaluation."""
    out = tmp_path / "e"
    data = tmp_path / "rb.jsonl"
    write_pairs([PreferencePair(p.prompt, p.chosen, p.rejected, "math-prm", p.id)
                 for p in _pairs(6)], data)
    assert main(["eval", "--model", "length", "--suite", "rewardbench,preference", "--data",
                 str(data), "--out", str(out)]) == 0
    assert (out / "rewardbench_items.jsonl").exists()
    assert main(["eval", "--model", "length", "--suite", "preference", "--data", str(data),
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "preference_items.jsonl"]


def test_chosen_equal_to_rejected_is_warned(tmp_path, capsys):
    path = tmp_path / "same.jsonl"
    path.write_text(json.dumps({**RECORD, "rejected": RECORD["chosen"]}) + "\n"
                    + json.dumps(RECORD) + "\n")
    assert main(["data", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "same.jsonl:1: warning: field 'rejected': identical to chosen" in out
    assert len(load_pairs(str(path))) == 2  # kept, and said once on stderr
    assert "1 warning(s)" in capsys.readouterr().err


def test_output_files_get_the_usual_mode(tmp_path):
    """Repro 6: atomic writes went through mkstemp and left files 0600."""
    old = os.umask(0o022)
    try:
        import importlib

        import harness.io

        importlib.reload(harness.io)
        harness.io.write_json(tmp_path / "x.json", {"a": 1})
        write_pairs(_pairs(2), tmp_path / "p.jsonl")
    finally:
        os.umask(old)
    for name in ("x.json", "p.jsonl"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


def test_training_steps_raise_no_requires_grad_warning(tmp_path):
    """Repro 6: every step printed `UserWarning: Converting a tensor with requires_grad=True to
    a scalar` (the progress bar took float(loss) of the live loss). With the progress bar on,
    a step must not warn."""
    from harness.training.trainer import train_reward_model

    config = Config()
    for key, value in (("model.max_length", 32), ("train.batch_size", 4),
                       ("train.save_every", 100)):
        config.set_value(key, value)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Converting a tensor with requires_grad")
        result = train_reward_model(_pairs(8), config, tmp_path / "m", show_progress=True)
    assert result.steps == 2
