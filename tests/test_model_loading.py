"""How local reward models load (#21): dtype, device map, remote code, attention, from the config.

Tiny Llama-shaped checkpoints are written to a temporary folder (SmolLM2's tokenizer, random
weights), so every path runs offline in a second: the same folder a user would give as a Hub
id or a local path.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from conftest import REPO

from harness.config import Config
from harness.models.backbones import LoadOptions, load_tokenizer
from harness.registry import RegistryError
from harness.scoring.reward_model import load_options, load_reward_model

PROMPTS, RESPONSES = ["Say hi.", "Add 2 and 2."], ["Hi there!", "It is 4."]

# A model class defined in the checkpoint's own folder: loading it means running its code.
REMOTE_CODE = '''
from transformers import AutoModel, LlamaConfig, LlamaForSequenceClassification, LlamaModel


class TinyRMConfig(LlamaConfig):
    model_type = "tiny-rm"


class TinyRMModel(LlamaModel):
    config_class = TinyRMConfig


class TinyRM(LlamaForSequenceClassification):
    config_class = TinyRMConfig


AutoModel.register(TinyRMConfig, TinyRMModel, exist_ok=True)  # its body, built by AutoModel
'''


def tiny_config(vocab: int):
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=vocab, hidden_size=16, intermediate_size=32,
                       num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                       max_position_embeddings=256, num_labels=1)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("smollm2-135m")


@pytest.fixture(scope="module")
def tiny_rm(tmp_path_factory, tokenizer):
    from transformers import LlamaForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-rm")
    config = tiny_config(len(tokenizer))
    config.pad_token_id = tokenizer.pad_token_id
    torch.manual_seed(0)
    LlamaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def remote_code_rm(tmp_path_factory, tiny_rm):
    """The tiny RM again, its class in the folder's own ``modeling_tiny.py`` (auto_map)."""
    import shutil

    folder = tmp_path_factory.mktemp("remote-rm")
    for item in tiny_rm.iterdir():
        shutil.copy(item, folder / item.name)
    (folder / "modeling_tiny.py").write_text(REMOTE_CODE)
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="tiny-rm", architectures=["TinyRM"],
                  auto_map={"AutoConfig": "modeling_tiny.TinyRMConfig",
                            "AutoModelForSequenceClassification": "modeling_tiny.TinyRM"})
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_config_settings_reach_the_loader():
    config = Config()
    assert load_options(config) == LoadOptions()  # attention: transformers' choice
    config.set("eval.device_map=auto")
    config.set("eval.trust_remote_code=true")
    config.set("eval.attn_implementation=eager")
    options = load_options(config)
    assert (options.device_map, options.trust_remote_code, options.attn_implementation) == \
        ("auto", True, "eager")
    assert options.kwargs() == {"device_map": "auto", "trust_remote_code": True,
                                "attn_implementation": "eager"}


def test_a_device_map_reaches_transformers_and_scores_alike(tiny_rm, monkeypatch):
    """The map goes to ``from_pretrained`` (transformers places the model; on several devices
    accelerate's hooks move activations, which needs GPUs to see), and the placed model is
    scored where it was put, with the scores of an unplaced load."""
    from transformers import AutoModelForSequenceClassification

    seen: list[dict] = []
    real = AutoModelForSequenceClassification.from_pretrained

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    plain = load_reward_model(str(tiny_rm), precision="fp32")
    monkeypatch.setattr(AutoModelForSequenceClassification, "from_pretrained", spy)
    mapped = load_reward_model(str(tiny_rm), precision="fp32", load=LoadOptions(device_map="cpu"))
    assert seen[-1]["device_map"] == "cpu" and seen[-1]["dtype"] == torch.float32
    assert mapped.model.crome_placed and not getattr(plain.model, "crome_placed", False)
    assert mapped.device == torch.device("cpu")
    assert mapped.score(PROMPTS, RESPONSES) == plain.score(PROMPTS, RESPONSES)


def test_weights_load_in_the_target_dtype_and_the_head_keeps_its_float32_weights(tiny_rm):
    from safetensors.torch import load_file

    rm = load_reward_model(str(tiny_rm), precision="bf16")
    dtypes = {n: p.dtype for n, p in rm.model.named_parameters()}
    assert dtypes.pop("score.weight") == torch.float32  # the reward head: no 8-bit rewards
    assert set(dtypes.values()) == {torch.bfloat16}
    stored = load_file(str(tiny_rm / "model.safetensors"))["score.weight"]
    assert stored.dtype == torch.float32
    assert torch.equal(rm.model.score.weight, stored)  # as stored, not rounded to bf16
    assert not torch.equal(stored.bfloat16().float(), stored)  # (rounding would show)
    assert all(isinstance(s, float) for s in rm.score(PROMPTS, RESPONSES))


