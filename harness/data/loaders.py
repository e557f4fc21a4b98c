"""Loading items from any source: the embedded sample, a local file, or a Hub dataset id.

Sources:
- ``embedded:NAME``: a JSONL file shipped in ``harness/data/embedded/``;
- a local ``.jsonl``, ``.json`` (a list of records) or ``.parquet`` file, or a directory that
  ``datasets.load_dataset`` understands;
- a Hugging Face Hub dataset id, optionally ``ID:SPLIT`` or ``ID@CONFIG:SPLIT`` (the real path for
  users online; tests point it at local directories).

Every record is validated; a source with any bad record raises ``DataError`` listing all of
them, so nothing downstream ever sees half a dataset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.data.formats import FORMATS, RecordFormat, RecordInvalid, detect_format
from harness.data.schema import DataError, PreferencePair, Problem

EMBEDDED_DIR = Path(__file__).parent / "embedded"
RecordOrProblem = tuple[int, "dict[str, Any] | Problem"]


def embedded_path(name: str) -> Path:
    path = EMBEDDED_DIR / f"{name}.jsonl"
    if not path.exists():
        known = sorted(p.stem for p in EMBEDDED_DIR.glob("*.jsonl"))
        raise DataError(
            [
                Problem(
                    f"embedded:{name}",
                    None,
                    None,
                    f"no such embedded dataset (known: {', '.join(known)})",
                )
            ]
        )
    return path


def _read_jsonl(path: Path) -> Iterator[RecordOrProblem]:
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield line_no, Problem(str(path), line_no, None, f"malformed JSON: {err.msg}")
                continue
            if not isinstance(record, dict):
                yield (
                    line_no,
                    Problem(
                        str(path),
                        line_no,
                        None,
                        f"expected a JSON object, got {type(record).__name__}",
                    ),
                )
                continue
            yield line_no, record


def _read_json(path: Path) -> Iterator[RecordOrProblem]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        yield err.lineno, Problem(str(path), err.lineno, None, f"malformed JSON: {err.msg}")
        return
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        yield 1, Problem(str(path), None, None, "expected a list of records")
        return
    for i, record in enumerate(data, 1):
        if not isinstance(record, dict):
            yield i, Problem(str(path), i, None, f"record {i} is not an object")
        else:
            yield i, record


def _read_parquet(path: Path) -> Iterator[RecordOrProblem]:
    import pandas as pd

    for i, record in enumerate(pd.read_parquet(path).to_dict(orient="records"), 1):
        yield i, {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in record.items()}


def _read_hub(source: str) -> Iterator[RecordOrProblem]:
    """``datasets.load_dataset`` on a Hub id (or a local dataset directory)."""
    import datasets

    name, _, split = source.partition(":")
    name, _, config = name.partition("@")
    try:
        ds = datasets.load_dataset(name, config or None, split=split or None)
    except Exception as err:  # datasets raises many kinds; report them as a data problem
        raise DataError([Problem(source, None, None, f"could not load dataset: {err}")]) from err
    if isinstance(ds, datasets.DatasetDict):
        split = "train" if "train" in ds else next(iter(ds))
        ds = ds[split]
    yield from enumerate(ds, 1)


def read_records(source: str | Path) -> Iterator[RecordOrProblem]:
    """(line or row number, record) for every record of the source; problems for unreadable ones."""
    text = str(source)
    if text.startswith("embedded:"):
        yield from _read_jsonl(embedded_path(text.split(":", 1)[1]))
        return
    path = Path(text)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            yield from _read_jsonl(path)
        elif suffix == ".json":
            yield from _read_json(path)
        elif suffix == ".parquet":
            yield from _read_parquet(path)
        else:
            raise DataError(
                [Problem(text, None, None, "unknown file type (use .jsonl, .json or .parquet)")]
            )
        return
    base = Path(text.partition(":")[0].partition("@")[0])
    looks_local = path.suffix.lower() in (
        ".jsonl",
        ".json",
        ".parquet",
        ".ndjson",
    ) or text.startswith(("./", "../", "/"))
    if looks_local and not base.is_dir():
        raise DataError([Problem(text, None, None, "no such file")])
    yield from _read_hub(text)


def parse_records(
    source: str | Path, fmt: str | None = None, limit: int | None = None
) -> tuple[list[Any], RecordFormat | None, list[Problem]]:
    """Parse every record; return (items, format, problems) without raising on bad records.

    ``problems`` holds errors and warnings (``Problem.severity``); items with only warnings are
    kept in ``items``.
    """
    items: list[Any] = []
    problems: list[Problem] = []
    record_format = FORMATS.get(fmt) if fmt else None
    for line, record in read_records(source):
        if isinstance(record, Problem):
            problems.append(record)
            continue
        if record_format is None:
            record_format = detect_format(record)
            if record_format is None:
                problems.extend(_unrecognised(str(source), line, record))
                continue
        try:
            item, warnings = record_format.parse(record, line - 1)
        except RecordInvalid as err:
            problems.extend(Problem(str(source), line, f, m) for f, m in err.problems)
        else:
            items.append(item)
            problems.extend(Problem(str(source), line, f, m, "warning") for f, m in warnings)
        if limit is not None and len(items) >= limit:
            break
    if record_format is None and not problems:
        problems.append(Problem(str(source), None, None, "no records"))
    return items, record_format, problems


def load_items(source: str | Path, fmt: str | None = None, limit: int | None = None) -> list[Any]:
    """Every item of a source; raises ``DataError`` listing all errors (warnings are allowed)."""
    items, _, problems = parse_records(source, fmt, limit)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DataError(errors)
    return items


def load_pairs(
    source: str | Path, fmt: str | None = None, limit: int | None = None
) -> list[PreferencePair]:
    """Preference pairs from any source; raises ``DataError`` listing every bad record."""
    items = load_items(source, fmt, limit)
    if items and not isinstance(items[0], PreferencePair):
        raise DataError(
            [
                Problem(
                    str(source),
                    None,
                    None,
                    "holds prompts, not preference pairs (prompt/chosen/rejected)",
                )
            ]
        )
    return items


def write_pairs(pairs: list[PreferencePair], path: str | Path) -> None:
    """Write pairs as JSONL atomically (a temporary file renamed into place)."""
    from harness.io import atomic_write_text

    atomic_write_text(
        path, "".join(json.dumps(p.to_record(), ensure_ascii=False) + "\n" for p in pairs)
    )


def _unrecognised(source: str, line: int, record: dict) -> list[Problem]:
    """Name the missing fields of the closest format, or list the fields the record has."""
    from harness.data.formats import missing_fields

    closest = missing_fields(record)
    if closest is None:
        return [Problem(source, line, None, f"unrecognised record with fields {sorted(record)}")]
    name, missing = closest
    return [Problem(source, line, field, f"missing field (a {name} record needs it)")
            for field in missing]
