"""The one error best-of-N raises for bad settings or missing pieces (vllm, judge weights).

It subclasses ``ConfigError`` so the CLI prints the message and exits 2 without a traceback.
"""

from __future__ import annotations

from harness.config import ConfigError


class BonError(ConfigError):
    """A best-of-N setting that cannot work here; the message says why and what to do."""
