"""Out-of-sample predictions of "Why theory and practice differ" on synthetic stores in the paper's regime."""
from __future__ import annotations

from pathlib import Path

import pytest

from experiments.calibration import fit_product, penalized_curve, transfer_R
from experiments.store import Run
from experiments.theory_gap import (EARLY, LATE, NO_COLLAPSE, NO_PREDICTION, UNDECIDED, WITHIN, held_out,
                                    held_out_conclusion, out_of_sample)
from lpm_verify.penalized import balanced_margin

PRODUCT = 1e-3  # lambda_W lambda_H of the synthetic balanced runs' logit scale


def _runs(wd, curve, K_A=7, exposure=17.0, margin=True, **config):
    """One family in regime: ``curve = [(R, [cos per seed])]``; the R = 1 runs carry what (a)-(c) read."""
    out = []
    for R, cos in curve:
        for seed, c in enumerate(cos):
            cfg = {"dataset": "fashion-mnist", "arch": "mlp", "preset": "cpu-regime", "K_A": K_A, "wd": wd, "R": R,
                   "oversample": 1, "n_majority": 500, "class_order": list(range(10)), "seed": seed, **config}
            m = {"cos_minority": c, "train_acc": 1.0, "train_acc_minority": 1.0, "wd_exposure": exposure,
                 "lpm_R0": 1e6, "lpm_cos_minority": -0.1, "classifier_sq_norm": 10.0, "mean_feature_sq_norm": 10.0}
            if R == 1:
                m.update(fitted_E_W=1.0, fitted_E_H_centred=2.0)
                if margin:
                    m["logit_margin"] = balanced_margin(10, PRODUCT)
            out.append(Run(Path(f"/nonexistent/{wd}_{K_A}_{R}_{seed}"), cfg, m))
    return out


CROSSING = [(1, [-0.1, -0.1]), (10, [0.3, 0.3]), (100, [0.8, 0.8]), (1000, [1.0, 1.0])]  # 0.9 at 10**2.5
FLAT = [(1, [-0.1, -0.1]), (10, [0.1, 0.1]), (100, [0.2, 0.2])]


def test_only_runs_in_the_regime_enter():
    assert out_of_sample(_runs(5e-3, CROSSING, exposure=0.5))["families"] == []
    got = out_of_sample(_runs(5e-3, CROSSING))
    assert got["runs_in_regime"] == got["runs"] == 8 and len(got["families"]) == 1


def test_collapsed_runs_that_cannot_fit_their_minority_examples_stay_in():
    runs = _runs(5e-3, CROSSING)
    for r in runs:
        if r.config["R"] == 1000:
            r.metrics["train_acc_minority"] = 0.0  # Minority Collapse: the minority examples are not fitted
    (fam,) = out_of_sample(runs)["families"]
    assert fam["R"][-1] == 1000 and fam["observed"]["bound"] == "="


def test_logit_scale_calibration_solves_the_model_at_the_product_the_margin_gives():
    (fam,) = out_of_sample(_runs(5e-3, CROSSING))["families"]
    pred = fam["predictions"]["penalized_scale"]
    curve = penalized_curve(10, 7, PRODUCT)
    assert pred["transition"] == pytest.approx(curve.transition(0.9), rel=1e-9)
    assert pred["cos"] == pytest.approx([curve.cos(R) for R in fam["R"]], nan_ok=True)  # zero minority classifiers at 1000
    assert pred["max_dcos"] == pytest.approx(max(abs(p - o) for R, p, o in zip(fam["R"], pred["cos"], fam["cos"]) if R > 1))
    balance = fam["predictions"]["penalized_balance"]  # lambda_W = wd, lambda_H = wd ||W||^2 / mean ||h||^2 = wd
    assert balance["transition"] == pytest.approx(penalized_curve(10, 7, 5e-3 ** 2).transition(0.9), rel=1e-9)


