"""``harness train``: train one method's reward model with the shared trainer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.commands.config import (
    TRAINING_KEYS,
    add_config_args,
    add_field_flags,
    config_from_args,
)
from harness.config import Config


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a reward model (vanilla, rrm, crome)")
    parser.add_argument("--method", default="vanilla", help="vanilla | rrm | crome")
    add_field_flags(parser, [*TRAINING_KEYS, "model.form"])
    parser.add_argument("--out", required=True, help="output folder (rerun to resume)")
    parser.add_argument("--limit", type=int, default=None, help="use the first N pairs")
    parser.add_argument("--filter-model", default=None,
                        help="baseline RM for filtering (default: train vanilla first)")
    parser.add_argument("--no-progress", action="store_true")
    add_config_args(parser)
    parser.set_defaults(func=run)


def counts_line(method: str, counts: dict) -> str | None:
    """One line of what a method's augmentation made and kept (None for vanilla): the causal and
    neutral pairs and the oracle's calls and failures, so a thin augmentation is seen."""
    if not counts or set(counts) <= {"original"}:
        return None
    kept = {k.removesuffix("_kept"): v for k, v in counts.items() if k.endswith("_kept")}
    made = ", ".join(f"{k} {counts.get(k, 0)} made / {v} kept" for k, v in kept.items())
    oracle = ""
    if "oracle_calls" in counts:
        oracle = (f"; oracle calls {counts['oracle_calls']} (cached {counts['cache_hits']}), "
                  f"failed {counts['failed']}, malformed {counts['malformed_skipped']}, "
                  f"rewrites rejected {counts['rewrites_rejected']}")
    return f"{method}: {counts.get('original', 0)} original pairs; {made}{oracle}"


def checked_config(args: argparse.Namespace) -> Config:
    """The config of a ``harness train`` command line, every setting and name checked before
    any work; ``--plan`` runs the same checks."""
    from harness.validate import check_methods, check_model_name, check_settings

    config = config_from_args(args)
    check_settings(config)
    check_methods([args.method])
    if args.filter_model:
        check_model_name(args.filter_model, "--filter-model")
    return config


def run(args: argparse.Namespace) -> int:
    from harness.io import remove_if_unused
    from harness.locks import hold
    from harness.training.pipeline import train_method

    config = checked_config(args)
    out = Path(args.out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    with hold(out, "--out"):
        try:
            result = train_method(args.method, config, out, limit=args.limit,
                                  filter_model=args.filter_model,
                                  show_progress=not args.no_progress)
        except BaseException:
            if created:  # a refused or failed start leaves no empty folder behind
                remove_if_unused(out)
            raise
    info = json.loads((out / "method.json").read_text(encoding="utf-8"))
    mark = " †" if info.get("approximate") else ""
    print(f"{args.method}{mark}: {result.pairs} pairs ({result.ties} ties, {result.truncated} "
          f"truncated), {result.steps} steps ({result.budget} budget), {result.tokens:,} tokens, "
          f"{result.seconds:.0f} s, {result.pairs_per_second:.1f} pairs/s -> {result.model_dir}")
    counts = info.get("counts", {})
    line = counts_line(args.method, counts)
    if line:
        print(line)
    for key in (k.removesuffix("_kept") for k, v in counts.items() if k.endswith("_kept")):
        if counts.get(key) and not counts[f"{key}_kept"]:
            print(f"warning: the filter removed all {counts[key]} {key} pairs (the baseline RM "
                  f"was already 'right' about each), so {args.method} trained without them")
    for note in info.get("approximate", []):
        print(f"† approximate: {note}")
    return 0
