"""Presets: every shipped file is a valid config; demo is the defaults, cpu-reference is the
reference run's command, paper holds what the paper states; load order and the flag."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
import tomllib
from conftest import REPO, shared_file

from harness.commands.config import add_config_args, config_from_args
from harness.config import Config, ConfigError, to_toml
from harness.presets import PRESETS_DIR, preset_names


def test_the_three_presets_are_shipped():
    assert {"demo", "cpu-reference", "paper"} <= set(preset_names())
    assert '"presets/*.toml"' in (REPO / "pyproject.toml").read_text()  # package data


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_is_a_valid_config_that_round_trips(name):
    config = Config.load(preset=name)  # unknown fields and wrong types raise ConfigError
    raw = tomllib.loads((PRESETS_DIR / f"{name}.toml").read_text())
    data = config.to_dict()
    for section, values in raw.items():
        if isinstance(values, dict):
            for key, value in values.items():
                assert data[section][key] == value, f"{name}: {section}.{key}"
    again = Config.from_dict(tomllib.loads(to_toml(config)))
    assert again.hash() == config.hash()


def test_demo_is_the_default_run():
    assert Config.load(preset="demo").to_dict() == Config().to_dict()


def test_cpu_reference_is_the_reference_run():
    """The settings benchmarks.reference_run passes as flags, read back into a config."""
    shared_file("rewardbench")
    from benchmarks.reference_run import ALL_SUITES, command

    args = argparse.Namespace(name="reference", runs_dir="runs", form="bt", mode="full",
                              budget="steps", reword_limit=100, max_pairs=400, bon_limit=12,
                              n_max=4, suites=ALL_SUITES)
    argv = command(args)
    flags = dict(zip(argv, argv[1:], strict=False))
    expected = Config()
    expected.set_value("data.train", flags["--data"])
    expected.set_value("model.mode", flags["--mode"])
    expected.set_value("model.form", flags["--form"])
    for i, arg in enumerate(argv):
        if arg == "--set":
            expected.set(argv[i + 1])
    preset = Config.load(preset="cpu-reference").to_dict()
    assert preset["data"]["train"].startswith("../shared/datasets/")  # from the repository root
    wanted = expected.to_dict()
    for key in ("train", "rewardbench", "wildguard", "gsm8k"):  # the same shared files, written
        for data in (preset["data"], wanted["data"]):           # relative to where each lives
            data[key] = data[key].split("shared/datasets/")[-1]
    assert preset == wanted


def test_paper_preset_holds_what_the_paper_states():
    config = Config.load(preset="paper")
    assert (config.crome.oracle, config.crome.oracle_model) == ("gemini", "gemini-2.0-flash")
    assert config.train.tie_weight == 1.0 and config.train.budget == "epochs"
    assert (config.rrm.borrowed_per_pair, config.rrm.tie_ratio) == (8, 6.0)  # RRM's 14
    assert config.eval.reword_limit is None and config.eval.transforms == []
    assert config.data.limit is None and config.bon.limit == 0
    assert config.bon.judge == "wildguard" and "rmbench" in config.eval.suites
    sources = [config.data.train, config.data.rewardbench, config.data.rmbench,
               config.data.wildguard, config.data.gsm8k]
    assert not any(s.startswith(("embedded:", ".", "/")) for s in sources)  # all from the Hub


def test_load_order_preset_then_file_then_set(tmp_path):
    parser = argparse.ArgumentParser()
    add_config_args(parser)
    override = tmp_path / "mine.toml"
    override.write_text("[bon]\nn_max = 2\n\n[train]\nlr = 1e-4\n")
    args = parser.parse_args(["--preset", "cpu-reference", "--config", str(override),
                              "--set", "train.lr=3e-5"])
    config = config_from_args(args)
    assert config.bon.n_max == 2 and config.train.lr == 3e-5
    assert config.bon.limit == 12 and config.model.mode == "full"  # the preset's, kept
    with pytest.raises(ConfigError, match="unknown preset 'nope' .*known: cpu-reference"):
        config_from_args(parser.parse_args(["--preset", "nope"]))


def test_preset_flag_on_the_command_line():
    result = subprocess.run([sys.executable, "-m", "harness", "config", "show", "--preset",
                             "paper", "--set", "bon.n_max=8"], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'oracle = "gemini"' in result.stdout and "n_max = 8" in result.stdout
