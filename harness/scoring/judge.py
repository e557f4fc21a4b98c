"""A local chat model as a pairwise judge: ``judge:MODEL`` (``judge:smollm2-135m`` offline).

The judge is asked which of two answers is better (``templates/judge_pairwise.toml``, or any
file with the same keys: ``--judge-template FILE``), its reply is started with the template's
``answer_prefix`` (``[[``), and the verdict is read from the next-token log-probabilities:

    reward(question, [Response A] a [Response B] b) = log p("A") - log p("B")

the log-odds that A is better, renormalised over the two verdicts. No text is generated, so
there is nothing to parse and no parse failure; how much probability the judge puts on tokens
other than the two verdicts is not part of the reward.

It has the PairPM form (``form = "pairpm"``), so the scorer asks both orders and averages them,
P = (p(a, b) + 1 - p(b, a)) / 2, and reports positional consistency per pair, and every suite,
paired statistic and best-of-N round robin reads it like any PairPM. A judge that always says
"A" gets P = 0.5 on every pair: a tie, counted wrong, and consistency 0.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib
import torch

from harness.config import ConfigError
from harness.models.backbones import LoadOptions
from harness.models.chat import CAUSAL_BATCH_TOKENS, ChatLM, chat_model, with_dtype
from harness.scoring.base import REWARD_KINDS
from harness.scoring.encoding import (
    PROMPT,
    RESPONSE,
    RESPONSE_B,
    TEMPLATE,
    _batch_with_offsets,
    _categories,
    _guard_double_bos,
    _kept,
)
from harness.scoring.names import JUDGE_PREFIX
from harness.scoring.reward_model import (
    TokenRewardModel,
    position_limit,
)

DEFAULT_TEMPLATE = Path(__file__).parent / "templates" / "judge_pairwise.toml"
JUDGE_VERSION = 1  # bump when the judge's input or reward changes: it is part of the fingerprint
PLACEHOLDERS = {"{question}": PROMPT, "{answer_a}": RESPONSE, "{answer_b}": RESPONSE_B}
_MARK = {kind: f"\ue000{kind}\ue001" for kind in PLACEHOLDERS.values()}


@dataclass(frozen=True)
class JudgeTemplate:
    system: str
    user: str
    answer_prefix: str
    verdict_a: str
    verdict_b: str
    source: str  # the file's text, for the fingerprint

    @classmethod
    def load(cls, path: str | Path | None = None) -> JudgeTemplate:
        """A template file (TOML: ``system`` optional, ``user`` with each placeholder once,
        ``answer_prefix``, ``verdict_a``, ``verdict_b``); None: the default."""
        path = Path(path) if path else DEFAULT_TEMPLATE
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except FileNotFoundError:
            raise ConfigError(f"judge template {path}: no such file") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"judge template {path}: {err}") from None
        missing = [k for k in ("user", "answer_prefix", "verdict_a", "verdict_b")
                   if not isinstance(data.get(k), str)]
        unknown = sorted(set(data) - {"system", "user", "answer_prefix", "verdict_a",
                                      "verdict_b"})
        if missing or unknown:
            raise ConfigError(f"judge template {path}: "
                              + (f"missing text field(s) {', '.join(missing)}" if missing else "")
                              + ("; " if missing and unknown else "")
                              + (f"unknown field(s) {', '.join(unknown)}" if unknown else ""))
        for placeholder in PLACEHOLDERS:
            if data["user"].count(placeholder) != 1:
                raise ConfigError(f"judge template {path}: `user` must contain {placeholder} "
                                  "exactly once")
        if data["verdict_a"] == data["verdict_b"]:
            raise ConfigError(f"judge template {path}: verdict_a and verdict_b are equal")
        return cls(str(data.get("system") or ""), data["user"], data["answer_prefix"],
                   data["verdict_a"], data["verdict_b"], text)


def question_text(prompt: Any) -> str:
    """The prompt as the judge reads it: a string as is, a chat as a ``Role: text`` transcript."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in prompt)


