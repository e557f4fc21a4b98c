"""Loaders for every shared dataset format, the embedded samples, and the error paths."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, shared_file

from harness.data import DataError, PreferencePair, load_items, load_pairs
from harness.data.loaders import EMBEDDED_DIR, parse_records, write_pairs
from harness.data.rewardbench import SECTIONS, section_of
from harness.data.schema import PromptItem


def test_rewardbench_file_loads_with_subsets_and_sections():
    pairs = load_pairs(shared_file("rewardbench/rewardbench_filtered.hf_schema.jsonl"))
    assert len(pairs) == 2985
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.subset] = counts.get(pair.subset, 0) + 1
    assert counts["math-prm"] == 447 and counts["xstest-should-refuse"] == 154
    assert all(section_of(s) for s in counts)
    assert len({p.key for p in pairs}) == 2985  # ids repeat across subsets; keys do not
    assert pairs[0].extra["chosen_model"]


@pytest.mark.parametrize(
    "relative,count",
    [
        ("ultrafeedback/sethtye-ultrafeedback_2k/ultrafeedback_2k.jsonl", 1997),
        ("ultrafeedback/kkminions-trl-lib-sample/train_clean.jsonl", 1000),
        ("ultrafeedback/chanys-h4-sample/test_prefs.jsonl", 500),
    ],
)
def test_ultrafeedback_shapes(relative, count):
    pairs = load_pairs(shared_file(relative))
    assert len(pairs) == count
    assert all(isinstance(p.prompt, (str, list)) and p.prompt for p in pairs)
    _, _, problems = parse_records(shared_file(relative))
    assert all(p.severity == "warning" for p in problems)


def test_chat_pairs_split_prompt_from_answer():
    pair = load_pairs(shared_file("ultrafeedback/chanys-h4-sample/train_prefs.jsonl"), limit=1)[0]
    raw = json.loads(
        shared_file("ultrafeedback/chanys-h4-sample/train_prefs.jsonl").open().readline()
    )
    assert pair.prompt == raw["chosen"][0]["content"]
    assert pair.chosen == raw["chosen"][-1]["content"]
    assert pair.rejected == raw["rejected"][-1]["content"]


def test_wildguard_and_gsm8k():
    items = load_items(shared_file("wildguardtest/wildguardtest.jsonl"))
    assert len(items) == 1725 and isinstance(items[0], PromptItem)
    assert sum(i.harmful is True for i in items) == 754
    assert sum(i.harmful is False for i in items) == 945
    gsm = load_items(shared_file("gsm8k/test.jsonl"))
    assert len(gsm) == 1319 and gsm[0].reference == "18"
    with pytest.raises(DataError, match="prompts, not preference pairs"):
        load_pairs(shared_file("gsm8k/test.jsonl"))


def test_embedded_samples_cover_what_the_default_run_needs():
    pairs = load_pairs("embedded:preferences")
    assert len(pairs) >= 500
    shorter_chosen = sum(len(p.chosen) < len(p.rejected) for p in pairs) / len(pairs)
    assert 0.35 < shorter_chosen < 0.65  # length alone must not explain the labels
    rb = load_pairs("embedded:rewardbench")
    assert {p.subset for p in rb} == {s for subsets in SECTIONS.values() for s in subsets}
    safety = load_items("embedded:safety_prompts")
    assert {i.harmful for i in safety} == {True, False}
    assert all(i.reference.lstrip("-").isdigit() for i in load_items("embedded:math_problems"))
    total = sum(p.stat().st_size for p in EMBEDDED_DIR.glob("*.jsonl"))
    assert total < 1_000_000


def test_embedded_files_match_their_generator(tmp_path, capsys):
    """``python -m tools.make_embedded`` rewrites the shipped files byte for byte."""
    from tools import make_embedded

    assert make_embedded.OUT == EMBEDDED_DIR
    make_embedded.main(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in EMBEDDED_DIR.iterdir() if p.suffix == ".jsonl")
    for name in written:
        assert (tmp_path / name).read_bytes() == (EMBEDDED_DIR / name).read_bytes(), name


BAD_LINES = [
    '{"prompt": "ok", "chosen": "a", "rejected": "b"}',
    "{not json",
    '{"prompt": "", "chosen": 3}',
    '{"prompt": "q", "chosen": "x", "rejected": "y", "label": "maybe"}',
    "[1, 2]",
    '{"prompt": "q", "chosen": "", "rejected": ""}',
]


def test_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(BAD_LINES) + "\n")
    with pytest.raises(DataError) as info:
        load_pairs(path)
    found = {(p.line, p.field) for p in info.value.problems}
    assert found == {
        (2, None),
        (3, "prompt"),
        (3, "chosen"),
        (3, "rejected"),
        (4, "label"),
        (5, None),
        (6, "rejected"),
    }
    assert all(p.file == str(path) for p in info.value.problems)
    assert "bad.jsonl:3: field 'chosen': expected text, got int" in str(info.value)


def test_empty_response_is_a_warning_not_an_error(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"prompt": "q", "chosen": "yes", "rejected": "  "}\n')
    assert load_pairs(path)[0].rejected == "  "
    _, _, problems = parse_records(path)
    assert [(p.severity, p.field) for p in problems] == [("warning", "rejected")]


def test_json_parquet_and_roundtrip(tmp_path):
    pairs = [
        PreferencePair("p1", "c1", "r1", "s", "1"),
        PreferencePair([{"role": "user", "content": "p2"}], "c2", "r2", None, "2", "tie"),
    ]
    write_pairs(pairs, tmp_path / "out.jsonl")
    assert load_pairs(tmp_path / "out.jsonl") == pairs
    (tmp_path / "out.json").write_text(json.dumps([p.to_record() for p in pairs]))
    assert load_pairs(tmp_path / "out.json") == pairs
    import pandas as pd

    pd.DataFrame([pairs[0].to_record()]).to_parquet(tmp_path / "out.parquet")
    assert load_pairs(tmp_path / "out.parquet") == pairs[:1]


def test_hub_path_through_datasets_on_a_local_directory(tmp_path):
    """The Hub code path (datasets.load_dataset) pointed at a local dataset directory."""
    directory = tmp_path / "my-dataset"
    directory.mkdir()
    (directory / "train.jsonl").write_text(
        '{"prompt": "p", "chosen": "c", "rejected": "r"}\n{"prompt": "q", "chosen": "d", '
        '"rejected": "s"}\n'
    )
    pairs = load_pairs(str(directory))
    assert [p.prompt for p in pairs] == ["p", "q"]
    assert load_pairs(f"{directory}:train", limit=1)[0].chosen == "c"


def test_missing_sources_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_pairs(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="no such embedded dataset"):
        load_pairs("embedded:nope")


def _cli(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_data_check_cli_reports_every_problem(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(BAD_LINES) + "\n")
    result = _cli("data", "check", str(path))
    assert result.returncode == 1
    assert "7 error(s)" in result.stdout
    assert f"{path}:4: field 'label'" in result.stdout
    ok = _cli("data", "check", "embedded:preferences", "embedded:math_problems")
    assert ok.returncode == 0 and ok.stdout.count("OK") == 2


def test_data_check_on_every_shared_file(datasets_dir):
    files = sorted(datasets_dir.rglob("*.jsonl"))
    result = _cli("data", "check", *map(str, files))
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("OK ") == len(files)


def test_a_record_missing_fields_of_every_format_names_them(tmp_path):
    path = tmp_path / "first_bad.jsonl"  # the first line decides nothing: no format fits it
    path.write_text('{"prompt": "hi", "chosen": "a"}\n{"foo": 1}\n')
    _, _, problems = parse_records(path)
    assert [(p.line, p.field) for p in problems] == [(1, "rejected"), (2, None)]
    assert "a pairs record needs it" in problems[0].message
