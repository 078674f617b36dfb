"""Lemma 5 (theorems/lemma5_limit_problem.py) and the Eq. 66 solver (lpm_verify/solvers/limit.py):
negative controls for each kind of check, and unit tests of the solver."""
from __future__ import annotations

import dataclasses
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from lpm_verify.claims import Verdict, compare, verdict_for
from lpm_verify.errors import LPMInputError, SolverNotInstalledError
from lpm_verify.solvers.limit import limit_objective, solve_limit
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
    K_B, E_W, E_H = sp.symbols("K_B E_W E_H", positive=True)
    wrong = L5.L1_derived(K_B, E_W, E_H) + sp.exp(-K_B * E_W) / 100  # a small wrong term
    err = L5.proven_zero(L5.L1_printed(K_B, E_W, E_H) - wrong, (K_B, E_W, E_H), L5._SAMPLE)
    assert verdict_for(compare(0, err), 1e-40) is Verdict.FAIL


def test_chain_line_control() -> None:
    grid = L5.chain_grid(count=500)
    assert L5.chain_mismatches("line3", grid) == 0
    assert L5.chain_mismatches("line1_corrected", grid) == 0
    assert L5.chain_mismatches("line2_printed", grid) > 0
    assert L5.chain_mismatches("line2_corrected", grid) == 0
    # the printed premise and line 1 are counterexamples on the same grid (so their records cannot pass)
    assert L5.chain_mismatches("premise_printed", grid) > 0
    assert L5.chain_mismatches("line1_printed", grid) > 0


def test_symmetric_cross_check_sees_a_wrong_minimum() -> None:
    case = L5.CASE_III
    right = L5.symmetric_minimum(*case)
    assert abs(right - L5.solved(*case).objective) <= 1e-8
    # the minimum of a neighbouring instance (other E_H) must not pass as this one
    assert abs(L5.symmetric_minimum(case[0], case[1], case[2], 1.9) - L5.solved(*case).objective) > 1e-3


def test_perturbed_x0_breaks_case_iii_point() -> None:
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
    assert verdict_for(compare(0, float(gap)), 1e-30) is Verdict.FAIL


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
