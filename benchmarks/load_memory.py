"""Peak memory of loading a reward model in bf16: directly in bf16 against float32-then-cast.

Each way runs in a fresh process, which loads the model once to warm up (imports, tokenizer,
allocator; a GGUF backbone converted), frees it, records its baseline and loads ``smollm2-135m``
as a sequence classifier in bf16 again, the way ``harness eval`` does:
- ``direct``: ``from_pretrained(dtype=bfloat16)`` (``LoadOptions.dtype``), head then kept in
  float32 (``cast_keeping_head``);
- ``fp32-then-cast``: float32 weights first (``dtype=float32``), then cast: what loading cost
  when the float32 copy came first. (transformers >= 5 defaults to the checkpoint's own dtype,
  ``dtype="auto"``; the loaders pass the target dtype so they do not depend on that default.)

Memory is the process's anonymous resident memory (``RssAnon`` in /proc/self/status, sampled
every 2 ms by a thread during the load; the child runs with glibc's mmap threshold at 64 KiB, so
a freed tensor leaves the resident memory at once): the weights and every temporary copy live
there, while
the safetensors file is memory-mapped and its page cache is the kernel's (file-backed, shared,
dropped under pressure), not a copy the loader made. The goal (#21): peak minus baseline at most
1.3x the bf16 weights' size.

Both ways load two checkpoints: the float32 safetensors the GGUF converts to, and the same
model saved in bf16 (as most Hub checkpoints are), where loading float32 first means an
upcast copy of every weight.

Usage: python -m benchmarks.load_memory [--model smollm2-135m]   (Linux only: reads /proc)
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

GOAL = 1.3
# Every allocation over 64 KiB is its own mapping, given back to the system when freed, so the
# resident memory follows the live tensors instead of what glibc's heap keeps after a free.
MALLOC = {"MALLOC_MMAP_THRESHOLD_": "65536"}
WAYS = ("direct", "fp32-then-cast")


def anon_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


def bf16_checkpoint(model: str, folder: Path) -> str:
    """The model saved in bf16, as most Hub checkpoints are (the converted GGUF is float32)."""
    import torch

    from harness.models.backbones import LoadOptions, load_sequence_classifier, load_tokenizer

    if not (folder / "config.json").exists():
        loaded = load_sequence_classifier(model, options=LoadOptions(dtype=torch.bfloat16))
        loaded.save_pretrained(folder)
        load_tokenizer(model).save_pretrained(folder)
    return str(folder)


def measure(way: str, model: str) -> dict:
    """In this process: baseline, peak during the load, and the loaded weights' bytes."""
    import torch

    from harness.models.backbones import LoadOptions, load_sequence_classifier
    from harness.scoring.forward import cast_keeping_head

    def load() -> torch.nn.Module:
        options = LoadOptions(dtype=torch.bfloat16 if way == "direct" else torch.float32)
        return cast_keeping_head(load_sequence_classifier(model, options=options), "cpu",
                                 torch.bfloat16)

    # A first load imports the model's modules and builds the tokenizer; its memory is given
    # back before the baseline (MALLOC), so the measured load counts only what loading this
    # model costs.
    del_model = load()
    del del_model
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    base, peak, done = anon_bytes(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], anon_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    loaded = load()
    done.set()
    sampler.join()
    peak[0] = max(peak[0], anon_bytes())
    bf16 = sum(p.numel() * 2 for p in loaded.parameters())
    return {"way": way, "baseline": base, "peak": peak[0], "bf16_weights": bf16,
            "ratio": (peak[0] - base) / bf16}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--way", choices=WAYS, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.way:
        print(json.dumps(measure(args.way, args.model)))
        return 0
    from harness.models.backbones import model_source

    mib, worst = 2 ** 20, 0.0
    print(f"{args.model} as a sequence classifier in bf16; anonymous memory over the process "
          "baseline")
    print(f"{'checkpoint':<18} {'way':<16} {'peak - baseline':>16} {'bf16 weights':>13} "
          f"{'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        files = {"float32 (as is)": model_source(args.model),
                 "bf16 (Hub-like)": bf16_checkpoint(args.model, Path(tmp) / "bf16")}
        for label, path in files.items():
            for way in WAYS:
                out = subprocess.run([sys.executable, "-m", "benchmarks.load_memory", "--model",
                                      path, "--way", way], capture_output=True, text=True,
                                     check=True, env={**os.environ, **MALLOC})
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{label:<18} {way:<16} {(r['peak'] - r['baseline']) / mib:>12.0f} MiB "
                      f"{r['bf16_weights'] / mib:>9.0f} MiB {r['ratio']:>5.2f}x")
                if way == "direct":
                    worst = max(worst, r["ratio"])
    print("(near 0: the weights stay memory-mapped from a file already in the target dtype; "
          "its pages are the kernel's page cache, not a copy)")
    print(f"goal: direct <= {GOAL}x the bf16 weights on every checkpoint: "
          f"{'met' if worst <= GOAL else 'NOT met'} (worst {worst:.2f}x)")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
