"""``harness augment --method crome|rrm``: write a method's augmented pairs (before filtering).

For crome, the oracle comes from ``--oracle`` (else ``crome.oracle``); oracle answers are cached
on disk (``--cache``, default ``$CROME_BENCH_CACHE/crome-oracle/answers.sqlite``), so rerunning a
killed or finished command pays for nothing twice. RRM needs no oracle (``rrm.*`` settings).
Prints a table of counts per augmentation type, the rewrites the checks rejected (by reason),
and the cue balance (``harness.cues``): per augmentation type and per rubric, how often the
preferred response is the longer one / the one with more markdown, so a user sees when an
augmentation injects a cue. Filtering needs a trained RM, so it happens in ``harness train``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from harness.commands.config import add_config_args, add_field_flags, config_from_args


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("augment", help="write augmented pairs (crome, rrm)")
    parser.add_argument("--method", default="crome", choices=["crome", "rrm"])
    add_field_flags(parser, ["crome.oracle", "crome.oracle_model", "data.train", "seed"])
    # the oracle model's earlier flag name, kept working
    parser.add_argument("--model", dest="cfg_crome__oracle_model", help=argparse.SUPPRESS)
    parser.add_argument("--out", required=True, help="augmented pairs (JSONL), written atomically")
    parser.add_argument("--limit", type=int, default=None, help="use the first N pairs")
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


def print_balance(console, report: dict, title: str) -> None:
    """The cue-balance table of ``harness.cues.balance_report`` (also used for RRM)."""
    from rich.table import Table

    from harness.cues import ALPHA, BAND, MIN_PAIRS, balance_rows, out_of_band

    table = Table(title=title, title_justify="left")
    for name, justify in (("group", "left"), ("pairs", "right"), ("ties", "right"),
                          ("longer wins", "right"), ("more markdown wins", "right")):
        table.add_column(name, justify=justify)
    for label, pairs, ties, length, markdown in balance_rows(report):
        table.add_row(label, str(pairs), str(ties), length, markdown)
    console.print(table)
    console.print(f"share of the pairs whose responses differ in length (markdown marks) won by "
                  f"the longer one (the one with more); 0.5 = no cue; ! = outside "
                  f"{BAND[0]:.2f}-{BAND[1]:.2f} with at least {MIN_PAIRS} pairs and 0.5 rejected "
                  f"(binomial p < {ALPHA}), ? = outside but within chance; ties have no "
                  "direction and are not counted", markup=False)
    outside = out_of_band(report)
    if outside:
        console.print("[yellow]this augmentation carries a cue (the label follows it): "
                      + "; ".join(outside) + "[/yellow]")


def checked_config(args: argparse.Namespace):
    """The config of a ``harness augment`` command line, its oracle and numbers checked before
    any work; ``--plan`` runs the same checks."""
    from crome.oracles import ORACLES
    from harness.validate import check_choice, check_numbers

    config = config_from_args(args)
    check_choice("crome.oracle", config.crome.oracle, ORACLES.names())
    check_numbers(config)
    return config


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from harness.data.loaders import load_pairs, write_pairs

    config = checked_config(args)
    pairs = load_pairs(config.data.train, limit=args.limit)
    console = Console(highlight=False)
    if args.method == "rrm":
        return _rrm(args, config, pairs, console)
    from crome.method import augment_with_config

    oracle = config.crome.oracle
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
    rejected = result.details.get("rewrite_rejections", {})
    if rejected:
        reasons = ", ".join(f"{k} {v}" for k, v in rejected.items())
        console.print(f"rewrites rejected by the checks: {reasons}", markup=False)
    if result.counts.get("failed"):
        console.print(f"[yellow]{result.counts['failed']} oracle call(s) failed after retries "
                      "and were skipped; rerun to retry them (answers so far are cached)[/yellow]")
    print_balance(console, result.details["cue_balance"]["augmented"],
                  "cue balance of the augmented pairs (before filtering)")
    console.print(f"{len(result.pairs)} augmented pairs -> {args.out}", markup=False)
    return 0


def _rrm(args: argparse.Namespace, config, pairs, console) -> int:
    from baselines.rrm import augment, sampling_details
    from harness.cues import augmentation_groups, balance_report
    from harness.data.loaders import write_pairs

    cfg = config.rrm
    augmented = augment(pairs, cfg.borrowed_per_pair, cfg.tie_ratio, config.seed)
    write_pairs(augmented, args.out)
    sampling = sampling_details(cfg.borrowed_per_pair, cfg.tie_ratio, len(pairs), len(augmented))
    console.print(f"rrm augmentation: about {sampling['per_pair']:g} of the paper's "
                  f"{sampling['paper_per_pair']} augmented pairs per pair asked for, "
                  f"{sampling['built_per_pair']:g} built (rrm.borrowed_per_pair="
                  f"{cfg.borrowed_per_pair}, rrm.tie_ratio={cfg.tie_ratio:g}; 8 and 6 give the "
                  "paper's full set)", markup=False)
    print_balance(console, balance_report(augmented, augmentation_groups()),
                  "cue balance of the augmented pairs (before filtering)")
    console.print(f"{len(augmented)} augmented pairs -> {args.out}", markup=False)
    return 0
