"""``harness run``: train the requested methods under one config, evaluate every RM on every
suite, and publish the leaderboard, each step resumable through the run store.

Order: Vanilla first (RRM and Crome filter their augmented pairs with it, so it is trained
once and reused), then the other methods; then evaluation of the trained RMs, the references
(``length`` and the untrained backbone) and any outside RMs (``--eval-model``), all on the same
pairs; then best-of-N when its suites are asked for; then the leaderboard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.config import Config
from harness.evaluate import evaluate_model
from harness.io import slug, write_json
from harness.methods import get_method
from harness.runstore import RunStore
from harness.training.pipeline import train_method

EVAL_SUITES = ("preference", "rewardbench", "reword", "diagnostics")
REFERENCES = ("length",)


def plan_methods(methods: list[str]) -> list[str]:
    """Vanilla first whenever a filtering method needs it."""
    needs_vanilla = any(get_method(m).uses_filter for m in methods)
    ordered = [m for m in methods if m != "vanilla"]
    return (["vanilla"] if needs_vanilla or "vanilla" in methods else []) + ordered


def with_form(config: Config, form: str) -> Config:
    """A copy of ``config`` whose reward-model form is ``form``."""
    copy = Config.from_dict(config.to_dict())
    copy.set_value("model.form", form)
    return copy


def run_all(config: Config, methods: list[str], store: RunStore, *,
            forms: list[str] | None = None, eval_models: list[str] = (),
            show_progress: bool = True) -> dict[str, Any]:
    """Train ``methods`` in each of ``forms`` (default: ``config.model.form``), evaluate them
    beside the references and outside RMs, and write ``results.json``. A form other than
    ``bt`` names its folders and rows with a suffix (``train/rrm-pairpm``, ``rrm:pairpm``)."""
    entries: list[dict[str, Any]] = []
    rms: list[tuple[str, str, dict]] = []
    heldout = None
    for form in forms or [config.model.form]:
        form_config = with_form(config, form)
        tag = "" if form == "bt" else f"-{form}"
        trained: dict[str, dict] = {}
        for method in plan_methods(methods):
            filter_model = (trained.get("vanilla", {}).get("model_dir")
                            if method != "vanilla" else None)
            trained[method] = store.step(
                f"train/{method}{tag}", lambda m=method, f=filter_model, c=form_config, t=tag:
                _train(m, c, store, f, show_progress, folder=m + t))
        # Every form and method splits the same data with the same seed: one held-out set.
        heldout = heldout or str(store.path("train", plan_methods(methods)[0] + tag,
                                            "heldout.jsonl"))
        for method in methods:
            rms.append((method + ("" if form == "bt" else f":{form}"),
                        trained[method]["model_dir"],
                        {"kind": "trained", "method": method, "form": form,
                         "config_hash": form_config.hash(),
                         "approximate": trained[method].get("approximate", [])}))
    suites = [s for s in config.eval.suites if s in EVAL_SUITES]
    for ref in (*REFERENCES, config.model.backbone):
        name = ref if ref in REFERENCES else f"untrained {ref}"
        rms.append((name, ref, {"kind": "reference", "method": "–", "form": "bt"}))
    for outside in eval_models:
        rms.append((outside, outside, {"kind": "outside", "method": "–", "form": "bt"}))
    for name, model, info in rms:
        metrics = store.step(f"eval/{slug(name)}", lambda n=name, m=model: evaluate_model(
            m, suites, config, store.path("eval", slug(n)), pairs=heldout,
            limit=config.data.limit, show_progress=show_progress))
        entries.append({"name": name, **info, "metrics": metrics})
    card = store.card()
    results = {"run": store.root.name, "config_hash": config.hash(), "command": card["command"],
               "entries": entries}
    write_json(store.path("results.json"), results)
    return results


def _train(method: str, config: Config, store: RunStore, filter_model: str | None,
           show_progress: bool, folder: str | None = None) -> dict:
    out = store.path("train", folder or method)
    result = train_method(method, config, out, filter_model=filter_model,
                          show_progress=show_progress)
    method_info = (out / "method.json").read_text()
    import json

    info = json.loads(method_info)
    if info.get("approximate"):
        store.update_card(approximate=[f"{method}: {a}" for a in info["approximate"]])
    return {"model_dir": result.model_dir, "seconds": result.seconds, "pairs": result.pairs,
            "ties": result.ties, "steps": result.steps, "counts": info.get("counts", {}),
            "approximate": info.get("approximate", [])}


def publish_run(store: RunStore) -> Path:
    from leaderboards.publish import publish

    return publish([store.root], store.path("leaderboard"))
