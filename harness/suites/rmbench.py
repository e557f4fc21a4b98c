"""Suite ``rmbench``: RM-Bench's style-bias accuracies (Liu et al., ICLR 2025).

Each prompt has chosen answers c_0, c_1, c_2 and rejected answers r_0, r_1, r_2, where index k
is the same style on both sides: 0 = concise, 1 = detailed plain text, 2 = detailed markdown
(RM-Bench's order, from less to more styled). Every one of the 9 (c_i, r_j) is scored as a pair
(``Scorer.score_pairs``: a BT RM compares two rewards, a PairPM sees both answers, in both
orders), correct when chosen strictly wins (a tie counts as wrong, as in RM-Bench's ``>``).

RM-Bench's 3x3 matrix has rows = chosen style i, columns = rejected style j, and
* hard   = i < j, above the diagonal: the chosen answer is *less* styled than the rejected one,
  so an RM that rewards length or markdown fails here;
* normal = i = j, the diagonal;
* easy   = i > j, below the diagonal: style and correctness point the same way.
Each is the mean of its three cells, per domain (chat, code, math, safety; RM-Bench's
safety-refuse and safety-response are one domain); the headline easy / normal / hard is the
unweighted mean over the domains present, and ``average`` the mean of the three (= the mean of
all nine cells). This is RM-Bench's ``compute_accuracy`` per domain, averaged over domains.

CIs: percentile bootstrap over prompts (a prompt's three cells move together), weighted for the
domain averages so that each domain counts equally, as in the point estimate.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.data.rmbench import DOMAINS, STYLES, load_rmbench
from harness.data.schema import PreferencePair, StyledItem
from harness.figures import save_figure
from harness.io import write_jsonl
from harness.stats import accuracy_with_ci
from harness.suites.base import (
    SUITES,
    EvalContext,
    Suite,
    pair_outcomes,
    positional_consistency,
    stratified_sample,
)

CELLS = [(i, j) for i in range(len(STYLES)) for j in range(len(STYLES))]
DIFFICULTIES = ("easy", "normal", "hard")
PLOT = "rmbench_matrix.png"


def difficulty(i: int, j: int) -> str:
    """easy: chosen more styled than rejected (i > j); normal: same style; hard: less styled."""
    return "easy" if i > j else "normal" if i == j else "hard"


def prompt_scores(cells: list[list[int]]) -> dict[str, float]:
    """One prompt's easy / normal / hard / average: the mean of its 0/1 cells of each kind."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i, j in CELLS:
        by_kind[difficulty(i, j)].append(cells[i][j])
    scores = {k: sum(v) / len(v) for k, v in by_kind.items()}
    scores["average"] = sum(scores[k] for k in DIFFICULTIES) / len(DIFFICULTIES)
    return scores


def _matrix(cells: list[list[list[int]]]) -> list[list[float]]:
    n = len(cells)
    return [[sum(c[i][j] for c in cells) / n for j in range(len(STYLES))]
            for i in range(len(STYLES))]


def summarise(domains: list[str], cells: list[list[list[int]]], seed: int) -> dict[str, Any]:
    """Per-domain and domain-averaged accuracies with bootstrap CIs, and the 3x3 matrices, from
    per-prompt 0/1 outcomes ``cells[p][i][j]`` (chosen style i vs rejected style j)."""
    per_prompt = [prompt_scores(c) for c in cells]
    present = [d for d in DOMAINS if d in domains] + sorted(set(domains) - set(DOMAINS))
    size = {d: domains.count(d) for d in present}
    out_domains = {}
    for d in present:
        idx = [p for p, dom in enumerate(domains) if dom == d]
        out_domains[d] = {k: accuracy_with_ci([per_prompt[p][k] for p in idx], seed=seed)
                          for k in (*DIFFICULTIES, "average")}
        out_domains[d]["matrix"] = _matrix([cells[p] for p in idx])
        out_domains[d]["n"] = len(idx)
    # each prompt weighs 1 / (its domain's size x domains): the weighted mean is the mean of
    # the domain means, and the bootstrap resamples prompts with those weights
    weights = [1 / (size[d] * len(present)) for d in domains]
    result: dict[str, Any] = {k: accuracy_with_ci([s[k] for s in per_prompt], weights=weights,
                                                  seed=seed)
                              for k in (*DIFFICULTIES, "average")}
    result["matrix"] = [[sum(out_domains[d]["matrix"][i][j] for d in present) / len(present)
                         for j in range(len(STYLES))] for i in range(len(STYLES))]
    result.update(domains=out_domains, styles=list(STYLES), n=len(cells),
                  comparisons=len(cells) * len(CELLS))
    return result


