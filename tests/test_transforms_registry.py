"""The transform registry and the ``transforms list|apply`` commands, and a third-party plugin.

The plugin is a tiny package made in ``tmp_path``: a module plus a ``.dist-info`` folder with
``entry_points.txt``, put on ``PYTHONPATH`` of a subprocess (``importlib.metadata`` finds
distributions on ``sys.path``), so a fresh process discovers it as if it were pip-installed and
nothing is installed into the venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO

from harness.cli import main
from harness.io import read_jsonl, write_jsonl
from harness.registry import RegistryError
from transforms import CATEGORIES, TRANSFORMS, Transform, transform

REWORD_NAMES = (
    "add_quotes", "punct_spaces", "twitter_handle", "twitter_url", "stress_test", "ignore_above",
    "ignore_below", "rot13", "rot2", "paraphrase", "back_translation", "back_transcription",
    "homoglyph", "char_swap", "char_substitution", "char_insertion", "char_deletion",
    "word_deletion", "code_minify", "code_comment_bad", "code_comment_good", "code_append_other",
    "math_answer_format", "jailbreak",
)

PAIRS = [
    {"prompt": "How far is it?", "chosen": "It is 12 km away.", "rejected": "Far.",
     "subset": "alpacaeval-easy", "id": "p1"},
    {"prompt": [{"role": "user", "content": "Write a Python function `f(x)`."}],
     "chosen": "    return x + 1\n", "rejected": "    return x\n", "subset": "hep-python",
     "id": "p2"},
    {"prompt": "What is 1+1?", "chosen": "So $1+1=\\boxed{2}$.",
     "rejected": "It is 2.\n# Answer\n\n2", "subset": "math-prm", "id": "p3"},
]


def write_pairs(path, pairs=PAIRS) -> str:
    write_jsonl(path, pairs)
    return str(path)


def listing(capsys) -> list[dict]:
    assert main(["transforms", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_json(capsys):
    rows = listing(capsys)
    names = [r["name"] for r in rows]
    assert len(names) >= 28 and len(names) == len(set(names)) == len(TRANSFORMS)
    assert set(REWORD_NAMES) <= set(names)
    assert {r["category"] for r in rows} == set(CATEGORIES)
    for category in CATEGORIES:
        assert sum(r["category"] == category for r in rows) >= 5, category
    by_name = {r["name"]: r for r in rows}
    assert by_name["paraphrase"]["kind"] == "model"
    assert by_name["back_transcription"]["approximation"]
    assert by_name["add_quotes"] | {"description": ""} == by_name["add_quotes"] | {
        "name": "add_quotes", "category": "controlled", "kind": "rule", "fields": "responses",
        "subsets": "all but hep-*", "preserves": "meaning", "origin": "builtin",
        "description": ""}
    assert by_name["rot13"]["fields"] == "prompt"
    assert by_name["math_answer_format"]["subset_list"] == ["math-prm"]
    assert all(r["origin"] == "builtin" and r["description"] for r in rows)


def test_list_table(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich folds every column at 80 outside a terminal
    assert main(["transforms", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{len(TRANSFORMS)} transforms" in out
    assert "back_transcription" in out and "Offline stand-in for back-transcription" in out


def test_list_table_shows_approximations(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["transforms", "list"]) == 0
    assert "approximate: rule-based stand-in" in capsys.readouterr().out


def test_duplicate_registration_is_refused():
    def again(text, rng, ctx):
        return text

    with pytest.raises(RegistryError, match="'add_quotes' is already registered"):
        transform("add_quotes", "controlled", "responses")(again)
    assert TRANSFORMS.get("add_quotes").fn is not again
    with pytest.raises(RegistryError, match="already registered"):
        TRANSFORMS.add("rot13", Transform("rot13", "controlled", "prompt", fn=again))


def test_bad_declarations_are_refused():
    with pytest.raises(ValueError, match="unknown field"):
        Transform("x", "controlled", "answer")
    with pytest.raises(ValueError, match="category"):
        Transform("x", "stylistic", "responses")
    assert Transform("x", "domain", "both").fields == ("chosen", "rejected")


def test_unknown_name_suggests_a_close_one():
    with pytest.raises(RegistryError, match="did you mean 'char_swap'"):
        TRANSFORMS.get("char_swp")
    with pytest.raises(RegistryError) as err:
        TRANSFORMS.get("zzz_nothing")
    assert "did you mean" not in str(err.value) and "known: add_quotes" in str(err.value)


def test_apply_writes_the_right_records(tmp_path, capsys):
    source, out = write_pairs(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    code = main(["transforms", "apply", "--transform", "add_quotes,code_fence,rot13",
                 "--input", source, "--output", str(out), "--seed", "3"])
    assert code == 0
    records = read_jsonl(out)
    # add_quotes: both non-code pairs; code_fence: the hep pair; rot13: all three prompts.
    assert [(r["transform"], r["id"]) for r in records] == [
        ("add_quotes", "p1"), ("add_quotes", "p3"), ("code_fence", "p2"),
        ("rot13", "p1"), ("rot13", "p2"), ("rot13", "p3")]
    assert all(r["changed"] is True for r in records)
    first = records[0]
    assert first == {**PAIRS[0], "chosen": '"""It is 12 km away."""', "rejected": '"""Far."""',
                     "label": "chosen", "transform": "add_quotes", "changed": True,
                     "sides": "both"}
    fenced = records[2]
    assert fenced["chosen"] == "```python\n    return x + 1\n```"
    assert fenced["prompt"] == PAIRS[1]["prompt"]
    rot = records[4]
    assert rot["chosen"] == PAIRS[1]["chosen"]
    assert rot["prompt"][0]["content"].endswith("Jevgr n Clguba shapgvba `s(k)`.")
    printed = capsys.readouterr().out
    assert "6 transformed pairs" in printed and "no-op rate" in printed


def test_apply_rule_and_no_op_reporting(tmp_path, capsys):
    quiet = [{"prompt": "Hi", "chosen": "Ok.", "rejected": "No.", "subset": "alpacaeval-easy",
              "id": f"q{i}"} for i in range(3)]
    source, out = write_pairs(tmp_path / "in.jsonl", quiet), tmp_path / "out.jsonl"
    assert main(["transforms", "apply", "--transform", "char_swap,rule", "--input", source,
                 "--output", str(out)]) == 2  # 'rule' is a keyword alone, not a name in a list
    assert "unknown transform 'rule'" in capsys.readouterr().err
    assert main(["transforms", "apply", "--transform", "rule", "--input", source,
                 "--output", str(out)]) == 0
    records = read_jsonl(out)
    rule = [n for n in TRANSFORMS.names() if TRANSFORMS.get(n).kind == "rule"]
    applicable = [n for n in rule if TRANSFORMS.get(n).applies_to_subset("alpacaeval-easy")]
    assert sorted({r["transform"] for r in records}) == sorted(applicable)
    assert len(records) == 3 * len(applicable)
    # "Ok." and "No." have no word of 4+ letters: char_swap cannot act, and says so.
    assert not any(r["changed"] for r in records if r["transform"] == "char_swap")
    printed = capsys.readouterr().out
    assert "no-op rate >= 10%" in printed and "char_swap" in printed


@pytest.mark.parametrize("spec,message", [
    ("char_swp", "did you mean 'char_swap'"),
    ("add_quotes,nope_nothing", "unknown transform 'nope_nothing'"),
])
def test_apply_unknown_transform_fails_cleanly(tmp_path, capsys, spec, message):
    source, out = write_pairs(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    assert main(["transforms", "apply", "--transform", spec, "--input", source,
                 "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("bad_line,message", [
    ('{"prompt": "x", "chosen": \n', ":2: malformed JSON"),
    ('{"prompt": "x", "rejected": "y"}\n', ":2:"),
])
def test_apply_malformed_input_fails_cleanly(tmp_path, capsys, bad_line, message):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(PAIRS[0]) + "\n" + bad_line, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["transforms", "apply", "--transform", "add_quotes", "--input", str(source),
                 "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob("out*"))


def test_apply_keeps_an_existing_output_on_error(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    assert main(["transforms", "apply", "--transform", "nope", "--input",
                 write_pairs(tmp_path / "in.jsonl"), "--output", str(out)]) == 2
    assert out.read_text() == "previous\n"


# -- a third-party plugin -------------------------------------------------------------------------

PLUGIN_MODULE = '''
"""A third-party transform package for crome-bench."""
from transforms import Transform, transform


@transform("shout", "controlled", "responses", exclude_subsets=("hep-python",))
def shout(text, rng, ctx):
    """Upper-case the response, as an angry user would."""
    return text.upper()


def _whisper(text, rng, ctx):
    return text.lower()


WHISPER = Transform("whisper", "naturalistic", "prompt", fn=_whisper,
                    description="Lower-case the prompt.")
'''


def make_plugin(root, entry_points: str) -> str:
    """A module and its .dist-info under ``root`` (a folder to put on PYTHONPATH)."""
    root.mkdir()
    (root / "crome_shout_plugin.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    info = root / "crome_shout_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: crome-shout-plugin\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    return str(root)


def run_cli(args: list[str], pythonpath: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=120)


def test_plugin_transform_is_discovered_and_applied(tmp_path):
    site = make_plugin(tmp_path / "site", "[crome_bench.transforms]\n"
                                          "shout = crome_shout_plugin\n"
                                          "whisper = crome_shout_plugin:WHISPER\n")
    listed = run_cli(["transforms", "list", "--json"], site)
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["shout"]["origin"] == "plugin crome_shout_plugin"
    assert rows["shout"]["category"] == "controlled" and rows["shout"]["kind"] == "rule"
    assert rows["shout"]["description"] == "Upper-case the response, as an angry user would."
    assert rows["whisper"]["origin"] == "plugin crome_shout_plugin:WHISPER"
    assert rows["add_quotes"]["origin"] == "builtin" and len(rows) == len(TRANSFORMS) + 2

    source, out = write_pairs(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    applied = run_cli(["transforms", "apply", "--transform", "shout,whisper", "--input", source,
                       "--output", str(out)], site)
    assert applied.returncode == 0, applied.stderr
    records = read_jsonl(out)
    assert [(r["transform"], r["id"]) for r in records] == [
        ("shout", "p1"), ("shout", "p3"), ("whisper", "p1"), ("whisper", "p2"), ("whisper", "p3")]
    assert records[0]["chosen"] == "IT IS 12 KM AWAY." and records[0]["rejected"] == "FAR."
    assert records[2]["prompt"] == "how far is it?"
    # Without the plugin on the path, the name is unknown again.
    alone = run_cli(["transforms", "apply", "--transform", "shout", "--input", source,
                     "--output", str(tmp_path / "none.jsonl")], "")
    assert alone.returncode == 2 and "unknown transform 'shout'" in alone.stderr


def test_plugin_clashing_with_a_builtin_is_refused(tmp_path):
    site = make_plugin(tmp_path / "site", "[crome_bench.transforms]\n"
                                          "add_quotes = crome_shout_plugin:WHISPER\n")
    listed = run_cli(["transforms", "list", "--json"], site)
    assert listed.returncode == 2
    assert "transform 'add_quotes' is already registered (by builtin)" in listed.stderr
    assert "Traceback" not in listed.stderr


def test_a_clash_is_refused_on_every_read_not_only_the_first(tmp_path):
    """A registry whose plugin clashes keeps saying so: it is never left half-loaded and
    quietly usable after the first error."""
    site = make_plugin(tmp_path / "site", "[crome_bench.transforms]\n"
                                          "add_quotes = crome_shout_plugin:WHISPER\n")
    code = ("from transforms import TRANSFORMS\n"
            "for _ in range(2):\n"
            "    try:\n"
            "        TRANSFORMS.names()\n"
            "        print('usable')\n"
            "    except Exception as err:\n"
            "        print('refused', err)\n")
    env = {**os.environ, "PYTHONPATH": site}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("refused") and "'add_quotes'" in line
                                   for line in lines), done.stdout + done.stderr


def test_a_broken_plugin_is_skipped_with_a_warning_naming_it(tmp_path):
    site = make_plugin(tmp_path / "site", "[crome_bench.transforms]\n"
                                          "shout = crome_shout_plugin\n"
                                          "broken = crome_missing_plugin\n"
                                          "typo = crome_shout_plugin:NO_SUCH_OBJECT\n")
    listed = run_cli(["transforms", "list", "--json"], site)
    assert listed.returncode == 0, listed.stderr
    names = {r["name"] for r in json.loads(listed.stdout)}
    assert "shout" in names and "broken" not in names and "typo" not in names
    assert "skipped transform plugin 'broken' (crome_missing_plugin)" in listed.stderr
    assert "ModuleNotFoundError" in listed.stderr
    assert "skipped transform plugin 'typo' (crome_shout_plugin:NO_SUCH_OBJECT)" in listed.stderr
    assert "Traceback" not in listed.stderr
