"""Naturalistic rule-based transforms: noise real users and systems make (reWordBench group 2).

All edit *both responses* in place and skip the hep-* subsets (their responses are bare code, in
which a typo changes behaviour). Only eligible words are touched (``transforms.text``): letters
only, outside code, math and URLs, so digits and code tokens always survive. Rates are our
choice (the paper's are not known): 10% of eligible words get one edit each, and at least one
word is edited whenever the text has an eligible word, so a transform is never silently a no-op.
The model-based naturalistic transforms (paraphrase, back-translation) are in
``transforms.model_based``.
"""

from __future__ import annotations

import random
import re
import string

from harness.data.rewardbench import CODE_SUBSETS
from transforms.base import TextContext, transform
from transforms.text import (
    ANY_WORD,
    eligible_words,
    match_case,
    perturb_words,
    pick,
    prose_spans,
    replace_spans,
)

NOT_CODE = {"exclude_subsets": CODE_SUBSETS}
RATE = 0.1

# Latin letter -> visually identical Cyrillic or Greek letter (Unicode confusables).
HOMOGLYPHS = {
    "a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "j": "\u0458", "o": "\u043e",
    "p": "\u0440", "s": "\u0455", "x": "\u0445", "y": "\u0443", "A": "\u0410", "B": "\u0412",
    "C": "\u0421", "E": "\u0415", "H": "\u041d", "I": "\u0406", "J": "\u0408", "K": "\u041a",
    "M": "\u041c", "N": "\u039d", "O": "\u041e", "P": "\u0420", "S": "\u0405", "T": "\u0422",
    "X": "\u0425", "Y": "\u04ae", "Z": "\u0396",
}


def _homoglyph_word(word: str, rng: random.Random) -> str | None:
    spots = [i for i, ch in enumerate(word) if ch in HOMOGLYPHS]
    if not spots:
        return None
    i = rng.choice(spots)
    return word[:i] + HOMOGLYPHS[word[i]] + word[i + 1:]


