"""Crome (Srivastava et al., 2025, arXiv 2506.16507): causal rubrics, causal and neutral
augmentations, filtering by a baseline RM, and the tie loss on neutrals.

Layout:
- ``crome.prompts``: the versioned oracle prompts, JSON schemas and answer parsers;
- ``crome.oracles``: the ``ORACLES`` registry (``gemini``, ``hf``, ``rules``) behind one interface;
- ``crome.cache``: the on-disk answer cache, keyed by (oracle, model, prompt version, input);
- ``crome.calls``: bounded concurrency, rate limit, retries and skip-and-count around oracles;
- ``crome.errors``: what an oracle call can raise, sorted by what the caller does about it;
- ``crome.rubrics``: the causal rubrics (the attributes Crome intervenes on);
- ``crome.checks``: the checks a rewrite must pass to count as a causal change;
- ``crome.augment``: steps 1-3 (rubrics, causal rewrites, irrelevant-query neutrals);
- ``crome.method``: the ``crome`` training method (augment, filter, train with ties).
"""

from crome.augment import AugmentResult, augment_pairs
from crome.oracles import ORACLES, Oracle, Rubric, make_oracle

__all__ = ["ORACLES", "AugmentResult", "Oracle", "Rubric", "augment_pairs", "make_oracle"]
