"""What the experiment checks read: the run store, grouped by seed, and the inputs they depend on.

The store and the ImageNet checkpoint reach a check as its argument, a
:class:`~lpm_verify.check_inputs.CheckInputs` built by ``verify`` / ``report`` from ``--runs DIR`` and
``--imagenet-checkpoint PATH``.  A check never trains: with missing runs it is skipped
with the exact ``train`` command that produces them.  A run whose metrics cannot be read, or that
lacks a metric a check needs, raises :class:`CorruptStoreError` (the check's verdict is then ``fail``).
"""
from __future__ import annotations

import hashlib
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from experiments.collapse import CollapsePoint, collapse_levels, collapse_point, predicted_R0
from experiments.regime import PAPER_PRESET, REGIME_PRESET, REPORT_PRESET, criterion_for, in_regime
from experiments.store import Run, scan_runs
from lpm_verify.check_inputs import CheckInputs
from lpm_verify.io import file_sha256
from lpm_verify.outcomes import skipped
from lpm_verify.records import Outcome
from lpm_verify.verdict_rule import as_float

#: Presets whose runs follow the paper's protocol (Section 4.C) at CPU or full scale: the paper's claims are
#: decided on these only, never on control runs of other presets (e.g. a changed loss or weight decay).
CLAIM_PRESETS: tuple[str, ...] = (PAPER_PRESET, REGIME_PRESET, REPORT_PRESET)
#: Seeds a configuration needs before a check decides on it: a seed-to-seed spread needs at least three.
MIN_SEEDS = 3
#: Except for the cpu-regime preset: each of its runs trains ~90,000 steps to reach the paper's exposure and
#: the grid must fit an hour on 2 cores, so it has two seeds per configuration (the criteria stay seed by seed).
PRESET_MIN_SEEDS = {REGIME_PRESET: 2}


def seeds_needed(g: "SeedGroup") -> int:
    """Seeds a configuration of ``g``'s preset needs before a check decides on it."""
    return PRESET_MIN_SEEDS.get(str(g.config.get("preset")), MIN_SEEDS)
#: Settings of a family of runs: everything but K_A, R, n_A (n_B), wd, w_r and the seed.
SETTING_KEYS: tuple[str, ...] = ("dataset", "arch", "preset", "epochs", "device", "bias", "lr", "batch_size",
                                 "momentum", "width", "class_order", "milestones")
#: Keys that identify a configuration; runs equal on all of them are seeds of one group.
GROUP_KEYS: tuple[str, ...] = SETTING_KEYS + ("K_A", "R", "n_majority", "n_minority", "wd", "oversample")


class CorruptStoreError(ValueError):
    """A stored run cannot be read, or lacks a metric an experiment check needs."""


def train_command(root: Path | str, preset: str = REPORT_PRESET) -> str:
    """The exact command that trains the runs of ``preset`` into ``root`` (finished runs are reused)."""
    root = Path(root)
    out = "" if root == Path("runs") else f" --out {root}"
    return f"python -m lpm_verify train --preset {preset}{out}"


def inputs_digest(inputs: CheckInputs) -> str:
    """SHA-256 of everything the experiment checks read besides their sources: the store's folder
    names, the content digests of each run's ``config.json``, ``metrics.json`` and
    checkpoint (Fig. 7 reads its classifier) and of the ImageNet checkpoint (Fig. 9), each file streamed
    once.  Content, never path, size and modification time: a file replaced by another of the same size
    and time must not reuse the old verdicts.  The report's cache keys experiment checks by it."""
    digest = hashlib.sha256()
    root = inputs.runs
    digest.update(f"runs={root.resolve() if root is not None else None}\0".encode())
    if root is not None and root.is_dir():
        for run in sorted(p for p in root.iterdir() if p.is_dir()):
            digest.update(run.name.encode(errors="surrogateescape") + b"\0")
            for name in ("config.json", "metrics.json"):
                path = run / name
                digest.update(f"{name} {file_sha256(path) if path.is_file() else '<absent>'}\0".encode())
            ckpt = run / "checkpoint.pt"
            if ckpt.is_file():
                digest.update(f"checkpoint {file_sha256(ckpt)}\0".encode())
    ckpt = inputs.imagenet_checkpoint
    if ckpt is not None:
        digest.update(f"imagenet={file_sha256(ckpt) if ckpt.is_file() else '<absent>'}".encode())
    return digest.hexdigest()


