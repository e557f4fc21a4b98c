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