def test_remote_code_runs_only_when_asked(remote_code_rm):
    with pytest.raises(RegistryError, match="trust-remote-code"):
        load_reward_model(str(remote_code_rm), precision="fp32")
    rm = load_reward_model(str(remote_code_rm), precision="fp32",
                           load=LoadOptions(trust_remote_code=True))
    assert type(rm.model).__name__ == "TinyRM"
    assert len(rm.score(PROMPTS, RESPONSES)) == 2


def test_the_attention_implementation_is_a_setting(tiny_rm):
    eager = load_reward_model(str(tiny_rm), precision="fp32",
                              load=LoadOptions(attn_implementation="eager"))
    sdpa = load_reward_model(str(tiny_rm), precision="fp32")  # transformers' choice: sdpa
    assert eager.model.config._attn_implementation == "eager"
    assert sdpa.model.config._attn_implementation == "sdpa"
    # The same function computed two ways: equal up to float32 rounding of O(1) sums.
    assert eager.score(PROMPTS, RESPONSES) == pytest.approx(sdpa.score(PROMPTS, RESPONSES),
                                                            abs=1e-5)


def test_eval_flags_set_the_load_options(tiny_rm, tmp_path):
    """``harness eval --trust-remote-code --device-map cpu --attn-implementation eager`` reach
    the loader: the run's metrics name the model it loaded and scored."""
    import os

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"prompt": p, "chosen": r, "rejected": "No.",
                                         "id": str(i)}) + "\n"
                             for i, (p, r) in enumerate(zip(PROMPTS, RESPONSES, strict=True))))
    cmd = [sys.executable, "-m", "harness", "eval", "--model", str(tiny_rm), "--suite",
           "preference", "--data", str(pairs), "--out", str(tmp_path / "out"),
           "--trust-remote-code", "--device-map", "cpu", "--attn-implementation", "eager",
           "--precision", "fp32"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CROME_BENCH_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stdout + done.stderr
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["preference"]["n"] == 2
    # Each flag reaches from_pretrained: a value transformers refuses fails the command.
    for flag, value in (("--attn-implementation", "no_such_attention"),
                        ("--device-map", "no_such_device")):
        bad = [*cmd, flag, value, "--out", str(tmp_path / f"bad{flag}")]
        done = subprocess.run(bad, cwd=REPO, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "CROME_BENCH_CACHE": str(tmp_path / "cache")})
        assert done.returncode != 0 and value in done.stdout + done.stderr, flag


def test_an_architecture_without_sdpa_loads_by_default(tokenizer, tmp_path):
    """transformers chooses the attention unless asked: a DeBERTa-v2 reward model (no sdpa,
    like OpenAssistant's deberta-v3 RMs) loads and scores; forcing sdpa is refused with the
    model folder and transformers' reason, not as an unknown name."""
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    config = DebertaV2Config(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=2,
                             num_attention_heads=2, intermediate_size=32, num_labels=1,
                             pad_token_id=tokenizer.pad_token_id, max_position_embeddings=256)
    torch.manual_seed(0)
    DebertaV2ForSequenceClassification(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    rm = load_reward_model(str(tmp_path), precision="fp32")
    assert len(rm.score(PROMPTS, RESPONSES)) == 2
    with pytest.raises(RegistryError, match=f"cannot load the reward model in {tmp_path}"):
        load_reward_model(str(tmp_path), precision="fp32",
                          load=LoadOptions(attn_implementation="sdpa"))


def test_the_float32_head_comes_from_the_file_transformers_loaded(tiny_rm, tmp_path):
    """Another weights file in the folder (an EMA copy, say) is not where the head is read
    from: only the files transformers loads (model.safetensors, or its index's shards)."""
    import shutil

    from safetensors.torch import load_file, save_file

    folder = tmp_path / "with-ema"
    shutil.copytree(tiny_rm, folder)
    stored = load_file(str(folder / "model.safetensors"))
    save_file({k: torch.zeros_like(v) for k, v in stored.items()},
              str(folder / "model_ema.safetensors"))
    rm = load_reward_model(str(folder), precision="bf16")
    assert torch.equal(rm.model.score.weight, stored["score.weight"])
