"""The state of every run in a (shared) store, per preset group: what ``status`` prints.

A run folder is *finished* (valid metrics.json), *running* (a live claim: host, job, epoch),
*failed* (failed.json, nobody training it), *interrupted* (a checkpoint or a stale claim, nobody
training it: resume it), *invalid* (a run file that fails its schema, with the reason), or a
*duplicate* (the same config, seed included, as another folder: a copy, counted once).  Runs of a
recorded submission with no folder yet are *pending*.  Reads files only: no torch.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from experiments.run_locks import CLAIM_FILE, read_claim, stale_reason
from experiments.store import (FAILED_FILE, StoreError, duplicate_reason, load_run, read_failure, read_log,
                              scan_runs, submitted_runs)

STATES = ("finished", "running", "failed", "interrupted", "invalid", "duplicate", "pending")
_RUN_FILES = ("config.json", "metrics.json", "log.jsonl", "checkpoint.pt", CLAIM_FILE, FAILED_FILE)


@dataclass(frozen=True)
class RunStatus:
    name: str
    preset: str
    state: str          # one of STATES
    detail: str = ""    # one line
    tail: tuple[str, ...] = ()  # last lines of the log (failed runs)


def _last_epoch(path: Path) -> str:
    try:
        log = read_log(path / "log.jsonl")
    except StoreError:
        return "?"
    return str(log[-1]["epoch"]) if log else "0"


def last(items: tuple | list, lines: int) -> tuple:
    """The last ``lines`` items (none for 0: a plain ``items[-0:]`` would be all of them)."""
    return tuple(items[len(items) - lines:]) if lines > 0 else ()


def job_folder(root: Path, job_id: str) -> Path | None:
    """``root/.submitit/job_id`` when it resolves inside the store's own ``.submitit`` folder, else None:
    ``job_id`` comes from failed.json, which is data (an absolute path or ``..`` must not reach a foreign file)."""
    base = (root / ".submitit").resolve()
    try:
        folder = (base / job_id).resolve()
    except (ValueError, OSError):  # a NUL byte or a loop of links: no such folder
        return None
    return folder if folder != base and folder.is_relative_to(base) else None


def _job_log_tail(root: Path, job_id: str | None, lines: int) -> tuple[str, ...]:
    folder = job_folder(root, job_id) if job_id else None
    if folder is None:
        return ()
    for err in sorted(folder.glob("*_log.err")):
        if not err.resolve().is_relative_to(folder):
            continue
        text = err.read_text(errors="replace").splitlines()
        return tuple(f"{err.name}: {line}" for line in last(text, lines))
    return ()


def run_status(root: Path, path: Path, preset_of: dict[str, str], lines: int = 3) -> RunStatus:
    """The state of the run folder ``path`` of the store ``root``."""
    preset = preset_of.get(path.name, "?")
    try:
        run = load_run(path) if (path / "config.json").exists() else None
    except StoreError as exc:
        return RunStatus(path.name, preset, "invalid", str(exc))
    if run is not None:
        preset = str(run.config.get("preset", preset))
        epochs = run.config.get("epochs", "?")
        if run.finished:
            return RunStatus(path.name, preset, "finished", f"{epochs} epochs")
    else:
        epochs = "?"
    claim = read_claim(path)
    reason = None if claim is None else stale_reason(claim)
    if claim is not None and reason is None:
        return RunStatus(path.name, preset, "running", f"epoch {_last_epoch(path)}/{epochs} on {claim.describe()}")
    stale = f" (stale claim: {reason})" if claim is not None else ""
    failed = path / FAILED_FILE
    if failed.is_file():
        try:
            info = read_failure(failed)
            error, job_id, tail = info.error, info.job_id, last(info.traceback, lines)
        except StoreError as exc:
            error, job_id, tail = f"unreadable {FAILED_FILE} ({exc})", None, ()
        log_tail = tuple(json.dumps(row) for row in last(_safe_log(path), lines))
        return RunStatus(path.name, preset, "failed",
                         f"{error.splitlines()[0][:200] if error else '?'} at epoch {_last_epoch(path)}{stale}",
                         log_tail + _job_log_tail(root, job_id, lines) + tail)
    if (path / "checkpoint.pt").is_file() or claim is not None:
        return RunStatus(path.name, preset, "interrupted",
                         f"at epoch {_last_epoch(path)}/{epochs}{stale}; continue with train --resume")
    return RunStatus(path.name, preset, "pending", "folder created, nothing trained yet")


def _safe_log(path: Path) -> list[dict]:
    try:
        return read_log(path / "log.jsonl")
    except StoreError:
        return []


def store_status(root: str | Path, lines: int = 3) -> tuple[list[RunStatus], list[tuple[Path, str]]]:
    """Every run of the store at ``root`` (folders and recorded submissions) with its state, and the
    unreadable submission records."""
    root = Path(root)
    grids, skipped = submitted_runs(root)
    preset_of = {name: preset for preset, names in grids.items() for name in names}
    out: list[RunStatus] = []
    seen: set[str] = set()
    kept_of = {path.name: kept for path, kept in scan_runs(root, finished_only=False).duplicates}
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if path.is_dir() and not path.name.startswith(".") and any((path / f).exists() for f in _RUN_FILES):
            status = run_status(root, path, preset_of, lines)
            if path.name in kept_of:
                status = RunStatus(path.name, status.preset, "duplicate", duplicate_reason(kept_of[path.name]))
            out.append(status)
            seen.add(path.name)
    out += [RunStatus(name, preset_of[name], "pending", "submitted, not started")
            for name in sorted(preset_of) if name not in seen]
    return out, skipped


def format_status(root: str | Path, statuses: list[RunStatus], skipped: list[tuple[Path, str]]) -> str:
    """Text for ``status``: a summary line per preset group, then one line per run not finished."""
    if not statuses:
        return f"no runs in {root}"
    lines = [f"store {root} at {time.strftime('%Y-%m-%d %H:%M:%S')}"]
    for preset in sorted({s.preset for s in statuses}):
        group = [s for s in statuses if s.preset == preset]
        counts = ", ".join(f"{sum(s.state == st for s in group)} {st}" for st in STATES
                           if any(s.state == st for s in group))
        lines.append(f"preset {preset}: {len(group)} runs: {counts}")
        for s in sorted(group, key=lambda s: (STATES.index(s.state), s.name)):
            if s.state == "finished":
                continue
            lines.append(f"  {s.state:<11} {s.name}  {s.detail}")
            lines += [f"              | {t}" for t in s.tail]
    lines += [f"skipped {p}: {reason}" for p, reason in skipped]
    return "\n".join(lines)
