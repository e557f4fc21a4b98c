"""Causal LMs as reward models: DPO implicit rewards (and the reference-free variants) checked
against a hand computation of the log-probabilities with two different small causal LMs, and
the local pairwise judge (verdict log-odds, order averaging, consistency, template, truncation).

The small causal LMs are random Llamas saved with SmolLM2's tokenizer (its chat template and
vocabulary), so everything but the weights is what ``smollm2-135m`` runs with, in a second.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
import torch

from harness.config import Config, ConfigError
from harness.data.schema import PreferencePair
from harness.io import read_jsonl
from harness.models.backbones import load_tokenizer, seeded_init
from harness.models.chat import ChatLM
from harness.registry import RegistryError
from harness.scoring.encoding import PairedResponses, encode_many, encode_responses
from harness.scoring.judge import DEFAULT_TEMPLATE, JudgeTemplate, LocalJudge
from harness.scoring.reward_model import load_reward_model
from harness.scoring.scorer import Scorer

PAIRS = [
    PreferencePair("What is 2+2?", "2 + 2 equals 4.", "It is 5, I think.", "chat", "0"),
    PreferencePair("Name a colour.", "Blue.", "I cannot help with that request.", "chat", "1"),
    PreferencePair([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                    {"role": "user", "content": "Tell me a fact."}],
                   "Water boils at 100 C at sea level.", "Facts are boring.", "chat", "2"),
]


@pytest.fixture(scope="module")
def smol_tok():
    return load_tokenizer("smollm2-135m")


def tiny_llama(path, tokenizer, seed: int):
    """A random 2-layer Llama over SmolLM2's vocabulary, saved with its tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)
    with seeded_init(seed):
        model = LlamaForCausalLM(config)
        for param in model.parameters():  # larger than the default init: peaked predictions
            param.data.normal_(0, 0.3)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def two_lms(tmp_path_factory, smol_tok):
    root = tmp_path_factory.mktemp("lms")
    return tiny_llama(root / "policy", smol_tok, 1), tiny_llama(root / "ref", smol_tok, 2)


def hand_logprob(path: str, tokenizer, prompt, response: str) -> tuple[float, int]:
    """Sum of log p(response tokens) by a direct forward, log_softmax and gather, where the
    response tokens are those after the prompt rendered with its generation prompt."""
    from transformers import AutoModelForCausalLM

    messages = ([{"role": "user", "content": prompt}] if isinstance(prompt, str)
                else list(prompt))
    full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": response}],
                                         tokenize=True)["input_ids"]
    head = tokenizer.apply_chat_template(messages, tokenize=True,
                                         add_generation_prompt=True)["input_ids"]
    assert list(full[:len(head)]) == list(head)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    with torch.no_grad():
        logits = model(torch.tensor([list(full)])).logits[0]
    logp = torch.log_softmax(logits.double(), -1)
    targets = torch.tensor(list(full[len(head):]))
    picked = logp[torch.arange(len(head) - 1, len(full) - 1), targets]
    return float(picked.sum()), len(targets)


def test_dpo_reward_matches_a_hand_computation(two_lms, smol_tok, tmp_path):
    policy, ref = two_lms
    rm = load_reward_model(f"dpo:{policy}", dpo_ref=ref, dpo_beta=0.5, device="cpu",
                           max_length=512)
    chosen, rejected, _ = Scorer(rm, cache_dir=tmp_path).score_pairs(PAIRS)
    for pair, c, r in zip(PAIRS, chosen, rejected, strict=True):
        for response, got in ((pair.chosen, c), (pair.rejected, r)):
            lp_policy, _ = hand_logprob(policy, smol_tok, pair.prompt, response)
            lp_ref, _ = hand_logprob(ref, smol_tok, pair.prompt, response)
            assert got == pytest.approx(0.5 * (lp_policy - lp_ref), abs=1e-3)
            assert abs(lp_policy - lp_ref) > 0.1  # two different models: a real difference
    # the name says what it is; beta is part of the fingerprint (a new beta is never cached)
    assert rm.name == f"dpo:{policy}@{ref}"
    other = load_reward_model(f"dpo:{policy}@{ref}", dpo_beta=1.0, device="cpu", max_length=512)
    assert other.fingerprint != rm.fingerprint


