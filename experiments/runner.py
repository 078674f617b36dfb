"""One run end to end: subset -> train (resumable) -> analysis -> store."""
from __future__ import annotations

import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from experiments.analysis import analyze
from experiments.run_locks import STALE_AFTER, claimed, current_job_id
from experiments.data import ImageData, load_dataset
from experiments.store import FAILED_FILE, Run, json_number, load_run, run_dir
from experiments.subsets import imbalanced_subset
from experiments.trainer import TrainConfig, regime_diagnostics, resolve_device, train
from lpm_verify.errors import LPMInputError
from lpm_verify.io import write_json_atomic


def _save_subset(path: Path, indices: np.ndarray, class_order: tuple[int, ...]) -> None:
    tmp = path.with_name(".subset.tmp.npz")
    np.savez(tmp, indices=indices, class_order=np.asarray(class_order))
    tmp.replace(path)


def run_experiment(cfg: TrainConfig, out: str | Path = "runs", data_root: str | Path | None = None,
                   resume: bool = False, progress: bool = True, data: ImageData | None = None,
                   on_epoch_end: Callable[[int], None] | None = None, lpm: bool = True,
                   stale_after: float = STALE_AFTER) -> Run:
    """Train and analyse ``cfg``; a finished run already in the store is returned as is.

    ``lpm`` adds the LPM prediction for the fitted (E_W, E_H) (seconds per run).
    The run is claimed first (:mod:`experiments.run_locks`): a run another live job is training raises
    :class:`~experiments.run_locks.RunClaimedError`; a claim with no heartbeat for ``stale_after`` seconds
    (or whose process is gone) is taken over.  A run with a checkpoint but no metrics was interrupted:
    ``resume=True`` continues it; otherwise this raises rather than silently discarding or reusing the
    partial run.  A failure is recorded in ``failed.json`` (message and traceback tail) for ``status``.
    """
    device = resolve_device(cfg)
    config = cfg.to_dict()
    path = run_dir(out, config)
    if (path / "metrics.json").is_file():
        return load_run(path)
    with claimed(path, stale_after):
        if (path / "metrics.json").is_file():  # finished by another job while we waited for the claim
            return load_run(path)
        if (path / "checkpoint.pt").is_file() and not resume:
            raise LPMInputError(f"run {path} was interrupted (checkpoint.pt, no metrics.json) and no job is "
                                "training it; pass --resume to continue it")
        try:
            run = _train_and_analyse(cfg, path, device, data, data_root, resume, progress, on_epoch_end, lpm)
        except Exception as exc:
            write_json_atomic(path / FAILED_FILE, {
                "error": f"{type(exc).__name__}: {exc}", "time": time.time(), "host": platform.node(),
                "job_id": current_job_id(),
                "traceback": traceback.format_exc().splitlines()[-12:]})
            raise
        (path / FAILED_FILE).unlink(missing_ok=True)
        return run


def _train_and_analyse(cfg: TrainConfig, path: Path, device: torch.device, data: ImageData | None,
                       data_root: str | Path | None, resume: bool, progress: bool,
                       on_epoch_end: Callable[[int], None] | None, lpm: bool) -> Run:
    config = cfg.to_dict()
    t0 = time.perf_counter()
    data = data if data is not None else load_dataset(cfg.dataset, data_root)
    subset = imbalanced_subset(data.y_train, cfg.K_A, cfg.n_majority, cfg.R, cfg.seed, cfg.class_order)
    path.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path / "config.json", {
        **{k: json_number(v) for k, v in config.items()},
        "data_source": data.source, "n_train": int(len(subset.indices)),
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__,
                     "platform": platform.platform(),
                     "cuda_device": torch.cuda.get_device_name(device) if device.type == "cuda" else None},
    })
    _save_subset(path / "subset.npz", subset.indices, subset.class_order)
    result = train(cfg, data, subset, path, resume=resume, progress=progress, on_epoch_end=on_epoch_end)
    dd = result.data
    metrics = analyze(result.model, dd.X_train, dd.y_train, dd.X_test, dd.y_test, cfg.K_A, cfg.R, cfg.oversample, lpm=lpm)
    metrics.update({"train_seconds": result.train_seconds, "wall_seconds": time.perf_counter() - t0,
                    "resumed_from_epoch": result.resumed_from, "data_bytes_on_device": dd.nbytes,
                    **regime_diagnostics(cfg, result.history)})
    write_json_atomic(path / "metrics.json", {k: json_number(v) for k, v in metrics.items()})
    return load_run(path)
