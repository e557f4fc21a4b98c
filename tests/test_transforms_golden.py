"""Golden cases: every registered rule-based transform, a fixed pair and seed, the exact output.

The cases live in ``tests/transform_cases/golden.json``: named input pairs (``pairs``) and a list
of ``cases``, each ``{"transform", "pair", "seed", "expected": {field: value}, "note"}``. A field
the transform edits but ``expected`` does not list must come back unchanged; fields it does not
edit must always come back unchanged. An optional ``together`` lists the pairs transformed with
it (``TextContext.others``; ``code_append_other`` draws another problem's code from them).
Every expected value was produced by running the transform
once and then read, against the transform's docstring, before it was written down (``note`` says
what to look for).

Adding a transform = adding a case: append ``{"transform": NAME, "pair": PAIR, "seed": 0}``
without ``expected``, run ``python -m tests.test_transforms_golden`` (it fills in and prints only
the missing outputs), *read them*, and keep the file. A rule transform without a case fails
``test_every_rule_transform_has_a_golden_case``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.data.schema import PreferencePair
from transforms import TRANSFORMS, apply_to_pair
from transforms.base import FIELDS

CASES_FILE = Path(__file__).parent / "transform_cases" / "golden.json"
PAIR_FIELDS = ("prompt", "chosen", "rejected", "subset", "id", "label")


def load_cases() -> dict:
    return json.loads(CASES_FILE.read_text(encoding="utf-8"))


def make_pair(spec: dict) -> PreferencePair:
    return PreferencePair(**{k: spec[k] for k in PAIR_FIELDS if k in spec})


DATA = load_cases()
CASES = DATA["cases"]


def run_case(case: dict, data: dict) -> tuple[PreferencePair, PreferencePair, bool]:
    """(input pair, output pair, changed) of one case, with its ``together`` pairs."""
    t = TRANSFORMS.get(case["transform"])
    pair = make_pair(data["pairs"][case["pair"]])
    others = tuple(make_pair(data["pairs"][name]) for name in case.get("together", ()))
    new, changed = apply_to_pair(t, pair, case["seed"], others=(pair, *others))
    return pair, new, changed


def case_id(case: dict) -> str:
    return f"{case['transform']}-{case['pair']}-s{case['seed']}"


def test_case_file_is_well_formed():
    names = set(TRANSFORMS.names())
    for case in CASES:
        assert case["transform"] in names, f"golden case for unknown transform {case['transform']}"
        for name in (case["pair"], *case.get("together", ())):
            assert name in DATA["pairs"], f"golden case names unknown pair {name}"
        assert "expected" in case, f"{case_id(case)}: no expected output (run this file)"
        t = TRANSFORMS.get(case["transform"])
        assert set(case["expected"]) <= set(t.fields), case_id(case)
        assert case["expected"], f"{case_id(case)}: a golden case must show the transform act"
        pair = make_pair(DATA["pairs"][case["pair"]])
        assert t.applies_to_subset(pair.subset), f"{case_id(case)}: pair not in its subsets"
    assert len({case_id(c) for c in CASES}) == len(CASES), "duplicate golden cases"


def test_every_rule_transform_has_a_golden_case():
    covered = {case["transform"] for case in CASES}
    rule = {n for n in TRANSFORMS.names()
            if TRANSFORMS.get(n).kind == "rule" and TRANSFORMS.origin(n) == "builtin"}
    missing = sorted(rule - covered)
    assert not missing, f"rule-based transforms without a golden case: {missing}"
    assert len(rule) >= 28


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_golden(case):
    pair, new, changed = run_case(case, DATA)
    assert changed
    for name in FIELDS:
        want = case["expected"].get(name, getattr(pair, name))
        assert getattr(new, name) == want, f"{case_id(case)}: field {name}"
    assert (new.subset, new.id, new.label) == (pair.subset, pair.id, pair.label)


def _fill_missing() -> int:
    """Compute the outputs of cases without ``expected``, print them for review, save them."""
    data = load_cases()
    filled = 0
    for case in data["cases"]:
        if "expected" in case:
            continue
        t = TRANSFORMS.get(case["transform"])
        pair, new, _ = run_case(case, data)
        case["expected"] = {f: getattr(new, f) for f in t.fields
                            if getattr(new, f) != getattr(pair, f)}
        print(f"===== {case_id(case)}")
        for f, value in case["expected"].items():
            print(f"--- {f}:\n{value if isinstance(value, str) else json.dumps(value, indent=1)}")
        filled += 1
    CASES_FILE.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{filled} case(s) filled in {CASES_FILE}: read every one before keeping it")
    return 0


if __name__ == "__main__":
    sys.exit(_fill_missing())
