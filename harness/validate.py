"""Checks that run before any work: every setting, method, suite, model name and data source a
command will use, so a typo fails in a second with a did-you-mean error rather than after the
split, the training or the run card (``harness run`` writes its card only after these pass).

Each check raises ``ConfigError`` or ``RegistryError`` (the CLI prints them as one ``error:`` line
and exits 2); ``DataError`` comes from loading the training data, which also checks that the
held-out split leaves pairs to train on.
"""

from __future__ import annotations

import contextvars
import math
import os
import re
import sys
from pathlib import Path

from harness.config import Config, ConfigError
from harness.registry import RegistryError, did_you_mean

# A Hugging Face Hub id: NAME or OWNER/NAME, letters, digits, '-', '_' and '.'.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def check_choice(key: str, value: str, known: list[str]) -> None:
    if value not in known:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(known)}"
                          f"{did_you_mean(value, known)}")


def _check_range(key: str, value: float | int | None, low: float | None = None,
                 high: float | None = None, *, above: bool = False) -> None:
    if value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}: {value!r} is not a finite number")
    if low is not None and (value <= low if above else value < low):
        raise ConfigError(f"{key}: {value!r} must be {'>' if above else '>='} {low:g}")
    if high is not None and value > high:
        raise ConfigError(f"{key}: {value!r} must be <= {high:g}")


# (key, low, high, above): the meaningful range of each numeric setting; ``above``: the low
# bound itself is refused (a learning rate of 0).
RANGES: tuple[tuple[str, float | None, float | None, bool], ...] = (
    ("train.lr", 0.0, None, True),
    ("train.epochs", 0.0, None, True),
    ("train.batch_size", 1, None, False),
    ("train.weight_decay", 0.0, None, False),
    ("train.warmup_ratio", 0.0, 1.0, False),
    ("train.tie_weight", 0.0, None, False),
    ("train.margin", None, None, False),
    ("train.center_rewards", 0.0, None, False),
    ("train.max_pairs", 1, None, False),
    ("train.save_every", 1, None, False),
    ("train.max_grad_norm", 0.0, None, False),
    ("model.max_length", 1, None, False),
    ("data.heldout_size", 0, None, False),
    ("data.limit", 1, None, False),
    ("crome.neutrals_per_pair", 0.0, None, False),
    ("crome.rubrics_per_pair", 1, None, False),
    ("crome.concurrency", 1, None, False),
    ("crome.requests_per_minute", 0.0, None, True),
    ("crome.retries", 0, None, False),
    ("crome.timeout_s", 0.0, None, True),
    ("crome.max_failure_rate", 0.0, 1.0, False),
    ("crome.breaker_errors", 1, None, False),
    ("crome.filter_threshold", 0.0, 1.0, False),
    ("rrm.filter_threshold", 0.0, 1.0, False),
    ("rrm.borrowed_per_pair", 0, None, False),
    ("rrm.tie_ratio", 0.0, None, False),
    ("bon.n_max", 1, None, False),
    ("bon.limit", 0, None, False),
    ("bon.temperature", 0.0, None, False),
    ("bon.max_new_tokens", 1, None, False),
    ("bon.top_p", 0.0, 1.0, True),
    ("bon.batch_size", 1, None, False),
    ("eval.bootstrap", 0, None, False),
)


def check_numbers(config: Config) -> None:
    """Numeric settings inside their meaningful ranges (NaN and infinities refused)."""
    for key, low, high, above in RANGES:
        _check_range(key, config.get_value(key), low, high, above=above)


def check_transforms(names: list[str]) -> None:
    """Every transform named in ``eval.transforms`` exists (close matches suggested)."""
    from transforms import TRANSFORMS

    for name in names:
        check_choice("eval.transforms", name, TRANSFORMS.names())


# Set while ``--plan`` runs a command's checks: a Hub model missing from an offline cache is
# then a warning (the plan describes the work; the command itself refuses).
PLANNING: contextvars.ContextVar[bool] = contextvars.ContextVar("planning", default=False)


