"""reWordBench-style transformations of preference pairs, as a plugin registry.

The built-ins (modules ``controlled``, ``naturalistic``, ``domain``, ``extra``, ``model_based``)
and third-party transforms come through one door, the entry-point group
``crome_bench.transforms`` (``pyproject.toml``), which ``TRANSFORMS`` reads the first time it is
read: an entry point names a module whose import runs ``@transform``, or a ``Transform`` object
registered under the entry point's name. See ``transforms.base`` for the interface and
``README.md`` for a complete plugin example.
"""

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