def comparison_pairs(items: list[StyledItem]) -> list[PreferencePair]:
    """The 9 (chosen style i, rejected style j) pairs of every item, item by item, row-major."""
    return [PreferencePair(it.prompt, it.chosen[i], it.rejected[j], it.subset,
                           f"{it.key}/{i}{j}") for it in items for i, j in CELLS]


def run(ctx: EvalContext) -> dict[str, Any]:
    source = SUITE.source(ctx)
    items = stratified_sample(load_rmbench(source), ctx.limit, ctx.config.seed)
    pairs = comparison_pairs(items)
    chosen, rejected, stats = ctx.scorer.score_pairs(pairs)
    correct, ties = pair_outcomes(chosen, rejected)
    consistent = stats.get("consistent") or [None] * len(pairs)
    records = []
    for n, (pair, (i, j)) in enumerate(zip(pairs, CELLS * len(items), strict=True)):
        item = items[n // len(CELLS)]
        records.append({"key": pair.id, "prompt_key": item.key, "domain": item.domain,
                        "subset": item.subset, "chosen_style": STYLES[i],
                        "rejected_style": STYLES[j], "difficulty": difficulty(i, j),
                        "chosen_score": chosen[n], "rejected_score": rejected[n],
                        "correct": correct[n], "tie": ties[n],
                        **({} if consistent[n] is None else {"consistent": consistent[n]})})
    write_jsonl(ctx.out_dir / "rmbench_items.jsonl", records)
    cells = [[[correct[p * len(CELLS) + i * len(STYLES) + j] for j in range(len(STYLES))]
              for i in range(len(STYLES))] for p in range(len(items))]
    result = summarise([it.domain for it in items], cells, ctx.config.seed)
    matrix_plot(result, ctx.out_dir / PLOT, ctx.rm.name)
    return {**result, **positional_consistency(stats, ctx.config.seed), "ties": sum(ties),
            "truncated": stats["truncated"], "data": source, "plot": PLOT}


def matrix_plot(result: dict[str, Any], path: str | Path, title: str) -> Path:
    """The 3x3 accuracy matrix (rows chosen style, columns rejected style; hard above the
    diagonal) for each domain and for their mean, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(f"{d} (n={m['n']})", m["matrix"]) for d, m in result["domains"].items()]
    panels.append(("domain mean", result["matrix"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.1 * len(panels), 3.4), squeeze=False)
    short = ["concise", "detailed", "markdown"]
    for ax, (name, matrix) in zip(axes[0], panels, strict=True):
        ax.imshow(matrix, vmin=0, vmax=1, cmap="RdYlGn")
        for i in range(len(STYLES)):
            for j in range(len(STYLES)):
                ax.text(j, i, f"{100 * matrix[i][j]:.0f}", ha="center", va="center", fontsize=9)
        ax.set_xticks(range(len(STYLES)), short, fontsize=7)
        ax.set_yticks(range(len(STYLES)), short, fontsize=7)
        ax.set_xlabel("rejected style", fontsize=8)
        ax.set_title(name, fontsize=9)
    axes[0][0].set_ylabel("chosen style", fontsize=8)
    fig.suptitle(f"RM-Bench accuracy (%), {title}: hard above the diagonal, easy below",
                 fontsize=9)
    return save_figure(fig, path)


SUITE = Suite("rmbench", "RM-Bench easy/normal/hard accuracy per domain (style bias)", run,
              "data.rmbench")
SUITES.add(SUITE.name, SUITE)
