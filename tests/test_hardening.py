"""Inputs a careless or hostile user can hand the suite: content-keyed caches, a store checked for meaning
and identity, a bad checkpoint at the command line's edge, and named failures instead of internal errors."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from experiments.claims_data import inputs_digest
from lpm_verify.check_inputs import CheckInputs


def _same_size_same_mtime(path: Path, data: bytes) -> None:
    """Replace ``path``'s content by ``data`` (same length) and give it back its old modification time."""
    st = path.stat()
    assert len(data) == st.st_size
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_size == st.st_size


def test_a_checkpoint_replaced_by_one_of_the_same_size_and_mtime_changes_the_key(tmp_path):
    ckpt = tmp_path / "imagenet.pt"
    ckpt.write_bytes(b"A" * 4096)
    before = inputs_digest(CheckInputs(imagenet_checkpoint=ckpt))
    _same_size_same_mtime(ckpt, b"B" * 4096)
    assert inputs_digest(CheckInputs(imagenet_checkpoint=ckpt)) != before


def test_a_run_checkpoint_replaced_by_one_of_the_same_size_and_mtime_changes_the_key(tmp_path):
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "checkpoint.pt").write_bytes(b"A" * 100)
    before = inputs_digest(CheckInputs(runs=tmp_path / "runs"))
    _same_size_same_mtime(run / "checkpoint.pt", b"C" * 100)
    assert inputs_digest(CheckInputs(runs=tmp_path / "runs")) != before


def test_the_content_key_does_not_depend_on_where_the_checkpoint_lives(tmp_path):
    """Negative control: the key is the content's, so a copy elsewhere gives the same key."""
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    assert inputs_digest(CheckInputs(imagenet_checkpoint=a)) == inputs_digest(CheckInputs(imagenet_checkpoint=b))


# -- a store validated for meaning ---------------------------------------------------------------
from experiments.store import METRIC_BOUNDS, METRIC_NUMBERS, scan_runs  # noqa: E402
from tests.test_store import CONFIG, METRICS, make_run  # noqa: E402

OUT_OF_RANGE = {
    "cosine 5": ({"metrics": {**METRICS, "cos_minority": 5.0}}, "'cos_minority' must be in [-1"),
    "accuracy 7": ({"metrics": {**METRICS, "train_acc": 7.0}}, "'train_acc' must be in [0, 1"),
    "metric NaN": ({"metrics": '{"cos_minority": NaN, "train_acc": 0.9, "test_acc": 0.5}'}, "'cos_minority' is NaN"),
    "metric inf": ({"metrics": {**METRICS, "test_acc": "inf"}}, "'test_acc' must be finite"),
    "metric Infinity": ({"metrics": '{"cos_minority": 0.1, "train_acc": Infinity, "test_acc": 0.5}'},
                        "'train_acc' must be finite"),
    "exposure negative": ({"metrics": {**METRICS, "wd_exposure": -3.0}}, "'wd_exposure' must be in [0"),
    "R NaN": ({"config": {**CONFIG, "R": float("nan")}}, "'R' is NaN"),
    "R -10": ({"config": {**CONFIG, "R": -10}}, "'R' must be in [1, inf]"),
    "R 0.5": ({"config": {**CONFIG, "R": 0.5}}, "'R' must be in [1, inf]"),
    "K_A -7": ({"config": {**CONFIG, "K_A": -7}}, "'K_A' must be in [1"),
    "K_A huge": ({"config": {**CONFIG, "K_A": 10 ** 300}}, "'K_A' must be in [1, 100000]"),
    "wd -1": ({"config": {**CONFIG, "wd": -1}}, "'wd' must be in [0"),
    "wd inf": ({"config": {**CONFIG, "wd": 1e400}}, "'wd' must be finite"),
    "lr 0": ({"config": {**CONFIG, "lr": 0}}, "'lr' must be > 0"),
    "seed negative": ({"config": {**CONFIG, "seed": -1}}, "'seed' must be in [0"),
    "epochs 0": ({"config": {**CONFIG, "epochs": 0}}, "'epochs' must be in [1"),
    "probe cosine 3": ({"metrics": {**METRICS, "late_probes": [{"epoch": 1, "cos_minority": 3.0, "W_norm": 1.0,
                                                                "mean_h_norm": 1.0}]}}, "'cos_minority' must be in"),
    "log loss negative": ({"log": '{"epoch": 1, "loss": -1.0}\n'}, "line 1: 'loss' must be in [0"),
    "nested JSON": ({"metrics": "[" * 100000 + "]" * 100000}, "nested too deeply"),
}


