"""``harness bon`` end to end with a fake policy: real registered RMs through the cached scorer,
the keyword judge, metrics JSON, per-item records, PNG curves, the printed table; and the same on
the shared WildGuardTest/GSM8K files when present. One slow test samples from SmolLM2 itself."""

from __future__ import annotations

import json

import pytest
from bon_fakes import FakePolicy
from conftest import REPO, shared_file

from harness.bon.gsm8k import gsm8k_prompt
from harness.bon.policies import GenParams
from harness.bon.pool import SamplePool, promptset_hash
from harness.bon.runner import load_prompts
from harness.bon.suites import get_suite
from harness.cli import main
from harness.scoring.base import LengthRewardModel


class ShortRewardModel(LengthRewardModel):
    """A real RewardModel (so it goes through the Scorer and its cache): shorter is better."""

    def __init__(self, **_):
        self.name, self.fingerprint = "short", "short-chars-v1"

    def score_with_info(self, prompts, responses):
        return [-float(len(r)) for r in responses], [False] * len(responses)


@pytest.fixture
def fake_world(monkeypatch, tmp_path):
    """CROME_BENCH_CACHE in tmp, the fake policy instead of SmolLM2, and RMs length + short."""
    import harness.scoring.reward_model as rm_module

    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    policy = FakePolicy()
    loads = []

    def fake_load_policy(spec, **kwargs):
        loads.append(spec)
        return policy

    monkeypatch.setattr("harness.bon.runner.load_policy", fake_load_policy)
    registry = rm_module.REWARD_MODELS  # "short" registered as a plugin RM would be
    monkeypatch.setitem(registry._items, "short", ShortRewardModel)
    monkeypatch.setitem(registry._origins, "short", "test")
    return policy, loads


def bon(out, *extra):
    return main(["bon", "--models", "length,short", "--n-max", "4", "--limit", "8",
                 "--out", str(out), "--no-progress", "--max-new-tokens", "16", *extra])


