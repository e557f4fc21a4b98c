"""The grammar of reward-model names that read a causal LM or a remote model:
``dpo:POLICY[@REF]``, ``dpo-sum:POLICY``, ``dpo-mean:POLICY``, ``judge:MODEL``, ``gemini:MODEL``.

Kept free of torch so that the checks and plans made before any work (``--plan``, name
validation) can parse a name without loading the model stack.
"""

from __future__ import annotations

from harness.registry import RegistryError

DPO_KINDS = ("dpo", "dpo-sum", "dpo-mean")
JUDGE_PREFIX = "judge:"  # judge:MODEL, a local chat model as a pairwise judge
GEMINI_PREFIX = "gemini:"  # gemini:MODEL, Gemini as a pairwise judge (no local model)
# The kinds this package registers in harness.scoring.base.REWARD_KINDS (plugins add others).
BUILTIN_KINDS = (*DPO_KINDS, JUDGE_PREFIX.rstrip(":"), GEMINI_PREFIX.rstrip(":"))


def kind_of(name: str) -> str | None:
    """``"judge:M"`` -> ``"judge"``: the kind a ``KIND:NAME`` reward-model name asks for, when
    it is a built-in kind or one a plugin registered; None for every other name."""
    kind, sep, _ = name.partition(":")
    if not sep or not kind:
        return None
    if kind in BUILTIN_KINDS:
        return kind
    from harness.scoring.base import REWARD_KINDS

    return kind if kind in REWARD_KINDS else None


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


def referenced_models(name: str) -> list[str] | None:
    """The models a causal-LM reward name reads (``dpo:P@R`` -> [P, R], ``judge:M`` -> [M],
    ``gemini:M`` -> [], a remote model), for the checks that run before any work; None for
    every other name."""
    dpo = split_dpo_spec(name)
    if dpo is not None:
        return [m for m in dpo[1:] if m]
    if name.startswith(GEMINI_PREFIX):
        if not name.removeprefix(GEMINI_PREFIX):
            raise RegistryError("gemini: name the model, gemini:MODEL (e.g. "
                                "gemini:gemini-2.0-flash)")
        return []
    if name.startswith(JUDGE_PREFIX):
        if not name.removeprefix(JUDGE_PREFIX):
            raise RegistryError("judge: name the model, judge:MODEL (e.g. judge:smollm2-135m)")
        return [name.removeprefix(JUDGE_PREFIX)]
    return None


def dpo_reference(name: str, ref: str | None) -> str | None:
    """The reference model of a DPO reward name: its own ``@REF``, else ``ref`` (``--ref`` /
    ``eval.dpo_ref``) for ``dpo:``; None for the reference-free kinds and other names. A
    ``dpo:POLICY`` with neither is refused, in the checks before work and at load alike."""
    dpo = split_dpo_spec(name)
    if dpo is None or dpo[0] != "dpo":
        return None
    if not (dpo[2] or ref):
        raise RegistryError(f"{name!r}: a DPO reward needs its reference model: --ref REF, "
                            "--set eval.dpo_ref=REF or dpo:POLICY@REF (or use the "
                            "reference-free dpo-sum:/dpo-mean:)")
    return dpo[2] or ref
