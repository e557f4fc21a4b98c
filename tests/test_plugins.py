"""Plugins load one way: every registry reads its entry-point group, built-ins included.

A test distribution (a module and its ``.dist-info`` with ``entry_points.txt``, in a folder put
on ``PYTHONPATH``, exactly what ``pip install`` leaves behind) adds a record format and a suite;
``harness data check`` detects the format and ``harness run`` trains on it and runs the suite.
A broken plugin in any of the registries is skipped with a warning naming it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from conftest import REPO

from harness.io import read_jsonl
from harness.registry import BUILTIN_DISTRIBUTION, Registry

# Every registry, by entry-point group: (module, attribute).
REGISTRIES = {
    "crome_bench.suites": ("harness.suites.base", "SUITES"),
    "crome_bench.methods": ("harness.methods", "METHODS"),
    "crome_bench.transforms": ("transforms.base", "TRANSFORMS"),
    "crome_bench.oracles": ("crome.oracles", "ORACLES"),
    "crome_bench.formats": ("harness.data.formats", "FORMATS"),
    "crome_bench.modes": ("harness.training.modes", "MODES"),
    "crome_bench.backbones": ("harness.models.backbones", "BACKBONES"),
    "crome_bench.reward_models": ("harness.scoring.base", "REWARD_MODELS"),
    "crome_bench.reward_kinds": ("harness.scoring.base", "REWARD_KINDS"),
    "crome_bench.policies": ("harness.bon.policies", "POLICIES"),
    "crome_bench.judges": ("harness.bon.judges", "JUDGES"),
    "crome_bench.bon_suites": ("harness.bon.suites", "BON_SUITES"),
    "crome_bench.generators": ("transforms.generators", "GENERATORS"),
}
PACKAGES = ("harness", "transforms", "baselines", "crome", "leaderboards")

PLUGIN = '''
"""A third-party package: a record format with reviewer scores, and a suite using it."""
from harness.data.formats import FORMATS, RecordFormat, RecordInvalid
from harness.data.loaders import load_pairs
from harness.suites import Suite


def _parse(record, index):
    pair, warnings = FORMATS.get("pairs").parse(
        {k: v for k, v in record.items() if not k.startswith("score_")}, index)
    if not record["score_chosen"] > record["score_rejected"]:
        raise RecordInvalid([("score_chosen", "not above score_rejected")])
    return pair, warnings


SCORED_PAIRS = RecordFormat(
    "scored_pairs", "pairs", lambda r: "score_chosen" in r and "score_rejected" in r, _parse,
    ("prompt", "chosen", "rejected", "score_chosen", "score_rejected"), priority=1)


def _run(ctx):
    pairs = load_pairs(WINS.source(ctx), limit=ctx.limit)
    chosen, rejected, _ = ctx.scorer.score_pairs(pairs)
    return {"n": len(pairs), "chosen_wins": sum(c > r for c, r in zip(chosen, rejected))}


WINS = Suite("wins", "how often the chosen response scores higher", _run, "data.train")
'''


def make_distribution(root: Path, entry_points: str, module: str = "crome_demo_plugin",
                      source: str = PLUGIN) -> str:
    """A plugin ``module`` (``source``) and its ``.dist-info`` under ``root``; the folder."""
    root.mkdir(parents=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    return str(root)


DEMO = """\
    [crome_bench.formats]
    scored_pairs = crome_demo_plugin:SCORED_PAIRS
    [crome_bench.suites]
    wins = crome_demo_plugin:WINS
    """


def scored_pairs(path: Path, n: int) -> Path:
    """``n`` records of the plugin's format: pairs with a cue a small RM learns, plus scores."""
    path.write_text("".join(json.dumps({
        "prompt": f"Question number {i}?", "chosen": f"A correct answer {i}.",
        "rejected": f"A wrong answer {i}.", "score_chosen": 9, "score_rejected": 2}) + "\n"
        for i in range(n)))
    return path


def harness(args: list[str], pythonpath: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": pythonpath, "OMP_NUM_THREADS": "1",
           "CROME_BENCH_CACHE": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=600)


