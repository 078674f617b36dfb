"""The contrastive Layer-Peeled Model, Eq. 12, solved directly over the features in float64.

    min_H  (1/N) sum_{k,i} L_c(h_{k,i})       s.t.  (1/K) sum_k (1/n) sum_i ||h_{k,i}||^2 <= E_H,

with the supervised contrastive loss ``L_c`` of Eq. 11 (balanced classes, ``N = K n``).  No closed
form and no convexity argument is used, so the answer is an independent check of Theorem 3.

Parametrisation (smooth, box constraint only on ``b``): with ``v = V/||V||`` (Frobenius norm),

    X = b sqrt(K n E_H) v          # (K n, p) features stacked class by class, 0 <= b <= 1,

reaches every feasible point (feature energy ``b^2 E_H``).  Each random start runs scipy's L-BFGS-B
with the analytic gradient, under the stopping rule of :mod:`lpm_verify.solvers.multistart`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp, softmax

from lpm_verify.errors import SolverError, require
from lpm_verify.losses import supervised_contrastive
from lpm_verify.solvers.multistart import check_options, run_starts


@dataclass
class ContrastiveSolution:
    """Best local solution of Eq. 12 over all starts; ``objective`` re-evaluated by Eq. 11's own code."""

    H: np.ndarray  # (K, n, p)
    objective: float
    feature_energy: float
    converged: bool
    stop_reason: str
    iterations: int
    start_objectives: list[float] = field(default_factory=list)
    seconds: float = 0.0


def contrastive_objective(H: np.ndarray, tau: float) -> float:
    """Objective of Eq. 12, ``(1/N) sum_{k,i} L_c(h_{k,i})``, for ``H  # (K, n, p)`` (float64)."""
    return float(np.mean(supervised_contrastive(np.asarray(H, dtype=float), tau)))


class _Objective:
    """Eq. 12 and its gradient in the variables ``(V, b)`` of the module docstring."""

    def __init__(self, K: int, n: int, p: int, tau: float, E_H: float) -> None:
        self.K, self.n, self.p, self.tau = K, n, p, tau
        self.radius = math.sqrt(K * n * E_H)
        labels = np.repeat(np.arange(K), n)
        self.same = (labels[:, None] == labels[None, :]).astype(float)  # (Kn, Kn) same-class mask

    def point(self, x: np.ndarray) -> np.ndarray:
        V, b = x[:-1].reshape(self.K * self.n, self.p), x[-1]
        return (b * self.radius * V / np.linalg.norm(V)).reshape(self.K, self.n, self.p)

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        V, b = x[:-1].reshape(self.K * self.n, self.p), x[-1]
        norm_V = np.linalg.norm(V)
        v = V / norm_V
        X = b * self.radius * v  # (Kn, p)
        G = X @ X.T / self.tau  # (Kn, Kn)
        N = self.K * self.n
        f = float(np.sum(logsumexp(G, axis=1)) - np.sum(self.same * G) / self.n) / N
        A = (softmax(G, axis=1) - self.same / self.n) / N  # dF/dG
        dX = (A + A.T) @ X / self.tau  # (Kn, p)
        dv = b * self.radius * dX
        gV = (dv - v * np.sum(v * dv)) / norm_V
        gb = self.radius * np.sum(v * dX)
        return f, np.concatenate([gV.ravel(), [gb]])


def solve_contrastive(K: int, n: int, p: int, tau: float, E_H: float, *, starts: int = 8, seed: int = 0,
                      max_iter: int = 5000, tol: float = 1e-10) -> ContrastiveSolution:
    """Minimise Eq. 12 from ``starts`` seeded random starts (Gaussian direction, random radius in (0.1, 1)).

    ``K >= 2`` classes of ``n >= 1`` examples each, feature dimension ``p >= 1``, temperature
    ``tau > 0`` and feature energy ``E_H > 0``.  Returns the best start.
    """
    require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
    require(isinstance(n, int) and n >= 1, "n", "an integer >= 1", n)
    require(isinstance(p, int) and p >= 1, "p", "an integer >= 1", p)
    require(isinstance(tau, (int, float)) and math.isfinite(tau) and tau > 0, "tau", "a finite number > 0", tau)
    require(isinstance(E_H, (int, float)) and math.isfinite(E_H) and E_H > 0, "E_H", "a finite number > 0", E_H)
    check_options(starts, max_iter, tol)
    t0 = time.perf_counter()
    fun = _Objective(K, n, p, float(tau), float(E_H))
    rng = np.random.default_rng(seed)

    def x0() -> np.ndarray:
        V = rng.standard_normal(K * n * p)
        return np.concatenate([V / np.linalg.norm(V), [rng.uniform(0.1, 1.0)]])

    bounds = [(None, None)] * (K * n * p) + [(0.0, 1.0)]
    runs = run_starts(fun, (x0() for _ in range(starts)), bounds, max_iter, tol)
    objectives = [float(r.result.fun) for r in runs]
    best = runs[int(np.argmin(objectives))]
    if not np.isfinite(best.result.fun):
        raise SolverError("contrastive solver (L-BFGS-B): non-finite objective; check tau and E_H")
    H = fun.point(best.result.x)
    return ContrastiveSolution(
        H=H, objective=contrastive_objective(H, tau),
        feature_energy=float(np.sum(H * H) / (K * n)), converged=best.converged, stop_reason=best.stop_reason,
        iterations=int(best.result.nit), start_objectives=objectives, seconds=time.perf_counter() - t0)