def test_cli_writes_metrics_items_plots_and_table(fake_world, tmp_path, capsys):
    policy, loads = fake_world
    for source in load_prompts(get_suite("gsm8k_bon"), "embedded:math_problems"):
        policy.answers[gsm8k_prompt(source.prompt)] = source.reference
    assert bon(tmp_path / "a") == 0
    printed = capsys.readouterr().out
    assert "refusal by keywords" in printed and "n=4" in printed
    assert "RM pick accuracy" in printed and "pass@n (any correct)" in printed
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["ns"] == [1, 2, 4]
    wg = metrics["suites"]["wildguard_bon"]
    assert wg["info"]["judge_label"] == "refusal by keywords"
    assert wg["info"]["prompts"] == {"harmful": 4, "benign": 4, "adversarial": 4, "vanilla": 4}
    assert set(wg["models"]) == {"length", "short"}
    # The short-preferring RM picks refusals: its ASR cannot exceed the long one's at any n.
    for n in ("2", "4"):
        assert wg["models"]["short"][n]["asr"]["value"] <= wg["models"]["length"][n]["asr"][
            "value"]
    assert metrics["suites"]["gsm8k_bon"]["models"]["length"]["4"]["pass_at_n"]["total"] == 8
    items = [json.loads(line) for line in (tmp_path / "a" / "wildguard_bon_items.jsonl")
             .read_text().splitlines()]
    assert len(items) == 16 and all(i["judgements"][str(i["picks"]["4"])]["label_source"]
                                    == "refusal by keywords" for i in items)
    pngs = sorted(p.name for p in (tmp_path / "a").glob("*.png"))
    assert "wildguard_bon_asr.png" in pngs and "gsm8k_bon_rm_acc.png" in pngs
    assert all((tmp_path / "a" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert policy.rows == 2 * 8 * 4 and loads == ["smollm2-135m"]
    # Second invocation: the pool is complete, so the policy is neither loaded nor called.
    assert bon(tmp_path / "b", "--suite", "wildguard_bon") == 0
    assert policy.rows == 64 and loads == ["smollm2-135m"]
    again = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert again["suites"]["wildguard_bon"]["models"] == wg["models"]


def test_cli_errors_are_clean(fake_world, tmp_path, capsys):
    assert bon(tmp_path, "--suite", "wildguard") == 2
    assert "unknown best-of-N suite" in capsys.readouterr().err
    policy, _ = fake_world
    assert bon(tmp_path, "--judge", "wildguard:/nonexistent/wildguard") == 2
    assert "--judge keywords" in capsys.readouterr().err
    assert bon(tmp_path, "--judge", "wildguard") == 2  # offline, not in the Hub cache
    assert "not in the local Hub cache" in capsys.readouterr().err
    assert policy.rows == 0  # refused before any sampling


def test_shared_wildguardtest_and_gsm8k(fake_world, tmp_path):
    wg = shared_file("wildguardtest/wildguardtest.jsonl")
    gsm = shared_file("gsm8k/test.jsonl")
    policy, _ = fake_world
    assert bon(tmp_path / "out", "--data-wildguard", str(wg), "--data-gsm8k", str(gsm)) == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["suites"]["wildguard_bon"]["info"]["prompts"]["harmful"] == 4
    assert metrics["suites"]["gsm8k_bon"]["info"]["prompts"] == 8
    assert metrics["pools"]["gsm8k_bon"]["generated"] == 32 and policy.rows == 64


@pytest.mark.slow
def test_smollm2_pool_is_seeded_per_sample(tmp_path):
    """Real sampling: 2 prompts x 2 samples x 32 tokens; sample 1 regenerated alone is equal."""
    from harness.bon.policies import load_policy

    params = GenParams(temperature=0.8, top_p=0.95, max_new_tokens=32)
    prompts = [("a", "Name three fruits."), ("b", "How do I pick a lock?")]
    policy = load_policy("smollm2-135m", batch_size=4)
    pool = SamplePool(tmp_path, "smollm2-135m", promptset_hash(prompts), 0, params)
    assert pool.ensure(prompts, 2, policy) == 4
    texts = {pid: pool.texts(pid, 2) for pid, _ in prompts}
    assert all(t.strip() for ts in texts.values() for t in ts)
    assert texts["a"][0] != texts["a"][1]
    again = SamplePool(tmp_path / "again", "smollm2-135m", promptset_hash(prompts), 0, params)
    again.ensure(prompts[1:], 2, policy)
    assert again.texts("b", 2) == texts["b"]


GOLDEN_CLI = REPO / "tests" / "golden" / "bon_cli.md"
GOLDEN_BOARD = REPO / "tests" / "golden" / "bon_board.md"


def test_cli_and_leaderboard_print_the_same_tables(fake_world, tmp_path, capsys):
    """``harness bon`` and the leaderboard render a small fake run with the same function: the
    CLI's tables are the board's tables, and both match their golden markdown (regenerate with
    UPDATE_GOLDEN=1 after an intended change, and read the diff)."""
    import os

    from harness.bon.report import for_model, suite_table
    from leaderboards.bon import board_rows, bon_section

    policy, _ = fake_world
    for source in load_prompts(get_suite("gsm8k_bon"), "embedded:math_problems"):
        policy.answers[gsm8k_prompt(source.prompt)] = source.reference
    assert main(["bon", "--models", "length,short", "--n-max", "4", "--limit", "4",
                 "--out", str(tmp_path / "bon"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    cli = printed[printed.index("Best-of-N, "):printed.index("\nwrote ")] + "\n"
    result = json.loads((tmp_path / "bon" / "metrics.json").read_text())
    entries = [{"name": m, "form": "bt", "metrics": {"bon": for_model(result, m)}}
               for m in ("length", "short")]
    board = "\n".join(bon_section(entries, {})) + "\n"
    for name, rows in board_rows(entries).items():
        table = suite_table(get_suite(name), rows)
        assert table in cli and table in board  # the same function, the same table
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN_CLI.write_text(cli)
        GOLDEN_BOARD.write_text(board)
    assert cli == GOLDEN_CLI.read_text()
    assert board == GOLDEN_BOARD.read_text()


@pytest.fixture
def plugin_suite():
    """A third party's best-of-N suite, registered as plugins register (the decorator), taken
    out again afterwards."""
    from harness.bon.metrics import pick, rate
    from harness.bon.suites import BON_SUITES, BonSuite, Evaluation, MetricRow

    @BON_SUITES.register()
    class FirstPick(BonSuite):
        """How often the RM keeps the first sample (no judge, no reference)."""

        name = "first_pick"
        title = "First pick (plugin)"
        data_key = "data.wildguard"
        rows = (MetricRow("first", "kept sample 0", "picks of sample 0 (%)"),)

        def usable(self, item):
            return True

        def evaluate(self, state, models, ns, config, judge):
            curves = {m: {str(n): {"first": rate(sum(pick(state.scores[m][i.id], n) == 0
                                                     for i in state.items), len(state.items))}
                          for n in ns} for m in models}
            return Evaluation({"prompts": len(state.items)}, curves, [])

        def note(self, info):
            return f"{info['prompts']} prompts"

        def describe(self, infos):
            return ["Share of prompts whose pick is the first sample."]

    try:
        yield FirstPick
    finally:
        BON_SUITES._items.pop("first_pick")
        BON_SUITES._origins.pop("first_pick")


def test_a_registered_plugin_suite_runs_and_renders(plugin_suite, fake_world, tmp_path, capsys):
    from harness.bon.report import for_model
    from leaderboards.bon import bon_section

    assert bon(tmp_path / "p", "--suite", "first_pick") == 0
    printed = capsys.readouterr().out
    assert "Best-of-N, first_pick (8 prompts; percent (count/total)):" in printed
    result = json.loads((tmp_path / "p" / "metrics.json").read_text())
    curves = result["suites"]["first_pick"]["models"]
    assert curves["length"]["1"]["first"] == {"value": 1.0, "count": 8, "total": 8}  # n=1
    assert (tmp_path / "p" / "first_pick_first.png").exists()
    board = "\n".join(bon_section([{"name": "length", "form": "bt", "metrics": {
        "bon": for_model(result, "length")}}], {}))
    assert "### First pick (plugin)" in board and "| length | bt     | kept sample 0 |" in board
    assert bon(tmp_path / "q", "--suite", "first_pik") == 2  # did-you-mean, before any work
    assert "did you mean 'first_pick'" in capsys.readouterr().err


def test_dpo_reward_models_take_their_reference(fake_world, tmp_path, capsys, smol_lms):
    """``dpo:POLICY@REF`` and ``dpo:POLICY --ref REF`` (``eval.dpo_ref``, as ``harness eval``
    names it) are the same RM; without a reference it is refused; POLICY@POLICY rewards every
    sample 0, so every n keeps the first sample."""
    policy, ref = smol_lms

    def run(out, *models_and_flags):
        return main(["bon", "--suite", "wildguard_bon", "--n-max", "2", "--limit", "2",
                     "--out", str(tmp_path / out), "--no-progress", "--models",
                     *models_and_flags])

    assert run("inline", f"dpo:{policy}@{ref}") == 0
    assert run("flag", f"dpo:{policy}", "--ref", ref) == 0
    inline, flag = (json.loads((tmp_path / o / "metrics.json").read_text())
                    for o in ("inline", "flag"))
    assert inline["rms"][f"dpo:{policy}@{ref}"]["name"] == f"dpo:{policy}@{ref}"
    assert flag["rms"][f"dpo:{policy}"] == inline["rms"][f"dpo:{policy}@{ref}"]
    assert flag["settings"]["rm"]["dpo_ref"] == ref
    assert (flag["suites"]["wildguard_bon"]["models"][f"dpo:{policy}"]
            == inline["suites"]["wildguard_bon"]["models"][f"dpo:{policy}@{ref}"])
    capsys.readouterr()
    assert run("none", f"dpo:{policy}") == 2
    assert "needs its reference" in capsys.readouterr().err
    assert run("same", f"dpo:{policy}@{policy}") == 0
    items = [json.loads(line) for line in (tmp_path / "same" / "wildguard_bon_items.jsonl")
             .read_text().splitlines()]
    assert all(set(i["scores"]) == {0.0} and set(i["picks"].values()) == {0} for i in items)


@pytest.fixture(scope="module")
def smol_lms(tmp_path_factory):
    """Two different random 2-layer Llamas with SmolLM2's tokenizer (see test_rm_kinds)."""
    from test_rm_kinds import tiny_llama

    from harness.models.backbones import load_tokenizer

    root = tmp_path_factory.mktemp("lms")
    tokenizer = load_tokenizer("smollm2-135m")
    return tiny_llama(root / "policy", tokenizer, 1), tiny_llama(root / "ref", tokenizer, 2)


def test_every_bon_setting_is_a_config_field_and_a_flag(capsys):
    """``harness bon``'s flags are generated from ``BonConfig``: each field has one, a flag and
    ``--set`` give the same config (and key), and a ``Literal`` field is checked both ways."""
    import dataclasses

    from harness.cli import build_parser
    from harness.commands.bon import job_from_args
    from harness.config import BonConfig, ConfigError

    parser = build_parser()
    base = ["bon", "--models", "length", "--out", "x"]
    flags = {"top_p": "0.9", "batch_size": "4", "gsm8k_filter": "strict-match", "n_max": "2",
             "limit": "0", "temperature": "0.5", "max_new_tokens": "8", "policy": "p",
             "judge": "wildguard:/w"}
    assert set(flags) == {f.name for f in dataclasses.fields(BonConfig)}  # one per field
    by_flag = job_from_args(parser.parse_args(
        base + sum(([f"--{k.replace('_', '-')}", v] for k, v in flags.items()), [])))
    by_set = job_from_args(parser.parse_args(
        base + sum((["--set", f"bon.{k}={v}"] for k, v in flags.items()), [])))
    assert by_flag.config.bon == by_set.config.bon and by_flag.key() == by_set.key()
    assert by_flag.config.bon.top_p == 0.9 and by_flag.limit is None
    assert by_flag.key() != job_from_args(parser.parse_args(base)).key()
    assert job_from_args(parser.parse_args(base + ["--ref", "r"])).config.eval.dpo_ref == "r"
    with pytest.raises(SystemExit):
        parser.parse_args(base + ["--gsm8k-filter", "loose"])
    assert "invalid choice: 'loose'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="bon.gsm8k_filter: 'loose' is not one of"):
        job_from_args(parser.parse_args(base + ["--set", "bon.gsm8k_filter=loose"]))
