"""The penalized LPM (:mod:`lpm_verify.penalized`) solved as it stands: one feature per example and
``W`` as free float64 variables, L-BFGS-B from seeded random starts (the multistart driver and stopping
rule of :mod:`lpm_verify.solvers.multistart`).  The objective is smooth and unconstrained; its value and
gradient are computed here, the reported objective is re-evaluated with
:meth:`PenalizedLPM.objective` (an independent implementation).  No convexity is used, so agreement
with the convex form (P) checks the variational identity (V) and within-class collapse.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import require
from lpm_verify.penalized import PenalizedLPM
from lpm_verify.solvers.multistart import check_options, run_starts


@dataclass
class PenalizedNonconvexSolution:
    """Best start: ``W  # (K, p)``, features ``H[k]  # (n_k, p)``, objective, every start's objective."""

    W: np.ndarray
    H: list[np.ndarray]
    objective: float
    converged: bool
    stop_reason: str
    start_objectives: list[float] = field(default_factory=list)
    seconds: float = 0.0


def solve_penalized_nonconvex(problem: PenalizedLPM, *, starts: int = 4, seed: int = 0, max_iter: int = 20000,
                              tol: float = 1e-10, nonnegative_features: bool = False) -> PenalizedNonconvexSolution:
    """Minimize the penalized objective over ``(W, H)`` from ``starts`` seeded Gaussian starts.

    ``nonnegative_features=True`` adds the bound ``H >= 0`` (features that leave a ReLU, as the MLP's do);
    starts are then the absolute values of the Gaussian ones."""
    require(problem.p is not None, "p", "an integer >= 1 (the nonconvex solver needs the feature dimension)",
            problem.p)
    sizes = []
    for k, n in enumerate(problem.sizes):
        require(float(n).is_integer(), f"n_{k + 1} (class size)", "a positive integer (one feature per example)", n)
        sizes.append(int(n))
    check_options(starts, max_iter, tol)
    K, p, N = problem.K, problem.p, sum(sizes)
    labels = np.repeat(np.arange(K), sizes)
    rows = np.arange(N)
    lw, lh = problem.lambda_W, problem.mean_lambda_H

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        W, H = x[:K * p].reshape(K, p), x[K * p:].reshape(N, p)
        Z = H @ W.T  # (N, K)
        S = bk.softmax(Z, axis=1)
        lse = np.log(np.sum(np.exp(Z - Z.max(axis=1, keepdims=True)), axis=1)) + Z.max(axis=1)
        f = float(np.mean(lse - Z[rows, labels])) + lw / 2 * np.sum(W * W) + lh / 2 * np.sum(H * H) / N
        dZ = S.copy()
        dZ[rows, labels] -= 1.0
        dZ /= N
        gW = dZ.T @ H + lw * W
        gH = dZ @ W + lh * H / N
        return f, np.concatenate([gW.ravel(), gH.ravel()])

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    x0s = [rng.standard_normal(K * p + N * p) * 0.5 for _ in range(starts)]
    lower = 0.0 if nonnegative_features else None
    if nonnegative_features:
        for x0 in x0s:
            x0[K * p:] = np.abs(x0[K * p:])
    runs = run_starts(fun, x0s, [(None, None)] * (K * p) + [(lower, None)] * (N * p), max_iter, tol)
    values = [float(r.result.fun) for r in runs]
    best = runs[int(np.argmin(values))]
    W, H = best.result.x[:K * p].reshape(K, p), best.result.x[K * p:].reshape(N, p)
    blocks = np.split(H, np.cumsum(sizes)[:-1])
    return PenalizedNonconvexSolution(W=W, H=blocks, objective=problem.objective(W, blocks),
                                      converged=best.converged, stop_reason=best.stop_reason,
                                      start_objectives=values, seconds=time.perf_counter() - t0)
