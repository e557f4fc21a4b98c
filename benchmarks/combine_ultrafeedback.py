"""Combine every UltraFeedback sample in the shared datasets into one deduplicated pairs file.

The samples overlap a little (a few dozen prompts): a prompt seen in an earlier file is dropped
from later ones. Pairs with an empty response are kept (they are valid preferences).
Usage: python -m benchmarks.combine_ultrafeedback OUT.jsonl
"""

from __future__ import annotations

import sys

from benchmarks.common import UF_FILES, shared
from harness.data.loaders import load_pairs, write_pairs


def combine() -> list:
    seen: set[str] = set()
    combined = []
    for relative in UF_FILES:
        for pair in load_pairs(shared(relative)):
            if pair.prompt_text in seen:
                continue
            seen.add(pair.prompt_text)
            combined.append(pair)
    return combined


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "ultrafeedback_all.jsonl"
    pairs = combine()
    write_pairs(pairs, out)
    print(f"{len(pairs)} unique-prompt pairs -> {out}")


if __name__ == "__main__":
    main()