def test_reference_free_variants_match_a_hand_computation(two_lms, smol_tok, tmp_path):
    policy, _ = two_lms
    total = load_reward_model(f"dpo-sum:{policy}", device="cpu", max_length=512)
    mean = load_reward_model(f"dpo-mean:{policy}", device="cpu", max_length=512)
    scorer_sum, scorer_mean = Scorer(total, cache_dir=tmp_path), Scorer(mean, cache_dir=tmp_path)
    sums = scorer_sum.score_pairs(PAIRS)
    means = scorer_mean.score_pairs(PAIRS)
    assert total.fingerprint != mean.fingerprint
    for k, pair in enumerate(PAIRS):
        for side, response in ((0, pair.chosen), (1, pair.rejected)):
            lp, n = hand_logprob(policy, smol_tok, pair.prompt, response)
            assert sums[side][k] == pytest.approx(lp, abs=1e-3)
            assert means[side][k] == pytest.approx(lp / n, abs=1e-4)


def test_policy_equal_to_reference_gives_exactly_zero(two_lms, tmp_path):
    policy, _ = two_lms
    rm = load_reward_model(f"dpo:{policy}@{policy}", device="cpu", batch_tokens=64)
    chosen, rejected, _ = Scorer(rm, use_cache=False).score_pairs(PAIRS)
    assert chosen == [0.0] * len(PAIRS) and rejected == [0.0] * len(PAIRS)


def test_dpo_scores_do_not_depend_on_the_batch(two_lms):
    policy, ref = two_lms
    small = load_reward_model(f"dpo:{policy}@{ref}", device="cpu", batch_tokens=1)
    large = load_reward_model(f"dpo:{policy}@{ref}", device="cpu", batch_tokens=1 << 16)
    prompts = [p.prompt for p in PAIRS] * 2
    responses = [p.chosen for p in PAIRS] + [p.rejected for p in PAIRS]
    assert len(large.batches([len(s) for s in large.encode(prompts, responses)[0]])) == 1
    one = small.score(prompts, responses)
    together = large.score(prompts, responses)
    assert one == pytest.approx(together, abs=1e-5)


def test_response_marks_follow_the_truncation_policy(smol_tok):
    prompts = ["short question", "START " + "filler " * 300, "q"]
    responses = ["short answer", "beginning " * 300 + "THE END", ""]
    marked = encode_responses(smol_tok, prompts, responses, 128)
    plain = encode_many(smol_tok, prompts, responses, 128)
    assert [list(ids) for ids, _ in marked] == [ids for ids, _ in plain]
    assert [cut for _, cut in marked] == [cut for _, cut in plain] == [False, True, False]
    (short, _), (long, _), (empty, _) = marked
    assert smol_tok.decode(short[short.start:]) == "short answer<|im_end|>\n"
    assert smol_tok.decode(long[:long.start]).endswith("<|im_start|>assistant\n")
    assert smol_tok.decode(long[long.start:]).endswith("THE END<|im_end|>\n")
    assert empty.start == len(empty)  # nothing to score: reward 0


def test_dpo_names_and_errors(two_lms, smol_tok, tmp_path):
    policy, ref = two_lms
    with pytest.raises(RegistryError, match="needs its reference"):
        load_reward_model(f"dpo:{policy}", device="cpu")
    with pytest.raises(RegistryError, match="reference-free"):
        load_reward_model(f"dpo-sum:{policy}@{ref}", device="cpu")
    with pytest.raises(ConfigError, match="dpo_beta"):
        load_reward_model(f"dpo:{policy}@{ref}", dpo_beta=0.0, device="cpu")
    bert = tmp_path / "bert-vocab"
    from transformers import LlamaConfig, LlamaForCausalLM

    other = load_tokenizer("minilm-l6")
    LlamaForCausalLM(LlamaConfig(vocab_size=len(other), hidden_size=16, intermediate_size=32,
                                 num_hidden_layers=1, num_attention_heads=2,
                                 num_key_value_heads=1)).save_pretrained(bert)
    other.save_pretrained(bert)
    with pytest.raises(RegistryError, match="different vocabularies"):
        load_reward_model(f"dpo:{policy}@{bert}", device="cpu")


