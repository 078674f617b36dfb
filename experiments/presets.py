"""Named grids of runs: ``cpu-smoke`` (seconds, for tests), ``cpu-report`` (about 10 minutes on 2 CPU
cores, real FashionMNIST), ``cpu-regime`` (under an hour on 2 CPU cores, at the paper's weight-decay
exposure), ``paper`` (Section 4.C / 5 at full scale, for a GPU).

A preset is a base config plus sub-grids; each sub-grid is a product over its axes, where an axis
named ``"R,n_majority"`` zips two keys (Fig. 5 fixes ``n_B`` and sets ``n_A = n_B R``).  Overrides
given to :func:`preset_configs` replace a key in every config; a list value sweeps over it.
"""
from __future__ import annotations

import itertools
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from tqdm.auto import tqdm

from experiments.executors import (FINISHED_BEFORE, RUNNING_ELSEWHERE, JobOutcome, RunJob, SlurmOptions,
                                   default_workers, load_data,
                                   run_local_submitit, run_pool, submit, submitit_executor)
from experiments.regime import PAPER_PRESET, REGIME_PRESET, REPORT_PRESET
from experiments.store import Run, load_run, record_submission, run_dir
from experiments.trainer import TrainConfig
from lpm_verify.errors import LPMInputError, require

INF = math.inf
# Seeds of every configuration an experiment check decides on (>= 3, see theorems/figure*/table*).
CHECK_SEEDS = [0, 1, 2]
# Fig. 7: "the first two classes in FashionMNIST" (T-shirt/top, Trouser), as a two-class class order.
BINARY_CLASSES = (0, 1)
# Seeds of the cpu-regime preset: two, because each run trains ~90,000 SGD steps to reach the paper's
# exposure and the grid must fit an hour on 2 cores; every criterion still holds seed by seed.
REGIME_SEEDS = [0, 1]
# Epochs of the cpu-regime preset: with n_A = 500, K_A = 7 (N' = 3500 to 5000, 28 to 39 steps of 128 per
# epoch) and the paper's schedule shape, 3200 epochs give X = sum_t eta_t lambda/(1 - beta) of 16.6 to 23 at
# lambda = 5e-4 (experiments.trainer.weight_decay_exposure), the paper's ~17 (350 epochs of 258 steps).
REGIME_EPOCHS = 3200


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
    REPORT_PRESET: Preset(
        description="~10 minutes on 2 CPU cores: real FashionMNIST, 3 seeds each; K_A in {3,5,7}, R from 1 to "
                    "n_A (n_B = 1) and inf, two weight decays; oversampling w_r in {10, 100, 500} at R = 500; "
                    "binary runs on the first two classes (Fig. 7)",
        base=dict(dataset="fashion-mnist", arch="mlp", width=64, n_majority=500, epochs=120, bias=False,
                  device="cpu", checkpoint_every=20),
        grids=({"K_A": [3, 5, 7], "R": [1, 10, 25, 100, 500, INF], "wd": [5e-4, 5e-3], "seed": CHECK_SEEDS},
               # Fig. 6 / Table 2 analogue: oversampling at the largest ratio (w_r = 1 is above).
               {"K_A": [3, 5, 7], "R": [500], "wd": [5e-4], "oversample": [10, 100, 500], "seed": CHECK_SEEDS},
               # Fig. 5 at fixed n_B: the R = 1 runs with n_B = 1, the n_B of the R = 500 runs above
               # (n_A = n_B R = 500 is the whole majority subset), so R = 1 and R = 500 differ only in
               # the majority data, as in the paper's Fig. 5 (n_B = 6, n_A = 6 R).
               {"K_A": [3, 5, 7], "R,n_majority": [(1, 1)], "wd": [5e-4], "seed": CHECK_SEEDS},
               # Fig. 7 analogue: balanced binary training on the first two classes (K_A = 1, R = 1 makes
               # class 1 a "minority" of the same size); a wider last layer gives 256 entries per w_k.
               {"K_A": [1], "R": [1], "class_order": [BINARY_CLASSES], "width": [256], "seed": CHECK_SEEDS}),
        workers=2, threads=1,
        notes="Small n_A makes an epoch cheap, so every run trains to ~zero loss (terminal phase); "
              "R = 500 is the largest finite ratio the subset allows (n_B = 1).  The last layer has no "
              "bias, as in the LPM.  Weight decays 5e-4 (the paper's) and 5e-3 (Fig. 2: collapse earlier).  "
              "Three seeds (subset and initialisation) per configuration: the experiment checks' criteria "
              "are stated over them.  Far from the paper's regime: weight-decay exposure X ~ 0.5 at 5e-4 "
              "(the paper's ~17); the experiment checks say so per claim (experiments/regime.py).",
    ),
    REGIME_PRESET: Preset(
        description="under an hour on 2 idle CPU cores: the cpu-report MLP at the paper's weight-decay exposure "
                    "(X ~ 17 at 5e-4: 3200 epochs of ~28 steps, the paper's schedule shape) on the settings the "
                    "claims need: K_A = 7 with wd 5e-4 (R 1..500 and inf: Figs. 2, 4, 5, Tables 1, 3, 4) and "
                    "5e-3 (Fig. 2), Fig. 5 at fixed n_B = 1, Fig. 7's two classes; 2 seeds",
        base=dict(dataset="fashion-mnist", arch="mlp", width=64, n_majority=500, epochs=REGIME_EPOCHS, bias=False,
                  device="cpu", checkpoint_every=400, K_A=7),
        grids=(
            # Figs. 2/4, Tables 1/3/4: R points 100-500 bracket the transition the cpu-report store saw
            # (cosine 0.64-0.99 at R = 500), R = inf is Table 1's setting.
            {"R": [1, 100, 250, 500, INF], "wd": [5e-4], "seed": REGIME_SEEDS},
            # Fig. 2's larger weight decay collapses earlier: its grid starts lower.
            {"R": [1, 25, 100, 250, 500], "wd": [5e-3], "seed": REGIME_SEEDS},
            # Fig. 5 at fixed n_B = 1 (n_A = n_B R = 500 at R = 500, the largest R): the R = 1 run with n_A = 1.
            {"R,n_majority": [(1, 1)], "wd": [5e-4], "seed": REGIME_SEEDS},
            # Fig. 7: the first two classes; n_A = 2000 gives 32 steps per epoch, X ~ 19 in the same epochs.
            {"K_A": [1], "R": [1], "n_majority": [2000], "class_order": [BINARY_CLASSES], "wd": [5e-4],
             "seed": REGIME_SEEDS},
        ),
        workers=2, threads=1,
        notes="Exposure comes from epochs x steps at a small n_A with the paper's schedule (lr 0.1, /10 at 1/3 "
              "and 2/3, batch 128, momentum 0.9): the grid is trimmed (K_A = 7 only, 2 seeds), not the exposure.  "
              "Fig. 5's R = 1 run at n_B = 1 has one step per epoch (X ~ 0.6), as the paper's own n_B = 6 run "
              "has (60 examples, one batch); its regime is the R = 500 run's.  Fig. 7 at width 64: the MLP's "
              "cost grows with the width, and 64 entries per w_k still give a histogram.",
    ),
    PAPER_PRESET: Preset(
        description="the paper's grid on a GPU: Fig. 4 / Tables 1, 3, 4 (VGG11/ResNet18 on FashionMNIST, "
                    "VGG13/ResNet18 on CIFAR10, K_A in {3,5,7}, R in {1,10,100,1000,inf}, 350 epochs), "
                    "Fig. 5 (n_B = 6 or 5, R in {1, 1000}), Fig. 6 / Table 2 (R = 1000, w_r in {1,10,100,1000}), "
                    "Fig. 2's second weight decay 5e-3 (CIFAR10 VGG13 K_A = 7), Fig. 7 (VGG11, first two "
                    "FashionMNIST classes); 3 seeds each",
        base=dict(epochs=350, lr=0.1, momentum=0.9, wd=5e-4, batch_size=128, bias=True, device="cuda",
                  checkpoint_every=10),
        grids=(
            # Fig. 4, Tables 1/3/4: all n_A = 6000 (5000) examples of each majority class.
            {"dataset": ["fashion-mnist"], "arch": ["vgg11", "resnet18"], "n_majority": [6000],
             "K_A": [3, 5, 7], "R": [1, 10, 100, 1000, INF], "seed": CHECK_SEEDS},
            {"dataset": ["cifar10"], "arch": ["vgg13", "resnet18"], "n_majority": [5000],
             "K_A": [3, 5, 7], "R": [1, 10, 100, 1000, INF], "seed": CHECK_SEEDS},
            # Fig. 2: the second weight decay 5e-3 beside 5e-4 (CIFAR10, VGG13, K_A = 7, n_A = 5000), and R
            # points between the decades at both, where the transition is read off the two curves.
            {"dataset": ["cifar10"], "arch": ["vgg13"], "n_majority": [5000], "K_A": [7],
             "R": [1, 10, 100, 1000, INF], "wd": [5e-3], "seed": CHECK_SEEDS},
            {"dataset": ["cifar10"], "arch": ["vgg13"], "n_majority": [5000], "K_A": [7],
             "R": [30, 300, 2500], "wd": [5e-4, 5e-3], "seed": CHECK_SEEDS},
            # Fig. 5: n_B = 6 (FashionMNIST) / 5 (CIFAR10) examples per minority class, n_A = n_B R.
            {"dataset": ["fashion-mnist"], "arch": ["vgg11", "resnet18"], "K_A": [3, 5, 7],
             "R,n_majority": [(1, 6), (1000, 6000)], "seed": CHECK_SEEDS},
            {"dataset": ["cifar10"], "arch": ["vgg13", "resnet18"], "K_A": [3, 5, 7],
             "R,n_majority": [(1, 5), (1000, 5000)], "seed": CHECK_SEEDS},
            # Fig. 6 / Table 2: R = 1000 as in Fig. 5, oversampling rates w_r.
            {"dataset": ["fashion-mnist"], "arch": ["vgg11", "resnet18"], "K_A": [3, 5, 7],
             "R": [1000], "n_majority": [6000], "oversample": [1, 10, 100, 1000], "seed": CHECK_SEEDS},
            {"dataset": ["cifar10"], "arch": ["vgg13", "resnet18"], "K_A": [3, 5, 7],
             "R": [1000], "n_majority": [5000], "oversample": [1, 10, 100, 1000], "seed": CHECK_SEEDS},
            # Fig. 7: VGG11 on the first two FashionMNIST classes, 6000 examples each.
            {"dataset": ["fashion-mnist"], "arch": ["vgg11"], "n_majority": [6000], "K_A": [1], "R": [1],
             "class_order": [BINARY_CLASSES], "seed": CHECK_SEEDS},
            # Fig. 4's caption: ResNet18's minority cosine "would hit 1 for K_A = 7 when R = 5000 on CIFAR10,
            # and when R = 3000 on FashionMNIST" (n_B = 2 and 1).
            {"dataset": ["fashion-mnist"], "arch": ["resnet18"], "n_majority": [6000], "K_A": [7], "R": [3000],
             "seed": CHECK_SEEDS},
            {"dataset": ["cifar10"], "arch": ["resnet18"], "n_majority": [5000], "K_A": [7], "R": [5000],
             "seed": CHECK_SEEDS},
        ),
        notes="The authors' setup (Section 4.C) with each difference stated.  Same: SGD, momentum 0.9, weight decay "
              "5e-4 (and 5e-3 for Fig. 2), lr 0.1 divided by 10 at 1/3 and 2/3 of 350 epochs, batch 128, "
              "cross-entropy; VGG with BatchNorm in place of dropout and a 4096-wide classifier head (p = 4096, as "
              "the authors' code); float32 training (bf16 only with --bf16, recorded in the config); FashionMNIST "
              "resized (bilinear) to 32x32; a last-layer bias, as the authors' nn.Linear has (the LPM omits it, "
              "Section 2: the report's analysis fits (E_W, E_H) to W and H alone).  Different: ResNet18 is the "
              "CIFAR-style variant (3x3 stem, no max-pool), the paper names no variant; runs are seeded (subset "
              "and initialisation) and every configuration has 3 seeds, where the paper reports one run each.  "
              "Every configuration decides an experiment check (Figs. 2, 4-7, Tables 1-4, Fig. 4's ResNet18 "
              "R = 3000 / 5000).  In GPU time the grid is dominated by the n_A = 6000 / 5000 runs (350 epochs "
              "each); the Fig. 5 runs with n_A = 6 / 5 are cheap.",
        workers=1,
    ),
    # Control 1 of "why theory and practice differ" (calibration): backbone wd 0, explicit penalties lambda_W = lambda_H = lambda on the
    # last layer / per-example features; the penalized LPM then collapses exactly for
    # R >= R_c = (1/lambda^2 - K_B)/K_A (theorems/penalized_lpm.py), here R_c = 50 for K_A = 5
    # (lambda = (K_A R_c + K_B)^{-1/2} = 255^{-1/2}); R swept around it, three seeds.
    "cpu-control-penalized": Preset(
        description="control 1 (calibration of the penalized LPM): the cpu-report MLP with wd 0 and explicit penalties lambda_W = "
                    "lambda_H = 255^-1/2 (predicted collapse at R = 50 for K_A = 5), R in 10..250, 3 seeds",
        base=dict(dataset="fashion-mnist", arch="mlp", width=64, n_majority=500, epochs=120, bias=False,
                  device="cpu", checkpoint_every=20, wd=0.0, classifier_penalty=255 ** -0.5,
                  feature_penalty=255 ** -0.5, K_A=5),
        grids=({"R": [10, 15, 20, 25, 35, 50, 100, 250], "seed": [0, 1, 2]},),
        workers=1, threads=1, lpm=False,
    ),
    # Control 3 of "why theory and practice differ" (feature learning): the cpu-regime MLP with a frozen random
    # backbone, only W_L and the features' final linear map train (models.freeze_backbone); the gap of the
    # out-of-sample calibrations on these runs against the cpu-regime family of the same K_A and wd separates
    # the last-layer geometry (what the LPM models) from feature learning.  Same exposure as cpu-regime.
    "cpu-control-frozen": Preset(
        description="control 3 (feature learning): the cpu-regime MLP with a frozen random backbone (only the last "
                    "layer and the features' final linear map train), K_A = 7, wd 5e-3, R in {1, 25, 100, 500}, 2 "
                    "seeds, at the paper's weight-decay exposure",
        base=dict(dataset="fashion-mnist", arch="mlp", width=64, n_majority=500, epochs=REGIME_EPOCHS, bias=False,
                  device="cpu", checkpoint_every=400, K_A=7, wd=5e-3, frozen_backbone=True),
        grids=({"R": [1, 25, 100, 500], "seed": REGIME_SEEDS},),
        workers=2, threads=1,
        notes="wd 5e-3: the cpu-regime family that collapses earliest, so a shift of the transition either way "
              "stays on or near the grid.",
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
    """The configs of preset ``name`` with ``overrides`` (list values sweep; ``None`` is ignored).

    A sub-grid that an override makes invalid (``K_A = 7`` in the two-class grid) is left out, and
    :func:`inapplicable_grids` names it; when every sub-grid is, the first one's error is raised with its name.
    """
    require(name in PRESETS, "preset", f"one of {tuple(PRESETS)}", name)
    configs, seen, errors = [], set(), []
    for index, grid in enumerate(PRESETS[name].grids, 1):
        try:
            grid_configs = _grid_configs(name, grid, overrides)
        except LPMInputError as exc:
            errors.append(LPMInputError(f"{exc} (in sub-grid {index} of preset {name}: {_describe(grid)})"))
            continue
        for cfg in grid_configs:
            if cfg not in seen:
                seen.add(cfg)
                configs.append(cfg)
    if not configs and errors:
        raise errors[0]
    return configs


def inapplicable_grids(name: str, **overrides: Any) -> list[str]:
    """One line per sub-grid of preset ``name`` that ``overrides`` make invalid (left out by
    :func:`preset_configs`): its number, its axes and the reason."""
    out = []
    for index, grid in enumerate(PRESETS[name].grids, 1):
        try:
            _grid_configs(name, grid, overrides)
        except LPMInputError as exc:
            out.append(f"sub-grid {index} of preset {name} ({_describe(grid)}): {exc}")
    return out


def _describe(grid: dict[str, list]) -> str:
    return ", ".join(f"{key} in {values}" for key, values in grid.items() if key != "seed")


def _grid_configs(name: str, grid: dict[str, list], overrides: dict[str, Any]) -> list[TrainConfig]:
    rows = [{**PRESETS[name].base, **row, "preset": name} for row in _expand(grid)]
    for key, value in overrides.items():
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        rows = [{**row, key: v} for row in rows for v in values]
    return [TrainConfig(**row) for row in rows]


class GridFailedError(RuntimeError):
    """Some jobs of a grid failed (the others finished); the message names the first failure."""


def _outcome_run(outcome: JobOutcome, cfg: TrainConfig) -> Run:
    path = Path(outcome.path)
    if outcome.status != RUNNING_ELSEWHERE or (path / "config.json").is_file():
        return load_run(path)
    return Run(path, cfg.to_dict(), {})  # claimed by a job that has not written its config yet


def run_preset(name: str, out: str | Path = "runs", data_root: str | Path | None = None, resume: bool = False,
               progress: bool = True, workers: int | None = None, executor: str = "pool",
               on_done: Callable[[JobOutcome], None] | None = None, **overrides: Any) -> list[Run]:
    """Run every config of preset ``name`` (finished runs in ``out`` are reused) and return them.

    ``executor``: ``"pool"`` (a process pool; in this process if one worker) or ``"local"`` (submitit
    subprocesses, preemptible and requeued like SLURM jobs).  ``workers`` processes (default: the
    preset's, capped at the CPU count) each use the preset's number of torch threads, so small CPU runs
    use the cores in parallel instead of fighting over them.  A run another live job is training is
    returned unfinished (``on_done`` sees it as ``RUNNING_ELSEWHERE``).
    """
    require(executor in ("pool", "local"), "executor", "'pool' or 'local' (use submit_preset for 'slurm')",
            executor)
    configs = preset_configs(name, **overrides)
    preset = PRESETS[name]
    workers = default_workers(workers, preset.workers, len(configs), any(c.device.startswith("cuda") for c in configs))
    for d in {c.dataset for c in configs}:  # fail fast, in this process, if a dataset is missing
        load_data(d, None if data_root is None else str(data_root))
    record_submission(out, name, [run_dir(out, c.to_dict()) for c in configs])
    log_lines = progress and not sys.stderr.isatty()  # a log file gets one line per run, not a bar
    job = RunJob(str(out), None if data_root is None else str(data_root), resume, preset.lpm, preset.threads,
                 progress=progress and not log_lines and workers == 1 and executor == "pool")
    desc = f"preset {name} ({workers} {'worker' if workers == 1 else 'workers'})"
    bar = tqdm(total=len(configs), desc=desc, disable=not progress or log_lines, dynamic_ncols=True)
    finished = [0]

    def done(outcome: JobOutcome) -> None:
        bar.update(1)
        finished[0] += 1
        if log_lines:
            print(f"{desc}: {finished[0]}/{len(configs)} runs done ({outcome.status}: {Path(outcome.path).name})",
                  file=sys.stderr, flush=True)
        if on_done is not None:
            on_done(outcome)
    if executor == "pool":
        outcomes: list[Any] = run_pool(configs, job, workers, on_done=done)
    else:  # finished runs are not submitted (a job would only find them finished)
        todo = [i for i, c in enumerate(configs) if not (run_dir(out, c.to_dict()) / "metrics.json").is_file()]
        outcomes = [JobOutcome(str(run_dir(out, c.to_dict())), FINISHED_BEFORE) for c in configs]
        for i in range(len(configs)):
            if i not in todo:
                done(outcomes[i])
        for i, o in zip(todo, run_local_submitit([configs[i] for i in todo], job, out, workers, on_done=done)):
            outcomes[i] = o
    bar.close()
    failed = [(c, o) for c, o in zip(configs, outcomes) if not isinstance(o, JobOutcome)]
    if failed:
        last = (str(failed[0][1]).strip().splitlines() or [type(failed[0][1]).__name__])[-1]
        raise GridFailedError(f"{len(failed)} of {len(configs)} jobs failed; first: "
                              f"{run_dir(out, failed[0][0].to_dict())}: {last[:200]} "
                              f"(job logs in {Path(out) / '.submitit'})")
    return [_outcome_run(o, c) for o, c in zip(outcomes, configs)]


def submit_preset(name: str, out: str | Path = "runs", data_root: str | Path | None = None,
                  resume: bool = True, slurm: SlurmOptions | None = None, **overrides: Any) -> list[Any]:
    """Submit every unfinished config of preset ``name`` to SLURM through submitit (one job per run, or
    one job array with ``slurm.array_parallelism``) and return the submitit jobs without waiting.

    Finished runs are not submitted; a job whose run another job holds skips it, so re-submitting the
    whole grid after a crash trains only what is missing.  Jobs resume interrupted runs by default."""
    slurm = slurm or SlurmOptions()
    configs = preset_configs(name, **overrides)
    record_submission(out, name, [run_dir(out, c.to_dict()) for c in configs])
    todo = [c for c in configs if not (run_dir(out, c.to_dict()) / "metrics.json").is_file()]
    if not todo:
        return []
    job = RunJob(str(Path(out).resolve()), None if data_root is None else str(Path(data_root).resolve()), resume,
                 PRESETS[name].lpm, PRESETS[name].threads)
    ex = submitit_executor("slurm", out, slurm)
    return submit(todo, job, ex, array=slurm.array_parallelism is not None)
