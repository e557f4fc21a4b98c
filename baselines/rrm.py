"""RRM augmentation (Liu et al., 2024, "Robust Reward Model Training Mitigates Reward Hacking").

For each pair i, two other pairs j and k (with other prompts) lend their four responses B =
{chosen_j, rejected_j, chosen_k, rejected_k}. Under prompt i:
- non-contextual pairs: each of i's own responses beats each borrowed one (8 candidates): an
  off-prompt answer is worse whatever its length or format, so those artifacts cannot explain
  the label;
- neutral pairs: two borrowed responses are a tie (6 candidates): neither answers prompt i.
The paper builds all 14 per pair (RLHFlow's public ``rrm_augmentation.py``) and then filters.
At this project's scale we sample ``rrm.borrowed_per_pair`` non-contextual pairs and on average
``rrm.tie_ratio`` ties per pair (both config fields; by default 1 and 0.25, about 1.25 of the
14), then drop augmented pairs the vanilla RM already gets right with confidence
(``rrm.filter_threshold``; see ``harness.methods.confidently_right``). Originals are always kept.
The paper's full set: ``--set rrm.borrowed_per_pair=8 --set rrm.tie_ratio=6`` (all 8 wins and
all 6 ties of every pair, then the filter). How many of the 14 were sampled (configured and
built) is in ``MethodData.details["sampling"]`` and, when fewer than 14, in
``MethodData.approximate``, so it reaches ``method.json``, the run card and the boards. So does
the cue balance of the augmented and of the kept pairs (``harness.cues``).
"""

from __future__ import annotations

from harness.config import Config
from harness.cues import augmentation_groups, balance_report
from harness.data.schema import PreferencePair
from harness.methods import METHODS, FilterScores, Method, MethodData, filter_augmented
from harness.seeding import rng_for

PAPER_NONCONTEXTUAL = 8  # each of the pair's 2 responses against each of 4 borrowed ones
PAPER_TIES = 6  # every pair of the 4 borrowed responses
PAPER_PER_PAIR = PAPER_NONCONTEXTUAL + PAPER_TIES


def augment(pairs: list[PreferencePair], borrowed_per_pair: int, tie_ratio: float, seed: int
            ) -> list[PreferencePair]:
    """The augmented pairs, before filtering; deterministic in (seed, pair key)."""
    if len(pairs) < 3:
        return []
    augmented: list[PreferencePair] = []
    for i, pair in enumerate(pairs):
        rng = rng_for(seed, "rrm", pair.key, i)
        others: list[PreferencePair] = []
        for _ in range(20):  # two donors with another prompt; give up on degenerate data
            j = rng.randrange(len(pairs))
            if pairs[j].prompt_text != pair.prompt_text and pairs[j] not in others:
                others.append(pairs[j])
                if len(others) == 2:
                    break
        if len(others) < 2:
            continue
        borrowed = [(f"{o.key}:{side}", getattr(o, side)) for o in others
                    for side in ("chosen", "rejected")]
        own = [("chosen", pair.chosen), ("rejected", pair.rejected)]
        wins = [(a, b) for a in own for b in borrowed]
        ties = [(borrowed[x], borrowed[y]) for x in range(4) for y in range(x + 1, 4)]
        for n, ((own_name, own_text), (b_name, b_text)) in enumerate(
                rng.sample(wins, min(borrowed_per_pair, len(wins)))):
            augmented.append(PreferencePair(
                pair.prompt, own_text, b_text, pair.subset, f"{pair.key}#rrm-nc{n}", "chosen",
                {"augmentation": "rrm-noncontextual", "source": f"{own_name} vs {b_name}"}))
        n_ties = int(tie_ratio) + (1 if rng.random() < tie_ratio - int(tie_ratio) else 0)
        for n, ((a_name, a_text), (b_name, b_text)) in enumerate(
                rng.sample(ties, min(n_ties, len(ties)))):
            augmented.append(PreferencePair(
                pair.prompt, a_text, b_text, pair.subset, f"{pair.key}#rrm-tie{n}", "tie",
                {"augmentation": "rrm-neutral", "source": f"{a_name} vs {b_name}"}))
    return augmented


def build(pairs: list[PreferencePair], config: Config,
          filter_scores: FilterScores | None = None) -> MethodData:
    cfg = config.rrm
    augmented = augment(pairs, cfg.borrowed_per_pair, cfg.tie_ratio, config.seed)
    kept, dropped = filter_augmented(augmented, cfg.filter_threshold, filter_scores)
    counts = {
        "original": len(pairs),
        "noncontextual": sum(not p.is_tie for p in augmented),
        "neutral_ties": sum(p.is_tie for p in augmented),
        "filtered_out": dropped,
        "noncontextual_kept": sum(not p.is_tie for p in kept),
        "neutral_ties_kept": sum(p.is_tie for p in kept),
    }
    sampling = sampling_details(cfg.borrowed_per_pair, cfg.tie_ratio, len(pairs), len(augmented))
    details = {"sampling": sampling,
               "cue_balance": {"augmented": balance_report(augmented, augmentation_groups()),
                               "kept": balance_report(kept, augmentation_groups())}}
    return MethodData(list(pairs) + kept, counts, approximations(sampling), details)


def sampling_details(borrowed_per_pair: int, tie_ratio: float, original: int,
                     augmented: int) -> dict[str, float | int]:
    """How many of the paper's 14 augmented pairs per pair were asked for and built."""
    per_pair = min(borrowed_per_pair, PAPER_NONCONTEXTUAL) + min(tie_ratio, PAPER_TIES)
    return {"per_pair": round(per_pair, 4), "paper_per_pair": PAPER_PER_PAIR,
            "borrowed_per_pair": borrowed_per_pair, "tie_ratio": tie_ratio,
            "built_per_pair": round(augmented / original, 4) if original else 0.0}


def approximations(sampling: dict[str, float | int]) -> list[str]:
    """The sampling, in words, when it is less than the paper's full set."""
    if sampling["per_pair"] >= PAPER_PER_PAIR:
        return []
    return [f"rrm: about {sampling['per_pair']:g} of the paper's {PAPER_PER_PAIR} augmented "
            f"pairs per pair (rrm.borrowed_per_pair={sampling['borrowed_per_pair']}, "
            f"rrm.tie_ratio={sampling['tie_ratio']:g}; 8 and 6 give the full set)"]


METHODS.add("rrm", Method(
    "rrm", "RRM: own responses beat borrowed ones; borrowed pairs are ties; filtered",
    build, uses_filter=True))
