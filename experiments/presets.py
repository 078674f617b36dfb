"""Named grids of runs: ``cpu-smoke`` (seconds, for tests), ``cpu-report`` (about 10 minutes on 2 CPU
cores, real FashionMNIST), ``paper`` (Section 4.C / 5 at full scale, for a GPU).

A preset is a base config plus sub-grids; each sub-grid is a product over its axes, where an axis
named ``"R,n_majority"`` zips two keys (Fig. 5 fixes ``n_B`` and sets ``n_A = n_B R``).  Overrides
given to :func:`preset_configs` replace a key in every config; a list value sweeps over it.
"""
from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from experiments.data import ImageData, load_dataset
from experiments.runner import run_experiment
from experiments.store import Run, load_run
from experiments.trainer import TrainConfig
from lpm_verify.errors import require

INF = math.inf


@dataclass(frozen=True)
class Preset:
    """``base`` TrainConfig fields; ``grids`` of axes; ``workers`` processes of ``threads`` torch threads."""

    description: str
    base: dict[str, Any]
    grids: tuple[dict[str, list], ...]
    workers: int = 1
    threads: int | None = None
    lpm: bool = True  # compute the LPM prediction for each run's fitted (E_W, E_H)
    notes: str = ""


PRESETS: dict[str, Preset] = {
    "cpu-smoke": Preset(
        description="seconds on one CPU core: a small MLP, 2 runs, used by the tests",
        base=dict(dataset="fashion-mnist", arch="mlp", width=32, n_majority=100, K_A=5, epochs=6,
                  wd=5e-4, bias=False, device="cpu", checkpoint_every=2),
        grids=({"R": [1, 10]},),
        workers=1, threads=1, lpm=False,
    ),
    "cpu-report": Preset(
        description="~10 minutes on 2 CPU cores: real FashionMNIST, K_A in {3,5,7}, R from 1 to n_A "
                    "(n_B = 1) and inf, two weight decays; oversampling w_r in {10, 100, 500} at R = 500",
        base=dict(dataset="fashion-mnist", arch="mlp", width=64, n_majority=500, epochs=120, bias=False,
                  device="cpu", checkpoint_every=20),
        grids=({"K_A": [3, 5, 7], "R": [1, 10, 25, 100, 500, INF], "wd": [5e-4, 5e-3]},
               # Fig. 6 / Table 2 analogue: oversampling at the largest ratio (w_r = 1 is above).
               {"K_A": [3, 5, 7], "R": [500], "wd": [5e-4], "oversample": [10, 100, 500]}),
        workers=2, threads=1,
        notes="Small n_A makes an epoch cheap, so every run trains to ~zero loss (terminal phase); "
              "R = 500 is the largest finite ratio the subset allows (n_B = 1).  The last layer has no "
              "bias, as in the LPM.  Weight decays 5e-4 (the paper's) and 5e-3 (Fig. 2: collapse earlier).",
    ),
    "paper": Preset(
        description="the paper's grid on a GPU: Fig. 4 / Tables 1, 3, 4 (VGG11/ResNet18 on FashionMNIST, "
                    "VGG13/ResNet18 on CIFAR10, K_A in {3,5,7}, R in {1,10,100,1000,inf}, 350 epochs), "
                    "Fig. 5 (n_B = 6 or 5, R in {1, 1000}), Fig. 6 / Table 2 (R = 1000, w_r in {1,10,100,1000})",
        base=dict(epochs=350, lr=0.1, momentum=0.9, wd=5e-4, batch_size=128, bias=True, device="cuda",
                  checkpoint_every=10),
        grids=(
            # Fig. 4, Tables 1/3/4: all n_A = 6000 (5000) examples of each majority class.
            {"dataset": ["fashion-mnist"], "arch": ["vgg11", "resnet18"], "n_majority": [6000],
             "K_A": [3, 5, 7], "R": [1, 10, 100, 1000, INF]},
            {"dataset": ["cifar10"], "arch": ["vgg13", "resnet18"], "n_majority": [5000],
             "K_A": [3, 5, 7], "R": [1, 10, 100, 1000, INF]},
            # Fig. 5: n_B = 6 (FashionMNIST) / 5 (CIFAR10) examples per minority class, n_A = n_B R.
            {"dataset": ["fashion-mnist"], "arch": ["vgg11", "resnet18"], "K_A": [3, 5, 7],
             "R,n_majority": [(1, 6), (1000, 6000)]},
            {"dataset": ["cifar10"], "arch": ["vgg13", "resnet18"], "K_A": [3, 5, 7],
             "R,n_majority": [(1, 5), (1000, 5000)]},
            # Fig. 6 / Table 2: R = 1000 as in Fig. 5, oversampling rates w_r.
            {"dataset": ["fashion-mnist"], "arch": ["vgg11", "resnet18"], "K_A": [3, 5, 7],
             "R": [1000], "n_majority": [6000], "oversample": [1, 10, 100, 1000]},
            {"dataset": ["cifar10"], "arch": ["vgg13", "resnet18"], "K_A": [3, 5, 7],
             "R": [1000], "n_majority": [5000], "oversample": [1, 10, 100, 1000]},
        ),
        workers=1,
    ),
    # Issue 10, control 1 (calibration): backbone wd 0, explicit penalties lambda_W = lambda_H = lambda on the
    # last layer / per-example features; the penalized LPM then collapses exactly for
    # R >= R_c = (1/lambda^2 - K_B)/K_A (theorems/penalized_lpm.py), here R_c = 50 for K_A = 5
    # (lambda = (K_A R_c + K_B)^{-1/2} = 255^{-1/2}); R swept around it, three seeds.
    "cpu-control-penalized": Preset(
        description="control 1 of issue 10: the cpu-report MLP with wd 0 and explicit penalties lambda_W = "
                    "lambda_H = 255^-1/2 (predicted collapse at R = 50 for K_A = 5), R in 10..250, 3 seeds",
        base=dict(dataset="fashion-mnist", arch="mlp", width=64, n_majority=500, epochs=120, bias=False,
                  device="cpu", checkpoint_every=20, wd=0.0, classifier_penalty=255 ** -0.5,
                  feature_penalty=255 ** -0.5, K_A=5),
        grids=({"R": [10, 15, 20, 25, 35, 50, 100, 250], "seed": [0, 1, 2]},),
        workers=1, threads=1, lpm=False,
    ),
}


