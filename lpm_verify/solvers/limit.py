"""The limit program of Lemma 5, Eq. 66 (R = inf: only the K_A majority classes enter the loss).

    min_{H,W}  (1/(K_A n_A)) sum_{k <= K_A} sum_i L(W h_{k,i}, y_k)            (cross-entropy)
    s.t.       (1/K) sum_{k <= K} (1/n_k) sum_i ||h_{k,i}||^2 <= E_H,   (1/K) sum_k ||w_k||^2 <= E_W.

The loss is convex in each h_{k,i} for fixed W, so replacing a class's features by their mean lowers
neither the objective nor the energy: Eq. 66 has the value of the same program over class means
``h_k``, which depends on ``(h_1..h_K, w_1..w_K)`` only through their Gram matrix ``X  # (2K, 2K)``;
every PSD ``X`` is such a Gram matrix once ``p >= 2K``.  That program over X is Eq. 15 with the
fractions ``pi_k = 1/K_A`` for the majority and ``0`` for the minority classes
(:func:`lpm_verify.problem.two_size_fractions` at ``R = inf``), so Eq. 66 is solved here as Eq. 15
with zero minority weight, by :func:`lpm_verify.solvers.sdp.solve_sdp`: it is Eq. 66 itself, not a
relaxation, but it is the same conic program as ``solve_sdp`` and so not an independent cross-check
of it (theorems/lemma5_limit_problem.py cross-checks against the symmetry-reduced KKT solver).
The minority features stay in ``X`` so that the solve can show where they go.  An optional pair
constraint ``||w_a - w_b||^2 = eps^2`` is linear in ``X`` (passed as ``solve_sdp``'s
``extra_constraints``) and probes the epsilon-gap statement of Lemma 5.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lpm_verify.errors import require
from lpm_verify.problem import two_size_fractions
from lpm_verify.solvers.base import LPMSolution, classifier_gram
from lpm_verify.solvers.sdp import solve_sdp


@dataclass
class LimitSolution(LPMSolution):
    """Solution of Eq. 66: :class:`LPMSolution` of Eq. 15 at ``R = inf`` plus the class counts.

    ``X  # (2K, 2K)`` is the Gram matrix, ``Hbar  # (K, p)`` class-mean features and ``W  # (K, p)``
    classifiers with ``p = 2K`` (any larger p is a rotation away); ``detail["pair_gap"]`` is the
    pair constraint, if any.
    """

    K_A: int = 0
    K_B: int = 0

    @property
    def minority_feature_energy(self) -> float:
        """``sum_{k > K_A} ||h_k||^2`` read from the diagonal of X (Lemma 5: zero at a minimizer)."""
        K = self.K_A + self.K_B
        return float(np.trace(self.X[self.K_A:K, self.K_A:K]))

    def classifier_gram(self) -> np.ndarray:
        """``W W^T  # (K, K)`` read from X."""
        return classifier_gram(self)


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


def solve_limit(K_A: int, K_B: int, E_W: float, E_H: float, *,
                pair_gap: tuple[int, int, float] | None = None, solver: str = "CLARABEL",
                **solver_options: Any) -> LimitSolution:
    """Solve Eq. 66 (see the module docstring).  ``pair_gap = (a, b, eps)`` adds ``||w_a - w_b|| = eps``
    (0-based class indices).  ``solver`` is a name :func:`solve_sdp` takes, in either case ("CLARABEL",
    "scs", ...).  Raises :class:`SolverError` unless the status is optimal (warns if inaccurate)."""
    _check(K_A, K_B, E_W, E_H, pair_gap)
    require(isinstance(solver, str), "solver", "a cvxpy solver name such as 'CLARABEL' or 'SCS'", solver)
    K = K_A + K_B

    def pair_constraint(X: Any) -> list:  # X  # (2K, 2K) cvxpy variable
        a, b, eps = pair_gap
        return [X[K + a, K + a] + X[K + b, K + b] - 2 * X[K + a, K + b] == eps**2]

    # upper case: an unknown name is reported in cvxpy's spelling, as this function always has
    sol = solve_sdp(two_size_fractions(K, K_A, math.inf), E_W=E_W, E_H=E_H, solver=solver.upper(),
                    extra_constraints=None if pair_gap is None else pair_constraint, **solver_options)
    sol.detail["pair_gap"] = pair_gap
    return LimitSolution(**{f.name: getattr(sol, f.name) for f in dataclasses.fields(sol)}, K_A=K_A, K_B=K_B)


def limit_objective(W: np.ndarray, Hbar: np.ndarray, K_A: int) -> float:
    """Objective of Eq. 66 at class means ``Hbar  # (K, p)`` and ``W  # (K, p)`` (float64)."""
    from scipy.special import logsumexp

    Z = Hbar[:K_A] @ W.T  # (K_A, K)
    return float(np.mean(logsumexp(Z, axis=1) - Z[np.arange(K_A), np.arange(K_A)]))
