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
import json, os
from harness.distributed import rank, share_work
seen = []
result = share_work(list(range(7)), lambda xs: (seen.extend(xs), [x * x for x in xs])[1])
print("RESULT", json.dumps({"rank": rank(), "seen": seen, "result": result}))
"""


def test_share_work_splits_across_two_processes(tmp_path):
    """Each rank does only its interleaved share, and both get every result in order."""
    script = tmp_path / "share.py"
    script.write_text(SHARE)
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node", "2", str(script)], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    rows = sorted((json.loads(line.split(" ", 1)[1]) for line in done.stdout.splitlines()
                   if line.startswith("RESULT")), key=lambda r: r["rank"])
    assert [r["seen"] for r in rows] == [[0, 2, 4, 6], [1, 3, 5]]
    assert all(r["result"] == [x * x for x in range(7)] for r in rows)
