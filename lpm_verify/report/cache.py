"""Report results keyed by their inputs, so that a second report only recomputes what changed.

A key is the SHA-256 of everything a result depends on:

* the kind of result and its parameters (a check id; a sweep's K, K_A, E_W, E_H and R grid);
* the source of every module it can execute: the module that defines it and, transitively, every
  module of this repository (``lpm_verify``, ``theorems``, ``experiments``) that module imports,
  found by reading the import statements (:func:`source_closure`), parent packages included;
* the versions of the numeric libraries and of Python.

Editing a theorem module therefore recomputes its checks only; editing ``lpm_verify/problem.py``
recomputes everything that imports it.  ``fresh=True`` ignores what is stored (and overwrites it).
Entries are JSON files written atomically.
"""
from __future__ import annotations

import ast
import hashlib
import json
import platform
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from lpm_verify.io import write_json_atomic

#: Top-level packages of this repository whose sources can change a result.
LOCAL_PACKAGES: tuple[str, ...] = ("lpm_verify", "theorems", "experiments")
#: Distributions whose version can change a number.
NUMERIC_DISTRIBUTIONS: tuple[str, ...] = ("numpy", "scipy", "sympy", "mpmath", "cvxpy", "clarabel", "scs", "mosek", "torch")
REPO_ROOT = Path(__file__).resolve().parents[2]


def module_file(name: str, root: Path = REPO_ROOT) -> Path | None:
    """The source file of local module ``name`` (``a.b`` -> ``a/b.py`` or ``a/b/__init__.py``), or None."""
    if name.split(".", 1)[0] not in LOCAL_PACKAGES:
        return None
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Module names an AST imports, relative imports resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    return names


def source_closure(modules: Iterable[str], root: Path = REPO_ROOT) -> list[Path]:
    """Every local source file that importing ``modules`` can execute (parent packages included)."""
    seen: dict[str, Path] = {}
    stack = list(modules)
    while stack:
        name = stack.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__.py and a/b/__init__.py
            sub = ".".join(parts[:i])
            if sub in seen:
                continue
            path = module_file(sub, root)
            if path is None:
                continue
            seen[sub] = path
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            stack.extend(_imported_names(tree, sub, path.name == "__init__.py"))
    return sorted(set(seen.values()))


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """Versions of Python and of the numeric libraries (absent ones as ``"not installed"``)."""
    return {"python": platform.python_version(),
            **{dist: distribution_version(dist) for dist in NUMERIC_DISTRIBUTIONS}}


def distribution_version(dist: str) -> str:
    """The installed version of the distribution ``dist``, or ``"not installed"``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def input_key(kind: str, params: dict[str, Any], modules: Iterable[str], files: Iterable[Path] = (),
              root: Path = REPO_ROOT) -> str:
    """SHA-256 of a result's kind, parameters, source closure (plus ``files``: sources outside the
    repository's packages, e.g. a check module loaded from elsewhere) and library versions."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"kind": kind, "params": params, "versions": library_versions()},
                             sort_keys=True, default=str).encode())
    for path in source_closure(modules, root) + sorted({Path(f).resolve() for f in files}):
        name = path.relative_to(root) if path.is_relative_to(root) else path  # a moved checkout keeps its cache
        digest.update(str(name).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass
class Cache:
    """JSON results under ``root/<kind>/<key>.json``; counts hits and misses per kind."""

    root: Path
    fresh: bool = False
    hits: Counter = field(default_factory=Counter)
    misses: Counter = field(default_factory=Counter)

    def _path(self, kind: str, key: str) -> Path:
        return Path(self.root) / kind / f"{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        """The stored value, or None when absent, unreadable or ``fresh`` (counted as a miss)."""
        path = self._path(kind, key)
        if not self.fresh and path.is_file():
            try:
                value = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                value = None
            if value is not None:
                self.hits[kind] += 1
                return value
        self.misses[kind] += 1
        return None

    def put(self, kind: str, key: str, value: Any) -> None:
        write_json_atomic(self._path(kind, key), value)

    def summary(self) -> str:
        kinds = sorted(set(self.hits) | set(self.misses))
        return ", ".join(f"{k}: {self.misses[k]} computed, {self.hits[k]} cached" for k in kinds) or "nothing cached"
