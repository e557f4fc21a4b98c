"""``harness data check FILE...``: validate data files; report every problem, not just the first."""

from __future__ import annotations

import argparse
from collections import Counter

from rich.console import Console

from harness.data.loaders import parse_records
from harness.data.schema import DataError


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="inspect and validate data")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check", help="validate files (JSONL/JSON/parquet, embedded:NAME or a Hub id)"
    )
    check.add_argument("sources", nargs="+", metavar="FILE")
    check.add_argument(
        "--format", default=None, help="record format (default: detected from the first record)"
    )
    check.add_argument("--max-problems", type=int, default=50, help="problems shown per file")
    check.set_defaults(func=run_check)


def expand_folders(sources: list[str]) -> list[str]:
    """A local folder of loose data files (RM-Bench's one file per domain) is checked file by
    file; anything else (files, Hub ids, ``datasets`` folders) as given."""
    from harness.data.rmbench import folder_files

    return [str(f) for s in sources for f in (folder_files(s) or [s])]


def run_check(args: argparse.Namespace) -> int:
    console = Console(highlight=False, soft_wrap=True)
    failed = 0
    for source in expand_folders(args.sources):
        try:
            items, fmt, problems = parse_records(source, args.format)
        except DataError as err:  # unreadable source as a whole
            items, fmt, problems = [], None, err.problems
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            failed += 1
            console.print(
                f"[red]FAIL[/red] {source}: {len(errors)} error(s); {len(items)} valid record(s)"
            )
        for problem in problems[: args.max_problems]:
            console.print(f"  {problem}", markup=False, soft_wrap=True)
        if len(problems) > args.max_problems:
            console.print(f"  ... {len(problems) - args.max_problems} more")
        if errors:
            continue
        summary = f"{len(items)} records, format {fmt.name}"
        subsets = Counter(getattr(item, "subset", None) for item in items)
        if len(subsets) > 1 or None not in subsets:
            summary += f", {len(subsets)} subsets"
        ties = sum(1 for item in items if getattr(item, "label", None) == "tie")
        if ties:
            summary += f", {ties} ties"
        warned = len(problems)
        if warned:
            summary += f", {warned} warning(s)"
        console.print(f"[green]OK[/green] {source}: {summary}", soft_wrap=True)
    return 1 if failed else 0
