"""Lemma 5 (theorems/lemma5_limit_problem.py) and the Eq. 66 solver (lpm_verify/solvers/limit.py):
negative controls for each kind of check, and unit tests of the solver."""
from __future__ import annotations

import dataclasses
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from lpm_verify.errors import LPMInputError, SolverNotInstalledError
from lpm_verify.outcomes import compare, printed_vs_derived
from lpm_verify.records import NON_FAILING, Verdict
from lpm_verify.registry import judge
from lpm_verify.solvers.limit import limit_objective, solve_limit
from lpm_verify.verdict_rule import verdict_for
from theorems import lemma5_limit_problem as L5


# -- solver --------------------------------------------------------------------------------------
def test_solver_feasible_and_consistent() -> None:
    sol = solve_limit(2, 2, 1.5, 0.5)
    K = 4
    assert sol.X.shape == (2 * K, 2 * K) and sol.W.shape == (K, 2 * K) and sol.Hbar.shape == (K, 2 * K)
    assert np.trace(sol.X[:K, :K]) <= K * 0.5 * (1 + 1e-7)
    assert np.trace(sol.X[K:, K:]) <= K * 1.5 * (1 + 1e-7)
    assert np.min(np.linalg.eigvalsh(sol.X)) >= -1e-7
    # the factorization reproduces X and the reported objective
    V = np.vstack([sol.Hbar, sol.W])
    assert np.max(np.abs(V @ V.T - sol.X)) < 1e-7
    assert abs(limit_objective(sol.W, sol.Hbar, 2) - sol.objective) < 1e-6


def test_solver_deterministic_and_scs_agrees() -> None:
    a, b = solve_limit(1, 2, 1.0, 1.0), solve_limit(1, 2, 1.0, 1.0)
    assert a.objective == b.objective
    scs = solve_limit(1, 2, 1.0, 1.0, solver="SCS", eps=1e-9, max_iters=200000)
    assert abs(scs.objective - a.objective) < 1e-5


@pytest.mark.parametrize("kwargs, parameter", [
    ({"K_A": 0}, "K_A"), ({"K_B": 1.5}, "K_B"), ({"E_W": -1.0}, "E_W"), ({"E_H": math.inf}, "E_H"),
    ({"pair_gap": (0, 0, 0.1)}, "pair_gap"), ({"pair_gap": (1, 2, 100.0)}, "pair_gap"),
])
def test_solver_rejects_bad_input(kwargs: dict, parameter: str) -> None:
    args = {"K_A": 2, "K_B": 2, "E_W": 1.0, "E_H": 1.0, **kwargs}
    with pytest.raises(LPMInputError, match=parameter):
        solve_limit(**args)


def test_solver_unknown_solver() -> None:
    with pytest.raises(SolverNotInstalledError, match="NOSUCH"):
        solve_limit(1, 1, 1.0, 1.0, solver="nosuch")


# -- negative controls ------------------------------------------------------------------------------
def test_symbolic_wrong_L1_is_caught() -> None:
    """Lemma 5/case-i-L1: a wrong minimum (a small extra term) fails."""
    K_B, E_W, E_H = sp.symbols("K_B E_W E_H", positive=True)
    wrong = L5.L1_derived(K_B, E_W, E_H) + sp.exp(-K_B * E_W) / 100  # a small wrong term
    err = L5.proven_zero(L5.L1_printed(K_B, E_W, E_H) - wrong, (K_B, E_W, E_H), L5._SAMPLE).error
    assert judge("Lemma 5/case-i-L1", compare(0, err)) is Verdict.FAIL


def test_chain_line_control() -> None:
    grid = L5.chain_grid(count=500)
    assert L5.chain_mismatches("line3", grid) == 0
    assert L5.chain_mismatches("line1_corrected", grid) == 0
    assert L5.chain_mismatches("premise_corrected", grid) == 0
    assert L5.chain_mismatches("line2_printed", grid) > 0
    assert L5.chain_mismatches("line2_corrected", grid) == 0
    # the printed premise and line 1 are counterexamples on the same grid (so their records cannot pass)
    assert L5.chain_mismatches("premise_printed", grid) > 0
    assert L5.chain_mismatches("line1_printed", grid) > 0


def test_symmetric_cross_check_sees_a_wrong_minimum() -> None:
    """Lemma 5/solver-symmetric-cross-check: the minimum of another instance fed as this one's fails."""
    case = L5.CASE_III
    right = L5.symmetric_minimum(*case)
    assert abs(right - L5.solved(*case).objective) <= 1e-8
    # the minimum of a neighbouring instance (other E_H) must not pass as this one
    wrong = abs(L5.symmetric_minimum(case[0], case[1], case[2], 1.9) - L5.solved(*case).objective)
    assert judge("Lemma 5/solver-symmetric-cross-check", compare(0, wrong)) is Verdict.FAIL


