"""``harness augment --method crome``: write a method's augmented pairs (before filtering).

The oracle comes from ``--oracle`` (else ``crome.oracle``); oracle answers are cached on disk
(``--cache``, default ``$CROME_BENCH_CACHE/crome-oracle/answers.sqlite``), so rerunning a killed
or finished command pays for nothing twice. Prints a table of counts per augmentation type.
Filtering needs a trained RM, so it happens in ``harness train --method crome``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from harness.commands.config import add_config_args, config_from_args


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("augment", help="write augmented pairs (crome)")
    parser.add_argument("--method", default="crome", choices=["crome"])
    parser.add_argument("--oracle", default=None, help="gemini | hf | rules (default crome.oracle)")
    parser.add_argument("--model", default=None, help="oracle model (default: the oracle's own)")
    parser.add_argument("--data", default=None, help="pairs: file, Hub id or embedded:NAME")
    parser.add_argument("--out", required=True, help="augmented pairs (JSONL), written atomically")
    parser.add_argument("--limit", type=int, default=None, help="use the first N pairs")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--cache", default=None, help="oracle answer cache (SQLite file)")
    parser.add_argument("--no-progress", action="store_true")
    add_config_args(parser)
    parser.set_defaults(func=run)


def _progress_bar(enabled: bool):
    """(rich Progress or None, stage factory for ``crome.augment.Progress``)."""
    if not enabled:
        return None, None
    from harness.progress import progress_bar

    bar = progress_bar("{task.description:>8}", elapsed=True, transient=False)

    def stage(description: str, total: int) -> Callable[[], None]:
        task = bar.add_task(description, total=total)
        return lambda: bar.advance(task)

    return bar, stage


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from crome.method import augment_with_config
    from harness.data.loaders import load_pairs, write_pairs

    config = config_from_args(args)
    if args.data is not None:
        config.set_value("data.train", args.data)
    if args.seed is not None:
        config.set_value("seed", args.seed)
    if args.model is not None:
        config.set_value("crome.oracle_model", args.model)
    oracle = args.oracle or config.crome.oracle
    pairs = load_pairs(config.data.train, limit=args.limit)
    bar, stage = _progress_bar(not args.no_progress)
    if bar is not None:
        bar.start()
    try:
        result = augment_with_config(pairs, config, oracle_name=oracle, cache_path=args.cache,
                                     progress=stage)
    finally:
        if bar is not None:
            bar.stop()
    write_pairs(result.pairs, args.out)
    console = Console(highlight=False)
    label = f"{result.oracle} ({result.model})" + (", approximate" if result.approximate else "")
    console.print(f"crome augmentation, oracle {label}", markup=False)
    table = Table()
    table.add_column("count")
    table.add_column("n", justify="right")
    for key, value in result.counts.items():
        table.add_row(key, str(value))
    console.print(table)
    if result.details.get("skip_reasons"):
        reasons = ", ".join(f"{k} {v}" for k, v in result.details["skip_reasons"].items())
        console.print(f"skipped rewrites: {reasons}", markup=False)
    if result.counts.get("failed"):
        console.print(f"[yellow]{result.counts['failed']} oracle call(s) failed after retries "
                      "and were skipped; rerun to retry them (answers so far are cached)[/yellow]")
    console.print(f"{len(result.pairs)} augmented pairs -> {args.out}", markup=False)
    return 0
