"""RM-Bench suite: the metric on a hand-worked 2-prompt example (BT and PairPM), the record
format and folder loading, and the length reference on the shared data against an independent
count."""

from __future__ import annotations

import json

import pytest
from conftest import REPO, shared_file

from harness.config import Config
from harness.data.loaders import parse_records
from harness.data.rmbench import load_rmbench
from harness.data.schema import DataError
from harness.evaluate import evaluate_model
from harness.io import read_jsonl, write_jsonl
from harness.scoring.reward_model import RewardModel


def _item(domain: str, pid: int, chosen: list[int], rejected: list[int]) -> dict:
    """A record whose answers are 'x' strings of the given lengths (the length RM's scores)."""
    return {"id": pid, "prompt": f"question {pid}", "domain": domain, "subset": domain,
            "chosen": ["x" * n for n in chosen], "rejected": ["y" * n for n in rejected]}


# Prompt A (chat): chosen 10/30/50 characters, rejected 20/40/60. Chosen i beats rejected j:
#   i=0: -  -  -      easy (i>j): (1,0) (2,0) (2,1) all right  -> 3/3
#   i=1: ✓  -  -      normal (i=j): none                         -> 0/3
#   i=2: ✓  ✓  -      hard (i<j): none                           -> 0/3
# Prompt B (code): chosen 25/25/5, rejected 25/10/30 (25 vs 25 is a tie, counted wrong):
#   i=0: t  ✓  -      easy: (1,0) tie, (2,0), (2,1) wrong        -> 0/3
#   i=1: t  ✓  -      normal: (1,1) right                        -> 1/3
#   i=2: -  -  -      hard: (0,1) right                          -> 1/3
# Domain means: easy (1 + 0) / 2, normal (0 + 1/3) / 2, hard (0 + 1/3) / 2; average = their
# mean = 5/18; 2 ties.
EXAMPLE = [_item("chat", 1, [10, 30, 50], [20, 40, 60]), _item("code", 1, [25, 25, 5],
                                                                [25, 10, 30])]
EXPECTED = {"easy": 0.5, "normal": 1 / 6, "hard": 1 / 6, "average": 5 / 18}


def _write(path, records):
    write_jsonl(path, records)
    return path


def _check_example(result):
    for key, value in EXPECTED.items():
        assert result[key]["accuracy"] == pytest.approx(value), key
    chat, code = result["domains"]["chat"], result["domains"]["code"]
    assert [chat[k]["accuracy"] for k in ("easy", "normal", "hard")] == [1, 0, 0]
    assert [code[k]["accuracy"] for k in ("easy", "normal", "hard")] == pytest.approx(
        [0, 1 / 3, 1 / 3])
    assert chat["matrix"] == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    assert code["matrix"] == [[0, 1, 0], [0, 1, 0], [0, 0, 0]]
    assert result["matrix"][1][0] == 0.5 and result["matrix"][0][1] == 0.5
    assert result["n"] == 2 and result["comparisons"] == 18


def test_hand_worked_two_prompts_with_the_length_reference(tmp_path):
    data = _write(tmp_path / "rmb.jsonl", EXAMPLE)
    metrics = evaluate_model("length", ["rmbench"], Config(), tmp_path / "out",
                             sources={"rmbench": str(data)}, show_progress=False)
    result = metrics["rmbench"]
    _check_example(result)
    assert result["ties"] == 2
    low, high = result["hard"]["ci"]
    assert low <= 1 / 6 <= high
    records = read_jsonl(tmp_path / "out" / "rmbench_items.jsonl")
    assert len(records) == 18 and len({r["key"] for r in records}) == 18
    hard = [r for r in records if r["difficulty"] == "hard" and r["correct"]]
    assert [(r["prompt_key"], r["chosen_style"], r["rejected_style"]) for r in hard] == [
        ("code/1", "concise", "detailed plain")]
    assert (tmp_path / "out" / "rmbench_matrix.png").stat().st_size > 0


class LongerFirst(RewardModel):
    """A PairPM that prefers the longer of its two answers whichever position it stands in
    (equal lengths: no preference), so it must give the length reference's verdicts."""

    form = "pairpm"
    name = "longer-pairpm"
    fingerprint = "longer-pairpm-test-v1"

    def score_with_info(self, prompts, responses):
        scores = []
        for r in responses:
            (a0, a1, _), (b0, b1, _) = r.parts
            scores.append(2.0 if a1 - a0 > b1 - b0 else -2.0 if a1 - a0 < b1 - b0 else 0.0)
        return scores, [False] * len(responses)


