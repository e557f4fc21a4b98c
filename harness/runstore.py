"""The run store: ``runs/<name>/`` holds everything one ``harness run`` made.

- ``run_card.json``: command line, full config and its hash, package versions, data hashes,
  seeds, oracle and judge, and what was approximate (in words);
- ``steps/<step>.json``: one marker per finished step (with its result), written last and
  atomically, so a step whose marker exists is never redone and a killed step is redone whole;
- one folder per step's outputs (``train/<method>/``, ``eval/<model>/``, ``bon/``).

Rerunning the same name resumes: finished steps are skipped, unfinished ones start again (the
trainer itself resumes from its last checkpoint). A rerun with a different config hash is refused
rather than mixing results.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.config import Config
from harness.io import file_sha256, write_json

PACKAGES = ("crome-bench", "torch", "transformers", "accelerate", "peft", "datasets",
            "google-genai", "nlpaug", "lm-eval", "numpy", "pandas")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def source_hash(source: str) -> str:
    """Content hash of a data source: a file's bytes; embedded data by file; Hub ids by name."""
    from harness.data.loaders import embedded_path

    if source.startswith("embedded:"):
        return file_sha256(embedded_path(source.split(":", 1)[1]))[:16]
    path = Path(source)
    return file_sha256(path)[:16] if path.is_file() else f"hub:{source}"


class RunStore:
    def __init__(self, root: str | Path, config: Config):
        self.root = Path(root)
        self.config = config
        self.card_path = self.root / "run_card.json"

    def open(self, argv: list[str], extra: dict[str, Any] | None = None) -> None:
        """Create the run folder and card, or check an existing one has the same config."""
        if self.card_path.exists():
            card = json.loads(self.card_path.read_text())
            if card["config_hash"] != self.config.hash():
                raise FileExistsError(
                    f"{self.root} was made with config {card['config_hash']}, not "
                    f"{self.config.hash()}: use another --name or the same settings")
            return
        data = {name: getattr(self.config.data, name) for name in
                ("train", "rewardbench", "wildguard", "gsm8k")}
        write_json(self.card_path, {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(["python -m harness", *argv]),
            "config_hash": self.config.hash(),
            "config": self.config.to_dict(),
            "seed": self.config.seed,
            "data": {k: {"source": v, "sha256": source_hash(v)} for k, v in data.items()},
            "versions": package_versions(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            **(extra or {}),
        })

    def card(self) -> dict[str, Any]:
        return json.loads(self.card_path.read_text())

    def update_card(self, **fields: Any) -> None:
        card = self.card()
        for key, value in fields.items():
            if isinstance(value, list) and isinstance(card.get(key), list):
                card[key] = card[key] + [v for v in value if v not in card[key]]
            else:
                card[key] = value
        write_json(self.card_path, card)

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def _marker(self, step: str) -> Path:
        return self.root / "steps" / f"{step.replace('/', '__')}.json"

    def done(self, step: str) -> dict[str, Any] | None:
        marker = self._marker(step)
        return json.loads(marker.read_text()) if marker.exists() else None

    def step(self, step: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run ``work`` unless ``step`` is already done; record and return its result."""
        result = self.done(step)
        if result is not None:
            return result
        result = work()
        write_json(self._marker(step), result)
        return result
