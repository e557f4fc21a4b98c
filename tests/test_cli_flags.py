"""Command-line flags are generated from config fields (``add_field_flags``), so a flag means
one config key on every command that has it, and equals ``--set KEY=VALUE``."""

from __future__ import annotations

import argparse

import pytest

from harness.cli import build_parser
from harness.commands.config import FLAGS_ATTR, config_from_args

COMMANDS = ("train", "run", "eval", "bon", "augment")
REQUIRED = {"train": ["--out", "o"], "eval": ["--model", "length", "--out", "o"], "run": [],
            "bon": ["--models", "length", "--out", "o"], "augment": ["--out", "o"]}


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: action.choices[name] for name in COMMANDS}


def flag_keys(parser: argparse.ArgumentParser) -> dict[str, str]:
    """flag -> config key, for the flags made from config fields."""
    dests = parser.get_default(FLAGS_ATTR) or {}
    return {a.option_strings[0]: dests[a.dest] for a in parser._actions if a.dest in dests}


def test_a_flag_means_one_key_on_every_command():
    seen: dict[str, tuple[str, str]] = {}
    for command, parser in subparsers().items():
        for flag, key in flag_keys(parser).items():
            if flag in seen:
                assert seen[flag][1] == key, (flag, seen[flag], (command, key))
            seen[flag] = (command, key)
    # The settings every training and evaluation command shares are fields, not tables.
    for command in ("train", "run"):
        assert {"--data", "--backbone", "--mode", "--seed"} <= set(flag_keys(subparsers()[command]))
    assert {"--seed", "--ref", "--max-length", "--precision", "--transforms",
            "--trust-remote-code"} <= set(flag_keys(subparsers()["eval"]))


def sample_value(key: str) -> str:
    """A valid value other than the default, from the field's type."""
    import typing

    from harness.commands.config import _owner

    hint = typing.get_type_hints(_owner(key))[key.rpartition(".")[2]]
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)[-1]
    text = str(hint)
    if hint is bool:
        return "true"
    if text.startswith("list"):
        return "rot13"
    if "int" in text or "float" in text:
        return "7"
    return "some-name"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_field_flag_equals_set(command):
    parser = build_parser()
    for flag, key in flag_keys(subparsers()[command]).items():
        value = sample_value(key)
        by_flag = config_from_args(parser.parse_args([command, *REQUIRED[command], flag, value]))
        by_set = config_from_args(parser.parse_args([command, *REQUIRED[command], "--set",
                                                     f"{key}={value}"]))
        assert by_flag.get_value(key) == by_set.get_value(key), (command, flag)
        assert by_flag.to_dict() == by_set.to_dict(), (command, flag)
        # The flag really set something (the value differs from the default).
        assert by_flag.to_dict() != config_from_args(
            parser.parse_args([command, *REQUIRED[command]])).to_dict(), (command, flag)


def test_a_bool_flag_alone_means_true():
    parser = build_parser()
    args = parser.parse_args(["eval", "--model", "length", "--out", "o", "--trust-remote-code"])
    assert config_from_args(args).eval.trust_remote_code is True
    args = parser.parse_args(["eval", "--model", "length", "--out", "o"])
    assert config_from_args(args).eval.trust_remote_code is False


def test_form_is_checked_when_the_config_is_built():
    from harness.config import Config, ConfigError

    with pytest.raises(ConfigError, match="model.form"):
        Config().set_value("model.form", "pairwise")


def test_augment_keeps_model_as_the_oracle_models_old_flag():
    parser = build_parser()
    old = config_from_args(parser.parse_args(["augment", "--out", "o", "--model", "m1"]))
    new = config_from_args(parser.parse_args(["augment", "--out", "o", "--oracle-model", "m1"]))
    assert old.crome.oracle_model == new.crome.oracle_model == "m1"