@transform("homoglyph", "naturalistic", "responses", **NOT_CODE)
def homoglyph(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Replace one letter in 10% of words with a look-alike Cyrillic/Greek letter (``a`` -> ``а``).

    The text looks the same to a reader but not to a tokenizer. The table maps 27 Latin letters to
    their Unicode confusables (as TextAttack's homoglyph swap); one letter per chosen word.
    """
    return perturb_words(text, rng, _homoglyph_word, RATE)


def _interior(word: str) -> range:
    """Positions a typo may touch: not the first or last letter (the word stays readable)."""
    return range(1, len(word) - 1)


def _swap_word(word: str, rng: random.Random) -> str | None:
    spots = [i for i in range(1, len(word) - 2) if word[i] != word[i + 1]]
    if len(word) < 4 or not spots:
        return None
    i = rng.choice(spots)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


@transform("char_swap", "naturalistic", "responses", **NOT_CODE)
def char_swap(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Swap two adjacent inner letters in 10% of words (``words`` -> ``wrods``).

    Words of four letters or more; the first and last letters stay; the two letters differ, so
    the word always changes.
    """
    return perturb_words(text, rng, _swap_word, RATE)


def _random_letter(rng: random.Random, like: str, avoid: str = "") -> str:
    letters = [c for c in string.ascii_lowercase if c not in avoid.lower()]
    letter = rng.choice(letters)
    return letter.upper() if like.isupper() else letter


def _substitute_word(word: str, rng: random.Random) -> str | None:
    i = rng.choice(_interior(word))
    return word[:i] + _random_letter(rng, word[i], word[i]) + word[i + 1:]


@transform("char_substitution", "naturalistic", "responses", **NOT_CODE)
def char_substitution(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Replace one inner letter in 10% of words with a different random letter (``cat`` -> ``cut``).

    A letter is only ever replaced by a letter, never by a digit or symbol.
    """
    return perturb_words(text, rng, _substitute_word, RATE)


def _insert_word(word: str, rng: random.Random) -> str | None:
    i = rng.randrange(1, len(word))
    return word[:i] + _random_letter(rng, word[i - 1]) + word[i:]


@transform("char_insertion", "naturalistic", "responses", **NOT_CODE)
def char_insertion(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Insert one random letter inside 10% of words (``word`` -> ``wokrd``).

    The letter goes between two letters of the word (never at its ends) and takes the case of the
    letter before it.
    """
    return perturb_words(text, rng, _insert_word, RATE)


def _delete_word(word: str, rng: random.Random) -> str | None:
    i = rng.choice(_interior(word))
    return word[:i] + word[i + 1:]


@transform("char_deletion", "naturalistic", "responses", **NOT_CODE)
def char_deletion(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Delete one inner letter in 10% of words (``letter`` -> ``leter``)."""
    return perturb_words(text, rng, _delete_word, RATE)


# Words whose loss would flip or blur the meaning: never deleted. Negations and quantifiers, and
# the words of arithmetic written out (``5 times 3``, ``more than 2``, ``half of``).
KEEP_WORDS = frozenset("""
no not nor never none nothing nobody nowhere neither without cannot isnt arent wasnt dont
doesnt didnt wont only all every each any must should true false yes
if unless because but or except too zero positive negative between even odd
plus minus times divided multiplied over squared cubed root equals equal percent half twice
double triple less more than greater fewer least most per
""".split())


@transform("word_deletion", "naturalistic", "responses", **NOT_CODE)
def word_deletion(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Delete 10% of the words (at least one), with the space after each.

    Any plain word of letters may go (``a``, ``the`` too), except negations and quantifiers such
    as ``not``, ``never``, ``all``, ``only``, and the connectives ``if``, ``because``, ``but``,
    ``or``, whose loss would flip the meaning or the reasoning, and the words of
    arithmetic (``times``, ``than``, ``half``). Numbers, code, the unit after a number (``cups``
    in ``1 1/2 cups``) and one-letter variables (``(a - b + c)``, ``5 x 8``) are never words
    here (``transforms.text.in_arithmetic``). Newlines stay.
    """
    spans = eligible_words(text, ANY_WORD, lambda w: w.lower() not in KEEP_WORDS)
    edits = []
    for i in pick(rng, len(spans), RATE):
        start, end = spans[i]
        if text[end:end + 1] == " ":
            end += 1
        elif start > 0 and text[start - 1] == " ":
            start -= 1
        edits.append((start, end, ""))
    return replace_spans(text, _merge(edits))


def _merge(edits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Drop edits that overlap an earlier one (two deletions that both took a shared space)."""
    kept: list[tuple[int, int, str]] = []
    for start, end, new in sorted(edits):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end, new))
    return kept


# Pairs a speech recogniser confuses (same or near-same sound). Number words (two, four, one) are
# left out: a recogniser that writes "to" for "two" would change a number; so is know -> no,
# which would put a negation into the text.
HOMOPHONES = [
    ("their", "there"), ("there", "their"), ("they're", "their"), ("its", "it's"),
    ("it's", "its"), ("your", "you're"), ("you're", "your"), ("then", "than"), ("than", "then"),
    ("to", "too"), ("too", "to"), ("here", "hear"), ("hear", "here"),
    ("write", "right"), ("right", "write"), ("whether", "weather"), ("weather", "whether"),
    ("whole", "hole"), ("which", "witch"), ("by", "buy"), ("buy", "by"), ("new", "knew"),
    ("knew", "new"), ("through", "threw"), ("accept", "except"), ("affect", "effect"),
    ("effect", "affect"), ("piece", "peace"), ("peace", "piece"), ("principle", "principal"),
    ("week", "weak"), ("weak", "week"), ("where", "wear"), ("see", "sea"), ("site", "sight"),
    ("plain", "plane"), ("role", "roll"), ("whose", "who's"), ("who's", "whose"),
    ("allowed", "aloud"), ("break", "brake"), ("meet", "meat"), ("would", "wood"),
    ("some", "sum"), ("made", "maid"), ("wait", "weight"), ("way", "weigh"), ("road", "rode"),
    ("red", "read"), ("our", "hour"), ("we'll", "wheel"), ("I'll", "aisle"), ("be", "bee"),
]
_HOMOPHONE = dict(HOMOPHONES)
_SPOKEN_WORD = re.compile(r"(?<![\w\\@#$/.'’])[A-Za-z]+(?:'[a-z]+)?(?![\w'’(/@])")
# Bold markers open before or close after a non-word character; ``n**0.5``, ``F**k`` and a
# ``________`` blank to fill in are not markup and stay.
_MARKUP = re.compile(r"(?<!\w)(?:\*\*|__)(?![*_])|(?<![*_])(?:\*\*|__)(?!\w)|^#{1,6}[ \t]+",
                     re.M)
# A comma between two words; not next to a number or a one-letter label (``A, B, C``, ``B, 400``),
# where dropping it would merge the items of a list.
_COMMA = re.compile(r"(?<![\d\s])(?<!\b[A-Za-z]),(?![ \t]*(?:\d|[A-Za-z]\b))")


@transform("back_transcription", "naturalistic", "responses",
           approximation="rule-based stand-in for text -> speech -> text; no speech models run",
           **NOT_CODE)
def back_transcription(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Offline stand-in for back-transcription (text -> speech -> text): what ASR would garble.

    reWordBench runs text-to-speech then speech recognition; no speech model is available
    offline, so this simulates a recogniser's typical errors and is labelled an approximation:
    (1) about 30% of homophone-prone words are swapped for a sound-alike (``their`` ->
    ``there``, ``whether`` -> ``weather``; at least one when the text has any); (2) markup that
    is not spoken (``**``, ``__``, heading marks) disappears; (3) half of the commas between words
    are dropped, as punctuation restoration misses them. Numbers are kept as digits, as
    recognisers with inverse text normalisation write them; code and math are untouched.
    """
    edits: list[tuple[int, int, str]] = []
    spans = eligible_words(text, _SPOKEN_WORD,
                           lambda w: w.lower() in _HOMOPHONE or w in _HOMOPHONE)
    for i in pick(rng, len(spans), 0.3):
        start, end = spans[i]
        word = text[start:end]
        sound_alike = _HOMOPHONE.get(word) or _HOMOPHONE[word.lower()]
        edits.append((start, end, match_case(word, sound_alike)))
    for start, end in prose_spans(text):
        edits.extend((*m.span(), "") for m in _MARKUP.finditer(text, start, end))
        edits.extend((*m.span(), "") for m in _COMMA.finditer(text, start, end)
                     if rng.random() < 0.5)
    return replace_spans(text, _merge(edits))
