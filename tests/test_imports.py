"""The package's layering: no import cycles in runform/, and entry points only at the top.

Every import is read from the source (module level and inside functions alike: a lazy import is
still a dependency, and one that hides a cycle), relative or absolute, and resolved to a module
of the package: ``from .x import name`` is an edge to ``x.name`` when that is a submodule, else
to ``x``. Importing a submodule runs its parent package's ``__init__`` too, but that is Python's
doing, not a dependency the code states, so it is not an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "runform"

#: Entry points: they may import anything in the package, and only other entry points may import
#: them. Everything else forms layers below them, with no cycle anywhere.
TOP_LAYER = {
    "runform": "the package root, a lazy facade (analyze, load_keypoints) for users",
    "runform.__main__": "python -m runform",
    "runform.api": "the Python API that runs the whole pipeline",
    "runform.cli": "the command line (and its submodules)",
    "runform.web": "the web app (and its submodules)",
    "runform.batch": "many analyses and their overview (and its submodules)",
    "runform.assess.examples": "checks the documented examples by running analyze",
    "runform.io.c3d_reference": "scores analyze's contacts against a C3D's own plates and events",
}


def in_top_layer(mod: str) -> bool:
    return any(mod == t or (t != "runform" and mod.startswith(t + ".")) for t in TOP_LAYER)


def modules(root: Path) -> dict[str, Path]:
    pkg = root.name
    out = {}
    for p in sorted(root.rglob("*.py")):
        parts = [pkg, *p.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the package modules it imports (anywhere in its source)."""
    mods = modules(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        here = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                while t and t not in mods:  # `import runform.io.trc` names a module; `x.y` may be an attribute
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as one cycle path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(_path(graph, set(comp)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _path(graph: dict[str, set[str]], comp: set[str]) -> list[str]:
    """One concrete cycle inside a component, for a message a person can act on."""
    start = min(comp)
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & comp):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, v, start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return sorted(comp)


@pytest.fixture(scope="module")
def graph():
    return import_graph(ROOT)


def test_scanner_sees_module_and_function_level_imports(graph):
    assert "runform.io.readers" in graph["runform.api"]  # module level, relative
    assert "runform.io" in graph["runform.report"]  # inside saved_views()
    assert "runform.io.forces" in graph["runform.io.mocap"]
    assert len(graph) > 80


def test_no_import_cycles(graph):
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_entry_points_are_imported_only_by_entry_points(graph):
    bad = sorted(f"{a} -> {b}" for a, deps in graph.items() if not in_top_layer(a)
                 for b in deps if in_top_layer(b))
    assert not bad, "modules below the entry points import them:\n" + "\n".join(bad)


def test_the_check_fails_on_a_cycle(tmp_path):
    """A lazy (function-level) import that closes a loop is found, with its path."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("import pkg.c\n")
    (pkg / "c.py").write_text("def f():\n    from . import a\n    return a\n")
    (pkg / "d.py").write_text("from .a import something\n")
    g = import_graph(pkg)
    assert g["pkg.a"] == {"pkg.sub.b"} and g["pkg.d"] == {"pkg.a"}
    assert cycles(g) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]
    (pkg / "c.py").write_text("X = 1\n")
    assert cycles(import_graph(pkg)) == []
