"""Lemma 3 (theorems/lemma3_two_class_lq.py): proof steps on hypothesis-generated feasible points,
negative controls for the symbolic, proof-step and solver checks."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify.outcomes import at_most, compare, printed_vs_derived
from lpm_verify.records import Verdict
from lpm_verify.registry import judge
from theorems import lemma3_two_class_lq as L3


@settings(deadline=None, derandomize=True, max_examples=80)
@given(seed=st.integers(0, 2**32 - 1), q=st.sampled_from([1.2, 1.5, 1.9, 2.1, 3.0, 5.0]))
def test_steps_hold_on_feasible_points(seed: int, q: float) -> None:
    pt = L3.random_point(np.random.default_rng(seed), q)
    for name, pairs in L3.step_pairs(pt).items():
        assert at_most([a for a, _ in pairs], [b for _, b in pairs]).error <= L3._FLOAT_TOL, name
    assert L3.loss33(pt) >= L3.minimum(pt["p"], q, pt["E_W"], pt["E_H"]) - 1e-12  # the lemma's minimum


def test_infeasible_point_breaks_eq40_and_eq42() -> None:
    """Lemma 3/proof-steps: an infeasible point breaks Eq. 40 (q < 2) and Eq. 42 (q > 2)."""
    rng = np.random.default_rng(1)
    for q, name in ((1.5, "eq40"), (3.0, "eq42")):
        pt = L3.random_point(rng, q)
        pt = {**pt, "h": pt["h"].copy()}
        pt["h"][0, 0] = 3.0 * pt["E_H"] ** (1 / q)  # ||h_1||_q^q >= 3^q E_H > 2 E_H: infeasible
        pairs = L3.step_pairs(pt)[name]
        assert judge("Lemma 3/proof-steps", at_most([a for a, _ in pairs], [b for _, b in pairs])) is Verdict.FAIL


def test_product_bound_erratum_and_corrected_tightness() -> None:
    """Lemma 3/eq41-product-bound, Lemma 3/eq43-product-bound: the printed radicand fed as the
    correction fails."""
    for case, check_id in (("q<2", "Lemma 3/eq41-product-bound"), ("q>2", "Lemma 3/eq43-product-bound")):
        out = L3.product_bound_outcome(case)
        assert judge(check_id, out) is Verdict.ERRATUM
        as_truth = L3.product_bound_outcome(case, corrected=L3.printed_factor)
        assert judge(check_id, as_truth) is Verdict.FAIL
        too_loose = L3.product_bound_outcome(case, corrected=lambda q: 32.0)  # a valid but not tight bound
        assert judge(check_id, too_loose) is Verdict.FAIL
    for q in (1.5, 3.0):
        assert abs(L3.eq41_43_rhs(3, q, 1.3, 0.7, printed=False) - L3.minimum(3, q, 1.3, 0.7)) < 1e-12
        assert abs(L3.eq41_43_rhs(3, q, 1.3, 0.7, printed=True) - L3.minimum(3, q, 1.3, 0.7)) > 1e-3


def test_pattern_gaps_zero_at_claimed_minimizer_and_catch_perturbation() -> None:
    """Lemma 3/solver-patterns: a claimed minimizer with one coordinate moved by 1% fails."""
    p, E_W, E_H = 4, 1.3, 0.7
    c = L3.constants(float(p), 3.0, E_W, E_H)
    s = np.array([1.0, -1.0, -1.0, 1.0])
    H = np.array([c["C_2"] * s, -c["C_2"] * s])
    W = H / c["C_1"]
    assert max(L3.pattern_gaps(W, H, 3.0, E_W, E_H).values()) < 1e-14
    assert abs(2 * L3.lq_objective(W, H) - L3.minimum(p, 3.0, E_W, E_H)) < 1e-14
    H2 = H.copy()
    H2[0, 0] *= 1.01
    assert judge("Lemma 3/solver-patterns", compare(0, max(L3.pattern_gaps(W, H2, 3.0, E_W, E_H).values()))) is Verdict.FAIL
    c = L3.constants(float(p), 1.5, E_W, E_H)
    e = np.eye(p)[2]
    H = np.array([c["C_4"] * e, -c["C_4"] * e])
    assert max(L3.pattern_gaps(H / c["C_3"], H, 1.5, E_W, E_H).values()) < 1e-14
    dense = np.array([c["C_4"] * np.ones(p) / 2, -c["C_4"] * np.ones(p) / 2])
    assert max(L3.pattern_gaps(dense / c["C_3"], dense, 1.5, E_W, E_H).values()) > 0.1


def test_constants_with_a_wrong_C_2_fail() -> None:
    """Lemma 3/constants: C_2 = (E_H/p)^{1/2} (the q = 2 value) misses the l_q constraint."""
    def wrong(p, q, E_W, E_H):  # noqa: ANN001, ANN202
        return {**L3.constants(p, q, E_W, E_H), "C_2": sp.sqrt(E_H / p)}
    assert judge("Lemma 3/constants", L3.constants_outcome(wrong)) is Verdict.FAIL


def test_eq41_eq43_tight_rejects_wrong_corrections() -> None:
    """Lemma 3/eq41-eq43-tight: the printed bound fed as the correction fails, and so does a half
    correction (radicand 16 but + C_d, not + 2 C_d)."""
    cases = [(p, q, 1.3, 0.7) for p in (1, 2, 5) for q in (1.5, 3.0)]
    printed = max(abs(L3.eq41_43_rhs(*c, printed=True) - L3.minimum(*c)) for c in cases)
    as_truth = printed_vs_derived(printed, 0.0, printed, printed="p", corrected="p", evidence="control")
    assert judge("Lemma 3/eq41-eq43-tight", as_truth) is Verdict.FAIL
    half = 0.0
    for p, q, E_W, E_H in cases:
        log_Ca = p * (E_H / p) ** (1 / q) * (E_W / p) ** 0.5 if q > 2 else E_H ** (1 / q) * E_W**0.5
        _, C_d = L3.theorem1_constants(math.exp(log_Ca), math.exp(-log_Ca))
        rhs = L3.eq41_43_rhs(p, q, E_W, E_H, printed=False) - C_d  # radicand 16, constant C_d
        half = max(half, abs(rhs - L3.minimum(p, q, E_W, E_H)))
    wrong = printed_vs_derived(printed, 0.0, half, printed="p", corrected="c", evidence="control")
    assert judge("Lemma 3/eq41-eq43-tight", wrong) is Verdict.FAIL


def test_max_pair_gap_matches_the_euclidean_case_and_is_attained() -> None:
    """For q = 2 the maximum of ||x_1 - x_2|| over ||x_1||^2 + ||x_2||^2 <= B is sqrt(2B) (x_2 = -x_1)."""
    rng = np.random.default_rng(0)
    for p, B in ((1, 3.0), (3, 0.7)):
        assert L3.max_pair_gap(p, 2.0, B, rng) == pytest.approx(math.sqrt(2 * B), rel=1e-9)
    one_start = L3.max_pair_gap(3, 1.5, 10.0, np.random.default_rng(1), starts=1)
    assert one_start <= L3.max_pair_gap(3, 1.5, 10.0, np.random.default_rng(1)) + 1e-12
