"""Evaluation suites: functions of (RM, data) -> metrics plus per-item records.

Each suite registers in ``SUITES`` when its module is imported; the registry imports the
built-in modules (``crome_bench.suites`` entry points in ``pyproject.toml``) and any plugin's the
first time it is read. ``harness eval`` and ``harness run`` call them through an
``EvalContext`` that carries the RM, its scorer (shared cache), the config and the output folder.
"""

from harness.suites.base import SUITES, EvalContext, Suite

__all__ = ["SUITES", "EvalContext", "Suite"]
