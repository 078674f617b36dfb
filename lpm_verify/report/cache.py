"""Report results keyed by their inputs, so that a second report only recomputes what changed.

A key is the SHA-256 of everything a result depends on:

* the kind of result and its parameters (a check id; a sweep's K, K_A, E_W, E_H and R grid);
* the source of every module it can execute: the module that defines it and, transitively, every
  module of this repository (``lpm_verify``, ``theorems``, ``experiments``) that module imports,
  found by reading the import statements (:func:`source_closure`), parent packages included;
* the versions of the numeric libraries and of Python.

Editing a theorem module therefore recomputes its checks only; editing ``lpm_verify/problem.py``
recomputes everything that imports it.  ``fresh=True`` ignores what is stored (and overwrites it).

Entries are JSON files written atomically: ``{"format", "kind", "key", "value", "sha256"}``, the
hash taken over kind, key and value (:func:`entry_hash`).  An entry is used only when it parses, its
kind and key are the ones asked for, its hash matches and its value passes the schema of its kind
(:data:`VALIDATORS`); anything else is recomputed and listed in :attr:`Cache.rejected` (the report's
provenance names each one).  The hash catches corruption and edits that do not recompute it (an
``erratum`` edited to ``pass``); it is not a signature: whoever can write the cache folder can also
write a matching hash (or edit the sources), so the cache is as trustworthy as that folder.
"""
from __future__ import annotations

import ast
import hashlib
import json
import platform
from collections import Counter
from dataclasses import MISSING, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

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


#: Format of a cache entry; entries of another format are recomputed (and rewritten).
ENTRY_FORMAT = 2


class CacheEntryError(ValueError):
    """A cache entry cannot be used; the message says why (the entry is then recomputed)."""


