"""Methods are data: each turns the original training pairs into the pairs it trains on.

Vanilla, RRM and Crome register in ``METHODS`` from their own modules (``baselines/``,
``crome/``; imported by the registry through the ``crome_bench.methods`` entry points, like a
plugin's) and share everything else:
trainer, loss (ties switch on the tie term), backbone, steps and seed. A method that filters its
augmented pairs with a baseline RM receives a ``filter_scores`` callable from the caller, which
trains (or reuses) the vanilla RM on the same original pairs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.config import Config
from harness.data.schema import PreferencePair
from harness.registry import Registry

FilterScores = Callable[[list[PreferencePair]], list[float]]  # pairs -> r(first) - r(second)


@dataclass
class MethodData:
    pairs: list[PreferencePair]
    counts: dict[str, int] = field(default_factory=dict)
    approximate: list[str] = field(default_factory=list)  # what was approximated, in words
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    build: Callable[[list[PreferencePair], Config, FilterScores | None], MethodData]
    uses_filter: bool = False


METHODS: Registry[Method] = Registry("method", group="crome_bench.methods")


def confidently_right(diff: float, is_tie: bool, threshold: float,
                      scale: float | None = None) -> bool:
    """Does a baseline RM already get this augmented pair right with confidence?

    For a preference, P = sigmoid(r_first - r_second) is its probability of the right order;
    confident when P >= threshold. For a tie, right means P near 1/2: we score it
    1 - |2P - 1| and call it confident when that is >= threshold (t = 0.9: P in [0.45, 0.55]).
    The papers give no number; 0.9 is our documented default (``rrm.filter_threshold``).

    ``scale`` (the baseline's median |margin| on the preference pairs it was asked about): a
    tie must also lie within (1 - t) of it. A weakly trained baseline gives every pair a margin
    near zero, so P near 1/2 alone would call every tie "right" and drop all of them (a default
    run lost all of Crome's neutrals that way) while it is merely unable to separate anything;
    relative to its own scale it is confident only about ties it calls far closer than the
    pairs it prefers. For a well-trained baseline the absolute bound is the tighter one.
    """
    p = 1.0 / (1.0 + math.exp(-diff))
    if not is_tie:
        return p >= threshold
    close = 1.0 - abs(2.0 * p - 1.0) >= threshold
    return close and (scale is None or abs(diff) <= (1.0 - threshold) * scale)


def filter_augmented(augmented: list[PreferencePair], threshold: float | None,
                     filter_scores: FilterScores | None) -> tuple[list[PreferencePair], int]:
    """Drop the augmented pairs the baseline RM gets right with confidence; (kept, dropped).
    Ties are judged against the baseline's own margin scale (``confidently_right``)."""
    if threshold is None or not augmented:
        return augmented, 0
    if filter_scores is None:
        raise ValueError("this method filters with a baseline RM, but none was given")
    diffs = filter_scores(augmented)
    margins = sorted(abs(d) for p, d in zip(augmented, diffs, strict=True) if not p.is_tie)
    scale = statistics.median(margins) if margins else None
    kept = [p for p, d in zip(augmented, diffs, strict=True)
            if not confidently_right(d, p.is_tie, threshold, scale)]
    return kept, len(augmented) - len(kept)


def plan_methods(methods: list[str]) -> list[str]:
    """The order ``harness run`` trains ``methods`` in: vanilla first whenever a filtering
    method needs it (as its baseline RM), then the others as given."""
    needs_vanilla = any(METHODS.get(m).uses_filter for m in methods)
    ordered = [m for m in methods if m != "vanilla"]
    return (["vanilla"] if needs_vanilla or "vanilla" in methods else []) + ordered
