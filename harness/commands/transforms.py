"""``harness transforms list|apply``: the registered transforms, and applying them to a file.

``apply`` writes every pair a transform applies to (by subset) in the pair schema plus
``transform``, ``changed`` and ``sides`` fields, one line per (transform, pair), and reports per
transform the pairs changed on both sides, on one side only and on neither; of neither, the
one-sided edits it undid (a one-sided edit is a cue) and the no-ops (nothing to edit on either
side). A no-op rate of 10% or more is flagged, since a transform that finds nothing to edit
measures nothing. Model-based transforms also report
why rewrites were rejected. Output is written atomically, only after every transform succeeded.
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.data.loaders import load_pairs
from harness.io import write_jsonl
from harness.progress import progress_bar

NOOP_LIMIT = 0.10


def add_to(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("transforms", help="reWordBench-style transformations")
    sub = parser.add_subparsers(dest="transforms_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="list registered transforms")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)
    apply = sub.add_parser("apply", help="transform the pairs of a file")
    apply.add_argument("--transform", required=True,
                       help="NAME[,NAME...], or 'rule' (every rule-based one) or 'all'")
    apply.add_argument("--input", required=True, help="pairs: file, embedded:NAME or Hub id")
    apply.add_argument("--output", required=True, help="JSONL to write")
    apply.add_argument("--seed", type=int, default=0)
    apply.add_argument("--generator", default=None,
                       help="text generator for model-based transforms (smollm2, gemini, ...)")
    apply.add_argument("--limit", type=int, default=None, help="first N pairs only")
    apply.set_defaults(func=run_apply)


def selected(spec: str) -> list:
    """Transforms named by ``spec`` (comma list, ``rule`` or ``all``), unknown names rejected."""
    from transforms import TRANSFORMS

    names = [n.strip() for n in spec.split(",") if n.strip()]
    if names == ["all"]:
        names = TRANSFORMS.names()
    elif names == ["rule"]:
        names = [n for n in TRANSFORMS.names() if TRANSFORMS.get(n).kind == "rule"]
    return [TRANSFORMS.get(n) for n in names]


def run_list(args: argparse.Namespace) -> int:
    from transforms import TRANSFORMS

    rows = [{**TRANSFORMS.get(n).info(), "origin": TRANSFORMS.origin(n)}
            for n in TRANSFORMS.names()]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    table = Table(title=f"{len(rows)} transforms")
    for column in ("name", "category", "kind", "fields", "subsets", "preserves", "description"):
        table.add_column(column, overflow="fold")
    for row in rows:
        description = row["description"] + (f" [approximate: {row['approximation']}]"
                                            if row["approximation"] else "")
        table.add_row(*(escape(str(row[c])) for c in ("name", "category", "kind", "fields",
                                                       "subsets", "preserves")),
                      escape(description))
    console = Console(soft_wrap=True)
    if not console.is_terminal:  # piped: no terminal width to fit, so do not wrap at 80
        console = Console(soft_wrap=True, width=200)
    console.print(table)
    return 0


def run_apply(args: argparse.Namespace) -> int:
    from transforms import applies_to, side_counts, transform_pairs
    from transforms.generators import make_generator

    console = Console(highlight=False, soft_wrap=True)
    chosen = selected(args.transform)
    pairs = load_pairs(args.input, limit=args.limit)
    generator = make_generator(args.generator) if any(t.kind == "model" for t in chosen) else None
    records, stats = [], []
    with progress_bar() as progress:
        task = progress.add_task("transforms", total=len(chosen))
        for t in chosen:
            progress.update(task, description=t.name)
            todo = [p for p in pairs if applies_to(t, p)]
            done = transform_pairs(t, todo, args.seed, generator=generator)
            records += [{**a.pair.to_record(), "transform": t.name, "changed": a.changed,
                         "sides": a.sides} for a in done]
            rejected = None
            if hasattr(t, "rejections"):
                texts = [getattr(p, f) for p in todo for f in t.fields if f != "prompt"]
                rejected = t.rejections(texts, generator)
            stats.append((t, len(todo), side_counts(done), rejected))
            progress.advance(task)
    write_jsonl(args.output, records)
    table = Table(title=f"{len(records)} transformed pairs -> {args.output}")
    for column in ("transform", "kind", "pairs", "both", "one", "neither", "undone",
                   "no-op rate"):
        table.add_column(column)
    flagged = []
    for t, n, counts, _ in stats:
        rate = counts["noop"] / n if n else None
        if rate is not None and rate >= NOOP_LIMIT:
            flagged.append(t.name)
        table.add_row(t.name, t.kind, str(n), *(str(counts[k]) for k in
                                                 ("both", "one", "neither", "undone")),
                      "n/a (no pair in its subsets)" if rate is None else f"{rate:.1%}")
    console.print(table)
    console.print("both/one/neither: pairs changed on both sides, one side only, neither; of "
                  "neither, undone: a one-sided edit undone; no-op: nothing to edit.",
                  markup=False)
    if flagged:
        console.print(f"[yellow]no-op rate >= {NOOP_LIMIT:.0%}: {', '.join(flagged)}[/yellow]")
    for t, _, _, rejected in stats:
        if rejected:
            reasons = ", ".join(f"{v} {k}" for k, v in rejected.items() if k != "accepted")
            console.print(f"rejected rewrites: {t.name}: {reasons or 'none'} "
                          f"(of {sum(rejected.values())} texts)", markup=False)
    approximate = [f"{t.name} ({t.approximation})" for t, *_ in stats if t.approximation]
    if approximate:
        console.print("approximate: " + "; ".join(approximate), markup=False)
    return 0