def test_perturbed_x0_breaks_case_iii_point() -> None:
    """Lemma 5/case-iii-minimizer: the point built at x_0 + 0.01 misses L_2."""
    K_A, K_B, E_W, E_H = L5.CASE_III
    with mpmath.workdps(30):
        x0 = L5.find_x0(K_A, K_B, E_W, E_H)
        assert abs(L5.x0_equation(K_A, K_B, E_W, E_H)(x0)) < mpmath.mpf("1e-25")
        x = x0 + mpmath.mpf("0.01")
        W, Hbar = L5.case_iii_point(K_A, K_B, E_W, E_H, x)
        g = L5.g_functions(K_A, K_B, E_W, E_H)
        C = (g["g_a"](x), g["g_b"](x), g["g_c"](x))
        L2 = L5.L2_printed(mpmath.mpf(K_A), K_B, mpmath.sqrt(E_W * E_H), C, log=mpmath.log)
        gap = abs(L5.mp_objective(W, Hbar, K_A) - L2)
    assert judge("Lemma 5/case-iii-minimizer", compare(0, float(gap))) is Verdict.FAIL


def test_solver_shape_catches_perturbed_solution() -> None:
    sol = L5.solved(*L5.CASE_II)
    assert L5.solution_shape(sol)["norm_w_B_sq"] < 1e-7
    X = sol.X.copy()
    K = 5
    X[K + 3, K + 3] += 0.1  # pull one minority classifier off zero
    bad = L5.solution_shape(dataclasses.replace(sol, X=X))
    assert bad["minority_spread"] > 1e-2 and bad["norm_w_B_sq"] > 1e-3
    # a wrong closed form against the solver value fails
    wrong = compare(0, abs(sol.objective - (L5.closed_form_minimum(*L5.CASE_II) + 1e-4)))
    assert verdict_for(wrong, L5._SOLVER_TOL) is Verdict.FAIL


def test_eps_bound_is_a_gap_and_grows() -> None:
    L0 = L5.closed_form_minimum(*L5.CASE_I)
    assert abs(L5.eps_bound(L5.CASE_I, 0.0) - L0) < 1e-12
    assert L0 < L5.eps_bound(L5.CASE_I, 0.5) < L5.eps_bound(L5.CASE_I, 1.0)


# -- one negative control per check id ---------------------------------------------------------------
def test_case_i_minimizer_with_a_wrong_point_fails() -> None:
    """Lemma 5/case-i-minimizer: the printed point built with twice the classifier budget is infeasible."""
    K_B, E_W, E_H = sp.symbols("K_B E_W E_H", positive=True)
    pt = L5.case_i_point(K_B, 2 * E_W, E_H)
    err = L5.proven_zero(pt["classifier_energy"] - E_W, (K_B, E_W, E_H), L5._SAMPLE).error
    assert judge("Lemma 5/case-i-minimizer", compare(0, err)) is Verdict.FAIL


def test_case_ii_minimizer_with_a_wrong_logit_fails() -> None:
    """Lemma 5/case-ii-minimizer: other-majority logits at cosine -1/K_A (not -1/(K_A-1)) miss L_2."""
    K_A, K_B, s = sp.Integer(3), sp.Integer(2), sp.Rational(4, 5)  # a sample point of the check
    pt = L5.case_ii_point(K_A, K_B, s**2 / 3, sp.Integer(3))
    value = L5.logit_objective(K_A, K_B, pt["za"], pt["za"] * (-1 / K_A), pt["zc"])
    L2 = L5.L2_printed(K_A, K_B, s, L5.case_ii_constants(K_A, K_B, s))
    err = L5.proven_zero(value - L2, (), [()]).error
    assert judge("Lemma 5/case-ii-minimizer", compare(0, err)) is Verdict.FAIL


def test_case_iii_endpoints_with_a_wrong_Cf_fail() -> None:
    """Lemma 5/case-iii-endpoints: C'_f = 1/(K_R + 1) instead of 1/sqrt(K_R + 1) breaks (A)."""
    out = L5.case_iii_endpoints_outcome(C_f=lambda K_R: 1 / (K_R + 1))
    assert judge("Lemma 5/case-iii-endpoints", out) is Verdict.FAIL


@pytest.mark.parametrize("check_id, printed_line, wrong_corrected", [
    ("Lemma 5/case-ii-chain-premise", "premise_printed", "line1_printed"),
    ("Lemma 5/case-ii-chain-line1", "line1_printed", "line2_printed"),
    ("Lemma 5/case-ii-chain-line2", "line2_printed", "line2_parenthetical"),
])
def test_chain_errata_reject_wrong_corrections(check_id: str, printed_line: str, wrong_corrected: str) -> None:
    """An erratum record needs a corrected line that matches: another wrong line as the correction fails,
    and the printed line fed as the correction does not pass either."""
    grid = L5.chain_grid(count=500)
    printed = L5.chain_mismatches(printed_line, grid)
    wrong = printed_vs_derived(printed, 0, L5.chain_mismatches(wrong_corrected, grid), printed="p", corrected="c",
                               evidence="control")
    assert judge(check_id, wrong) is Verdict.FAIL
    as_truth = printed_vs_derived(printed, 0, printed, printed="p", corrected="p", evidence="control")
    assert judge(check_id, as_truth) not in NON_FAILING


