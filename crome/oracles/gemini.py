"""The ``gemini`` oracle: Gemini through Google's own client (google-genai), JSON output.

The paper's oracle is Gemini 2.0 Flash, so that is the default model. The API key comes from
GEMINI_API_KEY or GOOGLE_API_KEY and goes only to the client: it is never stored on the oracle
object, cached, logged or written, and it is scrubbed from error messages. The endpoint is
google-genai's own: its GOOGLE_GEMINI_BASE_URL variable points it at a stand-in (the tests run a
local server on 127.0.0.1 that speaks Gemini's REST format).

google-genai's own retries are switched off (one attempt per call) so that ``crome.calls`` alone
decides about retries, backoff and counting; HTTP errors are sorted into transient (429, 408,
5xx, timeouts, dropped connections), per-request (other 4xx) and fatal (bad key, unknown model).
"""

from __future__ import annotations

import os
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

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
TRANSIENT_CODES = frozenset({408, 429, 500, 502, 503, 504})


def _api_key() -> str:
    for name in KEY_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    raise OracleSetupError(
        "the gemini oracle needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY); "
        "use --oracle rules or hf to run offline"
    )


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Timeouts and connection failures of whichever HTTP stack google-genai uses (httpx or its
    successor httpx2, depending on the version installed)."""
    import importlib

    found: list[type[BaseException]] = []
    for name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        found.append(module.TransportError)  # timeouts, connect and read errors
    return tuple(found)


@ORACLES.register("gemini")
class GeminiOracle(Oracle):
    name = "gemini"
    default_model = "gemini-2.0-flash"
    remote = True

    def __init__(self, model: str = "", *, seed: int = 0, timeout_s: float = 60.0,
                 **options: Any):
        super().__init__(model, seed=seed)
        from google import genai
        from google.genai import types

        key = _api_key()
        self._types = types
        self._client = genai.Client(
            api_key=key,
            http_options=types.HttpOptions(
                timeout=int(timeout_s * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )
        self._secrets = (key,)  # only to scrub messages

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _generate(self, text: str, schema: dict[str, Any]) -> str:
        from google.genai import errors

        config = self._types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=schema, temperature=0.0
        )
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=text, config=config
            )
        except errors.APIError as err:
            message = self._scrub(f"gemini {err.code} {err.status}: {err.message}")
            if err.code in TRANSIENT_CODES or (err.code or 0) >= 500:
                raise TransientOracleError(message, err.code) from None
            if err.code in (401, 403, 404) or "API key" in (err.message or ""):
                raise OracleSetupError(message) from None
            raise RequestRejected(message) from None
        except _transport_errors() as err:
            raise TransientOracleError(self._scrub(f"gemini: {type(err).__name__}"),
                                       timeout="Timeout" in type(err).__name__) from None
        candidates = response.candidates or []
        reason = str(candidates[0].finish_reason or "") if candidates else "NO_CANDIDATES"
        answer = response.text if candidates else None
        if answer is None:
            if any(word in reason for word in ("SAFETY", "BLOCK", "PROHIBITED", "NO_CANDIDATES")):
                raise OracleSkip("blocked")
            raise MalformedAnswer(f"no text in the answer (finish reason {reason})")
        return answer

    def rubrics(self, prompt: str) -> list[Rubric]:
        text = self._generate(prompts.rubrics_prompt(prompt, "json"), prompts.RUBRICS_SCHEMA)
        return prompts.parse_rubrics(text, "json")

    def rewrite(self, prompt: str, answer: str, rubric: Rubric, direction: str) -> str | None:
        text = self._generate(prompts.rewrite_prompt(prompt, answer, rubric, direction, "json"),
                              prompts.REWRITE_SCHEMA)
        return prompts.parse_rewrite(text, answer, "json")
