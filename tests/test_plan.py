"""``--plan``: prints what a command would do, in about a second, creating nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO

from harness.cli import main
from harness.training.batches import steps_for


def test_default_run_plan_matches_the_trainer_and_creates_nothing(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["run", "--plan", "--runs-dir", str(runs)]) == 0
    out = capsys.readouterr().out
    assert not runs.exists()
    from harness.data.loaders import load_pairs
    from harness.training.batches import split_heldout

    train, _ = split_heldout(load_pairs("embedded:preferences"), 300, 0)
    steps = steps_for(len(train), 8, 1.0)
    assert f"train vanilla (minilm-l6, frozen, bt): {len(train)} training pairs" in out
    assert f"optimizer steps: {steps} x batch 8" in out
    assert "wildguard_bon on embedded:safety_prompts: 8 prompts x 4 samples = 32" in out


@pytest.mark.parametrize("preset", ["paper", "cpu-reference"])
def test_preset_plans_print_offline_quickly(preset, tmp_path):
    if preset == "cpu-reference" and not (REPO.parent / "shared" / "datasets").exists():
        pytest.skip("cpu-reference reads ../shared/datasets relative to the repository")
    # -X importtime lists every module imported: a plan must not load torch (seconds, GBs)
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "harness", "run",
                             "--preset", preset, "--plan", "--runs-dir", str(tmp_path / "runs")],
                            capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                                 "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "plan (nothing was run)" in result.stdout and not (tmp_path / "runs").exists()
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "harness.plan" in imported and "torch" not in imported
    if preset == "paper":
        assert "crome oracle gemini (Gemini API calls, paid)" in result.stdout
        assert "n up to 64, judge wildguard" in result.stdout and "? = the size" in result.stdout
    else:
        assert "rewardbench on ../shared/datasets/rewardbench" in result.stdout
        assert "2,985 pairs; 5,970 forward passes per bt RM x 5" in result.stdout


def test_plan_for_train_augment_bon_and_not_config_show(tmp_path, capsys):
    assert main(["train", "--method", "rrm", "--plan", "--out", str(tmp_path / "t")]) == 0
    assert "rrm augmentation: up to" in capsys.readouterr().out
    assert main(["augment", "--method", "crome", "--limit", "10", "--plan", "--out",
                 str(tmp_path / "a.jsonl")]) == 0
    assert "augment (crome) 10 pairs" in capsys.readouterr().out
    assert main(["bon", "--suite", "gsm8k_bon", "--models", "length", "--plan", "--out",
                 str(tmp_path / "b")]) == 0
    assert "gsm8k_bon on embedded:math_problems" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())
    with pytest.raises(SystemExit):
        main(["config", "show", "--plan"])


def test_run_plan_marks_the_steps_a_run_folder_has_finished(tmp_path, capsys):
    from harness.config import Config
    from harness.runstore import RunStore

    store = RunStore(tmp_path / "runs" / "mine", Config())
    (store.root / "steps").mkdir(parents=True)
    store.step("train/vanilla", lambda: {"model_dir": "x"})
    store.step("eval/length", lambda: {"model": "length"})
    assert main(["run", "--plan", "--runs-dir", str(tmp_path / "runs"), "--name", "mine"]) == 0
    out = capsys.readouterr().out
    assert "optimizer steps" in out and "train vanilla (" in out
    assert [line for line in out.splitlines() if line.endswith("[done]")] == [
        next(line for line in out.splitlines() if line.startswith("train vanilla"))]
    assert "evaluation already done for: length" in out


def test_eval_plan_counts_a_judge_as_pairpm(tmp_path, capsys):
    assert main(["eval", "--model", "judge:smollm2-135m,length", "--suite", "rewardbench",
                 "--out", str(tmp_path / "o"), "--plan"]) == 0
    out = capsys.readouterr().out
    assert "per pairpm RM x 1 (judge:smollm2-135m)" in out and "per bt RM x 1 (length)" in out


def test_eval_plan_counts_dpo_and_gemini_costs(tmp_path, capsys):
    """A DPO reward reads each text with the policy and the reference (4 passes per pair), a
    reference-free one with the policy (2, as a classifier), a Gemini judge makes API calls (2
    orders per pair)."""
    assert main(["eval", "--model", "dpo:smollm2-135m@smollm2-135m,dpo-mean:smollm2-135m,"
                 "gemini:gemini-2.0-flash,length", "--suite", "rewardbench",
                 "--data", "embedded:rewardbench", "--out", str(tmp_path / "o"), "--plan"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "rewardbench on" in line]
    pairs = int(lines[0].split(": ", 1)[1].split()[0])
    assert lines == [
        f"  rewardbench on embedded:rewardbench: {pairs} pairs; {4 * pairs} forward passes per "
        "bt RM x 1 (dpo:smollm2-135m@smollm2-135m)",
        f"  rewardbench on embedded:rewardbench: {pairs} pairs; {2 * pairs} forward passes per "
        "bt RM x 2 (dpo-mean:smollm2-135m, length)",
        f"  rewardbench on embedded:rewardbench: {pairs} pairs; {2 * pairs} API calls per "
        "pairpm RM x 1 (gemini:gemini-2.0-flash)"]


@pytest.mark.parametrize("argv", [
    ["run", "--set", "eval.suites=rewardbnch"],
    ["train", "--method", "fooo", "--out", "o"],
    ["train", "--mode", "fulll", "--out", "o"],
    ["eval", "--model", "dpo:smollm2-135m", "--out", "o"],
    ["eval", "--model", "length", "--transforms", "rot13", "--out", "o"],
    ["eval", "--model", "length", "--suite", "reword", "--transforms", "rot31", "--out", "o"],
    ["bon", "--models", "dpo:smollm2-135m", "--out", "o"],
    ["augment", "--oracle", "bogus", "--out", "o"],
])
def test_a_plan_runs_the_commands_checks_first(argv, tmp_path, capsys, monkeypatch):
    """--plan refuses what the command would refuse (exit 2, nothing printed as a plan)."""
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--plan"]) == 2
    captured = capsys.readouterr()
    assert "plan (nothing was run)" not in captured.out and "error" in captured.err
    assert not (tmp_path / "o").exists()
