"""The penalized unconstrained-features model with the mean squared error, bias free, in the normalization of
Dang, Tran, Osher, Tran-The, Ho, Nguyen, "Neural Collapse in Deep Linear Networks: From Balanced to Imbalanced
Data" (arXiv 2301.00437; read: abstract and introduction only)::

    min_{W, H}  (1/(2N)) ||W H - Y||_F^2 + (lambda_W/2) ||W||_F^2 + (lambda_H/2) ||H||_F^2,

``W  # (K, p)`` (row k: class k's classifier), ``H  # (p, N)`` (one feature per example), ``Y  # (K, N)`` one-hot.
The sibling of :mod:`lpm_verify.penalized` with the square loss in place of cross-entropy.

Closed form.  By the variational identity (V) of :mod:`lpm_verify.penalized` (``alpha = lambda_W``,
``beta = lambda_H``) the model is ``min_Z (1/(2N))||Z - Y||^2 + c ||Z||_*``, ``c = sqrt(lambda_W lambda_H)``, for
``p >= K``, whose minimizer soft-thresholds the singular values of ``Y`` at ``N c``.  ``Y Y^T = diag(n)``, so
``Y``'s singular values are ``sqrt(n_k)`` with left singular vectors ``e_k``: class k's singular value is
``max(sqrt(n_k) - N c, 0)`` and its classifier (``W = U S^(1/2)`` up to scale) is zero iff
``n_k <= N^2 lambda_W lambda_H``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from lpm_verify.errors import require
from lpm_verify.problem import class_sizes, positive
from lpm_verify.seli import one_hot


@dataclass(frozen=True)
class PenalizedMSE:
    """One instance of the model above (integer class sizes ``n_k``)."""

    sizes: tuple[int, ...]
    lambda_W: float
    lambda_H: float

    def __post_init__(self) -> None:
        sizes = class_sizes(self.sizes)
        require(all(float(n).is_integer() for n in sizes), "sizes", "positive integers (one feature per example)",
                sizes)
        object.__setattr__(self, "sizes", tuple(int(n) for n in sizes))
        positive("lambda_W", self.lambda_W)
        positive("lambda_H", self.lambda_H)

    @property
    def K(self) -> int:
        return len(self.sizes)

    @property
    def N(self) -> int:
        return sum(self.sizes)

    def objective(self, W: np.ndarray, H: np.ndarray) -> float:
        """The objective at ``W  # (K, p)``, ``H  # (p, N)``."""
        R = W @ H - one_hot(self.sizes)
        return float(np.sum(R * R) / (2 * self.N) + self.lambda_W / 2 * np.sum(W * W)
                     + self.lambda_H / 2 * np.sum(H * H))

    def singular_values(self) -> np.ndarray:
        """Class k's singular value of the optimal ``W H``: ``max(sqrt(n_k) - N sqrt(lambda_W lambda_H), 0)``."""
        shrink = self.N * math.sqrt(self.lambda_W * self.lambda_H)
        return np.maximum(np.sqrt(np.asarray(self.sizes, dtype=float)) - shrink, 0.0)

    def minimum(self) -> float:
        """The optimal value: ``sum_k (sigma_k - sqrt(n_k))^2/(2N) + c sigma_k`` at the soft-thresholded values."""
        sig, y = self.singular_values(), np.sqrt(np.asarray(self.sizes, dtype=float))
        return float(np.sum((sig - y) ** 2) / (2 * self.N) + math.sqrt(self.lambda_W * self.lambda_H) * sig.sum())

    def zero_classes(self) -> list[bool]:
        """Whether class k's classifier is zero at the optimum: ``n_k <= N^2 lambda_W lambda_H``."""
        return [n <= self.N**2 * self.lambda_W * self.lambda_H for n in self.sizes]


def solve_mse_nonconvex(problem: PenalizedMSE, p: int, seed: int = 0, tol: float = 1e-12
                        ) -> tuple[np.ndarray, np.ndarray, float]:
    """``(W, H, objective)`` from L-BFGS-B over ``(W, H)`` as they stand (no convexity used), from one seeded start."""
    K, N = problem.K, problem.N
    Y = one_hot(problem.sizes)

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        W, H = x[:K * p].reshape(K, p), x[K * p:].reshape(p, N)
        Rm = (W @ H - Y) / N
        f = float(np.sum(Rm * Rm) * N / 2 + problem.lambda_W / 2 * np.sum(W * W) + problem.lambda_H / 2 * np.sum(H * H))
        gW = Rm @ H.T + problem.lambda_W * W
        gH = W.T @ Rm + problem.lambda_H * H
        return f, np.concatenate([gW.ravel(), gH.ravel()])

    x0 = np.random.default_rng(seed).standard_normal(K * p + p * N) * 0.3
    res = minimize(fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": 50000, "gtol": tol, "ftol": 0.0})
    W, H = res.x[:K * p].reshape(K, p), res.x[K * p:].reshape(p, N)
    return W, H, problem.objective(W, H)
