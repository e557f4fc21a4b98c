"""Scoring: the encoding and truncation policy, the forward pass (reward at the last real
token), fingerprints, the cached scorer, and batch-size / padding-side invariance."""

from __future__ import annotations

import json

import pytest
import torch

from harness.data.loaders import load_pairs
from harness.data.schema import PreferencePair
from harness.models.backbones import load_tokenizer
from harness.registry import RegistryError
from harness.scoring.encoding import encode, encode_many, split_budget
from harness.scoring.forward import last_real_index, rewards
from harness.scoring.reward_model import HFRewardModel, load_reward_model
from harness.scoring.scorer import Scorer


@pytest.fixture(scope="module")
def smol_tok():
    return load_tokenizer("smollm2-135m")


@pytest.fixture(scope="module")
def bert_tok():
    return load_tokenizer("minilm-l6")


@pytest.fixture(scope="module")
def minilm():
    return load_reward_model("minilm-l6", max_length=512, device="cpu")


# -- truncation policy ---------------------------------------------------------------------------

def test_split_budget_hand_worked():
    assert split_budget(100, 30, 50) == (30, 50)  # fits: nothing cut
    assert split_budget(100, 300, 40) == (60, 40)  # long prompt: the response is kept whole
    assert split_budget(100, 300, 500) == (25, 75)  # both long: the prompt keeps a quarter
    assert split_budget(100, 10, 500) == (10, 90)  # short prompt, long response
    assert split_budget(0, 5, 5) == (0, 0)


def test_chat_encoding_matches_apply_chat_template(smol_tok):
    messages = [{"role": "user", "content": "Hi there"},
                {"role": "assistant", "content": "Hello!"}]
    ids, cut = encode(smol_tok, "Hi there", "Hello!", 512)
    assert not cut
    assert ids == list(smol_tok.apply_chat_template(messages, tokenize=True)["input_ids"])
    chat = [{"role": "user", "content": "A"}, {"role": "assistant", "content": "B"},
            {"role": "user", "content": "C"}]
    ids, _ = encode(smol_tok, chat, "D", 512)
    expected = smol_tok.apply_chat_template(chat + [{"role": "assistant", "content": "D"}],
                                            tokenize=True)["input_ids"]
    assert ids == list(expected)


def test_chat_truncation_keeps_prompt_start_response_end_and_template(smol_tok):
    prompt = "START " + "filler " * 400
    response = "beginning " * 400 + "THE END"
    ids, cut = encode(smol_tok, prompt, response, 128)
    text = smol_tok.decode(ids)
    assert cut and len(ids) == 128
    assert text.startswith("<|im_start|>system\n") and "<|im_start|>user\nSTART filler" in text
    assert text.endswith("THE END<|im_end|>\n") and "<|im_start|>assistant\n" in text
    full, _ = encode(smol_tok, prompt, response, 10_000)
    template = len(encode(smol_tok, "", "", 10_000)[0])
    budget = 128 - template
    # Both long: the prompt keeps budget // 4 tokens (give or take a boundary token).
    assert abs(text.count("filler") - budget // 4) <= 2


def test_chat_truncation_keeps_whole_response_when_it_fits(smol_tok):
    ids, cut = encode(smol_tok, "few-shot example. " * 300 + "QUESTION?", "Short answer.", 200)
    text = smol_tok.decode(ids)
    assert cut and len(ids) == 200 and text.endswith("Short answer.<|im_end|>\n")
    assert "QUESTION" not in text  # the prompt's end goes, not the answer


def test_template_that_edits_contents_still_truncates(smol_tok):
    tok = load_tokenizer("smollm2-135m")  # a fresh copy: the template is changed below
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
                         "{{ m['content'] | trim }}<|im_end|>\n{% endfor %}")
    ids, cut = encode(tok, "  Q " + "x " * 300, "A " * 300 + "END  ", 64)
    text = tok.decode(ids)
    assert cut and len(ids) == 64
    assert text.startswith("<|im_start|>user\nQ") and text.endswith("END<|im_end|>\n")


