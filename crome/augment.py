"""Crome's augmentation, steps 1-3: causal rubrics, causal rewrites, irrelevant-query neutrals.

Step 1: the oracle lists each distinct prompt's causal rubrics (a malformed answer falls back to
``DEFAULT_RUBRICS``, counted). Step 2: per pair, the chosen answer is degraded along one rubric
(chosen beats its degraded copy) and the rejected answer is upgraded along one rubric (the
upgrade beats the rejected original); the paper leaves open which answer is edited, so we do
both. The rubric is drawn per (pair, direction) from the prompt's list in a seeded order; when
the oracle declines it (no such rewrite, a rule that does not apply) or its rewrite fails the
checks of ``crome.checks`` (identical, an echo, cosmetic, ...; counted by reason in
``details["rewrite_rejections"]``), the next one in that order is tried, so one pair costs
``rubrics_per_pair`` rewrites per direction in the usual case.
Step 3 (IQN, no oracle): a pair's two answers are re-attached to an unrelated prompt from the
data and labelled a tie: under a question neither answers, only spurious differences remain.
The paper takes those answer pairs "from the original data or from the causal augmentations";
we do both: each neutral's answer pair is drawn from the original pair and its causal rewrites,
so a degraded copy and its original (a pair that differs mostly in one attribute and in length)
also appear as a tie when the question is irrelevant. ``neutrals_per_pair`` is a rate per
original pair (the fraction is a seeded coin).

Every augmented pair records its type (``causal-degrade``, ``causal-upgrade``, ``neutral``),
rubric, oracle, oracle model and whether it is approximate (an oracle that is not an LLM of the
paper's class: ``rules``, ``hf``).
``details["cue_balance"]`` says whether the augmentation adds a length or markdown cue
(``harness.cues``): per augmentation type and per rubric, how often the preferred response is
the longer one / the one with more markdown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crome.calls import OracleRunner, RewriteRequest, RubricsRequest, Tick
from crome.checks import rewrite_rejection
from crome.oracles import Oracle
from crome.rubrics import DEFAULT_RUBRICS, Rubric
from harness.cues import augmentation_groups, balance_report
from harness.data.schema import PreferencePair
from harness.seeding import rng_for

AUGMENTATION_TYPES = ("causal-degrade", "causal-upgrade", "neutral")
# (description, total) -> a tick to call once per finished item
Progress = Callable[[str, int], Tick]


@dataclass
class AugmentResult:
    pairs: list[PreferencePair]  # augmented pairs only, before filtering
    counts: dict[str, int]
    oracle: str
    model: str
    approximate: bool
    details: dict[str, Any] = field(default_factory=dict)


def _stage(progress: Progress | None, description: str, total: int) -> Tick | None:
    return progress(description, total) if progress and total else None


def _rubrics(prompts: list[str], runner: OracleRunner, counts: Counter,
             progress: Progress | None) -> dict[str, list[Rubric]]:
    outcomes = runner.run([RubricsRequest(p) for p in prompts],
                          _stage(progress, "rubrics", len(prompts)))
    table = {}
    for prompt, outcome in zip(prompts, outcomes, strict=True):
        if outcome.status == "ok" and outcome.value:
            table[prompt] = [Rubric.from_dict(d) for d in outcome.value]
        else:
            counts["rubrics_fallback"] += 1
            table[prompt] = list(DEFAULT_RUBRICS)
    return table


def _causal(pairs: list[PreferencePair], table: dict[str, list[Rubric]], oracle: Oracle,
            runner: OracleRunner, seed: int, per_pair: int, counts: Counter,
            reasons: Counter, rejections: Counter, progress: Progress | None
            ) -> dict[str, list[PreferencePair]]:
    """Per pair key, its causal augmentations (degrades of chosen, upgrades of rejected).

    A rewrite the checks of ``crome.checks`` reject counts as declined (the next rubric in
    the pair's order is tried) and is counted in ``rejections`` by direction and reason.
    """
    jobs = []  # (pair, direction, rubric order, made)
    for pair in pairs:
        rubrics = table[pair.prompt_text]
        for direction in ("degrade", "upgrade"):
            order = rng_for(seed, "crome-rubric", pair.key, direction).sample(rubrics, len(rubrics))
            jobs.append((pair, direction, order, []))
    tick = _stage(progress, "rewrites", len(jobs))
    for round_no in range(max((len(j[2]) for j in jobs), default=0)):
        live = [j for j in jobs if len(j[3]) < per_pair and round_no < len(j[2])]
        if not live:
            break
        requests = [RewriteRequest(pair.prompt_text,
                                   pair.chosen if direction == "degrade" else pair.rejected,
                                   order[round_no], direction)
                    for pair, direction, order, _ in live]
        for (pair, direction, order, made), request, outcome in zip(
                live, requests, runner.run(requests), strict=True):
            if outcome.status == "ok" and outcome.value:
                rejected = rewrite_rejection(pair.prompt_text, request.answer, outcome.value,
                                             request.rubric, direction)
                if rejected is None:
                    made.append((order[round_no], outcome.value))
                else:
                    rejections[f"{direction}:{rejected}"] += 1
                    reasons[f"{direction}:rejected"] += 1
            else:
                why = {"ok": "unchanged", "skip": outcome.reason}.get(outcome.status,
                                                                     outcome.status)
                reasons[f"{direction}:{why}"] += 1
            if tick and (len(made) >= per_pair or round_no + 1 >= len(order)):
                tick()
    out: dict[str, list[PreferencePair]] = {}
    for pair, direction, _, made in jobs:
        counts[f"{direction}_skipped"] += per_pair - len(made)
        for rubric, text in made:
            first, second = (pair.chosen, text) if direction == "degrade" else (text, pair.rejected)
            out.setdefault(pair.key, []).append(PreferencePair(
                pair.prompt, first, second, pair.subset,
                f"{pair.key}#crome-{direction}-{rubric.name}", "chosen",
                {"augmentation": f"causal-{direction}", "rubric": rubric.name,
                 "oracle": oracle.name, "oracle_model": oracle.model,
                 "approximate": oracle.approximate, "source_pair": pair.key}))
    return out


def _neutrals(pairs: list[PreferencePair], causal: dict[str, list[PreferencePair]],
              seed: int, rate: float) -> list[PreferencePair]:
    neutrals = []
    for pair in pairs:
        rng = rng_for(seed, "crome-neutral", pair.key)
        n = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
        family = [pair, *causal.get(pair.key, [])]
        for k in range(n):
            source = rng.choice(family)
            other = None
            for _ in range(20):  # an unrelated prompt; give up on degenerate data
                candidate = pairs[rng.randrange(len(pairs))]
                if candidate.prompt_text != pair.prompt_text:
                    other = candidate
                    break
            if other is None:
                continue
            extra = source.extra
            neutrals.append(PreferencePair(
                other.prompt, source.chosen, source.rejected, pair.subset,
                f"{pair.key}#crome-neutral{k}", "tie",
                {"augmentation": "neutral", "neutral_of": extra.get("augmentation", "original"),
                 "rubric": extra.get("rubric"), "oracle": extra.get("oracle", "none"),
                 "oracle_model": extra.get("oracle_model", ""),
                 "approximate": bool(extra.get("approximate", False)),
                 "source_pair": pair.key, "prompt_from": other.key}))
    return neutrals


def augment_pairs(pairs: list[PreferencePair], oracle: Oracle, runner: OracleRunner, *,
                  seed: int = 0, rubrics_per_pair: int = 1, neutrals_per_pair: float = 0.5,
                  progress: Progress | None = None) -> AugmentResult:
    """Steps 1-3 on ``pairs``; the augmented pairs (unfiltered) and counts per type."""
    counts: Counter = Counter()
    reasons: Counter = Counter()
    rejections: Counter = Counter()
    oracle.prepare(pairs)
    prompts = list(dict.fromkeys(p.prompt_text for p in pairs))
    table = _rubrics(prompts, runner, counts, progress)
    causal = _causal(pairs, table, oracle, runner, seed, rubrics_per_pair, counts, reasons,
                     rejections, progress)
    ordered = [p for pair in pairs for p in causal.get(pair.key, [])]
    neutrals = _neutrals(pairs, causal, seed, neutrals_per_pair) if len(prompts) > 1 else []
    augmented = ordered + neutrals
    by_type = Counter(p.extra["augmentation"] for p in augmented)
    result_counts = {
        "original": len(pairs),
        "prompts": len(prompts),
        **{t: by_type.get(t, 0) for t in AUGMENTATION_TYPES},
        "neutral_from_causal": sum(p.extra["neutral_of"] != "original" for p in neutrals),
        "degrade_skipped": counts["degrade_skipped"],
        "upgrade_skipped": counts["upgrade_skipped"],
        "rubrics_fallback": counts["rubrics_fallback"],
        "rewrites_rejected": sum(rejections.values()),
        "oracle_calls": runner.stats["calls"],
        "cache_hits": runner.stats["cache_hits"],
        "transient_errors": runner.stats["transient_errors"],
        "malformed_answers": runner.stats["malformed_answers"],
        "malformed_skipped": runner.stats["malformed_skipped"],
        "failed": runner.stats["failed"] + runner.stats["rejected"],
    }
    rubric_counts = Counter(r.name for rs in table.values() for r in rs)
    details = {"skip_reasons": dict(sorted(reasons.items())),
               "rewrite_rejections": dict(sorted(rejections.items())),
               "rubrics": dict(rubric_counts.most_common(20)),
               "cue_balance": {"augmented": balance_report(augmented, augmentation_groups())}}
    return AugmentResult(augmented, result_counts, oracle.name, oracle.model,
                         oracle.approximate, details)
