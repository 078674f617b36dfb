"""Eq. 7 (and Eq. 18 with oversampling weights) solved directly in float64, from many random starts.

No convexity argument is used: the nonconvex program is attacked as it stands, so its answer is an
independent check of every closed form and of the convex relaxations (Eq. 15, Eq. 91).

Parametrisation (smooth, no projections).  With ``u = U/||U||`` and ``v = V/||V||`` (Frobenius norms)

    W   = a sqrt(K E_W) u                      # (K, p),        -1 <= a <= 1
    H_k = b sqrt(K E_H n_k) v_k                # (n_k, p) block k of v,  -1 <= b <= 1

every point of the product of the two constraint sets of Eq. 7 is reached (classifier energy
``a^2 E_W``, feature energy ``b^2 E_H``), and the objective is a smooth function of
``(U, V, a, b)`` with box constraints only on ``(a, b)``.  The radii may change sign so that
``a = 0`` is an interior point: with ``a >= 0`` a start could stop at ``W = 0``, where the gradient in
``U`` vanishes (a singularity of the polar coordinates, not a stationary point of Eq. 7).  Each start
runs scipy's L-BFGS-B with the analytic gradient.

For cross-entropy (always positive) ``log`` of the objective is minimised: same minimisers, and the
stopping rule below then measures relative changes, so tiny optimal losses (large ``E_H E_W``) are
still resolved; the per-sample loss and its logit gradient are computed without cancellation
(``log1p`` and ``1 - S_k = sum_{j != k} S_j``).

Stopping rule of a start: that of :mod:`lpm_verify.solvers.multistart` (projected gradient ``<= tol``
or relative reduction ``<= FTOL = 1e-15`` of the (log-)objective; else ``max_iter`` or a failed line
search, not converged).  Every start begins at
``||U|| = ||V|| = 1``; the gradient in ``U``, ``V`` is tangent to those spheres (the Riemannian
gradient divided by ``||U||``, ``||V||``, which stay close to 1 because steps are tangent to first
order), so ``tol`` bounds the Riemannian gradient of the (log-)objective in the scaled variables.  Measured on balanced cross-entropy problems with K <= 10
and sqrt(E_H E_W) <= 10 the final objective matches the closed form of Theorem 1 to ~1e-15
absolute, far below the ~1e-8 accuracy claimed downstream.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import SolverError, require
from lpm_verify.problem import LPMProblem
from lpm_verify.solvers.base import LPMSolution
from lpm_verify.solvers.multistart import check_options, run_starts

#: Complex-step size for the derivatives of g1, g2 (exact to rounding for analytic g).
_STEP = 1e-30


@dataclass
class NonconvexSolution:
    """Best local solution of Eq. 7 / Eq. 18 over all starts.

    ``objective`` is re-evaluated with :meth:`LPMProblem.objective` (an implementation independent of
    the solver's own gradient code).  ``start_objectives`` lists every start's final objective in
    start order.
    """

    W: np.ndarray  # (K, p)
    H: list[np.ndarray]  # K blocks (n_k, p)
    objective: float
    classifier_energy: float
    feature_energy: float
    converged: bool
    stop_reason: str
    iterations: int
    start_objectives: list[float] = field(default_factory=list)
    seconds: float = 0.0
    start_converged: list[bool] = field(default_factory=list)

    def as_lpm_solution(self) -> LPMSolution:
        """The best start in the common shape: class means ``Hbar  # (K, p)``, ``X`` the Gram matrix of
        ``[Hbar; W]`` (as in Eq. 15), status ``"optimal"`` if converged, else the stop reason."""
        Hbar = np.stack([h.mean(axis=0) for h in self.H])  # (K, p)
        F = np.vstack([Hbar, self.W])  # (2K, p) rows h_1..h_K, w_1..w_K
        return LPMSolution("nonconvex", "lbfgs", "optimal" if self.converged else self.stop_reason,
                           self.objective, X=F @ F.T, W=self.W, Hbar=Hbar, seconds=self.seconds)


def _integer_sizes(problem: LPMProblem) -> list[int]:
    sizes = []
    for k, n in enumerate(problem.sizes):
        require(float(n).is_integer(), f"n_{k + 1} (class size)",
                "a positive integer (the nonconvex solver stores one feature per example)", n)
        sizes.append(int(n))
    return sizes


def _complex_step(g: Callable[[Any], Any]) -> Callable[[np.ndarray], np.ndarray]:
    """Derivative of an elementwise ``g`` on (0, 1) by the complex step ``Im g(x + i s) / s``."""
    def dg(x: np.ndarray) -> np.ndarray:
        return np.imag(g(x + 1j * _STEP)) / _STEP
    return dg


def _checked_derivative(g: Callable[[Any], Any], name: str) -> Callable[[np.ndarray], np.ndarray]:
    """Complex-step derivative of ``g``, validated against central differences on (0, 1)."""
    dg = _complex_step(g)
    x = np.linspace(0.05, 0.95, 19)
    h = 1e-6
    try:
        exact = dg(x)
    except (TypeError, ValueError) as exc:
        raise SolverError(f"nonconvex solver: {name} of the loss cannot be evaluated at complex "
                          f"arguments ({exc}); write it with numpy ufuncs") from None
    central = (np.real(g(x + h)) - np.real(g(x - h))) / (2 * h)
    if not np.allclose(exact, central, rtol=1e-5, atol=1e-6):
        raise SolverError(f"nonconvex solver: the complex-step derivative of {name} disagrees with "
                          "central differences; write it as an analytic numpy expression")
    return dg


class _Objective:
    """Objective of Eq. 7 / Eq. 18 and its gradient in the variables ``(U, V, a, b)``."""

    def __init__(self, problem: LPMProblem, sizes: list[int]) -> None:
        self.K, self.p = problem.K, problem.p
        self.N_rows = sum(sizes)
        w = problem.weights or (1.0,) * self.K
        self.labels = np.repeat(np.arange(self.K), sizes)  # (N,)
        row_w = np.repeat(np.asarray(w, float), sizes)
        self.row_weight = row_w / row_w.sum()  # (N,) w_k / N'
        self.row_scale = np.repeat(np.sqrt(problem.K * problem.E_H * np.asarray(sizes, float)), sizes)  # (N,)
        self.rW = math.sqrt(problem.K * problem.E_W)
        self.loss = problem.loss
        self.dg1 = None if problem.loss.is_cross_entropy else _checked_derivative(problem.loss.g1, "g1")
        self.dg2 = (None if problem.loss.is_cross_entropy or problem.loss.g2 is None
                    else _checked_derivative(problem.loss.g2, "g2"))
        self.nU = self.K * self.p
        #: Cross-entropy is positive, so its logarithm (same minimisers) is minimised instead: the
        #: stopping rule then acts on relative, not absolute, changes of tiny losses.
        self.log_objective = problem.loss.is_cross_entropy

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
        U = x[: self.nU].reshape(self.K, self.p)
        V = x[self.nU: -2].reshape(self.N_rows, self.p)
        return U, V, x[-2], x[-1]

    def point(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``W  # (K, p)`` and stacked features ``H  # (N, p)`` of the parameter vector ``x``."""
        U, V, a, b = self.split(x)
        W = a * self.rW * U / np.linalg.norm(U)
        H = b * self.row_scale[:, None] * V / np.linalg.norm(V)
        return W, H

    def _loss_and_dZ(self, Z: np.ndarray) -> tuple[float, np.ndarray]:
        rows = np.arange(Z.shape[0])
        S = bk.softmax(Z, axis=1)  # (N, K)
        if self.loss.is_cross_entropy:
            # log(1 + sum_{j != k} e^{z_j - z_k}) and 1 - S_k = sum_{j != k} S_j without cancellation,
            # so that tiny losses (large E_H E_W) keep their relative accuracy
            D = Z - Z[rows, self.labels][:, None]  # (N, K)
            D[rows, self.labels] = -np.inf
            shift = np.maximum(np.max(D, axis=1), 0.0)  # (N,)
            T = np.sum(np.exp(D - shift[:, None]), axis=1)
            per = np.where(shift > 0, shift + np.log(np.exp(-shift) + T), np.log1p(T))
            dZ = S.copy()
            S[rows, self.labels] = 0.0
            dZ[rows, self.labels] = -np.sum(S, axis=1)
        else:
            per = self.loss(Z, self.labels)
            v = self.dg2(S) if self.dg2 is not None else np.zeros_like(S)  # dL/dS
            v[rows, self.labels] = self.dg1(S[rows, self.labels])
            dZ = S * v - S * np.sum(S * v, axis=1, keepdims=True)  # (diag S - S S^T) v
        return float(self.row_weight @ per), dZ * self.row_weight[:, None]

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        U, V, a, b = self.split(x)
        nu, nv = np.linalg.norm(U), np.linalg.norm(V)
        u, v = U / nu, V / nv
        W = a * self.rW * u  # (K, p)
        H = b * self.row_scale[:, None] * v  # (N, p)
        f, dZ = self._loss_and_dZ(H @ W.T)  # dZ  # (N, K)
        dW = dZ.T @ H  # (K, p)
        dH = dZ @ W  # (N, p)
        du = a * self.rW * dW  # df/du
        dv = b * self.row_scale[:, None] * dH  # df/dv
        gU = (du - u * np.sum(u * du)) / nu
        gV = (dv - v * np.sum(v * dv)) / nv
        ga = self.rW * np.sum(u * dW)
        gb = np.sum(self.row_scale[:, None] * v * dH)
        grad = np.concatenate([gU.ravel(), gV.ravel(), [ga, gb]])
        if self.log_objective:
            if not f > 0:
                raise SolverError("nonconvex solver: the cross-entropy underflowed to 0 in float64; "
                                  "E_H E_W is too large for a float64 solve (use the mpmath solvers)")
            return math.log(f), grad / f
        return f, grad


def solve_lpm(problem: LPMProblem, *, starts: int = 8, seed: int = 0, max_iter: int = 5000,
              tol: float = 1e-10) -> NonconvexSolution:
    """Minimise Eq. 7 (Eq. 18 when ``problem.weights`` is set) from ``starts`` seeded random starts.

    Needs integer class sizes and ``problem.p``; works for any :class:`SoftmaxLoss`.  Returns the best
    start (see the module docstring for the parametrisation and the stopping rule).
    """
    require(problem.p is not None, "p", "an integer >= 1 (the nonconvex solver needs the feature dimension)",
            problem.p)
    sizes = _integer_sizes(problem)
    check_options(starts, max_iter, tol)
    t0 = time.perf_counter()
    fun = _Objective(problem, sizes)
    rng = np.random.default_rng(seed)

    def x0() -> np.ndarray:
        U = rng.standard_normal((problem.K, problem.p))
        V = rng.standard_normal((fun.N_rows, problem.p))
        return np.concatenate([(U / np.linalg.norm(U)).ravel(), (V / np.linalg.norm(V)).ravel(),
                               rng.uniform(0.1, 1.0, size=2)])

    n_free = fun.nU + fun.N_rows * problem.p
    bounds = [(None, None)] * n_free + [(-1.0, 1.0), (-1.0, 1.0)]
    runs = run_starts(fun, (x0() for _ in range(starts)), bounds, max_iter, tol)
    objectives = [float(np.exp(r.result.fun)) if fun.log_objective else float(r.result.fun) for r in runs]
    best = runs[int(np.argmin(objectives))]
    W, H_stack = fun.point(best.result.x)
    H = np.split(H_stack, np.cumsum(sizes)[:-1])
    if not np.isfinite(best.result.fun):
        raise SolverError("nonconvex solver (L-BFGS-B): non-finite objective; check E_W, E_H and the loss")
    return NonconvexSolution(
        W=W, H=H, objective=float(problem.objective(W, H)),
        classifier_energy=float(problem.classifier_energy(W)),
        feature_energy=float(problem.feature_energy(H)),
        converged=best.converged, stop_reason=best.stop_reason, iterations=int(best.result.nit),
        start_objectives=objectives, seconds=time.perf_counter() - t0,
        start_converged=[r.converged for r in runs])
