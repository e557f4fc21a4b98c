"""``harness eval``: any reward model(s) on any suites, one table at the end."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path

from harness.commands.config import add_config_args, config_from_args
from harness.config import Precision


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="evaluate reward models on suites")
    parser.add_argument("--model", required=True,
                        help="comma-separated: length, a backbone, a checkpoint dir, a Hub id")
    parser.add_argument("--suite", default="rewardbench",
                        help="comma-separated: preference, rewardbench, reword, diagnostics")
    parser.add_argument("--data", default=None,
                        help="RewardBench source for rewardbench/reword, any pairs file "
                             "for diagnostics (default: data.rewardbench)")
    parser.add_argument("--pairs", default=None,
                        help="pairs for the preference suite (default: the model's held-out "
                             "split, else data.train)")
    parser.add_argument("--limit", type=int, default=None, help="stratified sample size")
    parser.add_argument("--transforms", default=None, help="comma-separated transform names")
    parser.add_argument("--form", default=None,
                        help="bt | pairpm, for backbones and Hub models (checkpoints know theirs)")
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--precision", default=None, choices=typing.get_args(Precision),
                        help="RM weights (default eval.precision: bf16 on GPU, fp32 on CPU)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", required=True, help="output folder")
    add_config_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.evaluate import evaluate_model
    from harness.io import slug
    from leaderboards.summary import print_summary

    config = config_from_args(args)
    for flag, key in (("transforms", "eval.transforms"), ("max_length", "model.max_length"),
                      ("form", "model.form"), ("seed", "seed"),
                      ("precision", "eval.precision")):
        if getattr(args, flag) is not None:
            config.set_value(key, getattr(args, flag))
    models = [m.strip() for m in args.model.split(",") if m.strip()]
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    out = Path(args.out)
    results = []
    for model in models:
        folder = out if len(models) == 1 else out / slug(model)
        metrics = evaluate_model(model, suites, config, folder, data=args.data,
                                 pairs=args.pairs, limit=args.limit)
        results.append({"name": model, "metrics": metrics, "eval_dir": str(folder)})
    print_summary(results)
    return 0
