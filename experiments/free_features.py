"""Control 2 (dynamics): the unconstrained-features model itself trained like the ``cpu-report`` networks.

Free per-example features ``H  # (N, p)`` and classifiers ``W  # (K, p)`` are the parameters; the loss is
the batch-mean cross-entropy of ``H[idx] W^T``; SGD with the networks' learning rate, momentum, weight
decay, batch size, epochs and step schedule (read from the ``cpu-report`` preset, so they are the same
numbers), on the same class sizes (``n_A`` per majority class, ``n_B = floor(n_A / R)``), ``p`` = the MLP
width.  Init: ``W`` as ``nn.Linear`` (uniform in ``+-1/sqrt(p)``), ``h_i ~ N(0, I/p)``.

What SGD's weight decay on free features minimizes is exactly the penalized LPM
(:mod:`lpm_verify.penalized`) with ``lambda_W = wd`` and ``lambda_H = wd N`` (``(wd/2) sum_i ||h_i||^2 =
(wd N/2) mean_i ||h_i||^2``; every row is decayed at every step while its loss gradient arrives with
probability B/N and weight 1/B, so the expected update is the gradient of that objective).  So each run
is compared with that objective's optimum (reduced KKT solver): its minority cosine and its exact collapse
point ``n_B/N <= wd^2 N``.  If SGD stops short of that optimum and collapses where the networks do, the
gap is the optimization dynamics; if it follows the optimum, the gap is the backbone.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
import torch.nn.functional as F

from experiments.predictions import feature_norms
from experiments.subsets import minority_size
from lpm_verify import metrics as M
from lpm_verify.errors import require
from lpm_verify.io import write_json_atomic


@dataclass(frozen=True)
class FreeConfig:
    """One free-features run (hyperparameters default to the ``cpu-report`` preset's)."""

    K_A: int
    R: float
    wd: float
    seed: int = 0
    K: int = 10
    n_majority: int = 500
    p: int = 64
    epochs: int = 120
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int = 128
    milestones: tuple[float, ...] = (1 / 3, 2 / 3)

    def __post_init__(self) -> None:
        require(isinstance(self.K_A, int) and 0 < self.K_A < self.K, "K_A", f"an integer in [1, {self.K - 1}]",
                self.K_A)
        require(self.wd >= 0 and math.isfinite(self.wd), "wd", "a finite number >= 0", self.wd)
        require(math.isfinite(self.R), "R", "finite (the penalized optimum needs minority examples)", self.R)
        minority_size(self.n_majority, self.R)

    @property
    def sizes(self) -> tuple[int, ...]:
        n_B = minority_size(self.n_majority, self.R)
        return (self.n_majority,) * self.K_A + (n_B,) * (self.K - self.K_A)


def report_hyperparameters() -> dict[str, Any]:
    """The ``cpu-report`` networks' optimizer settings (TrainConfig defaults where the preset has none)."""
    from experiments.presets import PRESETS
    from experiments.regime import REPORT_PRESET
    from experiments.trainer import TrainConfig
    base = {**asdict(TrainConfig()), **PRESETS[REPORT_PRESET].base}
    return {k: base[k] for k in ("n_majority", "epochs", "lr", "momentum", "batch_size", "milestones")} | {
        "p": base["width"]}


def train_free(cfg: FreeConfig) -> dict[str, Any]:
    """Train one free-features model; returns its metrics (minority cosine, norms, loss, seconds)."""
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(cfg.seed)
    sizes = cfg.sizes
    N = sum(sizes)
    y = torch.repeat_interleave(torch.arange(cfg.K), torch.tensor(sizes))
    bound = 1 / math.sqrt(cfg.p)
    W = ((torch.rand(cfg.K, cfg.p, generator=gen) * 2 - 1) * bound).requires_grad_()
    H = (torch.randn(N, cfg.p, generator=gen) / math.sqrt(cfg.p)).requires_grad_()
    opt = torch.optim.SGD([W, H], lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.wd)
    loss_sum = 0.0
    for epoch in range(cfg.epochs):
        lr = cfg.lr * 0.1 ** sum(epoch >= round(f * cfg.epochs) for f in cfg.milestones)
        for group in opt.param_groups:
            group["lr"] = lr
        perm = torch.randperm(N, generator=gen)
        loss_sum = 0.0
        for start in range(0, N, cfg.batch_size):
            idx = perm[start:start + cfg.batch_size]
            if len(idx) < 2:  # as the network trainer (BatchNorm there): at most one example skipped
                continue
            loss = F.cross_entropy(H[idx] @ W.T, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
    Wn, Hn = W.detach().double().numpy(), H.detach().double().numpy()
    out: dict[str, Any] = {**M.between_class_cosines(Wn, cfg.K_A), **feature_norms(Wn, Hn),
                           "final_loss": loss_sum / N, "N": N, "n_minority": sizes[-1],
                           "train_acc": float(np.mean(np.argmax(Hn @ Wn.T, axis=1) == y.numpy())),
                           "seconds": time.perf_counter() - t0}
    return out


def optimum(cfg: FreeConfig) -> dict[str, Any]:
    """The penalized LPM optimum that SGD-with-weight-decay on free features targets (``lambda_W = wd``,
    ``lambda_H = wd N``): its minority cosine, regime, and exact collapse predicate ``n_B/N <= wd^2 N``."""
    from lpm_verify.penalized import PenalizedLPM
    from lpm_verify.solvers.penalized_symmetric import penalized_profile, reduced_summary, solve_float
    from lpm_verify.solvers.symmetric.profile import regime_name
    sizes = cfg.sizes
    N = sum(sizes)
    lw, lh = cfg.wd, cfg.wd * N
    problem = PenalizedLPM(tuple(float(s) for s in sizes), lw, lh)
    prof = penalized_profile(problem.fractions())
    point = solve_float(prof, lw, lh)
    summary = reduced_summary(prof, point, lw, lh)
    minority_group = prof.class_groups[-1]
    return {"opt_lambda_W": lw, "opt_lambda_H": lh, "opt_regime": regime_name(point.regime),
            "opt_cos_minority": summary.get(f"cos_{minority_group}", math.nan),
            "opt_collapsed": bool(sizes[-1] / N <= lw * lh),
            "opt_objective": summary["objective"]}


def grid(K_A: Iterable[int] = (3, 5, 7), R: Iterable[float] = (1, 10, 25, 100, 500),
         wd: Iterable[float] = (5e-4, 5e-3), seeds: Iterable[int] = (0, 1, 2)) -> list[FreeConfig]:
    """The ``cpu-report`` grid at finite R (R = inf has no minority features), with its hyperparameters."""
    hp = report_hyperparameters()
    return [FreeConfig(K_A=ka, R=float(r), wd=w, seed=s, n_majority=hp["n_majority"], p=hp["p"],
                       epochs=hp["epochs"], lr=hp["lr"], momentum=hp["momentum"], batch_size=hp["batch_size"],
                       milestones=tuple(hp["milestones"]))
            for ka in K_A for r in R for w in wd for s in seeds]


def _free_row(cfg: FreeConfig) -> dict[str, Any]:
    """One row of the grid: the trained model's metrics and the optimum it targets (one torch thread: the
    models are tiny, and more threads only contend on a shared CPU, measured 6 s against 90 s per run at
    load 10 on 2 cores)."""
    torch.set_num_threads(1)
    row = {**asdict(cfg), **train_free(cfg), **optimum(cfg)}
    row["milestones"] = list(cfg.milestones)
    return row


def run_grid(configs: list[FreeConfig], out: str | Path, progress: bool = True,
             workers: int | None = None) -> list[dict[str, Any]]:
    """Train every config, add its optimum, and write all rows to ``out/free_features.json`` (atomic).

    ``workers`` processes (default: one per CPU core, at most one per config) train the configs in parallel,
    each with one torch thread.  Progress: a bar on a terminal; one line per finished run when stderr is
    a log (a bar would write thousands of carriage returns into it)."""
    import os
    import sys
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from tqdm.auto import tqdm
    workers = max(1, min(workers or os.cpu_count() or 1, len(configs)))
    log_lines = progress and not sys.stderr.isatty()
    bar = tqdm(total=len(configs), desc="free features", disable=not progress or log_lines, mininterval=5)
    rows: list[dict[str, Any] | None] = [None] * len(configs)

    def done(i: int, row: dict[str, Any], k: int) -> None:
        rows[i] = row
        bar.update(1)
        if log_lines:
            print(f"free features ({workers} worker{'s' if workers > 1 else ''}): {k}/{len(configs)} runs done "
                  f"(K_A {row['K_A']}, R {row['R']:g}, wd {row['wd']:g}, seed {row['seed']}: minority cosine "
                  f"{row['cos_minority']:.4f}, {row['seconds']:.1f} s)", file=sys.stderr, flush=True)
    if workers == 1:
        for i, cfg in enumerate(configs):
            done(i, _free_row(cfg), i + 1)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_free_row, cfg): i for i, cfg in enumerate(configs)}
            for k, fut in enumerate(as_completed(futures), 1):
                done(futures[fut], fut.result(), k)
    bar.close()
    write_json_atomic(Path(out) / "free_features.json", {"rows": rows, "hyperparameters": report_hyperparameters()})
    return [r for r in rows if r is not None]


def main(argv: list[str] | None = None) -> int:
    """``python -m experiments.free_features --out DIR``: the whole grid (about 15 minutes on one core, half
    that on two)."""
    import argparse
    parser = argparse.ArgumentParser(prog="python -m experiments.free_features", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for free_features.json")
    args = parser.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    run_grid(grid(), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
