"""The module graph of ``src/paramscope`` has no cycle, imports inside functions included.

Imports under ``if TYPE_CHECKING:`` never run and are left out. A package's implicit import of its parent
``__init__`` is not an edge: only what a module names. ``requires-python`` is what the code needs.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "paramscope"


def modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for n in ast.walk(node))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in known and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def graph_of(known: dict[str, Path]) -> dict[str, set[str]]:
    return {name: imports(name, path, known) for name, path in known.items()}


def test_no_import_cycles() -> None:
    assert cycles(graph_of(modules())) == []


def test_the_check_sees_a_cycle() -> None:
    """The check can fail: a function-level import back into the model is a cycle."""
    known = modules()
    graph = graph_of(known)
    graph["paramscope.render.views"].add("paramscope.anatomy")  # e.g. views importing PRECISIONS from the model
    found = cycles(graph)
    assert len(found) == 1 and {"paramscope.anatomy", "paramscope.render.views"} <= set(found[0])


def test_renderers_depend_on_the_model_only_for_types() -> None:
    known = modules()
    for name, path in known.items():
        if name.startswith(f"{PACKAGE}.render"):
            deps = imports(name, path, known)
            assert not deps & {f"{PACKAGE}.pipeline", f"{PACKAGE}.anatomy", PACKAGE}, name


def test_requires_python_is_true() -> None:
    meta = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))
    floor = meta["project"]["requires-python"]
    assert floor == ">=3.11"  # enum.StrEnum (3.11) is used throughout; tomllib here
    assert sys.version_info >= (3, 11)
    for path in modules().values():
        ast.parse(path.read_text(encoding="utf-8"), str(path), feature_version=(3, 11))


@pytest.mark.parametrize("module", ["paramscope.anatomy", "paramscope.inventory", "paramscope.errors"])
def test_the_model_imports_no_renderer_at_module_level(module: str) -> None:
    known = modules()
    tree = ast.parse(known[module].read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any("render" in ast.unparse(n) or "pipeline" in ast.unparse(n) for n in top)
