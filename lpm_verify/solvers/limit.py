"""The limit program of Lemma 5, Eq. 66 (R = inf: only the K_A majority classes enter the loss).

    min_{H,W}  (1/(K_A n_A)) sum_{k <= K_A} sum_i L(W h_{k,i}, y_k)            (cross-entropy)
    s.t.       (1/K) sum_{k <= K} (1/n_k) sum_i ||h_{k,i}||^2 <= E_H,   (1/K) sum_k ||w_k||^2 <= E_W.

The loss is convex in each h_{k,i} for fixed W, so replacing a class's features by their mean lowers
neither the objective nor the energy: Eq. 66 has the value of the same program over class means
``h_k``.  Over means, the program depends on ``(h_1..h_K, w_1..w_K)`` only through their Gram matrix
``X  # (2K, 2K)`` (features first, then classifiers, as in Eq. 15), and every PSD ``X`` is such a
Gram matrix once ``p >= 2K``.  So the convex program

    min_X  (1/K_A) sum_{k <= K_A} [logsumexp(X[k, K:2K]) - X[k, K+k]]
    s.t.   X PSD,  tr X[:K, :K] <= K E_H,  tr X[K:, K:] <= K E_W

is Eq. 66 itself, not a relaxation of it.  The minority features stay in ``X`` so that the solve
can show where they go.  An optional pair constraint ``||w_a - w_b||^2 = eps^2`` is linear in ``X``
and probes the epsilon-gap statement of Lemma 5.

Solved with cvxpy and a named conic solver (Clarabel by default, SCS as a cross-check).
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lpm_verify.errors import SolverError, SolverNotInstalledError, require

#: cvxpy statuses, grouped as in cvxpy.settings.
OPTIMAL = frozenset({"optimal"})
INACCURATE = frozenset({"optimal_inaccurate"})


@dataclass
class LimitSolution:
    """Solution of Eq. 66: the Gram matrix ``X  # (2K, 2K)`` and one factorization of it.

    ``Hbar  # (K, p)`` are class-mean features and ``W  # (K, p)`` classifiers with ``p = 2K``
    (any larger p is a rotation away).
    """

    K_A: int
    K_B: int
    objective: float
    X: np.ndarray
    Hbar: np.ndarray
    W: np.ndarray
    status: str
    solver: str
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def minority_feature_energy(self) -> float:
        """``sum_{k > K_A} ||h_k||^2`` read from the diagonal of X (Lemma 5: zero at a minimizer)."""
        K = self.K_A + self.K_B
        return float(np.trace(self.X[self.K_A:K, self.K_A:K]))

    def classifier_gram(self) -> np.ndarray:
        """``W W^T  # (K, K)`` read from X."""
        K = self.K_A + self.K_B
        return self.X[K:, K:]


def _check(K_A: int, K_B: int, E_W: float, E_H: float, pair_gap: tuple[int, int, float] | None) -> None:
    require(isinstance(K_A, int) and K_A >= 1, "K_A", "an integer >= 1", K_A)
    require(isinstance(K_B, int) and K_B >= 1, "K_B", "an integer >= 1", K_B)
    for name, value in (("E_W", E_W), ("E_H", E_H)):
        require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0, name,
                "a finite number > 0", value)
    if pair_gap is not None:
        a, b, eps = pair_gap
        K = K_A + K_B
        require(isinstance(a, int) and isinstance(b, int) and 0 <= a < K and 0 <= b < K and a != b,
                "pair_gap", f"(a, b, eps) with distinct class indices a, b in [0, {K - 1}]", pair_gap)
        # ||w_a - w_b||^2 <= 2 (||w_a||^2 + ||w_b||^2) <= 2 K E_W on the feasible set
        require(eps >= 0 and eps**2 <= 2 * K * E_W, "pair_gap",
                f"eps in [0, sqrt(2 K E_W)] = [0, {math.sqrt(2 * K * E_W):.4g}]", eps)


def factor_gram(X: np.ndarray) -> np.ndarray:
    """Rows ``V  # (n, n)`` with ``V V^T = X`` (PSD part of X; tiny negative eigenvalues clipped)."""
    lam, Q = np.linalg.eigh((X + X.T) / 2)
    return Q * np.sqrt(np.clip(lam, 0.0, None))


def solve_limit(K_A: int, K_B: int, E_W: float, E_H: float, *,
                pair_gap: tuple[int, int, float] | None = None, solver: str = "CLARABEL",
                **solver_options: Any) -> LimitSolution:
    """Solve Eq. 66 (see the module docstring).  ``pair_gap = (a, b, eps)`` adds ``||w_a - w_b|| = eps``
    (0-based class indices).  Raises :class:`SolverError` unless the status is optimal."""
    import cvxpy as cp

    _check(K_A, K_B, E_W, E_H, pair_gap)
    require(isinstance(solver, str), "solver", "a cvxpy solver name such as 'CLARABEL' or 'SCS'", solver)
    name = solver.upper()
    if name not in cp.installed_solvers():
        raise SolverNotInstalledError(
            f"solver {name} is not installed; installed: {', '.join(cp.installed_solvers())}")
    K = K_A + K_B
    X = cp.Variable((2 * K, 2 * K), PSD=True)
    loss = sum(cp.log_sum_exp(X[k, K:]) - X[k, K + k] for k in range(K_A)) / K_A
    cons = [cp.trace(X[:K, :K]) <= K * E_H, cp.trace(X[K:, K:]) <= K * E_W]
    if pair_gap is not None:
        a, b, eps = pair_gap
        cons.append(X[K + a, K + a] + X[K + b, K + b] - 2 * X[K + a, K + b] == eps**2)
    prob = cp.Problem(cp.Minimize(loss), cons)
    t0 = time.perf_counter()
    try:
        prob.solve(solver=name, **solver_options)
    except cp.error.SolverError as exc:
        raise SolverError(f"{name} failed on Eq. 66 (K_A={K_A}, K_B={K_B}): {exc}; "
                          f"try solver='SCS' or rescale E_W, E_H") from exc
    seconds = time.perf_counter() - t0
    status = str(prob.status)
    if status in INACCURATE:
        warnings.warn(f"{name} returned {status} on Eq. 66; the record keeps it", RuntimeWarning)
    elif status not in OPTIMAL:
        raise SolverError(f"{name} returned status {status!r} on Eq. 66 (K_A={K_A}, K_B={K_B}); "
                          f"try solver='SCS' or check E_W, E_H")
    Xv = np.asarray(X.value)
    V = factor_gram(Xv)  # (2K, 2K): row j is the j-th vector
    return LimitSolution(K_A=K_A, K_B=K_B, objective=float(prob.value), X=Xv, Hbar=V[:K], W=V[K:],
                         status=status, solver=name, seconds=seconds,
                         detail={"pair_gap": pair_gap})


def limit_objective(W: np.ndarray, Hbar: np.ndarray, K_A: int) -> float:
    """Objective of Eq. 66 at class means ``Hbar  # (K, p)`` and ``W  # (K, p)`` (float64)."""
    from scipy.special import logsumexp

    Z = Hbar[:K_A] @ W.T  # (K_A, K)
    return float(np.mean(logsumexp(Z, axis=1) - Z[np.arange(K_A), np.arange(K_A)]))


#: Clarabel options for checks that read X itself (not only the objective): gap and feasibility
#: tolerances 1e-12, so Gram entries along flat directions are accurate to ~1e-8, not ~1e-4.
TIGHT: dict[str, float] = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "tol_ktratio": 1e-10}