def _expand(grid: dict[str, list]) -> list[dict[str, Any]]:
    keys = list(grid)
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        cfg: dict[str, Any] = {}
        for key, value in zip(keys, values):
            if "," in key:
                cfg.update(zip(key.split(","), value))
            else:
                cfg[key] = value
        out.append(cfg)
    return out


def preset_configs(name: str, **overrides: Any) -> list[TrainConfig]:
    """The configs of preset ``name`` with ``overrides`` (list values sweep; ``None`` is ignored)."""
    require(name in PRESETS, "preset", f"one of {tuple(PRESETS)}", name)
    preset = PRESETS[name]
    rows = [{**preset.base, **row, "preset": name} for grid in preset.grids for row in _expand(grid)]
    for key, value in overrides.items():
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        rows = [{**row, key: v} for row in rows for v in values]
    configs, seen = [], set()
    for row in rows:
        cfg = TrainConfig(**row)
        if cfg not in seen:
            seen.add(cfg)
            configs.append(cfg)
    return configs


_WORKER_DATA: dict[str, ImageData] = {}


def _worker_init(threads: int | None, data_root: str | None) -> None:
    if threads:
        torch.set_num_threads(threads)
    _WORKER_DATA["root"] = data_root  # type: ignore[assignment]


def _worker_run(cfg: TrainConfig, out: str, resume: bool, lpm: bool) -> Path:
    root = _WORKER_DATA["root"]
    if cfg.dataset not in _WORKER_DATA:
        _WORKER_DATA[cfg.dataset] = load_dataset(cfg.dataset, root)  # type: ignore[arg-type]
    return run_experiment(cfg, out, resume=resume, progress=False, data=_WORKER_DATA[cfg.dataset], lpm=lpm).path


def run_preset(name: str, out: str | Path = "runs", data_root: str | Path | None = None, resume: bool = False,
               progress: bool = True, workers: int | None = None, **overrides: Any) -> list[Run]:
    """Run every config of preset ``name`` (finished runs in ``out`` are reused) and return them.

    ``workers`` processes (default: the preset's, capped at the CPU count) each use the preset's
    number of torch threads, so small CPU runs use the cores in parallel instead of fighting over them.
    """
    configs = preset_configs(name, **overrides)
    preset = PRESETS[name]
    workers = min(workers or preset.workers, os.cpu_count() or 1, len(configs))
    if any(c.device.startswith("cuda") for c in configs):
        workers = 1
    datasets = {c.dataset for c in configs}
    if workers == 1:
        if preset.threads:
            torch.set_num_threads(preset.threads)
        data = {d: load_dataset(d, data_root) for d in datasets}
        bar = tqdm(configs, desc=f"preset {name}", disable=not progress, dynamic_ncols=True)
        return [run_experiment(c, out, resume=resume, progress=progress, data=data[c.dataset], lpm=preset.lpm)
                for c in bar]
    for d in datasets:  # fail fast, in this process, if a dataset is missing
        load_dataset(d, data_root)
    paths: dict[int, Path] = {}
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_init,
                             initargs=(preset.threads, None if data_root is None else str(data_root))) as pool:
        futures = {pool.submit(_worker_run, c, str(out), resume, preset.lpm): i for i, c in enumerate(configs)}
        for fut in tqdm(as_completed(futures), total=len(futures), desc=f"preset {name} ({workers} workers)",
                        disable=not progress, dynamic_ncols=True):
            paths[futures[fut]] = fut.result()
    return [load_run(paths[i]) for i in range(len(configs))]
