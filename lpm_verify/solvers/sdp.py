"""The convex relaxation Eq. 15 solved with cvxpy, and Lemma 1's map back to Eq. 7 (Eq. 16).

    min_X  sum_k pi_k [ log_sum_exp(z_k) - z_k(k) ],   z_k = X[k, K:2K]
    s.t.   X >= 0 (PSD),  (1/K) sum_{k<=K} X(k,k) <= E_H,  (1/K) sum_{k>K} X(k,k) <= E_W,

with ``pi_k = n_k / N`` (Eq. 15) or ``w_k n_k / N'`` (Eq. 18, Proposition 1).  The weights may be
zero (the ``R = inf`` limit of Lemma 5), in which case that class contributes nothing.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from lpm_verify.errors import require
from lpm_verify.geometry import partial_orthogonal
from lpm_verify.problem import LPMProblem
from lpm_verify.solvers.base import (INTERIOR_POINT_NORM_ZERO_TOL, LPMSolution, conic_gap_tolerance,
                                    geometry_resolution, resolve_solver, solve_conic)


def _weights(problem: LPMProblem | Sequence[float], E_W: float | None, E_H: float | None
             ) -> tuple[np.ndarray, float, float]:
    """``(pi  # (K,), E_W, E_H)`` from a problem or from explicit fractions plus budgets."""
    if isinstance(problem, LPMProblem):
        require(problem.loss.is_cross_entropy, "loss", "cross-entropy for Eq. 15 via cvxpy", problem.loss.name)
        return problem.fractions(), problem.E_W, problem.E_H
    pi = np.asarray(problem, dtype=float)
    require(pi.ndim == 1 and len(pi) >= 2 and np.all(pi >= 0) and pi.sum() > 0, "fractions",
            "a list of K >= 2 nonnegative numbers, not all zero", problem)
    require(E_W is not None and E_W > 0, "E_W", "> 0 (needed with explicit fractions)", E_W)
    require(E_H is not None and E_H > 0, "E_H", "> 0 (needed with explicit fractions)", E_H)
    return pi / pi.sum(), float(E_W), float(E_H)


def eq15_objective(X: np.ndarray, pi: np.ndarray) -> float:
    """Eq. 15's objective ``sum_k pi_k (lse(z_k) - z_k(k))`` at a given ``X  # (2K, 2K)``."""
    K = len(pi)
    Z = X[:K, K:]  # (K, K) row k = z_k
    zmax = Z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(Z - zmax).sum(axis=1))
    return float(np.sum(pi * (lse - np.diag(Z))))


def eq15_slacks(X: np.ndarray, E_W: float, E_H: float) -> dict[str, float]:
    """``E_H - (1/K) tr_H X``, ``E_W - (1/K) tr_W X`` and ``lambda_min(X)`` (all >= 0 iff feasible)."""
    K = X.shape[0] // 2
    d = np.diag(X)
    return {"E_H": float(E_H - d[:K].sum() / K), "E_W": float(E_W - d[K:].sum() / K),
            "psd_min_eig": float(np.linalg.eigvalsh((X + X.T) / 2)[0])}


def eq15_certificate(X: np.ndarray, pi: np.ndarray, E_W: float, E_H: float) -> dict[str, float]:
    """Optimality certificate of any ``X  # (2K, 2K)`` for Eq. 15 (no solver output needed).

    With ``G = dL/dZ``, ``G_kj = pi_k (softmax(z_k)_j - delta_kj)``, the dual matrix is
    ``Lambda = [[l_H I, G/2], [G^T/2, l_W I]]``; ``(l_H, l_W)`` are fitted by least squares to
    complementarity ``Lambda X = 0``.  For every feasible ``X'``,
    ``f(X') >= f(X) + <grad f, X' - X> >= f(X) - gap_bound`` with
    ``gap_bound = <Lambda, X> + l_H K slack_H + l_W K slack_W + max(0, -lambda_min(Lambda)) K (E_H + E_W)``,
    so ``gap_bound`` bounds ``f(X) - min`` (when X is feasible).  Also reports ``||Lambda X||_F``.
    """
    K = len(pi)
    Xs = (X + X.T) / 2
    Z = Xs[:K, K:]  # (K, K) row k = z_k
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    G = pi[:, None] * (P - np.eye(K))  # (K, K)
    grad = np.zeros_like(Xs)
    grad[:K, K:], grad[K:, :K] = G / 2, G.T / 2
    IH, IW = np.diag(np.r_[np.ones(K), np.zeros(K)]), np.diag(np.r_[np.zeros(K), np.ones(K)])
    M = np.column_stack([(IH @ Xs).ravel(), (IW @ Xs).ravel()])
    lam = np.linalg.lstsq(M, -(grad @ Xs).ravel(), rcond=None)[0]
    lH, lW = float(lam[0]), float(lam[1])
    Lam = grad + lH * IH + lW * IW
    slack = eq15_slacks(Xs, E_W, E_H)
    lam_min = float(np.linalg.eigvalsh(Lam)[0])
    gap = float(np.sum(Lam * Xs)) + lH * K * slack["E_H"] + lW * K * slack["E_W"] \
        + max(0.0, -lam_min) * K * (E_H + E_W)
    return {"lambda_H": lH, "lambda_W": lW, "dual_min_eig": lam_min,
            "complementarity": float(np.linalg.norm(Lam @ Xs)), "gap_bound": gap, **slack}


