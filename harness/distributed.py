"""Scoring in several processes: ``accelerate launch -m harness eval ...`` (or ``torchrun``).

What this owns: whether this process is one of several (the launcher's ``WORLD_SIZE``), its
rank and device, splitting the texts still to score, and gathering what every rank scored so
that every rank ends with all the scores. The scorer calls ``share_work``; everything after
scoring (metrics, statistics, boards) is computed from the gathered scores, so it is the same
in every process and the same as in one process (float32 scores do not depend on the batch:
``tests/test_scoring.py``). Only the main process writes outputs (``is_main``).

Training has its own path (``accelerate``'s prepared DDP model, ``harness.training``); this
module only shards independent forward passes, which need no gradient synchronisation.
"""

from __future__ import annotations

import atexit
import functools
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
WAIT_HOURS = 24  # how long a rank waits for the others at a barrier or a gather


def world_size() -> int:
    """Processes started by the launcher (1 when started without one)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


@functools.lru_cache(maxsize=1)
def _state() -> Any:
    """accelerate's process state: it joins the process group (gloo on CPU, nccl on GPU) and
    picks this rank's device. Made once, and only when several processes run."""
    from datetime import timedelta

    from accelerate import PartialState

    # The other ranks wait at a barrier while the main one samples best-of-N pools, which can
    # take hours at scale; torch's default timeout (30 min on gloo, less on nccl) would end them.
    state = PartialState(cpu=not _cuda(), timeout=timedelta(hours=WAIT_HOURS))
    atexit.register(_leave)
    return state


def _leave() -> None:
    """Leave the process group before the interpreter exits: a gloo group still alive at exit
    can abort the process ("terminate called without an active exception", exit -6)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def rank() -> int:
    return _state().process_index if world_size() > 1 else 0


def is_main() -> bool:
    """Whether this process writes outputs (always, when it is the only one)."""
    return rank() == 0


def device() -> Any | None:
    """This rank's device when several processes share the GPUs; None: the default device."""
    return _state().device if world_size() > 1 else None


def default_device() -> Any:
    """Where a model goes by default: this rank's device when launched in several processes,
    else the GPU when there is one, else the CPU (every model loader reads it)."""
    import torch

    return device() or torch.device("cuda" if torch.cuda.is_available() else "cpu")


def share_work(items: Sequence[T], work: Callable[[list[T]], list[Any]]) -> list[Any]:
    """``work(items)`` with the items split across processes: rank r does items r, r+W, ...
    (interleaved, so ranks get similar lengths when the items are sorted), and every rank gets
    every result, in the order of ``items``. In one process it is just ``work(items)``.

    ``work`` must return one result per item it is given.
    """
    world = world_size()
    if world == 1:
        return work(list(items))
    import torch.distributed as dist

    me = rank()
    mine = work(list(items[me::world]))
    if len(mine) != len(items[me::world]):
        raise RuntimeError("share_work: work returned a result count unlike its items")
    gathered: list[list[Any] | None] = [None] * world
    dist.all_gather_object(gathered, mine)
    results: list[Any] = [None] * len(items)
    for r, part in enumerate(gathered):
        assert part is not None
        results[r::world] = part
    return results


def from_main(value: T) -> T:
    """The main process's ``value`` on every process (each passes its own; only rank 0's is
    kept), for decisions that must be the same everywhere, like which texts to score."""
    if world_size() == 1:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def wait_for_everyone() -> None:
    """A barrier: no rank goes on before every rank got here."""
    if world_size() > 1:
        _state().wait_for_everyone()


def main_first(work: Callable[[], T]) -> T:
    """``work()`` on the main process first, then on the others: for work that leaves its
    result on disk (best-of-N sample pools), so the other ranks find it done instead of
    repeating it. Needs a disk the ranks share (one machine, or a shared cache folder)."""
    if world_size() == 1:
        return work()
    if is_main():
        result = work()
        wait_for_everyone()
        return result
    wait_for_everyone()
    return work()


def outputs_on_main(command: Callable[[Any], int], args: Any) -> int:
    """Run a command whose ``args.out`` is its output folder: the main process as given; the
    other ranks, which do the same work on the gathered scores, write into a scratch folder
    that is thrown away and print nothing."""
    if is_main():
        return command(args)
    import contextlib
    import io
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()):
        args.out = str(Path(scratch) / "out")
        return command(args)
