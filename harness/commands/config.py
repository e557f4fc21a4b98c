"""``harness config show``: the effective config (defaults <- preset <- TOML <- overrides) and
its hash."""

from __future__ import annotations

import argparse

from harness.config import Config, to_toml


def add_config_args(parser: argparse.ArgumentParser, plan: bool = True) -> None:
    """The config flags every command that runs work shares (and ``--plan``, which prints
    that work instead of doing it; ``harness.plan``)."""
    from harness.plan import add_plan_arg
    from harness.presets import preset_names

    if plan:
        add_plan_arg(parser)

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


def config_from_args(args: argparse.Namespace) -> Config:
    return Config.load(args.config, args.overrides, preset=getattr(args, "preset", None))


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
