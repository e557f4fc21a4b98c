"""Shared helpers for benchmark scripts: where the shared datasets are, and a clean skip."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("CROME_BENCH_DATASETS", REPO.parent / "shared" / "datasets"))


def shared(relative: str) -> Path:
    """A file of the shared datasets folder; exits 0 with a message when it is absent."""
    path = DATASETS / relative
    if not path.exists():
        print(f"skipped: {path} not present (set CROME_BENCH_DATASETS)")
        sys.exit(0)
    return path


UF_FILES = ("ultrafeedback/sethtye-ultrafeedback_2k/ultrafeedback_2k.jsonl",
            "ultrafeedback/kkminions-trl-lib-sample/train_clean.jsonl",
            "ultrafeedback/kkminions-trl-lib-sample/eval_clean.jsonl",
            "ultrafeedback/chanys-h4-sample/train_prefs.jsonl",
            "ultrafeedback/chanys-h4-sample/test_prefs.jsonl")
RB_FILE = "rewardbench/rewardbench_filtered.hf_schema.jsonl"


def rewardbench_pairs(data: str | None) -> list | None:
    """The pairs of ``data`` (a JSONL path) or of the shared RewardBench file; None, with an
    error line, when a named file does not exist (the shared file's absence exits 0 cleanly)."""
    from harness.data.loaders import load_pairs

    if data is not None and not Path(data).exists():
        print(f"error: {data} does not exist", file=sys.stderr)
        return None
    return load_pairs(Path(data) if data else shared(RB_FILE))
