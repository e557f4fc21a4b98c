"""``harness bon``: best-of-N with reward models on the registered best-of-N suites.

Samples come from one pool per (policy, prompt set, seed, sampling settings), generated once and
reused by every RM and every later run; prints each suite's table (``harness.bon.report``, the
table the leaderboard shows). Every setting is a config field: the flags are generated from
``BonConfig`` (and the few other fields best-of-N reads), so ``--set bon.top_p=0.9`` and
``--top-p 0.9`` are one setting.
"""

from __future__ import annotations

import argparse

from harness.commands.config import add_config_args, add_field_flags, section_keys


def add_to(subparsers: argparse._SubParsersAction) -> None:
    from harness.bon.suites import BON_SUITES, get_suite

    suites = BON_SUITES.names()
    parser = subparsers.add_parser("bon", help="best-of-N with reward models (safety, GSM8K)")
    parser.add_argument("--suite", default=",".join(suites),
                        help=f"comma-separated best-of-N suites: {', '.join(suites)}")
    parser.add_argument("--models", required=True,
                        help="comma-separated RMs: length, a backbone, a checkpoint dir, Hub id, "
                             "dpo:POLICY (--ref) or dpo:POLICY@REF")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--no-progress", action="store_true")
    add_field_flags(parser, section_keys("bon"))
    data_keys = list(dict.fromkeys(get_suite(s).data_key for s in suites))
    add_field_flags(parser, ["seed", "model.max_length", "eval.dpo_ref", *data_keys],
                    names={"eval.dpo_ref": "--ref",
                           **{k: "--" + k.replace(".", "-") for k in data_keys}})
    add_config_args(parser)
    parser.set_defaults(func=run)


def job_from_args(args: argparse.Namespace):
    """The ``BonJob`` the flags describe (config from presets, files, ``--set`` and flags)."""
    from harness.bon.runner import BonJob
    from harness.commands.config import config_from_args
    from harness.validate import check_model_name, check_numbers

    config = config_from_args(args)
    check_numbers(config)  # bon.top_p in (0, 1], bon.n_max >= 1, ...
    job = BonJob.of(config, [s.strip() for s in args.suite.split(",") if s.strip()],
                    [m.strip() for m in args.models.split(",") if m.strip()])
    for model in job.models:  # before any sampling (and before --plan prints)
        check_model_name(model, dpo_ref=config.eval.dpo_ref)
    return job


def run(args: argparse.Namespace) -> int:
    """Launched in several processes (``accelerate launch -m harness bon``), the main rank
    samples the pools, every rank then scores its share of them (the scorer gathers), and only
    the main rank writes and prints (``harness.distributed``)."""
    from harness.distributed import outputs_on_main

    return outputs_on_main(best_of_n_command, args)


def best_of_n_command(args: argparse.Namespace) -> int:
    from harness.bon.report import rows_of, tables_text
    from harness.bon.runner import run_bon, sampling_progress

    job = job_from_args(args)
    with sampling_progress(not args.no_progress) as progress:
        result = run_bon(job, args.out, progress=progress)
    for suite, pool in result["pools"].items():
        print(f"{suite}: pool {pool['path']} — {pool['prompts']} prompts x "
              f"{pool['samples_per_prompt']} samples, {pool['generated']} generated now, "
              f"{pool['reused']} reused")
    print(tables_text(rows_of(result)))
    print(f"wrote {args.out}/metrics.json, per-item records and {len(result['plots'])} plots")
    return 0
