"""(prompt, response) -> token ids, the same way for training and scoring.

Template: the tokenizer's chat template when it has one (the prompt as a user turn, or the
prompt's own message list, then the response as the assistant turn), tokenised like
``apply_chat_template(tokenize=True)`` does (no special tokens added on top of the template's);
a doubled leading BOS is collapsed (reward-bench's guard, for templates that write BOS into a
text the tokenizer also prefixes). Without a template: the tokenizer's text-pair encoding
([CLS] prompt [SEP] response [SEP] for BERT). Segment ids are not used (all zeros), identically
in training and scoring.

Truncation policy, when an input exceeds ``max_length`` tokens: keep the START of the prompt
and the END of the response; template and special tokens always survive. The content budget is
``max_length`` minus the template's tokens; the prompt keeps at most
``max(budget - len(response), budget // 4)`` tokens (so a long few-shot prompt cannot crowd out
the answer, which is what is being judged, and a long answer still leaves the prompt a quarter),
and the response keeps its last ``budget - prompt_kept`` tokens. Multi-turn prompts are cut as
one stream in order (later turns lose tokens first). Nothing is ever dropped: callers are told
which inputs were cut.

Speed: ``encode_many`` renders the template once per message shape (the template is split
around placeholder contents and checked to copy contents verbatim) and tokenises all texts in
one batched call with character offsets, which say which tokens are prompt, response or
template. Cutting then removes tokens, so the kept tokens are exactly those of the full text.
"""

from __future__ import annotations

import weakref
from typing import Any

TEMPLATE_VERSION = 2  # bump when the encoding changes: it is part of every RM fingerprint

TEMPLATE, PROMPT, RESPONSE, RESPONSE_B = 0, 1, 2, 3
Span = tuple[int, int, int]  # (start char, end char, PROMPT | RESPONSE | RESPONSE_B)

A_MARK, B_MARK = "[Response A]\n", "\n\n[Response B]\n"


class PairedResponses(str):
    """Two responses as one text, the input of a pairwise preference model (PairPM).

    The text is ``[Response A]\\n{a}\\n\\n[Response B]\\n{b}``: it takes the place of the
    response in the same template, so the prompt is read as usual and the model's reward is
    the log-odds that A is better. ``parts`` are the character spans of ``a`` and ``b``: the
    markers count as template (never cut), and when the input is too long the two responses
    share the response budget fairly (each keeps its end; see ``share_budget``).
    """

    parts: tuple[Span, Span]

    def __new__(cls, a: str, b: str) -> PairedResponses:
        obj = super().__new__(cls, f"{A_MARK}{a}{B_MARK}{b}")
        start_b = len(A_MARK) + len(a) + len(B_MARK)
        obj.parts = ((len(A_MARK), len(A_MARK) + len(a), RESPONSE),
                     (start_b, start_b + len(b), RESPONSE_B))
        return obj


def share_budget(budget: int, n_a: int, n_b: int) -> tuple[int, int]:
    """(tokens kept of A, of B): each gets half, and what one does not need goes to the other."""
    if n_a + n_b <= budget:
        return n_a, n_b
    half = budget // 2
    if n_a <= half:
        return n_a, budget - n_a
    if n_b <= budget - half:
        return budget - n_b, n_b
    return half, budget - half


