"""Shared pieces of Theorem 4 and Lemma 4 (softmax losses, Eq. 7 at the ETF Eq. 9): Theorem 4's
assumption and its exact boundary s*(K), the ETF point and its softmax probability at 30+ digits, random
feasible points, the one-vs-rest point below the boundary, the solver comparison against Eq. 9, and the
tolerances these checks share.  A fixtures module: it registers no check and imports no result module."""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import mpmath
import numpy as np
import sympy as sp

from lpm_verify import backend as bk
from lpm_verify.geometry import simplex_etf
from lpm_verify.losses import SoftmaxLoss
from lpm_verify.problem import LPMProblem
from lpm_verify.solvers.nonconvex import solve_lpm


# -- the assumption and its boundary ----------------------------------------------------------
def assumption_gap(s: Any, K: Any) -> Any:
    """``phi(s) = s - (K-1)/K log(K^2 s + (2K-1)(K-1))``; Theorem 4 assumes ``phi(sqrt(E_H E_W)) > 0``."""
    if isinstance(s, sp.Basic) or isinstance(K, sp.Basic):
        return s - (K - 1) / K * sp.log(K ** 2 * s + (2 * K - 1) * (K - 1))
    K = mpmath.mpf(K)
    return s - (K - 1) / K * mpmath.log(K ** 2 * s + (2 * K - 1) * (K - 1))


def boundary_lambert(K: int) -> mpmath.mpf:
    """``s*(K) = (-m W_{-1}(-e^{-b/m}/m) - b)/K^2``, ``m = K(K-1)``, ``b = (2K-1)(K-1)`` (working precision).

    From ``u = K^2 s + b``: ``phi = 0`` iff ``u = b + m log u`` iff ``(-u/m) e^{-u/m} = -e^{-b/m}/m``;
    the lower branch gives the root with ``u > m`` (i.e. ``s > 0``).
    """
    m, b = mpmath.mpf(K * (K - 1)), mpmath.mpf((2 * K - 1) * (K - 1))
    u = -m * mpmath.lambertw(-mpmath.exp(-b / m) / m, -1)
    return (mpmath.re(u) - b) / K ** 2