def solve_sdp(problem: LPMProblem | Sequence[float], *, E_W: float | None = None, E_H: float | None = None,
              solver: str = "clarabel", extra_constraints: Callable[[Any], list] | None = None,
              **solver_options: Any) -> LPMSolution:
    """Solve Eq. 15 (Eq. 18's weights if ``problem.weights``) with the named cvxpy solver.

    ``problem`` is an :class:`LPMProblem` or the fractions ``pi_k`` themselves (then ``E_W``, ``E_H``
    are required; zeros allowed, e.g. ``two_size_fractions(K, K_A, inf)``).  ``solver`` is
    "clarabel" (default), "scs", "mosek" or "auto".  ``solver_options`` go to ``cvxpy.Problem.solve``.
    ``W``/``Hbar`` come from :func:`lemma1_map` with ``p = 2K`` (no rotation); when ``problem.p`` is
    set and ``>= 2K`` the Eq. 7 evaluation of the lifted point is in ``detail["eq7"]``.
    ``extra_constraints(X)``, given the cvxpy variable ``X  # (2K, 2K)``, returns cvxpy constraints
    added to Eq. 15's (e.g. Lemma 5's pair gap ``||w_a - w_b||^2 = eps^2``, linear in X); with them
    ``detail["certificate"]`` is Eq. 15's alone and does not bound the gap of the constrained program.
    """
    import cvxpy as cp  # imported here: cvxpy takes seconds to import and the float paths never need it

    pi, E_W_, E_H_ = _weights(problem, E_W, E_H)
    spec, note = resolve_solver(solver)
    K = len(pi)
    X = cp.Variable((2 * K, 2 * K), PSD=True)
    terms = [pi[k] * (cp.log_sum_exp(X[k, K:]) - X[k, K + k]) for k in range(K) if pi[k] > 0]
    constraints = [cp.trace(X[:K, :K]) / K <= E_H_, cp.trace(X[K:, K:]) / K <= E_W_]
    extra = list(extra_constraints(X)) if extra_constraints is not None else []
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms))), constraints + extra)
    seconds = solve_conic(prob, spec, f"Eq. 15 (K={K})", **solver_options)
    Xv = (X.value + X.value.T) / 2  # (2K, 2K)
    W, Hbar = lemma1_factors(Xv)
    detail: dict[str, Any] = {"slacks": eq15_slacks(Xv, E_W_, E_H_), "fractions": pi.tolist(),
                              "certificate": eq15_certificate(Xv, pi, E_W_, E_H_),
                              "duals": {"E_H": float(constraints[0].dual_value),
                                        "E_W": float(constraints[1].dual_value)},
                              "solver_objective": float(prob.value),
                              "norm_zero_tol": INTERIOR_POINT_NORM_ZERO_TOL}
    objective = eq15_objective(Xv, pi)
    slacks = detail["slacks"]
    detail["geometry"] = geometry_resolution(
        objective, conic_gap_tolerance(spec.name, objective, solver_options),
        {"E_W": slacks["E_W"] / E_W_, "E_H": slacks["E_H"] / E_H_}, prob.status)
    if note:
        detail["solver_note"] = note
    if isinstance(problem, LPMProblem) and problem.p is not None and problem.p >= 2 * K:
        detail["eq7"] = lemma1_evaluate(problem, Xv)
    return LPMSolution(method="sdp", solver=spec.name, status=prob.status, objective=objective,
                       X=Xv, W=W, Hbar=Hbar, seconds=seconds, detail=detail)


def psd_sqrt(X: np.ndarray) -> np.ndarray:
    """Positive square root ``X^{1/2}`` (negative rounding eigenvalues clipped to 0)."""
    lam, Q = np.linalg.eigh((X + X.T) / 2)
    return (Q * np.sqrt(np.clip(lam, 0.0, None))) @ Q.T


def lemma1_factors(X: np.ndarray, P: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(W  # (K, p), Hbar  # (K, p))`` from ``[h_1..h_K, W^T] = P X^{1/2}`` (Eq. 16); ``P = I`` by default."""
    K = X.shape[0] // 2
    F = psd_sqrt(X)  # (2K, 2K) columns h_1..h_K, w_1..w_K
    if P is not None:
        F = P @ F  # (p, 2K)
    return F[:, K:].T.copy(), F[:, :K].T.copy()


def lemma1_map(X: np.ndarray, p: int, sizes: Sequence[int], rng: np.random.Generator | None = None
               ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Lemma 1 / Eq. 16: ``(W  # (K, p), H)`` with ``H[k]  # (n_k, p)`` every row ``h_k``.

    ``P  # (p, 2K)`` is partial orthogonal (random Haar if ``rng`` is given); needs ``p >= 2K``.
    """
    K = X.shape[0] // 2
    require(len(sizes) == K, "sizes", f"K = {K} class sizes", sizes)
    require(isinstance(p, int) and p >= 2 * K, "p", f">= 2K = {2 * K} (Lemma 1)", p)
    for k, n in enumerate(sizes):
        require(float(n).is_integer() and n >= 1, f"sizes[{k}]", "a positive integer (samples per class)", n)
    W, Hbar = lemma1_factors(X, partial_orthogonal(p, 2 * K, rng))
    return W, [np.repeat(Hbar[k:k + 1], int(n), axis=0) for k, n in enumerate(sizes)]


def lemma1_evaluate(problem: LPMProblem, X: np.ndarray, rng: np.random.Generator | None = None
                    ) -> dict[str, float]:
    """Lift ``X`` to ``(H, W)`` by Eq. 16 and evaluate Eq. 7 (Eq. 18): objective and both slacks."""
    p = problem.require_p(2 * problem.K, "Lemma 1")
    W, H = lemma1_map(X, p, problem.sizes, rng)
    slack_W, slack_H = problem.constraint_slacks(W, H)
    return {"objective": float(problem.objective(W, H)), "slack_E_W": float(slack_W),
            "slack_E_H": float(slack_H), "p": p}
