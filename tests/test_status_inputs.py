"""``status`` on hostile or odd stores: paths inside store files are data, ``--lines 0`` means none, and any
run name prints on an ASCII terminal.  Store files only: no torch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lpm_verify.cli import main

ROOT = Path(__file__).resolve().parents[1]


def failed_run(store: Path, name: str, job_id: str | None = None) -> Path:
    run = store / name
    run.mkdir(parents=True)
    (run / "log.jsonl").write_text(json.dumps({"epoch": 1, "loss": 1.0}) + "\n")
    (run / "failed.json").write_text(json.dumps({"error": "RuntimeError: boom", "traceback": ["tb-line"],
                                                 "job_id": job_id}))
    return run


def test_lines_zero_prints_no_log_line(tmp_path, capsys):
    failed_run(tmp_path, "R10")
    assert main(["status", "--out", str(tmp_path), "--lines", "0"]) == 0
    out = capsys.readouterr().out
    assert "failed      R10" in out and "|" not in out and "tb-line" not in out
    assert main(["status", "--out", str(tmp_path), "--lines", "1"]) == 0
    assert "| tb-line" in capsys.readouterr().out  # control: one line is shown


def test_a_job_id_outside_the_store_is_not_read(tmp_path, capsys):
    foreign = tmp_path / "elsewhere"
    foreign.mkdir()
    (foreign / "x_log.err").write_text("SECRET foreign file\n")
    store = tmp_path / "store"
    failed_run(store, "R10", job_id=str(foreign))
    failed_run(store, "R20", job_id="../../elsewhere")
    own = store / ".submitit" / "77"
    own.mkdir(parents=True)
    (own / "77_0_log.err").write_text("own job log line\n")
    failed_run(store, "R30", job_id="77")
    assert main(["status", "--out", str(store)]) == 0
    out = capsys.readouterr().out
    assert "SECRET" not in out
    assert "77_0_log.err: own job log line" in out  # control: the store's own job log is shown


def test_status_with_a_non_ascii_run_name_on_an_ascii_stdout(tmp_path):
    failed_run(tmp_path, "R10-é")
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "lpm_verify", "status", "--out", str(tmp_path)], cwd=ROOT,
                          env=env, capture_output=True, text=True, encoding="ascii", errors="strict", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "R10-\\xe9" in proc.stdout


def test_a_run_file_above_the_cap_is_skipped_and_named(tmp_path, monkeypatch):
    """A metrics.json larger than the cap is not read (nor copied into a report): the run is skipped with
    the file and its size.  The cap is lowered here so that the test writes kilobytes, not 16 MiB."""
    from experiments import store
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({
        "dataset": "fashion-mnist", "arch": "mlp", "preset": "cpu-smoke", "K_A": 5, "R": 10, "n_majority": 100,
        "epochs": 6, "seed": 0, "wd": 5e-4, "oversample": 1, "bias": False, "lr": 0.1, "batch_size": 128,
        "device": "cpu"}))
    metrics = {"cos_minority": 0.5, "train_acc": 1.0, "test_acc": 0.8, "padding": "x" * 4000}
    (run / "metrics.json").write_text(json.dumps(metrics))
    assert store.scan_runs(tmp_path).runs  # control: under the default cap it is read
    monkeypatch.setattr(store, "MAX_RUN_FILE_BYTES", 2048)
    scan = store.scan_runs(tmp_path)
    assert not scan.runs
    ((path, reason),) = scan.skipped
    assert path == run and "metrics.json: " in reason and "above the 2048-byte limit of a run file" in reason


def test_submitted_names_that_are_not_run_names_are_ignored_with_a_line(tmp_path, capsys):
    good = "fashion-mnist_mlp_KA3_R1_3ded95b31ed9"
    (tmp_path / ".submitted").mkdir()
    (tmp_path / ".submitted" / "cpu-report-x.json").write_text(json.dumps(
        {"preset": "cpu-report", "runs": [good, "../../etc", "/abs/path", 5, "R10\u0000"]}))
    assert main(["status", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"pending     {good}  submitted, not started" in out
    assert "preset cpu-report: 1 runs: 1 pending" in out
    for bad in ("'../../etc'", "'/abs/path'", "5", "'R10\\x00'"):
        assert f"cpu-report-x.json: {bad} is not a run folder name; ignored" in out, bad
