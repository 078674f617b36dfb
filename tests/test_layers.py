"""The package layers point one way and no module imports itself back (issue 9, item 10).

The import graph is built statically (``ast``, every ``import`` including those inside functions)
over ``lpm_verify``, ``theorems`` and ``experiments``:

* **core** — ``lpm_verify`` and its top-level modules, and ``lpm_verify.solvers.*``;
* **results** — ``theorems.*`` and ``experiments.*``;
* **app** — ``lpm_verify.cli``, ``lpm_verify.__main__``, ``lpm_verify.commands.*``, ``lpm_verify.report.*``.

Core imports neither results nor app; results never import app; a result module ``theorems.X`` never
imports another result module — what results share lives in the core or in a fixtures module
``theorems._*`` (which registers no check and imports no result module).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterable, Mapping

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lpm_verify", "theorems", "experiments")
APP = ("lpm_verify.cli", "lpm_verify.__main__", "lpm_verify.commands", "lpm_verify.report")

Graph = Mapping[str, set[str]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every module of the layered packages; test modules (``test_*``, ``conftest``) are tests, outside the layers."""
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
            if not p.name.startswith(("test_", "conftest"))}


def imports_of(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """Project modules that ``path`` (module ``name``) imports anywhere in its body."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name`` imports mod
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # ``import a.b.c`` of a non-module attribute path
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> str:
    if module.startswith(("theorems", "experiments")):
        return "results"
    if any(module == a or module.startswith(a + ".") for a in APP):
        return "app"
    return "core"


def is_fixture(module: str) -> bool:
    return module.startswith("theorems._")


def violations(graph: Graph) -> list[str]:
    """Every import that points the wrong way (see the module docstring)."""
    out = []
    for src, targets in sorted(graph.items()):
        for dst in sorted(targets):
            ls, ld = layer(src), layer(dst)
            if ls == "core" and ld != "core":
                out.append(f"core module {src} imports {ld} module {dst}")
            elif ls == "results" and ld == "app":
                out.append(f"result module {src} imports app module {dst}")
            elif src.startswith("theorems.") and dst.startswith("theorems.") and not is_fixture(dst):
                out.append(f"{src} imports the result module {dst} (share it through a fixtures module theorems._*)")
    return out


# -- the project -----------------------------------------------------------------------------
def test_the_graph_sees_function_level_and_package_imports() -> None:
    graph = import_graph()
    assert "lpm_verify.claims" in graph["theorems.definition1_etf"]
    assert "lpm_verify.solvers.nonconvex" in graph["theorems.lemma7_nuclear_norm"]  # imported inside a function
    assert "lpm_verify.geometry" in graph["theorems._etf"]                           # ``from lpm_verify import geometry``


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_layers_point_down() -> None:
    assert violations(import_graph()) == []


def test_fixtures_modules_register_no_check() -> None:
    for name, path in project_modules().items():
        if is_fixture(name):
            assert "@check(" not in path.read_text(), f"{name} registers a check"


# -- negative controls -----------------------------------------------------------------------
def test_a_cycle_is_detected() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("src, dst, message", [
    ("lpm_verify.claims", "theorems.theorem1_balanced_ce", "core module"),
    ("lpm_verify.solvers.sdp", "lpm_verify.report.build", "core module"),
    ("experiments.runner", "lpm_verify.commands.train", "result module"),
    ("theorems.lemma5_limit_problem", "theorems.lemma6_limit_bound", "share it through"),
])
def test_a_wrong_way_import_is_reported(src: str, dst: str, message: str) -> None:
    (violation,) = violations({src: {dst}})
    assert message in violation


def test_allowed_imports_are_not_reported() -> None:
    graph = {"lpm_verify.report.build": {"theorems.lemma1_sdp_relaxation", "lpm_verify.claims"},
             "theorems.lemma7_nuclear_norm": {"theorems._nuclear", "lpm_verify.solvers.sdp"},
             "experiments.trainer": {"lpm_verify.losses"}}
    assert violations(graph) == []
