"""Rewards for a batch of token-id lists: the one forward pass training and scoring share.

Batches are right-padded and passed through the model's own forward (so DDP, peft and the
frozen-mode hooks all see a normal call). Padding-side independence: encoders (BERT) pool the
first token and use absolute positions, which right padding leaves untouched; HF decoders
(Llama) read the reward at the rightmost non-pad token, which is the same position whatever the
padding. A score therefore does not depend on the batch it was computed in (tested against
batch size 1).
"""

from __future__ import annotations

import torch


def pad_batch(ids_batch: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(ids) for ids in ids_batch)
    ids = torch.full((len(ids_batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids_batch), width), dtype=torch.long)
    for row, seq in enumerate(ids_batch):
        ids[row, :len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, :len(seq)] = 1
    return ids, mask


def rewards(model: torch.nn.Module, ids_batch: list[list[int]], pad_id: int,
            device: torch.device | str) -> torch.Tensor:
    """One reward per sequence (shape [batch])."""
    ids, mask = pad_batch(ids_batch, pad_id)
    logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
    return logits[:, 0] if logits.dim() == 2 else logits