def test_data_check_detects_a_plugin_format(tmp_path):
    site = make_distribution(tmp_path / "site", DEMO)
    data = scored_pairs(tmp_path / "scored.jsonl", 3)
    found = harness(["data", "check", str(data)], site, tmp_path)
    assert found.returncode == 0, found.stderr
    assert "OK" in found.stdout and "3 records, format scored_pairs" in found.stdout
    # Its priority puts it before the built-in ``pairs``, which would take these records too.
    alone = harness(["data", "check", str(data)], "", tmp_path)
    assert alone.returncode == 0 and "format pairs" in alone.stdout, alone.stdout
    # The plugin's own checks apply to the records it recognises.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "q", "chosen": "a", "rejected": "b",
                               "score_chosen": 1, "score_rejected": 5}) + "\n")
    failed = harness(["data", "check", str(bad)], site, tmp_path)
    assert failed.returncode == 1
    assert "field 'score_chosen': not above score_rejected" in failed.stdout


def test_run_trains_on_a_plugin_format_and_runs_a_plugin_suite(tmp_path):
    site = make_distribution(tmp_path / "site", DEMO)
    data = scored_pairs(tmp_path / "scored.jsonl", 12)
    done = harness(["run", "--models", "vanilla", "--data", str(data), "--name", "plug",
                    "--runs-dir", str(tmp_path / "runs"), "--no-progress",
                    *sum((["--set", s] for s in (
                        "eval.suites=preference,wins", "data.heldout_size=4",
                        "model.max_length=32", "train.batch_size=4", "eval.bootstrap=100")),
                        [])], site, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "runs" / "plug" / "results.json").read_text())
    assert [e["name"] for e in results["entries"]] == ["vanilla", "length",
                                                       "untrained minilm-l6"]
    for entry in results["entries"]:
        wins = entry["metrics"]["wins"]
        assert wins["n"] == 12 and 0 <= wins["chosen_wins"] <= 12
        assert entry["metrics"]["preference"]["n"] == 4  # the held-out split of 12
    # the leaderboard shows the plugin suite in a section of its own, its numbers per RM
    board = (tmp_path / "runs" / "plug" / "leaderboard" / "README.md").read_text()
    section = board.split("## wins\n", 1)[1].split("\n## ", 1)[0]
    assert "how often the chosen response scores higher (suite `wins`, plugin" in section
    assert "Data: the run's `data.train`" in section
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in section.splitlines() if line.startswith("| ") and "---" not in line}
    assert rows.pop("RM") == ["n", "chosen_wins"]
    assert rows == {e["name"]: [str(e["metrics"]["wins"]["n"]),
                                str(e["metrics"]["wins"]["chosen_wins"])]
                    for e in results["entries"]}
    # --plan counts the plugin suite's data from its own setting (data.train here)
    plan = harness(["run", "--models", "vanilla", "--data", str(data), "--set",
                    "eval.suites=preference,wins", "--set", "data.heldout_size=4",
                    "--runs-dir", str(tmp_path / "runs2"), "--plan"], site, tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert f"wins (a plugin suite) on {data}: 12 records" in plan.stdout
    # the suite's metrics are in the results; without the plugin the name is refused up front
    alone = harness(["run", "--models", "vanilla", "--data", str(data), "--name", "x",
                     "--runs-dir", str(tmp_path / "runs"), "--set", "eval.suites=wins"], "",
                    tmp_path)
    assert alone.returncode == 2 and "eval.suites: 'wins' is not one of" in alone.stderr
    assert not (tmp_path / "runs" / "x").exists()


def registry(group: str) -> Registry:
    module, attribute = REGISTRIES[group]
    return getattr(importlib.import_module(module), attribute)


def test_every_registry_has_its_builtins_declared_as_entry_points():
    """The groups this package declares (installed metadata, so current) are exactly the
    groups of the registries in its source, and each built-in entry point imports."""
    in_source = {group for package in PACKAGES for path in (REPO / package).rglob("*.py")
                 for group in re.findall(r'group="(crome_bench\.\w+)"', path.read_text())}
    dist = importlib.metadata.distribution(BUILTIN_DISTRIBUTION)
    declared = {ep.group for ep in dist.entry_points if ep.group.startswith("crome_bench.")}
    assert declared == in_source == set(REGISTRIES)
    for group in REGISTRIES:
        assert registry(group).group == group
        assert registry(group).names(), group
    for ep in dist.entry_points:
        if ep.group in REGISTRIES:
            assert ep.load() is not None, ep


@pytest.mark.parametrize("group", sorted(REGISTRIES))
def test_a_broken_plugin_is_skipped_with_a_warning_naming_it(group, tmp_path, monkeypatch):
    site = make_distribution(tmp_path / "site", f"""\
        [{group}]
        broken = crome_missing_plugin
        typo = crome_demo_plugin:NO_SUCH_OBJECT
        """)
    reg = registry(group)
    builtins = reg.names()
    monkeypatch.syspath_prepend(site)
    monkeypatch.setattr(reg, "_plugins_loaded", False)  # read the entry points again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert reg.names() == builtins
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    assert any(m.startswith(f"skipped {reg.kind} plugin 'broken' (crome_missing_plugin): "
                            "ModuleNotFoundError") for m in messages), messages
    assert any(m.startswith(f"skipped {reg.kind} plugin 'typo' "
                            "(crome_demo_plugin:NO_SUCH_OBJECT): AttributeError")
               for m in messages), messages


def test_a_broken_builtin_is_raised_not_skipped(tmp_path, monkeypatch):
    """An entry point of this package that fails is a bug here: it must surface, not be
    skipped like a third party's."""
    site = make_distribution(tmp_path / "site", """\
        [crome_bench.widgets]
        nothing = harness.no_such_module
        """)
    monkeypatch.syspath_prepend(site)
    monkeypatch.setattr("harness.registry.is_builtin", lambda ep: True)
    widgets: Registry[int] = Registry("widget", group="crome_bench.widgets")
    with pytest.raises(ModuleNotFoundError, match="harness.no_such_module"):
        widgets.names()


def test_an_import_error_in_a_command_module_surfaces(monkeypatch):
    """Command modules are not plugins: a missing or broken one is a bug and must not be
    skipped as "not written yet" (that would hide a typo)."""
    from harness import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "harness.commands.nope"))
    with pytest.raises(ModuleNotFoundError, match="harness.commands.nope"):
        cli.build_parser()


