"""Convergence study: each claim family's quantity against the weight-decay exposure X.

One configuration per claim family, the cpu-report MLP with the paper's schedule shape (lr 0.1, /10 at
1/3 and 2/3, batch 128, momentum 0.9), trained at increasing exposures ``X = sum_t eta_t lambda/(1-beta)``
(:func:`experiments.trainer.weight_decay_exposure`; the paper's runs have X ~ 17 at lambda = 5e-4) by
changing only the epochs:

* ``collapse``: K_A = 5, lambda = 5e-4, R = 100 (Figs. 2, 4: minority cosine; the terminal phase: minority
  training accuracy) and R = inf (Fig. 4: minority cosine; Table 1: norm variation);
* ``binary``: Fig. 7's two classes (cos(w_1, w_2)).

``python -m experiments.convergence --out DIR`` trains them into ``DIR/runs`` (finished runs are reused),
prints one line per finished run, and writes ``DIR/convergence.csv`` and ``DIR/convergence.png``
(quantity vs X).  The regime criterion of :mod:`experiments.regime` is read from where these stop moving.
Each run is minutes to an hour on one core (X = 17 is ~90,000 SGD steps): not a test.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from experiments.presets import BINARY_CLASSES, PRESETS
from experiments.regime import REPORT_PRESET
from experiments.store import Run
from experiments.trainer import TrainConfig, weight_decay_exposure
from lpm_verify.errors import require
from lpm_verify.io import write_bytes_atomic, write_text_atomic

#: The exposures of the study: the cpu-report preset's (~0.5), the paper's (~17) and beyond.
EXPOSURES = (0.5, 2.0, 5.0, 17.0, 50.0)
#: The preset name the study's runs are stored under (no experiment check reads it: not a claim preset).
PRESET = "convergence"
#: The quantity of each claim family, as stored in metrics.json, per plotted panel.
QUANTITIES = (("collapse", 100.0, "cos_minority", "minority cosine, R = 100"),
              ("collapse", 100.0, "train_acc_minority", "minority training accuracy, R = 100"),
              ("collapse", math.inf, "cos_minority", "minority cosine, R = inf"),
              ("collapse", math.inf, "norm_variation_minority", "norm variation (Table 1), R = inf"),
              ("binary", 1.0, "cos_all", "cos(w_1, w_2), two classes"))
CSV_COLUMNS = ("family", "R", "epochs", "X", "cos_minority", "train_acc_minority", "norm_variation_minority",
               "cos_all", "run")


def family_configs() -> dict[str, list[TrainConfig]]:
    """The study's base configurations (one epoch; :func:`epochs_for_exposure` sets the epochs)."""
    base = {**PRESETS[REPORT_PRESET].base, "preset": PRESET, "epochs": 1, "wd": 5e-4, "seed": 0}
    return {"collapse": [TrainConfig(**{**base, "K_A": 5, "R": R}) for R in (100.0, math.inf)],
            "binary": [TrainConfig(**{**base, "K_A": 1, "R": 1.0, "class_order": BINARY_CLASSES})]}


def epochs_for_exposure(cfg: TrainConfig, X: float) -> int:
    """The fewest epochs at which ``cfg``'s schedule (its shape kept) reaches exposure ``X``."""
    require(X > 0 and math.isfinite(X), "X", "a finite exposure > 0", X)
    lo, hi = 1, 1
    while weight_decay_exposure(replace(cfg, epochs=hi)) < X:
        lo, hi = hi, hi * 2
    while lo < hi:  # the exposure grows with the epochs: bisect
        mid = (lo + hi) // 2
        if weight_decay_exposure(replace(cfg, epochs=mid)) >= X:
            hi = mid
        else:
            lo = mid + 1
    return hi


