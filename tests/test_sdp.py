"""Eq. 15 via cvxpy, the solver registry and Lemma 1's map (Eq. 16)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from lpm_verify.errors import LPMInputError, SolverError, SolverNotInstalledError
from lpm_verify.problem import LPMProblem, two_size_fractions
from lpm_verify.solvers import base
from lpm_verify.solvers.base import (InaccurateSolutionWarning, SolverFallbackWarning, check_status,
                                     installed_solvers, resolve_solver)
from lpm_verify.solvers.sdp import eq15_objective, lemma1_evaluate, lemma1_map, solve_sdp

# Clarabel's default tolerances are 1e-8; objective values compared at 1e-7, feasibility at -1e-7.
OBJ_TOL = 1e-7


def balanced_value(K: int, E_W: float, E_H: float) -> float:
    """Theorem 1: log(1 + (K-1) exp(-sqrt(E_H E_W) K/(K-1)))."""
    return math.log1p((K - 1) * math.exp(-math.sqrt(E_H * E_W) * K / (K - 1)))


def test_registry_order_and_installed():
    assert list(base.SOLVERS) == ["mosek", "clarabel", "scs"]
    assert {"clarabel", "scs"} <= set(installed_solvers())


def test_unknown_solver_lists_installed():
    with pytest.raises(SolverNotInstalledError, match=r"unknown solver 'gurobi'.*installed: .*clarabel"):
        resolve_solver("gurobi")


def test_mosek_explicit_without_license_is_an_error(monkeypatch):
    monkeypatch.setattr(base.ConicSolver, "is_installed", lambda self: True)
    monkeypatch.setenv("MOSEKLM_LICENSE_FILE", "/nonexistent/mosek.lic")
    monkeypatch.setenv("HOME", "/nonexistent-home")
    with pytest.raises(SolverNotInstalledError, match="mosek has no license"):
        resolve_solver("mosek")


def test_mosek_not_installed_is_an_error(monkeypatch):
    real = base.ConicSolver.is_installed
    monkeypatch.setattr(base.ConicSolver, "is_installed", lambda self: False if self.name == "mosek" else real(self))
    with pytest.raises(SolverNotInstalledError, match="mosek is not installed.*fix: pip install mosek"):
        resolve_solver("mosek")


def test_auto_falls_back_with_a_warning(monkeypatch, tmp_path):
    monkeypatch.setenv("MOSEKLM_LICENSE_FILE", str(tmp_path / "none.lic"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.warns(SolverFallbackWarning, match="using Clarabel"):
        solver, note = resolve_solver("auto")
    assert solver.name == "clarabel" and "MOSEK" in note


def test_auto_picks_licensed_mosek(monkeypatch, tmp_path):
    lic = tmp_path / "mosek.lic"
    lic.write_text("license")
    monkeypatch.setenv("MOSEKLM_LICENSE_FILE", str(lic))
    monkeypatch.setattr(base.ConicSolver, "is_installed", lambda self: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solver, note = resolve_solver("auto")
    assert solver.name == "mosek" and note is None


def test_status_sets():
    check_status("clarabel", "optimal", "x")
    with pytest.warns(InaccurateSolutionWarning, match="scs solved x only to status 'optimal_inaccurate'"):
        check_status("scs", "optimal_inaccurate", "x")
    with pytest.raises(SolverError, match="clarabel failed on x with status 'infeasible'"):
        check_status("clarabel", "infeasible", "x")


@pytest.mark.parametrize("solver,tol", [("clarabel", OBJ_TOL), ("scs", 1e-3)])  # SCS defaults: eps 1e-4
def test_balanced_optimum(solver, tol):
    sol = solve_sdp(LPMProblem.balanced(4, 3, 1.0, 2.0), solver=solver)
    assert sol.status == "optimal" and sol.solver == solver
    assert abs(sol.objective - balanced_value(4, 1.0, 2.0)) < tol
    assert sol.detail["slacks"]["E_H"] > -tol and sol.detail["slacks"]["E_W"] > -tol


def test_lemma1_map_lifts_to_eq7_with_the_same_value():
    problem = LPMProblem((3, 3, 1, 1), 1.0, 2.0, p=11)
    sol = solve_sdp(problem)
    ev = sol.detail["eq7"]
    assert abs(ev["objective"] - sol.objective) < OBJ_TOL  # Eq. 65: same value
    assert ev["slack_E_W"] > -OBJ_TOL and ev["slack_E_H"] > -OBJ_TOL  # feasible
    W, H = lemma1_map(sol.X, 9, problem.sizes, rng=np.random.default_rng(0))
    assert W.shape == (4, 9) and [h.shape for h in H] == [(3, 9), (3, 9), (1, 9), (1, 9)]
    F = np.vstack([np.stack([h[0] for h in H]), W])
    assert np.max(np.abs(F @ F.T - sol.X)) < 1e-9  # P^T P = I: the Gram is X


def test_lemma1_map_negative_control():
    """A feasible non-minimizer (classifiers 1 and 2 swapped: same budgets, PSD) lifts to a point
    whose Eq. 7 value is clearly above the minimum."""
    problem = LPMProblem((3, 3, 1, 1), 1.0, 2.0, p=8)
    sol = solve_sdp(problem)
    perm = np.array([0, 1, 2, 3, 5, 4, 6, 7])
    bad = lemma1_evaluate(problem, sol.X[np.ix_(perm, perm)])
    assert bad["slack_E_H"] > -OBJ_TOL and bad["slack_E_W"] > -OBJ_TOL
    assert bad["objective"] > sol.objective + 0.1


def test_lemma1_needs_p_at_least_2K():
    sol = solve_sdp(LPMProblem.balanced(3, 1, 1.0, 1.0))
    with pytest.raises(LPMInputError, match=r"p must be >= 2K = 6"):
        lemma1_map(sol.X, 5, (1, 1, 1))


def test_oversampling_weights_equal_scaled_sizes():
    """Proposition 1 / Eq. 18: weights w_r on the minority act like n_B -> w_r n_B."""
    weighted = solve_sdp(LPMProblem((10, 10, 1, 1), 1.0, 3.0, weights=(1, 1, 5, 5)))
    scaled = solve_sdp(LPMProblem((10, 10, 5, 5), 1.0, 3.0))
    assert abs(weighted.objective - scaled.objective) < OBJ_TOL


def test_infinite_R_has_zero_minority_features():
    sol = solve_sdp(two_size_fractions(6, 3, math.inf), E_W=1.0, E_H=2.0)
    assert np.max(np.diag(sol.X)[3:6]) < 1e-6  # Lemma 5: h_k = 0 for the minority
    assert abs(eq15_objective(sol.X, two_size_fractions(6, 3, math.inf)) - sol.objective) < 1e-15


@pytest.mark.parametrize("fractions,kw,match", [([0.5, -0.1, 0.6], dict(E_W=1, E_H=1), "fractions"),
                                                ([1.0], dict(E_W=1, E_H=1), "fractions"),
                                                ([0.5, 0.5], dict(E_W=0, E_H=1), "E_W"),
                                                ([0.5, 0.5], dict(E_W=1), "E_H")])
def test_bad_fractions(fractions, kw, match):
    with pytest.raises(LPMInputError, match=match):
        solve_sdp(fractions, **kw)


def test_unknown_solver_in_solve_sdp():
    with pytest.raises(SolverNotInstalledError, match="installed"):
        solve_sdp([0.5, 0.5], E_W=1.0, E_H=1.0, solver="cplex")


# -- a conic solution at near-zero loss does not fix the geometry ------------------------------------------------

@pytest.mark.parametrize("K,K_A,R,E_W,E_H", [
    (10, 1, math.inf, 3.0, 10.0),   # SDP minority cosine 0.065, exact 1
    (20, 1, math.inf, 1.0, 1.0),    # SDP 0.57, exact 1
    (10, 5, 100.0, 1e4, 5.0),       # E_W slack ~1% of the budget at loss ~1e-108
])
def test_unresolved_geometry_is_flagged(K, K_A, R, E_W, E_H):
    from lpm_verify.solvers.base import summarize
    from lpm_verify.solvers.nuclear import solve_nuclear
    for solve in (solve_sdp, solve_nuclear):
        sol = solve(two_size_fractions(K, K_A, R), E_W=E_W, E_H=E_H)
        stats = summarize(sol, K_A)
        assert sol.status == "optimal" and stats["geometry_resolved"] is False
        assert "geometry not resolved" in stats["geometry_note"]


@pytest.mark.parametrize("K,K_A,R,E_W,E_H", [(6, 3, 4.0, 1.0, 2.0), (10, 3, 1e4, 1.0, 5.0), (6, 3, math.inf, 1.0, 2.0)])
def test_resolved_geometry_agrees_with_the_reduced_solver(K, K_A, R, E_W, E_H):
    """Negative control of the flag: where it says resolved, the SDP cosine is the exact one."""
    from lpm_verify.solvers.base import summarize
    from lpm_verify.solvers.symmetric import Profile, solve_symmetric
    sol = solve_sdp(two_size_fractions(K, K_A, R), E_W=E_W, E_H=E_H)
    stats = summarize(sol, K_A)
    exact = summarize(solve_symmetric(Profile.two_size(K, K_A, R, E_W, E_H)), K_A)
    assert stats["geometry_resolved"] is True
    # GEOMETRY_ACCURACY (1e-3) is the accuracy the flag promises for a resolved cosine
    assert abs(stats["cos_minority"] - exact["cos_minority"]) < base.GEOMETRY_ACCURACY


def test_unresolved_examples_are_wrong_without_the_flag():
    """Why the flag exists: the flagged SDP cosine is far from the exact one (symmetric solver)."""
    from lpm_verify.solvers.base import summarize
    from lpm_verify.solvers.symmetric import Profile, solve_symmetric
    sol = solve_sdp(two_size_fractions(10, 1, math.inf), E_W=3.0, E_H=10.0)
    exact = summarize(solve_symmetric(Profile.two_size(10, 1, math.inf, 3.0, 10.0)), 1)
    assert abs(summarize(sol, 1)["cos_minority"] - exact["cos_minority"]) > 0.5


def test_geometry_resolution_criterion():
    ok = base.geometry_resolution(0.5, 1e-8, {"E_W": 0.0, "E_H": 1e-9}, "optimal")
    assert ok["resolved"] and ok["note"] == ""
    assert not base.geometry_resolution(1e-6, 1e-8, {"E_W": 0.0}, "optimal")["resolved"]  # eps/f = 1e-2
    assert not base.geometry_resolution(0.5, 1e-8, {"E_W": 0.01}, "optimal")["resolved"]  # budget unused
    assert not base.geometry_resolution(0.5, 1e-8, {"E_W": 0.0}, "optimal_inaccurate")["resolved"]
    assert not base.geometry_resolution(0.0, 1e-8, {"E_W": 0.0}, "optimal")["resolved"]


def test_geometry_resolution_flags_a_violated_budget():
    assert not base.geometry_resolution(0.5, 1e-8, {"E_W": -0.01}, "optimal")["resolved"]
    assert base.geometry_resolution(0.5, 1e-8, {"E_W": -1e-4}, "optimal")["resolved"]
