"""Our own transforms beyond reWordBench's named list (documented one by one below).

- ``keyboard_typo``: QWERTY-neighbour typos from nlpaug's bundled keyboard map;
- ``ocr_noise``: OCR confusions (``o``/``0``, ``l``/``1``, ``rn``-style) from nlpaug's bundled
  OCR map;
- ``synonym_swap``: context-safe synonyms from a curated offline table (WordNet needs a download);
- ``lowercase``: casual all-lowercase typing;
- ``code_fence``: a hep-* response wrapped in a markdown code fence;
- ``latex_delimiters``: math-prm ``$..$`` <-> ``\\(..\\)`` and ``$$..$$`` <-> ``\\[..\\]``.

nlpaug's augmenters use the global RNG and re-join tokens with spaces, so only its data files are
used (read without importing nlpaug), with our in-place editing and the item's RNG.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import random
import re
from pathlib import Path

from harness.data.rewardbench import CODE_SUBSETS, MATH_SUBSETS
from transforms import code as codelib
from transforms.base import TextContext, transform
from transforms.synonyms import SYNONYMS
from transforms.text import ANY_WORD, eligible_words, match_case, perturb_words, replace_spans

NOT_CODE = {"exclude_subsets": CODE_SUBSETS}
RATE = 0.1


def _nlpaug_file(relative: str) -> Path:
    spec = importlib.util.find_spec("nlpaug")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("nlpaug is not installed (pip install nlpaug)")
    return Path(spec.origin).parent / "res" / relative


@functools.lru_cache(maxsize=1)
def keyboard_map() -> dict[str, list[str]]:
    """Letter -> neighbouring letters on a QWERTY keyboard (nlpaug ``res/char/keyboard/en.json``).

    Only letter-to-letter entries are kept (a typo must never introduce a digit or symbol), and
    nlpaug's stray entries (a key as its own neighbour, ``" t"``) are dropped.
    """
    raw = json.loads(_nlpaug_file("char/keyboard/en.json").read_text(encoding="utf-8"))
    table = {}
    for key, values in raw.items():
        if len(key) == 1 and key.isalpha():
            near = sorted({v for v in values if len(v) == 1 and v.isalpha() and v != key})
            if near:
                table[key] = near
    return table


@functools.lru_cache(maxsize=1)
def ocr_map() -> dict[str, list[str]]:
    """Character -> characters OCR confuses it with (nlpaug ``res/char/ocr/en.json``, both ways,
    as nlpaug's ``Ocr`` model builds it), restricted to entries whose key is a letter."""
    raw = json.loads(_nlpaug_file("char/ocr/en.json").read_text(encoding="utf-8"))
    table: dict[str, list[str]] = {}
    for key, values in raw.items():
        for a, b in [(key, v) for v in values] + [(v, key) for v in values]:
            if a.isalpha() and b not in table.setdefault(a, []):
                table[a].append(b)
    return {k: sorted(v) for k, v in table.items()}


def _keyboard_word(word: str, rng: random.Random) -> str | None:
    table = keyboard_map()
    spots = [i for i in range(1, len(word)) if word[i].lower() in table]
    if not spots:
        return None
    i = rng.choice(spots)
    new = rng.choice(table[word[i].lower()])
    return word[:i] + (new.upper() if word[i].isupper() else new) + word[i + 1:]


@transform("keyboard_typo", "naturalistic", "responses", requires=("nlpaug-data",), **NOT_CODE)
def keyboard_typo(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Replace one letter in 10% of words with a neighbouring key (``house`` -> ``hojse``).

    Uses nlpaug's English keyboard map (letters only; the first letter of a word stays).
    """
    return perturb_words(text, rng, _keyboard_word, RATE)


def _ocr_word(word: str, rng: random.Random) -> str | None:
    table = ocr_map()
    spots = [i for i, ch in enumerate(word) if ch in table]
    if not spots:
        return None
    i = rng.choice(spots)
    return word[:i] + rng.choice(table[word[i]]) + word[i + 1:]


@transform("ocr_noise", "naturalistic", "responses", requires=("nlpaug-data",), **NOT_CODE)
def ocr_noise(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Replace one character in 10% of words with an OCR confusion (``look`` -> ``l0ok``).

    Uses nlpaug's OCR map in both directions. A letter may become a digit or symbol *inside* a
    word, as OCR does; existing digits are never touched and no stand-alone number is created
    (the word keeps at least two letters).
    """
    return perturb_words(text, rng, _ocr_word, RATE)


def _synonym(word: str, rng: random.Random) -> str | None:
    options = SYNONYMS.get(word.lower())
    return match_case(word, rng.choice(options)) if options else None


_ARTICLE = re.compile(r"(?<![\w'’])(an?|An?)([ \t]+)$")


def article_for(word: str) -> str:
    """``a`` or ``an`` before ``word``, by its first sound (``an issue``, ``a useful``)."""
    lower = word.lower()
    vowel = lower[:1] in ("a", "e", "i", "o", "u") and not lower.startswith(
        ("use", "usu", "uni", "one", "eu"))
    return "an" if vowel or lower.startswith(("hour", "honest")) else "a"


@transform("synonym_swap", "naturalistic", "responses", **NOT_CODE)
def synonym_swap(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Swap 30% of the swappable words (at least one) for a synonym (``big`` -> ``large``).

    The table (``transforms/synonyms.py``) is curated for swaps that keep the meaning and the
    grammar in almost any context, with inflected forms listed explicitly and words with idioms
    left out; WordNet would need a download and suggests many wrong senses. Case follows the
    original word, and an article before a swapped word follows its new first sound (``a great``
    never becomes ``a excellent``).
    """
    spans = eligible_words(text, ANY_WORD, lambda w: w.lower() in SYNONYMS and w[1:].islower())
    if not spans:
        return text
    order = list(range(len(spans)))
    rng.shuffle(order)
    edits = []
    for i in order[:max(1, round(0.3 * len(spans)))]:
        start, end = spans[i]
        new = _synonym(text[start:end], rng)
        if new is None:
            continue
        edits.append((start, end, new))
        m = _ARTICLE.search(text, max(0, start - 8), start)
        if m and m.group(1).lower() != article_for(new):
            edits.append((m.start(1), m.end(1), match_case(m.group(1), article_for(new))))
    return replace_spans(text, edits)


@transform("lowercase", "naturalistic", "responses", **NOT_CODE)
def lowercase(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Lowercase every capitalised prose word (``The`` -> ``the``, ``I`` -> ``i``), as casual
    typing does.

    Only words capitalised at the first letter alone change, and the pronoun ``I``; other
    one-letter capitals (``option B``), acronyms and identifiers with inner capitals (``NASA``,
    ``getValue``) and everything in code, math and URLs stay. Deterministic.
    """
    spans = eligible_words(text, ANY_WORD,
                           lambda w: w == "I" or (w[0].isupper() and w[1:].islower()))
    return replace_spans(text, [(s, e, text[s:e].lower()) for s, e in spans])


FENCE_TAGS = {"python": "python", "cpp": "cpp", "go": "go", "java": "java", "js": "javascript",
              "rust": "rust"}


@transform("code_fence", "domain", "responses", subsets=CODE_SUBSETS)
def code_fence(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Wrap a code response in a markdown code fence with its language tag (```` ```python ````).

    Chat models usually fence code; RewardBench's hep-* responses are bare. The code inside is
    unchanged, so behaviour is too. Deterministic.
    """
    lang = FENCE_TAGS[codelib.language(ctx.subset, ctx.prompt, text)]
    body = text if text.endswith("\n") else text + "\n"
    return f"```{lang}\n{body}```"


_DOLLAR_MATH = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$((?:\\.|[^$\\])+?)\$", re.S)
_PAREN_MATH = re.compile(r"\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)


def swap_delimiters(text: str) -> str:
    """``$x$`` -> ``\\(x\\)`` and ``$$x$$`` -> ``\\[x\\]`` when dollars are used; else back."""
    if _DOLLAR_MATH.search(text):
        return _DOLLAR_MATH.sub(
            lambda m: f"\\[{m.group(1)}\\]" if m.group(1) is not None else f"\\({m.group(2)}\\)",
            text)
    return _PAREN_MATH.sub(
        lambda m: f"$${m.group(1)}$$" if m.group(1) is not None else f"${m.group(2)}$", text)


@transform("latex_delimiters", "domain", "responses", subsets=MATH_SUBSETS)
def latex_delimiters(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Swap LaTeX math delimiters: ``$..$`` <-> ``\\(..\\)`` and ``$$..$$`` <-> ``\\[..\\]``.

    Both notations render the same math; a reward model should not prefer one. A text that uses
    dollars gets brackets, one that uses brackets gets dollars. The math inside is untouched; an
    escaped ``\\$`` is part of the math, and ``$x,$$y,$`` is two inline formulas.
    Deterministic.
    """
    return swap_delimiters(text)
