"""``--plan``: what a command would do, printed without doing it (no model is loaded, nothing is
written, the network is never asked), so a user sees the size of a run before paying for it.

Sizes come from the data itself where it is local (embedded samples, files, folders: records
counted, the training split made as the trainer makes it); a Hub id's size is unknown offline
and is said so. Counts that depend on results (pairs the filter keeps, rewrites the oracle
declines, samples the judge sees) are given as the bound they cannot exceed. Forward passes
count texts before the scorer's cache; for ``run``, steps the run store has already finished
are marked done.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path

from harness.config import Config, ConfigError, with_form
from harness.methods import plan_methods
from harness.scoring.base import REFERENCES
from harness.validate import is_local

PAID_ORACLES = {"gemini": "Gemini API calls, paid"}
# forward passes per item and suite: a BT RM scores each text once; a PairPM scores each pair
# in both orders (2 passes); RM-Bench has 6 distinct answers (BT) or 9 pairs x 2 orders.
TEXTS_PER_ITEM = {"bt": {"rmbench": 6}, "pairpm": {"rmbench": 18}}


def plan_of(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """The plan of a command's function (``harness.cli`` swaps it in when ``--plan`` is given:
    every command that takes the config flags gets ``--plan`` without a line of its own, and the
    plan reads the same flags)."""
    name = getattr(command, "__module__", "").rpartition(".")[2]
    if name not in PLANS:
        raise ConfigError(f"--plan is not available for this command (only {', '.join(PLANS)})")
    return planning(PLANS[name])


def planning(plan: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``plan`` with ``harness.validate.PLANNING`` set: the command's own checks run, but a
    model that only a network would fetch is a warning, not an error."""
    def run(args: argparse.Namespace) -> int:
        from harness.validate import PLANNING

        token = PLANNING.set(True)
        try:
            return plan(args)
        finally:
            PLANNING.reset(token)

    return run


def records(source: str) -> int | None:
    """How many records a local source holds (non-empty lines of JSONL, entries of a JSON
    list, parquet rows, summed over a folder of such files); None for a Hub id."""
    from harness.data.loaders import embedded_path
    from harness.data.rmbench import folder_files

    if source.startswith("embedded:"):
        paths = [embedded_path(source.split(":", 1)[1])]
    else:
        paths = folder_files(source) or ([Path(source)] if Path(source).is_file() else [])
    if not paths:
        return None
    total = 0
    for path in paths:
        suffix = path.suffix.lower()
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            total += len(data["data"] if isinstance(data, dict) else data)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
        else:
            with path.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
    return total


