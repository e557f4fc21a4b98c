"""One dataclass tree for every knob; defaults are the embedded, offline run.

Load order: defaults <- preset (``--preset NAME``, a TOML shipped in ``harness/presets``) <- TOML
file (``--config``) <- command-line overrides (``--set a.b=value`` and the flags generated from
the fields, ``harness.commands.config.add_field_flags``). ``Config.hash()`` is a stable SHA-256 of
the settings that decide results, so runs with equal hashes trained and evaluated identically.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from harness.io import canonical_json, sha256_of
from harness.registry import did_you_mean

# Weights/arithmetic for scoring and training; resolved per device by
# ``harness.scoring.reward_model.resolve_dtype``.
Precision = typing.Literal["auto", "fp32", "bf16"]
# How much training each method gets; see TrainConfig.budget.
Budget = typing.Literal["epochs", "steps"]
# How a reward model reads a pair; see harness.scoring.scorer.Scorer.score_pairs.
Form = typing.Literal["bt", "pairpm"]
# lm-eval's two GSM8K answer filters (harness.bon.gsm8k.FILTERS).
GSM8KFilter = typing.Literal["flexible-extract", "strict-match"]


# Settings that decide how work is done, not what it computes: how remote calls are made and
# where a model's layers sit. They are left out of ``Config.hash()`` and of a run's conflict
# check, so a run stopped by a call budget (exit 3) resumes with a larger one, and a run moved
# to other GPUs is the same run. (Numerical settings, precision and attention included, stay in.)
OPERATIONAL = (
    "crome.concurrency", "crome.requests_per_minute", "crome.retries", "crome.timeout_s",
    "crome.max_failure_rate", "crome.breaker_errors",
    "eval.gemini_timeout_s", "eval.gemini_retries", "eval.gemini_requests_per_minute",
    "eval.gemini_concurrency", "eval.gemini_max_calls", "eval.device_map",
)


class ConfigError(ValueError):
    """A bad config file, field or value; the message names it."""


# Fields that existed once: a config that still sets one is told where the setting lives now.
REMOVED = {"crome.tie_weight": "use train.tie_weight, the one lambda on the tie loss (it was "
                               "recorded but never read by the trainer)"}


def _unknown_field(key: str) -> ConfigError:
    if key in REMOVED:
        return ConfigError(f"config field {key!r} was removed: {REMOVED[key]}")
    return ConfigError(f"unknown config field {key!r}"
                       f"{did_you_mean(key, field_keys(), cutoff=0.6)}")


def field_keys(cls: type | None = None, prefix: str = "") -> list[str]:
    """Every settable key, dotted (``train.lr``), for did-you-mean messages."""
    cls = cls or Config
    keys = []
    for f in dataclasses.fields(cls):
        hint = typing.get_type_hints(cls)[f.name]
        if dataclasses.is_dataclass(hint):
            keys += field_keys(hint, f"{prefix}{f.name}.")
        else:
            keys.append(prefix + f.name)
    return keys


@dataclass
class DataConfig:
    train: str = field(
        default="embedded:preferences",
        metadata={"help": "training pairs: embedded:NAME, a file, or a Hub id"},
    )
    heldout_size: int = field(
        default=300, metadata={"help": "seeded held-out pairs, never trained on"}
    )
    rewardbench: str = field(
        default="embedded:rewardbench",
        metadata={"help": "RewardBench pairs (file, Hub id, or embedded)"},
    )
    wildguard: str = field(
        default="embedded:safety_prompts", metadata={"help": "best-of-N safety prompts"}
    )
    gsm8k: str = field(
        default="embedded:math_problems", metadata={"help": "best-of-N math problems"}
    )
    limit: int | None = field(
        default=None, metadata={"help": "stratified sample size for evaluation"}
    )
    rmbench: str = field(
        default="THU-KEG/RM-Bench",
        metadata={"help": "RM-Bench (rmbench suite): a file, a folder of per-domain files, or "
                          "a Hub id"},
    )


@dataclass
class ModelConfig:
    backbone: str = field(default="minilm-l6", metadata={"help": "registered name, Hub id or path"})
    mode: str = field(default="frozen", metadata={
        "help": "full | lora | frozen (default: measured in benchmarks/README.md, as accurate "
                "as full at a fraction of the time on CPU)"})
    form: Form = field(default="bt", metadata={
        "help": "bt (Bradley-Terry, one reward per response) | pairpm (pairwise)"})
    max_length: int = field(default=256, metadata={"help": "tokens per (prompt, response) input"})
    lora_r: int = 16
    lora_alpha: int = 32
    frozen_top_layers: int = field(default=2, metadata={"help": "frozen mode: top layers trained"})


@dataclass
class TrainConfig:
    lr: float = 2e-5
    epochs: float = field(default=1.0, metadata={
        "help": "passes over the method's own pairs (budget=epochs), or over the original "
                "pairs, which sets the shared step count (budget=steps)"})
    budget: Budget = field(default="epochs", metadata={
        "help": "epochs: each method trains train.epochs over its own data, as the papers do "
                "(augmented methods take more steps); steps: every method takes the optimizer "
                "steps that train.epochs over the original pairs take (compute-matched)"})
    batch_size: int = 8
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    tie_weight: float = field(default=1.0, metadata={
        "help": "lambda on the tie loss: RRM's ties and Crome's neutrals (one knob, so methods "
                "compared in one run share it)"})
    margin: float = field(
        default=0.0, metadata={"help": "BT margin added to the reward difference"}
    )
    center_rewards: float = field(default=0.0, metadata={"help": "weight of mean((r_c+r_r)^2)"})
    max_pairs: int | None = field(default=None, metadata={"help": "cap on training pairs"})
    save_every: int = field(default=50, metadata={"help": "checkpoint every N optimizer steps"})
    max_grad_norm: float = 1.0
    precision: Precision = field(
        default="auto", metadata={"help": "auto (bf16 autocast on GPU, fp32 on CPU), fp32, or "
                                          "bf16 (autocast on any device)"})


@dataclass
class RRMConfig:
    borrowed_per_pair: int = field(default=1, metadata={"help": "own-vs-borrowed pairs per pair"})
    tie_ratio: float = field(default=0.25, metadata={"help": "borrowed-vs-borrowed ties per pair"})
    filter_threshold: float | None = field(
        default=0.9, metadata={"help": "drop augmented pairs the vanilla RM gets right with P>=t"}
    )


@dataclass
class CromeConfig:
    oracle: str = field(default="rules", metadata={"help": "gemini | hf | rules"})
    oracle_model: str = field(
        default="",
        metadata={"help": "oracle model; empty = its default (gemini-2.0-flash, smollm2-135m)"},
    )
    filter_threshold: float | None = 0.9
    neutrals_per_pair: float = 0.5
    rubrics_per_pair: int = field(
        default=1, metadata={"help": "rewrites per direction per pair (degrade, upgrade)"}
    )
    concurrency: int = 4
    requests_per_minute: float | None = field(
        default=300.0, metadata={"help": "rate limit on remote oracle calls (none = no limit)"}
    )
    retries: int = field(default=5, metadata={"help": "retries on 429/5xx/timeouts, per call"})
    timeout_s: float = field(default=60.0, metadata={"help": "remote oracle call timeout"})
    max_failure_rate: float = field(default=0.05, metadata={
        "help": "failure budget: the run stops with an error once more than this share of the "
                "oracle requests asked have failed after their retries"})
    breaker_errors: int = field(default=12, metadata={
        "help": "circuit breaker: this many transient oracle errors in a row (no answer in "
                "between) stop the run at once as the oracle being down"})


@dataclass
class EvalConfig:
    # diagnostics reuses the rewardbench suite's cached scores: it costs one tokenizer pass
    # wildguard_bon and gsm8k_bon: best-of-N after evaluation in ``harness run`` (see BonConfig)
    suites: list[str] = field(default_factory=lambda: ["preference", "rewardbench", "reword",
                                                       "diagnostics", "wildguard_bon",
                                                       "gsm8k_bon"])
    transforms: list[str] = field(default_factory=list, metadata={"help": "empty = all rule-based"})
    reword_limit: int | None = field(
        default=None, metadata={"help": "stratified sample for reword only (None: data.limit); "
                                        "28 transforms cost 28x the scoring of rewardbench"})
    batch_tokens: int | None = field(
        default=None, metadata={"help": "token budget per scoring batch (None: 4096 on CPU, "
                                        "16384 on GPU)"})
    precision: Precision = field(
        default="auto", metadata={"help": "scoring weights: auto (bf16 on GPU, fp32 on CPU), "
                                          "fp32, or bf16 (~2.4x faster on a bf16 CPU, scores "
                                          "move ~1e-3)"})
    bootstrap: int = 2000
    dpo_beta: float = field(
        default=0.1, metadata={"help": "beta of DPO implicit rewards (dpo:POLICY), r = beta * "
                                       "(log p_policy - log p_ref); it scales rewards and "
                                       "margins, never accuracies"})
    dpo_ref: str = field(
        default="", metadata={"help": "reference model of dpo:POLICY names (harness eval --ref); "
                                      "dpo:POLICY@REF names their own"})
    judge_template: str = field(
        default="", metadata={"help": "pairwise template file of judge:MODEL reward models "
                                      "(harness eval --judge-template); empty = the default, "
                                      "harness/scoring/templates/judge_pairwise.toml"})
    device_map: str = field(
        default="", metadata={"help": "where local models' layers go: empty = one device (this "
                                      "rank's GPU, else the CPU); auto = spread one model over "
                                      "every visible GPU (accelerate), for models larger than "
                                      "one GPU"})
    trust_remote_code: bool = field(
        default=False, metadata={"help": "run modelling code shipped with a checkpoint (it runs "
                                         "with your rights: only for checkpoints you trust)"})
    attn_implementation: str = field(
        default="", metadata={"help": "attention of local models: empty = transformers' choice "
                                      "(sdpa, PyTorch's fused attention, where the architecture "
                                      "has it, else eager); sdpa, flash_attention_2 (needs "
                                      "flash-attn) or eager to force one"})
    gemini_timeout_s: float = field(
        default=60.0, metadata={"help": "gemini:MODEL judges: seconds per call"})
    gemini_retries: int = field(
        default=5, metadata={"help": "gemini:MODEL judges: retries on 429/5xx/timeouts per call, "
                                     "with exponential backoff"})
    gemini_requests_per_minute: float | None = field(
        default=300.0, metadata={"help": "gemini:MODEL judges: rate limit (none = no limit)"})
    gemini_concurrency: int = field(
        default=4, metadata={"help": "gemini:MODEL judges: calls in flight at once"})
    gemini_max_calls: int | None = field(
        default=None, metadata={"help": "gemini:MODEL judges: stop after this many new calls "
                                        "(harness eval --max-calls; cached answers are free, a "
                                        "rerun continues); none = no limit"})


@dataclass
class BonConfig:
    """Best-of-N (``harness bon``, and ``harness run`` when ``eval.suites`` names best-of-N
    suites): every knob of it, the ``harness bon`` flags included (they are generated from these
    fields). The defaults are sized for the default ``harness run`` on 2 CPU cores: 8 prompts x
    4 samples x 96 tokens per suite, about a minute with SmolLM2-135M."""

    policy: str = field(
        default="smollm2-135m", metadata={"help": "sampler: a backbone, dir, Hub id or vllm:MODEL"}
    )
    judge: str = field(
        default="keywords",
        metadata={"help": "safety judge: keywords (refusal by keywords, approximate) | "
                          "wildguard | wildguard:PATH"},
    )
    n_max: int = field(
        default=4, metadata={"help": "samples per prompt; curves at n = 1, 2, 4, ... n_max "
                                     "(4 keeps the default run within 10 minutes on 2 cores)"}
    )
    limit: int = field(
        default=8, metadata={"help": "seeded stratified prompts per suite (0 = all; 8 keeps the "
                                     "default run within 10 minutes on 2 cores)"}
    )
    temperature: float = field(default=0.8, metadata={"help": "sampling temperature (0 = "
                                                               "greedy)"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling (1 = off)"})
    max_new_tokens: int = field(
        default=96, metadata={"help": "tokens per sample (96 sized for the 2-core default run)"}
    )
    batch_size: int = field(default=16, metadata={"help": "prompts per policy generate call"})
    gsm8k_filter: GSM8KFilter = field(
        default="flexible-extract",
        metadata={"help": "lm-eval's GSM8K answer extraction: flexible-extract (last number) | "
                          "strict-match ('#### N')"})


@dataclass
class Config:
    seed: int = field(default=0, metadata={
        "help": "the one seed: data split, augmentation, head init, batches, bootstrap"})
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    rrm: RRMConfig = field(default_factory=RRMConfig)
    crome: CromeConfig = field(default_factory=CromeConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    bon: BonConfig = field(default_factory=BonConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def hash(self) -> str:
        """The settings that decide results (``OPERATIONAL`` ones left out)."""
        return sha256_of(self.results_dict())[:16]

    def results_dict(self) -> dict[str, Any]:
        """``to_dict`` without the ``OPERATIONAL`` settings."""
        data = self.to_dict()
        for key in OPERATIONAL:
            section, _, leaf = key.partition(".")
            data.get(section, {}).pop(leaf, None)
        return data

    def training_hash(self) -> str:
        """The hash of what a trained model depends on besides its data: seed, model and
        trainer settings. Evaluation, best-of-N or data-source changes keep trained models
        reusable (the trainer checks the training pairs' own hash separately)."""
        data = self.to_dict()
        return sha256_of({k: data[k] for k in ("seed", "model", "train")})[:16]

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        return _build(cls, data, "")

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: list[str] | None = None,
             preset: str | None = None) -> Config:
        """defaults <- ``preset`` (a shipped ``harness/presets/NAME.toml``) <- the TOML file at
        ``path`` <- ``overrides`` (``a.b=value``)."""
        data: dict[str, Any] = {}
        if preset:
            from harness.presets import preset_names, preset_path

            file = preset_path(preset)
            if file is None:
                raise ConfigError(f"unknown preset {preset!r} (known: "
                                  f"{', '.join(preset_names())})")
            data = _read_toml(file)
        if path:
            data = _merge(data, _read_toml(path))
        config = cls.from_dict(data)
        for item in overrides or []:
            config.set(item)
        return config

    def set(self, assignment: str) -> None:
        """Apply ``a.b=value``; the value is parsed as TOML where it can be, else as text."""
        key, sep, raw = assignment.partition("=")
        if not sep:
            raise ConfigError(f"override {assignment!r}: expected KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        self.set_value(key.strip(), value)

    def get_value(self, key: str) -> Any:
        """The value at a dotted key (``data.gsm8k``); unknown keys get a did-you-mean error."""
        value: Any = self
        for part in key.split("."):
            if not dataclasses.is_dataclass(value) or part not in _field_names(value):
                raise _unknown_field(key)
            value = getattr(value, part)
        return value

    def set_value(self, key: str, value: Any) -> None:
        *parents, leaf = key.split(".")
        target: Any = self
        for part in parents:
            if not dataclasses.is_dataclass(target) or part not in _field_names(target):
                raise ConfigError(f"unknown config section {key!r}"
                                  f"{did_you_mean(key, field_keys(), cutoff=0.6)}")
            target = getattr(target, part)
        if not dataclasses.is_dataclass(target) or leaf not in _field_names(target):
            raise _unknown_field(key)
        hint = typing.get_type_hints(type(target))[leaf]
        setattr(target, leaf, _coerce(value, hint, key))


def _read_toml(path: str | Path) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {err}") from None


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``, table by table (a value in ``top``, lists included, replaces)."""
    out = dict(base)
    for key, value in top.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if both else value
    return out


def _field_names(obj: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(obj)}


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a table")
    hints = typing.get_type_hints(cls)
    known = _field_names(cls)
    unknown = set(data) - known
    for name in sorted(unknown):
        if prefix + name in REMOVED:
            raise _unknown_field(prefix + name)
    if unknown:
        raise ConfigError(
            f"unknown config field(s): {', '.join(prefix + k for k in sorted(unknown))}"
        )
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value, f"{prefix}{name}.")
        else:
            kwargs[name] = _coerce(value, hint, prefix + name)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check and convert a value against a field's type (ints widen to floats, text to lists)."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{key}: {value!r} is not one of "
                              f"{', '.join(map(str, typing.get_args(hint)))}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: {value!r} does not fit {hint}")
    if origin is list:
        (inner,) = typing.get_args(hint)
        if isinstance(value, str):  # "a,b" or TOML-like "[a, 'b']"
            body = value.strip().removeprefix("[").removesuffix("]")
            value = [v.strip().strip("'\"") for v in body.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return [_coerce(v, inner, key) for v in value]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if hint is int and isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if hint is bool and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if (
        isinstance(hint, type)
        and not isinstance(value, hint)
        or isinstance(value, bool)
        and hint is not bool
    ):
        raise ConfigError(f"{key}: expected {getattr(hint, '__name__', hint)}, got {value!r}")
    return value


def to_toml(config: Config) -> str:
    """Render a config as TOML (the inverse of ``Config.load``) for run records and display."""
    lines = [f"seed = {config.seed}"]
    for section in dataclasses.fields(config):
        value = getattr(config, section.name)
        if not dataclasses.is_dataclass(value):
            continue
        lines.append(f"\n[{section.name}]")
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            # TOML has no null: "none" reads back as None for optional fields.
            lines.append(f"{f.name} = {json.dumps('none' if item is None else item)}")
    return "\n".join(lines) + "\n"


def with_form(config: Config, form: str) -> Config:
    """A copy of ``config`` whose reward-model form is ``form`` (a run training both forms)."""
    copy = Config.from_dict(config.to_dict())
    copy.set_value("model.form", form)
    return copy
