"""One process at a time per output folder (a ``harness run`` folder, a ``harness train --out``).

``hold(folder)`` takes an exclusive ``flock`` on ``folder/.lock`` without waiting: a second
process refuses at once with ``LockHeld``, whose message names the holder (pid, host, start time
and command, written into the lock file by the holder). The kernel drops a ``flock`` when its
process dies, however it dies, so a lock left by a killed run is never stale: the next process
takes it over and says so. The lock file stays in place (deleting a lock file others may have
open is what makes lock files race). Under a multi-process launch (``accelerate launch``,
``torchrun``: ``WORLD_SIZE`` > 1) every rank runs the same command: rank 0 holds the lock for
the launch, the other ranks work under it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

LOCK_FILE = ".lock"


class LockHeld(RuntimeError):
    """Another live process works in this folder; the message names it."""


def _holder_text(info: dict) -> str:
    if not info:
        return "another process"
    return (f"pid {info.get('pid')} on {info.get('host')} since {info.get('started')} "
            f"({info.get('command')})")


def _read(handle) -> dict:
    handle.seek(0)
    try:
        return json.loads(handle.read() or "{}")
    except json.JSONDecodeError:  # being written this instant, or garbage
        return {}


@contextmanager
def hold(folder: str | Path, what: str = "folder") -> Iterator[dict]:
    """Hold the folder's lock for the block; yields the previous holder's record when that
    holder died without releasing it (empty otherwise). The folder must exist."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and int(os.environ.get("RANK", "0")) != 0:
        yield {}  # rank 0 of this launch holds it
        return
    path = Path(folder) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    handle = os.fdopen(fd, "r+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"{folder} is in use by {_holder_text(_read(handle))}: wait for it to "
                           f"finish, or use another {what}") from None
        previous = _read(handle)
        stale = previous if previous.get("state") == "held" else {}
        record = {"state": "held", "pid": os.getpid(), "host": socket.gethostname(),
                  "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "command": " ".join(["python -m harness", *sys.argv[1:]])}
        _write(handle, record)
        try:
            yield stale
        finally:
            _write(handle, {**record, "state": "released"})
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def _write(handle, record: dict) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(record) + "\n")
    handle.flush()
