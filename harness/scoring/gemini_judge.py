"""Gemini as a pairwise judge reward model: ``gemini:MODEL`` (e.g. ``gemini:gemini-2.0-flash``).

The judge reads the same template as the local judge (``harness.scoring.judge``; default
``templates/judge_pairwise.toml``, another with ``--judge-template FILE``): its system message
and its user text with the question and the two answers. Gemini is asked through the project's
one client (``harness.gemini``: key from the environment, retries, rate limit, concurrency,
timeouts) for structured output, ``{"verdict": A | B | tie}`` (the template's ``verdict_a`` /
``verdict_b``, and ``tie``); the template's ``answer_prefix`` is not used (Gemini cannot be
prefilled), and a short instruction naming the JSON answer is added after the user text.

A verdict is read as P(A better) = 0.99 (A), 0.01 (B) or 0.5 (tie), reward = its log-odds:
finite, so the scorer's PairPM order-averaging applies unchanged. Both orders are asked,
P = (p(a, b) + 1 - p(b, a)) / 2, and positional consistency is reported as for PairPM: a judge
that always answers "A" gets P = 0.5 on every pair (a tie, counted wrong) and consistency 0.

An answer that is not one of the verdicts (``unparseable``) or was withheld (``blocked``) has no
verdict: it reads as P = 0.5 for that order, so the pair is decided by the other order alone,
and it is counted (``stats``; per suite in metrics.json and a column on the boards) rather than
silently scored as a wrong answer.

Answers are cached on disk by the client, keyed by the model and the whole request (template,
question, both answers, their order), so a rerun makes no new call; the judge therefore skips
the score cache (``uses_score_cache``), and every suite reads verdicts from the answer cache, so
its parse failures are counted on a rerun as on the first run. ``CallPlan`` (a dry pass over
the suites) says before a run how many requests it will make and how many the cache already
holds; a call budget
(``eval.gemini_max_calls``, ``--max-calls``) stops the run with ``CallBudgetSpent``, resumable.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from typing import Any

from harness.config import ConfigError
from harness.gemini import (
    CallBudgetSpent,
    GeminiBlocked,
    GeminiCache,
    GeminiClient,
    GeminiError,
    GeminiRequest,
    GeminiSettings,
    default_cache_path,
)
from harness.scoring.base import REWARD_KINDS, RewardModel
from harness.scoring.judge import JudgeTemplate, question_text
from harness.scoring.names import GEMINI_PREFIX

GEMINI_JUDGE_VERSION = 1  # bump when the request or the reward changes: part of the fingerprint
TIE = "tie"
VERDICT_P = 0.99
VERDICT_LOGIT = math.log(VERDICT_P / (1 - VERDICT_P))
ANSWER_NOTE = ('\n\nGive your verdict as JSON, {{"verdict": "{a}"}} if assistant A is better, '
               '{{"verdict": "{b}"}} if assistant B is better, {{"verdict": "tie"}} if neither '
               "is.")
_PLACEHOLDER = re.compile(r"\{question\}|\{answer_a\}|\{answer_b\}")


def verdict_schema(template: JudgeTemplate) -> dict[str, Any]:
    return {"type": "object", "required": ["verdict"], "properties": {"verdict": {
        "type": "string", "enum": [template.verdict_a, template.verdict_b, TIE]}}}


class GeminiJudge(RewardModel):
    """Gemini as a PairPM-form reward model (see the module docstring)."""

    kind = "judge"
    form = "pairpm"
    uses_score_cache = False  # the client's answer cache is keyed by everything a score reads

    def __init__(self, client: GeminiClient, template: JudgeTemplate):
        self.client, self.template = client, template
        self.name = f"{GEMINI_PREFIX}{client.model}"
        self.schema = verdict_schema(template)
        self.note = ANSWER_NOTE.format(a=template.verdict_a, b=template.verdict_b)
        parts = [f"gemini-judge-v{GEMINI_JUDGE_VERSION}", client.model, template.source]
        self.fingerprint = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
        # answers read, by outcome: A / B / tie (the template's verdict names), unparseable,
        # blocked; over the judge's life (a suite's share is the difference around it).
        self.stats: Counter = Counter()
        self.outcomes: dict[str, str] = {}  # request key -> outcome, each request once

    def request(self, prompt: Any, response: str) -> GeminiRequest:
        """The request for one (prompt, PairedResponses(a, b)): a in position A."""
        parts = getattr(response, "parts", None)
        if parts is None:
            raise TypeError(f"{self.name} is a pairwise judge: it scores PairedResponses(a, b), "
                            "not single responses (the scorer does this for form 'pairpm')")
        values = {"{question}": question_text(prompt),
                  "{answer_a}": response[parts[0][0]:parts[0][1]],
                  "{answer_b}": response[parts[1][0]:parts[1][1]]}
        text = _PLACEHOLDER.sub(lambda m: values[m.group()], self.template.user) + self.note
        return GeminiRequest(text, system=self.template.system, schema=self.schema)

    def verdict(self, answer: str) -> str | None:
        """The verdict in an answer, or None when it holds none."""
        try:
            value = json.loads(answer)
        except ValueError:
            return None
        verdict = value.get("verdict") if isinstance(value, dict) else None
        return verdict if verdict in self.schema["properties"]["verdict"]["enum"] else None

    def call_plan(self) -> CallPlan:
        return CallPlan(self)

    def score_with_info(self, prompts, responses):
        requests = [self.request(p, r) for p, r in zip(prompts, responses, strict=True)]
        answers = self.client.generate_many(requests)
        spent = sum(isinstance(a, CallBudgetSpent) for a in answers)
        if spent:
            raise CallBudgetSpent(
                f"{self.name}: stopped at the call budget ({self.client.settings.max_calls} "
                f"requests, eval.gemini_max_calls / --max-calls); {spent} of this batch's "
                f"{len(requests)} requests not made. Every answer received is cached: rerun "
                "the same command to continue")
        failed = [a for a in answers if isinstance(a, GeminiError)
                  and not isinstance(a, GeminiBlocked)]
        if failed:
            raise GeminiError(f"{self.name}: {len(failed)} of {len(requests)} requests failed "
                              f"after their retries (first: {failed[0]}); answers received are "
                              "cached: rerun to ask only the rest")
        scores = []
        for request, answer in zip(requests, answers, strict=True):
            verdict = None if isinstance(answer, GeminiError) else self.verdict(answer)
            outcome = verdict or ("blocked" if isinstance(answer, GeminiBlocked)
                                  else "unparseable")
            self.stats[outcome] += 1
            self.outcomes[self.client.key(request)] = outcome
            scores.append(VERDICT_LOGIT if verdict == self.template.verdict_a
                          else -VERDICT_LOGIT if verdict == self.template.verdict_b else 0.0)
        return scores, [False] * len(scores)

    def report(self, since: Counter | None = None) -> dict[str, Any]:
        """``since`` a snapshot of ``stats``: the answers read since then (a suite's, repeats
        included: reword reads an unchanged pair's answers again) and those without a
        verdict. None: the run's distinct requests by outcome, and the calls it made."""
        if since is not None:
            stats = self.stats - since
            return {"answers": sum(stats.values()), "unparseable": stats["unparseable"],
                    "blocked": stats["blocked"]}
        counts = Counter(self.outcomes.values())
        client = self.client.stats
        return {"requests": len(self.outcomes), "unparseable": counts["unparseable"],
                "blocked": counts["blocked"], "verdicts": {
                    k: counts[k] for k in (self.template.verdict_a, self.template.verdict_b,
                                           TIE)},
                "calls": client["requests"], "cache_hits": client["cache_hits"],
                "transient_errors": client["transient_errors"]}


class CallPlan(RewardModel):
    """Stands in for a judge in a dry pass over the suites: it records the requests the run
    will make, without a call, and returns placeholder scores (distinct per input, so the
    suites' statistics run as usual on them; nothing of that pass is kept)."""

    kind = "judge"
    form = "pairpm"
    uses_score_cache = False

    def __init__(self, judge: GeminiJudge):
        self.judge, self.name = judge, judge.name
        self.fingerprint = f"plan-{judge.fingerprint}"
        self.requests: dict[str, GeminiRequest] = {}

    def score_with_info(self, prompts, responses):
        scores = []
        for prompt, response in zip(prompts, responses, strict=True):
            request = self.judge.request(prompt, response)
            key = self.judge.client.key(request)
            self.requests[key] = request
            scores.append(int(key[:8], 16) / 16 ** 8 - 0.5)
        return scores, [False] * len(scores)

    def summary(self) -> str:
        """What the run will cost: requests, those cached, the calls left, the budget."""
        client = self.judge.client
        cached = sum(client.cached(request)[0] for request in self.requests.values())
        todo = len(self.requests) - cached
        budget = client.settings.max_calls
        return (f"{self.name}: {len(self.requests)} judge requests (both orders of every pair), "
                f"{cached} already in the cache: {todo} calls to make"
                + (f", at most {budget} this run (--max-calls; rerun to continue)"
                   if budget is not None and budget < todo else ""))


def load_gemini_judge(model: str, *, template: str | None,
                      settings: GeminiSettings | None) -> GeminiJudge:
    """``gemini:MODEL``; the template is read and checked first, then the key."""
    if not model:
        raise ConfigError("gemini: name the model, gemini:MODEL (e.g. gemini:gemini-2.0-flash)")
    parsed = JudgeTemplate.load(template)
    client = GeminiClient(model, settings, cache=GeminiCache(default_cache_path()),
                          who=f"{GEMINI_PREFIX}{model}")
    return GeminiJudge(client, parsed)


@REWARD_KINDS.register(GEMINI_PREFIX.rstrip(":"))
def _load_kind(name: str, *, judge_template: str | None = None,
               gemini: GeminiSettings | None = None, **_: object) -> GeminiJudge:
    return load_gemini_judge(name.removeprefix(GEMINI_PREFIX), template=judge_template,
                             settings=gemini)
