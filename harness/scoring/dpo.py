"""DPO implicit rewards: a policy scored against its reference, or alone.

A DPO-trained policy defines a reward without a head (Rafailov et al. 2023):

    r(x, y) = beta * (log p_policy(y | x) - log p_ref(y | x))

summed over the response tokens. Names (``load_reward_model``):

- ``dpo:POLICY`` with the reference from ``--ref`` / ``eval.dpo_ref``, or ``dpo:POLICY@REF``
  (self-contained, for best-of-N and several DPO models in one command). ``beta`` is
  ``eval.dpo_beta``; it scales every reward and margin alike, so accuracies do not depend on it.
  With POLICY equal to REF every reward, and so every margin, is exactly 0: both passes see
  the same ids in the same batch, so they compute the same numbers (the weights load once).
- ``dpo-sum:POLICY``: reference-free, the sum of log p_policy(y | x) (reward-bench's
  ``--ref_free_type sum``).
- ``dpo-mean:POLICY``: reference-free, the mean per response token (reward-bench's ``avg`` and
  ``norm``, which compute the same thing). It does not reward short answers for having fewer
  tokens to pay for, as the sum does.
Reference-free rewards are the log-likelihoods as they are: beta only belongs to the ratio.

The text is read exactly as the classifiers read it (``encode_responses``: the same chat
template and truncation policy); the response tokens run from the response's first token to the
end of the rendered conversation, so the template's end-of-turn token (the policy's decision to
stop, which DPO trains) counts, as reward-bench counts the EOS it appends. Policy and reference
must share a tokenizer: they score the same ids.
"""

from __future__ import annotations

import hashlib

import torch

from harness.config import ConfigError
from harness.models.backbones import LoadOptions
from harness.models.chat import CAUSAL_BATCH_TOKENS, ChatLM, chat_model, with_dtype
from harness.registry import RegistryError
from harness.scoring.base import REWARD_KINDS
from harness.scoring.encoding import TEMPLATE_VERSION, ResponseIds, encode_responses
from harness.scoring.names import DPO_KINDS, dpo_reference, split_dpo_spec
from harness.scoring.reward_model import (
    TokenRewardModel,
    position_limit,
)

DPO_VERSION = 1  # bump when the reward's definition changes: it is part of the fingerprint


class DPORewardModel(TokenRewardModel):
    """The implicit reward of a causal LM (``dpo``) or its log-likelihood (``dpo-sum``,
    ``dpo-mean``), scored in length-sorted batches under a token budget like the classifiers,
    through the same cached ``Scorer``."""

    kind = "dpo"

    def __init__(self, policy: ChatLM, ref: ChatLM | None, *, variant: str = "dpo",
                 beta: float = 0.1, max_length: int = 512, batch_tokens: int | None = None):
        if variant not in DPO_KINDS:
            raise RegistryError(f"unknown DPO reward {variant!r} (known: {', '.join(DPO_KINDS)})")
        if not (beta > 0 and beta != float("inf")):
            raise ConfigError(f"eval.dpo_beta: {beta!r} must be a finite number > 0")
        if (variant == "dpo") != (ref is not None):
            raise RegistryError("dpo needs a reference model (--ref REF, eval.dpo_ref or "
                                "dpo:POLICY@REF); dpo-sum and dpo-mean take none")
        if ref is not None and ref.tokenizer.get_vocab() != policy.tokenizer.get_vocab():
            raise RegistryError(f"dpo: the policy {policy.name!r} and the reference "
                                f"{ref.name!r} have different vocabularies; a DPO reward "
                                "compares both models on the same tokens")
        self.policy, self.ref, self.variant, self.beta = policy, ref, variant, float(beta)
        self.model = policy.model  # what evaluate_model reports the dtype of
        self.tokenizer = policy.tokenizer
        self.device = policy.device
        self.name = f"{variant}:{policy.name}" + (f"@{ref.name}" if ref is not None else "")
        limit = position_limit(policy.model, policy.tokenizer)
        self.max_length = min(max_length, limit) if limit else max_length
        self.batch_tokens = batch_tokens or CAUSAL_BATCH_TOKENS.get(self.device.type, 16384)
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        """Both models' weights, the tokenizer, the variant, beta and the encoding."""
        if self._fingerprint is None:
            parts = [f"dpo-v{DPO_VERSION}", self.variant, repr(self.beta),
                     self.policy.weights_digest,
                     self.ref.weights_digest if self.ref is not None else "no-ref",
                     self.policy.tokenizer_digest, str(self.max_length),
                     str(TEMPLATE_VERSION)]
            self._fingerprint = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
        return self._fingerprint

    def encode(self, prompts, responses) -> tuple[list[ResponseIds], list[bool]]:
        out = encode_responses(self.tokenizer, list(prompts), list(responses), self.max_length)
        return [ids for ids, _ in out], [cut for _, cut in out]

    @torch.inference_mode()
    def score_batch(self, sequences: list[ResponseIds]) -> list[float]:
        starts = [s.start for s in sequences]
        policy, counts = self.policy.response_logprobs(sequences, starts)
        if self.variant == "dpo-sum":
            return policy
        if self.variant == "dpo-mean":
            return [total / n if n else 0.0 for total, n in zip(policy, counts, strict=True)]
        ref, _ = self.ref.response_logprobs(sequences, starts)
        return [self.beta * (p - r) for p, r in zip(policy, ref, strict=True)]



def load_dpo(name: str, *, ref: str | None, beta: float, max_length: int | None,
             device: torch.device, dtype: torch.dtype, batch_tokens: int | None,
             options: LoadOptions | None = None) -> DPORewardModel:
    """A ``dpo:``/``dpo-sum:``/``dpo-mean:`` name as a reward model; ``ref`` is the reference
    when the name carries none (``@REF`` wins). Equal policy and reference are one model
    (``chat_model`` shares an instance per name)."""
    kind, policy_name, _ = split_dpo_spec(name)  # type: ignore[misc]
    ref_name = dpo_reference(name, ref)
    options = with_dtype(options, dtype)
    policy = chat_model(policy_name, device=device, options=options)
    reference = chat_model(ref_name, device=device, options=options) if ref_name else None
    return DPORewardModel(policy, reference, variant=kind, beta=beta,
                          max_length=max_length or 512, batch_tokens=batch_tokens)


def _load_kind(name: str, *, dpo_ref: str | None = None, dpo_beta: float = 0.1,
               max_length: int | None = None, device: torch.device, dtype: torch.dtype,
               batch_tokens: int | None = None, options: LoadOptions | None = None,
               **_: object) -> DPORewardModel:
    return load_dpo(name, ref=dpo_ref, beta=dpo_beta, max_length=max_length, device=device,
                    dtype=dtype, batch_tokens=batch_tokens, options=options)


for _kind in DPO_KINDS:
    REWARD_KINDS.add(_kind, _load_kind)
