"""Reward-model losses as pure functions of reward tensors.

- Bradley-Terry: ``-log s(r_c - r_r - margin)`` for pairs whose chosen answer is better.
- Tie (RRM and Crome neutrals): ``-1/2 [log s(d) + log s(-d)]`` with ``d = r_1 - r_2``; smallest
  (log 2) at d = 0, so it pulls tied rewards together without preferring either side.
- Optional reward centring (TRL's ``center_rewards_coefficient``): ``mean((r_c + r_r)^2)``.

The batch loss is the sum of pair losses (ties weighted by lambda) divided by the number of
pairs, so mixing ties into a batch does not change the scale of the BT term.

PairPM (``pairwise_preference``): the model's output for (prompt, A, B) is the log-odds that A
is better. Each pair is seen in both orders, binary cross-entropy against target 1 for
(chosen, rejected) and 0 for (rejected, chosen); a tie has target 1/2 in both orders (weighted
by lambda), which is exactly the tie term above applied to each order's log-odds. The loss is
the mean over the two examples of every pair. Margin and centring are BT-only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bradley_terry(chosen: torch.Tensor, rejected: torch.Tensor, margin: float = 0.0
                  ) -> torch.Tensor:
    return -F.logsigmoid(chosen - rejected - margin)


def tie_loss(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    diff = first - second
    return -0.5 * (F.logsigmoid(diff) + F.logsigmoid(-diff))


def pair_loss(chosen: torch.Tensor, rejected: torch.Tensor, is_tie: torch.Tensor, *,
              tie_weight: float = 1.0, margin: float = 0.0, center: float = 0.0,
              normaliser: float | None = None) -> torch.Tensor:
    """Mean loss over a batch of pairs; ``is_tie`` is a bool tensor marking tie pairs.

    ``normaliser`` (default: the batch size) lets data-parallel shards divide by the global
    batch size, so the summed gradients equal a single-process run's.
    """
    per_pair = torch.where(is_tie, tie_weight * tie_loss(chosen, rejected),
                           bradley_terry(chosen, rejected, margin))
    total = per_pair.sum()
    if center:
        total = total + center * ((chosen + rejected) ** 2).sum()
    return total / (normaliser if normaliser is not None else len(chosen))


def pairwise_preference(forward: torch.Tensor, backward: torch.Tensor, is_tie: torch.Tensor, *,
                        tie_weight: float = 1.0, normaliser: float | None = None
                        ) -> torch.Tensor:
    """PairPM loss; ``forward``/``backward`` are the log-odds for (chosen, rejected) and for
    (rejected, chosen). ``normaliser`` counts pairs, as in ``pair_loss``."""
    half = torch.full_like(forward, 0.5)
    target_fw = torch.where(is_tie, half, torch.ones_like(forward))
    target_bw = torch.where(is_tie, half, torch.zeros_like(backward))
    per_pair = (F.binary_cross_entropy_with_logits(forward, target_fw, reduction="none")
                + F.binary_cross_entropy_with_logits(backward, target_bw, reduction="none"))
    weights = torch.where(is_tie, torch.full_like(forward, tie_weight), torch.ones_like(forward))
    pairs = normaliser if normaliser is not None else len(forward)
    return (weights * per_pair).sum() / (2 * pairs)
