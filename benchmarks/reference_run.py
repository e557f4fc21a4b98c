"""The reference run on real data, published under ``leaderboards/reference/`` (not CI).

Trains Vanilla, RRM and Crome (``rules`` oracle: offline, approximate) on the sethtye
UltraFeedback sample (the first ``--max-pairs`` training pairs after the seeded held-out split,
to fit a CPU session) with the default backbone and mode, evaluates every RM with the shared
scorer on all 2,985 RewardBench pairs (rewardbench, diagnostics), on a stratified sample of them
under every rule-based transform (reword; 28 transforms cost 28 scorings of each pair), on the
held-out split, and best-of-N on CPU-sized subsets of WildGuardTest and GSM8K; then copies the
run's leaderboard into ``leaderboards/reference/`` with the exact command that made it.

Usage: python -m benchmarks.reference_run [--runs-dir runs] [--reword-limit 100]
          [--max-pairs 400] [--bon-limit 12] [--n-max 4] [--form bt] [--dry-run]
Rerunning resumes (the run store skips finished steps and the scorer reuses cached scores).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.common import RB_FILE, REPO, shared

UF = "ultrafeedback/sethtye-ultrafeedback_2k/ultrafeedback_2k.jsonl"
WILDGUARD = "wildguardtest/wildguardtest.jsonl"
GSM8K = "gsm8k/test.jsonl"
ALL_SUITES = "preference,rewardbench,reword,diagnostics,wildguard_bon,gsm8k_bon"


def here(path: Path) -> str:
    """A path as the command is run from the repository root (relative where it can be), so
    the published command carries no machine's folders."""
    return os.path.relpath(path, REPO)


def command(args: argparse.Namespace) -> list[str]:
    return [sys.executable, "-m", "harness", "run", "--models", "vanilla,rrm,crome",
            "--name", args.name, "--runs-dir", args.runs_dir, "--form", args.form,
            "--mode", args.mode,
            "--data", here(shared(UF)), "--no-progress",
            "--set", f"train.budget={args.budget}",
            "--set", f"data.rewardbench={here(shared(RB_FILE))}",
            "--set", f"data.wildguard={here(shared(WILDGUARD))}",
            "--set", f"data.gsm8k={here(shared(GSM8K))}",
            "--set", f"eval.suites={args.suites}",
            "--set", f"eval.reword_limit={args.reword_limit}",
            "--set", f"train.max_pairs={args.max_pairs}",
            "--set", f"bon.limit={args.bon_limit}", "--set", f"bon.n_max={args.n_max}",
            "--set", "bon.max_new_tokens=128", "--set", "bon.temperature=0.8"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", default="runs", help="relative to the repository root")
    parser.add_argument("--budget", default="steps", choices=["steps", "epochs"],
                        help="train.budget: steps (compute-matched, the default here) or epochs")
    parser.add_argument("--name", default="reference")
    parser.add_argument("--form", default="bt")
    parser.add_argument("--mode", default="full",
                        help="training mode (the published board was made with full fine-tuning)")
    parser.add_argument("--reword-limit", type=int, default=100)
    parser.add_argument("--max-pairs", type=int, default=400,
                        help="training pairs per method (CPU budget; identical for all)")
    parser.add_argument("--bon-limit", type=int, default=12)
    parser.add_argument("--n-max", type=int, default=4)
    parser.add_argument("--suites", default=ALL_SUITES,
                        help="eval.suites (a busy 2-core session may leave out reword and the "
                             "best-of-N suites, which cost most of the time)")
    parser.add_argument("--dry-run", action="store_true", help="print the command only")
    args = parser.parse_args()
    argv = command(args)
    shown = "python " + " ".join(shlex.quote(a) for a in argv[1:])
    print(shown, flush=True)
    if args.dry_run:
        return
    subprocess.run(argv, cwd=REPO, check=True)
    board = REPO / args.runs_dir / args.name / "leaderboard"
    target = REPO / "leaderboards" / "reference"
    about = target / "ABOUT.md"  # the hand-written reading of the board: kept, to be re-read
    kept = about.read_text() if about.exists() else None
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(board, target)
    if kept is not None:
        about.write_text(kept)
    (target / "COMMAND.md").write_text(
        "# How this leaderboard was made\n\n```bash\npython -m benchmarks.reference_run "
        + " ".join(shlex.quote(a) for a in sys.argv[1:])
        + f"\n```\n\nwhich ran:\n\n```bash\n{shown}\n```\n")
    print(f"published {target}")


if __name__ == "__main__":
    main()