def test_chain_lines34_with_a_wrong_threshold_fails() -> None:
    """Lemma 5/case-ii-chain-lines34: line 3 with threshold 1/sqrt(1 + K_R) (the '+1' dropped) mismatches."""
    grid = L5.chain_grid(count=500)
    wrong = sum(L5.chain_lines(K_R, r)["target"] != (r > 1 / math.sqrt(1 + K_R)) for K_R, r in grid)
    assert judge("Lemma 5/case-ii-chain-lines34", compare(0, wrong)) is Verdict.FAIL


def test_case_iii_x0_perturbed_root_fails() -> None:
    """Lemma 5/case-iii-x0: the residual at x_0 + 1e-12 is far above the 40-digit tolerance."""
    with mpmath.workdps(40):
        x0 = L5.find_x0(*L5.CASE_III)
        residual = abs(L5.x0_equation(*L5.CASE_III)(x0 + mpmath.mpf("1e-12")))
        assert judge("Lemma 5/case-iii-x0", compare(0, residual)) is Verdict.FAIL


def test_case_boundary_perturbed_s_star_fails() -> None:
    """Lemma 5/case-boundary: 1.001 s* fed as the boundary: F(1) != 0 there."""
    K_A, K_B = L5.CASE_III[:2]
    with mpmath.workdps(40):
        E = L5.boundary_s(K_A, K_B) * mpmath.mpf("1.001")
        at_one = abs(L5.x0_equation(K_A, K_B, E, E)(mpmath.mpf(1)))
        assert judge("Lemma 5/case-boundary", compare(0, at_one)) is Verdict.FAIL


def _off_minimum(sol, shift: float = 1e-4):  # noqa: ANN001, ANN202
    return dataclasses.replace(sol, objective=sol.objective + shift)


def _minority_moved(sol):  # noqa: ANN001, ANN202
    X = sol.X.copy()
    K = sol.K_A + sol.K_B
    X[K + K - 1, K + K - 1] += 0.1  # the last minority classifier leaves the others
    return dataclasses.replace(sol, X=X)


@pytest.mark.parametrize("check_id, case, expect", [
    ("Lemma 5/solver-case-i", L5.CASE_I, ("minority_spread",)),
    ("Lemma 5/solver-case-ii", L5.CASE_II, ("minority_spread", "norm_w_B_sq")),
    ("Lemma 5/solver-case-iii", L5.CASE_III, ("minority_spread",)),
])
def test_solver_cases_reject_perturbed_solutions(check_id: str, case: tuple, expect: tuple) -> None:
    """A solver value 1e-4 above the closed form, or a minority classifier moved, fails."""
    gaps = {name: (lambda sh, n=name: sh[n]) for name in expect}
    sol = L5.solved(*case)
    assert judge(check_id, L5.solver_outcome(case, gaps, sol=sol)) is Verdict.PASS
    assert judge(check_id, L5.solver_outcome(case, gaps, sol=_off_minimum(sol))) is Verdict.FAIL
    assert judge(check_id, L5.solver_outcome(case, gaps, sol=_minority_moved(sol))) is Verdict.FAIL


def test_eps_gap_rejects_a_bound_without_gap_and_a_bound_too_high() -> None:
    """Lemma 5/eps-gap: the bound L_0 (no eps' > 0), or the printed bound + 0.05 (above the solved value), fails."""
    assert judge("Lemma 5/eps-gap", L5.eps_gap_outcome(lambda case, eps: L5.closed_form_minimum(*case))) is Verdict.FAIL
    assert judge("Lemma 5/eps-gap", L5.eps_gap_outcome(lambda case, eps: L5.eps_bound(case, eps) + 0.05)) is Verdict.FAIL


def test_solver_boundary_rejects_perturbed_solutions() -> None:
    """Lemma 5/solver-case-boundary: moved minority classifiers or an off-minimum value fail."""
    assert judge("Lemma 5/solver-case-boundary",
                 L5.solver_boundary_outcome(lambda *c: _minority_moved(L5.solved(*c)))) is Verdict.FAIL
    assert judge("Lemma 5/solver-case-boundary",
                 L5.solver_boundary_outcome(lambda *c: _off_minimum(L5.solved(*c)))) is Verdict.FAIL


def test_solver_random_rejects_off_minimum_values() -> None:
    """Lemma 5/solver-random-instances: solver values 1e-4 above the minimum fail."""
    assert judge("Lemma 5/solver-random-instances",
                 L5.solver_random_outcome(lambda *c: _off_minimum(L5.solved(*c)))) is Verdict.FAIL
