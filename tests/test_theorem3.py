"""Negative controls and random-point tests for the Theorem 3 checks (theorems/theorem3_contrastive.py).

Each check kind is fed a wrong candidate (formula, constant, point) and must come out fail/erratum.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify import backend as bk
from lpm_verify.outcomes import printed_vs_derived
from lpm_verify.records import Outcome, Verdict
from lpm_verify.registry import REGISTRY, judge
from theorems import theorem3_contrastive as t3



@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(30):
        yield


def test_minimum_value_rejects_wrong_formula() -> None:
    def without_log_n(K, n, tau, E_H):
        return t3.minimum_value(K, n, tau, E_H) - mpmath.log(n)

    def wrong_exponent(K, n, tau, E_H):  # exp(-E_H/tau) instead of exp(-K E_H/((K-1) tau))
        return mpmath.log(n) + mpmath.log(1 + (K - 1) * mpmath.exp(-E_H / tau))

    with mpmath.workdps(50):
        assert judge("Theorem 3/minimum-value", t3.minimum_value_error(t3.minimum_value, t3.VALUE_CASES)) == Verdict.PASS
        for wrong in (without_log_n, wrong_exponent):
            assert judge("Theorem 3/minimum-value", t3.minimum_value_error(wrong, t3.VALUE_CASES)) == Verdict.FAIL


def test_gram_check_distinguishes_printed_corrected_and_wrong() -> None:
    assert t3.gram_error(t3.corrected_gram) == 0
    assert t3.gram_error(t3.printed_gram) > 0
    wrong = printed_vs_derived(t3.gram_error(t3.printed_gram), 0, t3.gram_error(lambda K: 2 * t3.corrected_gram(K)),
                               printed="", corrected="", evidence="")
    assert judge("Theorem 3/gram-matrix", wrong) == Verdict.FAIL


def test_eq47_tight_only_with_the_right_constant_ratio() -> None:
    K, n, tau, E_H = 3, 2, mpmath.mpf("0.7"), mpmath.mpf(2)
    truth = t3.minimum_value(K, n, tau, E_H)
    C_a, C_b = t3.corrected_constants(K, tau, E_H)
    assert abs(t3.eq47_bound(K, n, tau, E_H, C_a, C_b) - truth) < 1e-25
    assert abs(t3.eq47_bound(K, n, tau, E_H, 5 * C_a, 5 * C_b) - truth) < 1e-25  # only the ratio matters
    assert truth - t3.eq47_bound(K, n, tau, E_H, 1.1 * C_a, C_b) > 1e-6  # a wrong ratio is not tight
    # the printed pair is tight exactly when sqrt(E_H E_W) = K E_H / (2 (K-1) tau)
    E_W = (K * E_H / (2 * (K - 1) * tau)) ** 2 / E_H
    assert abs(t3.eq47_bound(K, n, tau, E_H, *t3.printed_constants(K, tau, E_H, E_W)) - truth) < 1e-25


def test_equality_check_fails_at_a_perturbed_optimum() -> None:
    chk = REGISTRY.get("Theorem 3/equality-at-minimizer")
    tol = chk.tolerance
    mpmath.mp.dps = chk.digits  # the check's working precision (the fixture restores 30)
    H = t3.etf_features_mp(3, 2, 1)
    assert max(t3.equality_gaps(H, mpmath.mpf(1), mpmath.mpf(1))) < tol
    H_bad = H.copy()
    H_bad[0, 1] = H_bad[0, 1] * mpmath.mpf("0.999")
    assert max(t3.equality_gaps(H_bad, mpmath.mpf(1), mpmath.mpf(1))) > tol


def test_proof_step_checks_flag_a_wrong_inequality() -> None:
    pts = t3._points(count=8)
    tol = REGISTRY.get("Theorem 3/eq44c-second-jensen").tolerance
    assert t3.eq44c_violation(pts, "c_corrected") <= tol
    assert t3.eq44c_violation(pts, "c_printed") > tol
    # reversing the direction of a true step must be flagged
    H, _, E_H = pts[1]
    assert t3.eq46_violation(H, E_H, "=<=>>") > tol
    assert t3.eq46_violation(H, E_H, t3.EQ46_CORRECTED) <= tol


def test_solver_check_fails_against_a_wrong_minimum() -> None:
    cases = t3.SOLVE_CASES[:2]
    solver_tol = REGISTRY.get("Theorem 3/solver-never-beats").tolerance
    too_high = t3.solve_cases_gap(cases, lambda *a: t3.minimum_value(*a) + mpmath.mpf("1e-3"), starts=2)
    assert -too_high["beats"] > solver_tol  # the solver beats a claimed minimum that is too high
    too_low = t3.solve_cases_gap(cases, lambda *a: t3.minimum_value(*a) - mpmath.mpf("1e-3"), starts=2)
    assert too_low["value"] > solver_tol  # and never reaches one that is too low


def test_geometry_check_fails_for_a_perturbed_optimum() -> None:
    tol = REGISTRY.get("Theorem 3/solver-lands-on-etf").tolerance
    H = np.asarray(t3.etf_features_mp(4, 3, 2), dtype=float)
    assert t3.etf_feature_distance(H, 2.0) < 1e-12
    H_bad = H.copy()
    H_bad[2, 1] *= 1.001
    assert t3.etf_feature_distance(H_bad, 2.0) > tol
    assert t3.etf_feature_distance(H, 2.2) > tol


@st.composite
def feasible_features(draw):
    K = draw(st.integers(2, 4))
    n = draw(st.integers(1, 3))
    p = draw(st.integers(1, 4))
    entries = draw(st.lists(st.floats(-3, 3), min_size=K * n * p, max_size=K * n * p))
    H = np.array(entries, dtype=float).reshape(K, n, p)
    if not np.any(H):
        H[0, 0, 0] = 1.0
    E_H = draw(st.sampled_from(["0.3", "1", "2.5"]))
    u = draw(st.floats(0.01, 1.0))
    tau = draw(st.sampled_from(["0.2", "1", "3"]))
    Hm = bk.mp_array(H)
    Hm = Hm * mpmath.sqrt(mpmath.mpf(u) * mpmath.mpf(E_H) * K * n / np.sum(Hm * Hm))
    return Hm, mpmath.mpf(tau), mpmath.mpf(E_H)


@settings(deadline=None, derandomize=True, max_examples=40)
@given(feasible_features())
def test_eqs_44_to_47_hold_at_random_feasible_points(point) -> None:
    H, tau, E_H = point
    K, n, _ = H.shape
    slack = mpmath.mpf("1e-20")  # 30-digit rounding, as in the registered checks
    for C_a, C_b in (t3.corrected_constants(K, tau, E_H), t3.printed_constants(K, tau, E_H, E_H)):
        steps = t3.eq44_steps(H, tau, C_a, C_b)
        assert all(x <= slack for x in (steps["a"] - steps["lhs"]).ravel())
        assert all(x <= slack for x in (steps["c_corrected"] - steps["b"]).ravel())
        assert t3.eq47_bound(K, n, tau, E_H, C_a, C_b) <= t3.objective(H, tau) + slack
    assert t3.eq46_violation(H, E_H, t3.EQ46_CORRECTED) <= slack


def test_sympy_minimum_value_matches_etf_anchor_loss_for_concrete_values() -> None:
    expr = t3.etf_anchor_loss(sp.Integer(4), sp.Integer(3), sp.Rational(1, 2), sp.Integer(2))
    assert abs(sp.N(expr - t3.minimum_value(sp.Integer(4), sp.Integer(3), sp.Rational(1, 2), sp.Integer(2)), 40)) < 1e-35


def test_eq48_collapsed_line_needs_tau() -> None:
    tol = REGISTRY.get("Theorem 3/eq48-collapsed").tolerance
    mpmath.mp.dps = 40
    args = (3, 2, mpmath.mpf("0.5"), mpmath.mpf(2))
    assert t3.eq48_collapsed_gap(*args, divide_by_tau=True) < tol
    assert t3.eq48_collapsed_gap(*args, divide_by_tau=False) > tol
    assert t3.eq48_collapsed_gap(3, 2, mpmath.mpf(1), mpmath.mpf(2), divide_by_tau=False) < tol  # same at tau = 1


def test_eq45_printed_lhs_differs_only_away_from_tau_1() -> None:
    tol = REGISTRY.get("Theorem 3/eq45-objective-identity").tolerance
    H, _, _ = t3._points(count=4)[1]
    assert abs(t3.eq45_printed_lhs(H, mpmath.mpf(1)) - t3.objective(H, mpmath.mpf(1))) < tol
    assert abs(t3.eq45_printed_lhs(H, mpmath.mpf("0.5")) - t3.objective(H, mpmath.mpf("0.5"))) > 1e-3
    # the printed form fed as if it were the correction must not pass
    gap = abs(t3.eq45_printed_lhs(H, mpmath.mpf("0.5")) - t3.objective(H, mpmath.mpf("0.5")))
    outcome = printed_vs_derived(gap, 0, gap, printed="", corrected="", evidence="")
    assert judge("Theorem 3/eq45-objective-identity", outcome) == Verdict.FAIL


def test_eq46_printed_equalities_fail_inside_the_constraint() -> None:
    tol = REGISTRY.get("Theorem 3/eq46-chain").tolerance
    H, _, E_H = t3._points(count=6)[1]  # idx 1: strictly inside the constraint
    assert t3.eq46_violation(H, E_H, t3.EQ46_PRINTED) > 1e-3
    assert t3.eq46_violation(H, E_H, t3.EQ46_CORRECTED) <= tol
    wrong = t3.eq46_violation(H, E_H, "=>=<>")  # (b)-(c) reversed: -sum||h||^2 >= s3 is false
    assert judge("Theorem 3/eq46-chain", printed_vs_derived(
        t3.eq46_violation(H, E_H, t3.EQ46_PRINTED), 0, wrong, printed="", corrected="", evidence="")) == Verdict.FAIL


# -- negative controls: one per check id not covered above --------------------------------------
def test_eq44_jensen_fails_for_wrong_weights() -> None:
    """C_c doubled: the Jensen weights no longer sum to 1 and the rearrangement into C_d breaks."""
    pts = t3._points(count=4)
    assert judge("Theorem 3/eq44-jensen", t3.eq44ab_outcome(pts)) == Verdict.PASS

    def doubled_C_c(C_a, C_b, K):
        alpha, C_c, C_d = t3.jensen_weights(C_a, C_b, K)
        return alpha, 2 * C_c, C_d
    assert judge("Theorem 3/eq44-jensen", t3.eq44ab_outcome(pts, doubled_C_c)) == Verdict.FAIL


def test_eq45_eq47_bounds_fail_for_an_overstated_bound() -> None:
    """Eq. 47 with the sign of its first term flipped lies above the objective near the ETF."""
    pts = t3._points(count=6)
    assert judge("Theorem 3/eq45-eq47-bounds", t3.eq45_eq47_outcome(pts)) == Verdict.PASS

    def sign_flipped(K, n, tau, E_H, C_a, C_b):
        return t3.eq47_bound(K, n, tau, E_H, C_a, C_b) + 2 * C_b * K * E_H / ((C_a + C_b) * (K - 1) * tau)
    assert judge("Theorem 3/eq45-eq47-bounds", t3.eq45_eq47_outcome(pts, sign_flipped)) == Verdict.FAIL


def test_eq47_tight_fails_for_a_wrong_or_printed_correction() -> None:
    with mpmath.workdps(50):
        printed = t3.eq47_gap(lambda K, tau, E_H: t3.printed_constants(K, tau, E_H, E_H))
        wrong = t3.eq47_gap(lambda K, tau, E_H: (mpmath.exp(E_H / tau), (K - 1) * mpmath.exp(-E_H / tau)))
        assert t3.eq47_gap(t3.corrected_constants) < 1e-40
        for candidate in (wrong, printed):
            outcome = printed_vs_derived(printed, 0, candidate, printed="", corrected="", evidence="")
            assert judge("Theorem 3/eq47-tight-at-minimizer", outcome) == Verdict.FAIL


def test_solver_grid_fails_against_a_wrong_minimum() -> None:
    """One tiny solve (K = 2, n = 1, p = 1) against L* + 1e-3: the solver 'beats' the wrong minimum."""
    res = t3.solve_cases_gap([(2, 1, 1, 1.0, 1.0)], lambda *a: t3.minimum_value(*a) + mpmath.mpf("1e-3"), starts=1)
    err = max(-res["beats"], res["value"])  # the error of Theorem 3/solver-grid
    assert judge("Theorem 3/solver-grid", Outcome("", res, err)) == Verdict.FAIL
