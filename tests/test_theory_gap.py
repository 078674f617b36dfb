"""Predictions for trained networks, the free-features control and the "Why theory and practice differ" section."""
from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.free_features import FreeConfig, optimum, train_free
from experiments.predictions import (CALIBRATION_BALANCE, CALIBRATION_EXPLICIT, feature_norms,
                                     log10_ratio, penalized_collapse_R, penalized_prediction,
                                     predictions)
from lpm_verify.report.networks import RunGroup, RunsGathered
from lpm_verify.report.theory_gap_section import group_predictions, theory_gap_section


def test_feature_norms_are_the_frobenius_norm_and_the_per_example_mean():
    W = np.array([[1.0, 2.0], [0.0, 1.0]])
    H = np.array([[3.0, 4.0], [0.0, 1.0]])
    assert feature_norms(W, H) == {"classifier_sq_norm": 6.0, "mean_feature_sq_norm": 13.0}


def test_balance_calibration_and_closed_form():
    cfg = {"K_A": 5, "R": 100, "wd": 0.01}
    pred = penalized_prediction(cfg, {"classifier_sq_norm": 4.0, "mean_feature_sq_norm": 0.08})
    assert pred["pen_calibration"] == CALIBRATION_BALANCE
    assert pred["pen_lambda_H"] == pytest.approx(0.5)
    assert pred["pen_R_collapse"] == pytest.approx(39.0)
    assert pred["pen_collapsed_at_R"]


def test_explicit_penalties_override_the_balance_and_missing_norms_are_reported():
    cfg = {"K_A": 5, "R": 10, "wd": 0.0, "classifier_penalty": 0.1, "feature_penalty": 0.5}
    pred = penalized_prediction(cfg, {})
    assert pred["pen_calibration"] == CALIBRATION_EXPLICIT and pred["pen_R_collapse"] == pytest.approx(3.0)
    missing = penalized_prediction({"K_A": 5, "R": 10, "wd": 5e-4}, {})
    assert missing["pen_R_collapse"] is None and missing["pen_calibration"].startswith("missing")
    assert predictions({"K_A": 5, "R": 10, "wd": 5e-4}, {"lpm_R0": 7.0})["unregularized_R_collapse"] == math.inf


def test_collapse_point_agrees_with_the_certified_threshold_and_a_swapped_formula_does_not():
    from theorems.penalized_lpm import thresholds
    (t,) = thresholds(10, 7, 0.1, 0.5)[:1]
    assert penalized_collapse_R(10, 7, 0.1, 0.5) == pytest.approx(float(t.R), rel=1e-12)
    assert penalized_collapse_R(10, 3, 0.1, 0.5) != pytest.approx(float(t.R), rel=1e-3)  # K_A, K_B swapped


def test_observed_collapse_interpolates_in_log_R_and_reports_bounds():
    from experiments.collapse import crossing
    got = crossing([10, 100, 1000], [0.5, 0.8, 1.0]).to_dict()
    assert got["bound"] == "=" and got["R"] == pytest.approx(10 ** 2.5)
    assert crossing([10, 100], [0.1, 0.5]).to_dict() == {"R": 100.0, "bound": ">", "level": 0.9}
    assert crossing([10, 100], [0.95, 1.0]).bound == "<="
    assert log10_ratio(1000.0, {"R": 100.0, "bound": ">"}) == (pytest.approx(1.0), "<=")


def test_free_features_train_and_their_optimum_follows_the_closed_form():
    cfg = FreeConfig(K_A=2, R=4, wd=5e-3, K=4, n_majority=8, p=6, epochs=3, batch_size=4)
    row = train_free(cfg)
    assert {"cos_minority", "classifier_sq_norm", "train_acc", "seconds"} <= set(row)
    opt = optimum(cfg)
    N = sum(cfg.sizes)
    assert opt["opt_lambda_H"] == pytest.approx(cfg.wd * N)
    assert opt["opt_collapsed"] == (cfg.sizes[-1] / N <= cfg.wd * cfg.wd * N)


def _group(K_A, wd, R, cos, preset="cpu-report", extra=None):
    metrics = [{"cos_minority": c, "lpm_R0": 1e6, "classifier_sq_norm": 10.0, "mean_feature_sq_norm": 10.0,
                **(extra or {})} for c in cos]
    return RunGroup({"preset": preset, "K_A": K_A, "wd": wd, "R": R, "oversample": 1}, list(range(len(cos))),
                    metrics, ["/nonexistent"] * len(cos))


def test_group_predictions_give_log_ratios_against_the_observed_point():
    groups = [_group(5, 5e-3, R, [c, c]) for R, c in ((10, 0.1), (100, 0.8), (1000, 1.0))]
    (row,) = group_predictions(groups)
    assert row["observed"]["R"] == pytest.approx(10 ** 2.5)
    assert row["eq7_log10"][0] == pytest.approx(6 - 2.5)
    assert row["pen"] == pytest.approx(penalized_collapse_R(10, 5, 5e-3, 5e-3))


def test_section_without_runs_says_what_is_missing(tmp_path):
    sec = theory_gap_section(RunsGathered(), str(tmp_path), tmp_path, norms=lambda p: {})
    text = " ".join(str(b) for b in sec.blocks)
    assert "No cpu-report runs" in text and "cpu-control-penalized" in text and "free_features" in text
