"""``benchmarks/transforms.py`` on small files: the table, the goals, and its exit codes."""

from __future__ import annotations

import importlib
import json
import sys

from conftest import REPO

from transforms import TRANSFORMS


def main(argv: list[str]) -> int:
    """``benchmarks.transforms.main`` (``benchmarks`` is a folder of the repo, not installed)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return importlib.import_module("benchmarks.transforms").main(argv)

PAIRS = [
    {"prompt": "How far is it?", "chosen": "It is about 12 km away from the station.",
     "rejected": "Quite far, honestly, maybe walk there.", "subset": "alpacaeval-easy", "id": "b1"},
    {"prompt": "Write a Python function `f(x)`.", "chosen": "    # add one\n    return x + 1\n",
     "rejected": "    return x\n", "subset": "hep-python", "id": "b2"},
    # A second problem, so code_append_other has another solution to append to the first.
    {"prompt": "Write a Python function `g(y)`.", "chosen": "    return 2 * y\n",
     "rejected": "    return y\n", "subset": "hep-python", "id": "b3"},
]


def write(path, pairs) -> str:
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    return str(path)


def test_benchmark_prints_every_rule_transform(tmp_path, capsys):
    assert main([write(tmp_path / "in.jsonl", PAIRS)]) == 0
    out = capsys.readouterr().out
    rule = [n for n in TRANSFORMS.names() if TRANSFORMS.get(n).kind == "rule"]
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    for name in rule:
        assert name in lines, name
    # pairs, both, one, undone, no-op, no-op rate
    assert lines["add_quotes"][1:7] == ["1", "1", "0", "0", "0", "0.0%"]
    assert lines["code_minify"][1:7] == ["2", "2", "0", "0", "0", "0.0%"]
    assert lines["code_append_other"][1:7] == ["2", "2", "0", "0", "0", "0.0%"]
    assert lines["math_answer_format"][1:7] == ["0", "0", "0", "0", "0", "n/a"]  # no math-prm
    # Only the rejected response has a swappable word ("maybe"): undone, not a no-op.
    assert lines["synonym_swap"][1:7] == ["1", "0", "0", "1", "0", "0.0%"]
    assert "paraphrase" not in lines  # model-based: not part of the rule benchmark
    assert "x the 60 s goal" in out and out.rstrip().endswith(
        "OK: every no-op rate < 10% and total < 60 s")


def test_benchmark_fails_on_a_high_no_op_rate(tmp_path, capsys):
    short = [{"prompt": "Hi", "chosen": "Ok.", "rejected": "No.", "subset": "alpacaeval-easy",
              "id": "s1"}]
    assert main([write(tmp_path / "in.jsonl", short)]) == 1
    out = capsys.readouterr().out
    assert "FAIL: no-op rate >= 10%:" in out and "char_swap" in out.split("FAIL:")[1]


def test_benchmark_missing_data(tmp_path, capsys):
    assert main([str(tmp_path / "absent.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
