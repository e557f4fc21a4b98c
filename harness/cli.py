"""``python -m harness`` / ``crome-bench``: the command line.

Each subcommand lives in its own module under ``harness/commands/`` and exposes
``add_to(subparsers)``; it sets ``func`` on its parser. Errors that come from bad input
(``DataError``, ``RegistryError``, ``ConfigError``) print a clear message and exit 2 without a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from harness import __version__

COMMAND_MODULES = (
    "harness.commands.data",
    "harness.commands.models",
    "harness.commands.transforms",
    "harness.commands.config",
    "harness.commands.eval",
    "harness.commands.train",
    "harness.commands.augment",
    "harness.commands.run",
    "harness.commands.leaderboard",
    "harness.commands.bon",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="crome-bench: measure reward-model robustness and train robust reward models.",
    )
    parser.add_argument("--version", action="version", version=f"crome-bench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # a command module not written yet
                continue
            raise
        module.add_to(subparsers)
    return parser


def _quiet_libraries() -> None:
    """Keep the terminal for our progress and tables: silence load reports and library bars."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def main(argv: list[str] | None = None) -> int:
    from harness.config import ConfigError
    from harness.data.schema import DataError
    from harness.registry import RegistryError

    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_libraries()
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except (DataError, RegistryError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
