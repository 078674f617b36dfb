"""The checks of theorems/penalized_calibration.py pass, and each fails under a perturbed formula."""
from __future__ import annotations

import math

import pytest

from experiments.calibration import fit_product, transfer_R
from lpm_verify.penalized import balanced_margin, balanced_product
from lpm_verify.records import Outcome, Verdict
from lpm_verify.registry import judge
from theorems import penalized_calibration as pc


def _shifted(K, s, exp=math.exp):
    return K / (exp(s) + K) ** 2  # K - 1 replaced by K


def test_scale_derivation_is_proved_and_a_shifted_formula_is_not():
    assert judge("Penalized LPM/balanced-scale-derivation", pc.scale_derivation_outcome(balanced_product)) is Verdict.PASS
    assert pc.scale_stationarity(_shifted) != 0
    assert judge("Penalized LPM/balanced-scale-derivation", pc.scale_derivation_outcome(_shifted)) is Verdict.FAIL


def test_scale_relation_holds_on_the_reduced_solver_and_a_shifted_one_fails():
    rows = pc.scale_errors(balanced_product)
    assert max(r["relative_error"] for r in rows) < 1e-12
    wrong = pc.scale_errors(_shifted)
    worst = max(r["relative_error"] for r in wrong)
    assert judge("Penalized LPM/balanced-scale-solver", Outcome(0, worst, worst)) is Verdict.FAIL


def test_margin_and_product_are_inverse():
    assert balanced_product(10, balanced_margin(10, 3.9e-6)) == pytest.approx(3.9e-6, rel=1e-12)


def test_transfer_is_exact_on_the_model_and_a_formula_without_K_B_fails():
    rows = pc.transfer_errors(fit_product, transfer_R)
    assert max(r["relative_error"] for r in rows) < 1e-25
    wrong = pc.transfer_errors(fit_product, lambda P, K, K_A: 1 / (P * K_A))
    worst = max(r["relative_error"] for r in wrong)
    assert worst > 1e-3
    assert judge("Penalized LPM/collapse-transfer", Outcome(0, worst, worst)) is Verdict.FAIL