def study_configs(exposures: Sequence[float] = EXPOSURES) -> list[tuple[str, TrainConfig]]:
    """``(family, config)`` of every run of the study, the checkpoint cadence scaled with the epochs."""
    out = []
    for family, cfgs in family_configs().items():
        for cfg in cfgs:
            for X in exposures:
                epochs = epochs_for_exposure(cfg, X)
                out.append((family, replace(cfg, epochs=epochs, checkpoint_every=max(1, epochs // 10))))
    return out


def row_of(family: str, run: Run) -> dict[str, Any]:
    """One CSV row: the run's exposure and the quantity of every claim family (empty where undefined)."""
    m, c = run.metrics, run.config
    row: dict[str, Any] = {"family": family, "R": c["R"], "epochs": c["epochs"], "X": m.get("wd_exposure"),
                           "run": run.path.name}
    for key in ("cos_minority", "train_acc_minority", "norm_variation_minority", "cos_all"):
        value = m.get(key)
        row[key] = "" if value is None or (isinstance(value, float) and math.isnan(value)) else value
    return row


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """One panel per claim quantity against X (log axis), the paper's X ~ 17 marked (PNG, written atomically)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(QUANTITIES), figsize=(4 * len(QUANTITIES), 3.4), squeeze=False)
    for ax, (family, R, key, title) in zip(axes[0], QUANTITIES):
        pts = sorted((float(r["X"]), float(r[key])) for r in rows
                     if r["family"] == family and float(r["R"]) == R and r[key] != "" and r["X"] is not None)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-")
        ax.axvline(17.0, color="grey", linestyle=":", label="paper (X ~ 17)")
        ax.set_xscale("log")
        if key == "norm_variation_minority" and pts and all(p[1] > 0 for p in pts):
            ax.set_yscale("log")
        ax.set_xlabel("weight-decay exposure X")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())


def run_study(out: str | Path, exposures: Sequence[float] = EXPOSURES, workers: int = 1,
              data_root: str | None = None) -> list[dict[str, Any]]:
    """Train every run of the study into ``out/runs`` (one stderr line per finished run), then write
    ``out/convergence.csv`` and ``out/convergence.png``; returns the rows."""
    from experiments.executors import JobOutcome, RunJob, run_pool
    from experiments.store import load_run
    out = Path(out)
    plan = study_configs(exposures)
    configs = [cfg for _, cfg in plan]
    job = RunJob(str(out / "runs"), data_root, resume=True, lpm=False, threads=1)
    finished = [0]

    def done(outcome: JobOutcome) -> None:
        finished[0] += 1
        m = load_run(outcome.path).metrics
        print(f"convergence: {finished[0]}/{len(configs)} runs done ({Path(outcome.path).name}: X = "
              f"{m.get('wd_exposure')}, minority cosine {m.get('cos_minority')}, cos_all {m.get('cos_all')})",
              file=sys.stderr, flush=True)
    outcomes = run_pool(configs, job, workers, on_done=done)
    failed = [o for o in outcomes if not isinstance(o, JobOutcome)]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(configs)} convergence runs failed; first: {failed[0]}")
    rows = [row_of(family, load_run(o.path)) for (family, _), o in zip(plan, outcomes)]
    write_csv(rows, out / "convergence.csv")
    plot(rows, out / "convergence.png")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.convergence", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for runs/, convergence.csv and convergence.png")
    parser.add_argument("--exposures", default=",".join(f"{x:g}" for x in EXPOSURES),
                        help="weight-decay exposures X to train at, comma-separated (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes, one torch thread each")
    parser.add_argument("--data-root", help="folder with the dataset files (see experiments/data.py)")
    args = parser.parse_args(argv)
    try:
        exposures = [float(x) for x in args.exposures.split(",")]
    except ValueError:
        parser.error(f"--exposures must be numbers separated by commas; got {args.exposures!r}")
    if args.workers < 1:
        parser.error(f"--workers must be an integer >= 1; got {args.workers}")
    run_study(args.out, exposures, args.workers, args.data_root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
