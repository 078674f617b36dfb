"""Lemma 6 (theorems/lemma6_limit_bound.py): Eq. 78 on hypothesis-generated feasible points, and
negative controls (wrong constants, infeasible points, wrong algebra must fail)."""
from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify.outcomes import at_most, compare, printed_vs_derived
from lpm_verify.records import Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.verdict_rule import verdict_for
from theorems import lemma6_limit_bound as L6

TOL = L6._FLOAT_TOL


@settings(deadline=None, derandomize=True, max_examples=60)
@given(seed=st.integers(0, 2**32 - 1), K_A=st.integers(1, 4))
def test_eq78_and_steps_on_feasible_points(seed: int, K_A: int) -> None:
    inst = L6.random_instance(np.random.default_rng(seed), K_A=K_A)
    obj = L6.objective(inst)
    assert L6.bound_a(inst) <= obj + TOL
    assert L6.radicand_b(inst) >= -TOL
    assert L6.bound_b(inst) <= L6.bound_a(inst) + TOL
    assert np.min(L6.eq79_gaps(inst)) >= -TOL
    chain = L6.eq81_chain(inst)
    assert chain[3] <= chain[2] + TOL <= chain[1] + 2 * TOL <= chain[0] + 3 * TOL
    lhs, mid, right = L6.eq83_sides(inst, printed=False)
    assert lhs <= mid + TOL and mid <= right + TOL


def _scaled(inst: L6.Instance, W: float = 1.0, H: float = 1.0) -> L6.Instance:
    return dataclasses.replace(inst, W=inst.W * W, H=tuple(Hk * H for Hk in inst.H))


def _shifted_C_d(insts: tuple, shift: float) -> list:
    return [dataclasses.replace(i, C=dataclasses.replace(i.C, C_d=i.C.C_d + shift)) for i in insts]


def test_wrong_constant_in_eq79_fails() -> None:
    """Lemma 6/eq79-jensen: C_d + 0.5 in the linear bound fails."""
    wrong = _shifted_C_d(L6.instances(count=50), 0.5)
    gaps = np.concatenate([L6.eq79_gaps(i) for i in wrong])
    assert judge("Lemma 6/eq79-jensen", at_most(-gaps, np.zeros_like(gaps))) is Verdict.FAIL


def test_infeasible_point_breaks_constraint_steps() -> None:
    insts = [i for i in L6.instances(count=80)]
    pairs = [(L6.eq81_chain(_scaled(i, H=2.0))[3], L6.eq81_chain(_scaled(i, H=2.0))[2]) for i in insts]
    assert verdict_for(L6.violation(pairs), TOL) is Verdict.FAIL  # Eq. 81 b needs the E_H constraint
    assert L6.eq83_violations(tuple(_scaled(i, W=2.0) for i in insts), printed=False)[0] > 1e-3


def test_wrong_eq82_expansion_is_caught() -> None:
    """Lemma 6/eq82-expansion: the cross term's sign flipped fails (the check's error is inf on a residual)."""
    def wrong(w, w_A, w_B, Ce, Cf, dot, K_A):  # noqa: ANN001, ANN202 (sign of the cross term flipped)
        return L6.eq82_printed(w, w_A, w_B, Ce, Cf, dot, K_A) + 4 * Cf**2 * dot(w_A, w_B)
    assert L6.eq82_symbolic_residual(L6.eq82_printed) == 0
    residual = L6.eq82_symbolic_residual(wrong)
    assert residual != 0
    assert judge("Lemma 6/eq82-expansion", compare(0, 0 if residual == 0 else float("inf"))) is Verdict.FAIL


def test_eq83_printed_fails_where_corrected_holds() -> None:
    """Lemma 6/eq83-as-printed: the printed form fed as the correction fails, and so does the corrected
    form on infeasible points (W scaled by 2)."""
    pts = L6.instances()
    printed, corrected = L6.eq83_violations(pts, True), L6.eq83_violations(pts, False)
    assert max(printed) > 1e-3 and max(corrected) <= TOL
    as_truth = printed_vs_derived(max(printed), 0.0, max(printed), printed="p", corrected="p", evidence="control")
    assert judge("Lemma 6/eq83-as-printed", as_truth) is Verdict.FAIL
    off = L6.eq83_violations(tuple(_scaled(i, W=2.0) for i in pts[:80]), printed=False)
    wrong = printed_vs_derived(max(printed), 0.0, max(off), printed="p", corrected="c", evidence="control")
    assert judge("Lemma 6/eq83-as-printed", wrong) is Verdict.FAIL


