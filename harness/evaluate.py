"""Evaluate reward models on suites: the function behind ``harness eval`` and ``harness run``.

Writes ``OUT/metrics.json`` (one model) or ``OUT/<model>/metrics.json`` (several), with one top
level key per suite, and per-item records beside it. Each suite reads the source named for it in
``sources`` (suite name -> file, Hub id or embedded:NAME), else its default: the preference suite
the model's own held-out split when the model is one of our checkpoints (``<run>/model`` with
``<run>/heldout.jsonl``), else ``data.train``; the others ``data.rewardbench``.

A reused output folder is first cleared of the per-item files (``*_items.jsonl``) and
``metrics.json`` an earlier evaluation left there, so every result file in it is this one's.

A paid judge (``gemini:MODEL``) first runs the suites dry (``call_plan``: no call, nothing kept)
to print how many requests the run makes and how many its cache already holds; its answers
without a verdict are counted in each suite's ``judge`` entry and in the top-level one.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from harness.config import Config
from harness.io import write_json
from harness.scoring.reward_model import (
    RewardModel,
    load_reward_model,
    model_folder,
    rm_options,
)
from harness.scoring.scorer import Scorer
from harness.suites import SUITES, EvalContext


def heldout_of(model: str) -> str | None:
    """The held-out split beside one of our checkpoints (``<out>/model`` or ``<out>``)."""
    path = Path(model_folder(model))
    candidate = path.parent / "heldout.jsonl"
    return str(candidate) if path.is_dir() and candidate.exists() else None


RESULT_FILES = ("*_items.jsonl", "metrics.json")


def clear_results(out_dir: Path) -> None:
    """Remove an earlier evaluation's result files from ``out_dir`` (nothing else)."""
    for pattern in RESULT_FILES:
        for path in out_dir.glob(pattern):
            path.unlink()


def evaluate_model(model: str | RewardModel, suites: list[str], config: Config, out_dir: Path,
                   *, sources: dict[str, str] | None = None, limit: int | None = None,
                   show_progress: bool = True) -> dict[str, Any]:
    sources = sources or {}
    rm = model if isinstance(model, RewardModel) else load_reward_model(
        model, **rm_options(config))
    scorer = Scorer(rm, show_progress=show_progress)  # (RewardModel.uses_score_cache)
    out_dir.mkdir(parents=True, exist_ok=True)
    clear_results(out_dir)
    weights = getattr(getattr(rm, "model", None), "dtype", None)
    metrics: dict[str, Any] = {"model": rm.name, "form": getattr(rm, "form", "bt"),
                               "method": rm.method, "approximate": list(rm.approximate),
                               "fingerprint": rm.fingerprint,
                               "dtype": str(weights).removeprefix("torch.") if weights else None}
    heldout = (heldout_of(model) if isinstance(model, str) and "preference" in suites
               and "preference" not in sources else None)
    plan = rm.call_plan()
    if plan is not None:  # a paid judge: say what the run will cost before it starts
        with tempfile.TemporaryDirectory() as dry:
            run_suites(plan, Scorer(plan, use_cache=False), suites, config, Path(dry),
                       sources, limit, heldout)
        print(plan.summary(), flush=True)
    metrics.update(run_suites(rm, scorer, suites, config, out_dir, sources, limit, heldout))
    metrics["scoring"] = dict(scorer.stats)
    if (report := rm.report()) is not None:
        metrics["judge"] = report
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def run_suites(rm: RewardModel, scorer: Scorer, suites: list[str], config: Config,
               out_dir: Path, sources: dict[str, str], limit: int | None,
               heldout: str | None) -> dict[str, Any]:
    """Each suite's metrics; a judge's answers without a verdict are counted per suite
    (``judge``: the answers the suite read and how many had no verdict)."""
    results: dict[str, Any] = {}
    for name in suites:
        source = sources.get(name)
        if source is None and name == "preference":
            source = heldout
        before = Counter(rm.stats or {})
        results[name] = SUITES.get(name).run(EvalContext(rm, scorer, config, out_dir, source,
                                                         limit))
        if (report := rm.report(before)) is not None:
            results[name]["judge"] = report
    return results