def test_missing_margin_is_not_available_never_a_number():
    (fam,) = out_of_sample(_runs(5e-3, CROSSING, margin=False))["families"]
    pred = fam["predictions"]["penalized_scale"]
    assert pred["transition"] is None and pred["verdict"] == NO_PREDICTION and pred["params"].startswith("not available")


def test_transfer_fits_on_one_family_and_predicts_the_other_with_the_closed_form():
    data = out_of_sample(_runs(5e-3, CROSSING) + _runs(5e-4, FLAT))
    by_wd = {f["wd"]: f for f in data["families"]}
    assert by_wd[5e-3]["transfer"] == []  # its only partner never crosses: nothing to fit on
    (fold,) = by_wd[5e-4]["transfer"]
    expected = transfer_R(fit_product(10, 7, 10 ** 2.5) * (5e-4 / 5e-3) ** 2, 10, 7)
    assert fold["transition"] == pytest.approx(expected) and fold["across"] == "wd"
    assert fold["verdict"] == NO_COLLAPSE  # far beyond the grid, where the networks have not collapsed
    (summary,) = [s for s in data["held_out"] if s["name"] == "transfer"]
    assert summary["scored"] == 1 and summary["counts"][NO_COLLAPSE] == 1


def _rows(verdicts_log10):
    """Family rows whose held-out predictions all have the given (verdict, log10) pairs."""
    names = ("eq7_balanced", "penalized_balance", "penalized_scale", "in_sample_eq7", "in_sample_penalized")
    rows = []
    for verdict, value in verdicts_log10:
        pred = {"verdict": verdict, "log10": value, "relation": "=" if verdict in (WITHIN, EARLY, LATE) else "<=",
                "max_dcos": 0.1, "mean_dcos": 0.05}
        rows.append({"predictions": {n: dict(pred) for n in names}, "transfer": [dict(pred)]})
    return rows


@pytest.mark.parametrize("verdict, value, words", [
    (WITHIN, 0.1, "within 2x on 1"), (EARLY, -1.0, "early on 1"), (LATE, 1.0, "late on 1"),
    (NO_COLLAPSE, 0.5, "no collapse on the grid, consistent with the prediction, on 1")])
def test_held_out_conclusion_each_branch(verdict, value, words):
    text = " ".join(held_out_conclusion(held_out(_rows([(verdict, value)])), 1))
    assert f"Out of sample, (a) Eq. 7 calibrated at R = 1, over 1 family: {words}" in text
    if verdict == WITHIN:
        assert "Within a factor of 2 out of sample: (a) Eq. 7 calibrated at R = 1 (1 of 1)" in text
    elif verdict == NO_COLLAPSE:
        assert "No family in regime reaches the level on its grid where a calibration predicts it" in text
    else:
        assert "No calibration that does not look at the outcome predicts the transition within a factor of 2" in text
    if verdict in (EARLY, LATE):
        assert f"median factor {10 ** abs(value):.3g}" in text
    assert "in-sample" not in text  # upper bounds are shown, never counted as out-of-sample agreement


def test_held_out_scores_median_and_worst_over_exact_points():
    (a,) = [s for s in held_out(_rows([(WITHIN, 0.1), (LATE, 1.0), (EARLY, -2.0), (UNDECIDED, 0.3)]))
            if s["name"] == "eq7_balanced"]
    assert a["exact"] == 3 and a["median_abs_log10"] == pytest.approx(1.0) and a["worst_abs_log10"] == 2.0
    assert a["counts"][UNDECIDED] == 1


def test_no_family_in_regime_says_so():
    assert "no family of runs in the paper's regime" in held_out_conclusion([], 0)[0]


