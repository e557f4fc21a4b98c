"""From a data source to a trained RM for any method: split, build the method's data (training
the vanilla filter RM first when the method needs one), train, and record what happened.

Everything lands in one output folder: ``heldout.jsonl`` (never trained on), ``train_pairs.jsonl``
(exactly what the trainer saw), ``method.json`` (augmentation counts), ``train_log.jsonl``
(loss, gradient norm and pairs per optimizer step), ``model/`` (the RM) and,
for filtering methods, ``filter-vanilla/`` (the baseline RM). Each step is skipped when its output
exists for the same settings, so rerunning a killed command resumes it.
"""

from __future__ import annotations

from pathlib import Path

from harness.config import Config
from harness.data.loaders import load_pairs, write_pairs
from harness.data.schema import PreferencePair
from harness.io import write_json
from harness.methods import FilterScores, get_method
from harness.training.batches import split_heldout, steps_for
from harness.training.trainer import TrainResult, train_reward_model


def prepare_split(config: Config, out: Path, limit: int | None = None
                  ) -> tuple[list[PreferencePair], list[PreferencePair]]:
    pairs = load_pairs(config.data.train, limit=limit)
    train, heldout = split_heldout(pairs, config.data.heldout_size, config.seed)
    if config.train.max_pairs is not None:
        train = train[: config.train.max_pairs]
    write_pairs(heldout, out / "heldout.jsonl")
    return train, heldout


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
    method = get_method(method_name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train, _ = prepare_split(config, out, limit)
    steps = budget_steps(config, len(train))
    filter_scores = None
    if method.uses_filter:
        if filter_model is None:
            vanilla = get_method("vanilla").build(train, config, None)
            result = train_reward_model(vanilla.pairs, config, out / "filter-vanilla",
                                        method="vanilla", steps=steps,
                                        show_progress=show_progress)
            filter_model = result.model_dir
        filter_scores = score_differences(filter_model, config)
    data = method.build(train, config, filter_scores)
    write_pairs(data.pairs, out / "train_pairs.jsonl")
    write_json(out / "method.json", {"method": method_name, "counts": data.counts,
                                     "approximate": data.approximate, **data.details,
                                     "filter_model": filter_model})
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
