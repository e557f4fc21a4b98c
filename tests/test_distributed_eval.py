"""``harness eval`` in two processes gives the metrics.json of one process (#21).

The two processes (torchrun, gloo on CPU; ``accelerate launch`` on GPUs starts the same way)
split the texts to score and gather the scores (``harness.distributed``), then compute every
metric from the gathered scores. Both sides run one torch thread per process. A text's score
comes from another batch in each run (other batch-mates, other padded width), which moves a
float32 score by rounding only. The rounding is of the sums behind the score (hidden states of
order 1), so it is absolute, not relative to the score (untrained-head scores are ~1e-2 to
1e-5): measured at most 2e-8 on these pairs, so per-item scores are compared to 1e-6
absolute, and every decision (correct, tie) and metrics.json
exactly (a rounding-level move cannot flip a pair here; no pair is that close). Each run has
its own empty score cache, so every text is really scored, by one rank.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

from harness.distributed import share_work
from harness.io import read_jsonl

ARGS = ["eval", "--model", "minilm-l6", "--suite", "rewardbench,diagnostics,reword",
        "--transforms", "rot13,add_quotes", "--limit", "46"]


def _eval(launcher: list[str], out, cache) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CROME_BENCH_CACHE": str(cache)}
    done = subprocess.run([sys.executable, *launcher, "-m", "harness", *ARGS, "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    metrics["scoring"].pop("seconds")
    return metrics


@pytest.mark.slow
def test_two_process_eval_matches_one_process(tmp_path):
    one = _eval([], tmp_path / "one", tmp_path / "cache1")
    two = _eval(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"],
                tmp_path / "two", tmp_path / "cache2")
    assert one["scoring"]["scored"] > 100 and one["scoring"] == two["scoring"]
    assert one == two
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == \
        sorted(p.name for p in (tmp_path / "one").iterdir())
    for name in ("rewardbench_items.jsonl", "reword_items.jsonl"):
        a, b = (read_jsonl(tmp_path / run / name) for run in ("one", "two"))
        assert len(a) == len(b) > 40
        for x, y in zip(a, b, strict=True):
            scores = {k for k in x if k.endswith("_score")}
            assert {k: v for k, v in x.items() if k not in scores} == \
                {k: v for k, v in y.items() if k not in scores}
            assert [y[k] for k in sorted(scores)] == pytest.approx([x[k] for k in sorted(scores)],
                                                                   rel=0, abs=1e-6)


@pytest.mark.slow
def test_two_process_best_of_n_matches_one_process(tmp_path):
    """``harness bon`` in two processes: the main rank samples the pools (the other finds them
    complete), both score their share, and the result is the one-process result (the pools'
    paths aside, which name each run's own cache). About 2 minutes: SmolLM2 samples twice."""
    runs = {}
    for name, launcher in (("one", []), ("two", ["-m", "torch.distributed.run", "--standalone",
                                                "--nproc_per_node", "2"])):
        env = {**os.environ, "OMP_NUM_THREADS": "1",
               "CROME_BENCH_CACHE": str(tmp_path / f"cache-{name}")}
        done = subprocess.run([sys.executable, *launcher, "-m", "harness", "bon", "--models",
                               "minilm-l6,length", "--limit", "2", "--n-max", "4", "--out",
                               str(tmp_path / name), "--no-progress"], cwd=REPO,
                              capture_output=True, text=True, timeout=900, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        runs[name] = json.loads((tmp_path / name / "metrics.json").read_text())
        for pool in runs[name]["pools"].values():
            assert pool.pop("path").startswith(str(tmp_path / f"cache-{name}"))
    assert runs["one"] == runs["two"]


def test_share_work_in_one_process_is_the_work():
    assert share_work([3, 1, 2], lambda xs: [x * 10 for x in xs]) == [30, 10, 20]


SHARE = """
import json, sys
from pathlib import Path
from harness.distributed import rank, share_work
seen = []
result = share_work(list(range(7)), lambda xs: (seen.extend(xs), [x * x for x in xs])[1])
Path(sys.argv[1], f"result-{rank()}.json").write_text(
    json.dumps({"rank": rank(), "seen": seen, "result": result}))
"""


def two_ranks(script_text: str, folder) -> list[dict]:
    """Run a script in two torchrun processes (gloo, one thread each) with ``folder`` as its
    argument; each rank's result file (a rank writes its own: two processes printing at once
    can interleave their lines), in rank order."""
    script = folder / "script.py"
    script.write_text(script_text)
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node", "2", str(script), str(folder)], cwd=REPO,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads((folder / f"result-{r}.json").read_text()) for r in range(2)]


def test_share_work_splits_across_two_processes(tmp_path):
    """Each rank does only its interleaved share, and both get every result in order."""
    rows = two_ranks(SHARE, tmp_path)
    assert [r["seen"] for r in rows] == [[0, 2, 4, 6], [1, 3, 5]]
    assert all(r["result"] == [x * x for x in range(7)] for r in rows)


DIVERGE = """
import json, sys
from pathlib import Path
from harness.config import ConfigError
from harness.distributed import rank
from harness.models.backbones import LoadOptions
from harness.scoring.reward_model import load_reward_model
from harness.scoring.scorer import Scorer, text_key

class Lengths:  # a reward model: the length of the response
    name, fingerprint = "lengths", "fp-lengths"

    def score_with_info(self, prompts, responses):
        return [float(len(r)) for r in responses], [False] * len(responses)

root = sys.argv[1]
# Each rank its own cache: rank 1's already holds "a" (with a stale score), rank 0's nothing,
# as when another job writes the shared cache between the two ranks' reads.
scorer = Scorer(Lengths(), cache_dir=f"{root}/cache-{rank()}")
if rank() == 1:
    scorer.cache.put("fp-lengths", [(text_key("p", "a"), -1.0, False)])
scores = scorer.score_texts(["p", "p", "p"], ["a", "bb", "ccc"])
# The other way round: only the main rank's cache holds "x" (5.0): every rank takes that value.
other = Scorer(Lengths(), cache_dir=f"{root}/other-{rank()}")
if rank() == 0:
    other.cache.put("fp-lengths", [(text_key("p", "x"), 5.0, False)])
scores += other.score_texts(["p", "p"], ["x", "yy"])
scored = scorer.stats["scored"] + other.stats["scored"]
refused = []
for name, load in (("gemini:gemini-2.0-flash", None),
                   ("minilm-l6", LoadOptions(device_map="auto"))):
    try:
        load_reward_model(name, load=load)
    except ConfigError as err:
        refused.append(str(err).split(":")[0])
Path(root, f"result-{rank()}.json").write_text(json.dumps(
    {"rank": rank(), "scores": scores, "scored": scored, "refused": refused}))
"""


def test_ranks_score_what_the_main_rank_found_missing_and_refuse_what_cannot_split(tmp_path):
    """Ranks whose caches disagree (either way round) take the main rank's view: they score
    the same texts and agree on every score; a Gemini judge and a device map are refused in
    several processes."""
    rows = two_ranks(DIVERGE, tmp_path)
    assert [r["scores"] for r in rows] == [[1.0, 2.0, 3.0, 5.0, 2.0]] * 2
    assert [r["scored"] for r in rows] == [4, 4]
    assert all(r["refused"] == ["gemini", "eval.device_map='auto' spreads one model over "
                                "every GPU"] for r in rows), rows
