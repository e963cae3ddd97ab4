"""The separation package's house: imports go only downward between its sub-packages, and no two of its
modules import each other (directly or round a longer circle), at module level or inside a function.

Read from the sources with ``ast`` (nothing is imported), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mine2magnet.separation as separation

PACKAGE = "mine2magnet.separation"
ROOT = Path(separation.__file__).resolve().parent

#: The rank of each sub-package, lowest first; a module may import its own rank or lower ones only.
#: Modules directly in the package (its ``__init__``, ``plot``) are the top.
RANK = {"contract": 0, "equilibrium": 1, "solvers": 2, "cascade_design": 3}
TOP = max(RANK.values()) + 1
#: Inside the solvers: steady state first, then the batch engine and the dynamics built on it.
SOLVER_RANK = {"steady": 0, "batch": 1, "dynamics": 1}


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (packages by their ``__init__``)."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join((PACKAGE, *parts))] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The longest prefix of ``name`` that is a module of the package (an imported symbol's module)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts = parts[:-1]
    return None


def _imports(module: str) -> set[str]:
    """The package modules ``module`` imports, at any depth of its code (relative imports resolved)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # 'from pkg import name' imports the module pkg.name when there is one, else pkg itself
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                target = _resolve(name)
                if target is not None and target != module:
                    found.add(target)
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def _rank(module: str) -> tuple[int, int]:
    """(sub-package rank, rank inside the solvers) of a module."""
    parts = module[len(PACKAGE) + 1 :].split(".") if module != PACKAGE else []
    if len(parts) < 2 or parts[0] not in RANK:  # the package itself, plot, or a sub-package's __init__
        if parts and parts[0] in RANK:
            return RANK[parts[0]], 0
        return TOP, 0
    inner = SOLVER_RANK[parts[1]] if parts[0] == "solvers" else 0
    return RANK[parts[0]], inner


def test_every_module_sits_in_a_ranked_layer():
    """A new sub-package must be given a rank here (and a new solver module its place among the solvers)."""
    for module in MODULES:
        parts = module[len(PACKAGE) + 1 :].split(".") if module != PACKAGE else []
        if len(parts) >= 2:
            assert parts[0] in RANK, f"{module}: sub-package {parts[0]!r} has no rank in this test"
            if parts[0] == "solvers":
                assert parts[1] in SOLVER_RANK, f"{module}: no rank among the solvers"


def test_the_walk_sees_the_known_imports():
    """The checker itself: it finds imports the package is known to make (module level, lazy and by name)."""
    steady = f"{PACKAGE}.solvers.steady"
    assert f"{PACKAGE}.contract.spec" in GRAPH[f"{steady}.simulate"]
    assert f"{PACKAGE}.equilibrium.extractants" in GRAPH[f"{steady}.simulate"]  # imported inside a function
    assert f"{PACKAGE}.cascade_design.design" in GRAPH[PACKAGE]
    assert f"{PACKAGE}.cascade_design.design" in GRAPH[f"{PACKAGE}.cascade_design.cache"]  # lazily


def test_imports_go_only_downward():
    upward = [
        f"{a} (rank {_rank(a)}) imports {b} (rank {_rank(b)})"
        for a, targets in GRAPH.items()
        for b in sorted(targets)
        if _rank(b) > _rank(a)
    ]
    assert upward == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    group.append(x)
                    if x == v:
                        break
                if len(group) > 1:
                    out.append(sorted(group))
    return out


def test_the_circle_finder_finds_circles():
    """The checker itself, on a made-up graph with a three-module circle and a two-module one."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"}}
    assert sorted(_circles(graph)) == [["a", "b", "c"], ["e", "f"]]


def test_no_import_circle_among_the_modules():
    assert _circles(GRAPH) == []