def _content_spans(content: str, at: int, kind: int) -> list[Span]:
    """The spans of one message's content placed at ``at`` (sub-spans for paired responses)."""
    parts = getattr(content, "parts", None)
    if parts is None:
        return [(at, at + len(content), kind)]
    return [(at + start, at + end, part) for start, end, part in parts]

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def split_budget(budget: int, n_prompt: int, n_response: int) -> tuple[int, int]:
    """(prompt tokens kept, response tokens kept) for a content budget (the policy above)."""
    budget = max(budget, 0)
    if n_prompt + n_response <= budget:
        return n_prompt, n_response
    prompt_keep = min(n_prompt, max(budget - n_response, budget // 4))
    return prompt_keep, min(n_response, budget - prompt_keep)


def messages_of(prompt: Any) -> list[dict[str, str]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(m) for m in prompt]


def encode(tokenizer, prompt: Any, response: str, max_length: int) -> tuple[list[int], bool]:
    """Token ids for one (prompt, response) and whether anything was cut."""
    return encode_many(tokenizer, [prompt], [response], max_length)[0]


def encode_many(tokenizer, prompts: list[Any], responses: list[str], max_length: int
                ) -> list[tuple[list[int], bool]]:
    """``encode`` for many inputs at once (one batched tokenizer call)."""
    if not prompts:
        return []
    if getattr(tokenizer, "chat_template", None):
        ids, cats = _chat_tokens(tokenizer, prompts, responses, max_length)
    else:
        ids, cats = _pair_tokens(tokenizer, prompts, responses)
    out = []
    for seq, cat in zip(ids, cats, strict=True):
        seq, cat = _guard_double_bos(tokenizer, seq, cat)
        out.append(_truncate(seq, cat, max_length) if len(seq) > max_length else (seq, False))
    return out


def _truncate(ids: list[int], cats: list[int], max_length: int) -> tuple[list[int], bool]:
    return [ids[i] for i in _kept(cats, max_length)], True


def _kept(cats: list[int], max_length: int) -> list[int]:
    """Positions the truncation policy keeps, in order (callers that need to know which kept
    tokens are the response, DPO log-probabilities, cut the categories alike)."""
    count = {cat: cats.count(cat) for cat in (PROMPT, RESPONSE, RESPONSE_B)}
    n_template = len(cats) - sum(count.values())
    keep_p, keep_r = split_budget(max_length - n_template, count[PROMPT],
                                  count[RESPONSE] + count[RESPONSE_B])
    keep_a, keep_b = share_budget(keep_r, count[RESPONSE], count[RESPONSE_B])
    # The prompt keeps its first tokens; each response drops its first ``drop`` tokens.
    drop = {RESPONSE: count[RESPONSE] - keep_a, RESPONSE_B: count[RESPONSE_B] - keep_b}
    kept, seen = [], dict.fromkeys(count, 0)
    for position, cat in enumerate(cats):
        if cat != TEMPLATE:
            seen[cat] += 1
            if (seen[cat] > keep_p) if cat == PROMPT else (seen[cat] <= drop[cat]):
                continue
        kept.append(position)
    if len(kept) > max_length:  # the template alone is longer than max_length: head and tail
        head = max_length // 2
        kept = kept[:head] + kept[len(kept) - (max_length - head):]
    return kept


class ResponseIds(list):
    """Token ids of one (prompt, response) that also say where the response starts.

    ``start`` is the index of the first response token; everything from there to the end (the
    response and the template's closing tokens, such as ``<|im_end|>``, the model's decision to
    stop) is what a causal LM's log-probability of the response sums over. An empty response,
    or one cut away entirely, has ``start == len(ids)``: no response tokens.
    """

    start: int


def encode_responses(tokenizer, prompts: list[Any], responses: list[str], max_length: int
                     ) -> list[tuple[ResponseIds, bool]]:
    """``encode_many``, with each input's response start marked (``ResponseIds``).

    The ids are exactly ``encode_many``'s (same template, same truncation policy), so a DPO
    score and a classifier score of one text read the same tokens.
    """
    if not prompts:
        return []
    if getattr(tokenizer, "chat_template", None):
        ids, cats = _chat_tokens(tokenizer, prompts, responses, 0)  # categories for every input
    else:
        ids, cats = _pair_tokens(tokenizer, prompts, responses)
    out = []
    for seq, cat in zip(ids, cats, strict=True):
        seq, cat = _guard_double_bos(tokenizer, seq, cat)
        cut = len(seq) > max_length
        if cut:
            keep = _kept(cat, max_length)
            seq, cat = [seq[i] for i in keep], [cat[i] for i in keep]
        marked = ResponseIds(seq)
        marked.start = next((i for i, c in enumerate(cat) if c in (RESPONSE, RESPONSE_B)),
                            len(seq))
        out.append((marked, cut))
    return out


def _guard_double_bos(tokenizer, ids: list[int], cats: list[int]) -> tuple[list[int], list[int]]:
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is not None and len(ids) > 1 and ids[0] == bos and ids[1] == bos:
        return ids[1:], cats[1:]
    return ids, cats


# -- chat template -------------------------------------------------------------------------------

def _chat_tokens(tokenizer, prompts, responses, max_length: int
                 ) -> tuple[list[list[int]], list[list[int]]]:
    rendered = [_render(tokenizer, p, r) for p, r in zip(prompts, responses, strict=True)]
    texts = [text for text, _ in rendered]
    if not getattr(tokenizer, "is_fast", False):
        return _pieces_tokens(tokenizer, rendered)
    ids, offsets = _batch_with_offsets(tokenizer, texts)
    # Categories matter only for inputs that will be cut; the rest are all "template".
    cats = [_categories(offs, spans) if len(seq) > max_length else [TEMPLATE] * len(seq)
            for seq, offs, (_, spans) in zip(ids, offsets, rendered, strict=True)]
    return ids, cats


def _batch_with_offsets(tokenizer, texts: list[str]) -> tuple[list[list[int]], list[list]]:
    """Ids and character offsets for many texts, through the Rust tokenizer when possible
    (the transformers wrapper spends as long converting the output as tokenising)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and backend.truncation is None and backend.padding is None:
        encodings = backend.encode_batch(texts, add_special_tokens=False)
        return [e.ids for e in encodings], [e.offsets for e in encodings]
    enc = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    return [list(ids) for ids in enc["input_ids"]], list(enc["offset_mapping"])


def _categories(offsets, spans: list[Span]) -> list[int]:
    """Each token's part, by the character where it starts (zero-width tokens: template)."""
    cats, k = [], 0
    for start, end in offsets:
        while k < len(spans) and spans[k][1] <= start:
            k += 1
        inside = k < len(spans) and spans[k][0] <= start < spans[k][1] and end > start
        cats.append(spans[k][2] if inside else TEMPLATE)
    return cats


def _pieces_tokens(tokenizer, rendered) -> tuple[list[list[int]], list[list[int]]]:
    """Slow tokenizers (no offsets): tokenise template pieces and contents separately."""
    all_ids, all_cats = [], []
    for text, spans in rendered:
        ids: list[int] = []
        cats: list[int] = []
        cursor = 0
        for start, end, kind in [*spans, (len(text), len(text), TEMPLATE)]:
            for part, cat in ((text[cursor:start], TEMPLATE), (text[start:end], kind)):
                if part:
                    piece = tokenizer(part, add_special_tokens=False)["input_ids"]
                    ids += piece
                    cats += [cat] * len(piece)
            cursor = end
        all_ids.append(ids)
        all_cats.append(cats)
    return all_ids, all_cats


def _render(tokenizer, prompt: Any, response: str) -> tuple[str, list[Span]]:
    """The templated text and the character spans of the prompt contents and the response."""
    messages = messages_of(prompt) + [{"role": "assistant", "content": response}]
    pieces = _skeleton(tokenizer, tuple(m["role"] for m in messages))
    kinds = [PROMPT] * (len(messages) - 1) + [RESPONSE]
    if pieces is not None:
        parts, spans, pos = [pieces[0]], [], len(pieces[0])
        for message, kind, tail in zip(messages, kinds, pieces[1:], strict=True):
            content = message["content"]
            spans.extend(_content_spans(content, pos, kind))
            parts += [content, tail]
            pos += len(content) + len(tail)
        return "".join(parts), [s for s in spans if s[1] > s[0]]
    # A template that edits contents (strips, escapes): render for real, find contents in order.
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    spans, cursor = [], 0
    for message, kind in zip(messages, kinds, strict=True):
        content = message["content"]
        for candidate in (content, content.strip()):
            at = text.find(candidate, cursor) if candidate else -1
            if at >= 0:
                spans.extend(_content_spans(content, at, kind) if candidate is content
                             else [(at, at + len(candidate), kind)])
                cursor = at + len(candidate)
                break
    return text, spans


def _skeleton(tokenizer, roles: tuple[str, ...]) -> list[str] | None:
    """The template split around each message's content, or None if it edits contents."""
    try:
        cache = _CACHE.setdefault(tokenizer, {})
    except TypeError:
        cache = {}
    key = (roles, tokenizer.chat_template)
    if key not in cache:
        cache[key] = _build_skeleton(tokenizer, roles)
    return cache[key]


def _build_skeleton(tokenizer, roles: tuple[str, ...]) -> list[str] | None:
    def render(contents: list[str]) -> str:
        return tokenizer.apply_chat_template(
            [{"role": r, "content": c} for r, c in zip(roles, contents, strict=True)],
            tokenize=False)

    marks = [f"\ue000{i}\ue001" for i in range(len(roles))]
    text = render(marks)
    pieces, cursor = [], 0
    for mark in marks:
        at = text.find(mark, cursor)
        if at < 0 or text.count(mark) != 1:
            return None
        pieces.append(text[cursor:at])
        cursor = at + len(mark)
    pieces.append(text[cursor:])
    # Contents must be copied verbatim (no strip/escape): check with awkward contents.
    probe = [f"  \n{i}<x> & {{y}}\n " for i in range(len(roles))]
    expected = pieces[0] + "".join(c + tail for c, tail in zip(probe, pieces[1:], strict=True))
    return pieces if render(probe) == expected else None


# -- text pair (no chat template) ----------------------------------------------------------------

def _pair_tokens(tokenizer, prompts, responses) -> tuple[list[list[int]], list[list[int]]]:
    texts = [p if isinstance(p, str) else "\n\n".join(m["content"] for m in p) for p in prompts]
    unique = list(dict.fromkeys(texts))  # chosen and rejected share their prompt
    by_text = dict(zip(unique, _batch_with_offsets(tokenizer, unique)[0], strict=True))
    p_ids = [by_text[t] for t in texts]
    r_ids, r_offsets = _batch_with_offsets(tokenizer, list(responses))
    prefix, middle, suffix = _pair_layout(tokenizer)
    ids, cats = [], []
    for p, r, offsets, response in zip(p_ids, r_ids, r_offsets, responses, strict=True):
        ids.append(prefix + list(p) + middle + list(r) + suffix)
        r_cats = (_categories(offsets, _content_spans(response, 0, RESPONSE))
                  if hasattr(response, "parts") else [RESPONSE] * len(r))
        cats.append([TEMPLATE] * len(prefix) + [PROMPT] * len(p) + [TEMPLATE] * len(middle)
                    + r_cats + [TEMPLATE] * len(suffix))
    return ids, cats


def _pair_layout(tokenizer) -> tuple[list[int], list[int], list[int]]:
    """The special tokens a tokenizer puts before, between and after a text pair.

    Learned once from encoding a known pair (fast tokenizers encode the two texts separately
    and join them this way), so any pair format works without tokenizer-specific code.
    """
    try:
        cache = _CACHE.setdefault(tokenizer, {})
    except TypeError:
        cache = {}
    if "pair" not in cache:
        a = tokenizer("hello", add_special_tokens=False)["input_ids"]
        b = tokenizer("world", add_special_tokens=False)["input_ids"]
        full = list(tokenizer("hello", "world")["input_ids"])
        i = next(k for k in range(len(full)) if full[k:k + len(a)] == a)
        j = next(k for k in range(i + len(a), len(full)) if full[k:k + len(b)] == b)
        cache["pair"] = (full[:i], full[i + len(a):j], full[j + len(b):])
    return cache["pair"]
