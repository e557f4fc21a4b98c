"""From a data source to a trained RM for any method: split, build the method's data (training
the vanilla filter RM first when the method needs one), train, and record what happened.

Everything lands in one output folder: ``heldout.jsonl`` (never trained on), ``train_pairs.jsonl``
(exactly what the trainer saw), ``method.json`` (augmentation counts), ``train_log.jsonl``
(loss, gradient norm and pairs per optimizer step), ``model/`` (the RM) and,
for filtering methods, ``filter-vanilla/`` (the baseline RM, trained only once the augmentation
exists and needs filtering, so an oracle failure costs no training). Each step is skipped when
its output exists for the same settings, so rerunning a killed command resumes it.

``inputs.json`` records what the folder is trained from (method, the training data's content
hash, split and method settings, trainer settings). A rerun into the folder with other inputs is
refused with ``RunConflict`` before anything is written, so an old model never ends up beside
new data files; a folder from before ``inputs.json`` is checked by its held-out split.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.config import OPERATIONAL, Config
from harness.data.loaders import write_pairs
from harness.data.schema import PreferencePair
from harness.io import read_jsonl, write_json
from harness.methods import METHODS, FilterScores
from harness.training.batches import steps_for, training_split
from harness.training.trainer import TrainResult, train_reward_model

INPUTS_FILE = "inputs.json"


# How oracle calls are made, not what they answer: changing them (say a longer timeout after
# an outage) keeps a train folder's inputs the same (``harness.config.OPERATIONAL``).
CALL_SETTINGS = tuple(key.partition(".")[2] for key in OPERATIONAL if key.startswith("crome."))


def folder_inputs(method_name: str, config: Config, limit: int | None) -> dict:
    """What a train folder's contents depend on (see the module docstring)."""
    from harness.runstore import source_hash

    settings = {k: v for k, v in config.to_dict().get(method_name, {}).items()
                if k not in CALL_SETTINGS}
    return {"method": method_name, "data": {"source": config.data.train,
                                            "sha256": source_hash(config.data.train)},
            "limit": limit, "heldout_size": config.data.heldout_size,
            "training": config.training_hash(), "settings": settings}


def check_folder(out: Path, inputs: dict, heldout: list[PreferencePair]) -> None:
    """Refuse a folder that holds training from other inputs (before writing anything)."""
    from harness.io import canonical_json
    from harness.runstore import RunConflict

    recorded = out / INPUTS_FILE
    if recorded.exists():
        then = json.loads(recorded.read_text(encoding="utf-8"))
        then["settings"] = {k: v for k, v in then.get("settings", {}).items()
                            if k not in CALL_SETTINGS}  # recorded by an earlier version
        changed = [key for key in sorted({*then, *inputs}) if then.get(key) != inputs.get(key)]
        if changed:
            raise RunConflict(
                f"{out} holds a model trained from other inputs ({', '.join(changed)} "
                f"differ: {', '.join(f'{k}={then.get(k)!r}' for k in changed)} then); "
                "choose another --out")
        return
    old = out / "heldout.jsonl"
    if old.exists():  # a folder from before inputs.json: its held-out split must match
        now = [canonical_json(p.to_record()) for p in heldout]
        then = [canonical_json(record) for record in read_jsonl(old)]
        if now != then:
            raise RunConflict(f"{out} holds a model trained on other data (its held-out split "
                              "differs); choose another --out")


def score_differences(model_dir: str | Path, config: Config) -> FilterScores:
    """r(first) - r(second) for pairs, from a trained RM through the shared scorer."""
    from harness.scoring.reward_model import load_reward_model
    from harness.scoring.scorer import Scorer

    def score(pairs: list[PreferencePair]) -> list[float]:
        # precision "auto" on purpose: which augmented pairs the filter keeps is training data,
        # so it must not change with eval.precision (exact on a CPU, bf16 on a GPU).
        rm = load_reward_model(str(model_dir), max_length=config.model.max_length,
                               precision="auto")
        chosen, rejected, _ = Scorer(rm).score_pairs(pairs)
        return [c - r for c, r in zip(chosen, rejected, strict=True)]

    return score


def train_method(method_name: str, config: Config, out_dir: str | Path, *,
                 limit: int | None = None, filter_model: str | None = None,
                 show_progress: bool = True) -> TrainResult:
    method = METHODS.get(method_name)
    out = Path(out_dir)
    train, heldout = training_split(config, limit)
    inputs = folder_inputs(method_name, config, limit)
    check_folder(out, inputs, heldout)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / INPUTS_FILE, inputs)
    write_pairs(heldout, out / "heldout.jsonl")
    steps = budget_steps(config, len(train))
    filter_scores = None
    used = {"model": filter_model}
    if method.uses_filter:
        def filter_scores(augmented: list[PreferencePair]) -> list[float]:
            # Called once the augmentation is made: a failing oracle stops the command
            # before any training, the baseline RM included.
            if used["model"] is None:
                vanilla = METHODS.get("vanilla").build(train, config, None)
                used["model"] = train_reward_model(
                    vanilla.pairs, config, out / "filter-vanilla", method="vanilla",
                    steps=steps, show_progress=show_progress).model_dir
            return score_differences(used["model"], config)(augmented)
    data = method.build(train, config, filter_scores)
    write_pairs(data.pairs, out / "train_pairs.jsonl")
    write_json(out / "method.json", {"method": method_name, "counts": data.counts,
                                     "approximate": data.approximate, **data.details,
                                     "filter_model": used["model"]})
    return train_reward_model(data.pairs, config, out, method=method_name,
                              meta={"method": method_name, "counts": data.counts,
                                    "approximate": data.approximate},
                              steps=steps, show_progress=show_progress)


def budget_steps(config: Config, original_pairs: int) -> int | None:
    """``train.budget=steps``: every method takes the optimizer steps that ``train.epochs``
    over the original pairs take (what Vanilla takes), whatever it adds; None for ``epochs``."""
    if config.train.budget != "steps":
        return None
    return steps_for(original_pairs, config.train.batch_size, config.train.epochs)
