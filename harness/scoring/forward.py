"""Rewards for a batch of token-id lists: the one forward pass training and scoring share.

Batches are right-padded and go through the model's own forward, so DDP, peft and the
frozen-mode hooks all see a normal call, and gradients flow when they are enabled. Padding is
written once here (``pad_batch``): right-padded for rewards, left-padded (``left=True``) for the
generation of ``harness.models.chat``.

Where the reward is read:
- Decoders (Llama, Mistral, Qwen, GPT-2: a ``score`` head applied to every position). HF pools
  them at the rightmost token that is not the pad id, which is wrong when the pad token also
  ends real text (SmolLM2 pads with ``<|im_end|>``; many RMs pad with EOS and end with EOS). A
  forward hook on the head keeps its per-token output, and the reward is read at the last real
  token by the attention mask, whatever the padding side.
- Encoders with a pooler (BERT: ``classifier`` on the first token) are read as the model
  returns them; right padding leaves the first token and the absolute positions untouched.

Under right padding a real token never sees a pad (causal mask, or the attention mask for
encoders), so a score does not depend on the batch it was computed in (tested against batch
size 1). A two-logit head (a classifier of "chosen-ness") gives ``logit[1] - logit[0]``.
"""

from __future__ import annotations

import torch


def pad_batch(ids_batch: list[list[int]], pad_id: int, *, left: bool = False
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and their attention mask; ``left``: left-padded, every row's last token
    in the last column, where generation continues (``harness.models.chat``)."""
    width = max(len(ids) for ids in ids_batch)
    ids = torch.full((len(ids_batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids_batch), width), dtype=torch.long)
    for row, seq in enumerate(ids_batch):
        cols = slice(width - len(seq), width) if left else slice(0, len(seq))
        ids[row, cols] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, cols] = 1
    return ids, mask


def last_real_index(mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's last attended token (right or left padding alike)."""
    positions = torch.arange(mask.shape[1], device=mask.device)
    return (positions * mask.to(positions.dtype)).argmax(dim=1)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The transformers model inside DDP/FSDP (``module``), compile (``_orig_mod``) or peft."""
    for _ in range(8):
        if hasattr(model, "get_base_model"):
            model = model.get_base_model()
            continue
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if not isinstance(inner, torch.nn.Module):
            return model
        model = inner
    return model


def token_head(model: torch.nn.Module) -> torch.nn.Module | None:
    """The per-position reward head of a decoder classifier (``score``), if it has one."""
    head = getattr(unwrap(model), "score", None)
    return head if isinstance(head, torch.nn.Module) else None


def reward_head(model: torch.nn.Module) -> torch.nn.Module | None:
    """The module that turns hidden states into the reward: ``token_head`` (decoders) or
    ``classifier`` (BERT, RoBERTa and most encoders)."""
    head = token_head(model)
    if head is None:
        head = getattr(unwrap(model), "classifier", None)
    return head if isinstance(head, torch.nn.Module) else None


def cast_keeping_head(model: torch.nn.Module, device: torch.device | str,
                      dtype: torch.dtype | None) -> torch.nn.Module:
    """``model`` on ``device`` in ``dtype``, its reward head (``reward_head``) kept in float32
    with its original weights and its inputs upcast.

    Why: a bf16 head rounds the rewards themselves to 8 bits of mantissa, and close rewards
    collapse into exact ties (on all of RewardBench, a small trained RM: 167 strict ties instead
    of 36 and -1.4 points, as a tie counts as wrong; with the head in float32: 37 ties, -0.2).
    """
    sharded = bool(getattr(model, "hf_device_map", None))  # over devices by a device map
    if dtype in (None, torch.float32):
        if sharded:
            return model.float() if dtype else model
        return model.to(device, dtype=dtype) if dtype else model.to(device)
    head = reward_head(model)
    kept = {k: v.detach().float().clone() for k, v in head.state_dict().items()} if head else {}
    model = model.to(dtype=dtype) if sharded else model.to(device, dtype=dtype)
    if head is not None:
        head.float()
        head.load_state_dict(kept)
        head.register_forward_pre_hook(lambda module, args: tuple(
            a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a
            for a in args))
    return model


def restore_head(model: torch.nn.Module, files: list[str]) -> bool:
    """Put the reward head back in float32 with its weights as stored in ``files`` (the
    checkpoint's safetensors), after the model was loaded in a lower precision; whether it was.

    Why: a model loaded directly in bf16 has a head rounded to bf16, and ``cast_keeping_head``
    can only upcast what it is given. Our checkpoints (and most RMs) store the head in float32,
    so it is read again from the file: the head then holds exactly the stored weights. A head
    the files do not hold (an untrained backbone's new head), or hold with other values than
    were loaded, stays as loaded.
    """
    from safetensors import safe_open

    head = reward_head(model)
    if head is None or not files:
        return False
    prefix = next(name for name, module in model.named_modules() if module is head) + "."
    stored: dict[str, torch.Tensor] = {}
    for path in files:
        with safe_open(path, framework="pt") as f:
            stored.update({key[len(prefix):]: f.get_tensor(key) for key in f.keys()
                           if key.startswith(prefix)})
    current = head.state_dict()
    if set(stored) != set(current) or not all(  # the very tensors loaded, only rounded
            torch.equal(stored[k].to(current[k].dtype), current[k]) for k in current):
        return False
    head.float()
    head.load_state_dict({k: v.float() for k, v in stored.items()})
    return True


def to_reward(logits: torch.Tensor) -> torch.Tensor:
    if logits.shape[-1] == 1:
        return logits[..., 0]
    if logits.shape[-1] == 2:
        return logits[..., 1] - logits[..., 0]
    raise ValueError(f"a reward model needs 1 or 2 outputs, this one has {logits.shape[-1]}")


def rewards(model: torch.nn.Module, ids_batch: list[list[int]], pad_id: int,
            device: torch.device | str) -> torch.Tensor:
    """One reward per sequence (shape [batch]), in the model's own dtype or autocast context."""
    ids, mask = pad_batch(ids_batch, pad_id)
    device = torch.device(device)
    if device.type == "cuda":
        ids, mask = ids.pin_memory(), mask.pin_memory()
    ids, mask = ids.to(device, non_blocking=True), mask.to(device, non_blocking=True)
    head = token_head(model)
    captured: list[torch.Tensor] = []
    handle = head.register_forward_hook(lambda m, a, out: captured.append(out)) if head else None
    try:
        logits = model(input_ids=ids, attention_mask=mask).logits
    finally:
        if handle is not None:
            handle.remove()
    per_token = captured[-1] if captured else None
    if isinstance(per_token, torch.Tensor) and per_token.dim() == 3 \
            and per_token.shape[:2] == ids.shape:
        rows = torch.arange(len(ids), device=per_token.device)
        logits = per_token[rows, last_real_index(mask).to(per_token.device)]
    return to_reward(logits)