def test_doubled_bos_is_collapsed():
    tok = load_tokenizer("smollm2-135m")
    tok.chat_template = ("{{ bos_token }}{% for m in messages %}{{ m['content'] }}\n"
                         "{% endfor %}")
    tok.bos_token = "<|im_start|>"
    plain, _ = encode(tok, "q", "a", 64)
    tok.chat_template = "{{ bos_token }}" + tok.chat_template
    doubled, _ = encode(tok, "q", "a", 64)
    assert doubled == plain and plain[0] == tok.bos_token_id != plain[1]


def test_pair_encoding_matches_the_tokenizer(bert_tok):
    ids, cut = encode(bert_tok, "What is 2 + 2?", "Four.", 512)
    assert not cut and ids == bert_tok("What is 2 + 2?", "Four.")["input_ids"]
    ids, cut = encode(bert_tok, "start " + "filler " * 300, "words " * 300 + "finish", 64)
    tokens = bert_tok.convert_ids_to_tokens(ids)
    assert cut and len(ids) == 64
    assert tokens[:2] == ["[CLS]", "start"] and tokens[-2:] == ["finish", "[SEP]"]
    assert tokens.count("[SEP]") == 2


def test_encode_many_equals_encode(smol_tok, bert_tok):
    pairs = load_pairs("embedded:rewardbench")[:12]
    prompts = [p.prompt for p in pairs] + ["x " * 400]
    responses = [p.chosen for p in pairs] + ["y " * 400]
    for tok in (smol_tok, bert_tok):
        assert encode_many(tok, prompts, responses, 96) == [
            encode(tok, p, r, 96) for p, r in zip(prompts, responses, strict=True)]


# -- forward -------------------------------------------------------------------------------------

def _tiny_llama(pad_id: int = 2, num_labels: int = 1):
    from transformers import LlamaConfig, LlamaForSequenceClassification

    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         pad_token_id=pad_id, num_labels=num_labels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return LlamaForSequenceClassification(config).eval()


def test_reward_is_read_at_the_last_real_token_even_if_it_is_the_pad_id():
    model = _tiny_llama(pad_id=2)
    ends_in_pad = [5, 6, 7, 2]  # e.g. SmolLM2 text ending in <|im_end|> (its pad token)
    longer = [9, 2, 8, 7, 6, 5, 4, 3]
    with torch.inference_mode():
        batched = rewards(model, [ends_in_pad, longer], 2, "cpu")
        alone = rewards(model, [ends_in_pad], 2, "cpu")
        hidden = model.model(input_ids=torch.tensor([ends_in_pad])).last_hidden_state
        manual = model.score(hidden)[0, -1, 0]
    assert torch.allclose(batched[0], manual, atol=1e-5)
    assert torch.allclose(alone[0], manual, atol=1e-5)


def test_bf16_decoder_keeps_its_score_head_in_float32():
    """The GPU path for decoder RMs: bf16 body, float32 ``score`` head with its original
    weights, and the reward still read at the last real token by the per-token hook."""
    from types import SimpleNamespace

    tokenizer = SimpleNamespace(model_max_length=64, pad_token_id=2)  # all score_batch reads
    exact = HFRewardModel(_tiny_llama(pad_id=2), tokenizer, "tiny", 64, "cpu")
    half = HFRewardModel(_tiny_llama(pad_id=2), tokenizer, "tiny", 64, "cpu",
                         dtype=torch.bfloat16)
    assert half.model.model.layers[0].mlp.up_proj.weight.dtype == torch.bfloat16
    assert half.model.score.weight.dtype == torch.float32
    assert torch.equal(half.model.score.weight, exact.model.score.weight)  # not bf16-rounded
    sequences = [[5, 6, 7, 2], [9, 2, 8, 7, 6, 5, 4, 3]]
    with torch.inference_mode():
        a, b = exact.score_batch(sequences), half.score_batch(sequences)
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 0.05
    assert torch.tensor(b).bfloat16().float().tolist() != b


def test_last_real_index_either_padding_side():
    right = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    left = torch.tensor([[0, 1, 1, 1], [1, 1, 1, 1]])
    assert last_real_index(right).tolist() == [2, 3]
    assert last_real_index(left).tolist() == [3, 3]