def test_controls_table_and_the_frozen_sentence_follow_the_numbers():
    from experiments.theory_gap import FROZEN_PRESET, controls_table, frozen_conclusion, theory_gap
    regime = _runs(5e-3, CROSSING)
    data = theory_gap(regime)
    assert [r["present"] for r in data["controls"]] == [False, False, False]
    assert data["controls"][2]["preset"] == FROZEN_PRESET and frozen_conclusion(data["controls"]) == []
    # The frozen control closer to the model: its curve is the model's own at the margin's product.
    from experiments.calibration import penalized_curve
    model = penalized_curve(10, 7, PRODUCT)
    near = [(R, [model.cos(R)] * 2 if R > 1 else [-0.1, -0.1]) for R in (1, 10, 100)]
    frozen = _runs(5e-3, near, preset=FROZEN_PRESET)
    for r in frozen:
        r.metrics["train_acc_minority"] = 0.5  # exposure only: a frozen backbone need not fit everything
    data = theory_gap(regime + frozen)
    assert data["families"][0]["preset"] == "cpu-regime" and len(data["families"]) == 1  # a control, never a family
    row = data["controls"][2]
    assert row["after"]["calibration"] == "penalized_scale" and row["after"]["mean_dcos"] < 1e-9
    assert row["before"]["mean_dcos"] > 0.05
    (text,) = frozen_conclusion(data["controls"])
    assert "Control 3 (frozen backbone), calibration (c)" in text and "feature learning accounts for part" in text
    swapped = controls_table(None, None, {"family": data["out_of_sample"]["families"][0]}, {"families": [
        data["control_frozen"]["family"]]})
    (text,) = frozen_conclusion(swapped)
    assert "does not bring the curve closer" in text


def test_section_renders_curves_held_out_scores_and_controls(tmp_path):
    import json
    from experiments.theory_gap import theory_gap
    from lpm_verify.report.theory_gap_section import theory_gap_section
    data = json.loads(json.dumps(theory_gap(_runs(5e-3, CROSSING) + _runs(5e-4, FLAT))))
    sec = theory_gap_section(data, "RUNS", tmp_path, control1_preset="cpu-control-penalized",
                             free_features_folder="RUNS/controls")
    text = " ".join(str(b) for b in sec.blocks)
    assert (tmp_path / "theory_gap_out_of_sample.png").is_file()
    assert "Held-out scores" in text and "(c) penalized LPM, lambda_W lambda_H = K/(e^s + K - 1)^2" in text
    assert "runs absent: python -m lpm_verify train --preset cpu-control-frozen --out RUNS" in text
    assert "(d) transfer from K_A = 7, wd = 0.005 (wd)" in text
    assert any("Out of sample, (c) the penalized LPM with the logit scale at R = 1" in t for t in data["conclusion"])


def test_logit_margin_is_the_own_logit_minus_the_mean_of_the_others():
    import numpy as np
    from experiments.predictions import logit_margin
    Z = np.array([[3.0, 0.0, 1.0], [0.0, 2.0, 2.0]])
    assert logit_margin(Z, np.array([0, 2])) == pytest.approx(((3 - 0.5) + (2 - 1)) / 2)


def test_a_failed_solve_is_recorded_never_a_number():
    from experiments.calibration import ModelCurve
    from experiments.theory_gap import _prediction
    from lpm_verify.errors import SolverError

    def broken(R):
        raise SolverError("no certified KKT point")
    got = _prediction(ModelCurve(broken, 10.0), "s = 1", [1.0, 10.0], [-0.1, 0.5], {"R": 5.0, "bound": "=", "level": 0.9})
    assert got["transition"] is None and got["verdict"] == NO_PREDICTION and "solve failed" in got["params"]


def test_a_margin_missing_from_the_metrics_is_remeasured_from_the_checkpoint():
    seen = []

    def norms(path):
        seen.append(path)
        return {"logit_margin": balanced_margin(10, PRODUCT), "classifier_sq_norm": 99.0}
    (fam,) = out_of_sample(_runs(5e-3, CROSSING, margin=False), norms)["families"]
    assert len(seen) == 2 and all("_1_" in p for p in seen)  # the R = 1 runs only (norms stored elsewhere)
    assert fam["predictions"]["penalized_scale"]["params"].startswith("s = ")
    assert "lambda_H = 0.005" in fam["predictions"]["penalized_balance"]["params"]  # stored norms are kept
