"""``harness bon`` end to end with a fake policy: real registered RMs through the cached scorer,
the keyword judge, metrics JSON, per-item records, PNG curves, the printed table; and the same on
the shared WildGuardTest/GSM8K files when present. One slow test samples from SmolLM2 itself."""

from __future__ import annotations

import json

import pytest
from bon_fakes import FakePolicy
from conftest import shared_file

from harness.bon.gsm8k import gsm8k_prompt
from harness.bon.policies import GenParams
from harness.bon.pool import SamplePool, promptset_hash
from harness.bon.runner import load_prompts
from harness.bon.suites import get_suite
from harness.cli import main
from harness.scoring.reward_model import LengthRewardModel


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

    real = rm_module.load_reward_model
    monkeypatch.setattr("harness.bon.runner.load_policy", fake_load_policy)
    monkeypatch.setattr(rm_module, "load_reward_model", lambda name, **kw: (
        ShortRewardModel() if name == "short" else real(name, **kw)))
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
