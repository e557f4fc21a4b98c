"""Losses on hand-worked values, the batch plan, the held-out split and the RRM augmentation."""

from __future__ import annotations

import math

import pytest
import torch

from baselines import rrm
from harness.config import Config
from harness.data.schema import PreferencePair
from harness.methods import METHODS, confidently_right, filter_augmented
from harness.training.batches import batch_plan, split_heldout
from harness.training.losses import bradley_terry, pair_loss, tie_loss


def test_tie_loss_hand_worked():
    # d = 0: -1/2 [log 1/2 + log 1/2] = log 2.
    assert tie_loss(torch.tensor([1.5]), torch.tensor([1.5])).item() == pytest.approx(math.log(2))
    # d = 2: -1/2 [log s(2) + log s(-2)] = -1/2 [log 0.880797 + log 0.119203] = 1.1269280
    value = tie_loss(torch.tensor([3.0]), torch.tensor([1.0])).item()
    assert value == pytest.approx(1.1269280, abs=1e-6)
    assert tie_loss(torch.tensor([1.0]), torch.tensor([3.0])).item() == pytest.approx(value)


def test_bt_and_mixed_batch_loss():
    # BT with d = 1: -log s(1) = log(1 + e^-1) = 0.3132617
    assert bradley_terry(torch.tensor([1.0]), torch.tensor([0.0])).item() == pytest.approx(
        0.3132617, abs=1e-6)
    chosen, rejected = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 1.0])
    ties = torch.tensor([False, True])
    loss = pair_loss(chosen, rejected, ties, tie_weight=0.5)
    assert loss.item() == pytest.approx((0.3132617 + 0.5 * 1.1269280) / 2, abs=1e-6)
    # margin shifts the difference; centring adds mean((r_c + r_r)^2)
    assert pair_loss(chosen[:1], rejected[:1], ties[:1], margin=1.0).item() == pytest.approx(
        math.log(2))
    assert pair_loss(chosen[:1], rejected[:1], ties[:1], center=0.1).item() == pytest.approx(
        0.3132617 + 0.1, abs=1e-6)


def test_batch_plan_covers_every_pair_once_per_epoch_and_repeats():
    lengths = [i % 37 for i in range(103)]
    plan = batch_plan(lengths, 8, 2.0, seed=1)
    assert len(plan) == 2 * 13
    first = sorted(i for batch in plan[:13] for i in batch)
    assert first == list(range(103))
    assert plan == batch_plan(lengths, 8, 2.0, seed=1) != batch_plan(lengths, 8, 2.0, seed=2)
    assert len(batch_plan(lengths, 8, 0.5, seed=1)) == 7
    assert all(len(b) >= 2 for b in batch_plan(lengths, 8, 1.0, seed=1, min_batch=2))


def test_steps_budget_fixes_the_number_of_batches_whatever_the_data_size():
    from harness.training.pipeline import budget_steps

    lengths = [i % 37 for i in range(103)]
    plan = batch_plan(lengths, 8, 1.0, seed=1, steps=30)  # 13 batches an epoch: 3 epochs, cut
    assert len(plan) == 30 and plan[:13] == batch_plan(lengths, 8, 1.0, seed=1)
    assert sorted(i for batch in plan[13:26] for i in batch) == list(range(103))
    assert len(batch_plan(lengths, 8, 1.0, seed=1, steps=5)) == 5
    config = Config()
    config.set_value("train.batch_size", 8)
    config.set_value("train.epochs", 2.0)
    assert budget_steps(config, 103) is None  # budget=epochs: the method's own data decides
    config.set_value("train.budget", "steps")
    assert budget_steps(config, 103) == 26  # 2 epochs of 13 batches over the original pairs


@pytest.mark.parametrize("min_batch", [2, 4])
def test_merging_small_batches_keeps_the_steps_and_every_process_busy(min_batch):
    from harness.training.batches import merges_batches

    for seed in range(30):
        lengths = [(seed * 7 + i) % 41 for i in range(17)]  # 17 = 2 x 8 + 1: a batch of 1
        for steps in (None, 3, 7):
            plan = batch_plan(lengths, 8, 1.0, seed, min_batch=min_batch, steps=steps)
            assert all(len(b) >= min_batch for b in plan)
            if steps is not None:
                assert len(plan) == steps
            else:  # every pair once, whatever was merged
                assert sorted(i for b in plan for i in b) == list(range(17))
    assert merges_batches(17, 8, 1.0, 0, 2) and not merges_batches(16, 8, 1.0, 0, 2)
    assert not merges_batches(17, 8, 1.0, 0, 1)
    with pytest.raises(ValueError, match="cannot be shared by 4 processes"):
        batch_plan([1, 2, 3], 8, 1.0, 0, min_batch=4)


def test_training_table_shows_types_the_filter_removed_and_pairs_seen():
    from leaderboards.render import budget_line, training_table

    entry = {"name": "crome", "kind": "trained", "form": "bt", "approximate": [],
             "training": {"budget": "steps", "steps": 10, "batch_size": 8, "tokens": 900,
                          "original": 100, "seen_original": 41, "seen_augmented": 39,
                          "augmented_kept": {"causal-degrade": 60, "neutral": 0},
                          "augmented_built": {"causal-degrade": 60, "neutral": 149},
                          "ties": 0, "seconds": 3.0}}
    table = training_table([entry])
    assert "| 100 (41 seen) " in table and "causal-degrade 60/60, neutral 0/149" in table
    assert "| 60 (39 seen) " in table
    assert "the filter removed every pair of a type (crome: neutral 149)" in budget_line([entry])


