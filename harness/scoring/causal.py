"""A local causal LM read for scores, not generation: the one wrapper DPO rewards and local
judges share.

Both need a forward pass over token ids and a few log-probabilities out of it:
- ``response_logprobs``: per sequence, the sum and the count of log p(token | prefix) over the
  response tokens (``ResponseIds.start`` to the end), which is what a DPO implicit reward and
  its reference-free variants are made of;
- ``next_token_logprobs``: per sequence, the log-probabilities of the token after the last one,
  which is how a judge's verdict is read (no generation, no parsing).

Batches are right-padded (as ``harness.scoring.forward`` does for classifiers): under a causal
mask a real token never sees a pad, so a log-probability does not depend on its batch-mates
(tested). Log-softmax runs per row on the positions that are read only, in float32, so a batch
never holds a second [batch x length x vocabulary] tensor and bf16 logits are not summed in
bf16.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from harness.models.backbones import LoadOptions
from harness.scoring.forward import last_real_index, pad_batch

# Token budget per batch (padded width x rows). A causal LM's logits are [tokens x vocabulary]
# floats (49,152 for SmolLM2: 4,096 tokens is 0.8 GB in float32), so the CPU budget is smaller
# than the classifiers' BATCH_TOKENS.
CAUSAL_BATCH_TOKENS = {"cpu": 2048, "cuda": 16384}


@dataclass
class CausalLM:
    """A causal LM, its tokenizer and where it runs, loaded once and shared by the scorers."""

    model: Any
    tokenizer: Any
    device: torch.device
    name: str

    @property
    def pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else 0

    def logits(self, ids_batch: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [batch x width x vocabulary], attention mask), right-padded."""
        ids, mask = pad_batch(ids_batch, self.pad_id)
        ids, mask = ids.to(self.device), mask.to(self.device)
        return self.model(input_ids=ids, attention_mask=mask).logits, mask


def load_causal(name: str, device: torch.device, dtype: torch.dtype,
                options: LoadOptions | None = None) -> CausalLM:
    """A registered backbone (``smollm2-135m``), a local folder or a Hub id as a causal LM,
    loaded directly in ``dtype`` (no float32 copy first) and put in eval mode. ``options``:
    device map, remote code, attention (its dtype is replaced by ``dtype``); a model placed by
    a device map stays where it was put, and inputs go to its embedding's device."""
    from harness.models.backbones import load_causal_lm
    from harness.scoring.reward_model import model_folder, placed

    options = dataclasses.replace(options or LoadOptions(), dtype=dtype)
    model, tokenizer = load_causal_lm(model_folder(name), options)
    if placed(model):
        device = model.get_input_embeddings().weight.device
    else:
        model = model.to(device)
    return CausalLM(model.eval(), tokenizer, torch.device(device), name)


@torch.inference_mode()
def response_logprobs(lm: CausalLM, sequences: list[list[int]], starts: list[int]
                      ) -> tuple[list[float], list[int]]:
    """(sum of log p over each sequence's response tokens, how many there were).

    Token ``t`` is predicted by the logits at ``t - 1``, so a response starting at 0 (no
    prompt, no template) loses its first token, which nothing predicts.
    """
    logits, _ = lm.logits(sequences)
    sums, counts = [], []
    for row, (seq, start) in enumerate(zip(sequences, starts, strict=True)):
        start = max(start, 1)
        if start >= len(seq):
            sums.append(0.0)
            counts.append(0)
            continue
        targets = torch.as_tensor(seq[start:], device=logits.device)
        logp = logits[row, start - 1:len(seq) - 1].float().log_softmax(-1)
        sums.append(float(logp.gather(1, targets[:, None]).sum()))
        counts.append(len(seq) - start)
    return sums, counts


@torch.inference_mode()
def next_token_logprobs(lm: CausalLM, sequences: list[list[int]]) -> torch.Tensor:
    """log p(next token) after each sequence's last token, [batch x vocabulary], float32."""
    logits, mask = lm.logits(sequences)
    rows = torch.arange(len(sequences), device=logits.device)
    return logits[rows, last_real_index(mask)].float().log_softmax(-1)
