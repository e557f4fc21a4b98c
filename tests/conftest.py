"""Shared test setup: offline Hub, a per-session model cache, and the shared datasets folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("CROME_BENCH_DATASETS", REPO.parent / "shared" / "datasets"))


def shared_file(relative: str) -> Path:
    """A file of ../shared/datasets, or skip the test when the folder is absent."""
    path = DATASETS / relative
    if not path.exists():
        pytest.skip(f"shared dataset {relative} not present")
    return path


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    if not DATASETS.exists():
        pytest.skip("../shared/datasets not present")
    return DATASETS