def _key_value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@dataclass
class SeedGroup:
    """Runs that differ only in their seed: one configuration, ``seeds[i]`` stored at ``paths[i]``."""

    config: dict[str, Any]
    seeds: list[Any] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # folders holding one of these runs again (not counted)

    def values(self, key: str) -> list[float]:
        """``key`` of every seed's metrics, as floats (NaN where absent)."""
        return [as_float(m.get(key)) for m in self.metrics]

    def by_seed(self, key: str) -> dict[Any, float]:
        """``{seed: metric}``, raising :class:`CorruptStoreError` where the metric is absent or not finite."""
        out = {}
        for seed, m, path in zip(self.seeds, self.metrics, self.paths):
            v = as_float(m.get(key))
            if not math.isfinite(v):
                raise CorruptStoreError(f"run {path}: metric {key!r} is {m.get(key)!r}, not a finite number")
            out[seed] = v
        return out

    def mean(self, key: str) -> float:
        values = [v for v in self.values(key) if math.isfinite(v)]
        return statistics.fmean(values) if values else math.nan

    def spread(self, key: str) -> float:
        """Sample standard deviation over seeds (NaN with fewer than two)."""
        values = [v for v in self.values(key) if math.isfinite(v)]
        return statistics.stdev(values) if len(values) > 1 else math.nan

    def median(self, key: str) -> float:
        values = [v for v in self.values(key) if math.isfinite(v)]
        return statistics.median(values) if values else math.nan

    @property
    def R(self) -> float:
        return as_float(self.config.get("R"))

    @property
    def oversample(self) -> float:
        w = as_float(self.config.get("oversample"))
        return 1.0 if not math.isfinite(w) else w

    @property
    def K(self) -> int:
        """Number of classes trained on (``len(class_order)``; 10 for the paper's datasets)."""
        order = self.config.get("class_order")
        return len(order) if isinstance(order, (list, tuple)) else 10

    def label(self) -> str:
        c = self.config
        seeds = ",".join(str(s) for s in self.seeds)
        return (f"{c.get('dataset')} / {c.get('arch')} / preset {c.get('preset')} / {c.get('epochs')} epochs / "
                f"seeds {seeds} / {c.get('device')}")


def group_by_seed(runs: Iterable[Run]) -> list[SeedGroup]:
    """Group runs by :data:`GROUP_KEYS` (stable order: dataset, arch, preset, K_A, wd, w_r, R)."""
    groups: dict[tuple, SeedGroup] = {}
    for run in runs:
        cfg = dict(run.config)
        key = tuple(str(_key_value(cfg.get(k))) for k in GROUP_KEYS)
        group = groups.setdefault(key, SeedGroup({k: _key_value(cfg.get(k)) for k in GROUP_KEYS}))
        group.seeds.append(cfg.get("seed"))
        group.metrics.append(dict(run.metrics))
        group.paths.append(str(run.path))
    return sorted(groups.values(), key=lambda g: (str(g.config.get("dataset")), str(g.config.get("arch")),
                                                  str(g.config.get("preset")), as_float(g.config.get("K_A")),
                                                  as_float(g.config.get("wd")), g.oversample, g.R))


