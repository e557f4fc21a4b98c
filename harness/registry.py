"""One generic registry for every extension point (transforms, models, oracles, judges, ...).

Built-ins register with a decorator; third-party packages add theirs through an entry-point
group (``crome_bench.<kind>``), loaded lazily the first time the registry is read; a plugin that
fails to import is skipped with a warning naming it. Unknown names get a "did you mean" error,
and two registrations under one name are refused.
"""

from __future__ import annotations

import difflib
import threading
import types
import warnings
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """An unknown or duplicate name; the message says which and suggests close matches."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    """Name -> object map with decorator registration and entry-point discovery.

    ``kind`` names what is registered (used in messages); ``group`` is the entry-point group
    third-party packages publish under. Each entry point may resolve to the object itself or to
    a module whose import registers objects through the decorator.
    """

    def __init__(self, kind: str, group: str | None = None):
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._plugins_loaded = group is None
        self._lock = threading.RLock()

    def register(self, name: str | None = None, *, origin: str = "builtin") -> Callable[[T], T]:
        """Decorator: ``@REGISTRY.register("name")``; the default name is the object's ``name``."""

        def decorate(obj: T) -> T:
            key = name or getattr(obj, "name", None) or getattr(obj, "__name__", None)
            if not key:
                raise RegistryError(f"cannot register a {self.kind} without a name")
            self.add(key, obj, origin=origin)
            return obj

        return decorate

    def add(self, name: str, obj: T, *, origin: str = "builtin") -> None:
        with self._lock:
            if name in self._items and self._items[name] is not obj:
                raise RegistryError(
                    f"{self.kind} {name!r} is already registered (by {self._origins[name]}); "
                    "choose another name"
                )
            self._items[name] = obj
            self._origins[name] = origin

    def _load_plugins(self) -> None:
        with self._lock:
            if self._plugins_loaded:
                return
            self._plugins_loaded = True
            for ep in entry_points(group=self.group):
                try:
                    loaded = ep.load()
                except RegistryError:  # a name clash is the plugin author's to fix: refused
                    raise
                except Exception as err:  # a broken plugin must not take the others down
                    warnings.warn(f"skipped {self.kind} plugin {ep.name!r} ({ep.value}): "
                                  f"{type(err).__name__}: {err}", RuntimeWarning, stacklevel=2)
                    continue
                # An entry point may name a module (importing it ran its decorators) or the
                # object itself, registered under the entry point's name.
                if not isinstance(loaded, types.ModuleType):
                    self.add(ep.name, loaded, origin=f"plugin {ep.value}")

    def get(self, name: str) -> T:
        self._load_plugins()
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._items), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._items))})"
            ) from None

    def origin(self, name: str) -> str:
        self.get(name)
        return self._origins[name]

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self._load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
