"""The project's one Gemini client: every call to Gemini (Crome's oracle, the transform
generator, the ``gemini:MODEL`` judge) goes through ``GeminiClient``, on Google's google-genai.

What it owns, so that no caller writes its own:
- the API key: read from GEMINI_API_KEY (or GOOGLE_API_KEY) when the client is built and handed
  to google-genai only; never kept on our objects, cached, logged or written, and scrubbed from
  every error message (the environment is read again to scrub);
- the endpoint: google-genai's own GOOGLE_GEMINI_BASE_URL points it elsewhere (the tests run a
  local stand-in that speaks Gemini's REST format);
- timeouts, and sorting failures by what to do about them: transient (429, 408, 5xx, timeouts,
  dropped connections: retried), rejected (another 4xx: this request only), setup (bad key,
  unknown model: stop), blocked (a safety block: an honest no), no answer (no text, an
  unreadable body: asked again ``malformed_retries`` times);
- retries with seeded, jittered exponential backoff (``harness.retry``), a rate limit and a
  concurrency bound shared by all calls of one client; google-genai's own retries are off, so a
  call is retried in one place only;
- structured output: a request may carry a JSON response schema;
- a disk cache of answers keyed by the model and the whole request (text, system message,
  schema, decoding), so a rerun pays for nothing twice;
- a call budget (``max_calls``): requests beyond it raise ``CallBudgetSpent`` instead of being
  made; answers received so far stay cached, so a rerun resumes.

Parsing an answer is the caller's business (the client returns text).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.config import ConfigError
from harness.io import sha256_of
from harness.kvstore import JsonStore
from harness.retry import RateLimiter, backoff_delay

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
TRANSIENT_CODES = frozenset({408, 429, 500, 502, 503, 504})
BLOCK_WORDS = ("SAFETY", "BLOCK", "PROHIBITED", "NO_CANDIDATES")


class GeminiError(Exception):
    """A Gemini call failed; the message never contains the API key."""


class GeminiSetupError(ConfigError, GeminiError):
    """No key, a bad key or an unknown model: no call can succeed, stop."""


class GeminiTransient(GeminiError):
    """429, 408, 5xx, a timeout or a dropped connection (after the client's retries, if any)."""

    def __init__(self, message: str, status: int | None = None, *, timeout: bool = False):
        super().__init__(message)
        self.status, self.timeout = status, timeout


class GeminiRejected(GeminiError):
    """The service refused this one request (another 4xx)."""


class GeminiBlocked(GeminiError):
    """The answer was withheld (a safety block, no candidates)."""


class GeminiNoAnswer(GeminiError):
    """A 200 without usable text (an unreadable body, no text part)."""


class CallBudgetSpent(GeminiError):
    """``max_calls`` requests were made; the rest were not. Answers so far are cached."""


def has_key() -> bool:
    return any(os.environ.get(name) for name in KEY_VARIABLES)


def _api_key(who: str) -> str:
    for name in KEY_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    raise GeminiSetupError(f"{who} needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)")


def scrub(text: str) -> str:
    """``text`` with every key in the environment replaced by ``***``."""
    for name in KEY_VARIABLES:
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, "***")
    return text


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


@dataclass(frozen=True)
class GeminiSettings:
    timeout_s: float = 60.0
    retries: int = 5  # transient errors, per request; 0 = one attempt (the caller retries)
    malformed_retries: int = 2  # answers without text, per request
    backoff_s: float = 1.0  # first backoff; doubles each retry, jittered to [50%, 100%]
    max_backoff_s: float = 60.0
    requests_per_minute: float | None = None  # None = no limit
    concurrency: int = 4
    max_calls: int | None = None  # requests this client may make (cache hits are free)
    seed: int = 0  # the backoff jitter


@dataclass(frozen=True)
class GeminiRequest:
    """One generateContent call; its fields (and the model) are the cache key."""

    text: str
    system: str = ""
    schema: dict[str, Any] | None = None  # a JSON schema: structured output
    temperature: float = 0.0
    max_output_tokens: int | None = None


class GeminiCache(JsonStore):
    """Answer text by sha256(model, request); one committed row per answer."""

    def __init__(self, path: str | Path):
        super().__init__(path, "gemini_answers", ("model",))


def default_cache_path() -> Path:
    from harness.models.backbones import cache_dir

    return cache_dir() / "gemini" / "answers.sqlite"


Sleep = Callable[[float], None]


