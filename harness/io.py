"""Small file helpers shared by every writer: atomic writes so a killed run never leaves a
half-written output behind, the one JSON and JSONL encoding of our outputs, and canonical JSON
for hashing. (Input data files are read and validated by ``harness.data.loaders``.)"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give a new file (mkstemp gives 0600)


def atomic_write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def jsonl_text(records: Iterable[Any]) -> str:
    """Records as JSON lines, one per line, non-ASCII text kept as is."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_jsonl(path: str | Path, records: Iterable[Any]) -> None:
    """Records as a JSONL file, written atomically (pandas reads it with
    ``read_json(lines=True)``)."""
    atomic_write_text(path, jsonl_text(records))


def read_jsonl(path: str | Path) -> list[Any]:
    """The records of a JSONL file this package wrote (blank lines skipped, no validation)."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_of(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def slug(name: str) -> str:
    """A file-name-safe form of a model name (eval folders are named by it)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name.strip("/")).strip("_") or "model"


def remove_if_unused(root: str | Path, ignore: tuple[str, ...] = (".lock",)) -> None:
    """Remove a folder a command created when it failed before writing anything in it but
    ``ignore`` (its lock) and empty folders: a failed start leaves no empty output behind."""
    import shutil

    root = Path(root)
    if root.is_dir() and all(p.name in ignore or p.is_dir() for p in root.rglob("*")):
        shutil.rmtree(root, ignore_errors=True)
