"""The PairPM form: input template and truncation, order averaging, positional consistency,
both-order training, its loss, the best-of-N tournament, and training end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from harness.bon.metrics import copeland_pick, pick
from harness.config import Config
from harness.data.loaders import write_pairs
from harness.data.schema import PreferencePair
from harness.models.backbones import load_tokenizer
from harness.scoring.encoding import PairedResponses, encode, share_budget
from harness.scoring.reward_model import RewardModel
from harness.scoring.scorer import Scorer, order_averaged
from harness.suites.base import pair_outcomes
from harness.training.batches import encode_pairs
from harness.training.losses import pairwise_preference


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_order_averaging_hand_worked():
    # p(a, b) = 0.8 and p(b, a) = 0.4: P = (0.8 + 1 - 0.4) / 2 = 0.7, and both orders pick a.
    logits, consistent = order_averaged([_logit(0.8)], [_logit(0.4)])
    assert logits[0] == pytest.approx(_logit(0.7)) and consistent == [True]
    # p(a, b) = 0.6, p(b, a) = 0.7: P = 0.45, the orders disagree (each prefers position A).
    logits, consistent = order_averaged([_logit(0.6)], [_logit(0.7)])
    assert logits[0] == pytest.approx(_logit(0.45)) and consistent == [False]


class AlwaysA(RewardModel):
    """A PairPM that always prefers whatever stands in position A, with confidence."""

    form = "pairpm"
    name = "always-a"
    fingerprint = "always-a-v1"

    def score_with_info(self, prompts, responses):
        assert all(isinstance(r, PairedResponses) for r in responses)
        return [2.0] * len(responses), [False] * len(responses)


def _pairs(n: int) -> list[PreferencePair]:
    return [PreferencePair(f"Question {i}?", f"A correct answer {i}.", f"A wrong answer {i}.",
                           "chat", str(i)) for i in range(n)]


def test_position_a_model_gets_one_half_accuracy_zero_consistency_zero(tmp_path):
    from harness.evaluate import evaluate_model

    chosen, rejected, stats = Scorer(AlwaysA(), use_cache=False).score_pairs(_pairs(5))
    assert chosen == [0.0] * 5 and rejected == [0.0] * 5  # P = 0.5 exactly: logit 0
    correct, ties = pair_outcomes(chosen, rejected)
    assert correct == [0] * 5 and ties == [1] * 5 and stats["consistent"] == [False] * 5
    metrics = evaluate_model(AlwaysA(), ["rewardbench"], Config(), tmp_path)
    assert metrics["rewardbench"]["positional_consistency"]["accuracy"] == 0.0
    assert metrics["rewardbench"]["average"] == 0.0
    record = json.loads((tmp_path / "rewardbench_items.jsonl").open().readline())
    assert record["consistent"] is False and record["tie"] == 1
    from leaderboards.render import rewardbench_table
    from leaderboards.summary import summary_rows

    board = rewardbench_table([{"name": "always-a", "form": "pairpm", "metrics": metrics}])
    assert "positional consistency" in board and "0.0 [0.0, 0.0]" in board
    headers, rows = summary_rows([{"name": "always-a", "metrics": metrics}])
    assert rows[0][headers.index("rewardbench positional consistency")] == "0.0 [0.0, 0.0]"


@pytest.mark.parametrize("backbone", ["minilm-l6", "smollm2-135m"])
def test_template_keeps_markers_and_both_response_ends(backbone):
    tokenizer = load_tokenizer(backbone)
    long_a = " ".join(f"alpha{i}" for i in range(300)) + " AEND"
    ids, cut = encode(tokenizer, "the prompt " * 60, PairedResponses(long_a, "short BEND"), 128)
    text = tokenizer.decode(ids).lower()
    assert cut and len(ids) == 128
    # Markers survive, both responses keep their ends, the short one whole, the prompt its start.
    bare = text.replace(" ", "")
    assert bare.index("[responsea]") < bare.index("aend") < bare.index("[responseb]")
    assert bare.endswith("shortbend") or "shortbend<|im_end|>" in bare or "shortbend[sep]" in bare
    assert "the prompt" in text
    small, cut_small = encode(tokenizer, "q", PairedResponses("x", "y"), 128)
    assert not cut_small and len(small) < 128


def test_truncation_keeps_prompt_start_and_each_response_end_hand_worked():
    from harness.scoring.encoding import PROMPT, RESPONSE, RESPONSE_B, TEMPLATE, _truncate

    cats = ([TEMPLATE] * 2 + [PROMPT] * 50 + [TEMPLATE] * 3 + [RESPONSE] * 100 + [TEMPLATE] * 3
            + [RESPONSE_B] * 10 + [TEMPLATE] * 2)
    ids = list(range(len(cats)))
    kept, cut = _truncate(ids, cats, 60)
    # 10 template tokens leave 50: the prompt keeps max(50 - 110, 50 // 4) = 12 first tokens,
    # the responses 38, shared as (28, 10): B whole, A its last 28.
    expected = ([0, 1] + list(range(2, 14)) + [52, 53, 54] + list(range(127, 155))
                + [155, 156, 157] + list(range(158, 168)) + [168, 169])
    assert cut and kept == expected and len(kept) == 60


def test_share_budget_is_fair():
    assert share_budget(100, 30, 30) == (30, 30)
    assert share_budget(100, 10, 500) == (10, 90)
    assert share_budget(100, 500, 10) == (90, 10)
    assert share_budget(100, 500, 500) == (50, 50)


def test_both_order_training_doubles_the_examples():
    tokenizer = load_tokenizer("minilm-l6")
    pairs = _pairs(3)
    bt = encode_pairs(tokenizer, pairs, 64)
    pm = encode_pairs(tokenizer, pairs, 64, "pairpm")
    assert len(pm) == len(bt) == 3
    for enc in pm:
        forward, backward = tokenizer.decode(enc.chosen), tokenizer.decode(enc.rejected)
        assert forward.index("correct") < forward.index("wrong")  # (chosen, rejected)
        assert backward.index("wrong") < backward.index("correct")  # (rejected, chosen)
    # BT: one comparison per pair (two rewards); PairPM: two labelled examples per pair.
    loss = pairwise_preference(torch.tensor([math.log(3)] * 3), torch.tensor([-math.log(3)] * 3),
                               torch.tensor([False] * 3))
    assert float(loss) == pytest.approx(-math.log(0.75))  # mean of 2 x 3 examples


def test_pairwise_loss_hand_worked_tie():
    # Tie, lambda 2, forward log 3 and backward -log 3: each order's BCE against 1/2 is
    # -(log 0.75 + log 0.25) / 2; two orders, weight 2, divided by 2 examples.
    each = -(math.log(0.75) + math.log(0.25)) / 2
    loss = pairwise_preference(torch.tensor([math.log(3)]), torch.tensor([-math.log(3)]),
                               torch.tensor([True]), tie_weight=2.0)
    assert float(loss) == pytest.approx(2 * 2 * each / 2)


def test_copeland_tournament_and_nesting():
    # 0 beats 1; 2 beats 0 and 1 (Copeland winner of 3); 3 beats everyone.
    m = [[0, 1, -1, -1], [-1, 0, -1, -1], [1, 1, 0, -1], [1, 1, 1, 0]]
    assert copeland_pick(m, 1) == 0 and copeland_pick(m, 2) == 0
    assert copeland_pick(m, 3) == 2 and pick(m, 4) == 3
    # Equal wins (a cycle): the larger sum of log-odds wins, then the lower index.
    cycle = [[0, 2, -1], [-2, 0, 1], [1, -1, 0]]
    assert copeland_pick(cycle, 3) == 0
    assert copeland_pick([[0, 0], [0, 0]], 2) == 0


def test_preference_matrix_is_antisymmetric():
    class Longer(RewardModel):
        form, name, fingerprint = "pairpm", "longer", "longer-v1"

        def score_with_info(self, prompts, responses):
            out = []
            for r in responses:
                (a0, a1, _), (b0, b1, _) = r.parts
                out.append(float((a1 - a0) - (b1 - b0)))
            return out, [False] * len(out)

    [m] = Scorer(Longer(), use_cache=False).preference_matrices(["p"], [["aa", "a", "aaaa"]])
    assert all(m[i][j] == pytest.approx(-m[j][i]) for i in range(3) for j in range(3))
    assert pick(m, 3) == 2 and pick(m, 2) == 0


@pytest.mark.slow
def test_pairpm_trains_and_evaluates(tmp_path):
    from harness.evaluate import evaluate_model
    from harness.training.pipeline import train_method

    data = tmp_path / "pairs.jsonl"
    write_pairs(_pairs(48), data)
    config = Config()
    for item in ("model.max_length=64", "train.batch_size=4", "train.lr=1e-4",
                 "data.heldout_size=8", "train.warmup_ratio=0", "train.epochs=3",
                 "model.form=pairpm", f"data.train={data}"):
        config.set(item)
    result = train_method("vanilla", config, tmp_path / "run", show_progress=False)
    meta = json.loads((Path(result.model_dir) / "crome_bench.json").read_text())
    assert meta["form"] == "pairpm"
    metrics = evaluate_model(result.model_dir, ["preference"], Config(), tmp_path / "eval")
    assert metrics["model"].endswith(":pairpm")
    assert metrics["preference"]["accuracy"] >= 0.875
    assert metrics["preference"]["positional_consistency"]["accuracy"] >= 0.875
