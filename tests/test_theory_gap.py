"""Predictions for trained networks, the free-features control and the "Why theory and practice differ" data and section."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from experiments.free_features import FreeConfig, optimum, train_free
from experiments.predictions import (CALIBRATION_BALANCE, CALIBRATION_EXPLICIT, feature_norms,
                                     log10_ratio, penalized_collapse_R, penalized_prediction, predictions)
from experiments.store import Run
from experiments.theory_gap import (EARLY, LATE, NO_COLLAPSE, UNDECIDED, WITHIN, conclusion, control_conclusions,
                                    inputs_digest, score, theory_gap)


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


def _runs(K_A, wd, curve, K=10, preset="cpu-report", lpm_R0=1e6, norms=(10.0, 10.0), **config):
    """Runs of one family: ``curve = [(R, [cos of each seed]), ...]``; K classes (``class_order``)."""
    out = []
    for R, cos in curve:
        for seed, c in enumerate(cos):
            cfg = {"dataset": "fashion-mnist", "arch": "mlp", "preset": preset, "K_A": K_A, "wd": wd, "R": R,
                   "oversample": 1, "n_majority": 500, "class_order": list(range(K)), "width": 8, "seed": seed,
                   **config}
            metrics = {"cos_minority": c, "lpm_R0": lpm_R0, "train_acc": 1.0}
            if norms:
                metrics.update(classifier_sq_norm=norms[0], mean_feature_sq_norm=norms[1])
            out.append(Run(Path(f"/nonexistent/{preset}_{K_A}_{wd}_{R}_{seed}"), cfg, metrics))
    return out


RISING = [(10, [0.1, 0.1]), (100, [0.8, 0.8]), (1000, [1.0, 1.0])]  # crosses 0.9 at R = 10**2.5


def test_families_give_log_ratios_against_the_observed_point():
    (row,) = theory_gap(_runs(5, 5e-3, RISING))["families"]
    assert row["observed"]["R"] == pytest.approx(10 ** 2.5) and row["K"] == 10
    assert row["models"]["eq7"]["log10"] == pytest.approx(6 - 2.5) and row["models"]["eq7"]["verdict"] == LATE
    assert row["models"]["penalized"]["R"] == pytest.approx(penalized_collapse_R(10, 5, 5e-3, 5e-3))


def test_K_is_read_from_the_runs_class_order():
    (row,) = theory_gap(_runs(3, 5e-3, RISING, K=6))["families"]
    assert row["K"] == 6
    assert row["models"]["penalized"]["R"] == pytest.approx(penalized_collapse_R(6, 3, 5e-3, 5e-3))
    assert row["models"]["penalized"]["R"] != pytest.approx(penalized_collapse_R(10, 3, 5e-3, 5e-3))
    assert theory_gap(_runs(5, 5e-3, RISING, K=6))["families"] == []  # one minority class: no minority cosine


OBSERVED = {"R": 100.0, "bound": "=", "level": 0.9}


@pytest.mark.parametrize("predicted, verdict", [(150.0, WITHIN), (51.0, WITHIN), (40.0, EARLY), (300.0, LATE),
                                                (math.inf, LATE)])
def test_score_against_an_observed_point(predicted, verdict):
    got = score(predicted, OBSERVED)
    assert got["verdict"] == verdict and got["relation"] == "="
    assert got["log10"] == pytest.approx(math.log10(predicted / 100.0))


def test_score_against_a_bound_is_a_bound():
    never = {"R": 500.0, "bound": ">", "level": 0.9}
    assert score(100.0, never) == {"verdict": EARLY, "log10": pytest.approx(math.log10(0.2)), "relation": "<="}
    assert score(400.0, never)["verdict"] == NO_COLLAPSE and score(1e6, never)["verdict"] == NO_COLLAPSE
    first = {"R": 10.0, "bound": "<=", "level": 0.9}
    assert score(100.0, first)["verdict"] == LATE and score(15.0, first)["verdict"] == UNDECIDED


def _conclusion_for(curve, lpm_R0):
    data = theory_gap(_runs(5, 5e-3, curve, lpm_R0=lpm_R0, norms=None))
    return " ".join(data["conclusion"]), data


def test_conclusion_prediction_within_a_factor_of_two():
    text, _ = _conclusion_for(RISING, 10 ** 2.5 * 1.5)
    assert "(a) Eq. 7 at the fitted energies, over 1 family: within 2x of the observed collapse point on 1." in text
    assert "(a) Eq. 7 at the fitted energies predicts the collapse point within 2x on every family where the " \
           "networks collapse on the grid (1)" in text
    assert "early" not in text.split("(b)")[0] and "late" not in text.split("(b)")[0]


def test_conclusion_prediction_early():
    text, data = _conclusion_for(RISING, 10.0)
    assert data["families"][0]["models"]["eq7"]["verdict"] == EARLY
    assert "(a) Eq. 7 at the fitted energies, over 1 family: early (collapse predicted at a smaller R) on 1 by 31.6x." in text
    assert "No model predicts the collapse point within 2x on every one of the 1 families" in text


def test_conclusion_prediction_late():
    text, _ = _conclusion_for(RISING, 10 ** 2.5 * 100)
    assert "(a) Eq. 7 at the fitted energies, over 1 family: late (collapse predicted at a larger R) on 1 by 100x." in text
    assert "(c) the unregularized limit, over 1 family: late (collapse predicted at a larger R) on 1 (it never " \
           "collapses)." in text


def test_conclusion_no_collapse_on_the_grid_is_a_bound_never_a_number():
    flat = [(10, [0.1, 0.1]), (100, [0.2, 0.2]), (500, [0.3, 0.3])]
    text, data = _conclusion_for(flat, 1e4)
    assert data["families"][0]["observed"] == {"R": 500.0, "bound": ">", "level": 0.9}
    assert "undecided on 1" in text and "within" not in text.split("On 1")[0]
    assert "the networks do not reach a minority cosine of 0.9 on the grid (K_A = 5, wd = 0.005: R > 500)" in text
    assert "lower bound" in text and "predicts the collapse point within" not in text
    early, _ = _conclusion_for(flat, 50.0)  # predicted inside the grid where nothing collapses: early, as a bound
    assert "early (collapse predicted at a smaller R) on 1 by at least 10x, 1 of them where the networks do not collapse " \
           "on the grid" in early


def test_conclusion_without_families_says_so():
    assert conclusion([]) == [conclusion([])[0]] and "no prediction can be compared" in conclusion([])[0]


def test_inputs_digest_changes_with_the_runs_and_the_free_features_file(tmp_path):
    runs = _runs(5, 5e-3, RISING)
    free = tmp_path / "free_features.json"
    before = inputs_digest(runs, free)
    assert inputs_digest(list(reversed(runs)), free) == before
    runs[0].metrics["cos_minority"] = 0.2
    assert inputs_digest(runs, free) != before
    changed = inputs_digest(runs, free)
    free.write_text('{"rows": []}')
    assert inputs_digest(runs, free) != changed


def test_the_section_module_renders_only():
    """The section imports no solver, no model and no prediction: it lays out the data it is given."""
    import ast
    import lpm_verify.report.theory_gap_section as section
    tree = ast.parse(Path(section.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"__future__", "math", "pathlib", "typing", "lpm_verify.report", "lpm_verify.report.cache",
                        "lpm_verify.report.document"}, imported


def test_section_without_runs_says_what_is_missing(tmp_path):
    from lpm_verify.report.theory_gap_section import theory_gap_section
    data = json.loads(json.dumps(theory_gap([])))
    sec = theory_gap_section(data, str(tmp_path), tmp_path, control1_preset="cpu-control-penalized",
                             free_features_folder=str(tmp_path / "controls"))
    text = " ".join(str(b) for b in sec.blocks)
    assert "No family of runs" in text and "cpu-control-penalized" in text and "free_features" in text


def test_control1_predicts_with_the_runs_penalties_and_K():
    lam = 255 ** -0.5  # R_c = (1/lam^2 - K_B)/K_A = 50 for K = 10, K_A = 5
    runs = _runs(5, 0.0, [(25, [0.5, 0.5]), (100, [0.99, 0.99])], preset="cpu-control-penalized",
                 classifier_penalty=lam, feature_penalty=lam)
    data = theory_gap(runs)
    c1 = data["control1"]
    assert data["families"] == [] and c1["K"] == 10 and c1["predicted"] == pytest.approx(50.0)
    assert c1["optimum_cos"][1] == pytest.approx(1.0) and c1["optimum_cos"][0] < 0.99  # collapsed beyond R_c only
    assert math.isnan(c1["optimum_nonneg_cos"][1])  # nonnegative solve only for R <= 2 R_c
    assert any(t.startswith("Control 1: with the model's own penalties the networks collapse at R = ")
               for t in data["conclusion"])


def _free_rows(K_A, wd, curve, N=2505):
    """Free-features rows: ``curve = [(R, free cos, optimum cos, optimum collapsed), ...]``."""
    return [{"K": 10, "K_A": K_A, "wd": wd, "R": float(R), "seed": 0, "N": N, "cos_minority": c,
             "opt_cos_minority": o, "opt_collapsed": done, "train_acc": 1.0, "seconds": 1.0}
            for R, c, o, done in curve]


def test_control2_conclusion_follows_its_numbers():
    nets = _runs(5, 5e-4, [(1, [-0.1, -0.1]), (10, [0.2, 0.2]), (100, [0.95, 0.95])])
    collapsed = _free_rows(5, 5e-4, [(1, -0.1, -0.1, False), (10, 0.99, 1.0, True), (100, 1.0, 1.0, True)])
    (text,) = control_conclusions(None, theory_gap(nets, {"rows": collapsed})["control2"])
    assert "identical minority classifiers at every R > 1" in text and "N = 2505" in text and ">= 0.990" in text
    above = _free_rows(5, 5e-4, [(1, -0.1, -0.1, False), (10, 0.6, 0.3, False), (100, 0.95, 0.5, False)])
    (text,) = control_conclusions(None, theory_gap(nets, {"rows": above})["control2"])
    assert "0.38 above the optimum" in text and "SGD does not reach that optimum" in text
    below = _free_rows(5, 5e-4, [(1, -0.1, -0.1, False), (10, 0.25, 0.25, False), (100, 0.9, 0.9, False)])
    (text,) = control_conclusions(None, theory_gap(nets, {"rows": below})["control2"])
    assert "SGD does not reach" not in text and "within 0.00 of that optimum" in text
    (text,) = control_conclusions(None, theory_gap([], {"rows": above})["control2"])
    assert "inconclusive" in text  # no networks to compare with
