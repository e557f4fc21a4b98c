"""Model-based naturalistic transforms: paraphrase and back-translation (reWordBench group 2).

reWordBench paraphrases with Llama-3-70B-Instruct and back-translates En -> Es -> En, keeping an
output only when its embedding's cosine similarity to the original is >= 0.7. We do the same with
the generator of ``transforms.generators`` (the local ``smollm2-135m`` by default, Gemini when a
key is set) and all-MiniLM-L6-v2 (mean-pooled, the sentence-transformers recipe) as the
similarity model. Our choices, documented here:

- Both responses are rewritten (the text the RM judges); hep-* subsets are skipped (their
  responses are bare code, which a rewrite would change).
- An output is rejected, and the original kept, when it is empty, when its cosine similarity
  to the original (on the whole text: MiniLM embeds it in windows of 256 tokens, mean-pooled over
  all tokens) is below 0.7, or when it loses or adds a number: a small model that rewrites ``12``
  as ``twelve`` or drops it changes the meaning. A text whose rewrite could need more than the
  768-token generation cap is not sent at all (``too_long``): a cut-off rewrite must never pass.
- A pair is accepted or rejected as a whole: when one response's rewrite is rejected, the other
  one's is undone too (``transforms.base.transform_pair``), so the pair counts as changed on
  neither side instead of carrying a one-sided cue. ``rejections(texts, generator)`` counts the
  reasons; ``transforms apply`` prints them.
- Every generation is cached on disk by (transform step, generator, text hash), so a rerun or a
  second RM never regenerates. ``prefetch`` generates for many texts in one batch first; the
  per-text path then only reads the cache.

A 135M model paraphrases poorly: expect many rejections on CPU. The no-op rate printed by
``transforms apply`` shows how many outputs were kept.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.data.rewardbench import CODE_SUBSETS
from harness.seeding import text_hash
from transforms.base import TRANSFORMS, TextContext, Transform
from transforms.generators import Generator, cache_path, cached_generate, default_generator
from transforms.text import numbers

MIN_SIMILARITY = 0.7
MAX_NEW_TOKENS = 768


def token_budget(text: str) -> int:
    """New tokens to allow for rewriting ``text``: about its length in tokens, plus slack."""
    return min(MAX_NEW_TOKENS, len(text) // 3 + 32)


def too_long(text: str) -> bool:
    """Whether a rewrite of ``text`` could need more tokens than the cap (it might be cut)."""
    return len(text) // 3 + 32 > MAX_NEW_TOKENS


REASONS = ("accepted", "empty", "similarity", "numbers", "too_long")


@dataclass(frozen=True)
class ModelTransform(Transform):
    """A transform that chains generator steps, each an instruction with a ``{text}`` slot."""

    steps: tuple[tuple[str, str], ...] = ()
    min_similarity: float = MIN_SIMILARITY

    def apply_text(self, text: str, rng: random.Random, ctx: TextContext) -> str:
        return self.apply_many([text], ctx.generator)[0]

    def prefetch(self, texts: Sequence[str], generator: Any = None) -> None:
        """Generate (and cache) the outputs for many texts in batched calls."""
        self.apply_many(list(dict.fromkeys(texts)), generator)

    def apply_many(self, texts: Sequence[str], generator: Generator | None = None) -> list[str]:
        """Final texts (the rewrite if accepted, else the original), generating in batches."""
        generator = generator or default_generator()
        scope = (str(cache_path()), self.name, generator.name)
        todo = []
        for t in dict.fromkeys(texts):
            if (*scope, t) in _ACCEPTED or not t.strip():
                continue
            if too_long(t):
                _ACCEPTED[(*scope, t)], _REASON[(*scope, t)] = t, "too_long"
            else:
                todo.append(t)
        outputs = list(todo)
        for step, instruction in self.steps:
            # The instruction's hash is in the key: editing a prompt never reuses old outputs.
            outputs = cached_generate(f"{self.name}/{step}/{text_hash(instruction)[:8]}",
                                      generator, outputs,
                                      lambda t, ins=instruction: ins.format(text=t),
                                      token_budget)
        for old, new, reason in zip(todo, outputs, self._judge(todo, outputs), strict=True):
            _ACCEPTED[(*scope, old)] = new if reason == "accepted" else old
            _REASON[(*scope, old)] = reason
        return [_ACCEPTED.get((*scope, t), t) for t in texts]

    def _judge(self, originals: list[str], outputs: list[str]) -> list[str]:
        """Per rewrite: ``accepted`` or why not (``empty``, ``similarity``, ``numbers``)."""
        if not originals:
            return []
        similarity = cosine_similarities(originals, outputs)
        return ["empty" if not new.strip() else "similarity" if sim < self.min_similarity
                else "numbers" if Counter(numbers(new)) != Counter(numbers(old)) else "accepted"
                for old, new, sim in zip(originals, outputs, similarity, strict=True)]

    def rejections(self, texts: Sequence[str], generator: Generator | None = None
                   ) -> Counter[str]:
        """How the rewrites of ``texts`` (after ``apply_many``) were judged, by reason."""
        generator = generator or default_generator()
        scope = (str(cache_path()), self.name, generator.name)
        return Counter(_REASON[(*scope, t)] for t in dict.fromkeys(texts)
                       if (*scope, t) in _REASON)


# (cache file, transform, generator, text) -> final text: after ``prefetch`` the per-text path
# neither regenerates nor recomputes similarities.
_ACCEPTED: dict[tuple[str, str, str, str], str] = {}
_REASON: dict[tuple[str, str, str, str], str] = {}
_SIMILARITY: dict[str, Any] = {}


WINDOW = 256


def cosine_similarities(a: Sequence[str], b: Sequence[str]) -> list[float]:
    """Cosine similarity of MiniLM embeddings of the whole texts, pairwise (a[i], b[i]).

    MiniLM reads 256 tokens at a time, so a long text is cut into windows of 254 tokens (plus
    [CLS] and [SEP]) and its embedding is the mean over the tokens of every window: a rewrite
    that drops or garbles its end scores lower, as it should.
    """
    import torch

    if "model" not in _SIMILARITY:
        from transformers import AutoModel

        from harness.models.backbones import load_tokenizer, model_source

        _SIMILARITY["model"] = AutoModel.from_pretrained(model_source("minilm-l6")).eval()
        _SIMILARITY["tokenizer"] = load_tokenizer("minilm-l6")
    model, tokenizer = _SIMILARITY["model"], _SIMILARITY["tokenizer"]
    texts = list(a) + list(b)
    windows: list[list[int]] = []
    owner: list[int] = []
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    for i, ids in enumerate(tokenizer(texts, add_special_tokens=False,
                                      verbose=False)["input_ids"]):
        for start in range(0, max(len(ids), 1), WINDOW - 2):
            windows.append([cls, *ids[start:start + WINDOW - 2], sep])
            owner.append(i)
    sums = torch.zeros(len(texts), model.config.hidden_size)
    counts = torch.zeros(len(texts), 1)
    with torch.inference_mode():
        for start in range(0, len(windows), 32):
            batch = windows[start:start + 32]
            enc = tokenizer.pad({"input_ids": batch}, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            for k, i in enumerate(owner[start:start + 32]):
                sums[i] += (hidden[k] * mask[k]).sum(0)
                counts[i] += mask[k].sum()
    emb = torch.nn.functional.normalize(sums / counts, dim=-1)
    return (emb[:len(a)] * emb[len(a):]).sum(-1).tolist()


_KEEP = ("Keep the meaning, every number, every name and every piece of code exactly. "
         "Reply with the {what} only, nothing else.\n\n")

PARAPHRASE = ("Paraphrase the following text: say the same thing in different words. "
              + _KEEP.format(what="paraphrase") + "Text:\n{text}")
TO_SPANISH = ("Translate the following text from English into Spanish. "
              + _KEEP.format(what="Spanish translation") + "Text:\n{text}")
TO_ENGLISH = ("Translate the following text from Spanish into English. "
              + _KEEP.format(what="English translation") + "Text:\n{text}")

_COMMON = {"category": "naturalistic", "fields": "responses", "kind": "model",
           "exclude_subsets": CODE_SUBSETS, "requires": ("generator", "minilm-l6")}

TRANSFORMS.add("paraphrase", ModelTransform(
    name="paraphrase", steps=(("paraphrase", PARAPHRASE),),
    description="Paraphrase each response with the generator (kept if cosine >= 0.7).",
    doc=__doc__ or "", **_COMMON))
TRANSFORMS.add("back_translation", ModelTransform(
    name="back_translation", steps=(("en-es", TO_SPANISH), ("es-en", TO_ENGLISH)),
    description="Translate each response En -> Es -> En with the generator (kept if cosine "
                ">= 0.7).",
    doc=__doc__ or "", **_COMMON))
