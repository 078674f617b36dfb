"""Trained-network runs for the report: read the experiments store, training the ``cpu-report``
preset first when the store is empty (and the data are there), and group runs across seeds.

A group is every run that differs only in its seed; its numbers are means over seeds, with the
seeds and the spread kept beside them so that the report can label each point.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from experiments.claims_data import SeedGroup, group_by_seed
from experiments.regime import REPORT_PRESET
from experiments.store import Run, duplicate_reason, scan_runs
from experiments.theory_gap import CONTROL1_PRESET, FREE_FEATURES_DIR
from lpm_verify.errors import DataNotFoundError

#: The preset the default report trains when the store is empty (experiments.presets.PRESETS).
#: How to get the data when it is missing (Debian package shipping the IDX files).
DATA_HINT = "apt-get install dataset-fashion-mnist"
#: A group of runs that differ only in their seed (one class for the report and the experiment checks).
RunGroup = SeedGroup


@dataclass
class RunsGathered:
    groups: list[RunGroup] = field(default_factory=list)
    runs: int = 0
    found: list[Run] = field(default_factory=list)  # every finished run read
    trained: bool = False
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why it could not be used)


def gather_runs(runs_root: str | Path, *, train: bool, data_root: str | Path | None = None,
                progress: bool = False) -> RunsGathered:
    """Runs in the store at ``runs_root``; when it is empty and ``train``, first trains :data:`REPORT_PRESET`
    and the two controls of "Why theory and practice differ" (about 3 minutes more on 2 cores): networks
    with the penalized model's explicit penalties (:data:`CONTROL1_PRESET`) and free features trained by SGD
    (:mod:`experiments.free_features`, into ``<runs_root>/controls``)."""
    out = RunsGathered()
    runs, out.skipped = read_store(runs_root)
    if not runs and train:
        try:  # the trainer needs torch, an optional dependency (extra "experiments")
            from experiments import free_features
            from experiments.presets import run_preset
        except ImportError as exc:
            out.notes.append(f"The store is empty and the trainer cannot be imported ({exc}): install it with "
                             "`pip install torch==2.13.0 && pip install -e '.[experiments]'`, then rerun the report.")
        else:
            try:
                for preset in (REPORT_PRESET, CONTROL1_PRESET):
                    run_preset(preset, out=str(runs_root), data_root=None if data_root is None else str(data_root),
                               progress=progress)
                free_features.run_grid(free_features.grid(), Path(runs_root) / FREE_FEATURES_DIR, progress=progress)
                out.trained = True
            except DataNotFoundError as exc:
                out.notes.append(f"The store is empty and FashionMNIST was not found ({exc}). Get it with "
                                 f"`{DATA_HINT}` (or pass --data-root PATH), then rerun the report.")
            runs, out.skipped = read_store(runs_root)
    elif not runs:
        out.notes.append("The store is empty and training was skipped (--no-train).")
    out.runs = len(runs)
    out.found = runs
    out.groups = group_by_seed(runs)
    return out


def read_store(root: str | Path) -> tuple[list[Run], list[tuple[str, str]]]:
    """Finished runs under ``root`` and every run folder that could not be used, with why.

    The report's only entry into the experiments store; the store validates its own files against its
    schemas (:func:`experiments.store.scan_runs`).
    """
    scan = scan_runs(root)
    return scan.runs, ([(str(path), reason) for path, reason in scan.skipped]
                       + [(str(path), duplicate_reason(kept)) for path, kept in scan.duplicates])
