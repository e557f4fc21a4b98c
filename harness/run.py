"""``harness run``: train the requested methods under one config, evaluate every RM on every
suite, and publish the leaderboard, each step resumable through the run store.

Order: Vanilla first (RRM and Crome filter their augmented pairs with it, so it is trained
once and reused), then the other methods; then evaluation of the trained RMs, the references
(``length`` and the untrained backbone) and any outside RMs (``--eval-model``), all on the same
pairs; then best-of-N when its suites are asked for; then the leaderboard.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.bon.suites import SUITES as BON_SUITES
from harness.config import Config
from harness.evaluate import evaluate_model
from harness.io import sha256_of, slug, write_json
from harness.methods import METHODS
from harness.runstore import RunStore
from harness.training.pipeline import train_method

REFERENCES = ("length",)
KEYWORDS_NOTE = ("best-of-N safety judge: refusal by keywords, not the WildGuard classifier "
                 "(attack success = the pick is not a refusal)")


def eval_suites(config: Config) -> list[str]:
    """The evaluation suites ``config.eval.suites`` names, in its order: every registered
    suite, built-in or a plugin's; best-of-N suites run separately (``check_suites`` has
    refused any name that is neither before the run starts)."""
    from harness.suites import SUITES

    return [s for s in config.eval.suites if s in SUITES]


def plan_methods(methods: list[str]) -> list[str]:
    """Vanilla first whenever a filtering method needs it."""
    needs_vanilla = any(METHODS.get(m).uses_filter for m in methods)
    ordered = [m for m in methods if m != "vanilla"]
    return (["vanilla"] if needs_vanilla or "vanilla" in methods else []) + ordered


def with_form(config: Config, form: str) -> Config:
    """A copy of ``config`` whose reward-model form is ``form``."""
    copy = Config.from_dict(config.to_dict())
    copy.set_value("model.form", form)
    return copy


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
    bon_suites = [s for s in config.eval.suites if s in BON_SUITES]
    if bon_suites:
        models = list(dict.fromkeys(model for _, model, _ in rms))  # an RM listed twice: once
        settings = bon_settings(config, bon_suites, models)
        # Keyed by its settings (models included): a rerun that adds RMs or a form runs it
        # again; the sample pool and the scores are cached, so only new RMs cost anything.
        key = sha256_of(dataclasses.asdict(settings))[:12]
        bon = store.step(f"bon/{key}", lambda: _bon(settings, store, bon_loaders,
                                                     show_progress))
        record_judge(store, bon)
        for entry, (_, model, _) in zip(entries, rms, strict=True):
            entry["metrics"]["bon"] = bon_of(bon, model)
    card = store.card()
    results = {"run": store.root.name, "config_hash": config.hash(), "command": card["command"],
               "entries": entries}
    write_json(store.path("results.json"), results)
    return results


def bon_settings(config: Config, suites: list[str], models: list[str]):
    """``harness bon``'s settings from the run's config: data from ``config.data``, sampling and
    judging from ``config.bon``, RM input length from ``config.model``."""
    from harness.bon.policies import GenParams
    from harness.bon.runner import BonSettings

    bon = config.bon
    return BonSettings(
        suites=suites, models=models,
        data={"wildguard_bon": config.data.wildguard, "gsm8k_bon": config.data.gsm8k},
        policy=bon.policy, judge=bon.judge, n_max=bon.n_max, limit=bon.limit or None,
        seed=config.seed,
        params=GenParams(temperature=bon.temperature, max_new_tokens=bon.max_new_tokens),
        max_length=config.model.max_length, batch_tokens=config.eval.batch_tokens,
        precision=config.eval.precision, form=config.model.form)


def _bon(settings: Any, store: RunStore, loaders: dict[str, Callable[..., Any]] | None,
         show_progress: bool) -> dict[str, Any]:
    from harness.bon.runner import run_bon
    from harness.commands.bon import generation_progress

    with generation_progress(show_progress) as progress:
        return run_bon(settings, store.path("bon"), progress=progress, **(loaders or {}))


def bon_of(metrics: dict[str, Any], model: str) -> dict[str, Any]:
    """One RM's share of the best-of-N metrics: the shared settings, and per suite what the
    numbers mean (judge, filter, prompt counts) beside this RM's curves (n -> metric -> rate)."""
    settings = metrics["settings"]
    out: dict[str, Any] = {
        "ns": metrics["ns"], "policy": settings["policy"], "n_max": settings["n_max"],
        "limit": settings["limit"], "seed": settings["seed"], "params": settings["params"],
        "model": model}
    for suite in BON_SUITES:
        if suite in metrics:
            info = {k: v for k, v in metrics[suite].items() if k != "models"}
            out[suite] = {**info, "curves": metrics[suite]["models"][model]}
    return out


def record_judge(store: RunStore, bon: dict[str, Any]) -> None:
    """The run card names the best-of-N judge, and calls the keyword judge approximate."""
    safety = bon.get("wildguard_bon")
    if not safety:
        return
    store.update_card(judge={"spec": bon["settings"]["judge"], "name": safety["judge"],
                             "label": safety["judge_label"],
                             "fingerprint": safety["judge_fingerprint"],
                             "attack_success": safety["attack_success"]})
    if safety["judge_label"] == "refusal by keywords":
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
