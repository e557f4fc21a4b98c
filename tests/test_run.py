"""``harness run`` end to end in miniature: three methods trained on 24 pairs with a learnable cue,
every RM evaluated, a leaderboard published; killed with SIGKILL during training and during
evaluation, a rerun of the same command finishes with the metrics of an uninterrupted run; and
best-of-N inside ``run_all`` with a fake policy (no generation), attached to every entry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bon_fakes import FakePolicy
from conftest import REPO

from harness.config import Config
from harness.data.loaders import write_pairs
from harness.data.schema import PreferencePair
from harness.io import slug

TINY = ["model.max_length=64", "train.batch_size=4", "train.lr=1e-4", "train.warmup_ratio=0",
        "train.save_every=2", "data.heldout_size=8", "data.limit=16",
        "eval.transforms=add_quotes,char_deletion", "eval.bootstrap=200",
        "eval.suites=preference,rewardbench,reword,diagnostics",  # no best-of-N: no sampling
        "train.budget=steps"]  # compute-matched: every method takes vanilla's steps
METHODS = ("vanilla", "rrm", "crome")


def _pairs(n: int) -> list[PreferencePair]:
    """A cue a small RM can learn quickly: the chosen answer says 'correct'."""
    return [PreferencePair(f"Question number {i}?", f"A correct answer {i}.",
                           f"A wrong answer {i}.", None, str(i)) for i in range(n)]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("run")
    write_pairs(_pairs(24), root / "pairs.jsonl")
    return {"root": root, "data": root / "pairs.jsonl", "cache": root / "cache"}


def _run(world: dict[str, Path], runs: Path, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "harness", "run", "--models", ",".join(METHODS),
           "--data", str(world["data"]), "--name", "mini", "--runs-dir", str(runs),
           "--no-progress", *sum((["--set", s] for s in TINY), [])]
    # one torch thread unless told otherwise: on a busy 2-core machine two threads wait on
    # each other and run several times slower
    env = {"OMP_NUM_THREADS": "1", **os.environ, "CROME_BENCH_CACHE": str(world["cache"])}
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)


def _finish(proc: subprocess.Popen) -> str:
    output, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, output
    return output


@pytest.fixture(scope="module")
def straight(world) -> Path:
    """The uninterrupted miniature run."""
    runs = world["root"] / "straight"
    output = _finish(_run(world, runs))
    (runs / "mini" / "stdout.txt").write_text(output)
    return runs / "mini"


def _headline(results: dict) -> dict[str, tuple]:
    """Per entry: RewardBench section scores and average, held-out preference accuracy."""
    out = {}
    for e in results["entries"]:
        rb, pref = e["metrics"]["rewardbench"], e["metrics"]["preference"]
        out[e["name"]] = (rb["average"]["accuracy"] if isinstance(rb["average"], dict)
                          else rb["average"],
                          json.dumps(rb["sections"], sort_keys=True), pref["accuracy"], pref["n"])
    return out


def test_miniature_run_trains_evaluates_and_publishes(straight):
    results = json.loads((straight / "results.json").read_text())
    names = [e["name"] for e in results["entries"]]
    assert names == [*METHODS, "length", "untrained minilm-l6"]
    trained = [e for e in results["entries"] if e["kind"] == "trained"]
    assert {e["config_hash"] for e in trained} == {results["config_hash"]}
    for e in results["entries"]:
        assert {"preference", "rewardbench", "reword", "diagnostics"} <= set(e["metrics"])
        assert "bon" not in e["metrics"]
        assert set(e["metrics"]["reword"]["transforms"]) == {"add_quotes", "char_deletion"}
    # the cue is learnable: the trained RMs beat chance on their held-out pairs
    assert all(e["metrics"]["preference"]["accuracy"] >= 0.75 for e in trained)
    steps = sorted(p.name for p in (straight / "steps").iterdir())
    assert steps == sorted([f"train__{m}.json" for m in METHODS]
                           + [f"eval__{slug(n)}.json" for n in names])
    board = (straight / "leaderboard" / "README.md").read_text()
    rb = board.split("## RewardBench")[1].split("\n## ")[0]
    header = next(line for line in rb.splitlines() if line.startswith("| RM "))
    assert [c.strip() for c in header.split("|")[1:4]] == ["RM", "method", "form"]
    for method in METHODS:
        assert any(line.startswith(f"| {method} ") and "| bt " in line
                   for line in rb.splitlines()), method
    assert f"bt: all trained RMs (vanilla, rrm, crome) share one config, hash " \
           f"`{results['config_hash']}`" in board
    assert "## Best-of-N" not in board and (straight / "leaderboard" / "reword_drops.png").exists()


def test_steps_budget_gives_every_method_vanillas_steps_and_the_board_shows_it(straight):
    results = json.loads((straight / "results.json").read_text())
    trained = {e["name"]: e["training"] for e in results["entries"] if e["kind"] == "trained"}
    # 24 pairs - 8 held out = 16 originals, batch 4, 1 epoch: 4 steps for every method
    assert {t["steps"] for t in trained.values()} == {4}
    assert {t["original"] for t in trained.values()} == {16}
    assert trained["vanilla"]["augmented_kept"] == {}
    assert sum(trained["rrm"]["augmented_kept"].values()) > 0
    assert trained["crome"]["pairs"] > trained["vanilla"]["pairs"]
    assert all(t["budget"] == "steps" and t["tokens"] > 0 for t in trained.values())
    card = json.loads((straight / "run_card.json").read_text())
    assert card["training"] == trained
    logs = {m: (straight / "train" / m / "train_log.jsonl").read_text().splitlines()
            for m in METHODS}
    assert {len(rows) for rows in logs.values()} == {4}
    board = (straight / "leaderboard" / "README.md").read_text()
    training = board.split("## Training")[1].split("\n## ")[0]
    assert "every trained RM took 4 optimizer steps" in training
    for name, t in trained.items():
        row = next(line for line in training.splitlines() if line.startswith(f"| {name}"))
        assert f"| {t['tokens']:,} " in row and "| 4 x 4 " in row and "| 16" in row
        # 4 steps reach less than one epoch of every method's pairs: each pair at most once
        pairs = sum(json.loads(r)["pairs"] for r in logs[name])
        assert t["seen_original"] + (t["seen_augmented"] or 0) == pairs
    assert trained["vanilla"]["seen_original"] == 16
    assert trained["rrm"]["seen_original"] < 16 and "seen)" in training
    # the approximate oracle is marked in the run's printed summary and on the board
    output = (straight / "stdout.txt").read_text()
    assert "| crome † " in output and "† approximate: crome oracle 'rules'" in output
    assert "| crome † " in board


def _eval(*args: str) -> tuple[int, str]:
    import contextlib
    import io

    from harness.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["eval", *args])
    return code, out.getvalue() + err.getvalue()


def test_eval_takes_a_train_folder_and_the_data_it_is_given(straight, world, tmp_path):
    crome = straight / "train" / "crome"
    code, output = _eval("--model", str(crome), "--suite", "preference", "--data",
                         f"preference={world['data']}", "--out", str(tmp_path / "e"))
    assert code == 0, output
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())
    # the file named, all 24 pairs, not the checkpoint's 8 held-out ones
    assert metrics["preference"]["data"] == str(world["data"]) and metrics["preference"]["n"] == 24
    assert metrics["method"] == "crome" and metrics["approximate"]
    assert "| crome † " in output and "† approximate: " in output and str(crome) not in output
    # without --data, the checkpoint's own held-out split
    code, output = _eval("--model", str(crome), "--suite", "preference", "--out",
                         str(tmp_path / "h"))
    metrics = json.loads((tmp_path / "h" / "metrics.json").read_text())
    assert code == 0 and metrics["preference"]["data"] == str(crome / "heldout.jsonl")


@pytest.mark.parametrize("args, message", [
    (["--suite", "preference", "--transforms", "add_quotes"], "reword suite only"),
    (["--suite", "preference", "--data", "rewardbench=x.jsonl"], "was not requested"),
    (["--suite", "preference", "--data", "a.jsonl", "--data", "b.jsonl"], "more than one"),
    (["--suite", "rewardbnch"], "did you mean 'rewardbench'"),
    (["--suite", "preference", "--data", "preference="], "no source after '='"),
])
def test_eval_refuses_flags_no_requested_suite_reads(tmp_path, args, message):
    code, output = _eval("--model", "length", *args, "--out", str(tmp_path / "x"))
    assert code == 2 and message in output
    assert not (tmp_path / "x").exists()


def test_eval_tells_two_checkpoints_of_one_method_apart(straight, world, tmp_path):
    import shutil

    other = tmp_path / "steps-run" / "crome"
    shutil.copytree(straight / "train" / "crome", other)
    code, output = _eval("--model", f"{straight / 'train' / 'crome'},{other}", "--suite",
                         "preference", "--data", str(world["data"]), "--out", str(tmp_path / "e"))
    assert code == 0, output
    summary = output.split("Paired comparisons")[0]
    assert "| crome (steps-run/crome) † " in summary and "| crome (mini/train/crome) † " not in \
        summary and "| crome (train/crome) † " in summary, output


def test_eval_names_what_a_folder_without_a_model_should_hold(straight, tmp_path):
    code, output = _eval("--model", str(straight / "train"), "--out", str(tmp_path / "x"))
    assert code == 2 and "no model in this folder" in output and "harness train --out" in output


def _wait_for(proc: subprocess.Popen, ready, what: str, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, f"the run ended before {what}: {proc.communicate()[0]}"
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _kill(proc: subprocess.Popen) -> str:
    os.killpg(proc.pid, signal.SIGKILL)
    return proc.communicate()[0]


def test_kill_during_training_and_evaluation_then_rerun_matches(world, straight):
    runs = world["root"] / "killed"
    run = runs / "mini"
    # 1. during training, once a method has saved a checkpoint (every 2 steps here)
    proc = _run(world, runs)
    _wait_for(proc, lambda: any(run.glob("train/*/checkpoint/trainer_state.json")),
              "a training checkpoint")
    _kill(proc)
    assert not all((run / "steps" / f"train__{m}.json").exists() for m in METHODS)
    # 2. the rerun resumes that training; kill it once evaluation has started
    proc = _run(world, runs)
    _wait_for(proc, lambda: all((run / "steps" / f"train__{m}.json").exists() for m in METHODS)
              and (run / "eval").is_dir() and any((run / "eval").iterdir()), "evaluation")
    assert "resuming from step" in _kill(proc)
    assert not (run / "results.json").exists()
    # 3. the same command again finishes the run
    _finish(_run(world, runs))
    expected = json.loads((straight / "results.json").read_text())
    got = json.loads((run / "results.json").read_text())
    assert got["config_hash"] == expected["config_hash"]
    assert _headline(got) == _headline(expected)


@pytest.fixture
def bon_world(world, tmp_path, monkeypatch):
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    config = Config()
    for item in TINY + [f"data.train={world['data']}",
                        "eval.suites=preference,wildguard_bon,gsm8k_bon",
                        "bon.n_max=4", "bon.limit=8", "bon.max_new_tokens=16"]:
        config.set(item)
    return config


def test_run_all_runs_best_of_n_and_publishes_it(bon_world, tmp_path):
    from harness.bon.gsm8k import gsm8k_prompt
    from harness.bon.runner import load_prompts
    from harness.bon.suites import get_suite
    from harness.run import publish_run, run_all
    from harness.runstore import RunStore
    from leaderboards.publish import read_results

    config = bon_world
    policy = FakePolicy()
    for item in load_prompts(get_suite("gsm8k_bon"), config.data.gsm8k):
        policy.answers[gsm8k_prompt(item.prompt)] = item.reference
    loaders = {"policy_loader": lambda: policy}
    store = RunStore(tmp_path / "runs" / "bon", config)
    store.open(["run", "--models", "vanilla"])
    results = run_all(config, ["vanilla"], store, show_progress=False, bon_loaders=loaders)
    assert policy.rows == 2 * 8 * 4  # two suites, 8 prompts, 4 samples, generated once

    entries = {e["name"]: e for e in results["entries"]}
    assert list(entries) == ["vanilla", "length", "untrained minilm-l6"]
    metrics = json.loads((store.path("bon", "metrics.json")).read_text())
    model_dir = store.done("train/vanilla")["model_dir"]
    suites = metrics["suites"]
    assert list(suites["wildguard_bon"]["models"]) == [model_dir, "length", "minilm-l6"]
    for name, model in (("vanilla", model_dir), ("length", "length"),
                        ("untrained minilm-l6", "minilm-l6")):
        bon = entries[name]["metrics"]["bon"]  # the same shape, narrowed to this RM
        assert list(bon["rms"]) == [model] and bon["ns"] == [1, 2, 4]
        assert bon["settings"] == metrics["settings"] and bon["settings"]["n_max"] == 4
        for suite in ("wildguard_bon", "gsm8k_bon"):
            assert bon["suites"][suite] == {"info": suites[suite]["info"],
                                            "models": {model: suites[suite]["models"][model]}}
        assert bon["suites"]["wildguard_bon"]["info"]["judge_label"] == "refusal by keywords"
        assert entries[name]["metrics"]["preference"]["n"] == 8
    card = store.card()
    assert card["judge"]["label"] == "refusal by keywords"
    assert any("refusal by keywords" in note for note in card["approximate"])
    on_disk = json.loads(store.path("results.json").read_text())
    assert on_disk["entries"][0]["metrics"]["bon"] == entries["vanilla"]["metrics"]["bon"]

    board_path = publish_run(store)
    board = board_path.read_text()
    assert "## Best-of-N" in board and "### WildGuardTest (safety)" in board
    assert "Judge: **refusal by keywords**" in board and "### GSM8K (math)" in board
    safety = board.split("### WildGuardTest")[1].split("### GSM8K")[0]
    header = next(line for line in safety.splitlines() if line.startswith("| RM "))
    assert [c.strip() for c in header.split("|")[1:-1]] == ["RM", "form", "metric", "n=1",
                                                           "n=2", "n=4"]
    length_asr = suites["wildguard_bon"]["models"]["length"]["4"]["asr"]
    row = next(line for line in safety.splitlines()
               if line.startswith("| length ") and "ASR, harmful prompts" in line)
    assert (f"{100 * length_asr['value']:.1f} ({length_asr['count']}/{length_asr['total']})"
            in row.split("|")[-2])
    math = board.split("### GSM8K")[1]
    assert "majority vote (no RM)" in math and "pass@n (any correct)" in math
    for png in ("bon_wildguard_bon_asr.png", "bon_wildguard_bon_refusal_benign.png",
                "bon_gsm8k_bon_rm_acc.png"):
        assert f"]({png})" in board
        assert (board_path.parent / png).read_bytes()[:4] == b"\x89PNG"
    assert read_results([store.root])[0][0]["metrics"]["bon"]["suites"]["wildguard_bon"]

    # a rerun resumes: every step is done, the policy is not called again, same results
    again = run_all(config, ["vanilla"], store, show_progress=False,
                    bon_loaders={"policy_loader": lambda: pytest.fail("policy loaded")})
    assert again["entries"] == results["entries"]


def test_leaderboard_without_best_of_n_has_no_bon_section(tmp_path):
    from leaderboards.bon import bon_plots, bon_section

    entries = [{"name": "a", "metrics": {"rewardbench": {"average": 0.5}}}]
    assert bon_section(entries, {}) == [] and bon_plots(entries, tmp_path) == {}
    assert not list(tmp_path.iterdir())


def test_settings_line_names_one_hash_per_form():
    from leaderboards.render import settings_line

    entries = [{"name": n, "kind": "trained", "form": f, "config_hash": h}
               for n, f, h in (("vanilla", "bt", "aaa"), ("rrm", "bt", "aaa"),
                               ("vanilla:pairpm", "pairpm", "bbb"),
                               ("rrm:pairpm", "pairpm", "bbb"))]
    entries.append({"name": "length", "kind": "reference", "form": "bt"})
    line = settings_line(entries)
    assert "bt: all trained RMs (vanilla, rrm) share one config, hash `aaa`" in line
    assert "pairpm: all trained RMs (vanilla:pairpm, rrm:pairpm) share one config, hash " \
           "`bbb`" in line
    entries[1]["config_hash"] = "ccc"
    assert "bt: config hashes differ, `aaa` (vanilla); `ccc` (rrm)" in settings_line(entries)


def test_bon_job_follows_the_config():
    from harness.bon.policies import GenParams
    from harness.bon.runner import BonJob

    config = Config()
    for item in ("bon.n_max=6", "bon.limit=0", "bon.temperature=0.5", "bon.top_p=0.9",
                 "data.gsm8k=math.jsonl", "model.max_length=96", "seed=3", "model.form=pairpm",
                 "eval.suites=preference,gsm8k_bon", "eval.dpo_ref=ref-lm"):
        config.set(item)
    job = BonJob.of_run(config, ["length", "length", "minilm-l6"])
    assert [s.name for s in job.suites] == ["gsm8k_bon"] and job.models == ("length", "minilm-l6")
    assert job.limit is None and job.params == GenParams(0.5, 0.9, 96)
    record = job.record()
    assert record["data"] == {"gsm8k_bon": "math.jsonl"} and record["seed"] == 3
    assert record["rm"]["max_length"] == 96 and record["rm"]["form"] == "pairpm"
    assert record["rm"]["dpo_ref"] == "ref-lm" and record["policy"] == config.bon.policy
    before = job.key()
    config.set("bon.batch_size=4")  # every knob is in the config, so in the key
    assert BonJob.of_run(config, ["length", "minilm-l6"]).key() != before
    config.set("eval.suites=preference")
    assert BonJob.of_run(config, ["length"]) is None


def test_miniature_pairpm_run(world, tmp_path):
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "harness", "run", "--models", "vanilla,rrm", "--form", "pairpm",
           "--data", str(world["data"]), "--name", "pm", "--runs-dir", str(runs),
           "--no-progress", *sum((["--set", s] for s in TINY), []),
           "--set", "eval.suites=preference,rewardbench"]
    env = {"OMP_NUM_THREADS": "1", **os.environ, "CROME_BENCH_CACHE": str(world["cache"])}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((runs / "pm" / "results.json").read_text())
    trained = {e["name"]: e for e in results["entries"] if e["kind"] == "trained"}
    assert set(trained) == {"vanilla:pairpm", "rrm:pairpm"}
    for entry in trained.values():
        assert entry["form"] == "pairpm" and entry["metrics"]["form"] == "pairpm"
        for suite in ("preference", "rewardbench"):
            assert 0.0 <= entry["metrics"][suite]["positional_consistency"]["accuracy"] <= 1.0
    assert (runs / "pm" / "train" / "rrm-pairpm" / "model").is_dir()
    board = (runs / "pm" / "leaderboard" / "README.md").read_text()
    assert "positional consistency" in board and "| vanilla:pairpm " in board
    assert "rewardbench positional consistency" in done.stdout


def test_gsm8k_reference_lines_follow_each_sample_pool(tmp_path, monkeypatch):
    """Majority vote and pass@n appear once when RMs shared the samples, once per pool when
    they did not, in the table and in the plots alike."""
    from harness.bon.report import reference_lines, suite_table
    from harness.bon.suites import get_suite
    from leaderboards.bon import board_rows, bon_plots

    def entry(name: str, maj: float) -> dict:
        rate = {"value": maj, "count": int(8 * maj), "total": 8}
        curves = {"1": {"rm_acc": rate, "maj_acc": rate, "pass_at_n": rate}}
        return {"name": name, "form": "bt", "metrics": {"bon": {
            "settings": {}, "ns": [1], "rms": {name: {}}, "suites": {"gsm8k_bon": {
                "info": {"filter": "flexible-extract", "prompts": 8},
                "models": {name: curves}}}}}}

    suite = get_suite("gsm8k_bon")
    shared = board_rows([entry("a", 0.5), entry("b", 0.5)])["gsm8k_bon"]
    assert list(reference_lines(suite, shared)) == ["majority vote (no RM)",
                                                    "pass@n (any correct)"]
    apart = [entry("a", 0.5), entry("b", 0.25)]
    lines = reference_lines(suite, board_rows(apart)["gsm8k_bon"])
    assert lines["majority vote (no RM), pool 2"]["1"]["value"] == 0.25
    table = suite_table(suite, board_rows(apart)["gsm8k_bon"])
    assert "| majority vote (no RM), pool 2 | 25.0 (2/8)" in table
    drawn = {}
    monkeypatch.setattr("harness.bon.plots.curve_plot",
                        lambda curves, metric, path, **kw: drawn.update(kw["references"]))
    bon_plots(apart, tmp_path)
    assert drawn == lines


def test_train_output_marks_an_approximate_oracle(straight, world, tmp_path):
    """``harness train`` on a finished folder reuses the model and still says what was
    approximate (read from method.json)."""
    import contextlib
    import io
    import shutil

    from harness.cli import main

    folder = tmp_path / "crome"
    shutil.copytree(straight / "train" / "crome", folder)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["train", "--method", "crome", "--data", str(world["data"]),
                     "--out", str(folder), "--no-progress",
                     "--filter-model", str(straight / "train" / "vanilla" / "model"),
                     *sum((["--set", s] for s in TINY), [])])
    text = out.getvalue()
    assert code == 0 and text.startswith("crome †: ") and "† approximate: " in text
    assert "4 steps (steps budget)" in text
