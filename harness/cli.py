"""``python -m harness`` / ``crome-bench``: the command line.

Each subcommand lives in its own module under ``harness/commands/`` and exposes
``add_to(subparsers)``; it sets ``func`` on its parser. Errors that come from bad input
(``DataError``, ``RegistryError``, ``ConfigError``, a run folder holding another run, a folder in
use by another process, a path that cannot be written) print one ``error:`` message and exit 2
without a traceback; a failing oracle (down, over its failure budget, no causal pair) or Gemini
call exits 1 the same way, and so does any other error, with its type named; a Gemini call
budget spent (``--max-calls``) exits 3 with ``stopped:`` and how to continue. ``--debug``
(anywhere on the command line) shows the traceback instead.
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
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks (accepted anywhere on the command line)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:  # an error importing one (a typo in it) surfaces here
        importlib.import_module(name).add_to(subparsers)
    return parser


def quiet_libraries() -> None:
    """Keep the terminal for our progress and tables: silence load reports and library bars."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the input is wrong (exit 2)."""
    from harness.config import ConfigError
    from harness.data.schema import DataError
    from harness.locks import LockHeld
    from harness.registry import RegistryError
    from harness.runstore import RunConflict

    return DataError, RegistryError, ConfigError, RunConflict, LockHeld


def _os_error(err: OSError) -> str:
    where = err.filename if err.filename is not None else ""
    return f"{where}: {err.strerror or err}" if where else str(err)


def main(argv: list[str] | None = None) -> int:
    from crome.errors import OracleError
    from harness.gemini import CallBudgetSpent, GeminiError

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet_libraries()
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        if getattr(args, "plan", False):
            from harness.plan import plan_of

            args.func = plan_of(args.func)
        return int(args.func(args) or 0)
    except user_errors() as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except CallBudgetSpent as err:  # a planned stop, not a failure
        print(f"stopped: {err}", file=sys.stderr)
        return 3
    except (OracleError, GeminiError) as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # an output path under /proc, on a file, read-only, a full disk
        if debug:
            raise
        print(f"error: {_os_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted (rerun the same command to resume)", file=sys.stderr)
        return 130
    except Exception as err:
        if debug:
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        print(f"error: {type(err).__name__}: {first} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
