"""Config round trip, overrides and hash; the registry's errors; seeded RNGs."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
import tomllib
from conftest import REPO

from harness.config import Config, ConfigError, to_toml
from harness.registry import Registry, RegistryError
from harness.seeding import derive_seed, rng_for


def test_toml_round_trip_and_hash(tmp_path):
    config = Config()
    config.set("train.lr=1e-4")
    config.set("eval.suites=rewardbench,reword")
    config.set("rrm.filter_threshold=none")
    config.set("data.limit=50")
    assert config.train.lr == 1e-4 and config.eval.suites == ["rewardbench", "reword"]
    assert config.rrm.filter_threshold is None and config.data.limit == 50
    path = tmp_path / "c.toml"
    path.write_text(to_toml(config))
    loaded = Config.load(path)
    assert loaded == config and loaded.hash() == config.hash()
    assert Config().hash() != config.hash()
    assert Config.from_dict(tomllib.loads(to_toml(Config()))).hash() == Config().hash()


def test_overrides_win_over_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("seed = 3\n[train]\nlr = 1\nepochs = 2\n")
    config = Config.load(path, ["train.epochs=3"])
    assert config.seed == 3 and config.train.lr == 1.0 and config.train.epochs == 3.0


@pytest.mark.parametrize(
    "override,message",
    [
        ("train.nope=1", "unknown config field 'train.nope'"),
        ("nope.lr=1", "unknown config section"),
        ("train.batch_size=big", "expected int"),
        ("train.lr", "expected KEY=VALUE"),
        ("eval.precision=bf-16", "eval.precision: 'bf-16' is not one of auto, fp32, bf16"),
        ("train.precision=fp16", "train.precision: 'fp16' is not one of"),
    ],
)
def test_bad_overrides(override, message):
    with pytest.raises(ConfigError, match=message):
        Config().set(override)


def test_bad_config_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[train]\nlearning_rate = 1\n")
    with pytest.raises(ConfigError, match="train.learning_rate"):
        Config.load(path)
    with pytest.raises(ConfigError, match="no such config file"):
        Config.load(tmp_path / "missing.toml")


def test_registry_collisions_and_suggestions():
    registry: Registry[int] = Registry("widget")
    registry.add("rot13", 1)
    registry.register("rot2")(2)
    with pytest.raises(RegistryError, match="already registered"):
        registry.add("rot13", 3)
    with pytest.raises(RegistryError, match="did you mean 'rot13'"):
        registry.get("rot_13")
    assert registry.names() == ["rot13", "rot2"] and "rot2" in registry


def test_seeded_rng_is_stable_and_leaves_global_state_alone():
    state = random.getstate()
    a = [rng_for(1, "x", "item-1").random() for _ in range(2)]
    assert a[0] == a[1] == rng_for(1, "x", "item-1").random()
    assert rng_for(1, "x", "item-2").random() != a[0]
    assert random.getstate() == state
    # Stable across processes (Python's hash() is salted per process; ours must not be).
    code = "from harness.seeding import derive_seed; print(derive_seed(1, 'x', 'item-1'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert int(out.stdout) == derive_seed(1, "x", "item-1")


def test_cli_help_and_config_show():
    out = subprocess.run(
        [sys.executable, "-m", "harness", "--help"], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0 and "data" in out.stdout and "models" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "harness", "config", "show", "--set", "train.lr=3e-5"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert out.returncode == 0 and "lr = 3e-05" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "harness", "config", "show", "--set", "train.lr=abc"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert bad.returncode == 2 and "train.lr" in bad.stderr


def test_training_hash_ignores_evaluation_settings():
    config = Config()
    changed = Config.from_dict(config.to_dict())
    changed.set("eval.reword_limit=50")
    changed.set("bon.n_max=2")
    assert changed.hash() != config.hash() and changed.training_hash() == config.training_hash()
    changed.set("train.lr=1e-3")
    assert changed.training_hash() != config.training_hash()


def test_operational_settings_are_left_out_of_the_hash_and_the_conflict_check(tmp_path):
    """A run stopped by its call budget resumes with a larger one: how calls are made and where
    layers sit do not make another run; what is computed does."""
    from harness.config import OPERATIONAL, field_keys
    from harness.runstore import RunStore

    assert set(OPERATIONAL) <= set(field_keys())
    base = Config()
    store = RunStore(tmp_path / "run", base)
    store.open(["run"])
    for key, value in (("eval.gemini_max_calls", "50"), ("crome.timeout_s", "120"),
                       ("eval.device_map", "auto")):
        changed = Config()
        changed.set(f"{key}={value}")
        assert changed.hash() == base.hash(), key
        assert RunStore(tmp_path / "run", changed).conflict() == [], key
    numeric = Config()
    numeric.set("eval.precision=bf16")
    assert numeric.hash() != base.hash()
    assert RunStore(tmp_path / "run", numeric).conflict() == [
        "setting eval.precision: 'auto' then, 'bf16' now"]
