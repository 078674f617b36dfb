"""Results store: one folder per training run, named by a hash of the run's config.

    <root>/<dataset>_<arch>_KA<K_A>_R<R>_<hash>/
        config.json      every setting that defines the run (see CONFIG_KEYS) + versions
        subset.npz       the chosen training indices and the class order (Section 4.C subset)
        checkpoint.pt    model/optimizer/RNG state every few epochs (``--resume`` continues from it)
        log.jsonl        one line per epoch: loss, accuracy, lr, seconds
        metrics.json     analysis of the finished run (written last: its presence means "finished")
        claim.json       who is training the run now (experiments/run_locks.py; removed when it stops)
        failed.json      why the last attempt failed (removed when the run finishes)
    <root>/.submitted/   the grids submitted into this store (``status`` lists their missing runs)
    <root>/.submitit/    submitit's job logs

Every file is written atomically.  Every file is also treated as untrusted on reading: config.json,
metrics.json and log.jsonl are checked against the small schemas below, and a file that fails is
named with its reason (:class:`StoreError`).  The report reads runs through :func:`scan_runs`
(valid runs plus ``(path, reason)`` for each skipped one), or :func:`list_runs` / :func:`load_run`.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lpm_verify.errors import LPMInputError
from lpm_verify.io import write_json_atomic

# The settings that define a run; their hash names its folder.  (Where the data came from, the
# progress bar and the number of worker processes do not change a result and are left out.)
CONFIG_KEYS = ("dataset", "arch", "preset", "epochs", "seed", "device", "K_A", "R", "n_majority",
               "n_minority", "wd", "oversample", "bias", "lr", "batch_size", "momentum", "width",
               "class_order", "milestones", "checkpoint_every", "compile", "bf16")
# Settings added later: hashed only when they differ from 0, so the hashes (and folders) of runs
# stored before they existed do not change.
OPTIONAL_CONFIG_KEYS = ("classifier_penalty", "feature_penalty", "frozen_backbone")


def json_number(x: Any) -> Any:
    """JSON has no infinity or NaN: ``R = inf`` is stored as ``"inf"``, an undefined metric as null."""
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None if isinstance(x, float) and math.isnan(x) else x


def from_json_number(x: Any) -> Any:
    return {"inf": math.inf, "-inf": -math.inf}.get(x, x) if isinstance(x, str) else x


def config_hash(config: dict[str, Any]) -> str:
    """Hex digest (12 chars) of the defining keys of ``config``, canonical JSON."""
    key = {k: json_number(config[k]) for k in CONFIG_KEYS if k in config}
    key.update({k: json_number(config[k]) for k in OPTIONAL_CONFIG_KEYS if config.get(k)})
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def run_dir(root: str | Path, config: dict[str, Any]) -> Path:
    """``<root>/<dataset>_<arch>_KA<K_A>_R<R>_<hash>``; readable prefix, hash makes it unique."""
    R = config["R"]
    r = "inf" if math.isinf(R) else f"{R:g}"
    return Path(root) / f"{config['dataset']}_{config['arch']}_KA{config['K_A']}_R{r}_{config_hash(config)}"


class StoreError(LPMInputError):
    """A file of the run store is missing, unreadable or does not match its schema; names file and reason."""


_NUMBER = "number"      # int or float, not bool
_RATIO = "ratio"        # a number or "inf" (JSON has no infinity)
_NUMBER_OR_NULL = "number or null"
_METRIC = "a number, null, \"inf\" or \"-inf\""
_CHECKS = {
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
    bool: lambda v: isinstance(v, bool),
    _NUMBER: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    _RATIO: lambda v: (isinstance(v, (int, float)) and not isinstance(v, bool)) or v == "inf",
    _NUMBER_OR_NULL: lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)),
    _METRIC: lambda v: v in (None, "inf", "-inf") or (isinstance(v, (int, float)) and not isinstance(v, bool)),
}
# Required keys of config.json and their types; the optional ones are checked when present (further
# keys are allowed: versions, data_source, ...).
CONFIG_SCHEMA: dict[str, Any] = {
    "dataset": str, "arch": str, "preset": str, "K_A": int, "R": _RATIO, "n_majority": int,
    "epochs": int, "seed": int, "wd": _NUMBER, "oversample": int, "bias": bool, "lr": _NUMBER,
    "batch_size": int, "device": str,
}
CONFIG_OPTIONAL: dict[str, Any] = {"n_minority": int, "width": int, "momentum": _NUMBER,
                                   "classifier_penalty": _NUMBER, "feature_penalty": _NUMBER, "frozen_backbone": bool}
# metrics.json: these keys are required; every key of METRIC_NUMBERS present must be a number, null
# (undefined, e.g. no minority examples) or "inf"/"-inf" (see json_number).
METRICS_REQUIRED = ("cos_minority", "train_acc", "test_acc")
METRIC_NUMBERS = (
    "cos_all", "cos_all_std", "cos_majority", "cos_majority_std", "cos_minority", "cos_minority_std",
    "norm_variation_minority", "norm_variation_majority", "train_acc", "train_acc_majority",
    "train_acc_minority", "test_acc", "test_acc_majority", "test_acc_minority", "nc1", "nc2", "nc3", "nc4",
    "nc1_weighted", "nc2_weighted", "nc3_weighted", "nc2_W", "fitted_E_W", "fitted_E_H", "fitted_E_H_centred",
    "bias_norm", "lpm_R_effective", "lpm_cos_minority", "lpm_R0", "lpm_centred_cos_minority", "lpm_centred_R0",
    "analysis_seconds", "train_seconds", "wall_seconds", "resumed_from_epoch", "final_loss",
    # Regime diagnostics (experiments/trainer.py: regime_diagnostics); absent in stores written before them.
    "wd_exposure", "late_drift_cos_minority", "late_drift_W_norm", "late_drift_mean_h_norm",
    # Where minority test examples are misclassified (experiments/analysis.py: minority_confusions).
    "test_minority_errors", "test_minority_errors_to_majority",
    "logit_margin",  # mean z_y - mean_{k != y} z_k on the training set (experiments/analysis.py); absent before it
)
#: metrics.json's late probes: a list of these objects (optional: absent in older stores).
PROBE_SCHEMA: dict[str, Any] = {"epoch": int, "cos_minority": _NUMBER_OR_NULL, "W_norm": _NUMBER,
                                "mean_h_norm": _NUMBER}
# log.jsonl: one object per line with these keys.
LOG_SCHEMA: dict[str, Any] = {"epoch": int, "loss": _NUMBER_OR_NULL}


def _type_name(kind: Any) -> str:
    return kind if isinstance(kind, str) else {int: "integer", str: "string", bool: "boolean"}[kind]


def _check_schema(obj: Any, schema: dict[str, Any], where: str, optional: dict[str, Any] | None = None) -> None:
    if not isinstance(obj, dict):
        raise StoreError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if not obj:
        raise StoreError(f"{where}: empty object")
    for key, kind in {**schema, **(optional or {})}.items():
        if key not in obj:
            if key in schema:
                raise StoreError(f"{where}: missing key {key!r}")
            continue
        if not _CHECKS[kind](obj[key]):
            raise StoreError(f"{where}: {key!r} must be {_type_name(kind)}, got {obj[key]!r:.40}")


@dataclass(frozen=True)
class Bounds:
    """The meaningful values of a numeric field: ``lo <= v <= hi``.  A value outside is a store that was
    edited or corrupted, never a result: the run is skipped and named with the field and the reason."""

    lo: float
    hi: float
    why: str

    def problem(self, value: Any) -> str | None:
        """Why the number ``value`` is out of bounds, or None (also for a null: an undefined metric)."""
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if isinstance(value, float) and math.isnan(value):
            return "is NaN (JSON stores an undefined value as null)"
        if not self.lo <= value <= self.hi:
            return f"must be in [{self.lo:g}, {self.hi:g}] ({self.why}); got {value!r:.40}"
        return None


#: Training examples per class, batch sizes, widths: 10^9 is far above any dataset this suite trains
#: (ImageNet: 1.3 million examples in all); an integer above it is an edited file (and 10**300 would
#: overflow every float computation that uses it).
MAX_COUNT = 10 ** 9
#: Classes: ImageNet-21k has 21,841; the paper's datasets have 10.
MAX_CLASSES = 10 ** 5
#: Epochs: the paper trains 350; a million is beyond any budget.
MAX_EPOCHS = 10 ** 6
#: Rounding of a cosine or accuracy computed in float32 (the trainer's precision): 1e-6 beyond 1 is still a
#: cosine; more is not.
ROUNDING = 1e-6
_COSINE = Bounds(-1 - ROUNDING, 1 + ROUNDING, "a cosine")
_COSINE_SPREAD = Bounds(0, 1 + ROUNDING, "a standard deviation of cosines")
_FRACTION = Bounds(0, 1 + ROUNDING, "a fraction of examples")
_NONNEGATIVE = Bounds(0, math.inf, "a finite number >= 0")
_FINITE = Bounds(-math.inf, math.inf, "a finite number")
_COUNT = Bounds(0, MAX_COUNT, f"a count in [0, {MAX_COUNT:.0e}]")
_EPOCH = Bounds(0, MAX_EPOCHS, "an epoch >= 0")
_RATIO_R0 = Bounds(1, math.inf, "a threshold ratio R_0 >= 1, or inf")

#: config.json's numeric fields and their meaningful values (those experiments.trainer.TrainConfig accepts).
CONFIG_BOUNDS: dict[str, Bounds] = {
    "K_A": Bounds(1, MAX_CLASSES, "a number of majority classes >= 1"),
    "R": Bounds(1, math.inf, "an imbalance ratio n_A / n_B >= 1, or inf"),
    "n_majority": Bounds(1, MAX_COUNT, "examples per majority class >= 1"),
    "n_minority": _COUNT,
    "epochs": Bounds(1, MAX_EPOCHS, "epochs >= 1"),
    "seed": Bounds(0, 2 ** 63 - 1, "a seed in [0, 2^63)"),
    "wd": _NONNEGATIVE,
    "lr": Bounds(0, math.inf, "a learning rate > 0"),
    "batch_size": Bounds(1, MAX_COUNT, "a batch size >= 1"),
    "oversample": Bounds(1, MAX_COUNT, "an oversampling rate w_r >= 1 (Eq. 17)"),
    "width": Bounds(1, MAX_COUNT, "a layer width >= 1"),
    "momentum": Bounds(0, 1, "a momentum in [0, 1]"),
    "classifier_penalty": _NONNEGATIVE,
    "feature_penalty": _NONNEGATIVE,
}
#: Fields that must also be nonzero (the bounds are closed intervals).
_POSITIVE = ("lr",)
#: Fields where infinity means something (R = inf: no minority examples; no threshold); anywhere else
#: an infinite value is out of bounds.
_INFINITE_OK = ("R", "lpm_R_effective", "lpm_R0", "lpm_centred_R0")

#: metrics.json's numeric fields and their meaningful values (null, an undefined metric, is always allowed).
METRIC_BOUNDS: dict[str, Bounds] = {
    **{k: _COSINE for k in ("cos_all", "cos_majority", "cos_minority", "lpm_cos_minority", "lpm_centred_cos_minority")},
    **{k: _COSINE_SPREAD for k in ("cos_all_std", "cos_majority_std", "cos_minority_std")},
    **{k: _FRACTION for k in ("train_acc", "train_acc_majority", "train_acc_minority", "test_acc", "test_acc_majority",
                              "test_acc_minority", "nc4")},
    **{k: _NONNEGATIVE for k in ("norm_variation_minority", "norm_variation_majority", "nc1", "nc2", "nc3",
                                 "nc1_weighted", "nc2_weighted", "nc3_weighted", "nc2_W", "fitted_E_W", "fitted_E_H",
                                 "fitted_E_H_centred", "bias_norm", "analysis_seconds", "train_seconds",
                                 "wall_seconds", "final_loss", "wd_exposure")},
    "late_drift_W_norm": _FINITE, "late_drift_mean_h_norm": _FINITE, "logit_margin": _FINITE,
    "late_drift_cos_minority": Bounds(-2 - 2 * ROUNDING, 2 + 2 * ROUNDING, "a difference of two cosines"),
    "lpm_R_effective": Bounds(0, math.inf, "an effective imbalance ratio >= 0, or inf"),
    "lpm_R0": _RATIO_R0, "lpm_centred_R0": _RATIO_R0,
    "resumed_from_epoch": _EPOCH,
    "test_minority_errors": _COUNT, "test_minority_errors_to_majority": _COUNT,
}
PROBE_BOUNDS: dict[str, Bounds] = {"epoch": _EPOCH, "cos_minority": _COSINE, "W_norm": _NONNEGATIVE,
                                   "mean_h_norm": _NONNEGATIVE}
LOG_BOUNDS: dict[str, Bounds] = {"epoch": _EPOCH, "loss": _NONNEGATIVE}


def _check_bounds(obj: dict[str, Any], bounds: dict[str, Bounds], where: str, nan_ok: bool = False) -> None:
    """Raise :class:`StoreError` naming the first field of ``obj`` outside its :class:`Bounds`; ``nan_ok``
    for the per-epoch rows (log.jsonl, late probes), which the trainer writes unconverted: a diverged run
    logs a NaN loss, and that is data (config.json and metrics.json store an undefined value as null)."""
    for key, b in bounds.items():
        if key not in obj:
            continue
        value = from_json_number(obj[key])
        if nan_ok and isinstance(value, float) and math.isnan(value):
            continue
        if isinstance(value, float) and math.isinf(value) and key not in _INFINITE_OK:
            raise StoreError(f"{where}: {key!r} must be finite ({b.why}); got {obj[key]!r}")
        problem = b.problem(value)
        if problem is None and key in _POSITIVE and value == 0:
            problem = f"must be > 0 ({b.why}); got {value!r}"
        if problem is not None:
            raise StoreError(f"{where}: {key!r} {problem}")


#: Largest run file read (config.json, metrics.json, log.jsonl, a submission record).  A finished run's
#: metrics.json holds about 1.6 KB and its log ~130 bytes per epoch (350 epochs: ~50 KB); 16 MiB is
#: 300 times the largest legitimate file, and a larger one would be copied whole into the report's data.
MAX_RUN_FILE_BYTES = 16 * 2 ** 20


def _read_text(path: Path) -> str:
    """The UTF-8 text of a run file, refused (named, with its size) above :data:`MAX_RUN_FILE_BYTES`
    before more than that is read."""
    with path.open("rb") as handle:
        data = handle.read(MAX_RUN_FILE_BYTES + 1)
    if len(data) > MAX_RUN_FILE_BYTES:
        raise StoreError(f"{path}: {path.stat().st_size} bytes, above the {MAX_RUN_FILE_BYTES}-byte limit of a run "
                         f"file (a run file holds a few KB), so it is not read")
    return data.decode("utf-8")


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise StoreError(f"{where}: not valid JSON (truncated or corrupt)") from None
    except RecursionError:  # the parser recurses once per level of nesting; no run file nests deeply
        raise StoreError(f"{where}: JSON nested too deeply (corrupt)") from None


def read_store_json(path: Path) -> Any:
    """The parsed JSON of one file of the store (every reader of the store's own files comes through
    here): :class:`StoreError` names the file and why when it is missing, unreadable, larger than
    :data:`MAX_RUN_FILE_BYTES`, not UTF-8, not JSON or nested too deeply to parse."""
    try:
        text = _read_text(path)
    except FileNotFoundError:
        raise StoreError(f"{path}: missing") from None
    except UnicodeDecodeError:
        raise StoreError(f"{path}: not UTF-8 text (corrupt)") from None
    except OSError as exc:
        raise StoreError(f"{path}: unreadable ({exc.strerror or type(exc).__name__})") from None
    return _parse_json(text, str(path))


def read_config(path: Path) -> dict[str, Any]:
    """config.json of a run, validated against :data:`CONFIG_SCHEMA`."""
    data = read_store_json(path)
    _check_schema(data, CONFIG_SCHEMA, str(path), CONFIG_OPTIONAL)
    _check_bounds(data, CONFIG_BOUNDS, str(path))
    return {k: from_json_number(v) for k, v in data.items()}


def read_metrics(path: Path) -> dict[str, Any]:
    """metrics.json of a finished run: the required keys present, every known metric a number (or null/inf)."""
    data = read_store_json(path)
    _check_schema(data, {k: _METRIC for k in METRICS_REQUIRED}, str(path))
    for key in METRIC_NUMBERS:
        if key in data and not _CHECKS[_METRIC](data[key]):
            raise StoreError(f"{path}: {key!r} must be {_METRIC}, got {data[key]!r:.40}")
    if "late_probes" in data:
        if not isinstance(data["late_probes"], list):
            raise StoreError(f"{path}: 'late_probes' must be a list, got {data['late_probes']!r:.40}")
        for i, probe in enumerate(data["late_probes"]):
            _check_schema(probe, PROBE_SCHEMA, f"{path}: late_probes[{i}]")
            _check_bounds(probe, PROBE_BOUNDS, f"{path}: late_probes[{i}]", nan_ok=True)
    _check_bounds(data, METRIC_BOUNDS, str(path))
    return {k: from_json_number(v) for k, v in data.items()}


def read_log(path: Path) -> list[dict[str, Any]]:
    """log.jsonl: one JSON object per epoch (empty list if the file does not exist yet)."""
    if not path.is_file():
        return []
    try:
        lines = _read_text(path).splitlines()
    except UnicodeDecodeError:
        raise StoreError(f"{path}: not UTF-8 text (corrupt)") from None
    except OSError as exc:
        raise StoreError(f"{path}: unreadable ({type(exc).__name__})") from None
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = _parse_json(line, f"{path}: line {i}")
        _check_schema(row, LOG_SCHEMA, f"{path}: line {i}")
        _check_bounds(row, LOG_BOUNDS, f"{path}: line {i}", nan_ok=True)
        out.append(row)
    return out


@dataclass
class Run:
    """A stored run: its folder, config, and metrics (empty until the run has finished)."""

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return bool(self.metrics)

    @property
    def log(self) -> list[dict[str, Any]]:
        """Per-epoch log lines (empty if none); :class:`StoreError` if the file is corrupt."""
        return read_log(self.path / "log.jsonl")


def load_run(path: str | Path) -> Run:
    """Load and validate the run stored in ``path`` (``R = "inf"`` comes back as ``math.inf``).

    Raises :class:`StoreError` naming the file and the reason if any of its files is invalid."""
    path = Path(path)
    config = read_config(path / "config.json")
    metrics_path = path / "metrics.json"
    metrics = read_metrics(metrics_path) if metrics_path.exists() else {}
    read_log(path / "log.jsonl")
    return Run(path, config, metrics)


@dataclass
class StoreScan:
    """The valid runs of a store, ``(path, reason)`` for every run folder skipped, and ``(path, kept)`` for
    every folder that holds the same run (same config, seed included) as the folder ``kept``, counted once."""

    runs: list[Run]
    skipped: list[tuple[Path, str]]
    duplicates: list[tuple[Path, Path]] = field(default_factory=list)


def duplicate_reason(kept: Path) -> str:
    """Why a folder is not counted: it holds the run of ``kept`` (a copied folder is not another seed)."""
    return f"the same run as {kept.name} (same config, seed included): counted once"


def _one_per_config(runs: list[Run]) -> tuple[list[Run], list[tuple[Path, Path]]]:
    """``runs`` with one run per config (:func:`config_hash`, seed included) and ``(path, kept)`` for the
    others.  The folder :func:`run_dir` names for the config is kept when present (a copy such as
    ``R10 (copy)`` is the duplicate), else the first by name."""
    by_hash: dict[str, list[Run]] = {}
    for run in runs:
        by_hash.setdefault(config_hash(run.config), []).append(run)
    kept_runs, duplicates = [], []
    for same in by_hash.values():
        same.sort(key=lambda r: (r.path.name != _canonical_name(r), r.path.name))
        kept_runs.append(same[0])
        duplicates += [(r.path, same[0].path) for r in same[1:]]
    return sorted(kept_runs, key=lambda r: r.path.name), sorted(duplicates)


def _canonical_name(run: Run) -> str:
    try:
        return run_dir(run.path.parent, run.config).name
    except (KeyError, TypeError, ValueError, OverflowError):
        return ""


def scan_runs(root: str | Path = "runs", finished_only: bool = True) -> StoreScan:
    """Every valid run under ``root`` (sorted by folder name; unfinished ones only if asked) and every
    folder that holds a run file but was skipped, with the reason (a report shows these)."""
    root = Path(root)
    runs: list[Run] = []
    skipped: list[tuple[Path, str]] = []
    if not root.is_dir():
        return StoreScan(runs, skipped)
    for p in sorted(root.iterdir()):
        if not p.is_dir() or p.name.startswith(".") or not any(
                (p / f).exists() for f in ("config.json", "metrics.json", "log.jsonl")):
            continue
        try:
            run = load_run(p)
        except StoreError as exc:
            skipped.append((p, str(exc)))
            continue
        if run.finished or not finished_only:
            runs.append(run)
    runs, duplicates = _one_per_config(runs)
    return StoreScan(runs, skipped, duplicates)


def list_runs(root: str | Path = "runs", finished_only: bool = True) -> list[Run]:
    """The valid runs of :func:`scan_runs` (use that to also learn which folders were skipped and why)."""
    return scan_runs(root, finished_only).runs


SUBMITTED_DIR = ".submitted"
FAILED_FILE = "failed.json"  # written by a run that raised: error, host, job id, traceback tail


@dataclass(frozen=True)
class Failure:
    """A run's failed.json (experiments/runner.py): the error's first line, the job id, the traceback tail."""

    error: str
    job_id: str | None
    traceback: tuple[str, ...]


def read_failure(path: Path) -> Failure:
    """failed.json at ``path``, read by the guarded reader and checked: ``error`` text, ``job_id`` text or
    null, ``traceback`` a list of text lines; :class:`StoreError` names the file and what is wrong."""
    data = read_store_json(path)
    if not isinstance(data, dict):
        raise StoreError(f"{path}: expected a JSON object, got {type(data).__name__}")
    error, job_id, tb = data.get("error", "?"), data.get("job_id"), data.get("traceback", [])
    if not isinstance(error, str):
        raise StoreError(f"{path}: 'error' must be text, got {error!r:.40}")
    if not (job_id is None or isinstance(job_id, str)):
        raise StoreError(f"{path}: 'job_id' must be text or null, got {job_id!r:.40}")
    if not (isinstance(tb, list) and all(isinstance(line, str) for line in tb)):
        raise StoreError(f"{path}: 'traceback' must be a list of text lines, got {tb!r:.40}")
    return Failure(error, job_id, tuple(tb))


def record_submission(root: str | Path, preset: str, run_paths: list[Path]) -> Path:
    """Record that the runs ``run_paths`` of ``preset`` were submitted (``status`` lists the ones with
    no folder yet as pending).  One file per distinct grid, named by a hash of its folder names."""
    names = sorted(Path(p).name for p in run_paths)
    digest = hashlib.sha256(json.dumps([preset, names]).encode()).hexdigest()[:12]
    path = Path(root) / SUBMITTED_DIR / f"{preset}-{digest}.json"
    if not path.is_file():
        write_json_atomic(path, {"preset": preset, "runs": names})
    return path


#: The folder name :func:`run_dir` gives a run: dataset, architecture, K_A, R (``{R:g}`` or inf) and the
#: 12-digit config hash.  A name in a submission record is data: anything else is not a run.
RUN_NAME = re.compile(r"[a-z0-9-]+_[a-z0-9-]+_KA\d+_R(?:inf|[0-9.e+-]+)_[0-9a-f]{12}")


def submitted_runs(root: str | Path) -> tuple[dict[str, set[str]], list[tuple[Path, str]]]:
    """``{preset: run folder names}`` over every recorded submission, and ``(path, reason)`` for each
    unreadable record and for each name in a record that is not a run folder name (:data:`RUN_NAME`),
    which is ignored."""
    grids: dict[str, set[str]] = {}
    skipped: list[tuple[Path, str]] = []
    folder = Path(root) / SUBMITTED_DIR
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = read_store_json(path)
            ok = (isinstance(data, dict) and isinstance(data.get("preset"), str) and isinstance(data.get("runs"), list))
            if not ok:
                raise StoreError(f"{path}: expected {{'preset': str, 'runs': [folder names]}}")
        except StoreError as exc:
            skipped.append((path, str(exc)))
            continue
        names = [n for n in data["runs"] if isinstance(n, str) and RUN_NAME.fullmatch(n)]
        skipped += [(path, f"{n!r:.80} is not a run folder name; ignored") for n in data["runs"] if n not in names]
        grids.setdefault(data["preset"], set()).update(names)
    return grids, skipped
