"""Evaluate reward models on suites: the function behind ``harness eval`` and ``harness run``.

Writes ``OUT/metrics.json`` (one model) or ``OUT/<model>/metrics.json`` (several), with one top
level key per suite, and per-item records beside it. The preference suite defaults to the
model's own held-out split when the model is one of our checkpoints (``<run>/model`` with
``<run>/heldout.jsonl``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.config import Config
from harness.io import slug, write_json  # noqa: F401 (slug: re-exported for callers)
from harness.scoring.reward_model import RewardModel, load_reward_model
from harness.scoring.scorer import Scorer
from harness.suites import SUITES, EvalContext, load_builtin_suites


def heldout_of(model: str) -> str | None:
    path = Path(model)
    candidate = path.parent / "heldout.jsonl"
    return str(candidate) if path.is_dir() and candidate.exists() else None


def evaluate_model(model: str | RewardModel, suites: list[str], config: Config, out_dir: Path,
                   *, data: str | None = None, pairs: str | None = None,
                   limit: int | None = None, show_progress: bool = True) -> dict[str, Any]:
    load_builtin_suites()
    rm = model if isinstance(model, RewardModel) else load_reward_model(
        model, max_length=config.model.max_length, batch_tokens=config.eval.batch_tokens,
        precision=config.eval.precision, form=config.model.form)
    scorer = Scorer(rm, show_progress=show_progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = getattr(getattr(rm, "model", None), "dtype", None)
    metrics: dict[str, Any] = {"model": rm.name, "form": getattr(rm, "form", "bt"),
                               "fingerprint": rm.fingerprint,
                               "dtype": str(weights).removeprefix("torch.") if weights else None}
    for name in suites:
        suite = SUITES.get(name)
        source = pairs or (heldout_of(model) if isinstance(model, str) else None) \
            if name == "preference" else data
        ctx = EvalContext(rm, scorer, config, out_dir, source, limit)
        metrics[name] = suite.run(ctx)
    metrics["scoring"] = dict(scorer.stats)
    write_json(out_dir / "metrics.json", metrics)
    return metrics
