"""Benchmark of a fully cached report (pytest-benchmark; not part of the default test run).

Run: ``python -m pytest benchmarks/test_bench_report.py --benchmark-enable -p no:cacheprovider -o addopts=''``.

A synthetic store (:func:`write_store`: two families per weight decay with a theory gap to score, the
penalized-control runs whose KKT and nonconvex solves the theory-gap section needs, and a free-features
file) is reported once cold, with every check of the registry; then ``python -m lpm_verify report`` is
timed into a new ``--out`` each round, in a fresh process as a user runs it (imports included).  Every
result must come from the cache (the command's summary line counts none computed) and the median must
stay under 5 s.  The cold report takes minutes (every check runs once).
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: A warm report must take less than this (seconds, median over rounds, one process each).
WARM_SECONDS = 5.0


def _write_run(root: Path, name: str, config: dict, metrics: dict) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({k: ("inf" if v == math.inf else v) for k, v in config.items()}))
    (folder / "metrics.json").write_text(json.dumps(metrics))


def write_store(root: Path) -> None:
    """Runs of the report preset (K_A in 3, 5; two weight decays; R from 1 to 500 and inf; 2 seeds), runs
    of the penalized control (K_A = 5, R in 10..100) and a free-features file, with synthetic metrics."""
    base = {"dataset": "fashion-mnist", "arch": "mlp", "epochs": 120, "device": "cpu", "n_majority": 500,
            "oversample": 1, "bias": False, "lr": 0.1, "batch_size": 128, "width": 8,
            "class_order": list(range(10))}
    for K_A in (3, 5):
        for wd in (5e-4, 5e-3):
            for R in (1, 10, 25, 100, 500, math.inf):
                for seed in (0, 1):
                    t = 1.0 if R == math.inf else min(1.0, math.log(R) / math.log(200 if wd > 1e-3 else 2000))
                    _write_run(root, f"report_KA{K_A}_wd{wd}_R{R}_s{seed}",
                               {**base, "preset": "cpu-report", "K_A": K_A, "R": R, "wd": wd, "seed": seed},
                               {"cos_minority": -1 / 9 + t * 10 / 9 - 0.01 * seed, "train_acc": 1.0, "test_acc": 0.8,
                                "test_acc_minority": 0.7 - 0.5 * t, "nc1": 0.01, "norm_variation_minority": 1e-5,
                                "fitted_E_W": 0.9, "fitted_E_H": 6.0, "lpm_R0": 40.0 * K_A, "lpm_cos_minority": 0.5,
                                "classifier_sq_norm": 4.0, "mean_feature_sq_norm": 0.5, "nc_classes": 10})
    lam = 255 ** -0.5
    for R in (10, 25, 50, 100):
        for seed in (0, 1):
            _write_run(root, f"control_R{R}_s{seed}",
                       {**base, "preset": "cpu-control-penalized", "K_A": 5, "R": R, "wd": 0.0, "seed": seed,
                        "classifier_penalty": lam, "feature_penalty": lam},
                       {"cos_minority": min(1.0, R / 60), "train_acc": 1.0, "test_acc": 0.8, "nc1": 0.01})
    rows = [{"K": 10, "K_A": K_A, "R": float(R), "wd": wd, "seed": 0, "N": 500 * K_A + 10 - K_A,
             "cos_minority": min(1.0, R / 100), "opt_cos_minority": min(1.0, R / 80), "opt_collapsed": R >= 100,
             "train_acc": 1.0, "seconds": 1.0} for K_A in (3, 5) for wd in (5e-4, 5e-3) for R in (1, 10, 25, 100)]
    (root / "controls").mkdir()
    (root / "controls" / "free_features.json").write_text(json.dumps({"rows": rows}))


def _report(runs: Path, out: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "lpm_verify", "report", "--runs", str(runs), "--no-train",
                           "--out", str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: a check fails, which is the suite's finding
    return done.stdout


@pytest.fixture(scope="module")
def warm_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bench_report")
    write_store(root / "runs")
    _report(root / "runs", root / "cold")
    return root


def test_a_fully_cached_report_takes_under_five_seconds(benchmark, warm_store):
    outs = iter(range(100))

    def warm() -> str:
        return _report(warm_store / "runs", warm_store / f"warm{next(outs)}")

    t0 = time.perf_counter()
    stdout = benchmark.pedantic(warm, rounds=3, iterations=1)
    line = next(ln for ln in stdout.splitlines() if ln.startswith("wrote "))
    computed = [int(n) for n in re.findall(r"(\d+) computed", line)]
    benchmark.extra_info.update({"summary": line, "wall_seconds_all_rounds": time.perf_counter() - t0})
    assert computed and not any(computed), line  # every result from the cache (beside the store)
    assert "theory_gap: 0 computed, 1 cached" in line
    assert benchmark.stats.stats.median < WARM_SECONDS, f"warm report {benchmark.stats.stats.median:.1f} s"
