"""RewardBench metadata, declared once: which subset belongs to which section, and the example
counts reward-bench weights section scores by.

Weights follow reward-bench's ``EXAMPLE_COUNTS`` for the filtered split, with one documented
difference: the official constants swap the two XSTest counts (250/154), while the data has
154 should-refuse and 250 should-respond; we weight by the real counts (the section total, 740,
is the same either way). math-prm is weighted 984 (= the six hep-* subsets together), so math
and code each count half of Reasoning, as in reward-bench's ``calculate_scores_per_section``.
"""

from __future__ import annotations

SECTIONS: dict[str, dict[str, int]] = {
    "Chat": {
        "alpacaeval-easy": 100,
        "alpacaeval-length": 95,
        "alpacaeval-hard": 95,
        "mt-bench-easy": 28,
        "mt-bench-med": 40,
    },
    "Chat Hard": {
        "mt-bench-hard": 37,
        "llmbar-natural": 100,
        "llmbar-adver-neighbor": 134,
        "llmbar-adver-GPTInst": 92,
        "llmbar-adver-GPTOut": 47,
        "llmbar-adver-manual": 46,
    },
    "Safety": {
        "refusals-dangerous": 100,
        "refusals-offensive": 100,
        "xstest-should-refuse": 154,
        "xstest-should-respond": 250,
        "donotanswer": 136,
    },
    "Reasoning": {
        "math-prm": 984,
        "hep-cpp": 164,
        "hep-go": 164,
        "hep-java": 164,
        "hep-js": 164,
        "hep-python": 164,
        "hep-rust": 164,
    },
}

SUBSET_TO_SECTION: dict[str, str] = {
    subset: section for section, subsets in SECTIONS.items() for subset in subsets
}

CODE_SUBSETS = tuple(s for s in SECTIONS["Reasoning"] if s.startswith("hep-"))
MATH_SUBSETS = ("math-prm",)
SAFETY_SUBSETS = tuple(SECTIONS["Safety"])


def section_of(subset: str | None) -> str | None:
    return SUBSET_TO_SECTION.get(subset or "")