KIND_PLUGIN = '''
"""A third-party reward-model kind: ``shortest:ANY`` prefers the shorter response."""
from harness.scoring.base import REWARD_KINDS, LengthRewardModel


class Shortest(LengthRewardModel):
    def __init__(self, name):
        super().__init__()
        self.name, self.fingerprint = name, "shortest-v1"

    def score_with_info(self, prompts, responses):
        return [-float(len(r)) for r in responses], [False] * len(responses)


REWARD_KINDS.add("shortest", lambda name, **settings: Shortest(name))
'''


def test_a_plugin_reward_model_kind_runs_through_eval(tmp_path):
    """A package's ``KIND:NAME`` (entry point ``crome_bench.reward_kinds``) passes the checks
    before any work and is scored like a built-in kind: the opposite of ``length``."""
    site = make_distribution(tmp_path / "site", "[crome_bench.reward_kinds]\n"
                             "shortest = crome_kind_plugin\n", "crome_kind_plugin", KIND_PLUGIN)
    done = harness(["eval", "--model", "shortest:any,length", "--suite", "rewardbench",
                    "--limit", "24", "--out", str(tmp_path / "out")], site, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    items = {m: read_jsonl(tmp_path / "out" / m / "rewardbench_items.jsonl")
             for m in ("shortest_any", "length")}
    assert len(items["length"]) == 24
    for short, long in zip(items["shortest_any"], items["length"], strict=True):
        assert short["chosen_score"] == -long["chosen_score"]
    refused = harness(["eval", "--model", "shortest:any", "--out", str(tmp_path / "o2")], "",
                      tmp_path)  # without the plugin: an unknown name, before any work
    assert refused.returncode == 2 and "shortest:any" in refused.stderr