def test_pairpm_compares_each_pair_directly(tmp_path):
    data = _write(tmp_path / "rmb.jsonl", EXAMPLE)
    metrics = evaluate_model(LongerFirst(), ["rmbench"], Config(), tmp_path / "out",
                             sources={"rmbench": str(data)}, show_progress=False)
    result = metrics["rmbench"]
    _check_example(result)
    assert result["ties"] == 2
    # the two tied cells have no preference either way, so they are the inconsistent ones
    assert result["positional_consistency"]["accuracy"] == pytest.approx(16 / 18)


def test_format_reports_every_field_and_folder_keys(tmp_path):
    bad = {"id": 3, "prompt": "q", "domain": "poetry", "chosen": ["a", "b"],
           "rejected": ["a", "", "c"]}
    path = _write(tmp_path / "bad.jsonl", [EXAMPLE[0], bad])
    items, fmt, problems = parse_records(path)
    assert fmt.name == "rmbench" and len(items) == 1
    assert {p.field for p in problems} == {"chosen", "rejected[1]", "domain"}
    folder = tmp_path / "folder"
    folder.mkdir()
    _write(folder / "chat.jsonl", [EXAMPLE[0]])
    _write(folder / "code.jsonl", [EXAMPLE[1], _item("safety-refuse", 1, [1, 2, 3], [1, 2, 3])])
    items = load_rmbench(folder)
    assert [i.key for i in items] == ["chat/1", "code/1", "safety/1"]
    assert items[2].extra["subdomain"] == "safety-refuse"
    _write(folder / "more.jsonl", [EXAMPLE[0]])
    with pytest.raises(DataError, match="'chat/1' appears 2 times"):
        load_rmbench(folder)