def load_groups(root: Path | str | None) -> list[SeedGroup]:
    """Every finished run of the store ``root`` from a preset of :data:`CLAIM_PRESETS`, grouped by seed (none
    when no store is given); an unreadable run raises :class:`CorruptStoreError`."""
    if root is None:
        return []
    root = Path(root)
    try:
        scan = scan_runs(root)
    except OSError as exc:
        raise CorruptStoreError(f"the run store {root} cannot be read: {type(exc).__name__}: {exc}") from exc
    if scan.skipped:  # a verdict from the remaining runs could hide the corrupt ones: the check breaks
        path, reason = scan.skipped[0]
        raise CorruptStoreError(f"the run store {root} has {len(scan.skipped)} unreadable run folder(s), e.g. "
                                f"{path}: {reason}")
    groups = group_by_seed(r for r in scan.runs if r.config.get("preset") in CLAIM_PRESETS)
    of_path = {path: g for g in groups for path in g.paths}
    for path, kept in scan.duplicates:  # a copied folder is the same run, not another seed: named, not counted
        if str(kept) in of_path:
            of_path[str(kept)].duplicates.append(f"{path.name} (= {kept.name})")
    return groups


#: Presets whose runs are trained into the paper's regime: a store holding them is held to the
#: ``in_regime`` pins of the table of expected verdicts (:mod:`lpm_verify.expected`).
IN_REGIME_PRESETS: tuple[str, ...] = (REGIME_PRESET, PAPER_PRESET)


def holds_regime_runs(root: Path | str | None) -> bool:
    """Whether the store ``root`` holds a finished run of an in-regime preset (:data:`IN_REGIME_PRESETS`)."""
    if root is None or not Path(root).is_dir():
        return False
    try:
        return any(r.config.get("preset") in IN_REGIME_PRESETS for r in scan_runs(root).runs)
    except OSError:
        return False  # an unreadable store breaks the checks themselves (load_groups), not the choice of pins


@dataclass
class RegimeSplit:
    """The store's groups for one claim: ``kept`` holds only the runs in the claim's regime
    (:func:`experiments.regime.in_regime`), ``every`` all of them; ``off`` names each run left out and why."""

    claim: str
    kept: list[SeedGroup]
    every: list[SeedGroup]
    off: list[tuple[str, str]]

    def summary(self) -> dict[str, Any]:
        n = sum(len(g.seeds) for g in self.every)
        out = {"criterion": criterion_for(self.claim).describe(), "runs_in_regime": n - len(self.off),
               "runs_off_regime": len(self.off),
               "off_regime_examples": [f"{Path(p).name}: {why}" for p, why in self.off[:3]]}
        duplicates = [d for g in self.every for d in g.duplicates]
        if duplicates:
            out["duplicate_run_folders"] = duplicates
        return out


def regime_split(groups: list[SeedGroup], claim: str) -> RegimeSplit:
    """Split ``groups`` by the regime criterion of ``claim`` (a group keeps its seeds that are in regime)."""
    kept, off = [], []
    for g in groups:
        k = SeedGroup(g.config)
        for seed, m, path in zip(g.seeds, g.metrics, g.paths):
            ok, why = in_regime(m, claim)
            if ok:
                k.seeds.append(seed)
                k.metrics.append(m)
                k.paths.append(path)
            else:
                off.append((path, why))
        if k.seeds:
            kept.append(k)
    return RegimeSplit(claim, kept, groups, off)


