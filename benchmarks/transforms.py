"""Every rule-based transform over all of RewardBench: time and no-op rate against the goals.

Applies each registered rule-based transform (``kind == "rule"``) to every RewardBench pair it is
meant for (by subset), as ``transforms apply --transform rule`` does, and times each one. Prints,
per transform, the pairs it applies to, the pairs changed on both sides, the one-sided edits it
undid (``transforms.base.transform_pair``), the no-ops (nothing to edit on either side), the
no-op rate and the seconds it took; then the total and its ratio to the 60 s goal. Exits 1 when
any no-op rate is 10% or more or the total is 60 s or more; exits 0 otherwise.

Usage: python -m benchmarks.transforms [RB_JSONL] [--seed S]
The data is RB_JSONL, or ``$CROME_BENCH_DATASETS`` / ``../shared/datasets`` (the filtered
RewardBench file). Without an argument and without the shared file it skips (exit 0); a path
given that does not exist is an error (exit 2).
"""

from __future__ import annotations

import argparse
import sys
import time

from harness.commands.transforms import NOOP_LIMIT

GOAL_S = 60.0


def run(pairs: list, seed: int = 0) -> list[tuple[str, int, dict[str, int], float]]:
    """(transform, pairs it applies to, ``side_counts``, seconds) per rule transform."""
    from transforms import TRANSFORMS, applies_to, side_counts, transform_pairs

    rows = []
    for name in TRANSFORMS.names():
        t = TRANSFORMS.get(name)
        if t.kind != "rule":
            continue
        start = time.perf_counter()
        todo = [p for p in pairs if applies_to(t, p)]
        done = transform_pairs(t, todo, seed)
        seconds = time.perf_counter() - start
        rows.append((name, len(todo), side_counts(done), seconds))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=None, help="RewardBench pairs (JSONL)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from benchmarks.common import RB_FILE, rewardbench_pairs

    pairs = rewardbench_pairs(args.data)
    if pairs is None:
        return 2
    import transforms  # noqa: F401  (registering the built-ins is not part of the timing)

    rows = run(pairs, args.seed)
    total = sum(seconds for *_, seconds in rows)
    print(f"{len(rows)} rule-based transforms on {len(pairs)} pairs of {args.data or RB_FILE}")
    print(f"{'transform':<20} {'pairs':>6} {'both':>6} {'one':>5} {'undone':>6} {'no-op':>6} "
          f"{'no-op rate':>10} {'seconds':>8}")
    flagged = []
    for name, n, counts, seconds in rows:
        cells = (f"{name:<20} {n:>6} {counts['both']:>6} {counts['one']:>5} "
                 f"{counts['undone']:>6} {counts['noop']:>6}")
        if not n:  # no pair of its subsets in this file
            print(f"{cells} {'n/a':>10} {seconds:>8.2f}")
            continue
        rate = counts["noop"] / n
        mark = f"  <- no-op rate >= {NOOP_LIMIT:.0%}" if rate >= NOOP_LIMIT else ""
        if mark:
            flagged.append(name)
        print(f"{cells} {rate:>10.1%} {seconds:>8.2f}{mark}")
    print(f"total: {total:.2f} s for {sum(n for _, n, _, _ in rows)} (transform, pair) "
          f"applications; {total / GOAL_S:.2f}x the {GOAL_S:.0f} s goal "
          f"({GOAL_S / total if total else float('inf'):.0f}x under it)")
    failed = False
    if flagged:
        print(f"FAIL: no-op rate >= {NOOP_LIMIT:.0%}: {', '.join(flagged)}")
        failed = True
    if total >= GOAL_S:
        print(f"FAIL: total {total:.1f} s >= {GOAL_S:.0f} s")
        failed = True
    if not failed:
        print(f"OK: every no-op rate < {NOOP_LIMIT:.0%} and total < {GOAL_S:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
