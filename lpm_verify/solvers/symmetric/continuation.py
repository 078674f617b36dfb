"""Continuation for the reduced Eq. 15: from the balanced closed form (Theorem 1) along a homotopy in
the class weights to the target fractions (float64, bisecting failed steps, cvxpy as a last resort),
and Newton refinement in mpmath with the certificate.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np

from lpm_verify import backend as bk
from lpm_verify.solvers.symmetric.certificate import certificate
from lpm_verify.solvers.symmetric.fallback import fallback
from lpm_verify.solvers.symmetric.kkt import System, newton
from lpm_verify.solvers.symmetric.profile import Profile, Regime
from lpm_verify.solvers.symmetric.switching import Point, gauge_fix, step


def balanced_point(prof: Profile) -> Point:
    """Closed form at equal weights (Theorem 1): ``Z = c (I - 11^T/K)``, ``c = sqrt(E_H E_W) K/(K-1)``.

    Reduced: ``s_g = c``, ``Z_M = c (I - q q^T)`` with ``q_g = sqrt(K_g / K)`` (rank ``G - 1``),
    ``mu = e^{-c} / (1 + (K-1) e^{-c})``.
    """
    K, G = prof.K, prof.G
    c = math.sqrt(prof.E_H * prof.E_W) * K / (K - 1)
    q = np.sqrt(np.array(prof.counts, dtype=float) / K)
    ZM = c * (np.eye(G) - np.outer(q, q))
    U, S, Vt = np.linalg.svd(ZM)
    r = G - 1
    A, B = U[:, :r] * np.sqrt(S[:r]), Vt[:r].T * np.sqrt(S[:r])
    A, B = gauge_fix(A, B)
    regime = Regime(r, tuple(None if k == 1 else True for k in prof.counts))
    s = np.array([c if k >= 2 else 0.0 for k in prof.counts])
    mu = math.exp(-c) / (1 + (K - 1) * math.exp(-c))
    pi = np.full(G, 1.0 / K)
    return Point(regime, System(prof, regime, pi).pack(A, B, s, mu))


def _homotopy_weights(prof: Profile, steps_per_decade: int = 4) -> list[np.ndarray]:
    """Fractions along a path from equal weights to ``prof``'s (geometric in the weights)."""
    w = np.array(prof.weights, dtype=float)
    pos = w[w > 0]
    floor = pos.min() * 1e-12
    wt = np.where(w > 0, w, floor)
    spread = math.log10(wt.max() / wt.min())
    n = max(4, int(math.ceil(spread * steps_per_decade)))
    counts = np.array(prof.counts, dtype=float)
    path = []
    for i in range(1, n + 1):
        wi = wt ** (i / n)
        path.append(wi / np.sum(counts * wi))
    if np.any(w == 0):
        path.append(prof.fractions())
    return path


def solve_float(prof: Profile, start: Point | None = None) -> Point:
    """Float64 KKT solution at ``prof`` by continuation from ``start`` (default: the balanced optimum)."""
    pi_target = prof.fractions()
    if start is None:
        balanced = Profile(prof.counts, (1.0,) * prof.G, prof.E_W, prof.E_H, prof.class_groups)
        start = balanced_point(balanced)
        path = _homotopy_weights(prof)
    else:
        path = [pi_target]
    point = start
    prev_pi = start.info.get("pi", np.full(prof.G, 1.0 / prof.K))
    for pi in path:
        point = bisect_step(prof, prev_pi, pi, point, depth=0)
        prev_pi = pi
    point.info["pi"] = pi_target
    return point


def bisect_step(prof: Profile, pi0: np.ndarray, pi1: np.ndarray, point: Point, depth: int) -> Point:
    got = step(prof, pi1, point)
    if got is not None:
        got.info["pi"] = pi1
        return got
    if depth >= 8:
        return fallback(prof, pi1)
    counts = np.array(prof.counts, dtype=float)
    mid = np.sqrt(np.where(pi0 > 0, pi0, pi1 * 1e-12) * np.where(pi1 > 0, pi1, pi0 * 1e-12))
    mid = mid / np.sum(counts * mid)
    half = bisect_step(prof, pi0, mid, point, depth + 1)
    return bisect_step(prof, mid, pi1, half, depth + 1)


def refine_mp(prof: Profile, point: Point, digits: int) -> tuple[np.ndarray, dict]:
    """Newton in mpmath at ``digits + 15`` working digits from a float64 point; returns (x, info)."""
    pi = prof.fractions(mp=True)
    system = System(prof, point.regime, pi)
    x = bk.mp_array([mpmath.mpf(float(v)) for v in point.x])
    tol = mpmath.mpf(10) ** (-(digits + 8))
    x, info = newton(system, x, tol=tol)
    info["certificate"] = certificate(system, x)
    return x, info