def decide_in_regime(claim: str, root: Path | None, logic: Callable[[list[SeedGroup]], Outcome | None],
                     what: str) -> Outcome:
    """The outcome of experiment check ``claim`` decided on the runs of ``root`` in its regime only.

    ``logic(groups)`` returns the check's outcome, or None when ``groups`` do not hold what it needs.
    When the runs in regime do not decide it but the whole store would, the verdict is ``inconclusive``
    with the reason and the command that trains runs in regime (what the off-regime runs would give is
    kept as information); with no such runs at all it is ``skipped`` with the train commands."""
    split = regime_split(load_groups(root), claim)
    outcome = logic(split.kept)
    if outcome is not None:
        outcome.detail["regime"] = split.summary()
        return outcome
    off_outcome = logic(split.every) if split.off else None
    if off_outcome is None:
        return skipped(missing_reason(what, root))
    first_path, first_why = split.off[0]
    reason = (f"{len(split.off)} run(s) of the store hold the {what} but are not in this claim's regime "
              f"({criterion_for(claim).describe()}), e.g. {Path(first_path).name}: {first_why}; train runs in "
              f"regime with `{train_command(root, REGIME_PRESET)}`")
    detail = {"regime": split.summary(), "off_regime_observed": off_outcome.observed,
              "off_regime_error": off_outcome.error, "criterion_off_regime": off_outcome.criterion,
              "settings": off_outcome.detail.get("settings", [])}
    return Outcome(off_outcome.expected, None, math.nan, detail=detail, criterion=off_outcome.criterion,
                   inconclusive_reason=reason)


def setting_of(g: SeedGroup) -> tuple:
    return tuple(str(g.config.get(k)) for k in SETTING_KEYS)


def setting_label(g: SeedGroup, seeds: Iterable[Any] | None = None) -> str:
    """Dataset, network, preset, epochs, n_A, width, device and seeds of a configuration, in words."""
    c = g.config
    seeds = sorted(seeds if seeds is not None else g.seeds, key=str)
    width = f", width {c.get('width')}" if c.get("arch") in ("mlp", "cnn") else ""
    return (f"{c.get('dataset')}, {c.get('arch')}{width}, preset {c.get('preset')}, {c.get('epochs')} epochs, "
            f"n_A {c.get('n_majority')}, bias {c.get('bias')}, {c.get('device')}, seeds {','.join(map(str, seeds))}")


@dataclass
class Curve:
    """One Fig. 2/4 curve: a setting, weight decay and K_A over the R grid (no oversampling, the
    setting's main n_A), restricted to the seeds every point has."""

    setting: tuple
    wd: float
    K_A: int
    points: list[SeedGroup]  # by increasing R

    @property
    def R(self) -> list[float]:
        return [g.R for g in self.points]

    @property
    def seeds(self) -> list[Any]:
        common = set(self.points[0].seeds)
        for g in self.points[1:]:
            common &= set(g.seeds)
        return sorted(common, key=str)

    @property
    def K(self) -> int:
        return self.points[0].K

    def metric(self, key: str) -> dict[Any, list[float]]:
        """``{seed: [metric at each R]}`` over :attr:`seeds` (corrupt values raise)."""
        per_point = [g.by_seed(key) for g in self.points]
        return {s: [p[s] for p in per_point] for s in self.seeds}

    def at(self, R: float) -> SeedGroup | None:
        return next((g for g in self.points if g.R == R), None)

    def label(self) -> str:
        return f"{setting_label(self.points[0], self.seeds)}, wd {self.wd:g}, K_A {self.K_A}"


