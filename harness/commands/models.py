"""``harness models list``: the registered backbones and whether their weights are installed."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from harness.models.backbones import BACKBONES, resolve


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="registered models")
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="list registered backbones")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)


def _rows() -> list[dict]:
    rows = []
    for name in BACKBONES.names():
        backbone = BACKBONES.get(name)
        try:
            location, gguf = resolve(name)
            status = "available" + (" (GGUF, not yet converted)" if gguf else "")
        except FileNotFoundError as err:
            location, status = "", f"missing: {err}"
        rows.append(
            {
                "name": name,
                "kind": "backbone",
                "description": backbone.description,
                "status": status,
                "location": location,
                "origin": BACKBONES.origin(name),
            }
        )
    return rows


def run_list(args: argparse.Namespace) -> int:
    rows = _rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title="Backbones (any Hub id or local path also works)")
    for column in ("name", "description", "status"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["description"], row["status"])
    Console().print(table)
    return 0
