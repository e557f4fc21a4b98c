"""RM-Bench metadata and loading (Liu et al., ICLR 2025; data: THU-KEG/RM-Bench).

Every record holds one prompt with three chosen and three rejected answers; list index k is the
same style on both sides, in RM-Bench's order (its README: "the scores are in the order of
[concise, detailed_plain, detailed_markdown]"). Domains are chat, code, math and safety; the Hub
splits safety into safety-refuse and safety-response, which RM-Bench reports as one domain.

Sources: one JSONL/JSON file, a folder of them (the shared copy is one file per domain, whose
extra fields differ, so ``datasets`` cannot read the folder as one table), or a Hub id.
"""

from __future__ import annotations

from pathlib import Path

STYLES = ("concise", "detailed plain", "detailed markdown")
DOMAINS = ("chat", "math", "code", "safety")  # RM-Bench's table order
HUB_ID = "THU-KEG/RM-Bench"
FILE_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet")


def domain_of(name: str) -> str | None:
    """RM-Bench's reporting domain of a record's ``domain`` (safety-refuse -> safety)."""
    head = name.split("-", 1)[0]
    return head if head in DOMAINS else None


def folder_files(source: str | Path) -> list[Path] | None:
    """The data files of a local folder that holds only loose data files (no ``datasets``
    layout), sorted; None when ``source`` is not such a folder."""
    path = Path(str(source))
    if not path.is_dir():
        return None
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES)
    return files or None


def load_rmbench(source: str | Path) -> list:
    """Every RM-Bench item of a source, validated by the ``rmbench`` record format; raises
    ``DataError`` listing every bad record of every file, and on a key seen twice."""
    from harness.data.loaders import parse_records
    from harness.data.schema import DataError, Problem

    items, problems = [], []
    for part in folder_files(source) or [source]:
        found, _, found_problems = parse_records(part, "rmbench")
        items += found
        problems += [p for p in found_problems if p.severity == "error"]
    seen: dict[str, int] = {}
    for item in items:
        seen[item.key] = seen.get(item.key, 0) + 1
    problems += [Problem(str(source), None, "id", f"key {key!r} appears {n} times")
                 for key, n in seen.items() if n > 1]
    if problems:
        raise DataError(problems)
    if not items:
        raise DataError([Problem(str(source), None, None, "no RM-Bench records")])
    return items
