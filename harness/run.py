"""``harness run``: train the requested methods under one config, evaluate every RM on every
suite, and publish the leaderboard, each step resumable through the run store.

Order: Vanilla first (RRM and Crome filter their augmented pairs with it, so it is trained
once and reused), then the other methods; then evaluation of the trained RMs, the references
(``length`` and the untrained backbone) and any outside RMs (``--eval-model``), all on the same
pairs; then best-of-N when its suites are asked for; then the leaderboard.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.bon.report import for_model
from harness.bon.runner import BonJob, run_bon, sampling_progress
from harness.config import Config, with_form
from harness.evaluate import evaluate_model
from harness.io import slug, write_json
from harness.methods import plan_methods
from harness.runstore import RunStore
from harness.scoring.base import REFERENCES
from harness.training.pipeline import train_method

KEYWORDS_NOTE = ("best-of-N safety judge: refusal by keywords, not the WildGuard classifier "
                 "(attack success = the pick is not a refusal)")


def eval_suites(config: Config) -> list[str]:
    """The evaluation suites ``config.eval.suites`` names, in its order: every registered
    suite, built-in or a plugin's; best-of-N suites run separately (``check_suites`` has
    refused any name that is neither before the run starts)."""
    from harness.suites import SUITES

    return [s for s in config.eval.suites if s in SUITES]


def run_all(config: Config, methods: list[str], store: RunStore, *,
            forms: list[str] | None = None, eval_models: list[str] = (),
            show_progress: bool = True,
            bon_loaders: dict[str, Callable[..., Any]] | None = None) -> dict[str, Any]:
    """Train ``methods`` in each of ``forms`` (default: ``config.model.form``), evaluate them
    beside the references and outside RMs, run best-of-N when ``config.eval.suites`` asks for
    it, and write ``results.json``. A form other than ``bt`` names its folders and rows with a
    suffix (``train/rrm-pairpm``, ``rrm:pairpm``).

    ``bon_loaders`` (``rm_loader``, ``policy_loader``, ``judge_loader``) go to ``run_bon`` in
    place of the registered RMs, policy and judge: tests pass doubles there."""
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
        store.update_card(training={
            **store.card().get("training", {}),
            **{method + tag: training_summary(trained[method]) for method in methods}})
        for method in methods:
            rms.append((method + ("" if form == "bt" else f":{form}"),
                        trained[method]["model_dir"],
                        {"kind": "trained", "method": method, "form": form,
                         "config_hash": form_config.hash(),
                         "approximate": trained[method].get("approximate", []),
                         "training": training_summary(trained[method])}))
    suites = eval_suites(config)
    for ref in (*REFERENCES, config.model.backbone):
        name = ref if ref in REFERENCES else f"untrained {ref}"
        # evaluate_model loads backbones and Hub models in config.model.form; length is bt
        form = "bt" if ref in REFERENCES else config.model.form
        rms.append((name, ref, {"kind": "reference", "method": "–", "form": form}))
    for outside in eval_models:
        rms.append((outside, outside, {"kind": "outside", "method": "–",
                                       "form": config.model.form}))
    for name, model, info in rms:
        metrics = store.step(f"eval/{slug(name)}", lambda n=name, m=model: evaluate_model(
            m, suites, config, store.path("eval", slug(n)), sources={"preference": heldout},
            limit=config.data.limit, show_progress=show_progress))
        # a checkpoint's own form wins over the config's (load_reward_model), so report it
        entries.append({"name": name, **info, "form": metrics.get("form", info["form"]),
                        "metrics": metrics})
    job = BonJob.of_run(config, [model for _, model, _ in rms])
    if job is not None:
        # Keyed by its settings (models included): a rerun that adds RMs or a form runs it
        # again; the sample pool and the scores are cached, so only new RMs cost anything.
        bon = store.step(f"bon/{job.key()}", lambda: _bon(job, store, bon_loaders,
                                                           show_progress))
        record_judge(store, job, bon)
        for entry, (_, model, _) in zip(entries, rms, strict=True):
            entry["metrics"]["bon"] = for_model(bon, model)
    card = store.card()
    results = {"run": store.root.name, "config_hash": config.hash(), "command": card["command"],
               "entries": entries}
    write_json(store.path("results.json"), results)
    return results


def _bon(job: BonJob, store: RunStore, loaders: dict[str, Callable[..., Any]] | None,
         show_progress: bool) -> dict[str, Any]:
    with sampling_progress(show_progress) as progress:
        return run_bon(job, store.path("bon"), progress=progress, **(loaders or {}))


def record_judge(store: RunStore, job: BonJob, bon: dict[str, Any]) -> None:
    """The run card names the best-of-N judge, and calls the keyword judge approximate."""
    judged = [bon["suites"][s.name]["info"] for s in job.suites if s.judged]
    if not judged:
        return
    info = judged[0]
    store.update_card(judge={"spec": job.bon.judge, "name": info["judge"],
                             "label": info["judge_label"],
                             "fingerprint": info["judge_fingerprint"],
                             "attack_success": info["attack_success"]})
    if info["judge_label"] == "refusal by keywords":
        store.update_card(approximate=[KEYWORDS_NOTE])


def _train(method: str, config: Config, store: RunStore, filter_model: str | None,
           show_progress: bool, folder: str | None = None) -> dict:
    out = store.path("train", folder or method)
    result = train_method(method, config, out, filter_model=filter_model,
                          show_progress=show_progress)
    method_info = (out / "method.json").read_text()
    import json

    info = json.loads(method_info)
    from harness.commands.train import counts_line

    line = counts_line(folder or method, info.get("counts", {}))
    if line:
        print(line, flush=True)
    if info.get("approximate"):
        store.update_card(approximate=[f"{method}: {a}" for a in info["approximate"]])
    return {"model_dir": result.model_dir, "seconds": result.seconds, "pairs": result.pairs,
            "ties": result.ties, "steps": result.steps, "tokens": result.tokens,
            "seen_original": result.seen_original, "seen_augmented": result.seen_augmented,
            "budget": result.budget, "batch_size": config.train.batch_size,
            "counts": info.get("counts", {}), "approximate": info.get("approximate", []),
            "sampling": info.get("sampling")}


def training_summary(trained: dict[str, Any]) -> dict[str, Any]:
    """What a trained RM cost and saw, for the boards: original pairs, augmented pairs built
    and kept by the filter, by type, the distinct pairs of each the plan reached, ties,
    optimizer steps, batch size, tokens, seconds and the budget rule."""
    counts = trained.get("counts", {})
    kept = {k.removesuffix("_kept"): v for k, v in counts.items() if k.endswith("_kept")}
    return {"budget": trained.get("budget", "epochs"), "steps": trained.get("steps"),
            "batch_size": trained.get("batch_size"), "pairs": trained.get("pairs"),
            "original": counts.get("original", trained.get("pairs")),
            "augmented_kept": kept,
            "augmented_built": {k: counts.get(k, v) for k, v in kept.items()},
            "seen_original": trained.get("seen_original"),
            "seen_augmented": trained.get("seen_augmented"),
            "ties": trained.get("ties"), "tokens": trained.get("tokens"),
            "seconds": trained.get("seconds")}


def publish_run(store: RunStore) -> Path:
    from leaderboards.publish import publish

    return publish([store.root], store.path("leaderboard"))