def test_rewards_backpropagate_and_two_logit_heads_give_a_difference():
    model = _tiny_llama()
    model.train()
    out = rewards(model, [[5, 6, 7], [8, 9]], 2, "cpu")
    out.sum().backward()
    assert model.score.weight.grad is not None and out.shape == (2,)
    two = _tiny_llama(num_labels=2)
    with torch.inference_mode():
        diff = rewards(two, [[5, 6, 7]], 2, "cpu")
        hidden = two.model(input_ids=torch.tensor([[5, 6, 7]])).last_hidden_state
        logits = two.score(hidden)[0, -1]
    assert torch.allclose(diff[0], logits[1] - logits[0], atol=1e-5)


# -- batch size and padding side -----------------------------------------------------------------

def _invariance(rm: HFRewardModel, pairs: list[PreferencePair]) -> float:
    prompts = [p.prompt for p in pairs] * 2
    responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    saved = rm.batch_tokens
    try:
        rm.batch_tokens = 32 * rm.max_length
        batched = Scorer(rm, use_cache=False).score_texts(prompts, responses)
        rm.batch_tokens = 1  # one text per batch
        single = Scorer(rm, use_cache=False).score_texts(prompts, responses)
    finally:
        rm.batch_tokens = saved
    return max(abs(a - b) for a, b in zip(batched, single, strict=True))


def test_minilm_scores_do_not_depend_on_batch_size(minilm):
    pairs = load_pairs("embedded:rewardbench")[::4]
    assert minilm.model.dtype == torch.float32
    assert _invariance(minilm, pairs) < 1e-4


@pytest.mark.slow
def test_smollm2_scores_do_not_depend_on_batch_size():
    rm = load_reward_model("smollm2-135m", max_length=192, device="cpu")
    assert _invariance(rm, load_pairs("embedded:rewardbench")[::6]) < 1e-4


# -- reward models and fingerprints --------------------------------------------------------------

def test_fingerprint_tracks_weights_template_and_length(minilm):
    again = load_reward_model("minilm-l6", max_length=512, device="cpu")
    assert again.fingerprint == minilm.fingerprint
    assert load_reward_model("minilm-l6", max_length=256).fingerprint != minilm.fingerprint
    assert load_reward_model("minilm-l6", max_length=512, seed=1).fingerprint != \
        minilm.fingerprint
    with torch.no_grad():
        again.model.classifier.bias += 1e-3
    again._fingerprint = None
    assert again.fingerprint != minilm.fingerprint
    other = load_reward_model("minilm-l6", max_length=512)
    other.tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    assert other.fingerprint != minilm.fingerprint


def test_precision_picks_the_weights_dtype_and_keys_the_cache(minilm):
    from harness.scoring.reward_model import BATCH_TOKENS, resolve_dtype

    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32  # exact on CPU
    assert resolve_dtype("fp32", torch.device("cpu")) == torch.float32
    assert resolve_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        resolve_dtype("fp8", torch.device("cpu"))
    assert minilm.model.dtype == torch.float32 and minilm.batch_tokens == BATCH_TOKENS["cpu"]
    half = load_reward_model("minilm-l6", max_length=512, device="cpu", precision="bf16")
    assert half.model.dtype == torch.bfloat16
    assert half.fingerprint != minilm.fingerprint  # bf16 scores never reuse fp32 cache entries
    pairs = load_pairs("embedded:rewardbench")[:6]
    texts = [p.prompt for p in pairs], [p.chosen for p in pairs]
    exact, rounded = minilm.score(*texts), half.score(*texts)
    assert rounded != exact
    assert max(abs(a - b) for a, b in zip(exact, rounded, strict=True)) < 0.05
    # the head stays float32, so rewards are not rounded to bf16 (which makes exact ties)
    assert half.model.classifier.weight.dtype == torch.float32
    assert torch.tensor(rounded).bfloat16().float().tolist() != rounded


def test_max_length_is_capped_at_the_models_positions():
    with pytest.warns(UserWarning, match="exceeds"):
        rm = load_reward_model("minilm-l6", max_length=4096)
    assert rm.max_length == 512


