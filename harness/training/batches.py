"""Training data plumbing: the seeded held-out split, encoding, and the batch plan.

The batch plan is a pure function of (number of pairs, lengths, batch size, seed, epochs): a
resumed or multi-process run replays exactly the batches a single uninterrupted run sees.
Batches are length-grouped (as transformers' ``group_by_length``): pairs are shuffled, cut into
mega-batches of 16 batches, sorted by length inside each, then the batch order is shuffled. This
removes most padding without making the order depend on anything but the seed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from harness.config import Config, ConfigError
from harness.data.schema import PreferencePair
from harness.seeding import rng_for

MEGABATCH = 16


@dataclass(frozen=True)
class EncodedPair:
    chosen: list[int]
    rejected: list[int]
    is_tie: bool
    truncated: bool

    @property
    def length(self) -> int:
        return max(len(self.chosen), len(self.rejected))


def split_heldout(pairs: list[PreferencePair], size: int, seed: int
                  ) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """(train, heldout): a fixed, seeded sample of ``size`` pairs that is never trained on.

    Pairs sharing a prompt stay on the same side, so no held-out prompt is seen in training.
    """
    if size <= 0:
        return list(pairs), []
    prompts = sorted({p.prompt_text for p in pairs})
    rng_for(seed, "heldout").shuffle(prompts)
    held: set[str] = set()
    count = 0
    by_prompt: dict[str, int] = {}
    for p in pairs:
        by_prompt[p.prompt_text] = by_prompt.get(p.prompt_text, 0) + 1
    for prompt in prompts:
        if count >= size:
            break
        held.add(prompt)
        count += by_prompt[prompt]
    if count >= len(pairs):
        raise ValueError(f"held-out size {size} leaves no training pairs out of {len(pairs)}")
    train = [p for p in pairs if p.prompt_text not in held]
    heldout = [p for p in pairs if p.prompt_text in held]
    return train, heldout


def encode_pairs(tokenizer, pairs: list[PreferencePair], max_length: int, form: str = "bt"
                 ) -> list[EncodedPair]:
    """Token ids of each pair's two inputs, with the scorer's encoding: ``bt`` (prompt, chosen)
    and (prompt, rejected); ``pairpm`` (prompt, [chosen, rejected]) and (prompt, [rejected,
    chosen]), so every pair is trained in both orders."""
    from harness.scoring.encoding import PairedResponses, encode_many

    if form == "pairpm":
        first = [PairedResponses(p.chosen, p.rejected) for p in pairs]
        second = [PairedResponses(p.rejected, p.chosen) for p in pairs]
    else:
        first, second = [p.chosen for p in pairs], [p.rejected for p in pairs]
    prompts = [p.prompt for p in pairs]
    out = encode_many(tokenizer, prompts + prompts, first + second, max_length)
    n = len(pairs)
    return [EncodedPair(a, b, pair.is_tie, cut_a or cut_b)
            for pair, (a, cut_a), (b, cut_b) in zip(pairs, out[:n], out[n:], strict=True)]


def steps_for(pairs: int, batch_size: int, epochs: float) -> int:
    """Optimizer steps that ``epochs`` passes over ``pairs`` pairs take."""
    return math.ceil(epochs * math.ceil(pairs / batch_size))


def _epoch_batches(lengths: list[int], batch_size: int, seed: int) -> Iterator[list[int]]:
    """Length-grouped batches, epoch after epoch, each epoch shuffled by (seed, epoch)."""
    n = len(lengths)
    for epoch in itertools.count():
        rng = rng_for(seed, "batches", epoch)
        order = list(range(n))
        rng.shuffle(order)
        batches: list[list[int]] = []
        step = batch_size * MEGABATCH
        for start in range(0, n, step):
            mega = sorted(order[start:start + step], key=lambda i: -lengths[i])
            batches.extend(mega[i:i + batch_size] for i in range(0, len(mega), batch_size))
        rng.shuffle(batches)
        yield from batches


def batch_plan(lengths: list[int], batch_size: int, epochs: float, seed: int,
               min_batch: int = 1, steps: int | None = None) -> list[list[int]]:
    """Index batches for the whole run (all epochs); fractional epochs cut the last one short.

    ``steps`` (a compute-matched budget) replaces ``epochs``: the plan runs as many epochs as
    it takes and holds exactly that many batches. A batch smaller than ``min_batch`` (the
    number of processes) is merged into the batch before it (the first one, into the batch
    after it) so that every process gets at least one pair of every batch; only then is a
    steps budget counted, so merging never shortens it. Batch sizes, and so where merging
    happens, depend on the number of pairs, not on their lengths (``merges_batches``).
    """
    n = len(lengths)
    if n == 0:
        raise ValueError("no training pairs")
    if n < min_batch:
        raise ValueError(f"{n} training pairs cannot be shared by {min_batch} processes")
    raw = _epoch_batches(lengths, batch_size, seed)
    if steps is None:
        raw = itertools.islice(raw, steps_for(n, batch_size, epochs))
    merged: list[list[int]] = []
    pending: list[int] = []
    for batch in raw:
        batch, pending = pending + batch, []
        if len(batch) < min_batch:
            if merged:
                merged[-1] = merged[-1] + batch
            else:
                pending = batch
            continue
        merged.append(batch)
        if steps is not None and len(merged) == steps:
            break
    if pending:  # an epochs budget ending on a pending small batch: it joins the last one
        merged[-1] = merged[-1] + pending
    return merged


def merges_batches(pairs: int, batch_size: int, epochs: float, seed: int, processes: int,
                   steps: int | None = None) -> bool:
    """Does ``processes`` change the plan (a batch smaller than it was merged)? Then a run is
    not the single-process run, and a trained model's identity says so."""
    if processes <= 1:
        return False
    dummy = [0] * pairs
    return ([len(b) for b in batch_plan(dummy, batch_size, epochs, seed, 1, steps)]
            != [len(b) for b in batch_plan(dummy, batch_size, epochs, seed, processes, steps)])


def training_split(config: Config, limit: int | None = None
          ) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """(train, heldout) of ``data.train``: the seeded split, then ``train.max_pairs``; the
    trainer, the checks before a run and ``--plan`` all take it from here."""
    from harness.data.loaders import load_pairs

    pairs = load_pairs(config.data.train, limit=limit)
    try:
        train, heldout = split_heldout(pairs, config.data.heldout_size, config.seed)
    except ValueError as err:
        raise ConfigError(f"data.heldout_size: {err} in {config.data.train}; set a smaller "
                          "data.heldout_size (0 holds nothing out)") from None
    if config.train.max_pairs is not None:
        train = train[: config.train.max_pairs]
    return train, heldout
