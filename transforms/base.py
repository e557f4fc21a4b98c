"""The ``Transform`` interface, the transform registry, and how a transform meets a pair.

A transform rewrites one text (a prompt or a response) without changing its meaning, or at least
without changing which response is better. It declares what it touches and where it applies:

- ``category``: ``controlled`` (template-based), ``naturalistic`` (noise a real user or system
  makes) or ``domain`` (code, math, safety), reWordBench's three groups;
- ``fields``: the pair fields it edits (``prompt``, ``chosen``, ``rejected``; ``responses`` is
  shorthand for both responses). A transform that edits responses edits *both*, so neither side
  gets a cue the other lacks;
- ``subsets`` / ``exclude_subsets``: the RewardBench subsets it applies to (``None`` = all);
- ``preserves``: ``meaning`` or only ``ranking`` (e.g. appending unrelated code);
- ``kind``: ``rule`` or ``model`` (needs a text generator); ``requires`` names resources.

Randomness comes only from the ``random.Random`` passed in, derived from (seed, transform name,
pair key, field) by ``apply_to_pair``: the output depends on nothing else, and no transform may
touch global RNG state (nlpaug and NL-Augmenter seed the process RNG; we do not).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.data.schema import PreferencePair
from harness.registry import Registry
from harness.seeding import rng_for

CATEGORIES = ("controlled", "naturalistic", "domain")
FIELDS = ("prompt", "chosen", "rejected")
FIELD_ALIASES = {"responses": ("chosen", "rejected"), "both": ("chosen", "rejected")}
KINDS = ("rule", "model")
PRESERVES = ("meaning", "ranking")


@dataclass(frozen=True)
class TextContext:
    """What a transform may know besides the text: where it comes from.

    ``prompt`` is the pair's prompt as text (code transforms read the function signature from
    it); ``generator`` is the text generator model-based transforms use (``None``: default).
    """

    field: str
    subset: str | None = None
    key: str = ""
    prompt: str = ""
    generator: Any = None


TextFn = Callable[[str, random.Random, TextContext], str]


@dataclass(frozen=True)
class Transform:
    """One registered transformation; ``apply_text`` does the work.

    Built-ins are made by the ``transform`` decorator from a function whose docstring documents
    the choices made (the function's first docstring line is the ``description``).
    """

    name: str
    category: str
    fields: tuple[str, ...]
    fn: TextFn | None = field(default=None, repr=False, compare=False)
    description: str = ""
    subsets: tuple[str, ...] | None = None
    exclude_subsets: tuple[str, ...] = ()
    preserves: str = "meaning"
    kind: str = "rule"
    requires: tuple[str, ...] = ()
    approximation: str | None = None  # says so when a transform stands in for something it is not
    doc: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        expanded: list[str] = []
        for name in (self.fields,) if isinstance(self.fields, str) else self.fields:
            for f in FIELD_ALIASES.get(name, (name,)):
                if f not in FIELDS:
                    raise ValueError(f"transform {self.name!r}: unknown field {f!r}")
                if f not in expanded:
                    expanded.append(f)
        object.__setattr__(self, "fields", tuple(expanded))
        for attr, allowed in (("category", CATEGORIES), ("kind", KINDS),
                              ("preserves", PRESERVES)):
            if getattr(self, attr) not in allowed:
                raise ValueError(f"transform {self.name!r}: {attr} must be one of {allowed}")
        for attr in ("subsets", "requires", "exclude_subsets"):
            value = getattr(self, attr)
            if isinstance(value, (list, str)):
                object.__setattr__(self, attr, (value,) if isinstance(value, str) else tuple(value))

    def apply_text(self, text: str, rng: random.Random, ctx: TextContext) -> str:
        if self.fn is None:
            raise NotImplementedError(f"transform {self.name!r} has no apply_text")
        return self.fn(text, rng, ctx)

    def applies_to_subset(self, subset: str | None) -> bool:
        if subset in self.exclude_subsets:
            return False
        return self.subsets is None or subset in self.subsets

    @property
    def fields_label(self) -> str:
        return "responses" if self.fields == ("chosen", "rejected") else ",".join(self.fields)

    @property
    def subsets_label(self) -> str:
        if self.subsets is not None:
            return _short_subsets(self.subsets)
        if self.exclude_subsets:
            return "all but " + _short_subsets(self.exclude_subsets)
        return "all"

    def info(self) -> dict[str, Any]:
        """The row ``transforms list --json`` prints."""
        return {
            "name": self.name, "category": self.category, "kind": self.kind,
            "fields": self.fields_label, "subsets": self.subsets_label,
            "subset_list": list(self.subsets) if self.subsets is not None else None,
            "exclude_subsets": list(self.exclude_subsets), "preserves": self.preserves,
            "requires": list(self.requires), "approximation": self.approximation,
            "description": self.description,
        }


def _short_subsets(names: tuple[str, ...]) -> str:
    """``hep-*`` for the six code subsets together, else the names."""
    from harness.data.rewardbench import CODE_SUBSETS

    rest = [n for n in names if n not in CODE_SUBSETS]
    if set(CODE_SUBSETS) <= set(names):
        return ",".join(["hep-*", *rest])
    return ",".join(names)


TRANSFORMS: Registry[Transform] = Registry("transform", group="crome_bench.transforms")


def transform(name: str, category: str, fields: str | tuple[str, ...], *,
              registry: Registry[Transform] | None = None, origin: str | None = None,
              cls: type[Transform] = Transform, **options: Any) -> Callable[[TextFn], TextFn]:
    """Decorator: register ``fn(text, rng, ctx) -> str`` as a transform; returns ``fn`` unchanged.

    The function's docstring becomes the transform's documentation (its first line the
    description), so the choices a transform makes are written where it is defined. ``origin``
    defaults to ``builtin`` for this package's modules and ``plugin <module>`` for any other.
    """

    def decorate(fn: TextFn) -> TextFn:
        doc = (fn.__doc__ or "").strip()
        obj = cls(name=name, category=category, fields=fields, fn=fn,
                  description=doc.splitlines()[0] if doc else "", doc=doc, **options)
        module = getattr(fn, "__module__", None) or "?"
        where = origin or ("builtin" if module.split(".")[0] == "transforms"
                           else f"plugin {module}")
        (registry or TRANSFORMS).add(name, obj, origin=where)
        return fn

    return decorate


def applies_to(t: Transform, pair: PreferencePair) -> bool:
    """Whether ``t`` is meant for this pair's subset."""
    return t.applies_to_subset(pair.subset)


def field_rng(seed: int, t: Transform, pair: PreferencePair, field_name: str) -> random.Random:
    """The only RNG a transform sees: a function of (seed, transform, item, field)."""
    return rng_for(seed, f"transform/{t.name}", pair.key, field_name)


def _prompt_get(prompt: Any) -> tuple[str, int | None]:
    """The prompt text a transform edits: the string, or the last user message of a chat."""
    if isinstance(prompt, str):
        return prompt, None
    for i in range(len(prompt) - 1, -1, -1):
        if prompt[i].get("role") == "user":
            return prompt[i]["content"], i
    return prompt[-1]["content"], len(prompt) - 1


def apply_to_pair(t: Transform, pair: PreferencePair, seed: int = 0, *,
                  generator: Any = None) -> tuple[PreferencePair, bool]:
    """(transformed pair, whether any field changed). Fields are transformed independently."""
    prompt_text, prompt_index = _prompt_get(pair.prompt)
    updates: dict[str, Any] = {}
    for name in t.fields:
        text = prompt_text if name == "prompt" else getattr(pair, name)
        ctx = TextContext(name, pair.subset, pair.key, prompt_text, generator)
        new = t.apply_text(text, field_rng(seed, t, pair, name), ctx)
        if not isinstance(new, str):
            raise TypeError(f"transform {t.name!r} returned {type(new).__name__}, not text")
        if new == text:
            continue
        if name == "prompt" and prompt_index is not None:
            messages = [dict(m) for m in pair.prompt]
            messages[prompt_index]["content"] = new
            updates["prompt"] = messages
        else:
            updates[name] = new
    if not updates:
        return pair, False
    return dataclasses.replace(pair, **updates), True


def apply_to_pairs(t: Transform, pairs: list[PreferencePair], seed: int = 0, *,
                   generator: Any = None) -> list[tuple[PreferencePair, bool]]:
    """``apply_to_pair`` over many pairs. A transform with a ``prefetch(texts, generator)``
    method (the model-based ones) first gets every text at once, so it can generate in batches."""
    prefetch = getattr(t, "prefetch", None)
    if prefetch is not None:
        texts = [_prompt_get(p.prompt)[0] if name == "prompt" else getattr(p, name)
                 for p in pairs for name in t.fields]
        prefetch(texts, generator)
    return [apply_to_pair(t, p, seed, generator=generator) for p in pairs]
