"""Solve Eq. 15 by the symmetry reduction: the public entry point :func:`solve_symmetric`, and what is
derived from a reduced point (the full ``X``, the objective, cosines and norms of the classifiers;
``W``/``Hbar`` from Lemma 1).
"""
from __future__ import annotations

import math
import time
from typing import Any

import mpmath
import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import SolverError, require
from lpm_verify.problem import LPMProblem
from lpm_verify.solvers.base import LPMSolution
from lpm_verify.solvers.sdp import lemma1_factors
from lpm_verify.solvers.symmetric.certificate import certificate, certificate_ok
from lpm_verify.solvers.symmetric.continuation import Point, refine_mp, solve_float
from lpm_verify.solvers.symmetric.kkt import System, blocks, log1p, rebuild_X
from lpm_verify.solvers.symmetric.profile import GROUP_NAMES, Profile, Regime, regime_name


def _group_cosines(prof: Profile, B: np.ndarray, s: np.ndarray, a: Any, X: np.ndarray) -> dict[str, Any]:
    """Within-group average cosine of the classifiers (exact from the scalars) and norms."""
    out: dict[str, Any] = {}
    mp = X.dtype == object
    BB = B @ B.T
    for g, c in enumerate(prof.counts):
        name = GROUP_NAMES[g]
        diag = BB[g, g] / (a * c) + s[g] * (c - 1) / (c * a)
        out[f"norm_{name}"] = mpmath.sqrt(diag) if mp else math.sqrt(max(float(diag), 0.0))
        num, den = BB[g, g] - s[g], BB[g, g] + (c - 1) * s[g]
        tiny = (mpmath.mpf(10) ** (-(mpmath.mp.dps * 2 // 3))) if mp else 1e-11
        out[f"cos_{name}"] = num / den if (c >= 2 and den > tiny * prof.K * math.sqrt(prof.E_W * prof.E_H)) \
            else (mpmath.nan if mp else math.nan)
    return out


def solution_from_point(prof: Profile, regime: Regime, x: np.ndarray, pi: Any) -> dict[str, Any]:
    """Everything derived from a reduced point: X, objective, cosines, norms."""
    mp = x.dtype == object
    system = System(prof, regime, pi)
    A, B, s, mu, _ = system.unpack(x[None, :])
    piB = system.fractions(None, 1, x.dtype)
    _, _, Dm1 = system.gradient(A, B, s, piB)
    counts = np.array(prof.counts, dtype=float)
    objective = np.sum(counts * piB[0] * log1p(Dm1[0]))
    a = mpmath.sqrt(mpmath.mpf(prof.E_H) / prof.E_W) if mp else math.sqrt(prof.E_H / prof.E_W)
    XM, Sg = blocks(prof, A[0], B[0], s[0], a)
    X = rebuild_X(prof, XM, Sg)
    return {"X": X, "X_M": XM, "S": Sg, "objective": objective, "mu": mu[0],
            "groups": _group_cosines(prof, B[0], s[0], a, X)}


def summary_from_point(prof: Profile, point: Point) -> dict[str, float]:
    """Float cosines and norms straight from the reduced scalars (no ``2K x 2K`` rebuild).

    With ``w_ww`` the classifier Gram: within group g ``cos = (BB_gg - s_g) / (BB_gg + (K_g-1) s_g)``;
    ``cos_all`` averages all ordered pairs; NaN where a classifier is zero or a group has one class.
    """
    system = System(prof, point.regime, point.info.get("pi", prof.fractions()))
    _, B, s, _, _ = system.unpack(point.x[None, :])
    B, s = B[0], s[0]
    a = math.sqrt(prof.E_H / prof.E_W)
    counts = np.array(prof.counts, dtype=float)
    BB = B @ B.T
    n2 = np.diag(BB) / (a * counts) + s * (counts - 1) / (a * counts)  # squared norm per group
    T = prof.K * math.sqrt(prof.E_H * prof.E_W)
    zero = n2 <= 1e-20 * T
    out: dict[str, float] = {}
    for g, c in enumerate(prof.counts):
        den = BB[g, g] + (c - 1) * s[g]
        out[f"cos_{GROUP_NAMES[g]}"] = float((BB[g, g] - s[g]) / den) if c >= 2 and not zero[g] else math.nan
        out[f"norm_{GROUP_NAMES[g]}"] = math.sqrt(max(n2[g], 0.0))
    if np.any(zero):
        out["cos_all"] = math.nan
    else:
        total = sum(c * (c - 1) * out[f"cos_{GROUP_NAMES[g]}"] for g, c in enumerate(prof.counts) if c >= 2)
        for g in range(prof.G):
            for h in range(prof.G):
                if g != h:
                    cross = BB[g, h] / (a * math.sqrt(counts[g] * counts[h]))
                    total += counts[g] * counts[h] * cross / math.sqrt(n2[g] * n2[h])
        out["cos_all"] = float(total / (prof.K * (prof.K - 1)))
    return out


def solve_symmetric(problem: LPMProblem | Profile, *, digits: int | None = None,
                    start: Point | None = None) -> LPMSolution:
    """Solve Eq. 15 by the symmetry reduction: float64 (``digits=None``) or mpmath at ``digits``.

    The float64 answer is the regime's KKT point found by Newton (continuation from the balanced
    closed form, regime switches at certificate failures, Clarabel on the reduced program as a last
    resort).  With ``digits`` (>= 30 recommended) it is refined by Newton in mpmath and
    ``detail["certificate"]`` holds the KKT residual, dual block eigenvalues, multipliers and margins.
    ``X`` is the full invariant ``(2K, 2K)`` matrix (object array of mpf when ``digits`` is set);
    ``W``/``Hbar`` come from Lemma 1 (float64, ``p = 2K``).
    """
    prof = problem if isinstance(problem, Profile) else Profile.from_problem(problem)
    if digits is not None:
        require(isinstance(digits, int) and digits >= 15, "digits", "an integer >= 15 (or None for float64)", digits)
    t0 = time.perf_counter()
    point = solve_float(prof, start)
    detail: dict[str, Any] = {"regime": regime_name(point.regime), "newton": {
        k: v for k, v in point.info.items() if k in ("iterations", "residual")},
        "point": point, "profile": prof}
    if digits is None:
        x, pi = point.x, prof.fractions()
        cert = certificate(System(prof, point.regime, pi), x)
        derived = solution_from_point(prof, point.regime, x, pi)
    else:
        with mpmath.workdps(digits + 15):
            x, info = refine_mp(prof, point, digits)
            pi = prof.fractions(mp=True)
            cert = info["certificate"]
            if not (info["converged"] and certificate_ok(cert, mpmath.mpf(10) ** (-digits))):
                raise SolverError(f"symmetric mpmath solve not certified at {digits} digits (regime "
                                  f"{point.regime.label()}, residual {mpmath.nstr(cert['kkt_residual'], 3)}, "
                                  f"min margin {mpmath.nstr(cert['min_margin'], 3)}); try method='sdp'")
            detail["newton_mp"] = {k: v for k, v in info.items() if k != "certificate"}
            detail["digits"] = digits
            derived = solution_from_point(prof, point.regime, x, pi)
    detail.update({"certificate": cert, "x": x, **derived["groups"]})
    objective, X = derived["objective"], derived["X"]
    W, Hbar = lemma1_factors(bk.to_float(X))
    return LPMSolution(method="symmetric", solver="newton-kkt" + ("" if digits is None else f"-mp{digits}"),
                       status="optimal", objective=objective, X=X, W=W, Hbar=Hbar,
                       seconds=time.perf_counter() - t0, detail=detail)
