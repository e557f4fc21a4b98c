"""``harness run``: the whole comparison in one command (train, evaluate, publish)."""

from __future__ import annotations

import argparse
import sys

from harness.commands.config import add_config_args, config_from_args


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="train methods, evaluate every RM, publish")
    parser.add_argument("--models", default="vanilla,rrm,crome",
                        help="methods to train: any of vanilla, rrm, crome")
    parser.add_argument("--eval-model", action="append", default=[],
                        help="an outside RM to evaluate too (Hub id or path; repeatable)")
    parser.add_argument("--name", default=None, help="run name (default: default-<config hash>)")
    parser.add_argument("--runs-dir", default="runs", help="where runs are stored")
    parser.add_argument("--data", default=None, help="training pairs (sets data.train)")
    parser.add_argument("--backbone", default=None)
    parser.add_argument("--mode", default=None)
    parser.add_argument("--form", default=None,
                        help="bt | pairpm | bt,pairpm (both forms, every method)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-progress", action="store_true")
    add_config_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.commands.train import apply_common_flags
    from harness.run import publish_run, run_all
    from harness.runstore import RunStore
    from leaderboards.publish import read_results
    from leaderboards.summary import print_summary

    config = config_from_args(args)
    forms = [f.strip() for f in (args.form or "").split(",") if f.strip()] or None
    if forms and len(forms) == 1:
        config.set_value("model.form", forms[0])
    args.form = None  # set above; apply_common_flags must not take a list
    apply_common_flags(config, args)
    methods = [m.strip() for m in args.models.split(",") if m.strip()]
    name = args.name or f"default-{config.hash()}"
    store = RunStore(Path(args.runs_dir) / name, config)
    store.open(sys.argv[1:] if args.func is run else [])
    run_all(config, methods, store, forms=forms, eval_models=args.eval_model,
            show_progress=not args.no_progress)
    board = publish_run(store)
    print_summary(read_results([store.root])[0])  # entries with their eval folders
    print(f"\nrun folder: {store.root}\nleaderboard: {board}")
    return 0
