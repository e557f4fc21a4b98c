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
import re
import sys
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


# First bytes that say what a file really is, whatever its name.
BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
        (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))
PARQUET_MAGIC = b"PAR1"


def _sniff(path: Path, expected: str) -> Problem | None:
    """A whole-file problem the bytes show at once: a Parquet file under a text name, a text
    file in UTF-16/32; None when the start looks like what its name says."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if expected != "parquet" and head == PARQUET_MAGIC:
        return Problem(str(path), None, None, "this is a Parquet file, not JSON text: name it "
                                              ".parquet")
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return Problem(str(path), 1, None, f"the file is {encoding} text; save it as UTF-8")
    if expected == "parquet" and head != PARQUET_MAGIC:
        kind = "JSON text" if head[:1] in (b"{", b"[") else "not Parquet"
        return Problem(str(path), None, None, f"not a Parquet file ({kind}): check the file or "
                                              "its name")
    return None


def _decode(raw: bytes, path: Path, line_no: int) -> str | Problem:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return Problem(str(path), line_no, None,
                       f"not UTF-8 text at column {err.start + 1} (byte "
                       f"{raw[err.start:err.start + 1]!r}); save the file as UTF-8")


def _json_problem(path: Path, line_no: int, err: json.JSONDecodeError) -> Problem:
    return Problem(str(path), line_no, None, f"malformed JSON at column {err.colno}: {err.msg}")


def _read_jsonl(path: Path) -> Iterator[RecordOrProblem]:
    problem = _sniff(path, "jsonl")
    if problem:
        yield problem.line or 1, problem
        return
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM: harmless
                raw = raw[3:]
            line = _decode(raw, path, line_no)
            if isinstance(line, Problem):
                yield line_no, line
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield line_no, _json_problem(path, line_no, err)
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
    problem = _sniff(path, "json")
    if problem:
        yield problem.line or 1, problem
        return
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line_no = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        yield line_no, Problem(str(path), line_no, None,
                               f"not UTF-8 text at column {column}; save the file as UTF-8")
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        yield err.lineno, _json_problem(path, err.lineno, err)
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

    problem = _sniff(path, "parquet")
    if problem:
        yield 1, problem
        return
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow's ArrowInvalid, OSError, ...: a corrupt file
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        yield 1, Problem(str(path), None, None,
                         f"not a readable Parquet file ({type(err).__name__}: {first})")
        return
    for i, record in enumerate(frame.to_dict(orient="records"), 1):
        yield i, {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in record.items()}


def lone_surrogate(value: Any, where: str = "") -> tuple[str, int] | None:
    """(field, character index) of the first lone surrogate in a record's text (JSON can
    write one as a \\udXXX escape; it is not Unicode text and cannot be encoded), else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            return where, err.start
        return None
    if isinstance(value, dict):
        items = ((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for key, item in items:
        found = lone_surrogate(item, key)
        if found:
            return found
    return None


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
        surrogate = lone_surrogate(record)
        if surrogate:
            field, at = surrogate
            problems.append(Problem(str(source), line, field,
                                    f"lone surrogate (\\u{ord(_char_at(record, field, at)):04x}) "
                                    f"at character {at + 1}: not valid Unicode text"))
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
            if (isinstance(item, PreferencePair) and not item.is_tie
                    and item.chosen == item.rejected):
                problems.append(Problem(str(source), line, "rejected", "identical to chosen: "
                                        "the pair carries no preference", "warning"))
        if limit is not None and len(items) >= limit:
            break
    if record_format is None and not problems:
        problems.append(Problem(str(source), None, None, "no records"))
    return items, record_format, problems


def _char_at(record: dict, field: str, at: int) -> str:
    value: Any = record
    for part in re.findall(r"[^.\[\]]+", field):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value[at]


def load_items(source: str | Path, fmt: str | None = None, limit: int | None = None) -> list[Any]:
    """Every item of a source; raises ``DataError`` listing all errors. Warnings are allowed
    and summed up on stderr in one line (``harness data check`` lists them)."""
    items, _, problems = parse_records(source, fmt, limit)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DataError(errors)
    if problems:
        print(f"warning: {source}: {len(problems)} warning(s), first: {problems[0]} (`harness "
              "data check` lists them)", file=sys.stderr)
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
    from harness.io import write_jsonl

    write_jsonl(path, (p.to_record() for p in pairs))


def _unrecognised(source: str, line: int, record: dict) -> list[Problem]:
    """Name the missing fields of the closest format, or list the fields the record has."""
    from harness.data.formats import missing_fields

    closest = missing_fields(record)
    if closest is None:
        return [Problem(source, line, None, f"unrecognised record with fields {sorted(record)}")]
    name, missing = closest
    return [Problem(source, line, field, f"missing field (a {name} record needs it)")
            for field in missing]
