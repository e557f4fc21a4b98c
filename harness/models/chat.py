"""A local chat model: the one wrapper every local causal-LM call goes through.

The best-of-N policy and WildGuard judge (``harness.bon``), the ``hf`` Crome oracle, the text
generator of model-based transforms, DPO rewards and local judge reward models all hold a
``ChatLM``. It owns, once:

- loading (``chat_model``): ``load_causal_lm`` with its ``LoadOptions`` (dtype, device map,
  remote code, attention), the tokenizer's pad-token fallback (``load_tokenizer``), eval mode,
  and placement on one device unless a device map placed it (inputs then go to the embedding's
  device). While anything holds it, there is one instance per (name, options, device) in a
  process, so callers asking for the same model share its weights, its digests and a lock;
- the chat template (``chat_text``): a user message as the model's prompt, plain text for a
  model without a template (which then gets its special tokens, e.g. BOS, from the tokenizer);
- batched generation (``generate``): left padding done here (``pad_batch``; the tokenizer's
  padding side is never changed on a shared instance), greedy, or sampled with each row drawing
  from its own seeded ``torch.Generator`` (``SeededSampler``), so a row's output depends on its
  seed alone, never on its batch-mates or torch's global RNG; cut at the first stop token;
- log-probabilities of given tokens (``response_logprobs``, ``next_token_logprobs``): a
  right-padded forward (a real token never sees a pad under the causal mask, so a value does
  not depend on its batch), log-softmax in float32 on the positions that are read only.

torch and transformers are imported when a model is used, not when this module is, so the
modules that name a policy or a judge stay cheap to import.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from harness.models.backbones import LoadOptions

if TYPE_CHECKING:
    import torch

SAMPLER_VERSION = 1  # bump when the sampling procedure changes: it keys pools and generator caches
# Token budget per log-probability batch (padded width x rows). A causal LM's logits are
# [tokens x vocabulary] floats (49,152 for SmolLM2: 4,096 tokens is 0.8 GB in float32), so the
# CPU budget is smaller than the classifiers' BATCH_TOKENS.
CAUSAL_BATCH_TOKENS = {"cpu": 2048, "cuda": 16384}


@dataclass(frozen=True)
class Generation:
    text: str
    n_tokens: int
    finished: bool  # stopped at end of turn (False: cut at max_new_tokens)


def sampled_tokens(scores: torch.Tensor, generators: list, temperature: float, top_p: float
                   ) -> torch.Tensor:
    """One token id per row: temperature and nucleus (top-p) sampling, row i drawing only from
    ``generators[i]``; temperature 0 is greedy."""
    import torch

    scores = scores.float()
    if temperature <= 0:
        return scores.argmax(dim=-1)
    probs = torch.softmax(scores / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        # Drop a token when the mass before it already reaches top_p (the top one always stays).
        drop = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p
        sorted_probs = sorted_probs.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.stack([torch.multinomial(probs[i], 1, generator=g)[0]
                        for i, g in enumerate(generators)])


class SeededSampler:
    """A logits processor: samples per row from its own generator, returns a one-hot mask that
    greedy decoding turns into that token. Rows advance in lockstep, so row i's t-th draw is
    always its generator's t-th, whatever else is in the batch."""

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float):
        import torch

        self.generators = [torch.Generator().manual_seed(s % (1 << 63)) for s in seeds]
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids: Any, scores: torch.Tensor) -> torch.Tensor:
        import torch

        chosen = sampled_tokens(scores, self.generators, self.temperature, self.top_p)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter(1, chosen.to(scores.device)[:, None], 0.0)


