"""Golden tests of the markdown boards: the published leaderboard (``leaderboards.publish``,
rendered by ``leaderboards.render`` and ``leaderboards.paired``) and the summary ``harness run``
prints (``leaderboards.summary``), for one small fixed run record.

The record in ``tests/golden/board_run/`` (``results.json`` and the per-item records of each
RM's eval folder; the tables are computed from these and nothing else) is the output of the
command in its ``results.json``, run from an empty folder:

    python -m harness run --models vanilla,rrm --name board --runs-dir runs --no-progress
        --set data.limit=16 --set data.heldout_size=8 --set model.max_length=64
        --set train.batch_size=4 --set eval.transforms=add_quotes,char_deletion
        --set eval.bootstrap=200 --set eval.suites=preference,rewardbench,reword,diagnostics

(then ``results.json`` and ``eval/*/*_items.jsonl`` copied). The record stays fixed when
training or statistics change, so these tests fail only when what the boards show of it
changes. After an intended change, regenerate the expected files with
``UPDATE_GOLDEN=1 python -m pytest tests/test_boards.py`` and read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import REPO

from leaderboards.publish import publish, read_results
from leaderboards.summary import print_summary

GOLDEN = REPO / "tests" / "golden"
RUN = GOLDEN / "board_run"


def check_golden(text: str, name: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; if intended, rerun with UPDATE_GOLDEN=1 and read the diff")


def test_leaderboard_matches_golden(tmp_path: Path):
    board = publish([RUN], tmp_path / "board")
    text = board.read_text(encoding="utf-8")
    check_golden(text, "board.md")
    for section in ("## Training", "## Preference accuracy", "## RewardBench",
                    "## Transformed RewardBench", "## Spurious-cue diagnostics",
                    "## Paired comparisons"):
        assert section in text, section
    assert (tmp_path / "board" / "reword_drops.png").exists()


def test_run_summary_matches_golden(capsys: pytest.CaptureFixture[str]):
    print_summary(read_results([RUN])[0])
    check_golden(capsys.readouterr().out, "board_summary.md")


def test_a_suite_without_a_section_of_its_own_gets_a_table_of_its_numbers():
    """Top-level numbers only, in the suite's order; an accuracy with its CI as a percentage;
    floats to 4 significant digits; a missing value is a dash; nested results and RMs that
    did not run the suite are left out."""
    from leaderboards.render import suite_table

    entries = [{"name": "a", "metrics": {"wins": {"n": 12, "chosen_wins": 7, "accuracy": 0.5833,
                                                  "ci": [0.3, 0.8], "data": "x",
                                                  "nested": {"k": 1}}}},
               {"name": "b", "approximate": ["rules"],
                "metrics": {"wins": {"n": 12, "chosen_wins": 12, "ratio": 1.23456}}},
               {"name": "c", "metrics": {}}]
    assert suite_table(entries, "wins").splitlines() == [
        "| RM   | n   | chosen_wins   | accuracy          | ratio   |",
        "|------|-----|---------------|-------------------|---------|",
        "| a    | 12  | 7             | 58.3 [30.0, 80.0] | –       |",
        "| b †  | 12  | 12            | –                 | 1.235   |"]