def _n(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _mul(a: int | None, b: float) -> int | None:
    return None if a is None else math.ceil(a * b)


def training_pairs(config: Config, limit: int | None = None) -> tuple[int | None, int | None]:
    """(training pairs, distinct prompts) after the seeded held-out split and train.max_pairs,
    made exactly as the trainer makes it for local data; (None, None) for a Hub id."""
    if not is_local(config.data.train):
        return None, None
    from harness.training.batches import training_split

    train, _ = training_split(config, limit)  # the trainer's own split
    return len(train), len({p.prompt_text for p in train})


def train_plan(method: str, config: Config, limit: int | None = None,
               pairs: tuple[int | None, int | None] | None = None) -> list[str]:
    """One method's training: pairs, augmentation bounds, oracle calls, optimizer steps."""
    from harness.training.batches import steps_for

    cfg, batch = config.train, config.train.batch_size
    n, prompts = pairs if pairs is not None else training_pairs(config, limit)
    lines = [f"train {method} ({config.model.backbone}, {config.model.mode}, "
             f"{config.model.form}): {_n(n)} training pairs from {config.data.train} "
             f"({config.data.heldout_size:,} held out)"]
    extra = 0.0
    if method == "rrm":
        extra = min(config.rrm.borrowed_per_pair, 8) + config.rrm.tie_ratio
        lines.append(f"  rrm augmentation: up to {_n(_mul(n, extra))} pairs "
                     f"({extra:g} per pair), no oracle")
    if method == "crome":
        c = config.crome
        rewrites = _mul(n, 2 * c.rubrics_per_pair)
        paid = PAID_ORACLES.get(c.oracle, "local, no cost")
        lines.append(f"  crome oracle {c.oracle} ({paid}): {_n(prompts)} rubric calls (one per "
                     f"distinct prompt) + {_n(rewrites)} rewrite calls (a degrade and an "
                     f"upgrade x {c.rubrics_per_pair} per pair; more when one is declined or "
                     f"rejected); the oracle cache answers repeats")
        extra = 2 * c.rubrics_per_pair + c.neutrals_per_pair
        lines.append(f"  crome augmentation: up to {_n(_mul(n, extra))} pairs ("
                     f"{2 * c.rubrics_per_pair} causal and {c.neutrals_per_pair:g} neutral per "
                     "pair)")
    if extra:
        lines.append(f"  filter: the vanilla RM scores the augmented pairs, up to "
                     f"{_n(_mul(n, 2 * extra))} forward passes, and keeps the unsure ones")
    if n is None:
        lines.append("  optimizer steps: ? (unknown data size)")
    elif cfg.budget == "steps" or not extra:
        steps = steps_for(n, batch, cfg.epochs)
        lines.append(f"  optimizer steps: {steps:,} x batch {batch} ({cfg.epochs:g} epoch(s) "
                     f"over {n:,} original pairs)")
    else:
        low, high = steps_for(n, batch, cfg.epochs), steps_for(n + _mul(n, extra), batch,
                                                                cfg.epochs)
        lines.append(f"  optimizer steps: {low:,} to {high:,} x batch {batch} (train.budget="
                     f"epochs: {cfg.epochs:g} epoch(s) over what the filter keeps)")
    return lines


def _suite_items(suite: str, config: Config, source: str | None, limit: int | None
                 ) -> tuple[int | None, str]:
    from harness.suites import SUITES

    source = source or str(config.get_value(SUITES.get(suite).data_key))
    n = records(source)
    if n is not None and limit is not None:
        n = min(n, limit)
    if suite == "reword" and n is not None and config.eval.reword_limit is not None:
        n = min(n, config.eval.reword_limit)
    return n, source


def rm_cost(model: str, forms: dict[str, str], config: Config) -> tuple[str, int, str]:
    """(form, passes per text, what a pass is) of a reward-model name: a local judge is PairPM;
    a Gemini judge is PairPM with API calls (before its answer cache) instead of passes;
    ``dpo:POLICY`` reads each text with the policy and the reference (2 passes, also when
    they are one model); ``dpo-sum:``/``dpo-mean:`` with the policy only."""
    from harness.scoring.names import GEMINI_PREFIX, JUDGE_PREFIX, split_dpo_spec

    if model in REFERENCES:
        return "bt", 1, "forward passes"
    if model.startswith(GEMINI_PREFIX):
        return "pairpm", 1, "API calls"
    if model.startswith(JUDGE_PREFIX):
        return "pairpm", 1, "forward passes"
    dpo = split_dpo_spec(model)
    if dpo is not None:
        return "bt", 2 if dpo[0] == "dpo" else 1, "forward passes"
    return forms.get(model, config.model.form), 1, "forward passes"


def eval_plan(models: list[str], suites: list[str], config: Config,
              sources: dict[str, str] | None = None, limit: int | None = None,
              forms: dict[str, str] | None = None) -> list[str]:
    """Per suite: items and forward passes for each RM (before the score cache)."""
    from harness.suites import SUITES

    sources = sources or {}
    lines = [f"evaluate {len(models)} RM(s): {', '.join(models)}"]
    for suite in suites:
        n, source = _suite_items(suite, config, sources.get(suite), limit)
        if suite == "reword":
            from transforms import TRANSFORMS

            count = len(config.eval.transforms) or sum(
                1 for t in TRANSFORMS.names() if TRANSFORMS.get(t).kind == "rule")
            factor, what = 2 * count, f"pairs x up to {count} transforms (each on its subsets)"
        elif suite == "diagnostics":
            lines.append(f"  diagnostics on {source}: reuses rewardbench's scores (one "
                         "tokenizer pass)")
            continue
        elif SUITES.origin(suite) == "builtin":  # a plugin suite's cost is its own
            factor, what = None, "prompts (9 style pairs each)" if suite == "rmbench" else "pairs"
        else:
            lines.append(f"  {suite} (a plugin suite) on {source}: {_n(n)} records; what it "
                         "scores per record is its own (not planned)")
            continue
        by_cost: dict[tuple[str, int, str], list[str]] = {}
        for model in models:
            by_cost.setdefault(rm_cost(model, forms or {}, config), []).append(model)
        for (form, passes, unit), group in by_cost.items():
            per = (factor or TEXTS_PER_ITEM.get(form, {}).get(suite, 2)) * passes
            lines.append(f"  {suite} on {source}: {_n(n)} {what}; {_n(_mul(n, per))} {unit} "
                         f"per {form} RM x {len(group)} ({', '.join(group)})")
    lines.append("  (texts already in the score cache are not scored again)")
    return lines


def bon_plan(job) -> list[str]:
    """Best-of-N (a ``harness.bon.runner.BonJob``): prompts, samples to generate, RM forward
    passes, judge calls (bounds)."""
    from harness.bon.metrics import n_grid

    b = job.bon
    lines = [f"best-of-N with policy {b.policy}, n up to {b.n_max}, judge {b.judge}"]
    for suite in job.suites:
        source = job.source(suite)
        n = records(source)
        if n is not None and job.limit:
            n = min(n, job.limit)
        samples = _mul(n, b.n_max)
        picks = None if n is None else min(samples, n * len(job.models) * len(n_grid(b.n_max)))
        judge = (f"; judge calls up to {_n(picks)} (each distinct pick once)" if suite.judged
                 else "; answers checked against the references (no judge)")
        lines.append(f"  {suite.name} on {source}: {_n(n)} prompts x {b.n_max} samples = "
                     f"{_n(samples)} generations of up to {b.max_new_tokens} tokens (a pool "
                     f"already on disk is reused); {_n(samples)} forward passes per RM x "
                     f"{len(job.models)} RMs{judge}")
    return lines


def run_plan(config: Config, methods: list[str], forms: list[str], eval_models: list[str],
             store) -> list[str]:
    """``harness run``: training per method and form, evaluation of every RM, best-of-N, with
    the steps this run folder has already finished."""
    from harness.bon.runner import BonJob
    from harness.bon.suites import BON_SUITES

    def done(step: str) -> str:
        return " [done]" if store.done(step) is not None else ""

    lines = [f"run {store.root} (config {config.hash()})"]
    pairs = training_pairs(config)
    rms = []
    for form in forms:
        tag = "" if form == "bt" else f"-{form}"
        form_config = with_form(config, form)
        for method in plan_methods(methods):
            block = train_plan(method, form_config, pairs=pairs)
            lines += [block[0] + done(f"train/{method}{tag}"), *block[1:]]
        rms += [method + ("" if form == "bt" else f":{form}") for method in methods]
    rm_forms = {rm: rm.partition(":")[2] or "bt" for rm in rms}
    rm_forms.update({ref: "bt" for ref in REFERENCES})
    rms += [*REFERENCES, f"untrained {config.model.backbone}", *eval_models]
    suites = [s for s in config.eval.suites if s not in BON_SUITES]
    block = eval_plan(rms, [s for s in suites if s != "preference"], config,
                      limit=config.data.limit, forms=rm_forms)
    if "preference" in suites:
        block.insert(1, f"  preference on the held-out split: {config.data.heldout_size:,} "
                        f"pairs, {2 * config.data.heldout_size:,} forward passes per RM")
    lines += block
    from harness.io import slug

    finished = [rm for rm in rms if store.done(f"eval/{slug(rm)}") is not None]
    if finished:
        lines.append(f"  evaluation already done for: {', '.join(finished)}")
    job = BonJob.of_run(config, rms)
    if job is not None:
        lines += bon_plan(job)
    return lines


def augment_plan(method: str, config: Config, limit: int | None) -> list[str]:
    """``harness augment``: every pair of the data is augmented (no held-out split)."""
    n = records(config.data.train)
    if n is not None and limit is not None:
        n = min(n, limit)
    prompts = None
    if n is not None:
        from harness.data.loaders import load_pairs

        prompts = len({p.prompt_text for p in load_pairs(config.data.train, limit=limit)})
    block = train_plan(method, config, pairs=(n, prompts))
    return [f"augment ({method}) {_n(n)} pairs from {config.data.train}",
            *(line for line in block[1:] if "augmentation" in line or "oracle" in line)]


def print_plan(lines: list[str]) -> int:
    print("plan (nothing was run):")
    print("\n".join(lines))
    if any("?" in line for line in lines):
        print("? = the size of a Hub dataset, known once it is downloaded (multiply the "
              "per-item counts by it)")
    return 0


def _config(args: argparse.Namespace) -> Config:
    from harness.commands.config import config_from_args

    return config_from_args(args)


def _plan_run(args: argparse.Namespace) -> int:
    from harness.commands.run import run_config
    from harness.runstore import RunStore
    from harness.validate import check_run

    config, forms = run_config(args)
    methods = [m.strip() for m in args.models.split(",") if m.strip()]
    check_run(config, methods, forms, args.eval_model)  # as harness run does, before the plan
    store = RunStore(Path(args.runs_dir) / (args.name or f"default-{config.hash()}"), config)
    return print_plan(run_plan(config, methods, forms or [config.model.form], args.eval_model,
                               store))


def _plan_train(args: argparse.Namespace) -> int:
    from harness.commands.train import checked_config

    config = checked_config(args)
    return print_plan(train_plan(args.method, config, limit=args.limit))


def _plan_eval(args: argparse.Namespace) -> int:
    from harness.commands.eval import checked_request

    config, models, suites, sources = checked_request(args)  # harness eval's own checks
    return print_plan(eval_plan(models, suites, config, sources, args.limit))


def _plan_bon(args: argparse.Namespace) -> int:
    from harness.commands.bon import job_from_args

    return print_plan(bon_plan(job_from_args(args)))


def _plan_augment(args: argparse.Namespace) -> int:
    from harness.commands.augment import checked_config

    return print_plan(augment_plan(args.method, checked_config(args), args.limit))


PLANS = {"run": _plan_run, "train": _plan_train, "eval": _plan_eval, "bon": _plan_bon,
         "augment": _plan_augment}
