"""The shared sample pool: nested prefixes, reuse across RMs and runs, resume after a kill,
per-sample seeding that ignores batching, and sampling that leaves the global RNG alone."""

from __future__ import annotations

import json

import pytest
import torch
from bon_fakes import FAKE_RMS, FakePolicy

from harness.bon.errors import BonError
from harness.bon.policies import GenParams
from harness.bon.pool import SamplePool, promptset_hash
from harness.bon.runner import BonJob, limit_items, load_prompts, run_bon
from harness.bon.suites import get_suite
from harness.config import Config
from harness.models.chat import SeededSampler

PARAMS = GenParams(temperature=0.7, top_p=0.9, max_new_tokens=16)
PROMPTS = [(f"p{k}", f"prompt number {k}") for k in range(5)]


def make_pool(root, prompts=PROMPTS, seed=0, params=PARAMS) -> SamplePool:
    return SamplePool(root, "fake", promptset_hash(prompts), seed, params)


def test_samples_are_nested_prefixes(tmp_path):
    pool = make_pool(tmp_path)
    pool.ensure(PROMPTS, 8, FakePolicy(), batch_size=3)
    for pid, _ in PROMPTS:
        full = pool.texts(pid, 8)
        for n in (1, 2, 4):
            assert pool.texts(pid, n) == full[:n]
    with pytest.raises(BonError, match="lacks samples"):
        pool.texts("p0", 9)


def test_resume_generates_only_missing_and_keeps_lines(tmp_path):
    policy = FakePolicy()
    pool = make_pool(tmp_path)
    assert pool.ensure(PROMPTS, 2, policy, batch_size=4) == 10
    before = pool.path.read_text().splitlines()
    # A kill mid-write leaves a torn last line; the next run drops it and carries on.
    with open(pool.path, "a") as handle:
        handle.write('{"id": "p0", "i": 2, "tex')
    resumed = make_pool(tmp_path)
    assert resumed.ensure(PROMPTS, 4, policy, batch_size=4) == 10
    after = resumed.path.read_text().splitlines()
    assert after[:len(before)] == before
    assert len(after) == 20 and all(json.loads(line) for line in after)
    assert policy.rows == 20  # 10 + 10: nothing generated twice
    # Same samples as a pool drawn in one go with other batch sizes: seeds are per sample.
    fresh = make_pool(tmp_path / "fresh")
    fresh.ensure(PROMPTS, 4, FakePolicy(), batch_size=7)
    assert all(fresh.texts(p, 4) == resumed.texts(p, 4) for p, _ in PROMPTS)


def test_complete_pool_never_loads_the_policy(tmp_path):
    make_pool(tmp_path).ensure(PROMPTS, 3, FakePolicy())

    def factory():
        raise AssertionError("policy loaded although nothing was missing")

    assert make_pool(tmp_path).ensure(PROMPTS, 3, factory) == 0


def test_pool_key_separates_seed_and_params(tmp_path):
    a = make_pool(tmp_path)
    assert make_pool(tmp_path, seed=1).path != a.path
    assert make_pool(tmp_path, params=GenParams(0.7, 1.0, 16)).path != a.path
    assert make_pool(tmp_path, prompts=PROMPTS[:3]).path != a.path


def test_policy_fingerprint_change_is_refused(tmp_path):
    make_pool(tmp_path).ensure(PROMPTS, 1, FakePolicy())
    other = FakePolicy()
    other.fingerprint = "different-weights"
    with pytest.raises(BonError, match="fingerprint"):
        make_pool(tmp_path).ensure(PROMPTS, 2, other)


def test_seeded_sampler_ignores_batch_and_global_rng():
    logits = torch.randn(4, 50, generator=torch.Generator().manual_seed(1))
    state = torch.random.get_rng_state()
    rows = []
    for batch in ([0, 1, 2, 3], [2], [3, 0]):
        sampler = SeededSampler([100 + i for i in batch], 1.0, 0.9)
        steps = [sampler(None, logits[batch]).argmax(-1).tolist() for _ in range(5)]
        rows.append({i: [s[k] for s in steps] for k, i in enumerate(batch)})
    assert rows[1][2] == rows[0][2] and rows[2][3] == rows[0][3] and rows[2][0] == rows[0][0]
    assert torch.equal(state, torch.random.get_rng_state())
    greedy = SeededSampler([1], 0.0, 1.0)(None, logits[:1])
    assert greedy.argmax(-1).item() == logits[0].argmax().item()


def job(models=("long", "short"), suites=("wildguard_bon", "gsm8k_bon"), limit=8) -> BonJob:
    config = Config()
    for item in (f"bon.limit={limit}", "bon.n_max=4", "bon.batch_size=5",
                 f"bon.temperature={PARAMS.temperature}", f"bon.top_p={PARAMS.top_p}",
                 f"bon.max_new_tokens={PARAMS.max_new_tokens}"):
        config.set(item)
    return BonJob.of(config, list(suites), list(models))


def gsm_answers() -> dict[str, str]:
    from harness.bon.gsm8k import gsm8k_prompt

    suite = get_suite("gsm8k_bon")
    return {gsm8k_prompt(i.prompt): i.reference
            for i in load_prompts(suite, suite.source(Config()))}


def test_two_rms_two_runs_generate_once(tmp_path, monkeypatch):
    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))
    s = job()
    assert s.params == PARAMS
    policy = FakePolicy(gsm_answers())
    loads = []

    def policy_loader():
        loads.append(1)
        return policy

    m1 = run_bon(s, tmp_path / "out1", rm_loader=lambda n: FAKE_RMS[n](),
                 policy_loader=policy_loader)
    assert policy.rows == 2 * 8 * 4 and len(loads) == 1  # both suites, once, for both RMs
    assert m1["pools"]["wildguard_bon"]["generated"] == 32
    m2 = run_bon(job(models=["short"]), tmp_path / "out2",
                 rm_loader=lambda n: FAKE_RMS[n](), policy_loader=policy_loader)
    assert policy.rows == 64 and len(loads) == 1  # second run: nothing generated, no load
    assert m2["pools"]["gsm8k_bon"]["reused"] == 32
    # The same pool gives the same numbers for the RM both runs share.
    safety = m1["suites"]["wildguard_bon"]["models"]
    assert m2["suites"]["wildguard_bon"]["models"]["short"] == safety["short"]
    # n=1 is the first sample for every RM.
    for suite, key in (("wildguard_bon", "asr"), ("gsm8k_bon", "rm_acc")):
        curves = m1["suites"][suite]["models"]
        assert curves["long"]["1"][key] == curves["short"]["1"][key]
    # A larger limit keeps the smaller subset and generates only for the new prompts.
    run_bon(job(limit=12, suites=["gsm8k_bon"]), tmp_path / "out3",
            rm_loader=lambda n: FAKE_RMS[n](), policy_loader=policy_loader)
    assert policy.rows == 64 + 4 * 4


def test_limit_is_stratified_nested_and_seeded():
    suite = get_suite("wildguard_bon")
    items = load_prompts(suite, "embedded:safety_prompts")
    small, large = (limit_items(items, k, 0, suite) for k in (4, 8))
    assert {i.id for i in small} <= {i.id for i in large}
    assert sum(i.harmful for i in large) == 4
    assert {(i.harmful, i.adversarial) for i in small} == {(True, True), (True, False),
                                                           (False, True), (False, False)}
    assert limit_items(items, 8, 1, suite) != large
    assert limit_items(items, 8, 0, suite) == large
