"""Evaluate reward models on suites: the function behind ``harness eval`` and ``harness run``.

Writes ``OUT/metrics.json`` (one model) or ``OUT/<model>/metrics.json`` (several), with one top
level key per suite, and per-item records beside it. Each suite reads the source named for it in
``sources`` (suite name -> file, Hub id or embedded:NAME), else its default: the preference suite
the model's own held-out split when the model is one of our checkpoints (``<run>/model`` with
``<run>/heldout.jsonl``), else ``data.train``; the others ``data.rewardbench``.

A reused output folder is first cleared of the per-item files (``*_items.jsonl``) and
``metrics.json`` an earlier evaluation left there, so every result file in it is this one's.
"""

from __future__ import annotations

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
    scorer = Scorer(rm, show_progress=show_progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    clear_results(out_dir)
    weights = getattr(getattr(rm, "model", None), "dtype", None)
    metrics: dict[str, Any] = {"model": rm.name, "form": getattr(rm, "form", "bt"),
                               "method": rm.method, "approximate": list(rm.approximate),
                               "fingerprint": rm.fingerprint,
                               "dtype": str(weights).removeprefix("torch.") if weights else None}
    for name in suites:
        suite = SUITES.get(name)
        source = sources.get(name)
        if source is None and name == "preference" and isinstance(model, str):
            source = heldout_of(model)
        ctx = EvalContext(rm, scorer, config, out_dir, source, limit)
        metrics[name] = suite.run(ctx)
    metrics["scoring"] = dict(scorer.stats)
    write_json(out_dir / "metrics.json", metrics)
    return metrics
