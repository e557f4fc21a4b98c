"""No module of the project's packages imports, at module level, a module that imports it back
(directly or through others). Cycles make import order matter and hide layering mistakes; an
import inside a function is a deliberate late binding and is not counted.

The graph is read with ``ast`` from the source (nothing is imported): ``import a.b`` and
``from a.b import c`` at module level (inside ``if``/``try`` blocks too, but not under
``if TYPE_CHECKING``) are edges to ``a.b``, or to ``a.b.c`` when that is a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGES = ("harness", "crome", "transforms", "baselines", "leaderboards")


def module_files(root: Path = REPO) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of ``PACKAGES``."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run when the module is imported (not function or class bodies'
    deferred code, nor ``if TYPE_CHECKING`` blocks)."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" in ast.unparse(node.test):
                out += _module_level(node.orelse)
                continue
            out += _module_level(node.body) + _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            out += _module_level(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                out += _module_level(handler.body)
        elif isinstance(node, ast.With):
            out += _module_level(node.body)
        else:
            out.append(node)
    return out


def imports_of(name: str, path: Path, modules: dict[str, Path], *,
               anywhere: bool = False) -> set[str]:
    """The project modules ``name`` imports at module level (``anywhere``: in functions and
    ``TYPE_CHECKING`` blocks too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree) if anywhere else _module_level(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in modules else base)
    return {m for m in found if m in modules and m != name}


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each as a sorted
    list of its modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_cycles_and_only_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []


def test_the_graph_reads_module_level_imports_only(tmp_path):
    pkg = tmp_path / "harness"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from harness import b\nimport harness.c\n"
                              "from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from harness import d\n"
                              "def f():\n    from harness import d\n")
    (pkg / "b.py").write_text("from . import a\n")
    for name in ("c", "d"):
        (pkg / f"{name}.py").write_text("")
    modules = {k: v for k, v in module_files(tmp_path).items()}
    graph = import_graph(modules)
    assert graph["harness.a"] == {"harness.b", "harness.c"}
    assert graph["harness.b"] == {"harness.a"}
    assert cycles(graph) == [["harness.a", "harness.b"]]


def test_no_module_imports_a_module_that_imports_it_back():
    found = cycles(import_graph(module_files()))
    assert not found, "import cycles (module-level imports):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_no_module_imports_a_module_that_imports_it_back_even_late():
    """#20: no module imports a module that imports it back, counting imports inside functions
    (a late import hides a layering mistake as well as an early one does)."""
    modules = module_files()
    graph = {name: imports_of(name, path, modules, anywhere=True)
             for name, path in modules.items()}
    mutual = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph[b]})
    assert mutual == [], mutual
