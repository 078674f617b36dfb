"""The l_q variant of the Layer-Peeled Model, Eq. 20 (and its K = 2 form, Eq. 33), in float64.

    min_{W,H}  (1/K) sum_k L(W h_k, y_k)                      (cross-entropy, Eq. 8)
    s.t.       (1/K) sum_k ||w_k||_2^2 <= E_W,  (1/K) sum_k ||h_k||_q^q <= E_H.

For ``q >= 1`` both the loss (in h for fixed W) and the l_q constraint are convex, so averaging the
features of a class never hurts: one feature per class (n = 1) loses nothing, and that is the
program solved here.  Eq. 33 is twice this objective at K = 2.

Method: both constraints are taken active (the cross-entropy decreases along ``(W, H) -> (tW, tH)``
once the margins are positive), through the scale maps

    W = sqrt(K E_W) U / ||U||_F,        H = (K E_H)^{1/q} V / ||V||_q   (entrywise l_q over all of V),

so every iterate is feasible and the problem is unconstrained in ``(U, V)``; L-BFGS-B with the exact
gradient runs from ``starts`` seeded Gaussian starts and the best feasible point is kept.  This uses
no convexity argument, so its value is an upper bound on the minimum of Eq. 20, attained by the
returned point (which the caller can re-evaluate).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax

from lpm_verify.errors import require


@dataclass
class LqSolution:
    """Best point of a multi-start solve of Eq. 20: ``W  # (K, p)``, class features ``H  # (K, p)``."""

    W: np.ndarray
    H: np.ndarray
    objective: float
    classifier_energy: float
    feature_energy: float
    start_objectives: list[float] = field(default_factory=list)
    converged: bool = False
    seconds: float = 0.0


def lq_objective(W: np.ndarray, H: np.ndarray) -> float:
    """Objective of Eq. 20 with n = 1: ``(1/K) sum_k [logsumexp(W h_k) - w_k . h_k]``."""
    Z = H @ W.T  # (K, K): row k = logits of class k's feature
    K = Z.shape[0]
    return float(np.mean(logsumexp(Z, axis=1) - Z[np.arange(K), np.arange(K)]))


def lq_energies(W: np.ndarray, H: np.ndarray, q: float) -> tuple[float, float]:
    """``((1/K) sum ||w_k||^2, (1/K) sum ||h_k||_q^q)``, the left sides of Eq. 20's constraints."""
    K = W.shape[0]
    return float(np.sum(W * W) / K), float(np.sum(np.abs(H) ** q) / K)


def _check(K: int, p: int, q: float, E_W: float, E_H: float, starts: int) -> None:
    require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
    require(isinstance(p, int) and p >= 1, "p", "an integer >= 1", p)
    require(isinstance(q, (int, float)) and math.isfinite(q) and q >= 1, "q",
            "a finite number >= 1 (the l_q constraint must be convex for n = 1 to be exact)", q)
    for name, value in (("E_W", E_W), ("E_H", E_H)):
        require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0, name,
                "a finite number > 0", value)
    require(isinstance(starts, int) and starts >= 1, "starts", "an integer >= 1", starts)


