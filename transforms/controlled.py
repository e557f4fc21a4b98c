"""Controlled transforms: templates that keep the meaning by construction (reWordBench group 1).

Which side each edits is our choice (the paper's Appendix B table was not available):
- surface additions that a reader skips (quotes, spaced punctuation, a Twitter handle or URL,
  appended tautologies) edit *both responses*, the text the reward model judges; they skip the
  hep-* subsets, whose responses are bare code that the addition would break;
- instruction-level changes (ignore above/below, ROT-13/ROT-2 with a decoding instruction) edit
  the *prompt*, on every subset: the responses must keep answering a plain-text instruction.
"""

from __future__ import annotations

import random
import re
import string

from harness.data.rewardbench import CODE_SUBSETS
from transforms.base import TextContext, transform
from transforms.text import (
    ANSWER_SECTION,
    after,
    before,
    ends_in_fence,
    prose_spans,
    starts_a_block,
)

NOT_CODE = {"exclude_subsets": CODE_SUBSETS}


@transform("add_quotes", "controlled", "responses", **NOT_CODE)
def add_quotes(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Wrap the response in triple double quotes (\"\"\"...\"\"\").

    Triple quotes, not one pair: a single ``"`` would blend with quotes the response already
    has. A response that starts with a code fence or a heading, or ends with a code fence or a
    final ``# Answer`` section, gets a newline between it and the quotes, so the fence still
    opens and closes and the heading stays one. Exception (audit ``answers``): the closing
    quotes follow the final answer, on their own line, since they wrap the whole response.
    Deterministic (no randomness).
    """
    head = "\n" if starts_a_block(text) else ""
    tail = "\n" if ends_in_fence(text) or ANSWER_SECTION.search(text) else ""
    return f'"""{head}{text}{tail}"""'


PUNCT = re.escape(string.punctuation)
# A space between a non-space character and a punctuation mark, and between a punctuation mark
# and a non-space character (Brittlebench's PunctSpacesPerturbation, which cites reWordBench).
_PUNCT_GAP = re.compile(rf"(?<=[^\s])(?=[{PUNCT}])|(?<=[{PUNCT}])(?=[^\s])")
# Numbers keep their separators: 3.14, 1,000, 12:30, 1/2, 2020...0 and a bare .7 stay whole;
# so do identifiers with an underscore (``Password_123``, ``H_AR_``) and codes that mix letters,
# digits and inner punctuation (``doi:10.48550/arXiv.1706.03762``, ``v1.2``).
_NUMBER_WITH_SEPARATORS = re.compile(
    r"(?<![\w.])\.\d+(?:[.,:/]\d+)*|\d+(?:(?:[.,:/]|\.\.\.)\d+)+|\w*_\w*"
    r"|(?<![\w./:-])(?=[\w./:-]*[A-Za-z])(?=[\w./:-]*\d)\w+(?:[./:-]\w+)+")


@transform("punct_spaces", "controlled", "responses", **NOT_CODE)
def punct_spaces(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Put a space before and after every punctuation mark (``Hi, you!`` -> ``Hi , you !``).

    As Brittlebench's PunctSpacesPerturbation: a space goes between any non-space character and
    an ASCII punctuation mark, and vice versa. Protected spans (code, math, URLs) are left as they
    are, and so are numbers with separators (``3.14`` stays ``3.14``), identifiers with an
    underscore and codes mixing letters and digits (``doi:10.48550/arXiv.1706.03762``), whose
    meaning the spaces would break. Deterministic.
    """
    out, pos = [], 0
    for start, end in prose_spans(text):
        out.append(text[pos:start])
        segment, sub_pos, parts = text[start:end], 0, []
        for m in _NUMBER_WITH_SEPARATORS.finditer(segment):
            parts.append(_PUNCT_GAP.sub(" ", segment[sub_pos:m.start()]))
            parts.append(m.group())
            sub_pos = m.end()
        parts.append(_PUNCT_GAP.sub(" ", segment[sub_pos:]))
        out.append(_join_spaced(parts))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _join_spaced(parts: list[str]) -> str:
    """Join pieces, adding the space a number next to punctuation would have got."""
    joined = parts[0]
    for part in parts[1:]:
        if joined and part and _needs_gap(joined[-1], part[0]):
            joined += " "
        joined += part
    return joined


def _needs_gap(left: str, right: str) -> bool:
    punct = string.punctuation
    return (not left.isspace() and not right.isspace()) and (left in punct or right in punct)


HANDLE_NAMES = ("alex", "jordan", "sam", "taylor", "casey", "morgan", "riley", "jamie", "drew",
                "quinn", "avery", "skyler", "dana", "robin", "kim", "lee", "pat", "chris")
HANDLE_SUFFIXES = ("", "_", "_x", "official", "writes", "tweets", "dev", "fan")


@transform("twitter_handle", "controlled", "responses", pair_draw=True, **NOT_CODE)
def twitter_handle(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Start the response with a random Twitter handle, as a reply would (``@sam_dev42 ...``).

    As CheckList's robustness test of adding handles. The handle is a name, an optional suffix
    and two digits, drawn once per pair (both responses get the same handle, so neither gets a
    cue); the response's own numbers are not touched. Before a response that opens with a code
    fence the handle goes on its own line, so the fence still opens.
    """
    handle = rng.choice(HANDLE_NAMES) + rng.choice(HANDLE_SUFFIXES) + f"{rng.randrange(100):02d}"
    return before(text, f"@{handle}")


URL_CHARS = string.ascii_letters + string.digits


@transform("twitter_url", "controlled", "responses", pair_draw=True, **NOT_CODE)
def twitter_url(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Append a random shortened Twitter URL (``https://t.co/`` + 10 letters and digits).

    As CheckList's robustness test of adding URLs; the URL is drawn once per pair (the same on
    both responses) and separated from the response by one space, or a newline after a closing
    code fence, so the URL lands outside the code block.
    """
    slug = "".join(rng.choice(URL_CHARS) for _ in range(10))
    return after(text, f"https://t.co/{slug}")


STRESS_TAUTOLOGY = " and true is true"


@transform("stress_test", "controlled", "responses", **NOT_CODE)
def stress_test(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Append the tautology ``and true is true`` five times (Naik et al. 2018's stress test).

    reWordBench's StressTest appends meaningless strings; we use the classic NLI stress-test
    tautology, appended five times directly after the response (on a new line after a closing
    code fence, so the fence still closes). Deterministic.
    """
    return after(text, (STRESS_TAUTOLOGY * 5).lstrip())


DISTRACTORS = (
    "Write a haiku about the ocean.",
    "List three facts about the planet Mars.",
    "Translate 'good morning' into French.",
    "Summarize the plot of Romeo and Juliet in one sentence.",
    "Give me a recipe for pancakes.",
    "Explain how a rainbow forms.",
    "Suggest a name for a pet goldfish.",
    "Describe the rules of chess briefly.",
    "Write a limerick about a cat.",
    "What is the capital of Australia?",
    "Recommend a good book for a long flight.",
    "Compose a short thank-you note to a teacher.",
)


@transform("ignore_above", "controlled", "prompt")
def ignore_above(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Put an unrelated instruction first, then ``Ignore the text above.`` and the real prompt.

    Wording as Brittlebench's Ignore Above (``prefix + "\\nIgnore the text above. Here is the
    actual instruction: " + text``); the distractor is drawn from a fixed list of twelve benign,
    unrelated instructions by the item's RNG. Edits the prompt, so the responses still answer it.
    A prompt that opens with a code fence starts on a new line, so the fence still opens.
    """
    return before(text, f"{rng.choice(DISTRACTORS)}\nIgnore the text above. "
                        "Here is the actual instruction:")


@transform("ignore_below", "controlled", "prompt")
def ignore_below(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Put the real prompt first, then ``Ignore the text below.`` and an unrelated instruction.

    The mirror of ``ignore_above``, with the same list of distractors.
    """
    return f"{text}\nIgnore the text below.\n{rng.choice(DISTRACTORS)}"


def rot(text: str, shift: int) -> str:
    """Caesar-shift ASCII letters by ``shift`` (digits and everything else unchanged)."""
    lower, upper = string.ascii_lowercase, string.ascii_uppercase
    table = str.maketrans(lower + upper,
                          lower[shift:] + lower[:shift] + upper[shift:] + upper[:shift])
    return text.translate(table)


ROT_INSTRUCTION = (
    "The following instruction is encoded with {name}: every letter is shifted {n} places "
    "forward in the alphabet ({example}); digits and punctuation are unchanged. Decode it by "
    "shifting each letter {n} places back, then respond to the decoded instruction.\n\n"
)


@transform("rot13", "controlled", "prompt")
def rot13(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Encode the prompt with ROT-13 and prepend an instruction that says how to decode it.

    Only ASCII letters move; digits, punctuation and layout stay, so decoding restores the prompt
    exactly. Exempt in the audit (its purpose): math, fences, answers, units and variables are
    encoded with the rest, and the instruction adds the shift's number. Deterministic.
    """
    return ROT_INSTRUCTION.format(name="ROT-13", n=13, example="a->n, n->a") + rot(text, 13)


@transform("rot2", "controlled", "prompt")
def rot2(text: str, rng: random.Random, ctx: TextContext) -> str:
    """Encode the prompt with ROT-2 (a->c, y->a) and prepend an instruction to decode it.

    As ``rot13`` with a shift of two, which is not its own inverse, so the instruction says to
    shift back. Exempt in the audit as ``rot13``. Deterministic.
    """
    return ROT_INSTRUCTION.format(name="ROT-2", n=2, example="a->c, y->a") + rot(text, 2)

