"""``harness bon``: best-of-N with reward models on WildGuardTest (safety) and GSM8K (math).

Samples come from one pool per (policy, prompt set, seed, sampling settings), generated once and
reused by every RM and every later run; prints a table of each metric at every n.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from harness.commands.config import add_config_args, config_from_args


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bon", help="best-of-N with reward models (safety, GSM8K)")
    parser.add_argument("--suite", default="wildguard_bon,gsm8k_bon",
                        help="comma-separated: wildguard_bon, gsm8k_bon")
    parser.add_argument("--models", required=True,
                        help="comma-separated RMs: length, a backbone, a checkpoint dir, Hub id")
    parser.add_argument("--n-max", type=int, default=None, help="samples per prompt (bon.n_max)")
    parser.add_argument("--limit", type=int, default=None,
                        help="seeded stratified prompts per suite (bon.limit; 0 = all)")
    parser.add_argument("--data-wildguard", default=None,
                        help="WildGuardTest source (data.wildguard; default embedded sample)")
    parser.add_argument("--data-gsm8k", default=None,
                        help="GSM8K source (data.gsm8k; default embedded sample)")
    parser.add_argument("--policy", default=None,
                        help="bon.policy: a backbone/dir/Hub id, or vllm:MODEL")
    parser.add_argument("--judge", default=None,
                        help="bon.judge: keywords, wildguard or wildguard:PATH")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling (1 = off)")
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=16, help="rows per generate call")
    parser.add_argument("--max-length", type=int, default=None, help="RM input tokens")
    parser.add_argument("--gsm8k-filter", default="flexible-extract",
                        choices=["flexible-extract", "strict-match"])
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--no-progress", action="store_true")
    add_config_args(parser)
    parser.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace):
    from harness.bon.policies import GenParams
    from harness.run import bon_settings

    config = config_from_args(args)
    for flag, key in (("n_max", "bon.n_max"), ("policy", "bon.policy"), ("judge", "bon.judge"),
                      ("temperature", "bon.temperature"),
                      ("max_new_tokens", "bon.max_new_tokens"), ("seed", "seed"),
                      ("max_length", "model.max_length"), ("data_wildguard", "data.wildguard"),
                      ("data_gsm8k", "data.gsm8k")):
        if getattr(args, flag) is not None:
            config.set_value(key, getattr(args, flag))
    if args.limit is not None:
        config.set_value("bon.limit", args.limit)
    settings = bon_settings(config, [s.strip() for s in args.suite.split(",") if s.strip()],
                            [m.strip() for m in args.models.split(",") if m.strip()])
    settings.params = GenParams(config.bon.temperature, args.top_p, config.bon.max_new_tokens)
    settings.batch_size, settings.gsm8k_filter = args.batch_size, args.gsm8k_filter
    return settings


@contextmanager
def generation_progress(enabled: bool):
    """A rich progress bar per suite while samples are generated (nothing when disabled)."""
    if not enabled:
        yield None
        return
    from harness.progress import progress_bar

    with progress_bar() as bar:
        def start(suite: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(f"sampling {suite}", total=total)
            return lambda n: bar.advance(task, n)
        yield start


def summary_table(metrics: dict[str, Any]) -> str:
    """One row per (suite, RM, metric), one column per n: percent (count/total)."""
    from tabulate import tabulate

    from leaderboards.bon import cell

    ns = [str(n) for n in metrics["ns"]]
    rows = []
    for suite, shown in (("wildguard_bon", ("asr", "asr_adversarial", "asr_vanilla",
                                            "refusal_benign", "parse_errors")),
                         ("gsm8k_bon", ("rm_acc", "maj_acc", "pass_at_n"))):
        if suite not in metrics:
            continue
        note = metrics[suite].get("judge_label") or metrics[suite].get("filter")
        for model, by_n in metrics[suite]["models"].items():
            for metric in shown:
                rows.append([suite, model, metric,
                             *(cell((by_n.get(n) or {}).get(metric)) for n in ns)])
        rows.append([f"({suite}: {note})", "", "", *[""] * len(ns)])
    return tabulate(rows, headers=["suite", "RM", "metric", *[f"n={n}" for n in ns]],
                    tablefmt="github", disable_numparse=True)


def run(args: argparse.Namespace) -> int:
    from harness.bon.runner import run_bon

    settings = settings_from_args(args)
    with generation_progress(not args.no_progress) as progress:
        metrics = run_bon(settings, args.out, progress=progress)
    for suite, pool in metrics["pools"].items():
        print(f"{suite}: pool {pool['path']} — {pool['prompts']} prompts x "
              f"{pool['samples_per_prompt']} samples, {pool['generated']} generated now, "
              f"{pool['reused']} reused")
    print(summary_table(metrics))
    print(f"wrote {args.out}/metrics.json, per-item records and {len(metrics['plots'])} plots")
    return 0
