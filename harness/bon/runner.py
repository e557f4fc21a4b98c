"""The best-of-N pipeline (``harness bon``, and ``harness run``'s best-of-N step): prompts ->
shared pool -> every RM's scores -> each suite's evaluation -> the result, per-item records and
plots.

What runs is a ``BonJob``: the config (every knob, ``config.bon`` first), the suites and the RMs.
Order of work: every suite's pool is completed first (the policy is loaded at most once, and
not at all when the pools are complete), then each RM is loaded in turn and scores every suite's
pool through the cached scorer, then each suite evaluates the picks (the safety suite judges the
union of all RMs' picks once). The result's shape is described in ``harness.bon.report``.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bon.errors import BonError
from harness.bon.judges import Judge, check_judge, load_judge
from harness.bon.metrics import n_grid
from harness.bon.policies import GenParams, Policy, load_policy
from harness.bon.pool import SamplePool, promptset_hash
from harness.bon.report import Result, rows_of, suite_plots
from harness.bon.suites import BON_SUITES, BonSuite, SuiteState, get_suite
from harness.config import BonConfig, Config
from harness.data.schema import PromptItem
from harness.distributed import main_first
from harness.io import sha256_of, write_json, write_jsonl
from harness.seeding import derive_seed


@dataclass(frozen=True)
class BonJob:
    """One best-of-N run: ``config`` holds every setting; ``suites`` and ``models`` say what to
    run (from ``harness bon --suite/--models``, or ``eval.suites`` and the run's RMs)."""

    config: Config
    suites: tuple[BonSuite, ...]
    models: tuple[str, ...]

    @classmethod
    def of(cls, config: Config, suites: list[str], models: list[str]) -> BonJob:
        """Checked: known suites (did-you-mean otherwise), at least one RM, none twice (the
        settings' ranges are ``harness.validate.check_numbers``'s)."""
        if not suites:
            raise BonError("no best-of-N suite given")
        if not models:
            raise BonError("no reward models given (--models A,B)")
        if len(set(models)) != len(models):
            raise BonError(f"a reward model is listed twice: {models}")
        return cls(config, tuple(get_suite(s) for s in dict.fromkeys(suites)), tuple(models))

    @classmethod
    def of_run(cls, config: Config, models: list[str]) -> BonJob | None:
        """``harness run``'s job: the best-of-N suites ``eval.suites`` names, every RM of the
        run once; None when it names none."""
        suites = [s for s in config.eval.suites if s in BON_SUITES]
        if not suites:
            return None
        return cls.of(config, suites, list(dict.fromkeys(models)))  # an RM listed twice: once

    @property
    def bon(self) -> BonConfig:
        return self.config.bon

    @property
    def limit(self) -> int | None:
        return self.bon.limit or None  # 0 = every usable prompt

    @property
    def params(self) -> GenParams:
        """The sampling settings (part of every pool's key)."""
        return GenParams(self.bon.temperature, self.bon.top_p, self.bon.max_new_tokens)

    def source(self, suite: BonSuite) -> str:
        return suite.source(self.config)

    def record(self) -> dict[str, Any]:
        """Every setting the result depends on (stored with it; its hash keys ``harness run``'s
        best-of-N step)."""
        from harness.scoring.reward_model import rm_options

        return {**dataclasses.asdict(self.bon), "suites": [s.name for s in self.suites],
                "models": list(self.models), "seed": self.config.seed,
                "data": {s.name: self.source(s) for s in self.suites},
                "rm": {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v
                       for k, v in rm_options(self.config).items()},
                "params": self.params.key()}

    def key(self) -> str:
        return sha256_of(self.record())[:12]


# --- prompts ---------------------------------------------------------------------------------

def load_prompts(suite: BonSuite, source: str) -> list[PromptItem]:
    """The suite's usable items from ``source``."""
    from harness.data import load_items

    items = load_items(source)
    if not items or not isinstance(items[0], PromptItem):
        raise BonError(f"{suite.name}: {source} holds preference pairs, not prompts")
    items = [i for i in items if suite.usable(i)]
    if not items:
        raise BonError(f"{suite.name}: no usable prompts in {source}")
    return items


def limit_items(items: list[PromptItem], limit: int | None, seed: int, suite: BonSuite
                ) -> list[PromptItem]:
    """A seeded, stratified subset in dataset order. The suite's strata (harmful x adversarial
    for safety) are taken round-robin, each in a seeded order, so they stay balanced and a
    larger limit only adds prompts (the smaller subset is its prefix)."""
    if limit is None or limit >= len(items):
        return list(items)
    strata: dict[tuple, list[int]] = {}
    for k, item in enumerate(items):
        strata.setdefault(suite.stratum(item), []).append(k)
    queues = [sorted(ks, key=lambda k: derive_seed(seed, "bon-limit", suite.name, items[k].id))
              for _, ks in sorted(strata.items())]
    chosen: list[int] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return [items[k] for k in sorted(chosen)]


# --- models ----------------------------------------------------------------------------------

def default_rm_loader(config: Config) -> Callable[[str], Any]:
    """RMs by name, loaded as ``harness eval`` loads them (``rm_options``): ``dpo:POLICY`` takes
    its reference from ``eval.dpo_ref`` unless named ``dpo:POLICY@REF``."""
    def load(name: str):
        from harness.scoring.reward_model import load_reward_model, rm_options

        return load_reward_model(name, **rm_options(config))
    return load


def scorer_of(rm: Any) -> Any:
    """Real RMs go through the cached, length-sorted ``Scorer``; anything else with a ``score``
    method (test doubles) is used as it is."""
    from harness.scoring.reward_model import RewardModel

    if isinstance(rm, RewardModel):
        from harness.scoring.scorer import Scorer

        return Scorer(rm)
    return rm


# --- the run ---------------------------------------------------------------------------------

def build_pools(job: BonJob, policy_loader: Callable[[], Policy],
                progress: Callable[[str, int], Callable[[int], None]] | None = None
                ) -> dict[str, SuiteState]:
    """Load, limit and complete every suite's pool; the policy loads only if something is
    missing, and once for all suites."""
    from harness.models.backbones import cache_dir

    loaded: list[Policy] = []

    def policy() -> Policy:
        if not loaded:
            loaded.append(policy_loader())
        return loaded[0]

    states: dict[str, SuiteState] = {}
    for suite in job.suites:
        source = job.source(suite)
        everything = load_prompts(suite, source)
        promptset = promptset_hash([(i.id, suite.prompt(i)) for i in everything])
        items = limit_items(everything, job.limit, job.config.seed, suite)
        texts = {i.id: suite.prompt(i) for i in items}
        if len(texts) != len(items):
            raise BonError(f"{suite.name}: prompt ids repeat in {source}")
        pool = SamplePool(cache_dir() / "pools", job.bon.policy, promptset, job.config.seed,
                          job.params)
        rows = list(texts.items())
        todo = len(pool.missing(rows, job.bon.n_max))
        advance = progress(suite.name, todo) if progress and todo else None
        pool.ensure(rows, job.bon.n_max, policy, batch_size=job.bon.batch_size,
                    progress=advance)
        states[suite.name] = SuiteState(items, texts, pool, job.bon.n_max)
    loaded.clear()
    gc.collect()
    return states


def score_pools(job: BonJob, states: dict[str, SuiteState],
                rm_loader: Callable[[str], Any]) -> dict[str, dict[str, str]]:
    """Every RM scores every sample of every suite (one RM in memory at a time); returns each
    RM's name, fingerprint and form."""
    n_max = job.bon.n_max
    identities: dict[str, dict[str, str]] = {}
    for model in job.models:
        rm = rm_loader(model)
        form = str(getattr(rm, "form", "bt"))
        identities[model] = {"name": str(getattr(rm, "name", model)),
                             "fingerprint": str(getattr(rm, "fingerprint", "")), "form": form}
        scorer = scorer_of(rm)  # one per RM: one cache connection
        score = scorer.score_texts if scorer is not rm else rm.score
        for state in states.values():
            ids = [i.id for i in state.items]
            if form == "pairpm":  # a preference matrix per prompt
                matrices = scorer.preference_matrices([state.texts[pid] for pid in ids],
                                                      [state.samples(pid) for pid in ids])
                state.scores[model] = dict(zip(ids, matrices, strict=True))
                continue
            prompts = [state.texts[pid] for pid in ids for _ in range(n_max)]
            responses = [t for pid in ids for t in state.samples(pid)]
            flat = list(score(prompts, responses))
            state.scores[model] = {pid: flat[k * n_max:(k + 1) * n_max]
                                   for k, pid in enumerate(ids)}
        del rm, score, scorer
        gc.collect()
    return identities


def run_bon(job: BonJob, out: str | Path, *,
            rm_loader: Callable[[str], Any] | None = None,
            policy_loader: Callable[[], Policy] | None = None,
            judge_loader: Callable[[], Judge] | None = None,
            progress: Callable[[str, int], Callable[[int], None]] | None = None) -> Result:
    """Run the job's suites, write ``metrics.json`` (the result), ``<suite>_items.jsonl`` and
    the PNG curves under ``out``; return the result. The loaders default to the registered
    policy, RMs and judge; tests swap in doubles."""
    if judge_loader is None and any(s.judged for s in job.suites):
        check_judge(job.bon.judge)  # before minutes of sampling, not after
    out = Path(out)
    ns = n_grid(job.bon.n_max)
    # In several processes the main rank samples; the others then find the pools complete.
    states = main_first(lambda: build_pools(job, policy_loader or (lambda: load_policy(
        job.bon.policy, batch_size=job.bon.batch_size)), progress))
    identities = score_pools(job, states, rm_loader or default_rm_loader(job.config))
    judges: list[Judge] = []

    def judge() -> Judge:
        if not judges:
            judges.append(judge_loader() if judge_loader else load_judge(job.bon.judge))
        return judges[0]

    result: Result = {"settings": job.record(), "ns": ns, "rms": identities, "pools": {},
                      "suites": {}}
    for suite in job.suites:
        state = states[suite.name]
        evaluation = suite.evaluate(state, job.models, ns, job.config, judge)
        result["suites"][suite.name] = {"info": evaluation.info, "models": evaluation.curves}
        result["pools"][suite.name] = {"path": str(state.pool.path),
                                       "prompts": len(state.items),
                                       "samples_per_prompt": job.bon.n_max, **state.pool.stats}
        write_jsonl(out / f"{suite.name}_items.jsonl", evaluation.records)
    rows = rows_of(result)
    result["plots"] = [name for suite in job.suites
                       for name in suite_plots(suite, rows[suite.name], out).values()]
    write_json(out / "metrics.json", result)
    return result


@contextmanager
def sampling_progress(enabled: bool) -> Iterator[Callable[[str, int], Callable[[int], None]]
                                                 | None]:
    """A progress bar per suite while samples are generated (None when disabled): the
    ``progress`` argument of ``run_bon``."""
    if not enabled:
        yield None
        return
    from harness.progress import progress_bar

    with progress_bar() as bar:
        def start(suite: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(f"sampling {suite}", total=total)
            return lambda n: bar.advance(task, n)
        yield start
