"""The config on the command line: the shared flags (``--preset``, ``--config``, ``--set``),
flags generated from config fields, and ``harness config show`` (the effective config and its
hash).

A command that exposes a config field as its own flag calls ``add_field_flags``: the flag's
name, type, choices and help come from the field (``bon.n_max`` -> ``--n-max``, its
``metadata["help"]``, a ``Literal``'s values), as ``HfArgumentParser`` does, so the flag and
``--set bon.n_max=...`` are one setting and a new field needs no flag table. ``config_from_args``
applies the flags given, after ``--set``.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Iterable

from harness.config import Config, ConfigError, to_toml

FLAGS_ATTR = "config_flags"  # argparse dest of the {dest: config key} map add_field_flags makes


def add_config_args(parser: argparse.ArgumentParser, plan: bool = True) -> None:
    """The config flags every command that runs work shares (and ``--plan``, which prints
    that work instead of doing it; ``harness.plan``)."""
    from harness.presets import preset_names

    if plan:  # harness.cli runs the command's plan (harness.plan) instead
        parser.add_argument("--plan", action="store_true",
                            help="print what would be done (data sizes, forward passes, "
                                 "optimizer steps, samples, oracle and judge calls, finished "
                                 "steps) and exit")

    parser.add_argument("--preset", default=None, metavar="NAME",
                        help=f"shipped settings to start from: {', '.join(preset_names())} "
                             "(see the README; --config and --set apply on top)")
    parser.add_argument("--config", default=None, help="TOML file with config overrides")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one field, e.g. --set train.lr=1e-5 (repeatable)",
    )


# Flags that mean one config key on every command that has them (train, run, eval, bon).
TRAINING_KEYS = ("data.train", "model.backbone", "model.mode", "seed")
FLAG_NAMES = {"data.train": "--data", "eval.dpo_ref": "--ref",
              "eval.gemini_max_calls": "--max-calls"}


def config_field(key: str) -> dataclasses.Field:
    """The dataclass field behind a dotted config key (``bon.n_max``)."""
    leaf = key.rpartition(".")[2]
    cls = _owner(key)
    fields = {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
    if leaf not in fields:
        raise ConfigError(f"no config field {key!r}")
    return fields[leaf]


def section_keys(section: str) -> list[str]:
    """Every field of one config section, dotted, in declaration order (``bon.policy``, ...)."""
    cls = typing.get_type_hints(Config)[section]
    return [f"{section}.{f.name}" for f in dataclasses.fields(cls)]


def add_field_flags(parser: argparse.ArgumentParser, keys: Iterable[str],
                    names: dict[str, str] | None = None) -> None:
    """One flag per config key: ``--LEAF`` (underscores as dashes) unless ``names`` gives
    another, default "not given" (the config's value stands), help from the field's metadata
    plus its key and default, choices from a ``Literal``. Values are checked and converted by
    the config itself when applied (``Config.set_value``)."""
    flags = dict(parser.get_default(FLAGS_ATTR) or {})
    defaults = Config()
    for key in keys:
        f = config_field(key)
        flag = ({**FLAG_NAMES, **(names or {})}).get(key) or "--" + f.name.replace("_", "-")
        dest = "cfg_" + key.replace(".", "__")
        hint = typing.get_type_hints(_owner(key))[f.name]
        choices = typing.get_args(hint) if typing.get_origin(hint) is typing.Literal else None
        default = defaults.get_value(key)
        default = "empty" if default == "" else default
        text = f.metadata.get("help", "")
        # A bool flag alone means true (--trust-remote-code); it also takes true/false.
        switch = {"nargs": "?", "const": "true"} if hint is bool else {}
        parser.add_argument(flag, dest=dest, default=None, choices=choices, **switch,
                            metavar=None if choices else f.name.upper(),
                            help=f"{text}{'; ' if text else ''}config {key}, default {default}"
                                 .replace("%", "%%"))
        flags[dest] = key
    parser.set_defaults(**{FLAGS_ATTR: flags})


def _owner(key: str) -> type:
    """The dataclass that declares ``key``'s leaf field."""
    cls: type = Config
    for section in key.split(".")[:-1]:
        cls = typing.get_type_hints(cls).get(section, type(None))
    return cls


def flag_given(args: argparse.Namespace, key: str) -> bool:
    """Whether the command line gave ``key``'s field flag (not ``--set``)."""
    dest = {key_: dest for dest, key_ in (getattr(args, FLAGS_ATTR, None) or {}).items()}
    return dest.get(key) is not None and getattr(args, dest[key], None) is not None


def config_from_args(args: argparse.Namespace) -> Config:
    """defaults <- ``--preset`` <- ``--config`` <- ``--set`` <- the field flags given."""
    config = Config.load(args.config, args.overrides, preset=getattr(args, "preset", None))
    for dest, key in (getattr(args, FLAGS_ATTR, None) or {}).items():
        if getattr(args, dest, None) is not None:
            config.set_value(key, getattr(args, dest))
    return config


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="show the effective configuration")
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print the config as TOML with its hash")
    add_config_args(show, plan=False)
    show.set_defaults(func=run_show)


def run_show(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    print(f"# config hash {config.hash()}")
    print(to_toml(config), end="")
    return 0