def test_checkpoint_directory_loads_with_its_max_length(tmp_path, minilm):
    minilm.model.save_pretrained(tmp_path)
    minilm.tokenizer.save_pretrained(tmp_path)
    (tmp_path / "crome_bench.json").write_text(json.dumps({"max_length": 200,
                                                           "method": "vanilla"}))
    rm = load_reward_model(str(tmp_path))
    assert rm.max_length == 200 and rm.name == "vanilla"
    pairs = load_pairs("embedded:rewardbench")[:4]
    a = rm.score([p.prompt for p in pairs], [p.chosen for p in pairs])
    b = load_reward_model("minilm-l6", max_length=200).score(
        [p.prompt for p in pairs], [p.chosen for p in pairs])
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5


def test_length_reference_and_unknown_names():
    rm = load_reward_model("length")
    assert rm.score(["q", "q"], ["short", "a much longer answer"]) == [5.0, 20.0]
    with pytest.raises(RegistryError, match="did you mean 'minilm-l6'"):
        load_reward_model("minilm-l7")
    with pytest.raises(RegistryError, match="not a model directory"):
        load_reward_model("./no/such/model-dir")


# -- the scorer ----------------------------------------------------------------------------------

def test_scorer_dedupes_caches_and_restores_order(tmp_path, minilm):
    pairs = load_pairs("embedded:rewardbench")[:10]
    twice = pairs + pairs[:3]
    scorer = Scorer(minilm, cache_dir=tmp_path)
    chosen, rejected, stats = scorer.score_pairs(twice)
    assert stats["scored"] == 20 and stats["cached"] == 0
    assert chosen[10:] == chosen[:3] and rejected[10:] == rejected[:3]
    direct = minilm.score([p.prompt for p in pairs], [p.chosen for p in pairs])
    assert max(abs(a - b) for a, b in zip(chosen[:10], direct, strict=True)) < 1e-5
    fresh = Scorer(minilm, cache_dir=tmp_path)  # another run: nothing is scored again
    again_c, again_r, stats = fresh.score_pairs(pairs[::-1])
    assert stats["scored"] == 0 and stats["cached"] == 20
    assert again_c == chosen[:10][::-1] and again_r == rejected[:10][::-1]


def test_scorer_reports_truncated_pairs(tmp_path):
    rm = load_reward_model("minilm-l6", max_length=32)
    pairs = [PreferencePair("q", "short", "long " * 100), PreferencePair("q", "a", "b")]
    _, _, stats = Scorer(rm, cache_dir=tmp_path).score_pairs(pairs)
    assert stats["truncated_pairs"] == 1 and stats["truncated"] == 1
    _, _, stats = Scorer(rm, cache_dir=tmp_path).score_pairs(pairs)  # cached: still reported
    assert stats["truncated_pairs"] == 1 and stats["scored"] == 0


def test_interrupted_scoring_keeps_finished_batches(tmp_path, minilm):
    pairs = load_pairs("embedded:rewardbench")[:16]
    calls = {"n": 0}
    real = minilm.score_batch

    def flaky(batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(batch)

    saved, minilm.batch_tokens = minilm.batch_tokens, 1  # one text per batch: two are cached
    minilm.score_batch = flaky                            # before the interrupt
    try:
        with pytest.raises(KeyboardInterrupt):
            Scorer(minilm, cache_dir=tmp_path).score_pairs(pairs)
    finally:
        del minilm.score_batch
    try:
        _, _, stats = Scorer(minilm, cache_dir=tmp_path).score_pairs(pairs)
    finally:
        minilm.batch_tokens = saved
    assert stats["cached"] == 2 and stats["scored"] == 30


def test_a_model_with_its_own_answer_cache_skips_the_score_cache_in_every_scorer(tmp_path):
    """``RewardModel.uses_score_cache = False`` (a Gemini judge) is honoured by the scorer
    itself, so best-of-N's scorers skip the score cache as harness eval's does."""
    from harness.scoring.base import LengthRewardModel
    from harness.scoring.scorer import Scorer

    class OwnCache(LengthRewardModel):
        uses_score_cache = False

    assert Scorer(OwnCache(), cache_dir=tmp_path).cache is None
    assert Scorer(LengthRewardModel(), cache_dir=tmp_path).cache is not None
