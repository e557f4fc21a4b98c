"""What can go wrong with an oracle call, sorted by what the caller should do about it.

- ``TransientOracleError``: try again later (HTTP 429, 408, 5xx, timeouts, dropped connections);
- ``MalformedAnswer``: the oracle answered, but not in the asked-for shape: ask again a few
  times, then skip the item and count it;
- ``OracleSkip``: the oracle (or a rule) declines honestly, e.g. an upgrade no rule can make;
  final and cached, counted by reason;
- ``RequestRejected``: the service refused this one request: skip and count, not cached;
- ``OracleSetupError``: no use going on (no API key, bad key, unknown model): stop the run with
  a clear message. It is a ``ConfigError`` so the CLI prints it without a traceback.
"""

from __future__ import annotations

from harness.config import ConfigError


class OracleError(Exception):
    """Base class for oracle failures."""


class TransientOracleError(OracleError):
    """``timeout``: the call waited its full timeout (the circuit breaker weighs that more: a
    blackholed endpoint would otherwise cost several rounds of timeouts)."""

    def __init__(self, message: str, status: int | None = None, *, timeout: bool = False):
        super().__init__(message)
        self.status = status
        self.timeout = timeout


class MalformedAnswer(OracleError):
    """The answer could not be parsed or failed validation; the message says why."""


class OracleSkip(OracleError):
    """A deliberate, reproducible "no rewrite here"; ``reason`` is a short count key."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RequestRejected(OracleError):
    """The service refused this one request (e.g. HTTP 400 for an over-long input): skip it and
    count it, keep going, and do not cache it (a later run may fare better)."""


class OracleSetupError(ConfigError, OracleError):
    """The oracle cannot run at all; the message says what to fix."""


class OracleUnavailable(OracleError):
    """The circuit breaker opened: so many calls in a row failed with transient errors that the
    oracle is taken to be down (a dead endpoint, no network); the run stops instead of spending
    minutes on retries. Answers received so far are cached, so a rerun resumes."""


class OracleFailureBudget(OracleError):
    """More requests failed (after their retries) than ``crome.max_failure_rate`` allows: the
    augmentation would be missing too much of what the method is meant to add."""


class NoCausalPairs(OracleError):
    """A Crome augmentation made no causal pair at all: training on it would be Vanilla plus
    neutrals under Crome's name."""