class LocalJudge(TokenRewardModel):
    """A causal chat LM as a pairwise reward model (see the module docstring)."""

    kind = "judge"
    form = "pairpm"

    def __init__(self, lm: ChatLM, template: JudgeTemplate, *, max_length: int = 2048,
                 batch_tokens: int | None = None):
        self.lm, self.template = lm, template
        self.model, self.tokenizer, self.device = lm.model, lm.tokenizer, lm.device
        self.name = f"judge:{lm.name}"
        limit = position_limit(lm.model, lm.tokenizer)
        self.max_length = min(max_length, limit) if limit else max_length
        self.batch_tokens = batch_tokens or CAUSAL_BATCH_TOKENS.get(self.device.type, 16384)
        self.skeleton = self._skeleton()
        self.verdict_ids = (self._verdict_id(template.verdict_a),
                            self._verdict_id(template.verdict_b))
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        """The weights, the tokenizer, the template file's text and the max length."""
        if self._fingerprint is None:
            parts = [f"judge-v{JUDGE_VERSION}", self.lm.weights_digest,
                     self.lm.tokenizer_digest, self.template.source,
                     str(self.max_length)]
            self._fingerprint = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
        return self._fingerprint

    def _skeleton(self) -> str:
        """The whole judge input with a marker where each of question, A and B goes: the chat
        template (system message folded into the user turn when the template refuses a system
        role; plain text without a chat template) and the reply's ``answer_prefix``."""
        user = self.template.user
        for placeholder, kind in PLACEHOLDERS.items():
            user = user.replace(placeholder, _MARK[kind])
        system = self.template.system
        if not getattr(self.tokenizer, "chat_template", None):
            text = (system + "\n\n" if system else "") + user + "\n\n"
        else:
            messages = ([{"role": "system", "content": system}] if system else []) \
                + [{"role": "user", "content": user}]
            try:
                text = self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                          add_generation_prompt=True)
            except Exception:  # noqa: BLE001 -- jinja raises its own errors for a system role
                folded = [{"role": "user", "content": (system + "\n\n" if system else "") + user}]
                text = self.tokenizer.apply_chat_template(folded, tokenize=False,
                                                          add_generation_prompt=True)
        if any(text.count(mark) != 1 for mark in _MARK.values()):
            raise ConfigError(f"{self.name}: the chat template does not copy the judge "
                              "template's user text verbatim")
        return text + self.template.answer_prefix

    def _verdict_id(self, verdict: str) -> int:
        """The one token a verdict adds after the skeleton's end, or an error saying why not."""
        tail = self.skeleton[self.skeleton.rindex("\ue001") + 1:]  # after the last marker
        before = self.tokenizer(tail, add_special_tokens=False)["input_ids"]
        after = self.tokenizer(tail + verdict, add_special_tokens=False)["input_ids"]
        if len(after) != len(before) + 1 or after[:len(before)] != before:
            raise ConfigError(f"{self.name}: verdict {verdict!r} is not one token after the "
                              f"answer prefix {self.template.answer_prefix!r} for this "
                              "tokenizer; change verdict_a/verdict_b or answer_prefix")
        return after[-1]

    def render(self, prompt: Any, response: str) -> tuple[str, list[tuple[int, int, int]]]:
        """The judge input for one (prompt, PairedResponses) and the character spans of the
        question and the two answers."""
        parts = getattr(response, "parts", None)
        if parts is None:
            raise TypeError(f"{self.name} is a pairwise judge: it scores PairedResponses(a, b), "
                            "not single responses (the scorer does this for form 'pairpm')")
        contents = {PROMPT: question_text(prompt),
                    RESPONSE: response[parts[0][0]:parts[0][1]],
                    RESPONSE_B: response[parts[1][0]:parts[1][1]]}
        text, spans, cursor = [], [], 0
        pos = 0
        order = sorted(_MARK.items(), key=lambda item: self.skeleton.index(item[1]))
        for kind, mark in order:
            at = self.skeleton.index(mark, cursor)
            text.append(self.skeleton[cursor:at])
            pos += at - cursor
            spans.append((pos, pos + len(contents[kind]), kind))
            text.append(contents[kind])
            pos += len(contents[kind])
            cursor = at + len(mark)
        text.append(self.skeleton[cursor:])
        return "".join(text), [s for s in spans if s[1] > s[0]]

    def encode(self, prompts, responses) -> tuple[list[list[int]], list[bool]]:
        """Token ids of each judge input, cut like every input here when too long: the
        question keeps its start, the answers their ends, sharing the budget."""
        rendered = [self.render(p, r) for p, r in zip(prompts, responses, strict=True)]
        ids, offsets = _batch_with_offsets(self.tokenizer, [text for text, _ in rendered])
        out, cut = [], []
        for seq, offs, (_, spans) in zip(ids, offsets, rendered, strict=True):
            cats = _categories(offs, spans) if len(seq) > self.max_length \
                else [TEMPLATE] * len(seq)
            seq, cats = _guard_double_bos(self.tokenizer, list(seq), cats)
            if len(seq) > self.max_length:
                seq = [seq[i] for i in _kept(cats, self.max_length)]
                cut.append(True)
            else:
                cut.append(False)
            out.append(seq)
        return out, cut

    @torch.inference_mode()
    def score_batch(self, sequences: list[list[int]]) -> list[float]:
        logp = self.lm.next_token_logprobs(sequences)
        a, b = self.verdict_ids
        return (logp[:, a] - logp[:, b]).cpu().tolist()



def load_judge(model: str, *, template: str | Path | None, max_length: int | None,
               device: torch.device, dtype: torch.dtype, batch_tokens: int | None,
               options: LoadOptions | None = None) -> LocalJudge:
    """``judge:MODEL``: MODEL is a registered backbone, a local folder or a Hub id; the
    template file is read (and checked) before the model loads."""
    if not model:
        raise ConfigError("judge: name the model, judge:MODEL (e.g. judge:smollm2-135m)")
    parsed = JudgeTemplate.load(template)
    return LocalJudge(chat_model(model, device=device, options=with_dtype(options, dtype)), parsed,
                      max_length=max_length or 2048, batch_tokens=batch_tokens)


@REWARD_KINDS.register(JUDGE_PREFIX.rstrip(":"))
def _load_kind(name: str, *, judge_template: str | None = None, max_length: int | None = None,
               device: torch.device, dtype: torch.dtype, batch_tokens: int | None = None,
               options: LoadOptions | None = None, **_: object) -> LocalJudge:
    return load_judge(name.removeprefix(JUDGE_PREFIX), template=judge_template,
                      max_length=max_length, device=device, dtype=dtype,
                      batch_tokens=batch_tokens, options=options)
