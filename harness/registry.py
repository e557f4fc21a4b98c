"""One generic registry for every extension point (transforms, suites, methods, formats, ...).

The registry owns how extensions are found, and there is one way: each registry reads the
entry points of its group (``crome_bench.<kind>``) the first time it is read. This package's own
built-ins are declared there too (``pyproject.toml``), exactly as a third-party package declares
its plugins. An entry point names a module whose import registers objects (``@REGISTRY.register``,
``REGISTRY.add``), or an object registered under the entry point's name.

Built-ins (entry points of the ``crome-bench`` distribution) load first, so a plugin that reuses
a built-in name is the one refused, and an error in a built-in is raised: it is a bug here. A
plugin that fails to import is skipped with a warning naming it. Unknown names get a "did you
mean" error, and two registrations under one name are refused.
"""

from __future__ import annotations

import difflib
import re
import threading
import types
import warnings
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


def did_you_mean(name: str, known: list[str], cutoff: float = 0.5) -> str:
    """``"; did you mean 'a', 'b'?"`` with the closest known names, or "" when none is close:
    the hint every unknown-name error in the harness ends with."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=cutoff)
    return f"; did you mean {', '.join(map(repr, close))}?" if close else ""

BUILTIN_DISTRIBUTION = "crome-bench"  # entry points of this distribution are the built-ins


def is_builtin(ep: EntryPoint) -> bool:
    """Whether ``ep`` is declared by this package (not by a plugin distribution)."""
    name = getattr(ep.dist, "name", None) or ""
    return re.sub(r"[-_.]+", "-", name).lower() == BUILTIN_DISTRIBUTION


class RegistryError(KeyError):
    """An unknown or duplicate name; the message says which and suggests close matches."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    """Name -> object map with decorator registration and entry-point discovery.

    ``kind`` names what is registered (used in messages); ``group`` is the entry-point group
    the built-ins and third-party packages publish under (None: only what is added by hand).
    """

    def __init__(self, kind: str, group: str | None = None):
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._plugins_loaded = group is None
        self._loading: str | None = None  # origin of the plugin being imported, if any
        self._builtins_declared = group is None
        self._clash: RegistryError | None = None  # a plugin reusing a taken name, re-raised
        self._lock = threading.RLock()

    def register(self, name: str | None = None, *, origin: str | None = None
                 ) -> Callable[[T], T]:
        """Decorator: ``@REGISTRY.register("name")``; the default name is the object's ``name``."""

        def decorate(obj: T) -> T:
            key = name or getattr(obj, "name", None) or getattr(obj, "__name__", None)
            if not key:
                raise RegistryError(f"cannot register a {self.kind} without a name")
            self.add(key, obj, origin=origin)
            return obj

        return decorate

    def add(self, name: str, obj: T, *, origin: str | None = None) -> None:
        """Register ``obj`` as ``name``; ``origin`` defaults to the plugin being loaded (its
        entry point), else ``builtin``."""
        with self._lock:
            origin = origin or self._loading or "builtin"
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
                if self._clash is not None:  # every read says so, not only the first
                    raise self._clash
                return
            self._plugins_loaded = True
            found = list(entry_points(group=self.group))
            builtins = [ep for ep in found if is_builtin(ep)]
            self._builtins_declared = bool(builtins)
            for ep in builtins:  # first, so a plugin reusing a built-in name is the one refused
                self._load(ep, ep.load())
            for ep in found:
                if is_builtin(ep):
                    continue
                self._loading = f"plugin {ep.value}"
                try:
                    loaded = ep.load()
                    self._load(ep, loaded, origin=f"plugin {ep.value}")
                except RegistryError as err:  # a name clash is the plugin author's to fix:
                    self._clash = self._clash or err  # refused, after the others load
                    continue
                except Exception as err:  # a broken plugin must not take the others down
                    warnings.warn(f"skipped {self.kind} plugin {ep.name!r} ({ep.value}): "
                                  f"{type(err).__name__}: {err}", RuntimeWarning, stacklevel=3)
                    continue
                finally:
                    self._loading = None
            if self._clash is not None:
                raise self._clash

    def _load(self, ep: EntryPoint, loaded: object, origin: str | None = None) -> None:
        """An entry point names a module (importing it ran its registrations) or the object
        itself, registered under the entry point's name."""
        if not isinstance(loaded, types.ModuleType):
            self.add(ep.name, loaded, origin=origin)  # type: ignore[arg-type]

    def get(self, name: str) -> T:
        self._load_plugins()
        try:
            return self._items[name]
        except KeyError:
            hint = did_you_mean(name, list(self._items))
            if not self._builtins_declared:
                hint += (f"; no {self.group} entry points of {BUILTIN_DISTRIBUTION} were found: "
                         "install the package (pip install -e .)")
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
