"""Section 3 / Fig. 8: R_0 of Eq. 7 grows with E_W, E_H and K_B; below R_0 the minority angles are the
smaller ones.  Each check passes on the solver's numbers and fails when the numbers say the opposite."""
from __future__ import annotations

import math

import numpy as np

from lpm_verify.check_inputs import CheckInputs
from lpm_verify.commands.registry import load_all
from theorems.figure8_threshold_trends import angles_outcome, collapse_threshold, increasing_outcome

REGISTRY = load_all()


def test_the_threshold_trends_hold_for_eq7():
    record = REGISTRY.get("Theorem 5/threshold-smaller-for-smaller-EW-EH-KB").run(CheckInputs())
    assert record.verdict == "pass", record.detail
    assert collapse_threshold(10, 5, 1.0, 1.0) < collapse_threshold(10, 5, 2.0, 1.0)


def test_a_threshold_that_falls_or_is_missing_is_a_violation():
    """Negative control: the same criterion on a decreasing series and on a missing R_0."""
    assert increasing_outcome({"E_W": [(1.0, 2.0), (2.0, 3.0)]}).error == 0
    assert increasing_outcome({"E_W": [(1.0, 3.0), (2.0, 2.0)]}).error == 1
    assert increasing_outcome({"K_B": [(2, 1.5), (3, None)]}).error == 1
    assert increasing_outcome({"E_H": [(1.0, 2.0), (2.0, 2.0)]}).error == 1  # equal is not smaller


def test_minority_angles_are_smaller_below_the_threshold():
    record = REGISTRY.get("Theorem 5/minority-angles-smaller-below-threshold").run(CheckInputs())
    assert record.verdict == "pass" and record.detail["comparisons"] >= 10, record.detail


def test_majority_angles_smaller_or_a_failed_solve_are_violations():
    row = {"K_A": 5, "E": 1.0, "R": 1.5, "R0": 1.7}
    assert angles_outcome([{**row, "cos_minority": 0.2, "cos_majority": -0.1}]).error == 0
    assert angles_outcome([{**row, "cos_minority": -0.2, "cos_majority": -0.1}]).error == 1
    assert angles_outcome([{**row, "cos_minority": math.nan, "cos_majority": -0.1}]).error == 1


def test_minority_confusions_count_errors_into_majority_classes():
    from experiments.analysis import minority_confusions
    y = np.array([0, 1, 2, 2, 3, 3])            # K_A = 2: labels 2, 3 are minority
    logits = np.eye(4)[[0, 1, 0, 3, 1, 2]]     # minority: 2->0, 3->1 (into majority); 2->3, 3->2 (minority)
    got = minority_confusions(logits, y, 2)
    assert got == {"test_minority_errors": 4, "test_minority_errors_to_majority": 2}
