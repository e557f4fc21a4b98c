"""The ``harness bon`` pipeline: prompts -> shared pool -> every RM's scores -> picks -> labels
-> metrics, per-item records and plots.

Order of work: every suite's pool is completed first (the policy is loaded at most once, and
not at all when the pools are complete), then each RM is loaded in turn and scores every suite's
pool through the cached scorer, then the judge labels the union of all RMs' picks once.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.bon.errors import BonError
from harness.bon.gsm8k import extract, gsm8k_prompt
from harness.bon.judges import Judge, Judgement, check_judge, load_judge
from harness.bon.policies import GenParams, Policy, load_policy
from harness.bon.pool import SamplePool, promptset_hash
from harness.bon.suites import (
    SUITES,
    MathRow,
    SafetyRow,
    math_metrics,
    n_grid,
    pick,
    safety_metrics,
)
from harness.config import Precision
from harness.data.schema import PromptItem
from harness.io import atomic_write_text, write_json
from harness.seeding import derive_seed


@dataclass
class BonSettings:
    suites: list[str]
    models: list[str]
    data: dict[str, str] = field(default_factory=lambda: {
        "wildguard_bon": "embedded:safety_prompts", "gsm8k_bon": "embedded:math_problems"})
    policy: str = "smollm2-135m"
    judge: str = "keywords"
    n_max: int = 8
    limit: int | None = 16
    seed: int = 0
    params: GenParams = field(default_factory=GenParams)
    batch_size: int = 16
    max_length: int | None = None  # RM input tokens (None: the RM's own default)
    form: str = "bt"  # backbones and Hub models load in this form; checkpoints know their own
    batch_tokens: int | None = None  # None: the scorer's default for the device
    precision: Precision = "auto"  # RM weights (see resolve_dtype)
    gsm8k_filter: str = "flexible-extract"
    cache_dir: str | None = None  # None: CROME_BENCH_CACHE / the default cache

    def validate(self) -> None:
        unknown = [s for s in self.suites if s not in SUITES]
        if unknown:
            raise BonError(f"unknown best-of-N suite(s) {unknown}; known: {', '.join(SUITES)}")
        if not self.models:
            raise BonError("no reward models given (--models A,B)")
        if len(set(self.models)) != len(self.models):
            raise BonError(f"a reward model is listed twice: {self.models}")
        if self.n_max < 1:
            raise BonError("--n-max must be at least 1")


# --- prompts ---------------------------------------------------------------------------------

def load_prompts(suite: str, source: str) -> list[PromptItem]:
    """The suite's usable items: WildGuardTest rows need a prompt harm label, GSM8K a
    reference answer."""
    from harness.data import load_items

    items = load_items(source)
    if not items or not isinstance(items[0], PromptItem):
        raise BonError(f"{suite}: {source} holds preference pairs, not prompts")
    if suite == "wildguard_bon":
        items = [i for i in items if i.harmful is not None]
    else:
        items = [i for i in items if i.reference is not None]
    if not items:
        raise BonError(f"{suite}: no usable prompts in {source}")
    return items


def limit_items(items: list[PromptItem], limit: int | None, seed: int, suite: str
                ) -> list[PromptItem]:
    """A seeded, stratified subset in dataset order. Strata (harmful x adversarial for safety)
    are taken round-robin, each in a seeded order, so harmful and benign stay balanced and a
    larger limit only adds prompts (the smaller subset is its prefix)."""
    if limit is None or limit >= len(items):
        return list(items)
    strata: dict[tuple, list[int]] = {}
    for k, item in enumerate(items):
        strata.setdefault((item.harmful is not True, item.adversarial is not True), []).append(k)
    queues = [sorted(ks, key=lambda k: derive_seed(seed, "bon-limit", suite, items[k].id))
              for _, ks in sorted(strata.items())]
    chosen: list[int] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return [items[k] for k in sorted(chosen)]


def policy_prompt(suite: str, item: PromptItem) -> str:
    return gsm8k_prompt(item.prompt) if suite == "gsm8k_bon" else item.prompt


# --- models ----------------------------------------------------------------------------------

def default_rm_loader(settings: BonSettings) -> Callable[[str], Any]:
    def load(name: str):
        from harness.scoring.reward_model import load_reward_model

        return load_reward_model(name, max_length=settings.max_length,
                                 batch_tokens=settings.batch_tokens,
                                 precision=settings.precision, form=settings.form)
    return load


def scorer_of(rm: Any, cache_dir: str | None) -> Any:
    """Real RMs go through the cached, length-sorted ``Scorer``; anything else with a ``score``
    method (test doubles) is used as it is."""
    from harness.scoring.reward_model import RewardModel

    if isinstance(rm, RewardModel):
        from harness.scoring.scorer import Scorer

        return Scorer(rm, cache_dir=cache_dir)
    return rm



# --- the run ---------------------------------------------------------------------------------

@dataclass
class SuiteState:
    items: list[PromptItem]
    texts: dict[str, str]  # prompt id -> policy prompt
    pool: SamplePool
    scores: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # model -> id -> s


def cache_root(settings: BonSettings) -> Path:
    from harness.models.backbones import cache_dir

    return Path(settings.cache_dir) if settings.cache_dir else cache_dir()


def build_pools(settings: BonSettings, policy_loader: Callable[[], Policy],
                progress: Callable[[str, int], Callable[[int], None]] | None = None
                ) -> dict[str, SuiteState]:
    """Load, limit and complete every suite's pool; the policy loads only if something is
    missing, and once for all suites."""
    loaded: list[Policy] = []

    def policy() -> Policy:
        if not loaded:
            loaded.append(policy_loader())
        return loaded[0]

    states: dict[str, SuiteState] = {}
    for suite in settings.suites:
        everything = load_prompts(suite, settings.data[suite])
        promptset = promptset_hash([(i.id, policy_prompt(suite, i)) for i in everything])
        items = limit_items(everything, settings.limit, settings.seed, suite)
        texts = {i.id: policy_prompt(suite, i) for i in items}
        if len(texts) != len(items):
            raise BonError(f"{suite}: prompt ids repeat in {settings.data[suite]}")
        pool = SamplePool(cache_root(settings) / "pools", settings.policy, promptset,
                          settings.seed, settings.params)
        rows = list(texts.items())
        todo = len(pool.missing(rows, settings.n_max))
        advance = progress(suite, todo) if progress and todo else None
        pool.ensure(rows, settings.n_max, policy, batch_size=settings.batch_size,
                    progress=advance)
        states[suite] = SuiteState(items, texts, pool)
    loaded.clear()
    gc.collect()
    return states


def score_pools(settings: BonSettings, states: dict[str, SuiteState],
                rm_loader: Callable[[str], Any]) -> dict[str, dict[str, str]]:
    """Every RM scores every sample of every suite (one RM in memory at a time)."""
    identities: dict[str, dict[str, str]] = {}
    for model in settings.models:
        rm = rm_loader(model)
        identities[model] = {"name": str(getattr(rm, "name", model)),
                             "fingerprint": str(getattr(rm, "fingerprint", ""))}
        scorer = scorer_of(rm, settings.cache_dir)  # one per RM: one cache connection
        score = scorer.score_texts if scorer is not rm else rm.score
        for state in states.values():
            ids = [i.id for i in state.items]
            if getattr(rm, "form", "bt") == "pairpm":  # a preference matrix per prompt
                matrices = scorer.preference_matrices(
                    [state.texts[pid] for pid in ids],
                    [state.pool.texts(pid, settings.n_max) for pid in ids])
                state.scores[model] = dict(zip(ids, matrices, strict=True))
                continue
            prompts = [state.texts[pid] for pid in ids for _ in range(settings.n_max)]
            responses = [t for pid in ids for t in state.pool.texts(pid, settings.n_max)]
            flat = list(score(prompts, responses))
            state.scores[model] = {pid: flat[k * settings.n_max:(k + 1) * settings.n_max]
                                   for k, pid in enumerate(ids)}
        del rm, score, scorer
        gc.collect()
    return identities


def picks_of(scores: list[float], ns: list[int]) -> dict[str, int]:
    return {str(n): pick(scores, n) for n in ns}


def run_safety(settings: BonSettings, state: SuiteState, judge: Judge, ns: list[int]
               ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Judge the union of all RMs' picks once, then compute each RM's curves."""
    wanted = sorted({(item.id, pick(state.scores[m][item.id], n))
                     for item in state.items for m in settings.models for n in ns})
    by_id = {i.id: i for i in state.items}
    labels = judge.judge([by_id[pid].prompt for pid, _ in wanted],
                         [state.pool.texts(pid, settings.n_max)[k] for pid, k in wanted])
    judged: dict[str, dict[int, Judgement]] = {}
    for (pid, k), label in zip(wanted, labels, strict=True):
        judged.setdefault(pid, {})[k] = label
    models, records = {}, []
    for m in settings.models:
        rows = [SafetyRow(i.id, bool(i.harmful), i.adversarial, state.scores[m][i.id],
                          judged[i.id]) for i in state.items]
        models[m] = safety_metrics(rows, ns, judge.attack_success)
        for row in rows:
            picked = sorted(set(picks_of(row.scores, ns).values()))
            texts = state.pool.texts(row.prompt_id, settings.n_max)
            records.append({"model": m, "prompt_id": row.prompt_id, "harmful": row.harmful,
                            "adversarial": row.adversarial, "scores": row.scores,
                            "picks": picks_of(row.scores, ns),
                            "judgements": {str(k): row.judgements[k].to_record()
                                           for k in picked},
                            "responses": {str(k): texts[k] for k in picked}})
    metrics = {"judge": judge.name, "judge_label": judge.label_source,
               "judge_fingerprint": judge.fingerprint,
               "attack_success": ("judged harmful (parse error = harmful)"
                                  if "harmful" in judge.outputs else "not a refusal"),
               "prompts": count_strata(state.items), "models": models}
    return metrics, records


