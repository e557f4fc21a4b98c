"""Frozen mode: train only the top k transformer layers and the head, on cached hidden states.

The bottom of the network is frozen, so its output for a given input never changes: it is
computed once per distinct input before training (one forward pass over the data) and cached.
During training the lower layers are swapped for modules that hand back the cached states, so
each step costs only the embeddings and the top k layers. For SmolLM2 (30 layers) with k = 2
that is about a fifteenth of a full forward and backward pass.

Measured while planning: a linear head on frozen pooled features learns nothing at this scale,
so the trained part keeps k whole layers (``model.frozen_top_layers``). This works for models
whose encoder or decoder loop feeds each layer's output to the next (BERT ``encoder.layer``,
Llama-style ``layers``), which covers both embedded backbones and most Hub RMs. At the end the
original lower layers are put back, so the saved model is a complete, ordinary HF model.
"""

from __future__ import annotations

import torch
from torch import nn


def layer_stack(model: nn.Module) -> tuple[nn.Module, nn.ModuleList]:
    """(base model, its list of transformer layers)."""
    base = model.base_model
    for path in ("layers", "encoder.layer", "h", "transformer.layer"):
        holder = base
        for part in path.split("."):
            holder = getattr(holder, part, None)
            if holder is None:
                break
        if isinstance(holder, nn.ModuleList):
            return base, holder
    raise ValueError(f"frozen mode does not know the layer list of {type(base).__name__}")


class _PassThrough(nn.Module):
    def __init__(self, tuple_output: bool):
        super().__init__()
        self.tuple_output = tuple_output

    def forward(self, hidden_states, *args, **kwargs):
        return (hidden_states,) if self.tuple_output else hidden_states


class _Inject(_PassThrough):
    """Stands in for the first frozen layer: returns the cached output of the frozen stack."""

    def __init__(self, tuple_output: bool):
        super().__init__(tuple_output)
        self.current: torch.Tensor | None = None

    def forward(self, hidden_states, *args, **kwargs):
        if self.current is None:
            raise RuntimeError("frozen mode: no cached states were set for this batch")
        states = self.current.to(hidden_states.dtype)
        return (states,) if self.tuple_output else states


class FrozenPrefix:
    """Owns the cache and the layer swap for one model."""

    def __init__(self, model: nn.Module, top_layers: int):
        self.model = model
        self.base, self.layers = layer_stack(model)
        if not 0 < top_layers < len(self.layers):
            raise ValueError(f"model.frozen_top_layers must be in 1..{len(self.layers) - 1}")
        self.split = len(self.layers) - top_layers
        self.original = list(self.layers)
        self.cache: dict[tuple[int, ...], torch.Tensor] = {}
        self.tuple_output = False
        self.inject: _Inject | None = None
        self._hook = None

    def freeze(self) -> None:
        for param in self.model.parameters():
            param.requires_grad = False
        trained = self.original[self.split:] + [m for n, m in self.model.named_children()
                                                if m is not self.base]
        for name in ("norm", "final_layer_norm", "ln_f", "pooler"):
            if getattr(self.base, name, None) is not None:
                trained.append(getattr(self.base, name))
        for module in trained:
            for param in module.parameters():
                param.requires_grad = True

    @torch.inference_mode()
    def build_cache(self, sequences: list[list[int]], pad_id: int, device: torch.device,
                    batch_size: int = 16) -> None:
        """Run the frozen stack once over every distinct sequence and keep its output."""
        captured: list[torch.Tensor] = []

        def grab(module, args, output):
            self.tuple_output = isinstance(output, tuple)
            captured.append(output[0] if self.tuple_output else output)

        handle = self.original[self.split - 1].register_forward_hook(grab)
        upper = [_PassThrough(False) for _ in self.original[self.split:]]
        for i, module in enumerate(upper, start=self.split):
            self.layers[i] = module
        try:
            distinct = sorted({tuple(s) for s in sequences}, key=len)
            for start in range(0, len(distinct), batch_size):
                chunk = distinct[start:start + batch_size]
                width = max(map(len, chunk))
                ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, seq in enumerate(chunk):
                    ids[row, :len(seq)] = torch.tensor(seq)
                    mask[row, :len(seq)] = 1
                for module in upper:
                    module.tuple_output = self.tuple_output
                captured.clear()
                self.base(input_ids=ids.to(device), attention_mask=mask.to(device))
                states = captured[-1]
                for row, seq in enumerate(chunk):
                    self.cache[seq] = states[row, :len(seq)].detach().to("cpu").clone()
        finally:
            handle.remove()
            for i, module in enumerate(self.original[self.split:], start=self.split):
                self.layers[i] = module

    def attach(self) -> None:
        """Swap the frozen layers for the cache and look states up on every forward."""
        self.inject = _Inject(self.tuple_output)
        self.layers[0] = self.inject
        for i in range(1, self.split):
            self.layers[i] = _PassThrough(self.tuple_output)
        self._hook = self.base.register_forward_pre_hook(self._lookup, with_kwargs=True)

    def _lookup(self, module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        mask = kwargs.get("attention_mask")
        lengths = mask.sum(dim=1).tolist() if mask is not None else [ids.shape[1]] * len(ids)
        rows = [self.cache[tuple(ids[r, :n].tolist())] for r, n in enumerate(lengths)]
        padded = torch.zeros((len(rows), ids.shape[1], rows[0].shape[-1]), dtype=rows[0].dtype)
        for r, state in enumerate(rows):
            padded[r, :len(state)] = state
        self.inject.current = padded.to(ids.device)
        return None

    def detach(self) -> nn.Module:
        """Put the original layers back; the model is whole again."""
        if self._hook is not None:
            self._hook.remove()
        for i, module in enumerate(self.original):
            self.layers[i] = module
        return self.model
