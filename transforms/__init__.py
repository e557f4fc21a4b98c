"""reWordBench-style transformations of preference pairs, as a plugin registry.

Importing this package registers the built-ins (``controlled``, ``naturalistic``, ``domain``,
``extra``, ``model_based``); third-party packages add theirs through the entry-point group
``crome_bench.transforms`` (an entry point names a module whose import runs ``@transform``, or a
``Transform`` object registered under the entry point's name). See ``transforms.base`` for the
interface and ``README.md`` for a complete plugin example.
"""

from transforms import controlled, domain, extra, model_based, naturalistic  # noqa: F401
from transforms.base import (
    CATEGORIES,
    SIDES,
    TRANSFORMS,
    Applied,
    TextContext,
    Transform,
    applies_to,
    apply_to_pair,
    apply_to_pairs,
    side_counts,
    transform,
    transform_pair,
    transform_pairs,
)

__all__ = ["CATEGORIES", "SIDES", "TRANSFORMS", "Applied", "TextContext", "Transform",
           "applies_to", "apply_to_pair", "apply_to_pairs", "side_counts", "transform",
           "transform_pair", "transform_pairs"]
