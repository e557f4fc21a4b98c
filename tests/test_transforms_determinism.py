"""Determinism: an output depends only on (seed, transform, item, field), in any process, and no
transform touches global RNG state.

Transforms whose docstring says "Deterministic" must ignore the seed; every other rule transform
must give different outputs for different seeds (on pairs where it has room to vary).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO
from test_transforms_golden import DATA, make_pair

from transforms import TRANSFORMS, apply_to_pair, apply_to_pairs

RULE = [n for n in TRANSFORMS.names()
        if TRANSFORMS.get(n).kind == "rule" and TRANSFORMS.origin(n) == "builtin"]
DETERMINISTIC = [n for n in RULE if "Deterministic" in TRANSFORMS.get(n).doc]
RANDOM = [n for n in RULE if n not in DETERMINISTIC]


def pair_for(name: str):
    """The pair of the transform's first golden case (one it is meant for)."""
    case = next(c for c in DATA["cases"] if c["transform"] == name)
    return make_pair(DATA["pairs"][case["pair"]])


def apply(name: str, seed: int, pair=None):
    """``apply_to_pair`` on ``pair`` (default: the golden case's), transformed together with the
    golden case's ``together`` pairs."""
    case = next(c for c in DATA["cases"] if c["transform"] == name)
    pair = pair or make_pair(DATA["pairs"][case["pair"]])
    others = tuple(make_pair(DATA["pairs"][n]) for n in case.get("together", ()))
    return apply_to_pair(TRANSFORMS.get(name), pair, seed, others=(pair, *others))


def all_outputs(seeds=(0, 1, 7)) -> dict[str, list]:
    return {name: [dataclasses.asdict(apply(name, s)[0]) for s in seeds] for name in RULE}


def digest(outputs: dict) -> str:
    return hashlib.sha256(json.dumps(outputs, sort_keys=True).encode()).hexdigest()


def test_the_split_follows_the_docstrings():
    assert {"add_quotes", "rot13", "code_minify", "math_answer_format"} <= set(DETERMINISTIC)
    assert {"homoglyph", "twitter_url", "jailbreak", "code_append_other"} <= set(RANDOM)


@pytest.mark.parametrize("name", RULE)
def test_same_inputs_same_output(name):
    t, pair = TRANSFORMS.get(name), pair_for(name)
    first = [apply_to_pair(t, pair, s) for s in (0, 3)]
    again = [apply_to_pair(t, pair, s) for s in (0, 3)]
    assert first == again
    batched = apply_to_pairs(t, [pair, pair], 3)
    assert batched == [first[1], first[1]]


def test_same_output_in_a_fresh_process():
    """A subprocess (another string-hash salt) computes the same outputs for every transform."""
    code = ("import sys; sys.path[:0] = ['tests', '.']\n"
            "import test_transforms_determinism as d\n"
            "print(d.digest(d.all_outputs()))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == digest(all_outputs())


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_deterministic_transforms_ignore_the_seed(name):
    outputs = {json.dumps(dataclasses.asdict(apply(name, s)[0])) for s in range(5)}
    assert len(outputs) == 1


@pytest.mark.parametrize("name", RANDOM)
def test_random_transforms_depend_on_the_seed(name):
    outputs = [apply(name, s)[0] for s in range(8)]
    assert outputs[0] != outputs[1] or outputs[0] != outputs[2]
    assert len({json.dumps(dataclasses.asdict(o)) for o in outputs}) >= 3


def test_the_item_and_the_field_pick_the_stream():
    noise = TRANSFORMS.get("char_substitution")
    pair = pair_for("char_substitution")
    same = dataclasses.replace(pair, rejected=pair.chosen)
    edited, _ = apply_to_pair(noise, same, 0)
    assert edited.chosen != edited.rejected  # same text, other field: other letters
    t = TRANSFORMS.get("twitter_url")
    same_text = dataclasses.replace(pair_for("twitter_url"), rejected=pair.chosen)
    same_text = dataclasses.replace(same_text, chosen=pair.chosen)
    new, _ = apply_to_pair(t, same_text, 0)
    assert new.chosen == new.rejected  # pair_draw: one URL for both responses
    other_id, _ = apply_to_pair(t, dataclasses.replace(same_text, id="another"), 0)
    assert other_id.chosen != new.chosen
    other_subset, _ = apply_to_pair(t, dataclasses.replace(same_text, subset="llmbar-natural"), 0)
    assert other_subset.chosen != new.chosen  # the key is subset/id


class FakeGenerator:
    name = "fake:determinism"

    def generate(self, prompts, max_new_tokens):
        return [p.rsplit("Text:\n", 1)[1] + " Indeed." for p in prompts]


def global_rng_changes(work) -> list[str]:
    """Which global RNGs (``random``, numpy) ``work()`` moved; [] when it left both alone."""
    random.seed(1234)
    np.random.seed(1234)
    before, np_before = random.getstate(), np.random.get_state()
    work()
    np_after = np.random.get_state()
    moved = [] if random.getstate() == before else ["random"]
    if not (np_after[0] == np_before[0] and np.array_equal(np_after[1], np_before[1])
            and np_after[2:] == np_before[2:]):
        moved.append("numpy")
    return moved


def test_no_transform_touches_global_rng(monkeypatch, tmp_path):
    import transforms.model_based as mb

    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(mb, "cosine_similarities", lambda a, b: [1.0] * len(a))
    pairs = [make_pair(spec) for spec in DATA["pairs"].values()]
    for name in TRANSFORMS.names():
        t = TRANSFORMS.get(name)
        todo = [p for p in pairs if t.applies_to_subset(p.subset)]
        assert todo, name

        def work(t=t, todo=todo):
            for seed in (0, 1):
                apply_to_pairs(t, todo, seed, generator=FakeGenerator())

        assert global_rng_changes(work) == [], f"{name} changed a global RNG"


def test_the_global_rng_check_can_fail():
    from transforms.base import Transform

    def careless(text, rng, ctx):  # draws from the process RNGs, as nlpaug does
        return text + str(random.random() + np.random.rand())

    t = Transform("careless", "controlled", "responses", fn=careless)
    pair = make_pair(next(iter(DATA["pairs"].values())))
    assert global_rng_changes(lambda: apply_to_pairs(t, [pair], 0)) == ["random", "numpy"]