class GeminiClient:
    """One model, one policy (``GeminiSettings``), optionally one disk cache; thread-safe.

    ``stats`` counts ``calls`` (HTTP attempts), ``requests`` (distinct requests sent),
    ``cache_hits``, ``transient_errors``, ``no_answer`` and ``failed`` (gave up).
    """

    def __init__(self, model: str, settings: GeminiSettings | None = None, *,
                 cache: GeminiCache | str | Path | None = None, sleep: Sleep = time.sleep,
                 who: str = "Gemini"):
        from google import genai
        from google.genai import types

        self.model = model
        self.settings = settings or GeminiSettings()
        self.cache = GeminiCache(cache) if isinstance(cache, str | Path) else cache
        self._types = types
        self._client = genai.Client(api_key=_api_key(who), http_options=types.HttpOptions(
            timeout=int(self.settings.timeout_s * 1000),
            retry_options=types.HttpRetryOptions(attempts=1)))
        self._sleep = sleep
        rpm = self.settings.requests_per_minute
        self._limiter = RateLimiter(rpm, sleep=sleep) if rpm else None
        self._lock = threading.Lock()
        self.stats: Counter = Counter()

    def key(self, request: GeminiRequest) -> str:
        return sha256_of({"model": self.model, "request": asdict(request)})

    def cached(self, request: GeminiRequest) -> tuple[bool, str | None]:
        """(found, answer text) from the disk cache; no call."""
        return self.cache.get(self.key(request)) if self.cache is not None else (False, None)

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.stats[name] += n

    def _take_budget(self) -> None:
        with self._lock:
            limit = self.settings.max_calls
            if limit is not None and self.stats["requests"] >= limit:
                raise CallBudgetSpent(f"{self.model}: the call budget of {limit} requests is "
                                      "spent (max_calls)")
            self.stats["requests"] += 1

    def attempt(self, request: GeminiRequest) -> str:
        """One HTTP call, no retry: the answer text, or a sorted, scrubbed ``GeminiError``."""
        from google.genai import errors

        types = self._types
        config = types.GenerateContentConfig(
            temperature=request.temperature, max_output_tokens=request.max_output_tokens,
            system_instruction=request.system or None,
            **({"response_mime_type": "application/json", "response_schema": request.schema}
               if request.schema is not None else {}))
        if self._limiter is not None:
            self._limiter.wait()
        self._count("calls")
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=request.text, config=config)
        except errors.APIError as err:
            message = scrub(f"gemini {err.code} {err.status}: {err.message}")
            if err.code in TRANSIENT_CODES or (err.code or 0) >= 500:
                raise GeminiTransient(message, err.code) from None
            if err.code in (401, 403, 404) or "API key" in (err.message or ""):
                raise GeminiSetupError(message) from None
            raise GeminiRejected(message) from None
        except _transport_errors() as err:
            raise GeminiTransient(scrub(f"gemini: {type(err).__name__}"),
                                  timeout="Timeout" in type(err).__name__) from None
        except ValueError as err:  # a 200 whose body is not Gemini's JSON
            raise GeminiNoAnswer(scrub(f"gemini: unreadable answer ({type(err).__name__})")
                                 ) from None
        candidates = response.candidates or []
        reason = str(candidates[0].finish_reason or "") if candidates else "NO_CANDIDATES"
        text = response.text if candidates else None
        if text is None:
            if any(word in reason for word in BLOCK_WORDS):
                raise GeminiBlocked(f"gemini: answer blocked ({reason})")
            raise GeminiNoAnswer(f"gemini: no text in the answer (finish reason {reason})")
        return text

    def generate(self, request: GeminiRequest) -> str:
        """The answer text: from the cache, else asked (within the budget), retried on
        transient errors and answers without text, and cached."""
        found, text = self.cached(request)
        if found:
            self._count("cache_hits")
            return text or ""
        self._take_budget()
        key, failures = self.key(request), Counter()
        while True:
            try:
                text = self.attempt(request)
            except (GeminiTransient, GeminiNoAnswer) as err:
                transient = isinstance(err, GeminiTransient)
                kind = "transient_errors" if transient else "no_answer"
                failures[kind] += 1
                self._count(kind)
                allowed = self.settings.retries if transient else self.settings.malformed_retries
                if failures[kind] > allowed:
                    self._count("failed")
                    raise
                if transient:  # an answer without text is asked again at once
                    self._sleep(backoff_delay(self.settings.seed, key, failures[kind],
                                              self.settings.backoff_s,
                                              self.settings.max_backoff_s))
                continue
            if self.cache is not None:
                self.cache.put(key, text, model=self.model)
            return text

    def generate_many(self, requests: Sequence[GeminiRequest]
                      ) -> list[str | GeminiError]:
        """Answers in input order, ``settings.concurrency`` at a time; a failed request's
        entry is its error. A setup error stops everything and is raised."""
        results: list[str | GeminiError] = [GeminiError("not asked")] * len(requests)

        def one(i: int) -> None:
            try:
                results[i] = self.generate(requests[i])
            except GeminiSetupError:
                raise
            except GeminiError as err:
                results[i] = err

        workers = max(1, min(self.settings.concurrency, len(requests)))
        if workers == 1:
            for i in range(len(requests)):
                one(i)
            return results
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gemini")
        try:
            for future in [pool.submit(one, i) for i in range(len(requests))]:
                future.result()
        finally:  # on a setup error (or Ctrl-C) the queued requests are dropped, not made
            pool.shutdown(wait=True, cancel_futures=True)
        return results
