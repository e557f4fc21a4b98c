"""Publish a leaderboard: read run folders, write ``README.md`` and PNGs into one folder.

A run folder holds ``results.json`` (written by ``harness run``): the run card's essentials and
one entry per RM (name, kind, method, form, config hash, approximate notes, metrics).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.io import atomic_write_text, slug
from leaderboards import render
from leaderboards.bon import bon_plots, bon_section
from leaderboards.paired import paired_section
from leaderboards.plots import drop_plot


def read_results(run_dirs: list[str | Path]) -> tuple[list[dict[str, Any]], list[dict]]:
    entries, runs = [], []
    for run_dir in run_dirs:
        path = Path(run_dir) / "results.json"
        if not path.exists():
            raise FileNotFoundError(f"{path}: not a finished run (no results.json)")
        data = json.loads(path.read_text())
        runs.append(data)
        multi = len(run_dirs) > 1
        for entry in data["entries"]:
            # Per-item records live in the entry's eval folder (derived, not stored, so a moved
            # run folder still finds them); paired comparisons read them from there.
            entries.append({**entry, "name": f"{data['run']}/{entry['name']}" if multi
                            else entry["name"],
                            "eval_dir": str(Path(run_dir) / "eval" / slug(entry["name"]))})
    return entries, runs


def build_markdown(entries: list[dict[str, Any]], runs: list[dict], images: dict[str, str]
                   ) -> str:
    parts = ["# crome-bench leaderboard", ""]
    for run in runs:
        parts += [f"Run `{run['run']}`, config `{run['config_hash']}`, made by:", "",
                  f"```\n{run['command']}\n```", ""]
    parts += [render.settings_line(entries), ""]
    approximate = sorted({note for e in entries for note in e.get("approximate", [])})
    if approximate:
        parts += ["† approximate: " + "; ".join(approximate), ""]
    if render.trained_entries(entries):
        parts += ["## Training", "", render.budget_line(entries), "",
                  render.training_table(entries), ""]
    if any(e["metrics"].get("preference") for e in entries):
        parts += ["## Preference accuracy", "", render.data_line(entries, "preference"), "",
                  render.preference_table(entries), ""]
    if any(e["metrics"].get("rewardbench") for e in entries):
        parts += ["## RewardBench", "", "Section scores weighted as reward-bench does; Average is "
                  "the unweighted mean of the sections. [95% bootstrap CI]", "",
                  render.rewardbench_table(entries), ""]
    if any(e["metrics"].get("reword") for e in entries):
        parts += ["## Transformed RewardBench (reWordBench-style)", "",
                  "Accuracy after each transform (drop from the same pairs unchanged, "
                  "[95% paired CI]); positive drop = worse. Both are taken on the pairs the "
                  "transform changed on both sides; the counts of pairs changed on both sides, "
                  "one side and neither are in the second column.", "",
                  render.reword_table(entries), "", "### Robustness summary", "",
                  render.robustness_table(entries), ""]
        if "drops" in images:
            parts += [f"![accuracy drop per transform]({images['drops']})", ""]
    if any(e["metrics"].get("diagnostics") for e in entries):
        parts += ["## Spurious-cue diagnostics", "",
                  "Length reliance = Spearman(reward margin, length margin) [95% bootstrap CI]: "
                  "1 means the RM ranks pairs by length alone, 0 that length does not predict "
                  "its verdicts. Accuracy on the pairs where the chosen response is the shorter "
                  "/ longer one, and where only one response uses markdown (lists, headers, "
                  "bold) [95% CI] (n).", "", render.diagnostics_table(entries), ""]
    if any(e["metrics"].get("rmbench") for e in entries):
        parts += rmbench_section(entries, images)
    parts += other_suites_section(entries)
    parts += bon_section(entries, images)
    parts += paired_section(entries)
    return "\n".join(parts)


# The suites the board has a section of its own for; any other (a plugin's) gets a generic one.
OWN_SECTIONS = ("preference", "rewardbench", "reword", "diagnostics", "rmbench")


def other_suites_section(entries: list[dict[str, Any]]) -> list[str]:
    """A section per evaluation suite without one of its own above (a plugin suite): its
    description, its data and its top-level numbers (``render.suite_table``)."""
    from harness.suites import SUITES

    parts: list[str] = []
    names = dict.fromkeys(k for e in entries for k in e["metrics"])
    for name in (n for n in names if n in SUITES and n not in OWN_SECTIONS):
        suite = SUITES.get(name)
        recorded = any((e["metrics"].get(name) or {}).get("data") for e in entries)
        data = (render.data_line(entries, name) if recorded else
                f"Data: the run's `{suite.data_key}` (the suite records no source).")
        parts += [f"## {name}", "", f"{suite.description} (suite `{name}`, "
                  f"{SUITES.origin(name)}).", "", data, "", render.suite_table(entries, name), ""]
    return parts


def rmbench_section(entries: list[dict[str, Any]], images: dict[str, str]) -> list[str]:
    """RM-Bench: the style-bias columns, the per-domain table and each RM's 3x3 matrix."""
    parts = ["## RM-Bench (style bias)", "", render.data_line(entries, "rmbench"), "",
             "Every prompt has a chosen and a rejected answer in each of three styles (concise, "
             "detailed plain, detailed markdown) and all 9 (chosen, rejected) style pairs are "
             "compared. Hard: the chosen answer is less styled than the rejected one; Normal: "
             "same style; Easy: more styled. Each is averaged over the domains (RM-Bench's "
             "definition); Average is their mean; the domain columns are each domain's mean of "
             "its 9 comparisons. [95% bootstrap CI over prompts]", "",
             render.rmbench_table(entries), "", render.rmbench_domain_table(entries), ""]
    for e in entries:
        key = f"rmbench:{e['name']}"
        if key in images:
            parts += [f"![RM-Bench matrix, {e['name']}]({images[key]})", ""]
    return parts


def rmbench_plots(entries: list[dict[str, Any]], out: Path) -> dict[str, str]:
    """One 3x3 matrix PNG per RM that ran RM-Bench, redrawn from its metrics."""
    from harness.suites.rmbench import matrix_plot

    images = {}
    for e in entries:
        if e["metrics"].get("rmbench"):
            name = f"rmbench_matrix_{slug(e['name'])}.png"
            matrix_plot(e["metrics"]["rmbench"], out / name, e["name"])
            images[f"rmbench:{e['name']}"] = name
    return images


def publish(run_dirs: list[str | Path], out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries, runs = read_results(run_dirs)
    images = {}
    if drop_plot(entries, out / "reword_drops.png"):
        images["drops"] = "reword_drops.png"
    images.update(bon_plots(entries, out))
    images.update(rmbench_plots(entries, out))
    text = build_markdown(entries, runs, images)
    target = out / "README.md"
    atomic_write_text(target, text)
    return target