def chat_text(tokenizer: Any, user: str) -> str:
    """The user message in the tokenizer's chat template, ready for the answer (plain text for
    a model without a template). vLLM policies render with it too."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": user}],
                                             tokenize=False, add_generation_prompt=True)
    return user


@dataclass(eq=False)
class ChatLM:
    """A causal LM, its tokenizer and where it runs (see the module docstring)."""

    model: Any
    tokenizer: Any
    device: torch.device
    name: str
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else 0

    @property
    def has_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    @cached_property
    def weights_digest(self) -> str:
        """``reward_model.weights_digest`` of the weights as loaded, computed once per instance
        (hashing a 135M model takes ~0.5 s, a 7B one far longer)."""
        from harness.scoring.reward_model import weights_digest

        return weights_digest(self.model)

    @cached_property
    def tokenizer_digest(self) -> str:
        from harness.scoring.reward_model import tokenizer_digest

        return tokenizer_digest(self.tokenizer)

    # -- the chat template and generation --------------------------------------------------

    def chat_text(self, user: str) -> str:
        return chat_text(self.tokenizer, user)

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int, chat: bool = True,
                 temperature: float = 0.0, top_p: float = 1.0,
                 seeds: Sequence[int] | None = None, batch_size: int = 8,
                 longest_first: bool = False) -> list[Generation]:
        """One generation per prompt, in input order.

        ``chat``: each prompt is a user message put in the chat template (``chat_text``);
        otherwise it is the model's whole input, already formatted, and no special token is
        added. ``temperature`` 0 is greedy; above it, nucleus sampling under ``top_p`` where row
        i draws from ``seeds[i]`` alone. Batches of ``batch_size`` go in input order, or longest
        first (``longest_first``: less padding) — greedy decoding may differ in the last bits
        with the batch's shape, so a caller whose cached outputs came from one order keeps it.
        """
        if temperature > 0 and (seeds is None or len(seeds) != len(prompts)):
            raise ValueError("sampling (temperature > 0) needs one seed per prompt")
        texts = [self.chat_text(p) for p in prompts] if chat else list(prompts)
        special = chat and not self.has_template
        ids = [self.tokenizer(t, add_special_tokens=special)["input_ids"] for t in texts]
        order = list(range(len(ids)))
        if longest_first:
            order.sort(key=lambda i: (-len(ids[i]), i))
        out: list[Generation | None] = [None] * len(ids)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            row_seeds = [seeds[i] for i in rows] if temperature > 0 and seeds else None
            batch = self._generate([ids[i] for i in rows], max_new_tokens, temperature, top_p,
                                   row_seeds)
            for i, generation in zip(rows, batch, strict=True):
                out[i] = generation
        return out  # type: ignore[return-value]

    def _generate(self, ids_batch: list[list[int]], max_new_tokens: int, temperature: float,
                  top_p: float, seeds: list[int] | None) -> list[Generation]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        from harness.scoring.forward import pad_batch

        ids, mask = pad_batch(ids_batch, self.pad_id, left=True)
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        config = GenerationConfig(do_sample=False, max_new_tokens=max_new_tokens,
                                  eos_token_id=eos, pad_token_id=self.tokenizer.pad_token_id)
        processors = LogitsProcessorList(
            [SeededSampler(seeds, temperature, top_p)] if seeds is not None else [])
        with self._lock, torch.inference_mode():
            output = self.model.generate(input_ids=ids.to(self.device),
                                         attention_mask=mask.to(self.device),
                                         generation_config=config, logits_processor=processors)
        stops = set(eos if isinstance(eos, list) else [eos])
        result = []
        for row in output[:, ids.shape[1]:].tolist():
            cut = next((k for k, t in enumerate(row) if t in stops), None)
            tokens = row if cut is None else row[:cut]
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            result.append(Generation(text, len(tokens), cut is not None))
        return result

    # -- log-probabilities of given tokens -------------------------------------------------

    def logits(self, ids_batch: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [batch x width x vocabulary], attention mask), right-padded."""
        from harness.scoring.forward import pad_batch

        ids, mask = pad_batch(ids_batch, self.pad_id)
        ids, mask = ids.to(self.device), mask.to(self.device)
        return self.model(input_ids=ids, attention_mask=mask).logits, mask

    def response_logprobs(self, sequences: list[list[int]], starts: list[int]
                          ) -> tuple[list[float], list[int]]:
        """(sum of log p over each sequence's tokens from ``starts[i]`` on, how many there were).

        Token ``t`` is predicted by the logits at ``t - 1``, so a response starting at 0 (no
        prompt, no template) loses its first token, which nothing predicts.
        """
        import torch

        with torch.inference_mode():
            logits, _ = self.logits(sequences)
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

    def next_token_logprobs(self, sequences: list[list[int]]) -> torch.Tensor:
        """log p(next token) after each sequence's last token, [batch x vocabulary], float32."""
        import torch

        from harness.scoring.forward import last_real_index

        with torch.inference_mode():
            logits, mask = self.logits(sequences)
            rows = torch.arange(len(sequences), device=logits.device)
            return logits[rows, last_real_index(mask)].float().log_softmax(-1)


_SHARED: weakref.WeakValueDictionary[tuple, ChatLM] = weakref.WeakValueDictionary()
_LOADING = threading.Lock()


def chat_model(name: str, *, device: str | torch.device | None = None,
               options: LoadOptions | None = None) -> ChatLM:
    """A registered backbone (``smollm2-135m``), a local folder (a ``harness train`` output
    folder reads its ``model/``) or a Hub id, in eval mode on ``device`` (default: the GPU when
    there is one), loaded as ``options`` say (dtype None: the checkpoint's). A model a device map
    placed stays where it was put. The same (name, options, device) gives the same instance
    while anything holds it; once nothing does, its memory is freed as usual."""
    import torch

    options = options or LoadOptions()
    from harness.distributed import default_device

    device = torch.device(device or default_device())
    key = (name, options, str(device))
    with _LOADING:
        lm = _SHARED.get(key)
        if lm is None:
            lm = _load(name, device, options)
            _SHARED[key] = lm
    return lm


def _load(name: str, device: torch.device, options: LoadOptions) -> ChatLM:
    import torch

    from harness.models.backbones import load_causal_lm
    from harness.scoring.reward_model import model_folder

    model, tokenizer = load_causal_lm(model_folder(name), options)
    if options.device_map:
        device = model.get_input_embeddings().weight.device
    else:
        model = model.to(device)
    return ChatLM(model.eval(), tokenizer, torch.device(device), name)


def with_dtype(options: LoadOptions | None, dtype: Any) -> LoadOptions:
    """``options`` (default ones when None) with its dtype replaced."""
    return dataclasses.replace(options or LoadOptions(), dtype=dtype)
