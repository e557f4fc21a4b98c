"""Evaluation suites: functions of (RM, data) -> metrics plus per-item records.

Each suite registers in ``SUITES``; ``harness eval`` and ``harness run`` call them through an
``EvalContext`` that carries the RM, its scorer (shared cache), the config and the output folder.
"""

from harness.suites.base import SUITES, EvalContext, Suite, load_builtin_suites

__all__ = ["SUITES", "EvalContext", "Suite", "load_builtin_suites"]
