"""``harness eval``: any reward model(s) on any suites, one table at the end."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.commands.config import (
    add_config_args,
    add_field_flags,
    config_from_args,
    flag_given,
)
from harness.config import Config, ConfigError

# How local reward models load (LoadOptions): --device-map, --trust-remote-code,
# --attn-implementation, on harness eval and harness run alike.
LOAD_KEYS = ("eval.device_map", "eval.trust_remote_code", "eval.attn_implementation")
# Every other setting harness eval takes as a flag (names: harness.commands.config.FLAG_NAMES).
EVAL_KEYS = ("eval.transforms", "model.max_length", "model.form", "seed", "eval.precision",
             "eval.dpo_ref", "eval.judge_template", "eval.gemini_max_calls")


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="evaluate reward models on suites")
    parser.add_argument("--model", required=True,
                        help="comma-separated: length, a backbone, a checkpoint dir, a Hub id, "
                             "dpo:POLICY (--ref), dpo-sum:POLICY, dpo-mean:POLICY, "
                             "judge:MODEL (a local chat model as a pairwise judge), "
                             "gemini:MODEL (Gemini as a pairwise judge; key in GEMINI_API_KEY)")
    parser.add_argument("--suite", default="rewardbench",
                        help="comma-separated: preference, rewardbench, reword, diagnostics, "
                             "rmbench")
    parser.add_argument("--data", action="append", default=[], metavar="[SUITE=]SOURCE",
                        help="what a suite evaluates (file, Hub id or embedded:NAME): SUITE=SOURCE "
                             "for one suite, a bare SOURCE for every requested suite; repeatable. "
                             "Defaults: preference the model's held-out split (else data.train), "
                             "rmbench data.rmbench, the others data.rewardbench")
    parser.add_argument("--limit", type=int, default=None, help="stratified sample size")
    parser.add_argument("--out", required=True, help="output folder")
    add_config_args(parser)
    add_field_flags(parser, [*EVAL_KEYS, *LOAD_KEYS])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Launched in several processes (``accelerate launch -m harness eval``), every rank does
    the same work on gathered scores (``harness.distributed``); the main one writes ``--out``
    and prints, the others write into a scratch folder that is thrown away."""
    from harness.distributed import outputs_on_main

    return outputs_on_main(evaluate_command, args)


def checked_request(args: argparse.Namespace
                    ) -> tuple[Config, list[str], list[str], dict[str, str]]:
    """(config, models, suites, sources) of a ``harness eval`` command line, every name and
    setting checked before any work; ``--plan`` runs the same checks."""
    from harness.suites import SUITES
    from harness.validate import check_model_name, check_numbers, check_transforms

    config = config_from_args(args)
    check_numbers(config)
    models = [m.strip() for m in args.model.split(",") if m.strip()]
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    for suite in suites:
        SUITES.get(suite)  # an unknown name fails here, with close matches
    sources = data_sources(args.data, suites)
    if flag_given(args, "eval.transforms") and "reword" not in suites:
        raise ConfigError("--transforms is read by the reword suite only, which was not "
                          f"requested (--suite {','.join(suites)})")
    check_transforms(config.eval.transforms)
    for model in models:  # every name before any work
        check_model_name(model, dpo_ref=config.eval.dpo_ref)
    return config, models, suites, sources


def evaluate_command(args: argparse.Namespace) -> int:
    from harness.evaluate import evaluate_model
    from harness.io import remove_if_unused, slug
    from leaderboards.summary import print_summary

    config, models, suites, sources = checked_request(args)
    out = Path(args.out)
    created = not out.exists()
    results = []
    for model in models:
        folder = out if len(models) == 1 else out / slug(model)
        try:
            metrics = evaluate_model(model, suites, config, folder, sources=sources,
                                     limit=args.limit)
        except BaseException:
            if created:  # a failed start leaves no empty folder behind
                remove_if_unused(out)
            raise
        results.append({"name": metrics["model"], "approximate": metrics.get("approximate"),
                        "method": metrics.get("method"), "metrics": metrics,
                        "eval_dir": str(folder), "source": model})
    print_summary(distinct_names(results))
    return 0


def distinct_names(results: list[dict]) -> list[dict]:
    """Two checkpoints of one method (say budget=epochs and budget=steps) would both be
    "crome": such names get the last two parts of the path they were given
    (``crome (steps-run/crome)``), so rows and paired comparisons say which is which."""
    from collections import Counter

    counts = Counter(r["name"] for r in results)
    for r in results:
        if counts[r["name"]] > 1:
            r["name"] = f"{r['name']} ({'/'.join(Path(r['source']).parts[-2:])})"
    return results


def data_sources(values: list[str], suites: list[str]) -> dict[str, str]:
    """``--data`` values -> {suite: source}. ``SUITE=SOURCE`` names one requested suite (a suite
    that was not requested is an error, never ignored); a bare ``SOURCE`` goes to every
    requested suite that has no source of its own."""
    from harness.suites import SUITES

    named: dict[str, str] = {}
    bare: list[str] = []
    for value in values:
        suite, sep, source = value.partition("=")
        if sep and suite in SUITES:
            if suite not in suites:
                raise ConfigError(f"--data {value}: suite {suite!r} was not requested "
                                  f"(--suite {','.join(suites)})")
            if suite in named:
                raise ConfigError(f"--data names suite {suite!r} twice")
            if not source.strip():
                raise ConfigError(f"--data {value}: no source after '='")
            named[suite] = source
        else:
            bare.append(value)
    if len(bare) > 1:
        raise ConfigError(f"--data: more than one source for all suites ({', '.join(bare)}); "
                          "name one per suite with SUITE=SOURCE")
    return {s: named.get(s, bare[0] if bare else None) for s in suites
            if s in named or bare}
