"""Trained-network runs for the report: read the experiments store, training the ``cpu-report``
preset first when the store is empty (and the data are there), and group runs across seeds.

A group is every run that differs only in its seed; its numbers are means over seeds, with the
seeds and the spread kept beside them so that the report can label each point.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.claims_data import SeedGroup, group_by_seed
from experiments.store import Run, from_json_number
from lpm_verify.errors import DataNotFoundError

#: The preset the default report trains when the store is empty (experiments.presets.PRESETS).
REPORT_PRESET = "cpu-report"
#: How to get the data when it is missing (Debian package shipping the IDX files).
DATA_HINT = "apt-get install dataset-fashion-mnist"
#: A group of runs that differ only in their seed (one class for the report and the experiment checks).
RunGroup = SeedGroup


@dataclass
class RunsGathered:
    groups: list[RunGroup] = field(default_factory=list)
    runs: int = 0
    trained: bool = False
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why it could not be used)


def gather_runs(runs_root: str | Path, *, train: bool, data_root: str | Path | None = None,
                progress: bool = False) -> RunsGathered:
    """Runs in the store at ``runs_root``; trains :data:`REPORT_PRESET` first when it is empty and ``train``."""
    out = RunsGathered()
    runs, out.skipped = read_store(runs_root)
    if not runs and train:
        try:  # the trainer needs torch, an optional dependency (extra "experiments")
            from experiments.presets import run_preset
        except ImportError as exc:
            out.notes.append(f"The store is empty and the trainer cannot be imported ({exc}): install it with "
                             "`pip install torch==2.13.0 && pip install -e '.[experiments]'`, then rerun the report.")
        else:
            try:
                run_preset(REPORT_PRESET, out=str(runs_root), data_root=None if data_root is None else str(data_root),
                           progress=progress)
                out.trained = True
            except DataNotFoundError as exc:
                out.notes.append(f"The store is empty and FashionMNIST was not found ({exc}). Get it with "
                                 f"`{DATA_HINT}` (or pass --data-root PATH), then rerun the report.")
            runs, out.skipped = read_store(runs_root)
    elif not runs:
        out.notes.append("The store is empty and training was skipped (--no-train).")
    out.runs = len(runs)
    out.groups = group_by_seed(runs)
    return out


#: Metrics the network section reads: each must be a number or null (undefined) in a usable run.
REPORTED_METRICS: tuple[str, ...] = ("cos_minority", "lpm_cos_minority", "lpm_R0", "fitted_E_W", "fitted_E_H", "nc1",
                                     "train_acc", "test_acc", "test_acc_minority")


def _read_object(path: Path) -> dict[str, Any]:
    """A JSON object from ``path`` (``"inf"`` strings as floats); ValueError/OSError say why not."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg}, character {exc.pos})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    return {k: from_json_number(v) for k, v in data.items()}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_store(root: str | Path) -> tuple[list[Run], list[tuple[str, str]]]:
    """Finished runs under ``root`` (by folder name) and every file that could not be used, with why.

    The report's only entry into the experiments store.  Merge point: when the store validates its
    own files (``experiments.store``, "cluster" branch), this body becomes a call to that API.
    A folder without ``metrics.json`` is a run in progress, not an error: left out silently.
    """
    root = Path(root)
    runs: list[Run] = []
    skipped: list[tuple[str, str]] = []
    if not root.is_dir():
        return runs, skipped
    for folder in sorted(p for p in root.iterdir() if (p / "config.json").is_file()):
        config_path, metrics_path = folder / "config.json", folder / "metrics.json"
        if not metrics_path.is_file():
            continue
        try:
            config = _read_object(config_path)
        except (OSError, ValueError) as exc:
            skipped.append((str(config_path), str(exc)))
            continue
        bad = [k for k in ("K_A", "R") if not _is_number(config.get(k))]
        if bad:
            skipped.append((str(config_path), f"{', '.join(bad)} missing or not a number"))
            continue
        try:
            metrics = _read_object(metrics_path)
        except (OSError, ValueError) as exc:
            skipped.append((str(metrics_path), str(exc)))
            continue
        bad = [k for k in REPORTED_METRICS if metrics.get(k) is not None and not _is_number(metrics[k])]
        if not metrics:
            skipped.append((str(metrics_path), "no metrics (an empty object)"))
        elif bad:
            skipped.append((str(metrics_path), f"not a number: {', '.join(f'{k} = {metrics[k]!r}' for k in bad)}"))
        else:
            runs.append(Run(folder, config, metrics))
    return runs, skipped