def check_model_name(name: str, what: str = "reward model", *, dpo_ref: str = "") -> None:
    """A reward model (or, with ``what="backbone"``, a backbone) spec resolves to something: a
    registered name, an existing path, or a Hub id (in the local cache when the Hub is
    offline); a ``dpo:POLICY`` without its reference (``@REF`` or ``dpo_ref``) is refused."""
    from harness.scoring.names import dpo_reference

    if what != "backbone":
        dpo_reference(name, dpo_ref)  # a dpo:POLICY without its reference is refused here
    from harness.models.backbones import BACKBONES
    from harness.scoring.base import REWARD_MODELS
    from harness.scoring.names import kind_of, referenced_models

    inner = referenced_models(name) if what != "backbone" else None
    if inner is not None:  # dpo:POLICY[@REF], judge:MODEL: check the causal LMs they name
        for model in inner:
            check_model_name(model, f"{what} {name!r}: model")
        return
    if what != "backbone" and kind_of(name) is not None:  # a plugin's KIND:NAME: its loader
        return  # checks NAME when it loads
    known = BACKBONES.names() + ([] if what == "backbone" else REWARD_MODELS.names())
    if name in known or Path(name).exists():
        return
    known = sorted(known)
    hint = did_you_mean(name, known)
    if HUB_ID.match(name) and not hint:
        if os.environ.get("HF_HUB_OFFLINE", "") not in ("1", "true", "TRUE", "yes"):
            return  # it may exist on the Hub; loading it says if not
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(name, "config.json"), str):
            return
        if PLANNING.get():  # a plan may describe a run for a machine that can download it
            print(f"warning: {what} {name!r} is not in the local Hugging Face cache and the Hub "
                  "is offline: the run itself would stop here", file=sys.stderr)
            return
        raise RegistryError(f"{what} {name!r}: not in the local Hugging Face cache and the Hub "
                            "is offline (HF_HUB_OFFLINE=1)")
    raise RegistryError(f"unknown {what} {name!r}{hint} (not one of {', '.join(known)}, not an "
                        "existing path, not a Hub id OWNER/NAME)")


def check_settings(config: Config) -> None:
    """Every enumerated setting against its registry, every number against its range."""
    from crome.oracles import ORACLES
    from harness.training.modes import MODES

    check_choice("model.mode", config.model.mode, MODES.names())  # model.form: a Literal
    check_choice("crome.oracle", config.crome.oracle, ORACLES.names())
    check_suites(config.eval.suites)
    check_numbers(config)
    check_model_name(config.model.backbone, "backbone")


def known_suites() -> list[str]:
    from harness.bon.suites import BON_SUITES
    from harness.suites import SUITES

    return sorted({*SUITES.names(), *BON_SUITES})


def check_suites(suites: list[str]) -> None:
    known = known_suites()
    for suite in suites:
        check_choice("eval.suites", suite, known)


def check_methods(methods: list[str]) -> None:
    from harness.methods import METHODS

    if not methods:
        raise ConfigError(f"no method given; known: {', '.join(METHODS.names())}")
    for method in methods:
        METHODS.get(method)  # RegistryError with a did-you-mean


def check_training_data(config: Config, limit: int | None = None) -> None:
    """Load the training pairs (format, encoding, fields: a ``DataError`` names file and line)
    and check that the held-out split leaves pairs to train on."""
    from harness.training.batches import training_split

    if PLANNING.get() and not is_local(config.data.train):  # a Hub dataset: the plan says "?"
        return
    training_split(config, limit)


def check_run(config: Config, methods: list[str], forms: list[str] | None = None,
              eval_models: list[str] = ()) -> None:
    """Everything ``harness run`` will use, before its run card or any work."""
    import typing

    from harness.config import Form

    forms_known = list(typing.get_args(Form))
    check_settings(config)
    for form in forms or []:
        check_choice("--form", form, forms_known)
    check_methods(methods)
    for model in eval_models:
        check_model_name(model, "--eval-model", dpo_ref=config.eval.dpo_ref)
    check_training_data(config)
    check_eval_data(config)


def data_key(suite: str) -> str:
    """The config key of the data ``suite`` reads: every suite, evaluation or best-of-N,
    built-in or plugin, names its own (``Suite.data_key``, ``BonSuite.data_key``)."""
    from harness.bon.suites import BON_SUITES, get_suite
    from harness.suites import SUITES

    return get_suite(suite).data_key if suite in BON_SUITES else SUITES.get(suite).data_key


def is_local(source: str) -> bool:
    """Embedded data or a path on this machine, possibly with a ``:split`` after it (a Hub id
    is left to the loader)."""
    path = Path(source)
    return (source.startswith(("embedded:", "./", "../", "/")) or path.exists()
            or Path(source.partition(":")[0]).exists()
            or path.suffix.lower() in (".jsonl", ".json", ".parquet", ".ndjson"))


def check_eval_data(config: Config) -> None:
    """Load every local data source the requested suites read (format, encoding, fields), so
    a bad RewardBench or best-of-N file fails before training, not after it."""
    from harness.data.loaders import load_items
    from harness.data.rmbench import load_rmbench

    # data.train is loaded by check_training_data (and preference reads its held-out split)
    keys = dict.fromkeys(k for k in map(data_key, config.eval.suites) if k != "data.train")
    for key in keys:
        source = config.get_value(key)
        if is_local(source):
            (load_rmbench if key == "data.rmbench" else load_items)(source)  # a folder of files
