"""The package layers point one way and no module imports itself back.

The import graph is built statically (``ast``) over ``lpm_verify``, ``theorems`` and ``experiments``: every
``import`` (including those inside functions) and every dynamic import, ``importlib.import_module("...")``
or ``__import__("...")``, with a literal name (an f-string counts by its literal prefix, e.g.
``f"theorems.{name}"`` imports the package ``theorems``).  The layers, lowest first (DESIGN.md):

* **core** -- ``lpm_verify`` minus the app: its top-level modules and ``lpm_verify.solvers.*``;
* **experiments** -- ``experiments.*`` (data, training, store, analysis);
* **checks** -- ``theorems.*`` (every registered check: paper results and experiment claims alike);
* **app** -- ``lpm_verify.cli``, ``lpm_verify.__main__``, ``lpm_verify.commands.*``, ``lpm_verify.report.*``.

The rule: a module imports only modules of its own layer or of a lower one; a check module ``theorems.X``
never imports another check module -- what checks share lives lower down or in a fixtures module
``theorems._*`` (which registers no check); and a core module makes no dynamic import whose name is not a
literal (the graph could not see where it points), except the third-party names of :data:`DYNAMIC_ALLOWED`.
Test modules (``test_*``, ``conftest``) are tests, outside the layers.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterable, Mapping

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lpm_verify", "theorems", "experiments")
APP = ("lpm_verify.cli", "lpm_verify.__main__", "lpm_verify.commands", "lpm_verify.report")
#: Layers, lowest first: a module may import its own layer and the layers before it.
LAYERS = ("core", "experiments", "checks", "app")
#: Marker target of a dynamic import whose name the graph cannot read (not a literal string).
UNKNOWN = "<non-literal dynamic import>"
#: Core modules allowed a non-literal dynamic import, with why the name cannot be a project module.
DYNAMIC_ALLOWED = {
    "lpm_verify.solvers.base": "imports the third-party solver packages (mosek, clarabel, scs) named in its own "
                               "table of conic solvers, to see whether they are installed",
}

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
        if isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            literal = _literal_name(node.args[0]) if node.args else None
            if literal is None:
                out.add(UNKNOWN)
                continue
            targets = [literal]
        elif isinstance(node, ast.Import):
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


def _is_dynamic_import(func: ast.expr) -> bool:
    """``importlib.import_module``, ``import_module`` (imported from importlib) or ``__import__``."""
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in ("import_module", "__import__")


def _literal_name(arg: ast.expr) -> str | None:
    """The module a dynamic import names: a string literal, or an f-string's literal prefix up to its last
    dot (``f"theorems.{name}"`` -> ``theorems``); None when no literal part names a module."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        prefix = str(arg.values[0].value).rpartition(".")[0]
        return prefix or None
    return None


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
    if module.startswith("experiments"):
        return "experiments"
    if module.startswith("theorems"):
        return "checks"
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
            if dst == UNKNOWN:
                if layer(src) == "core" and src not in DYNAMIC_ALLOWED:
                    out.append(f"core module {src} makes a dynamic import whose name is not a literal")
                continue
            ls, ld = layer(src), layer(dst)
            if LAYERS.index(ld) > LAYERS.index(ls):
                out.append(f"{ls} module {src} imports {ld} module {dst}")
            elif src.startswith("theorems.") and dst.startswith("theorems.") and not is_fixture(dst):
                out.append(f"{src} imports the check module {dst} (share it through a fixtures module theorems._*)")
    return out


# -- the project -----------------------------------------------------------------------------
def test_the_graph_sees_function_level_and_package_imports() -> None:
    graph = import_graph()
    assert "lpm_verify.registry" in graph["theorems.definition1_etf"]
    assert "lpm_verify.solvers.nonconvex" in graph["theorems.lemma7_nuclear_norm"]  # imported inside a function
    assert "lpm_verify.geometry" in graph["theorems._etf"]                           # ``from lpm_verify import geometry``


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_layers_point_down() -> None:
    assert violations(import_graph()) == []


def test_the_graph_sees_dynamic_imports() -> None:
    graph = import_graph()
    assert "theorems" in graph["lpm_verify.commands.registry"]   # importlib.import_module(f"theorems.{name}")
    assert "lpm_verify.commands" in graph["lpm_verify.cli"]      # importlib.import_module(f"lpm_verify.commands.{name}")
    assert UNKNOWN in graph["lpm_verify.solvers.base"]           # a third-party name from a table (allowed)


def test_a_core_module_importing_theorems_dynamically_fails_the_rule(tmp_path) -> None:
    """Negative control: what ``claims.load_all`` used to do, in a synthetic core module."""
    (tmp_path / "loader.py").write_text(
        "import importlib\n"
        "def load():\n"
        "    importlib.import_module('theorems.theorem1_balanced_ce')\n"
        "    __import__('experiments.store')\n"
        "def load_any(package):\n"
        "    return importlib.import_module(package)\n")
    known = set(project_modules())
    graph = {"lpm_verify.loader": imports_of("lpm_verify.loader", tmp_path / "loader.py", known)}
    assert graph["lpm_verify.loader"] == {"theorems.theorem1_balanced_ce", "experiments.store", UNKNOWN}
    assert sorted(violations(graph)) == [
        "core module lpm_verify.loader imports checks module theorems.theorem1_balanced_ce",
        "core module lpm_verify.loader imports experiments module experiments.store",
        "core module lpm_verify.loader makes a dynamic import whose name is not a literal",
    ]


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
    ("lpm_verify.registry", "theorems.theorem1_balanced_ce", "core module"),
    ("lpm_verify.solvers.sdp", "lpm_verify.report.build", "core module"),
    ("lpm_verify.records", "experiments.store", "core module"),
    ("experiments.runner", "lpm_verify.commands.train", "experiments module"),
    ("experiments.claims_data", "theorems.figure4_minority_collapse_networks", "experiments module"),
    ("theorems.figure4_minority_collapse_networks", "lpm_verify.report.build", "checks module"),
    ("theorems.lemma5_limit_problem", "theorems.lemma6_limit_bound", "share it through"),
])
def test_a_wrong_way_import_is_reported(src: str, dst: str, message: str) -> None:
    (violation,) = violations({src: {dst}})
    assert message in violation


def test_allowed_imports_are_not_reported() -> None:
    graph = {"lpm_verify.report.build": {"theorems.lemma1_sdp_relaxation", "lpm_verify.records"},
             "theorems.lemma7_nuclear_norm": {"theorems._nuclear", "lpm_verify.solvers.sdp"},
             "experiments.trainer": {"lpm_verify.losses"},
             "theorems.figure4_minority_collapse_networks": {"experiments.claims_data", "lpm_verify.registry"},
             "lpm_verify.commands.registry": {"theorems", "lpm_verify.registry"}}
    assert violations(graph) == []
