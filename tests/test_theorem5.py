"""Negative controls for the Theorem 5 checks: a wrong identity, split, sequence or rate must not pass."""
from __future__ import annotations

from types import SimpleNamespace

import mpmath
import numpy as np

from lpm_verify.outcomes import at_most, compare
from lpm_verify.problem import LPMProblem
from lpm_verify.records import Outcome, Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.symbolic import all_of, identities_outcome
from lpm_verify.verdict_rule import verdict_for
from theorems import theorem5_minority_collapse as t5
from theorems._imbalanced import gram_of, minority_gaps, random_point


def _tol(check_id: str) -> float:
    return REGISTRY.get(check_id).tolerance


def test_eq70_rejects_a_missing_plus_one():
    def no_plus_one(L_A, other):
        return L_A + (other - L_A) / ((t5.KA / t5.KB) * (t5.nA / t5.nB))
    assert all_of(t5.split_identity_gaps(t5.printed_eq70)).proved
    assert all_of(t5.split_identity_gaps(no_plus_one)).refuted
    assert judge("Theorem 5/eq69-eq70-eq71", identities_outcome(t5.split_identity_gaps(no_plus_one))) is Verdict.FAIL


def test_objective_split_fails_when_minority_losses_are_reweighted():
    rng = np.random.default_rng(0)
    plain = LPMProblem.two_size(4, 2, 3.0, 1.0, 1.0, n_B=2.0)
    weighted = LPMProblem.two_size(4, 2, 3.0, 1.0, 1.0, n_B=2.0, w_r=5.0)  # Eq. 18: the split weights change
    W, H = random_point(rng, plain, 5)
    tol = _tol("Theorem 5/objective-split")
    assert verdict_for(at_most(*map(np.array, t5.split_sides(plain, 2, W, H))), tol) is Verdict.PASS
    assert verdict_for(at_most(*map(np.array, t5.split_sides(weighted, 2, W, H))), tol) is Verdict.FAIL


def test_collapse_errors_see_an_increase_or_a_nonzero_limit():
    mp = mpmath.mpf
    assert max(t5.collapse_errors([mp(1), mp("0.5"), mp(0)])) == 0
    assert max(t5.collapse_errors([mp(1), mp("1.5"), mp(0)])) == mp("0.5")
    assert max(t5.collapse_errors([mp(1), mp("0.5"), mp("1e-10")])) > _tol("Theorem 5/minority-gap-sequence")


def test_sandwich_fails_above_eq70s_bound():
    case = (4, 2, 1.0, 1.0)
    L_A, L_B = 0.2, 0.3
    upper = L_A + (np.log(4) - L_A) / (10 + 1)
    tol = _tol("Theorem 5/sandwich")
    assert verdict_for(at_most(*map(np.array, t5.sandwich_sides(case, 10.0, upper - 1e-3, L_A, L_B))), tol) \
        is Verdict.PASS
    assert verdict_for(at_most(*map(np.array, t5.sandwich_sides(case, 10.0, upper + 1e-3, L_A, L_B))), tol) \
        is Verdict.FAIL


def _transition(to="minority-collapse (M1 A+ B0)", certified=True):
    return SimpleNamespace(R=mpmath.mpf(5), from_regime="distinct (M1 A+ B+)", to_regime=to,
                           certificate={"certified": certified})


def test_exact_collapse_outcome_needs_a_certified_transition_and_zero_gaps_above_it():
    tol = _tol("Theorem 5/exact-collapse-at-finite-R")
    def sharp(R):
        return mpmath.mpf(0) if R >= 5 else mpmath.sqrt(5 - R)
    def slow(R):
        return mpmath.mpf(1) / R  # -> 0 only as R -> infinity
    assert verdict_for(t5.exact_collapse_outcome((_transition(),), sharp), tol) is Verdict.PASS
    assert verdict_for(t5.exact_collapse_outcome((_transition(),), slow), tol) is Verdict.FAIL
    assert verdict_for(t5.exact_collapse_outcome((), sharp), tol) is Verdict.FAIL
    assert verdict_for(t5.exact_collapse_outcome((_transition(certified=False),), sharp), tol) is Verdict.FAIL
    assert verdict_for(t5.exact_collapse_outcome((_transition(),), lambda R: mpmath.mpf(0)), tol) is Verdict.FAIL


def test_local_exponents_recover_the_power_and_reject_a_linear_vanishing():
    d = t5.RATE_OFFSETS
    tol = _tol("Theorem 5/rate-near-threshold")
    root = t5.local_exponents([3 * mpmath.sqrt(x) for x in d], d)
    linear = t5.local_exponents([3 * mpmath.mpf(x) for x in d], d)
    assert verdict_for(compare(np.full(2, 0.5), np.array([float(a) for a in root])), tol) is Verdict.PASS
    assert verdict_for(compare(np.full(2, 0.5), np.array([float(a) for a in linear])), tol) is Verdict.FAIL


