"""The ``gemini`` oracle: Gemini through the project's one client (``harness.gemini``), JSON
output.

The paper's oracle is Gemini 2.0 Flash, so that is the default model. Key handling, the
endpoint, timeouts and sorting HTTP failures are the client's; this module only asks for
structured rubrics and rewrites and translates the client's errors into the oracle errors of
``crome.errors``. The client makes one attempt per call here (``retries=0``, no cache, no rate
limit of its own) because ``crome.calls`` retries, rate-limits, caches and counts every oracle's
requests, and adds a circuit breaker and a failure budget: retrying in both places would
multiply the attempts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from crome import prompts
from crome.errors import (
    MalformedAnswer,
    OracleSetupError,
    OracleSkip,
    RequestRejected,
    TransientOracleError,
)
from crome.oracles import ORACLES, Oracle
from crome.rubrics import Rubric
from harness.gemini import (
    GeminiBlocked,
    GeminiClient,
    GeminiNoAnswer,
    GeminiRejected,
    GeminiRequest,
    GeminiSettings,
    GeminiSetupError,
    GeminiTransient,
)


@contextmanager
def _as_oracle_errors() -> Iterator[None]:
    """The client's failures as the oracle errors ``crome.calls`` acts on."""
    try:
        yield
    except GeminiSetupError as err:
        raise OracleSetupError(f"{err}; use --oracle rules or hf to run offline") from None
    except GeminiTransient as err:
        raise TransientOracleError(str(err), err.status, timeout=err.timeout) from None
    except GeminiRejected as err:
        raise RequestRejected(str(err)) from None
    except GeminiBlocked:
        raise OracleSkip("blocked") from None
    except GeminiNoAnswer as err:
        raise MalformedAnswer(str(err)) from None


@ORACLES.register("gemini")
class GeminiOracle(Oracle):
    name = "gemini"
    default_model = "gemini-2.0-flash"
    remote = True

    def __init__(self, model: str = "", *, seed: int = 0, timeout_s: float = 60.0,
                 **options: Any):
        super().__init__(model, seed=seed)
        with _as_oracle_errors():
            self._client = GeminiClient(
                self.model, GeminiSettings(timeout_s=timeout_s, retries=0, malformed_retries=0,
                                           concurrency=1, seed=seed),
                who="the gemini oracle")

    def _generate(self, text: str, schema: dict[str, Any]) -> str:
        with _as_oracle_errors():
            return self._client.attempt(GeminiRequest(text, schema=schema))

    def rubrics(self, prompt: str) -> list[Rubric]:
        text = self._generate(prompts.rubrics_prompt(prompt, "json"), prompts.RUBRICS_SCHEMA)
        return prompts.parse_rubrics(text, "json")

    def rewrite(self, prompt: str, answer: str, rubric: Rubric, direction: str) -> str | None:
        text = self._generate(prompts.rewrite_prompt(prompt, answer, rubric, direction, "json"),
                              prompts.REWRITE_SCHEMA)
        return prompts.parse_rewrite(text, answer, "json")