def test_data_check_validates_a_folder(tmp_path, capsys):
    from harness.cli import main

    folder = tmp_path / "rmb"
    folder.mkdir()
    _write(folder / "chat.jsonl", [EXAMPLE[0]])
    _write(folder / "code.jsonl", [EXAMPLE[1], {**EXAMPLE[1], "chosen": ["only one"]}])
    assert main(["data", "check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "OK" in out and "chat.jsonl: 1 records, format rmbench" in out
    assert "code.jsonl:2: field 'chosen'" in out


def test_length_reference_on_shared_data_matches_an_independent_count(tmp_path):
    """The suite's hard accuracy of the length reference equals a direct count of (chosen i,
    rejected j > i) where the chosen answer has more characters, averaged as RM-Bench does."""
    folder = shared_file("rmbench")
    records = [r for f in sorted(folder.glob("*.jsonl")) for r in read_jsonl(f)]
    by_domain: dict[str, list[float]] = {}
    for r in records:
        hard = [len(r["chosen"][i]) > len(r["rejected"][j])
                for i in range(3) for j in range(3) if i < j]
        by_domain.setdefault(r["domain"], []).append(sum(hard) / 3)
    expected = sum(sum(v) / len(v) for v in by_domain.values()) / len(by_domain)
    metrics = evaluate_model("length", ["rmbench"], Config(), tmp_path,
                             sources={"rmbench": str(folder)}, show_progress=False)
    result = metrics["rmbench"]
    assert result["n"] == len(records) and set(result["domains"]) == set(by_domain)
    assert result["hard"]["accuracy"] == pytest.approx(expected)
    assert result["hard"]["accuracy"] < result["normal"]["accuracy"] < result["easy"]["accuracy"]


class ShorterWins(RewardModel):
    """A BT reference that prefers the shorter answer: the opposite style bias to length."""

    name = "shorter"
    fingerprint = "shorter-chars-test-v1"

    def score_with_info(self, prompts, responses):
        return [-float(len(r)) for r in responses], [False] * len(responses)


GOLDEN = REPO / "tests" / "golden" / "rmbench_board.md"


def _board_entries(tmp_path):
    data = _write(tmp_path / "rmb.jsonl", [*EXAMPLE, _item("safety", 7, [3, 9, 12], [5, 8, 20]),
                                           _item("chat", 2, [40, 41, 42], [4, 50, 60])])
    entries = []
    for model in ("length", ShorterWins()):
        name = model if isinstance(model, str) else model.name
        folder = tmp_path / name
        metrics = evaluate_model(model, ["rmbench"], Config(), folder,
                                 sources={"rmbench": str(data)}, show_progress=False)
        metrics["rmbench"]["data"] = "rmb.jsonl"  # the board names it; tmp paths vary
        entries.append({"name": name, "kind": "reference", "method": "–", "form": "bt",
                        "metrics": metrics, "eval_dir": str(folder)})
    return entries


def test_leaderboard_rmbench_section_matches_golden(tmp_path):
    """The RM-Bench board section (columns, per-domain table, matrix images) and the paired
    hard comparison, as markdown, for two opposite references on four prompts. Regenerate with
    UPDATE_GOLDEN=1 after an intended change, and read the diff."""
    import os

    from leaderboards.paired import paired_section
    from leaderboards.publish import build_markdown, rmbench_plots, rmbench_section

    entries = _board_entries(tmp_path)
    images = rmbench_plots(entries, tmp_path / "board")
    assert sorted(images.values()) == ["rmbench_matrix_length.png", "rmbench_matrix_shorter.png"]
    text = "\n".join(rmbench_section(entries, images) + paired_section(entries)) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    board = build_markdown(entries, [{"run": "r", "config_hash": "h", "command": "c"}], images)
    assert "## RM-Bench (style bias)" in board and "### RM-Bench hard accuracy" in board


def test_run_takes_registered_suites_from_config():
    from harness.run import eval_suites

    config = Config()
    assert "rmbench" not in eval_suites(config)  # opt-in
    config.set("eval.suites=[rewardbench, rmbench, wildguard_bon]")
    assert eval_suites(config) == ["rewardbench", "rmbench"]


def test_eval_plan_counts_rmbench_passes_per_form(tmp_path, capsys):
    from harness.cli import main

    data = _write(tmp_path / "rmb.jsonl", EXAMPLE)
    out = tmp_path / "out"
    for form, passes in (("bt", 12), ("pairpm", 36)):  # 2 prompts x 6 texts / x 9 pairs x 2
        assert main(["eval", "--model", "minilm-l6", "--suite", "rmbench", "--form", form,
                     "--data", f"rmbench={data}", "--out", str(out), "--plan"]) == 0
        assert f"2 prompts (9 style pairs each); {passes} forward passes per {form} RM" in \
            capsys.readouterr().out
    assert not out.exists()


@pytest.mark.slow
def test_run_with_rmbench_opted_in_puts_it_on_the_board(tmp_path):
    """``harness run`` in miniature with rmbench in eval.suites: every RM is evaluated on it and
    the published board has the section and the paired comparison on hard accuracy."""
    import os
    import subprocess
    import sys

    from harness.data.loaders import write_pairs
    from harness.data.schema import PreferencePair

    pairs = [PreferencePair(f"Question {i}?", f"A correct answer {i}.", f"A wrong answer {i}.",
                            None, str(i)) for i in range(24)]
    write_pairs(pairs, tmp_path / "pairs.jsonl")
    data = _write(tmp_path / "rmb.jsonl", EXAMPLE)
    settings = ["model.max_length=64", "train.batch_size=4", "data.heldout_size=8",
                "eval.suites=preference,rmbench", f"data.rmbench={data}", "eval.bootstrap=200"]
    result = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--models", "vanilla,rrm", "--data",
         str(tmp_path / "pairs.jsonl"), "--name", "mini", "--runs-dir", str(tmp_path / "runs"),
         "--no-progress", *sum((["--set", s] for s in settings), [])],
        capture_output=True, text=True, cwd=REPO, timeout=900,
        env={"OMP_NUM_THREADS": "1", **os.environ, "CROME_BENCH_CACHE": str(tmp_path / "c")})
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads((tmp_path / "runs" / "mini" / "results.json").read_text())
    names = [e["name"] for e in results["entries"]]
    assert all(e["metrics"]["rmbench"]["n"] == 2 for e in results["entries"]), names
    length = next(e for e in results["entries"] if e["name"] == "length")
    assert length["metrics"]["rmbench"]["hard"]["accuracy"] == pytest.approx(1 / 6)
    board = (tmp_path / "runs" / "mini" / "leaderboard" / "README.md").read_text()
    assert "## RM-Bench (style bias)" in board and "### RM-Bench hard accuracy" in board
    assert (tmp_path / "runs" / "mini" / "leaderboard" / "rmbench_matrix_length.png").exists()


def test_run_checks_a_local_rmbench_source_before_any_work(tmp_path):
    from harness.validate import check_eval_data

    config = Config()
    config.set("eval.suites=[preference, rmbench]")
    config.set_value("data.rmbench", str(_write(tmp_path / "ok.jsonl", EXAMPLE)))
    check_eval_data(config)
    bad = _write(tmp_path / "bad.jsonl", [{**EXAMPLE[0], "domain": "poetry"}])
    config.set_value("data.rmbench", str(bad))
    with pytest.raises(DataError, match="field 'domain'"):
        check_eval_data(config)
