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
- ``kind``: ``rule`` or ``model`` (needs a text generator); ``requires`` names resources;
- ``one_sided``: whether an edit that changes only one response may stand. By default it may
  not: a one-sided edit is a cue by itself, so ``transform_pair`` undoes it and the pair counts
  as changed on neither side (``Applied.undone`` says so);
- ``pair_draw``: both responses draw from one RNG, so they get the same random choice (the same
  appended snippet, handle or URL).

Every pair comes out ``both`` (the prompt, or both responses, changed), ``one`` (one response
only; only where ``one_sided`` allows it) or ``neither``; ``transforms apply`` and the ``reword``
suite report the three counts, and the accuracy drop is taken on ``both`` pairs.

Randomness comes only from the ``random.Random`` passed in, derived from (seed, transform name,
pair key, field) by ``apply_to_pair``: the output depends on nothing else, and no transform may
touch global RNG state (nlpaug and NL-Augmenter seed the process RNG; we do not).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
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
    it); ``generator`` is the text generator model-based transforms use (``None``: default);
    ``others`` are the pairs transformed together with this one (``code_append_other`` draws
    another problem's solution from them).
    """

    field: str
    subset: str | None = None
    key: str = ""
    prompt: str = ""
    generator: Any = None
    others: tuple[PreferencePair, ...] = ()


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
    one_sided: bool = False  # may an edit of one response stand? (no: it is undone)
    pair_draw: bool = False  # both responses get the same random draw
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
    defaults to the registry's: ``plugin <entry point>`` while a plugin loads, else ``builtin``.
    """

    def decorate(fn: TextFn) -> TextFn:
        doc = (fn.__doc__ or "").strip()
        obj = cls(name=name, category=category, fields=fields, fn=fn,
                  description=doc.splitlines()[0] if doc else "", doc=doc, **options)
        # ``is None``, not ``or``: an empty registry is falsy (it has a length).
        (TRANSFORMS if registry is None else registry).add(name, obj, origin=origin)
        return fn

    return decorate


def applies_to(t: Transform, pair: PreferencePair) -> bool:
    """Whether ``t`` is meant for this pair's subset."""
    return t.applies_to_subset(pair.subset)


def field_rng(seed: int, t: Transform, pair: PreferencePair, field_name: str) -> random.Random:
    """The only RNG a transform sees: a function of (seed, transform, item, field); with
    ``pair_draw`` both responses share the field name ``responses``, hence one draw."""
    if t.pair_draw and field_name in ("chosen", "rejected"):
        field_name = "responses"
    return rng_for(seed, f"transform/{t.name}", pair.key, field_name)


SIDES = ("both", "one", "neither")


@dataclass(frozen=True)
class Applied:
    """One pair after a transform: the pair, which sides changed, whether a one-sided edit was
    undone (then ``sides`` is ``neither`` and ``pair`` the original)."""

    pair: PreferencePair
    sides: str
    undone: bool = False

    @property
    def changed(self) -> bool:
        return self.sides != "neither"


def _prompt_get(prompt: Any) -> tuple[str, int | None]:
    """The prompt text a transform edits: the string, or the last user message of a chat."""
    if isinstance(prompt, str):
        return prompt, None
    for i in range(len(prompt) - 1, -1, -1):
        if prompt[i].get("role") == "user":
            return prompt[i]["content"], i
    return prompt[-1]["content"], len(prompt) - 1


def apply_to_pair(t: Transform, pair: PreferencePair, seed: int = 0, *, generator: Any = None,
                  others: tuple[PreferencePair, ...] = ()) -> tuple[PreferencePair, bool]:
    """(transformed pair, whether it changed): ``transform_pair`` without the sides."""
    applied = transform_pair(t, pair, seed, generator=generator, others=others)
    return applied.pair, applied.changed


def transform_pair(t: Transform, pair: PreferencePair, seed: int = 0, *,
                   generator: Any = None, others: tuple[PreferencePair, ...] = ()) -> Applied:
    """The pair after ``t``, each field transformed with its own RNG; an edit of one response
    alone is undone unless ``t.one_sided`` (see the module docstring). ``others``: the pairs
    transformed together with it (``TextContext.others``)."""
    prompt_text, prompt_index = _prompt_get(pair.prompt)
    updates: dict[str, Any] = {}
    for name in t.fields:
        text = prompt_text if name == "prompt" else getattr(pair, name)
        ctx = TextContext(name, pair.subset, pair.key, prompt_text, generator, others)
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
        return Applied(pair, "neither")
    responses = {"chosen", "rejected"} & set(updates)
    if "prompt" in updates or len(responses) == 2:
        return Applied(dataclasses.replace(pair, **updates), "both")
    if not t.one_sided:
        return Applied(pair, "neither", undone=True)
    return Applied(dataclasses.replace(pair, **updates), "one")


def transform_pairs(t: Transform, pairs: list[PreferencePair], seed: int = 0, *,
                    generator: Any = None,
                    others: Sequence[PreferencePair] | None = None) -> list[Applied]:
    """``transform_pair`` over many pairs. A transform with a ``prefetch(texts, generator)``
    method (the model-based ones) first gets every text at once, so it can generate in batches.
    ``others``: the pairs a transform may draw from (``TextContext.others``; default ``pairs``),
    e.g. a whole dataset when ``pairs`` is a sample of it."""
    prefetch = getattr(t, "prefetch", None)
    if prefetch is not None:
        texts = [_prompt_get(p.prompt)[0] if name == "prompt" else getattr(p, name)
                 for p in pairs for name in t.fields]
        prefetch(texts, generator)
    together = tuple(pairs if others is None else others)
    return [transform_pair(t, p, seed, generator=generator, others=together) for p in pairs]


def apply_to_pairs(t: Transform, pairs: list[PreferencePair], seed: int = 0, *,
                   generator: Any = None) -> list[tuple[PreferencePair, bool]]:
    """``transform_pairs`` as (pair, changed) tuples."""
    return [(a.pair, a.changed) for a in transform_pairs(t, pairs, seed, generator=generator)]


def side_counts(applied: list[Applied]) -> dict[str, int]:
    """Pairs changed on both sides, one side, neither; of neither, the one-sided edits undone
    (``undone``) and the pairs with nothing to edit (``noop``)."""
    counts = {side: sum(a.sides == side for a in applied) for side in SIDES}
    counts["undone"] = sum(a.undone for a in applied)
    counts["noop"] = counts["neither"] - counts["undone"]  # nothing to edit on either side
    return counts
