"""The convex form (P) of the penalized LPM (:mod:`lpm_verify.penalized`) solved with cvxpy:

    min_Z  sum_k pi_k (lse(Z[:, k]) - Z[k, k]) + sqrt(lambda_W lambda_H) ||Z diag(sqrt(pi))||_*,

(with a last-layer bias ``b`` the logits are ``Z[:, k] + b``, plus ``(lambda_b/2)||b||^2`` when penalized;
``objective`` then is the solver's value),

with the conic solver named explicitly (default Clarabel, exponential + PSD cones).  ``W``/``Hbar``
are the balanced factors of the variational identity (V) with ``p = K``, so the returned point is
feasible for the penalized model and attains (P)'s value there (exact for ``p >= K``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lpm_verify.penalized import PenalizedLPM
from lpm_verify.solvers.base import INTERIOR_POINT_NORM_ZERO_TOL, LPMSolution, resolve_solver, solve_conic


def solve_penalized_convex(problem: PenalizedLPM, *, solver: str = "clarabel", **solver_options: Any
                           ) -> LPMSolution:
    """Solve (P) for ``problem`` (any class-size profile).  ``objective`` is (P)'s value recomputed
    from ``Z`` by :meth:`PenalizedLPM.convex_objective`; ``X`` is the Gram matrix of ``[Hbar; W]``."""
    import cvxpy as cp  # slow import, only needed here

    spec, note = resolve_solver(solver)
    pi = problem.fractions()
    K = problem.K
    # The variable is Y = Z diag(sqrt(pi)), the nuclear norm's own argument: with Z as the variable the PSD
    # cone sees a column-scaled affine image and Clarabel stops at 'optimal_inaccurate' ~1e-9 above the
    # optimum on some two-size profiles (K = 10, K_A = 3, pi_B ~ 0.08), where W = U S^(1/2) turns that into
    # a minority cosine off 1 by ~2e-6; in Y it reaches the gap tolerance (~1e-13 above the certified optimum).
    Y = cp.Variable((K, K))
    Z = Y @ np.diag(1 / np.sqrt(pi))
    b = np.zeros(K) if problem.lambda_b is None else cp.Variable(K)  # logits W h + b
    loss = cp.sum(cp.hstack([pi[k] * (cp.log_sum_exp(Z[:, k] + b) - Z[k, k] - b[k]) for k in range(K)]))
    penalty = problem.nuclear_weight * cp.normNuc(Y)
    if problem.lambda_b:
        penalty = penalty + problem.lambda_b / 2 * cp.sum_squares(b)
    prob = cp.Problem(cp.Minimize(loss + penalty))
    seconds = solve_conic(prob, spec, f"penalized LPM (P) (K={K})", **solver_options)
    Zv = np.asarray(Y.value) / np.sqrt(pi)[None, :]
    W, Hbar = problem.factor(Zv)
    F = np.vstack([Hbar, W])
    detail: dict[str, Any] = {"Z": Zv, "bias": None if problem.lambda_b is None else np.asarray(b.value), "solver_objective": float(prob.value), "fractions": pi.tolist(),
                              "norm_zero_tol": INTERIOR_POINT_NORM_ZERO_TOL}
    if note:
        detail["solver_note"] = note
    return LPMSolution(method="penalized-convex", solver=spec.name, status=prob.status,
                       objective=problem.convex_objective(Zv) if problem.lambda_b is None else float(prob.value), X=F @ F.T, W=W, Hbar=Hbar, seconds=seconds,
                       detail=detail)