def _maps(x: np.ndarray, K: int, p: int, q: float, a: float, b: float
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    U = x[: K * p].reshape(K, p)
    V = x[K * p:].reshape(K, p)
    r = float(np.linalg.norm(U))
    s = float(np.sum(np.abs(V) ** q) ** (1.0 / q))
    return U, V, a * U / r, b * V / s, r, s


def _value_and_grad(x: np.ndarray, K: int, p: int, q: float, a: float, b: float
                    ) -> tuple[float, np.ndarray]:
    U, V, W, H, r, s = _maps(x, K, p, q, a, b)
    Z = H @ W.T  # (K, K)
    value = float(np.mean(logsumexp(Z, axis=1) - np.diag(Z)))
    G = (softmax(Z, axis=1) - np.eye(K)) / K  # dL/dZ  (K, K)
    gW = G.T @ H  # (K, p)
    gH = G @ W  # (K, p)
    gU = (a / r) * (gW - (np.sum(gW * U) / r**2) * U)
    ds = np.sign(V) * np.abs(V) ** (q - 1) / s ** (q - 1)  # d||V||_q / dV
    gV = (b / s) * gH - (b / s**2) * np.sum(gH * V) * ds
    return value, np.concatenate([gU.ravel(), gV.ravel()])


def solve_lq(K: int, p: int, q: float, E_W: float, E_H: float, *, starts: int = 8, seed: int = 0,
             max_iter: int = 3000, gtol: float = 1e-10) -> LqSolution:
    """Multi-start solve of Eq. 20 (n = 1, cross-entropy); see the module docstring for the method."""
    _check(K, p, q, E_W, E_H, starts)
    a, b = math.sqrt(K * E_W), (K * E_H) ** (1.0 / q)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    best, values, converged = None, [], False
    for _ in range(starts):
        x0 = rng.standard_normal(2 * K * p)
        res = minimize(_value_and_grad, x0, args=(K, p, q, a, b), jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": gtol, "ftol": 1e-15})
        _, _, W, H, _, _ = _maps(res.x, K, p, q, a, b)
        value = lq_objective(W, H)
        values.append(value)
        if best is None or value < best[0]:
            best, converged = (value, W, H), bool(res.success)
    value, W, H = best
    e_w, e_h = lq_energies(W, H, q)
    return LqSolution(W=W, H=H, objective=value, classifier_energy=e_w, feature_energy=e_h,
                      start_objectives=values, converged=converged, seconds=time.perf_counter() - t0)


@dataclass
class Eq9Best:
    """Best objective of Eq. 20 over points of the form Eq. 9 (h_k = C w_k = C' m_k, m an ETF).

    ``S`` is the smallest ``sum_k ||m_k||_q^q`` found over rotations of the ETF (the l_q norm is not
    rotation invariant); ``C'`` is then ``(K E_H / S)^{1/q}`` and ``||w_k|| = C'/C = sqrt(E_W)``.
    ``S`` comes from a multi-start search, so ``objective`` is attained (an upper bound on the best
    Eq. 9 value), not certified optimal.
    """

    objective: float
    S: float
    M: np.ndarray  # (p, K) the best ETF found
    start_S: list[float] = field(default_factory=list)


def eq9_objective(K: int, C_prime: float, E_W: float) -> float:
    """Eq. 20's objective at an Eq. 9 point: ``log(1 + (K-1) exp(-C' sqrt(E_W) K/(K-1)))``."""
    return math.log1p((K - 1) * math.exp(-C_prime * math.sqrt(E_W) * K / (K - 1)))


def best_eq9(K: int, p: int, q: float, E_W: float, E_H: float, *, starts: int = 16, seed: int = 0) -> Eq9Best:
    """Best Eq. 9 point of Eq. 20: minimize ``sum_k ||Q M0 e_k||_q^q`` over ``Q  # (p, K)`` with
    orthonormal columns (``M0`` the K-simplex ETF in R^K), BFGS from ``starts`` seeded starts."""
    _check(K, p, q, E_W, E_H, starts)
    require(p >= K, "p", f">= K = {K} (an ETF embedded by a partial orthogonal P, Definition 1)", p)
    M0 = math.sqrt(K / (K - 1)) * (np.eye(K) - 1.0 / K)  # (K, K)

    def S_of(a: np.ndarray) -> float:
        Q, _ = np.linalg.qr(a.reshape(p, K))
        return float(np.sum(np.abs(Q @ M0) ** q))

    rng = np.random.default_rng(seed)
    found = [minimize(S_of, rng.standard_normal(p * K), method="BFGS", options={"gtol": 1e-9}) for _ in range(starts)]
    best = min(found, key=lambda r: r.fun)
    Q, _ = np.linalg.qr(best.x.reshape(p, K))
    S = float(best.fun)
    return Eq9Best(objective=eq9_objective(K, (K * E_H / S) ** (1.0 / q), E_W), S=S, M=Q @ M0,
                   start_S=[float(r.fun) for r in found])
