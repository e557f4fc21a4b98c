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


def preset_path(name: str) -> Path:
    """The file of preset ``name``; ``ConfigError`` naming the known presets otherwise."""
    from harness.config import ConfigError

    path = PRESETS_DIR / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r} (known: {', '.join(preset_names())})")
    return path
