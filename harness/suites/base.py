"""What an evaluation suite is (``Suite``, its ``EvalContext``), the suite registry, and the
helpers suites share (stratified sampling, pair outcomes, positional consistency)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.config import Config
from harness.data.schema import PreferencePair
from harness.registry import Registry
from harness.seeding import rng_for

if TYPE_CHECKING:  # suites are named (checks, --plan) without loading torch
    from harness.scoring.reward_model import RewardModel
    from harness.scoring.scorer import Scorer


@dataclass
class EvalContext:
    rm: RewardModel
    scorer: Scorer
    config: Config
    out_dir: Path
    data: str | None = None  # overrides the suite's default source
    limit: int | None = None


@dataclass(frozen=True)
class Suite:
    """An evaluation suite: ``run`` scores the context's RM and returns its metrics.

    ``data_key`` is the config key of the data it reads unless it is given a source
    (``EvalContext.data``), e.g. ``data.rewardbench``: the checks before a run load that data
    and ``--plan`` counts it, for plugin suites too.
    """

    name: str
    description: str
    run: Callable[[EvalContext], dict[str, Any]]
    data_key: str

    def source(self, ctx: EvalContext) -> str:
        """The data this suite reads in ``ctx``: the source it was given, else its setting's."""
        return ctx.data or str(ctx.config.get_value(self.data_key))


SUITES: Registry[Suite] = Registry("suite", group="crome_bench.suites")


def stratified_sample(pairs: list[PreferencePair], limit: int | None, seed: int
                      ) -> list[PreferencePair]:
    """Exactly ``limit`` pairs (all of them when ``limit`` is None or not below their number),
    drawn with ``seed``, proportional per subset with at least one from each.

    With fewer pairs asked for than there are subsets, ``limit`` subsets drawn with the seed
    give one pair each: the limit is what ``--plan`` counts and what the user asked to pay for,
    so it wins over covering every subset. Keeps the input order, so the same limit and seed
    always pick the same pairs.
    """
    if limit is None or limit >= len(pairs):
        return pairs
    groups: dict[str | None, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        groups[pair.subset].append(i)
    if limit < len(groups):
        drawn = set(rng_for(seed, "stratified").sample(sorted(groups, key=str), limit))
        quota = {s: int(s in drawn) for s in groups}
    else:  # largest-remainder apportionment, at least one pair per subset
        exact = {s: limit * len(ix) / len(pairs) for s, ix in groups.items()}
        quota = {s: max(1, int(q)) for s, q in exact.items()}
        # what each subset still lacks; a subset raised to its one pair lacks nothing (it
        # used to keep its fraction and could get a second pair, more than it holds)
        by_remainder = sorted(groups, key=lambda s: (-(exact[s] - quota[s]), str(s)))
        for s in by_remainder[: max(0, limit - sum(quota.values()))]:
            quota[s] += 1
        while sum(quota.values()) > limit:  # the floors of one's raised past the limit
            largest = max(quota, key=lambda s: quota[s])
            quota[largest] -= 1
    chosen: list[int] = []
    for subset, indices in groups.items():
        chosen.extend(rng_for(seed, "stratified", str(subset)).sample(indices, quota[subset]))
    return [pairs[i] for i in sorted(chosen)]


def pair_outcomes(chosen: list[float], rejected: list[float]) -> tuple[list[int], list[int]]:
    """(correct, tie) per pair: strict > counts as correct; an exact tie counts as wrong."""
    correct = [int(c > r) for c, r in zip(chosen, rejected, strict=True)]
    ties = [int(c == r) for c, r in zip(chosen, rejected, strict=True)]
    return correct, ties


def positional_consistency(stats: dict[str, Any], seed: int) -> dict[str, Any]:
    """PairPM only (the scorer's ``stats["consistent"]``): the share of pairs whose two
    presentation orders picked the same response, with a bootstrap CI; ``{}`` for BT models."""
    from harness.stats import accuracy_with_ci

    consistent = stats.get("consistent")
    if consistent is None:
        return {}
    return {"positional_consistency": accuracy_with_ci([int(c) for c in consistent], seed=seed)}