def curves(groups: list[SeedGroup]) -> list[Curve]:
    """The Fig. 2/4 curves of the store: configurations with ``w_r = 1`` and ``K >= 3`` grouped by
    (setting, wd, K_A) at the setting's most common n_A, keeping R values with the seeds their preset needs
    (:func:`seeds_needed`) shared by every point; curves with fewer than two such R values are dropped."""
    by_curve: dict[tuple, list[SeedGroup]] = defaultdict(list)
    for g in groups:
        if g.oversample == 1 and g.K >= 3 and len(g.seeds) >= seeds_needed(g):
            by_curve[(setting_of(g), as_float(g.config.get("wd")), int(g.config.get("K_A")))].append(g)
    out = []
    for (setting, wd, K_A), gs in sorted(by_curve.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        counts: dict[Any, int] = defaultdict(int)
        for g in gs:
            counts[g.config.get("n_majority")] += 1
        n_A = max(counts, key=lambda n: (counts[n], as_float(n)))
        points = sorted((g for g in gs if g.config.get("n_majority") == n_A), key=lambda g: g.R)
        curve = Curve(setting, wd, K_A, points)
        if len(points) >= 2 and len(curve.seeds) >= seeds_needed(points[0]):
            out.append(curve)
    return out


def missing_reason(what: str, root: Path | None) -> str:
    """The skip reason of a check whose runs are not in the store ``root``, with the commands that train them."""
    if root is None:
        return f"no run store given: pass --runs DIR to verify/report for the {what}"
    return (f"no {what} with >= {MIN_SEEDS} seeds (2 for {REGIME_PRESET}) of preset {' or '.join(CLAIM_PRESETS)} in "
            f"the run store {root}/; train them with `{train_command(root)}` (CPU proxy, minutes), "
            f"`{train_command(root, REGIME_PRESET)}` (CPU, the paper's regime, under an hour) or `--preset paper` "
            "on a GPU for the paper's scale")



def tally(*, expected: str, violations: list[str], comparisons: int, observed: Any, criterion: str,
          settings: Iterable[str], **detail: Any) -> Outcome:
    """Outcome of an experiment check whose criterion is a set of ``comparisons``, each of which must
    hold: ``error`` = the number that do not (each named in ``detail["violations"]``)."""
    return Outcome(expected, observed, float(len(violations)), criterion=criterion,
                   detail={"settings": sorted(set(settings)), "comparisons": comparisons,
                           "violations": violations, **detail})


def mean_sd(values: Iterable[float]) -> str:
    """``"m ± s"`` over seeds (sample sd; ``m`` alone for one value), 4 significant digits."""
    vals = [float(v) for v in values]
    if not vals:
        return "-"
    m = statistics.fmean(vals)
    return f"{m:.4g} ± {statistics.stdev(vals):.2g}" if len(vals) > 1 else f"{m:.4g}"


def observed_collapse_points(curve: Curve) -> list[CollapsePoint]:
    """The curve's collapse point at each level of :func:`experiments.collapse.collapse_levels`, beside the
    LPM's ``R_0`` (median of the ``lpm_R0`` of its finite-R runs, each at that run's fitted energies)."""
    cos = curve.metric("cos_minority")
    finite = [g for g in curve.points if math.isfinite(g.R)]
    predicted = predicted_R0([m.get("lpm_R0") for g in finite for m in g.metrics])
    return [collapse_point(curve.R, cos, level, name, predicted)
            for name, level in collapse_levels(curve.K).items()]


def seed_R0(curve: Curve, seed: Any) -> float | None:
    """The LPM's ``R_0`` for one seed of a curve: median ``lpm_R0`` over that seed's finite-R runs."""
    values = [m.get("lpm_R0") for g in curve.points if math.isfinite(g.R)
              for s, m in zip(g.seeds, g.metrics) if s == seed]
    return predicted_R0(values)


def classifier_weights(run_path: str | Path) -> np.ndarray:
    """The last layer ``W  # (K, p)`` of a finished run, read from its ``checkpoint.pt`` with
    ``torch.load(weights_only=True)``; a missing or unreadable checkpoint raises :class:`CorruptStoreError`."""
    import torch
    path = Path(run_path) / "checkpoint.pt"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        W = state["model"]["classifier.weight"]
    except (OSError, RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise CorruptStoreError(f"run {run_path}: cannot read the classifier from {path}: "
                                f"{type(exc).__name__}: {exc}") from exc
    return W.detach().double().numpy()


def binary_groups(groups: list[SeedGroup]) -> list[SeedGroup]:
    """Fig. 7's configurations: two classes, balanced (R = 1), no oversampling, the seeds their preset needs."""
    return [g for g in groups if g.K == 2 and g.R == 1 and g.oversample == 1 and len(g.seeds) >= seeds_needed(g)]