@pytest.mark.parametrize("case", list(OUT_OF_RANGE))
def test_a_run_outside_the_meaningful_range_is_skipped_and_named(tmp_path, case):
    kwargs, reason = OUT_OF_RANGE[case]
    make_run(tmp_path, "good")
    make_run(tmp_path, "bad", **kwargs)
    scan = scan_runs(tmp_path, finished_only=False)
    assert [r.path.name for r in scan.runs] == ["good"]
    assert len(scan.skipped) == 1 and reason in scan.skipped[0][1], scan.skipped


def test_values_at_the_edges_of_their_ranges_load(tmp_path):
    """Negative control: the boundaries themselves (and nulls, R = inf, a diverged run's NaN loss) are data."""
    make_run(tmp_path, "edge", config={**CONFIG, "R": 1, "wd": 0, "seed": 2 ** 63 - 1},
             metrics={**METRICS, "cos_minority": -1.0, "train_acc": 1.0, "test_acc": 0.0, "cos_all": None,
                      "late_drift_W_norm": -0.5},
             log='{"epoch": 1, "loss": NaN}\n')
    scan = scan_runs(tmp_path)
    assert scan.skipped == [] and [r.path.name for r in scan.runs] == ["edge"]


def test_every_stored_metric_has_a_range():
    assert set(METRIC_NUMBERS) <= set(METRIC_BOUNDS)


# -- one run, one seed ---------------------------------------------------------------------------
import shutil  # noqa: E402

from experiments.claims_data import load_groups, regime_split  # noqa: E402
from experiments.store import run_dir  # noqa: E402
from experiments.store_status import format_status, store_status  # noqa: E402

REPORT_CONFIG = {**CONFIG, "preset": "cpu-report", "R": 10.0, "n_minority": 10}


def _store_with_a_copied_run(root: Path) -> Path:
    original = run_dir(root, REPORT_CONFIG)
    make_run(root, original.name, config=REPORT_CONFIG, metrics={**METRICS, "cos_minority": 0.3})
    for seed in (1, 2):
        make_run(root, f"other{seed}", config={**REPORT_CONFIG, "seed": seed}, metrics={**METRICS, "cos_minority": 0.3})
    shutil.copytree(original, root / "R10 (copy)")
    return original


def test_a_copied_run_folder_is_one_run_named_as_a_duplicate(tmp_path):
    original = _store_with_a_copied_run(tmp_path)
    scan = scan_runs(tmp_path)
    assert sorted(r.path.name for r in scan.runs) == sorted([original.name, "other1", "other2"])
    assert scan.duplicates == [(tmp_path / "R10 (copy)", original)]  # the copy, not the canonical folder
    groups = load_groups(tmp_path)
    assert len(groups) == 1 and sorted(groups[0].seeds) == [0, 1, 2]  # not 0, 0, 1, 2
    assert "R10 (copy)" in regime_split(groups, "Figure 4/minority-collapse").summary()["duplicate_run_folders"][0]
    statuses, skipped = store_status(tmp_path)
    text = format_status(tmp_path, statuses, skipped)
    assert "duplicate   R10 (copy)" in text and "counted once" in text


def test_runs_differing_only_in_their_seed_are_not_duplicates(tmp_path):
    """Negative control: three seeds of one configuration stay three runs."""
    for seed in (0, 1, 2):
        make_run(tmp_path, f"s{seed}", config={**REPORT_CONFIG, "seed": seed})
    scan = scan_runs(tmp_path)
    assert len(scan.runs) == 3 and scan.duplicates == []