def entry_hash(kind: str, key: str, value: Any) -> str:
    """SHA-256 over the canonical JSON of an entry's kind, key and value."""
    canonical = json.dumps({"kind": kind, "key": key, "value": value}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise CacheEntryError(reason)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_numeric_text(value: Any) -> bool:
    """A number as :func:`lpm_verify.records.jsonable` stores it: a JSON number or a decimal string."""
    if _is_number(value):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


def validate_check_record(value: Any) -> None:
    """Raise :class:`CacheEntryError` unless ``value`` is a :class:`~lpm_verify.records.CheckRecord`'s JSON."""
    from lpm_verify.records import CheckRecord, Verdict
    _require(isinstance(value, dict), f"the check record is a {type(value).__name__}, not an object")
    fields = CheckRecord.__dataclass_fields__
    required = [n for n, f in fields.items() if f.default is MISSING and f.default_factory is MISSING]
    missing = [n for n in required if n not in value]
    _require(not missing, f"the check record lacks {', '.join(missing)}")
    unknown = sorted(set(value) - set(fields))
    _require(not unknown, f"the check record has unknown fields {', '.join(unknown)}")
    text = ("id", "result", "claim", "method", "verdict", "tolerance_reason")
    bad = [n for n in text if not isinstance(value[n], str)]
    bad += [n for n in ("printed", "corrected", "evidence", "skip_reason", "expect", "criterion", "origin", "part")
            if value.get(n) is not None and not isinstance(value[n], str)]
    bad += [n for n in ("tolerance", "seconds") if not _is_number(value[n])]
    bad += [n for n in ("error",) if value[n] is not None and not _is_numeric_text(value[n])]
    bad += [n for n in ("precision_digits",) if value[n] is not None and not isinstance(value[n], int)]
    bad += [n for n in ("detail",) if not isinstance(value[n], dict)]
    bad += [n for n in ("slow",) if not isinstance(value.get(n, False), bool)]
    _require(not bad, f"the check record has fields of the wrong type: {', '.join(bad)}")
    verdicts = {v.value for v in Verdict}
    _require(value["verdict"] in verdicts, f"the check record's verdict {value['verdict']!r} is none of "
                                           f"{', '.join(sorted(verdicts))}")


def validate_thresholds(value: Any) -> None:
    """Raise :class:`CacheEntryError` unless ``value`` is a list of thresholds (``lpm._thresholds_job``)."""
    _require(isinstance(value, list), f"the thresholds are a {type(value).__name__}, not a list")
    for t in value:
        _require(isinstance(t, dict) and _is_numeric_text(t.get("R")) and isinstance(t.get("from_regime"), str)
                 and isinstance(t.get("to_regime"), str),
                 "a threshold lacks a numeric R or its regimes")


#: Sweep columns that must be numbers (or null: undefined) when present; other columns are text.
SWEEP_NUMBERS: tuple[str, ...] = ("K", "K_A", "E_W", "E_H", "cos_minority", "cos_majority", "cos_all",
                                  "norm_minority", "norm_majority", "objective", "seconds")


def validate_sweep(value: Any) -> None:
    """Raise :class:`CacheEntryError` unless ``value`` is ``{"rows": [...], "note": ...}`` (``lpm._sweep_job``)."""
    _require(isinstance(value, dict) and isinstance(value.get("rows"), list)
             and (value.get("note") is None or isinstance(value["note"], str)),
             "the sweep is not {rows: [...], note: text or null}")
    for row in value["rows"]:
        _require(isinstance(row, dict) and _is_numeric_text(row.get("R")), "a sweep row lacks a numeric R")
        bad = [k for k in SWEEP_NUMBERS if row.get(k) is not None and not _is_numeric_text(row[k])]
        _require(not bad, f"a sweep row has non-numeric {', '.join(bad)}")


#: Schema of each kind of entry; a kind without one is checked by its hash only.
VALIDATORS: dict[str, Callable[[Any], None]] = {"check": validate_check_record, "thresholds": validate_thresholds,
                                                 "sweep": validate_sweep}


def read_entry(path: Path, kind: str, key: str) -> Any:
    """The value stored in ``path`` for (``kind``, ``key``); :class:`CacheEntryError` says why it is unusable."""
    try:
        entry = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise CacheEntryError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CacheEntryError(f"not JSON ({exc.msg}, character {exc.pos})") from None
    except RecursionError:
        raise CacheEntryError("JSON nested too deeply") from None
    _require(isinstance(entry, dict), f"a JSON {type(entry).__name__}, not an entry object")
    _require(entry.get("format") == ENTRY_FORMAT, f"not a verified entry of format {ENTRY_FORMAT} (format "
                                                  f"{entry.get('format')!r}: an older cache, or not an entry)")
    _require(set(entry) == {"format", "kind", "key", "value", "sha256"},
             "fields other than format, kind, key, value, sha256")
    _require(entry["kind"] == kind and entry["key"] == key, "stored under another kind or key")
    _require(entry["sha256"] == entry_hash(kind, key, entry["value"]),
             "content hash mismatch (edited or corrupted since it was written)")
    validator = VALIDATORS.get(kind)
    if validator is not None:
        validator(entry["value"])
    return entry["value"]


@dataclass
class Cache:
    """Verified JSON results under ``root/<kind>/<key>.json``; counts hits and misses per kind and
    keeps every entry it refused as ``(path relative to root, reason)`` in :attr:`rejected`."""

    root: Path
    fresh: bool = False
    hits: Counter = field(default_factory=Counter)
    misses: Counter = field(default_factory=Counter)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def _path(self, kind: str, key: str) -> Path:
        return Path(self.root) / kind / f"{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        """The stored value, or None (counted as a miss) when absent, unusable (see :func:`read_entry`;
        recorded in :attr:`rejected`) or ``fresh``."""
        path = self._path(kind, key)
        if not self.fresh and path.is_file():
            try:
                value = read_entry(path, kind, key)
            except (OSError, CacheEntryError) as exc:
                self.rejected.append((path.relative_to(self.root).as_posix(), str(exc)))
            else:
                self.hits[kind] += 1
                return value
        self.misses[kind] += 1
        return None

    def put(self, kind: str, key: str, value: Any) -> None:
        value = json.loads(json.dumps(value))  # hash the value as it will read back (tuples, key types)
        entry = {"format": ENTRY_FORMAT, "kind": kind, "key": key, "value": value,
                 "sha256": entry_hash(kind, key, value)}
        write_json_atomic(self._path(kind, key), entry)

    def summary(self) -> str:
        kinds = sorted(set(self.hits) | set(self.misses))
        text = ", ".join(f"{k}: {self.misses[k]} computed, {self.hits[k]} cached" for k in kinds) or "nothing cached"
        return text + (f"; {len(self.rejected)} unusable entries recomputed" if self.rejected else "")
