"""(prompt, response) -> token ids, the same way for training and scoring.

Template: the tokenizer's chat template when it has one (user prompt, assistant response); else
the tokenizer's text-pair encoding ([CLS] prompt [SEP] response [SEP] for BERT). Segment ids are
not used (all zeros), identically in training and scoring.

Truncation policy, when the whole input exceeds ``max_length`` tokens: keep the START of the
prompt and the END of the response. The content budget is ``max_length`` minus the template's own
tokens; the prompt keeps at most ``max(budget - len(response), budget // 4)`` tokens (so a long
few-shot prompt cannot crowd out the answer, which is what is being judged, and a long answer
still leaves the prompt a quarter), and the response keeps its last ``budget - prompt_kept``
tokens. Nothing is ever dropped; the caller is told which inputs were cut.
"""

from __future__ import annotations

from typing import Any

TEMPLATE_VERSION = 1  # bump when the encoding changes: it is part of every RM fingerprint


def _messages(prompt: Any) -> list[dict[str, str]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(m) for m in prompt]


def _guard_double_bos(ids: list[int], tokenizer) -> list[int]:
    """Chat templates that write BOS themselves plus a tokenizer that adds it give two BOS."""
    bos = tokenizer.bos_token_id
    if bos is not None and len(ids) > 1 and ids[0] == bos and ids[1] == bos:
        return ids[1:]
    return ids


def _split(budget: int, n_prompt: int, n_response: int) -> tuple[int, int]:
    prompt_keep = min(n_prompt, max(budget - n_response, budget // 4))
    return prompt_keep, min(n_response, budget - prompt_keep)


def _tokens(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _chat(tokenizer, prompt: Any, response: str) -> list[int]:
    messages = _messages(prompt) + [{"role": "assistant", "content": response}]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    return _guard_double_bos(_tokens(tokenizer, text), tokenizer)


def _cut_prompt(tokenizer, prompt: Any, keep: int) -> Any:
    """Keep the first ``keep`` content tokens of the prompt, across its messages in order."""
    out = []
    for message in _messages(prompt):
        ids = _tokens(tokenizer, message["content"])
        if keep <= 0:
            break
        out.append({**message, "content": tokenizer.decode(ids[:keep])})
        keep -= len(ids)
    return out


def encode(tokenizer, prompt: Any, response: str, max_length: int) -> tuple[list[int], bool]:
    """Token ids for one (prompt, response) and whether anything was cut."""
    if getattr(tokenizer, "chat_template", None):
        ids = _chat(tokenizer, prompt, response)
        if len(ids) <= max_length:
            return ids, False
        p_ids = [t for m in _messages(prompt) for t in _tokens(tokenizer, m["content"])]
        r_ids = _tokens(tokenizer, response)
        overhead = len(ids) - len(p_ids) - len(r_ids)
        budget = max_length - overhead
        for _ in range(4):  # re-tokenising decoded text can shift a token or two
            p_keep, r_keep = _split(max(budget, 2), len(p_ids), len(r_ids))
            ids = _chat(tokenizer, _cut_prompt(tokenizer, prompt, p_keep),
                        tokenizer.decode(r_ids[len(r_ids) - r_keep:]))
            if len(ids) <= max_length:
                return ids, True
            budget -= len(ids) - max_length
        return ids[len(ids) - max_length:], True
    text = prompt if isinstance(prompt, str) else "\n\n".join(m["content"] for m in prompt)
    p_ids, r_ids = _tokens(tokenizer, text), _tokens(tokenizer, response)
    budget = max_length - sum(map(len, _pair_layout(tokenizer)))
    cut = len(p_ids) + len(r_ids) > budget
    if cut:
        p_keep, r_keep = _split(budget, len(p_ids), len(r_ids))
        p_ids, r_ids = p_ids[:p_keep], r_ids[len(r_ids) - r_keep:]
    prefix, middle, suffix = _pair_layout(tokenizer)
    return prefix + p_ids + middle + r_ids + suffix, cut


_LAYOUTS: dict[int, tuple[list[int], list[int], list[int]]] = {}


def _pair_layout(tokenizer) -> tuple[list[int], list[int], list[int]]:
    """The special tokens a tokenizer puts before, between and after a text pair.

    Learned once from encoding a known pair, so any tokenizer's pair format works (e.g. BERT's
    [CLS] a [SEP] b [SEP]) without tokenizer-specific code.
    """
    key = id(tokenizer)
    if key not in _LAYOUTS:
        a, b = _tokens(tokenizer, "a"), _tokens(tokenizer, "b")
        full = tokenizer("a", "b")["input_ids"]
        i = next(k for k in range(len(full)) if full[k:k + len(a)] == a)
        j = next(k for k in range(i + len(a), len(full)) if full[k:k + len(b)] == b)
        _LAYOUTS[key] = (full[:i], full[i + len(a):j], full[j + len(b):])
    return _LAYOUTS[key]
