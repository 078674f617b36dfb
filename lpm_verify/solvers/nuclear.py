"""The nuclear-norm relaxation Eq. 91 and Lemma 7's map back to Eq. 7 (Eq. 92).

    min_Z  sum_k pi_k L(Z_k, y_k)     s.t.  ||Z||_* <= K sqrt(E_H E_W),

with ``Z = W Htilde  # (K, K)``, ``Htilde = [h_1..h_K]``, so the column ``Z_k = W h_k`` holds the
logits of class k (Eq. 90).  Lemma 7 factors ``Z* = U Sigma V^T`` as ``W = U Sigma_1 P^T``,
``[h_1..h_K] = P Sigma_2 V^T``.  As printed, ``Sigma_1 = sqrt(E_W/E_H) sqrt(Sigma)`` and
``Sigma_2 = sqrt(E_H/E_W) sqrt(Sigma)``; those give ``||W||_F^2 = K E_W sqrt(E_W/E_H)``, feasible only
when ``E_W <= E_H`` (and ``H`` only when ``E_H <= E_W``).  The balanced split that saturates both
budgets uses fourth roots, ``Sigma_1 = (E_W/E_H)^{1/4} sqrt(Sigma)``, ``Sigma_2 = (E_H/E_W)^{1/4} sqrt(Sigma)``
(``printed=False``, the default of :func:`lemma7_map`).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from lpm_verify.errors import require
from lpm_verify.geometry import partial_orthogonal
from lpm_verify.problem import LPMProblem
from lpm_verify.solvers.base import (INTERIOR_POINT_NORM_ZERO_TOL, LPMSolution, conic_gap_tolerance,
                                    geometry_resolution, resolve_solver, solve_conic)
from lpm_verify.solvers.sdp import _weights


def eq91_objective(Z: np.ndarray, pi: np.ndarray) -> float:
    """``sum_k pi_k (lse(Z[:, k]) - Z[k, k])`` (columns are logits, Eq. 90)."""
    L = Z.T  # (K, K) row k = logits of class k
    zmax = L.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(L - zmax).sum(axis=1))
    return float(np.sum(pi * (lse - np.diag(L))))


def solve_nuclear(problem: LPMProblem | Sequence[float], *, E_W: float | None = None, E_H: float | None = None,
                  solver: str = "clarabel", **solver_options: Any) -> LPMSolution:
    """Solve Eq. 91 with cvxpy (``problem`` or explicit fractions as in :func:`solve_sdp`).

    ``W``/``Hbar`` are Lemma 7's factors with the balanced (fourth-root) split and ``p = K``;
    ``X`` is their Gram matrix, comparable with Eq. 15's solution.
    """
    import cvxpy as cp  # imported lazily (slow import)

    pi, E_W_, E_H_ = _weights(problem, E_W, E_H)
    spec, note = resolve_solver(solver)
    K = len(pi)
    Z = cp.Variable((K, K))
    terms = [pi[k] * (cp.log_sum_exp(Z[:, k]) - Z[k, k]) for k in range(K) if pi[k] > 0]
    budget = K * math.sqrt(E_H_ * E_W_)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms))), [cp.normNuc(Z) <= budget])
    seconds = solve_conic(prob, spec, f"Eq. 91 (K={K})", **solver_options)
    Zv = np.asarray(Z.value)  # (K, K)
    W, Hbar = lemma7_map(Zv, K, E_W_, E_H_)
    F = np.vstack([Hbar, W])  # (2K, p) rows h_1..h_K, w_1..w_K
    detail: dict[str, Any] = {"Z": Zv, "nuclear_norm": float(np.linalg.svd(Zv, compute_uv=False).sum()),
                              "budget": budget, "fractions": pi.tolist(), "solver_objective": float(prob.value),
                              "norm_zero_tol": INTERIOR_POINT_NORM_ZERO_TOL}
    objective = eq91_objective(Zv, pi)
    detail["geometry"] = geometry_resolution(
        objective, conic_gap_tolerance(spec.name, objective, solver_options),
        {"nuclear-norm": (budget - detail["nuclear_norm"]) / budget}, prob.status)
    if note:
        detail["solver_note"] = note
    return LPMSolution(method="nuclear", solver=spec.name, status=prob.status, objective=objective,
                       X=F @ F.T, W=W, Hbar=Hbar, seconds=seconds, detail=detail)


def lemma7_map(Z: np.ndarray, p: int, E_W: float, E_H: float, rng: np.random.Generator | None = None,
               printed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 92: ``(W  # (K, p), Hbar  # (K, p))`` with ``W Hbar^T = Z``; needs ``p >= rank Z``.

    ``printed=True`` uses Lemma 7's ``Sigma_1, Sigma_2`` exactly as printed (square roots of
    ``E_W/E_H``), ``printed=False`` the budget-saturating fourth roots (see the module docstring).
    """
    U, S, Vt = np.linalg.svd(Z)
    r = int(np.sum(S > 1e-12 * max(S.max(), 1e-300)))
    require(isinstance(p, int) and p >= r, "p", f">= rank Z = {r} (Lemma 7)", p)
    ratio = E_W / E_H
    c1, c2 = (math.sqrt(ratio), 1 / math.sqrt(ratio)) if printed else (ratio ** 0.25, ratio ** -0.25)
    root = np.sqrt(S[:r])
    P = partial_orthogonal(p, r, rng)  # (p, r)
    W = (U[:, :r] * (c1 * root)) @ P.T  # (K, p)
    Htilde = P @ ((c2 * root)[:, None] * Vt[:r])  # (p, K) columns h_k
    return W, Htilde.T.copy()