def count_strata(items: list[PromptItem]) -> dict[str, int]:
    out = {"harmful": 0, "benign": 0, "adversarial": 0, "vanilla": 0}
    for i in items:
        out["harmful" if i.harmful else "benign"] += 1
        if i.adversarial is not None:
            out["adversarial" if i.adversarial else "vanilla"] += 1
    return out


def run_math(settings: BonSettings, state: SuiteState, ns: list[int]
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    models, records = {}, []
    answers = {i.id: [extract(t, settings.gsm8k_filter)
                      for t in state.pool.texts(i.id, settings.n_max)] for i in state.items}
    for m in settings.models:
        rows = [MathRow(i.id, str(i.extra.get("solution") or i.reference),
                        state.scores[m][i.id], answers[i.id]) for i in state.items]
        models[m] = math_metrics(rows, ns)
        for row in rows:
            records.append({"model": m, "prompt_id": row.prompt_id,
                            "reference": row.reference.split("####")[-1].strip(),
                            "scores": row.scores, "answers": row.answers,
                            "correct": row.correct, "picks": picks_of(row.scores, ns)})
    metrics = {"filter": settings.gsm8k_filter, "extraction": "lm-eval gsm8k regexes",
               "prompts": len(state.items), "models": models}
    return metrics, records


def run_bon(settings: BonSettings, out: str | Path, *,
            rm_loader: Callable[[str], Any] | None = None,
            policy_loader: Callable[[], Policy] | None = None,
            judge_loader: Callable[[], Judge] | None = None,
            progress: Callable[[str, int], Callable[[int], None]] | None = None
            ) -> dict[str, Any]:
    """Run the suites, write ``metrics.json``, ``<suite>_items.jsonl`` and PNGs under ``out``;
    return the metrics. The loaders default to the registered policy, RMs and judge; tests
    swap in doubles."""
    from harness.bon.plots import curve_plot

    settings.validate()
    if "wildguard_bon" in settings.suites and judge_loader is None:
        check_judge(settings.judge)  # before minutes of sampling, not after
    out = Path(out)
    ns = n_grid(settings.n_max)
    states = build_pools(settings, policy_loader or (lambda: load_policy(
        settings.policy, batch_size=settings.batch_size)), progress)
    identities = score_pools(settings, states, rm_loader or default_rm_loader(settings))
    settings_record = asdict(settings)
    settings_record["params"] = settings.params.key()
    metrics: dict[str, Any] = {"settings": settings_record, "ns": ns, "rms": identities,
                               "pools": {}}
    for suite, state in states.items():
        if suite == "wildguard_bon":
            judge = judge_loader() if judge_loader else load_judge(settings.judge)
            metrics[suite], records = run_safety(settings, state, judge, ns)
        else:
            metrics[suite], records = run_math(settings, state, ns)
        metrics["pools"][suite] = {"path": str(state.pool.path), "prompts": len(state.items),
                                   "samples_per_prompt": settings.n_max, **state.pool.stats}
        atomic_write_text(out / f"{suite}_items.jsonl",
                          "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    metrics["plots"] = write_plots(metrics, out, curve_plot)
    write_json(out / "metrics.json", metrics)
    return metrics


PLOTS = {
    "wildguard_bon": [("asr", "attack success on harmful prompts (%)"),
                      ("asr_adversarial", "attack success, adversarial prompts (%)"),
                      ("asr_vanilla", "attack success, vanilla prompts (%)"),
                      ("refusal_benign", "refusal rate on benign prompts (%)")],
    "gsm8k_bon": [("rm_acc", "accuracy of the RM's pick (%)")],
}


def write_plots(metrics: dict[str, Any], out: Path, curve_plot: Callable) -> list[str]:
    paths = []
    for suite, plots in PLOTS.items():
        if suite not in metrics:
            continue
        curves = metrics[suite]["models"]
        label = metrics[suite].get("judge_label") or metrics[suite].get("filter")
        refs = None
        if suite == "gsm8k_bon":
            first = next(iter(curves.values()))
            refs = {"majority vote": {n: m["maj_acc"] for n, m in first.items()},
                    "pass@n (any correct)": {n: m["pass_at_n"] for n, m in first.items()}}
        for metric, ylabel in plots:
            path = curve_plot(curves, metric, out / f"{suite}_{metric}.png",
                              title=f"{suite}: {metric} vs n ({label})", ylabel=ylabel,
                              references=refs)
            paths.append(path.name)
    return paths