def test_constants_sum_and_coefficient() -> None:
    c = L6.bound_constants(3, 2, 2.0, 0.5, 1.5)
    assert abs(c.Cpa + 2 * c.Cpb + 2 * c.Cpc - 1) < 1e-15 and abs(c.C_e + c.C_f - 1) < 1e-15
    K_R = sp.Rational(3, 2)
    f = 1 / sp.sqrt(1 + K_R)  # C_f at which the coefficient vanishes (case iii)
    assert sp.simplify(L6.coefficient(K_R, 1 - f, f)) == 0


def test_bound_not_attained_with_wrong_constants() -> None:
    """Lemma 6/eq78-attained: with C_b doubled the bound is not attained at the solver's minimizer."""
    from theorems.lemma5_limit_problem import CASE_II, lemma5_constants, solved

    K_A, K_B, E_W, E_H = CASE_II
    sol = solved(*CASE_II)
    H = tuple(sol.Hbar[k:k + 1] for k in range(K_A + K_B))
    assert max(abs(v) for v in L6.tightness_gaps(CASE_II).values()) < 1e-7
    C_a, C_b, C_c = lemma5_constants(*CASE_II)
    wrong = L6.Instance(K_A, K_B, E_W, E_H, sol.W, H, L6.bound_constants(K_A, K_B, C_a, 2 * C_b, C_c))
    gap = L6.objective(wrong) - L6.bound_a(wrong)  # still a valid bound, no longer attained
    assert judge("Lemma 6/eq78-attained", compare(0, gap)) is Verdict.FAIL


def test_eq81_equality_condition_rejects_E_H_and_a_wrong_correction() -> None:
    from lpm_verify.outcomes import printed_vs_derived
    from theorems.lemma5_limit_problem import CASE_II, solved

    K_A, K_B, _, E_H = CASE_II
    majority = float(np.trace(solved(*CASE_II).X[:K_A, :K_A]))
    tol = REGISTRY.get("Lemma 6/eq81-equality-condition").tolerance
    as_if_right = printed_vs_derived(E_H, majority, E_H, printed="E_H", corrected="E_H", evidence="control")
    assert verdict_for(as_if_right, tol) is Verdict.FAIL  # the printed level fed as the correction
    wrong = printed_vs_derived(E_H, majority, K_A * E_H, printed="E_H", corrected="K_A E_H", evidence="control")
    assert verdict_for(wrong, tol) is Verdict.FAIL


# -- one negative control per check id ---------------------------------------------------------------
def test_constant_identities_with_a_wrong_C_g_fail() -> None:
    """Lemma 6/constant-identities: C_g divided by 1 + C'_a breaks C_g C_e = K_A C'_b."""
    def wrong(K_A, K_B, C_a, C_b, C_c, log):  # noqa: ANN001, ANN202
        c = L6.bound_constants(K_A, K_B, C_a, C_b, C_c, log=log)
        return dataclasses.replace(c, C_g=c.C_g / (1 + c.Cpa))
    assert judge("Lemma 6/constant-identities", L6.constant_identities_outcome(wrong)) is Verdict.FAIL


def test_eq83_square_with_the_printed_coefficient_fails() -> None:
    """Lemma 6/eq83-completing-square: the printed coefficient C_e(2 - C_f) does not complete the square."""
    out = L6.eq83_square_outcome(lambda Ce, Cf: Ce * (2 - Cf))
    assert judge("Lemma 6/eq83-completing-square", out) is Verdict.FAIL


def test_eq80_with_a_wrong_constant_fails() -> None:
    """Lemma 6/eq80: C_d + 5 puts the linear bound above the objective."""
    terms = [L6.eq80_terms(i) for i in _shifted_C_d(L6.instances(count=50), 5.0)]
    out = at_most([t[1] for t in terms], [t[0] for t in terms])
    assert judge("Lemma 6/eq80", out) is Verdict.FAIL


def test_eq82_with_a_wrong_C_e_fails() -> None:
    """Lemma 6/eq82: C_e + 0.1 (so C_e + C_f != 1) breaks the expansion at feasible points."""
    insts = [dataclasses.replace(i, C=dataclasses.replace(i.C, C_e=i.C.C_e + 0.1)) for i in L6.instances(count=50)]
    sides = [L6.eq82_sides(i) for i in insts]
    out = compare(np.array([a for a, _ in sides]), np.array([b for _, b in sides]))
    assert judge("Lemma 6/eq82", out) is Verdict.FAIL


def test_eq78_with_a_wrong_constant_fails() -> None:
    """Lemma 6/eq78: C_d + 5 puts bound (a) above the objective."""
    pairs = [(L6.bound_a(i), L6.objective(i)) for i in _shifted_C_d(L6.instances(count=50), 5.0)]
    assert judge("Lemma 6/eq78", L6.violation(pairs)) is Verdict.FAIL
