"""The grammar of reward-model names that read a causal LM: ``dpo:POLICY[@REF]``,
``dpo-sum:POLICY``, ``dpo-mean:POLICY``.

Kept free of torch so that the checks and plans made before any work (``--plan``, name
validation) can parse a name without loading the model stack.
"""

from __future__ import annotations

from harness.registry import RegistryError

DPO_KINDS = ("dpo", "dpo-sum", "dpo-mean")


def split_dpo_spec(name: str) -> tuple[str, str, str | None] | None:
    """``"dpo:P@R"`` -> ("dpo", "P", "R"); ``"dpo-mean:P"`` -> ("dpo-mean", "P", None); any
    other name -> None."""
    kind, sep, rest = name.partition(":")
    if not sep or kind not in DPO_KINDS:
        return None
    policy, at, ref = rest.partition("@")
    if not policy:
        raise RegistryError(f"{name!r}: name the policy, {kind}:POLICY")
    if kind != "dpo" and at:
        raise RegistryError(f"{name!r}: {kind} is reference-free; drop @{ref}")
    return kind, policy, (ref or None) if at else None