def test_budget_line_claims_equal_steps_only_when_they_are_equal():
    from leaderboards.render import budget_line, training_table

    def entry(name, steps, tokens, budget="epochs"):
        return {"name": name, "kind": "trained", "form": "bt", "approximate": [],
                "training": {"budget": budget, "steps": steps, "batch_size": 8, "tokens": tokens,
                             "original": 100, "augmented_kept": {"neutral": 3}, "ties": 3,
                             "seconds": 12.0}}

    line = budget_line([entry("vanilla", 13, 1000), entry("crome", 26, 2100)])
    assert "optimizer steps differ (vanilla 13, crome 26)" in line and "took" not in line
    line = budget_line([entry("vanilla", 13, 1000, "steps"), entry("crome", 13, 1100, "steps")])
    assert "every trained RM took 13 optimizer steps" in line and "1,000 to 1,100" in line
    table = training_table([entry("crome", 26, 2100)])
    assert "| crome | bt     | epochs   | 100 " in table and "neutral 3" in table
    assert "26 x 8" in table and "2,100" in table


def test_a_removed_config_field_says_where_the_setting_lives():
    from harness.config import ConfigError

    with pytest.raises(ConfigError, match="crome.tie_weight' was removed: use train.tie_weight"):
        Config().set("crome.tie_weight=0.5")
    with pytest.raises(ConfigError, match="use train.tie_weight"):
        Config.from_dict({"crome": {"tie_weight": 0.5}})


def _pairs(n: int, repeat_prompts: int = 1) -> list[PreferencePair]:
    return [PreferencePair(f"prompt {i // repeat_prompts}", f"good {i}", f"bad {i}", None, str(i))
            for i in range(n)]


def test_heldout_split_is_seeded_and_keeps_prompts_apart():
    pairs = _pairs(40, repeat_prompts=2)
    train, held = split_heldout(pairs, 10, seed=0)
    assert len(held) == 10 and len(train) == 30
    assert not {p.prompt for p in train} & {p.prompt for p in held}
    assert split_heldout(pairs, 10, seed=0) == (train, held)
    assert split_heldout(pairs, 10, seed=1)[1] != held


def test_rrm_counts_and_labels():
    pairs = _pairs(6)
    aug = rrm.augment(pairs, borrowed_per_pair=2, tie_ratio=1.0, seed=0)
    wins = [p for p in aug if not p.is_tie]
    ties = [p for p in aug if p.is_tie]
    assert len(wins) == 12 and len(ties) == 6
    own = {p.prompt: {p.chosen, p.rejected} for p in pairs}
    for p in wins:  # the chosen side is the prompt's own answer; the rejected side is borrowed
        assert p.chosen in own[p.prompt] and p.rejected not in own[p.prompt]
    for p in ties:  # both sides borrowed from other prompts
        assert p.chosen not in own[p.prompt] and p.rejected not in own[p.prompt]
    assert rrm.augment(pairs, 2, 1.0, seed=0) == aug
    # fractional tie ratio: about that many ties per pair
    many = rrm.augment(_pairs(400), 1, 0.25, seed=0)
    assert 60 < sum(p.is_tie for p in many) < 140


def test_filter_drops_confident_pairs():
    assert confidently_right(3.0, False, 0.9) and not confidently_right(1.0, False, 0.9)
    assert confidently_right(0.05, True, 0.9) and not confidently_right(1.0, True, 0.9)
    pairs = _pairs(4)
    tie = PreferencePair("p", "a", "b", None, "t", "tie")
    kept, dropped = filter_augmented(pairs[:2] + [tie], 0.9, lambda ps: [5.0, -1.0, 0.0])
    assert dropped == 2 and kept == [pairs[1]]


def test_a_baseline_that_separates_nothing_is_not_confident_about_ties():
    """Margins of 0.04-0.06 on every pair: P is near 1/2 for all, so the absolute rule alone
    would drop every tie. Relative to its median preference margin (0.05) a tie is confident
    only within 0.1 x 0.05 = 0.005 of zero."""
    ties = [PreferencePair("p", f"a{i}", f"b{i}", None, f"t{i}", "tie") for i in range(3)]
    prefs = _pairs(3)
    margins = [0.04, 0.05, 0.06, 0.001, 0.03, -0.02]  # three preferences, then three ties
    kept, dropped = filter_augmented(prefs + ties, 0.9, lambda ps: margins)
    assert kept == prefs + ties[1:] and dropped == 1  # only the 0.001 tie is confidently right
    assert all(confidently_right(d, True, 0.9) for d in (0.03, -0.02))  # the absolute rule
    assert not confidently_right(0.03, True, 0.9, scale=0.05)
    # a well-trained baseline (median margin 4): the absolute bound |d| <= 0.2 decides
    assert confidently_right(0.15, True, 0.9, scale=4.0)
    assert not confidently_right(0.3, True, 0.9, scale=4.0)


def test_rrm_method_keeps_originals_and_reports_counts():
    config = Config()
    config.rrm.filter_threshold = None
    data = METHODS.get("rrm").build(_pairs(10), config, None)
    assert data.pairs[:10] == _pairs(10)
    assert data.counts["original"] == 10 and data.counts["noncontextual"] == 10
    assert len(data.pairs) == 10 + data.counts["noncontextual"] + data.counts["neutral_ties"]
