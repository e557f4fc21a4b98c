"""Spurious cues in training pairs: does the preferred response tend to be the longer one, or
the one with more markdown?

An augmentation that makes, say, every degraded copy shorter than its original teaches the RM
"longer is better" whatever the rubric: the cue rides along with the label. So every method that
adds pairs (RRM, Crome with any oracle) reports, per augmentation type and per rubric, the share
of preference pairs whose preferred response is the longer one (``length``) and the one with
more markdown marks (``markdown``). 0.5 is cue-free; near 0 or 1 the cue predicts the label.

Choices the papers leave open, made here:
- only pairs whose two responses differ in the cue count (equal lengths, equal markdown apart),
  so a method cannot look balanced by making most edits length-neutral and the rest one-sided;
  ``differ`` says how many pairs that is;
- length in characters (no tokenizer is involved when data are built, and the ``length``
  reference scores characters too);
- markdown as a count of marks (list items, headers, bold spans; fenced code removed first),
  with the patterns of the ``diagnostics`` suite, so a dropped list item counts, not only
  whether a response uses markdown at all;
- ties are not counted (their label has no direction); ``ties`` says how many there were;
- a share is judged (``in_band``) only with at least ``MIN_PAIRS`` differing pairs;
- a share outside the band is called a cue (``cue``, the warning of ``harness augment``) only
  when an exact binomial test also rejects 0.5 (p < ``ALPHA``): a cue-free source of 30 pairs
  lands outside 0.45-0.55 more often than not (95% of shares span about +-0.18 there), and of
  300 pairs still about 7% of the time. ``ci`` is the 95% Wilson interval of the share.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.data.schema import PreferencePair

BAND = (0.45, 0.55)  # issue #17: "the longer response wins 45-55% of the time"
MIN_PAIRS = 30
ALPHA = 0.05

MARKDOWN_FEATURES = ("list", "header", "bold")
# Fenced code is removed first: a "# comment" or "**kwargs" inside code is not formatting.
# Unfenced code can still look like markdown (a Python comment reads as a header); accepted.
FENCE = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[^\n]*$|\Z)", re.S | re.M)
MARKDOWN_PATTERNS = {
    "list": re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+\S", re.M),
    "header": re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.M),
    # `**text**` not glued to a word (so `x**2 + y**2` is not bold); `__` is skipped because it
    # collides with Python dunder names far more often than it marks bold in chat answers.
    "bold": re.compile(r"(?<![\w*])\*\*(?=\S)[^\n]*?(?<=\S)\*\*(?![\w*])"),
}


def markdown_features(text: str) -> frozenset[str]:
    """The markdown features (``list``, ``header``, ``bold``) that ``text`` uses."""
    prose = FENCE.sub("", text)
    return frozenset(name for name, pattern in MARKDOWN_PATTERNS.items() if pattern.search(prose))


def markdown_marks(text: str) -> int:
    """How many markdown marks ``text`` has: list items + headers + bold spans."""
    prose = FENCE.sub("", text)
    return sum(len(pattern.findall(prose)) for pattern in MARKDOWN_PATTERNS.values())


CUES: dict[str, Callable[[str], int]] = {"length": len, "markdown": markdown_marks}


@dataclass(frozen=True)
class Balance:
    """How one cue lines up with the labels of a set of pairs."""

    pairs: int  # preference pairs looked at (ties excluded)
    differ: int  # of those, pairs whose responses differ in the cue
    wins: int  # of those, pairs whose preferred response has more of the cue
    ties: int = 0  # tie pairs seen and left out

    @property
    def share(self) -> float | None:
        """Share of differing pairs won by the response with more of the cue (None: none)."""
        return self.wins / self.differ if self.differ else None

    @property
    def in_band(self) -> bool | None:
        """Inside ``BAND``; None when too few pairs differ to tell."""
        if self.differ < MIN_PAIRS:
            return None
        return BAND[0] <= self.wins / self.differ <= BAND[1]

    @functools.cached_property  # read by ``cue`` and ``to_dict``: one test, not two
    def p_value(self) -> float | None:
        """Exact two-sided binomial test of ``wins`` of ``differ`` against 0.5."""
        if not self.differ:
            return None
        from scipy.stats import binomtest

        return float(binomtest(self.wins, self.differ, 0.5).pvalue)

    @property
    def cue(self) -> bool | None:
        """Outside ``BAND`` and 0.5 rejected at ``ALPHA``: the label follows the cue beyond
        what chance gives; None when too few pairs differ to tell."""
        if self.in_band is None:
            return None
        return not self.in_band and self.p_value < ALPHA

    def to_dict(self) -> dict[str, Any]:
        from harness.stats import proportion_ci

        share, p_value = self.share, self.p_value
        interval = proportion_ci(self.wins, self.differ)
        return {"pairs": self.pairs, "differ": self.differ, "wins": self.wins,
                "share": None if share is None else round(share, 4), "ties": self.ties,
                "in_band": self.in_band,
                "ci": None if interval is None else [round(v, 4) for v in interval],
                "p_value": None if p_value is None else round(p_value, 6), "cue": self.cue}


def cue_balance(pairs: Iterable[PreferencePair], cue: Callable[[str], float] = len) -> Balance:
    """How often the preferred response of a pair has more of ``cue`` than the other one."""
    n = differ = wins = ties = 0
    for pair in pairs:
        if pair.is_tie:
            ties += 1
            continue
        n += 1
        # label "chosen": the chosen response is the preferred one (the schema's only other
        # label is "tie").
        first, second = cue(pair.chosen), cue(pair.rejected)
        if first != second:
            differ += 1
            wins += first > second
    return Balance(n, differ, wins, ties)


def balance_report(pairs: list[PreferencePair],
                   groups: dict[str, Callable[[PreferencePair], str | None]]
                   ) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """``{cue: {grouping: {group: Balance.to_dict()}}}`` for every cue in ``CUES``.

    Each grouping maps a pair to its group name (None: not in this grouping), e.g.
    ``{"all": lambda p: "all", "type": lambda p: p.extra.get("augmentation")}``.
    """
    report: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for cue_name, cue in CUES.items():
        by_grouping: dict[str, dict[str, dict[str, Any]]] = {}
        for grouping, key in groups.items():
            members: dict[str, list[PreferencePair]] = {}
            for pair in pairs:
                name = key(pair)
                if name is not None:
                    members.setdefault(name, []).append(pair)
            by_grouping[grouping] = {name: cue_balance(group, cue).to_dict()
                                     for name, group in sorted(members.items())}
        report[cue_name] = by_grouping
    return report


def augmentation_groups() -> dict[str, Callable[[PreferencePair], str | None]]:
    """The groupings every method reports: all augmented pairs, by augmentation type, and
    (for pairs that carry one) by rubric, with the causal pairs also pooled."""
    def causal(p: PreferencePair) -> str | None:
        return "causal" if str(p.extra.get("augmentation", "")).startswith("causal") else None

    def rubric(p: PreferencePair) -> str | None:
        if causal(p) is None:
            return None
        return str(p.extra.get("rubric") or "none")

    return {"all": lambda p: "all", "causal": causal,
            "type": lambda p: str(p.extra.get("augmentation", "original")), "rubric": rubric}


def out_of_band(report: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> list[str]:
    """``"length, rubric=completeness: 0.93 of 118"`` for each judged group whose share is a
    cue (``Balance.cue``: outside ``BAND`` beyond binomial noise)."""
    found = []
    for cue_name, by_grouping in report.items():
        for grouping, groups in by_grouping.items():
            for name, row in groups.items():
                if row.get("cue", row["in_band"] is False):
                    found.append(f"{cue_name}, {grouping}={name}: {row['share']:.2f} of "
                                 f"{row['differ']}")
    return found


def balance_rows(report: dict[str, dict[str, dict[str, dict[str, Any]]]]
                 ) -> list[tuple[str, int, int, str, str]]:
    """Table rows ``(group, preference pairs, ties, length, markdown)`` of a report, the cue
    cells as ``"0.50 of 1063"`` (share of the differing pairs won by the response with more of
    the cue), ``"0.62 of 12 (few)"`` below ``MIN_PAIRS`` and ``"-"`` when no pair differs;
    ``!`` marks a cue (outside ``BAND`` and p < ``ALPHA``), ``?`` a share outside the band
    that chance explains."""
    def cell(row: dict[str, Any]) -> str:
        if not row["differ"]:
            return "-"
        text = f"{row['share']:.2f} of {row['differ']}"
        if row["in_band"] is None:
            return text + " (few)"
        if row["in_band"]:
            return text
        return text + (" !" if row.get("cue", True) else " ?")

    length, markdown = report["length"], report["markdown"]
    rows = []
    for grouping, groups in length.items():
        for name, row in groups.items():
            label = name if grouping in ("all", "causal") else f"{grouping} {name}"
            rows.append((label, row["pairs"], row["ties"], cell(row),
                         cell(markdown[grouping][name])))
    return rows
