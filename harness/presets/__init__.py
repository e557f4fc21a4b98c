"""Presets: TOML files of config values shipped with the package, chosen with ``--preset NAME``.

Load order: defaults <- preset <- ``--config`` file <- ``--set`` (and each command's own flags
last). A preset holds settings only, in the same layout as a ``--config`` file; relative data
paths in it are relative to where the command runs (the repository root for the shared data).
"""

from __future__ import annotations

from pathlib import Path

PRESETS_DIR = Path(__file__).parent


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def preset_path(name: str) -> Path | None:
    """The file of preset ``name``; None when there is none (``Config.load`` says which exist)."""
    path = PRESETS_DIR / f"{name}.toml"
    return path if path.is_file() else None
