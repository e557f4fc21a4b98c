"""``harness leaderboard RUN_DIR... --out DIR``: markdown and PNGs from finished runs."""

from __future__ import annotations

import argparse


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("leaderboard", help="publish markdown leaderboards")
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--out", required=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from leaderboards.publish import publish

    print(f"wrote {publish(args.runs, args.out)}")
    return 0