def test_harness_eval_takes_dpo_names_and_ref(two_lms, tmp_path, monkeypatch):
    from harness.cli import main

    monkeypatch.setenv("CROME_BENCH_CACHE", str(tmp_path / "cache"))  # a cold score cache
    policy, ref = two_lms
    out = tmp_path / "eval"
    assert main(["eval", "--model", f"dpo:{policy}", "--ref", ref, "--suite", "rewardbench",
                 "--limit", "6", "--out", str(out), "--set", "eval.dpo_beta=2.0",
                 "--set", "eval.bootstrap=10"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == f"dpo:{policy}@{ref}" and metrics["form"] == "bt"
    assert metrics["scoring"]["scored"] > 0
    assert main(["eval", "--model", f"dpo:{tmp_path / 'missing'}", "--ref", ref,
                 "--out", str(tmp_path / "x")]) == 2  # checked before any work
    assert not (tmp_path / "x").exists()


# -- the local judge -------------------------------------------------------------------------------

class ToyVerdicts(torch.nn.Module):
    """A "causal LM" whose next token is always the same: logits ``values`` at the given token
    ids, -1e4 elsewhere. With A's logit above B's it always answers "A"."""

    def __init__(self, vocab: int, values: dict[int, float]):
        super().__init__()
        self.vocab, self.values = vocab, values
        self.config = SimpleNamespace(max_position_embeddings=100_000)

    def forward(self, input_ids, attention_mask):
        logits = torch.full((*input_ids.shape, self.vocab), -1e4)
        for token, value in self.values.items():
            logits[..., token] = value
        return SimpleNamespace(logits=logits)


def toy_judge(tokenizer, a_logit: float, b_logit: float, max_length: int = 2048) -> LocalJudge:
    template = JudgeTemplate.load()
    a, b = (tokenizer(v, add_special_tokens=False)["input_ids"][0]
            for v in (template.verdict_a, template.verdict_b))
    model = ToyVerdicts(len(tokenizer), {a: a_logit, b: b_logit})
    return LocalJudge(ChatLM(model, tokenizer, torch.device("cpu"), "toy"), template,
                      max_length=max_length)


def test_judge_that_always_answers_a_hand_worked(smol_tok, tmp_path):
    from harness.evaluate import evaluate_model

    judge = toy_judge(smol_tok, 2.0, 0.0)
    # One order: log p(A) - log p(B) = 2 - 0, P(A) = sigmoid(2) = 0.881 whatever the answers.
    raw = judge.score([PAIRS[0].prompt] * 2, [PairedResponses(PAIRS[0].chosen, PAIRS[0].rejected),
                                              PairedResponses(PAIRS[0].rejected, PAIRS[0].chosen)])
    assert raw == pytest.approx([2.0, 2.0])
    # Both orders: P = (0.881 + 1 - 0.881) / 2 = 0.5, logit 0: a tie (counted wrong), and the
    # two orders never pick the same answer.
    chosen, rejected, stats = Scorer(judge, use_cache=False).score_pairs(PAIRS)
    assert chosen == [0.0] * 3 and rejected == [0.0] * 3
    assert stats["consistent"] == [False] * 3
    config = Config()
    config.set_value("eval.bootstrap", 10)
    config.set_value("eval.transforms", ["add_quotes"])
    metrics = evaluate_model(judge, ["rewardbench", "reword", "diagnostics"], config, tmp_path,
                             limit=6, show_progress=False)
    assert metrics["form"] == "pairpm"
    assert metrics["rewardbench"]["average"] == 0.0
    assert metrics["rewardbench"]["positional_consistency"]["accuracy"] == 0.0


def test_judge_input_holds_question_and_answers_and_is_cut_fairly(smol_tok):
    judge = toy_judge(smol_tok, 0.0, 0.0)
    text, _ = judge.render("QUESTION?", PairedResponses("first answer", "second answer"))
    assert "[User Question]\nQUESTION?\n" in text
    assert "Answer]\nfirst answer\n[The End of Assistant A" in text
    assert "Answer]\nsecond answer\n[The End of Assistant B" in text
    assert text.endswith("<|im_start|>assistant\n[[")
    ids, cut = judge.encode(["QUESTION?"], [PairedResponses("first answer", "second answer")])
    assert cut == [False] and smol_tok.decode(ids[0]) == text
    # Too long: the question keeps its start, each answer its end, the template survives.
    short = toy_judge(smol_tok, 0.0, 0.0, max_length=300)
    question = "START " + "filler " * 400
    a, b = "alpha " * 400 + "AEND", "beta " * 400 + "BEND"
    ids, cut = short.encode([question], [PairedResponses(a, b)])
    decoded = smol_tok.decode(ids[0])
    assert cut == [True] and len(ids[0]) == 300
    assert "[User Question]\nSTART filler" in decoded
    assert "AEND\n[The End of Assistant A's Answer]" in decoded
    assert "BEND\n[The End of Assistant B's Answer]" in decoded
    assert decoded.endswith("<|im_start|>assistant\n[[")
    assert abs(decoded.count("alpha") - decoded.count("beta")) <= 2  # the budget is shared


def test_judge_template_errors(smol_tok, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('user = "{question} {answer_a}"\nanswer_prefix = "[["\n'
                   'verdict_a = "A"\nverdict_b = "B"\n')
    with pytest.raises(ConfigError, match="answer_b"):
        JudgeTemplate.load(bad)
    with pytest.raises(ConfigError, match="no such file"):
        JudgeTemplate.load(tmp_path / "absent.toml")
    multi = tmp_path / "multi.toml"
    multi.write_text(DEFAULT_TEMPLATE.read_text().replace('verdict_a = "A"',
                                                          'verdict_a = "Assistant A wins"'))
    model = ToyVerdicts(len(smol_tok), {})
    with pytest.raises(ConfigError, match="not one token"):
        LocalJudge(ChatLM(model, smol_tok, torch.device("cpu"), "toy"),
                   JudgeTemplate.load(multi))


def test_judge_template_file_changes_the_fingerprint(two_lms, tmp_path):
    policy, _ = two_lms
    custom = tmp_path / "custom.toml"
    custom.write_text(DEFAULT_TEMPLATE.read_text().replace("impartial judge", "strict judge"))
    default = load_reward_model(f"judge:{policy}", device="cpu")
    other = load_reward_model(f"judge:{policy}", judge_template=str(custom), device="cpu")
    assert default.form == other.form == "pairpm" and default.name == f"judge:{policy}"
    assert default.fingerprint != other.fingerprint
    prompts = [PAIRS[0].prompt]
    pair = [PairedResponses(PAIRS[0].chosen, PAIRS[0].rejected)]
    assert default.score(prompts, pair) != other.score(prompts, pair)  # the text it reads changed
    # the reward is the verdict log-odds of the model itself
    lm = default.lm
    ids, _ = default.encode(prompts, pair)
    with torch.no_grad():
        logp = torch.log_softmax(lm.model(torch.tensor(ids)).logits[0, -1].double(), -1)
    a, b = default.verdict_ids
    assert default.score(prompts, pair)[0] == pytest.approx(float(logp[a] - logp[b]), abs=1e-4)


def test_smollm2_judge_runs_the_suites_offline_and_a_rerun_scores_nothing(tmp_path):
    """judge:smollm2-135m through ``harness eval`` on rewardbench, reword and diagnostics: a
    rerun reads every score from the cache."""
    from harness.cli import main
    from harness.data.loaders import write_pairs
    from harness.models.backbones import cache_dir

    data = tmp_path / "pairs.jsonl"  # three RewardBench-style pairs: seconds, not minutes
    subsets = ["alpacaeval-easy", "refusals-dangerous", "math-prm"]
    write_pairs([PreferencePair(p.prompt, p.chosen, p.rejected, subset, str(k))
                 for k, (p, subset) in enumerate(zip(PAIRS, subsets, strict=True))], data)
    args = ["eval", "--model", "judge:smollm2-135m", "--suite", "rewardbench,reword,diagnostics",
            "--data", str(data), "--transforms", "add_quotes", "--set", "eval.bootstrap=10"]

    cache = tmp_path / "cache"  # a fresh score cache, the converted SmolLM2 weights shared
    cache.mkdir()
    (cache / "converted").symlink_to(cache_dir() / "converted")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CROME_BENCH_CACHE", str(cache))
        assert main([*args, "--out", str(tmp_path / "a")]) == 0
        assert main([*args, "--out", str(tmp_path / "b")]) == 0
    first = json.loads((tmp_path / "a" / "metrics.json").read_text())
    second = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert first["model"] == "judge:smollm2-135m" and first["form"] == "pairpm"
    assert first["scoring"]["scored"] > 0
    assert second["scoring"]["scored"] == 0 and second["scoring"]["cached"] > 0
    consistency = first["rewardbench"]["positional_consistency"]["accuracy"]
    assert 0.0 <= consistency <= 1.0
    assert second["rewardbench"] == first["rewardbench"]
    assert math.isfinite(first["rewardbench"]["average"])


@pytest.mark.slow
def test_smollm2_dpo_against_itself_is_zero_on_rewardbench(tmp_path):
    from harness.cli import main

    out = tmp_path / "dpo"
    assert main(["eval", "--model", "dpo:smollm2-135m", "--ref", "smollm2-135m", "--limit", "6",
                 "--out", str(out), "--set", "eval.bootstrap=10"]) == 0
    for record in read_jsonl(out / "rewardbench_items.jsonl"):
        assert record["chosen_score"] == record["rejected_score"] == 0.0


def test_name_checks_look_inside_dpo_and_judge_names(two_lms, tmp_path):
    """``harness eval`` and ``harness run --eval-model`` check every name before any work: a
    DPO or judge name is checked by the models it names."""
    from harness.validate import check_model_name

    policy, ref = two_lms
    for name in (f"dpo:{policy}@{ref}", f"dpo-mean:{policy}", "judge:smollm2-135m",
                 f"judge:{policy}"):
        check_model_name(name, "--eval-model")
    for name in (f"dpo:{policy}@{tmp_path / 'absent'}", "judge:smollm-135", "judge:"):
        with pytest.raises(RegistryError):
            check_model_name(name, "--eval-model")
