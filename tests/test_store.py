"""The run store treats its files as untrusted: schema checks, named skip reasons."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from experiments.store import StoreError, list_runs, load_run, scan_runs

CONFIG = {"dataset": "fashion-mnist", "arch": "mlp", "preset": "cpu-smoke", "K_A": 5, "R": "inf", "n_majority": 100,
          "n_minority": 0, "epochs": 2, "seed": 0, "wd": 5e-4, "oversample": 1, "bias": False, "lr": 0.1,
          "batch_size": 128, "device": "cpu"}
METRICS = {"cos_minority": None, "train_acc": 0.9, "test_acc": 0.5, "lpm_R_effective": "inf", "lpm_status": "ok"}
LOG = '{"epoch": 1, "loss": 1.5}\n{"epoch": 2, "loss": 0.7}\n'


def make_run(root: Path, name: str, config=CONFIG, metrics=METRICS, log=LOG) -> Path:
    path = root / name
    path.mkdir(parents=True)
    for fname, content in (("config.json", config), ("metrics.json", metrics), ("log.jsonl", log)):
        if content is not None:
            (path / fname).write_bytes(content if isinstance(content, bytes) else
                                       (content if isinstance(content, str) else json.dumps(content)).encode())
    return path


def test_valid_store_loads_without_skips(tmp_path):
    """Negative control for the tests below: the template files are valid."""
    make_run(tmp_path, "a")
    make_run(tmp_path, "b", config={**CONFIG, "seed": 1}, metrics=None)  # in progress (another seed)
    scan = scan_runs(tmp_path)
    assert [r.path.name for r in scan.runs] == ["a"] and scan.skipped == []
    assert [r.path.name for r in scan_runs(tmp_path, finished_only=False).runs] == ["a", "b"]
    run = load_run(tmp_path / "a")
    assert run.config["R"] == math.inf and run.metrics["lpm_R_effective"] == math.inf and len(run.log) == 2


BAD = {
    "metrics truncated": (dict(metrics=json.dumps(METRICS)[:20]), "metrics.json: not valid JSON"),
    "metrics empty object": (dict(metrics={}), "metrics.json: empty object"),
    "metrics a list": (dict(metrics=[1, 2]), "metrics.json: expected a JSON object, got list"),
    "metric wrong type": (dict(metrics={**METRICS, "cos_minority": "garbage"}),
                          "'cos_minority' must be a number, null"),
    "metrics random bytes": (dict(metrics=bytes(range(256))), "metrics.json: not UTF-8 text"),
    "config empty object": (dict(config={}), "config.json: empty object"),
    "config missing key": (dict(config={k: v for k, v in CONFIG.items() if k != "K_A"}), "missing key 'K_A'"),
    "config wrong type": (dict(config={**CONFIG, "K_A": "5"}), "'K_A' must be integer"),
    "config bool as int": (dict(config={**CONFIG, "epochs": True}), "'epochs' must be integer"),
    "config optional key wrong": (dict(config={**CONFIG, "n_minority": 1.5}), "'n_minority' must be integer"),
    "config missing": (dict(config=None), "config.json: missing"),
    "log truncated": (dict(log=LOG + '{"epoch": 3, "lo'), "log.jsonl: line 3: not valid JSON"),
    "log wrong type": (dict(log='{"epoch": "one", "loss": 1.0}\n'), "line 1: 'epoch' must be integer"),
    "exposure wrong type": (dict(metrics={**METRICS, "wd_exposure": "17"}), "'wd_exposure' must be a number"),
    "probes not a list": (dict(metrics={**METRICS, "late_probes": {"epoch": 1}}), "'late_probes' must be a list"),
    "probe missing key": (dict(metrics={**METRICS, "late_probes": [{"epoch": 9, "cos_minority": 0.1,
                                                                    "W_norm": 2.0}]}),
                          "late_probes[0]: missing key 'mean_h_norm'"),
}


def test_regime_diagnostics_are_optional_and_validated_when_present(tmp_path):
    """Stores written before the regime diagnostics load unchanged; well-formed diagnostics load too."""
    probes = [{"epoch": 9, "cos_minority": None, "W_norm": 2.0, "mean_h_norm": 3.0}]
    make_run(tmp_path, "old")
    make_run(tmp_path, "new", metrics={**METRICS, "wd_exposure": 17.0, "late_probes": probes,
                                       "late_drift_W_norm": None})
    scan = scan_runs(tmp_path)
    assert scan.skipped == [] and scan.runs[0].metrics["late_probes"] == probes


@pytest.mark.parametrize("case", list(BAD))
def test_invalid_run_files_are_skipped_with_a_named_reason(tmp_path, case):
    kwargs, reason = BAD[case]
    make_run(tmp_path, "good")
    bad = make_run(tmp_path, "bad", **kwargs)
    scan = scan_runs(tmp_path, finished_only=False)
    assert [r.path.name for r in scan.runs] == ["good"]
    assert len(scan.skipped) == 1 and scan.skipped[0][0] == bad and reason in scan.skipped[0][1]
    assert [r.path.name for r in list_runs(tmp_path, finished_only=False)] == ["good"]  # backward compatible
    with pytest.raises(StoreError, match="bad"):
        load_run(bad)


def test_hidden_and_foreign_folders_are_ignored(tmp_path):
    make_run(tmp_path, "good")
    (tmp_path / ".submitit").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "README.txt").write_text("mine")
    scan = scan_runs(tmp_path)
    assert [r.path.name for r in scan.runs] == ["good"] and scan.skipped == []
