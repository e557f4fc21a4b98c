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
