"""One progress-bar style for every long step (scoring, training, sampling, augmenting).

A description, the bar, done/total, any extra columns, then the time left. Bars draw only on a
terminal: in logs and CI a bar would leave a blank line per refresh, so it is disabled there.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_bar(label: str = "{task.description}", *extra: ProgressColumn,
                 elapsed: bool = False, console: Console | None = None,
                 **options: Any) -> Progress:
    """A rich ``Progress``; ``elapsed`` shows time spent instead of time left."""
    console = console or Console(stderr=True)
    options.setdefault("transient", True)
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), *extra,
                    TimeElapsedColumn() if elapsed else TimeRemainingColumn(),
                    console=console, disable=not console.is_terminal, **options)