def test_exact_collapse_accepts_a_second_collapse_regime_and_rejects_a_return_to_distinct():
    tol = _tol("Theorem 5/exact-collapse-at-finite-R")
    def sharp(R):
        return mpmath.mpf(0) if R >= 5 else mpmath.sqrt(5 - R)
    to_zero = SimpleNamespace(R=mpmath.mpf(9), from_regime="minority-collapse (M1 A+ B0)",
                              to_regime="minority-collapse-zero (M0 A+ B0)", certificate={"certified": True})
    back = SimpleNamespace(R=mpmath.mpf(9), from_regime="minority-collapse (M1 A+ B0)",
                           to_regime="distinct (M1 A+ B+)", certificate={"certified": True})
    assert verdict_for(t5.exact_collapse_outcome((_transition(), to_zero), sharp), tol) is Verdict.PASS
    assert verdict_for(t5.exact_collapse_outcome((_transition(), back), sharp), tol) is Verdict.FAIL


def test_minority_loss_at_zero_logits_is_log_K():
    with mpmath.workdps(30):
        X = np.full((6, 6), mpmath.mpf(0), dtype=object)
        assert abs(t5.minority_loss(X, 1) - mpmath.log(3)) < mpmath.mpf(10) ** -28


def test_eq71_residuals_separate_equality_from_inequality():
    printed, corrected = t5.eq71_step_a_residuals([1.5, 1.2], 1.0)
    assert np.max(np.abs(printed)) > 0 and np.all(corrected == 0)
    _, violated = t5.eq71_step_a_residuals([0.9], 1.0)  # below the minimum: the corrected form fails too
    assert violated[0] > _tol("Theorem 5/eq71-step-a")


def test_gaps_cross_check_fails_when_the_sdp_minority_classifiers_are_spread():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 8))  # (K, p), K_A = 2
    W[3] = W[2]  # the two minority classifiers collapsed, as the symmetric solver reports (gap 0)
    Hbar = rng.standard_normal((4, 8))  # (K, p)
    symmetric = np.array([0.0])
    assert judge("Theorem 5/gaps-sdp-cross-check", compare(symmetric, minority_gaps(gram_of(W, Hbar), 2))) \
        is Verdict.PASS
    W[3, 0] += 0.01  # the SDP's X* perturbed: minority gap 0.01
    assert judge("Theorem 5/gaps-sdp-cross-check", compare(symmetric, minority_gaps(gram_of(W, Hbar), 2))) \
        is Verdict.FAIL


def _eq69_outcome(X, K_A):
    gap = t5.eq69_gap(X, K_A)
    return Outcome(expected=0, observed=gap, error=gap)


def test_eq69_at_minimizer_fails_when_minority_features_do_not_vanish():
    with mpmath.workdps(t5.DIGITS):
        rng = np.random.default_rng(1)
        W = rng.standard_normal((4, 8))  # (K, p)
        Hbar = rng.standard_normal((4, 8))  # (K, p)
        Hbar[2:] = 0  # minority features zero, as at the minimizer of Eq. 67
        X = np.vectorize(mpmath.mpf, otypes=[object])(gram_of(W, Hbar))
        assert judge("Theorem 5/eq69-at-majority-minimizer", _eq69_outcome(X, 2)) is Verdict.PASS
        Hbar[3, 0] = 1e-3  # one minority feature off zero
        X = np.vectorize(mpmath.mpf, otypes=[object])(gram_of(W, Hbar))
        assert judge("Theorem 5/eq69-at-majority-minimizer", _eq69_outcome(X, 2)) is Verdict.FAIL


def test_exact_collapse_K10_fails_for_a_gap_that_vanishes_only_in_the_limit():
    def sharp(R):
        return mpmath.mpf(0) if R >= 5 else mpmath.sqrt(5 - R)
    def slow(R):
        return mpmath.mpf(1) / R
    assert judge("Theorem 5/exact-collapse-K10", t5.exact_collapse_outcome((_transition(),), sharp)) is Verdict.PASS
    assert judge("Theorem 5/exact-collapse-K10", t5.exact_collapse_outcome((_transition(),), slow)) is Verdict.FAIL
    assert judge("Theorem 5/exact-collapse-K10",
                 t5.exact_collapse_outcome((_transition(certified=False),), sharp)) is Verdict.FAIL


def _threshold_with_slope(slope):
    return SimpleNamespace(R=mpmath.mpf(4), certificate={"event_slope_dlogR": slope})


def test_rate_exponent_is_derived_from_the_event_slope():
    assert t5.derived_exponent(_threshold_with_slope(mpmath.mpf("0.77"))) == 0.5
    assert np.isnan(t5.derived_exponent(_threshold_with_slope(mpmath.mpf(0))))          # a tangency: order unknown
    assert np.isnan(t5.derived_exponent(SimpleNamespace(R=1, certificate={})))  # no certificate


def test_rate_check_fails_for_a_linear_gap_or_a_tangent_event():
    tol = _tol("Theorem 5/rate-near-threshold")
    def root_gap(case, R):
        return 3 * mpmath.sqrt(mpmath.mpf(4) - R)
    def linear_gap(case, R):
        return 3 * (mpmath.mpf(4) - R)
    assert verdict_for(t5.rate_outcome({"c": _threshold_with_slope(mpmath.mpf("0.8"))}, root_gap), tol) is Verdict.PASS
    assert verdict_for(t5.rate_outcome({"c": _threshold_with_slope(mpmath.mpf("0.8"))}, linear_gap), tol) is Verdict.FAIL
    assert verdict_for(t5.rate_outcome({"c": _threshold_with_slope(mpmath.mpf(0))}, root_gap), tol) is Verdict.FAIL