# -- the ETF point and the printed minimum value ----------------------------------------------
def etf_point_mp(K: int, n: int, E_W: Any, E_H: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """Eq. 9 at the working precision: ``w_k = sqrt(E_W) m_k``, ``h_{k,i} = sqrt(E_H) m_k`` (``P = I_K``).

    Returns ``W  # (K, K)`` and ``H`` as ``K`` blocks ``# (n, K)``.
    """
    unit = mpmath.sqrt(mpmath.mpf(K) / (K - 1))
    M = np.array([[unit * ((1 if a == b else 0) - mpmath.mpf(1) / K) for b in range(K)] for a in range(K)],
                 dtype=object)  # (K, K), row k is m_k
    W = M * mpmath.sqrt(mpmath.mpf(E_W))
    H = [np.stack([M[k] * mpmath.sqrt(mpmath.mpf(E_H))] * n) for k in range(K)]
    return W, H


def etf_probability(K: int, s: Any) -> Any:
    """``S(z)(k)`` at Eq. 9: ``1/(1 + (K-1) exp(-K s/(K-1)))``, which is ``L(0)/N`` of Eq. 54."""
    return 1 / (1 + (K - 1) * mpmath.exp(-K * s / (K - 1)))


STEP_TOL = 1e-20


STEP_REASON = ("30-digit arithmetic on softmax values in (0, 1) and sums of at most ~100 terms: rounding "
               "stays below 1e-26, so 1e-20 separates it from a genuine violation")


def random_feasible_point(rng: np.random.Generator, K: int, n: int, p: int, E_W: Any, E_H: Any,
                          near_etf: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """A seeded feasible ``(W  # (K, p), H  # K blocks (n, p))`` of Eq. 7 at the working precision:
    Gaussian (or ETF plus noise when ``near_etf``), scaled to energies ``u E_W``, ``v E_H`` with ``u, v``
    in (0.05, 1] (``= 1`` half of the time)."""
    W = rng.standard_normal((K, p))
    H = rng.standard_normal((K, n, p))
    if near_etf and p >= K:
        M = np.sqrt(K / (K - 1)) * (np.eye(K) - 1.0 / K)  # (K, K) rows m_k
        W[:, :K] += 3 * M
        H[:, :, :K] += 3 * M[:, None, :]
    u, v = ((1.0, 1.0) if rng.uniform() < 0.5 else tuple(rng.uniform(0.05, 1.0, size=2)))
    W, H = bk.mp_array(W), bk.mp_array(H)
    W = W * mpmath.sqrt(mpmath.mpf(u) * E_W * K / np.sum(W * W))
    H = H * mpmath.sqrt(mpmath.mpf(v) * E_H * K * n / np.sum(H * H))
    return W, [H[k] for k in range(K)]


# -- numeric solves of Eq. 7 ------------------------------------------------------------------
def etf_objective(problem: LPMProblem) -> float:
    """Objective of Eq. 7 at Eq. 9 in float64 (``problem.p >= K - 1``)."""
    K, n = problem.K, int(problem.sizes[0])
    M = simplex_etf(K, problem.p)  # (p, K), Definition 1 (footnote construction when p = K - 1)
    W = math.sqrt(problem.E_W) * M.T  # (K, p)
    H = [np.tile(math.sqrt(problem.E_H) * M[:, k], (n, 1)) for k in range(K)]
    return float(problem.objective(W, H))


def etf_distance(W: np.ndarray, H: Sequence[np.ndarray], E_W: float, E_H: float) -> float:
    """Distance of ``(W  # (K, p), H)`` from the form Eq. 9: the largest of the within-class spread,
    ``|W W^T - E_W K/(K-1) (I - 11^T/K)|`` and ``|h_k - sqrt(E_H/E_W) w_k|`` (entrywise maxima)."""
    K = W.shape[0]
    means = np.stack([Hk.mean(axis=0) for Hk in H])  # (K, p)
    spread = max(np.max(np.abs(Hk - Hk.mean(axis=0))) for Hk in H)
    target = E_W * K / (K - 1) * (np.eye(K) - 1.0 / K)
    duality = np.max(np.abs(means - math.sqrt(E_H / E_W) * W))
    return float(max(spread, np.max(np.abs(W @ W.T - target)), duality))


def solver_gaps(problems: Sequence[LPMProblem], reference: Callable[[LPMProblem], float], starts: int = 6,
                seed: int = 0) -> dict[str, float]:
    """Best nonconvex objective minus ``reference(problem)``: most negative (``beats``), largest ``|gap|``
    (``value``), and the largest :func:`etf_distance` of the solver's points (``geometry``)."""
    beats, value, geometry = 0.0, 0.0, 0.0
    for problem in problems:
        sol = solve_lpm(problem, starts=starts, seed=seed)
        gap = sol.objective - reference(problem)
        beats, value = min(beats, gap), max(value, abs(gap))
        geometry = max(geometry, etf_distance(sol.W, sol.H, problem.E_W, problem.E_H))
    return {"beats": beats, "value": value, "geometry": geometry}


SOLVER_REASON = ("L-BFGS-B stops at projected gradient 1e-10 or relative reduction 1e-15: objective within "
                 "~1e-14 of a local minimum; 1e-9 leaves float64 headroom")


# -- below the boundary: the assumption cannot simply be dropped --------------------------------
LINEAR = SoftmaxLoss("linear: g1(x) = 1 - x", g1=lambda x: 1 - x, g2=None)


def one_vs_rest_point(K: int, E_W: Any, E_H: Any, alpha: Any, beta: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """A feasible rank-one point of Eq. 7 (n = 1, p = K): along one unit vector e, ``w_1 = sqrt(alpha K E_W) e``,
    ``w_k = -sqrt((1-alpha) K E_W/(K-1)) e`` (k >= 2), and the same for ``h_k`` with ``beta, E_H``.
    Both constraints are active."""
    W = np.array([[mpmath.mpf(0)] * K for _ in range(K)], dtype=object)
    H = np.array([[mpmath.mpf(0)] * K for _ in range(K)], dtype=object)
    W[0, 0], H[0, 0] = mpmath.sqrt(alpha * K * E_W), mpmath.sqrt(beta * K * E_H)
    for k in range(1, K):
        W[k, 0] = -mpmath.sqrt((1 - alpha) * K * E_W / (K - 1))
        H[k, 0] = -mpmath.sqrt((1 - beta) * K * E_H / (K - 1))
    return W, [H[k:k + 1] for k in range(K)]
