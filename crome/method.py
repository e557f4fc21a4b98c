"""The ``crome`` training method: augment (rubrics, causal rewrites, neutrals), filter with the
vanilla RM, and train on originals plus what survived, with the tie loss on the neutrals.

Everything comes from ``config.crome``: the oracle and its model, rewrites and neutrals per pair,
the filter threshold and the call policy. Lambda on the neutrals' tie loss is
``train.tie_weight``, shared with every method in a run. Originals are always kept; the filter drops
augmented pairs the vanilla RM already gets right with confidence
(``harness.methods.confidently_right``). Counts are reported per augmentation type before and
after filtering; what an approximate oracle (``rules``, ``hf``) approximates is listed in
``MethodData.approximate``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from crome.augment import AUGMENTATION_TYPES, AugmentResult, Progress, augment_pairs
from crome.cache import OracleCache, default_cache_path
from crome.calls import CallPolicy, OracleRunner
from crome.errors import NoCausalPairs
from crome.oracles import Oracle, make_oracle
from harness.config import Config
from harness.cues import augmentation_groups, balance_report
from harness.data.schema import PreferencePair
from harness.methods import METHODS, FilterScores, Method, MethodData, filter_augmented

RULES_APPROXIMATION = (
    "crome oracle 'rules': causal rubrics and rewrites by offline heuristics, not an LLM "
    "(numbers/entities corrupted, steps replaced by copies of other steps, off-topic sentences "
    "swapped in, refusals turned into compliant non-answers; lengths balanced, markdown kept; "
    "only wrong equations are upgraded; cues of its own: a completeness degrade repeats a step, "
    "a safety degrade opens with one of a few fixed compliant phrases)"
)


def make_runner(config: Config, oracle_name: str | None = None,
                cache_path: str | Path | None = None) -> tuple[Oracle, OracleRunner]:
    """The configured oracle and its runner (cache, concurrency, rate limit, retries)."""
    cfg = config.crome
    oracle = make_oracle(oracle_name or cfg.oracle, cfg.oracle_model, seed=config.seed,
                         timeout_s=cfg.timeout_s)
    cache = OracleCache(cache_path or default_cache_path()) if oracle.cacheable else None
    policy = CallPolicy(concurrency=cfg.concurrency, requests_per_minute=cfg.requests_per_minute,
                        retries=cfg.retries, breaker_errors=cfg.breaker_errors,
                        max_failure_rate=cfg.max_failure_rate)
    return oracle, OracleRunner(oracle, cache, policy, seed=config.seed)


def augment_with_config(pairs: list[PreferencePair], config: Config, *,
                        oracle_name: str | None = None, cache_path: str | Path | None = None,
                        progress: Progress | None = None) -> AugmentResult:
    oracle, runner = make_runner(config, oracle_name, cache_path)
    try:
        return augment_pairs(pairs, oracle, runner, seed=config.seed,
                             rubrics_per_pair=config.crome.rubrics_per_pair,
                             neutrals_per_pair=config.crome.neutrals_per_pair, progress=progress)
    finally:
        if runner.cache is not None:
            runner.cache.close()


HF_APPROXIMATION = (
    "crome oracle 'hf' ({model}): causal rubrics and rewrites by a small local chat model "
    "(the default, smollm2-135m, has 135M parameters) instead of the paper's Gemini 2.0 Flash; "
    "rewrites that fail the text checks (identical, echo, cosmetic, nothing changed) are "
    "dropped, but whether the named rubric really moved is not verified"
)


def approximations(result: AugmentResult) -> list[str]:
    """What the oracle approximates, in words (empty for the paper's kind of oracle)."""
    if not result.approximate:
        return []
    if result.oracle == "rules":
        return [RULES_APPROXIMATION]
    if result.oracle == "hf":
        return [HF_APPROXIMATION.format(model=result.model)]
    return [f"crome oracle '{result.oracle}' ({result.model}) is marked approximate"]


def require_causal(result: AugmentResult) -> None:
    """Refuse to train "Crome" on an augmentation with no causal pair: that model would be
    Vanilla plus neutral ties under Crome's name (a dead oracle, or one whose every answer was
    malformed, declined or rejected by the checks)."""
    counts = result.counts
    if counts["original"] and not counts["causal-degrade"] + counts["causal-upgrade"]:
        raise NoCausalPairs(
            f"the {result.oracle} oracle made no causal pair out of {counts['original']} pairs "
            f"(calls {counts['oracle_calls']}, cached {counts['cache_hits']}, failed "
            f"{counts['failed']}, malformed {counts['malformed_skipped']}, rejected by the "
            f"checks {counts['rewrites_rejected']}, declined "
            f"{counts['degrade_skipped'] + counts['upgrade_skipped']}); a Crome RM is not "
            "trained without them. `harness augment` shows why")


def build(pairs: list[PreferencePair], config: Config,
          filter_scores: FilterScores | None = None) -> MethodData:
    result = augment_with_config(pairs, config)
    require_causal(result)
    kept, dropped = filter_augmented(result.pairs, config.crome.filter_threshold, filter_scores)
    kept_by_type = Counter(p.extra["augmentation"] for p in kept)
    counts = dict(result.counts)
    counts["filtered_out"] = dropped
    counts.update({f"{t}_kept": kept_by_type.get(t, 0) for t in AUGMENTATION_TYPES})
    details = {
        "oracle": result.oracle, "oracle_model": result.model, **result.details,
    }
    # The filter can bring a cue back (a length-reliant baseline drops the pairs where the
    # longer answer wins), so the balance of what is trained on is reported too.
    details["cue_balance"] = {**result.details["cue_balance"],
                              "kept": balance_report(kept, augmentation_groups())}
    return MethodData(list(pairs) + kept, counts, approximations(result), details)


METHODS.add("crome", Method(
    "crome", "Crome: oracle causal rubrics, degrade/upgrade rewrites, irrelevant-query neutral "
    "ties; filtered by the vanilla RM", build, uses_filter=True))
