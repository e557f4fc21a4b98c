"""The run store: ``runs/<name>/`` holds everything one ``harness run`` made.

- ``run_card.json``: command line, full config and its hash, package versions, data hashes,
  seeds, oracle and judge, and what was approximate (in words);
- ``steps/<step>.json``: one marker per finished step (with its result), written last and
  atomically, so a step whose marker exists is never redone and a killed step is redone whole;
- one folder per step's outputs (``train/<method>/``, ``eval/<model>/``, ``bon/``).

Rerunning the same name resumes: finished steps are skipped, unfinished ones start again (the
trainer itself resumes from its last checkpoint). The run's identity is its config, the content
hash of every data source it reads (training, RewardBench, best-of-N prompts) and the versions of
the packages that compute results (``CODE_PACKAGES``); a rerun that differs in any of them is
refused with ``RunConflict``, naming what changed, rather than mixing old and new results
(``harness run --new-run`` starts a fresh run under the next free name instead). Settings added
to the config after a run was made count as unchanged while they keep their default.
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

from harness.config import OPERATIONAL, Config
from harness.io import file_sha256, write_json

PACKAGES = ("crome-bench", "torch", "transformers", "accelerate", "peft", "datasets",
            "google-genai", "nlpaug", "lm-eval", "numpy", "pandas")
# Packages whose version can change a trained model or a score: part of the run's identity.
CODE_PACKAGES = ("crome-bench", "torch", "transformers", "accelerate", "peft")
DATA_KEYS = ("train", "rewardbench", "wildguard", "gsm8k")


class RunConflict(ValueError):
    """The run folder holds another run (other settings, data or code); the message says what
    differs."""


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


def config_differences(then: dict[str, Any], now: dict[str, Any], prefix: str = ""
                       ) -> list[tuple[str, Any, Any]]:
    """(key, old, new) for every setting that differs; a setting the old config lacks (added
    later) differs only when it is not at its default."""
    defaults = Config().to_dict()
    out = []
    for key, value in now.items():
        default = _get(defaults, prefix + key)
        if isinstance(value, dict):
            out += config_differences(then.get(key, {}) if isinstance(then, dict) else {},
                                      value, f"{prefix}{key}.")
        elif key not in then:
            if value != default:
                out.append((prefix + key, "(not a setting then)", value))
        elif then[key] != value:
            out.append((prefix + key, then[key], value))
    return out


def _get(tree: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        tree = tree.get(part, {}) if isinstance(tree, dict) else {}
    return tree


class RunStore:
    def __init__(self, root: str | Path, config: Config):
        self.root = Path(root)
        self.config = config
        self.card_path = self.root / "run_card.json"

    def data_hashes(self) -> dict[str, dict[str, str]]:
        return {key: {"source": (source := getattr(self.config.data, key)),
                      "sha256": source_hash(source)} for key in DATA_KEYS}

    def differences(self, card: dict[str, Any],
                    data: dict[str, dict[str, str]] | None = None) -> list[str]:
        """What makes this run differ from the one ``card`` records, one line each."""
        lines = [f"setting {key}: {old!r} then, {new!r} now" for key, old, new in
                 config_differences(card.get("config", {}), self.config.to_dict())
                 if key not in OPERATIONAL]
        for key, now in (data or self.data_hashes()).items():
            then = card.get("data", {}).get(key)
            if then and then != now:
                what = ("content changed" if then["source"] == now["source"]
                        else f"{then['source']} then, {now['source']} now")
                lines.append(f"data.{key} ({now['source']}): {what} "
                             f"(sha256 {then['sha256']} -> {now['sha256']})")
        versions = package_versions()
        for name in CODE_PACKAGES:
            then = card.get("versions", {}).get(name)
            if name in card.get("versions", {}) and then != versions[name]:
                lines.append(f"package {name}: {then} then, {versions[name]} now")
        return lines

    def conflict(self) -> list[str]:
        """Empty when the folder is new or holds this same run; else what differs."""
        if not self.card_path.exists():
            return []
        return self.differences(self.card())

    def open(self, argv: list[str], extra: dict[str, Any] | None = None) -> None:
        """Create the run folder and card, or check that an existing one is this same run
        (config, data contents, code versions); ``RunConflict`` says what differs."""
        data = self.data_hashes()
        if self.card_path.exists():
            differences = self.differences(self.card(), data)
            if differences:
                raise RunConflict(
                    f"{self.root} holds another run; resuming it would mix results:\n  "
                    + "\n  ".join(differences)
                    + "\nuse another --name, or --new-run to start a new run beside it")
            return
        self.root.mkdir(parents=True, exist_ok=True)
        write_json(self.card_path, {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(["python -m harness", *argv]),
            "config_hash": self.config.hash(),
            "config": self.config.to_dict(),
            "seed": self.config.seed,
            "data": data,
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
