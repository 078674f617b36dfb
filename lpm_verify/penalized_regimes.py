"""Regimes of the penalized LPM's optimum (:mod:`lpm_verify.penalized`, form (P)) along the two-size
family and every imbalance ratio R at which the regime changes, certified at 30+ digits.

Regimes are those of the reduced Eq. 15 (:mod:`lpm_verify.regimes`): ``distinct (M1 A+ B+)``,
``minority-collapse (M1 A+ B0)`` (minority classifiers identical), ``minority-collapse-zero (M0 A+ B0)``
(minority classifiers zero), ...  By (P) the regimes depend on ``(lambda_W, lambda_H)`` only through
``c = sqrt(lambda_W lambda_H)``.

Method (the machinery of :mod:`lpm_verify.regimes`, with the penalized KKT system
:class:`~lpm_verify.solvers.penalized_symmetric.PenalizedSystem`): a float64 scan over
``R = 10^(i/per_decade)`` (certified KKT points), geometric refinement until adjacent regimes differ in
one block, bisection to a bracket of relative width 1e-3, then the threshold as the root
``tau* = log R*`` of the smaller regime's KKT system augmented by its vanishing dual margin, by Newton
in mpmath at ``digits + 15`` digits (:func:`lpm_verify.regimes._solve_threshold`), with the derivative
of the margin along the branch (transversality) and both adjacent regimes certified in mpmath at
``R*(1 -+ 1e-4)``.  R = inf is not scanned (the minority weight ``sqrt(pi_B)`` of (P) vanishes there);
the scan stops at ``10^log10_range``.
"""
from __future__ import annotations

import functools
import math
import time
from typing import Any

import mpmath
import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import SolverError, require
from lpm_verify.regimes import Transition, _event_between, _n_blocks_changed, _solve_threshold, certified_transition
from lpm_verify.solvers.penalized_symmetric import PenalizedSystem, refine_mp, solve_float
from lpm_verify.solvers.symmetric import Profile, parse_regime
from lpm_verify.solvers.symmetric.continuation import Point
from lpm_verify.solvers.symmetric.kkt import newton


def _profile(K: int, K_A: int, R: float) -> Profile:
    """Two groups (majority A of size R, minority B of size 1) also at R = 1; budgets unused by (P)."""
    return Profile.two_size(K, K_A, R, 1.0, 1.0)


def _check(K: int, K_A: int, lambda_W: float, lambda_H: float) -> None:
    require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
    require(isinstance(K_A, int) and 0 < K_A < K, "K_A", f"an integer in [1, K-1] = [1, {K - 1}]", K_A)
    for name, v in (("lambda_W", lambda_W), ("lambda_H", lambda_H)):
        require(isinstance(v, (int, float)) and math.isfinite(v) and v > 0, name, "a finite number > 0", v)


def point_at(K: int, K_A: int, R: float, lambda_W: float, lambda_H: float, warm: Point | None = None) -> Point:
    """Certified float64 optimum of (P) for the two-size family at ``R`` (two groups even at R = 1)."""
    return solve_float(_profile(K, K_A, R), lambda_W, lambda_H, warm)


def scan(K: int, K_A: int, lambda_W: float, lambda_H: float, log10_range: float = 8.0, per_decade: int = 6
         ) -> list[tuple[float, Point]]:
    """Certified float64 optima at ``R = 10^(i/per_decade)``, ``i = 0 .. log10_range * per_decade``."""
    n = int(round(log10_range * per_decade))
    out: list[tuple[float, Point]] = []
    point = None
    for i in range(n + 1):
        R = 10 ** (i / per_decade)
        point = point_at(K, K_A, R, lambda_W, lambda_H, point)
        out.append((R, point))
    return out


def _refine(K: int, K_A: int, lw: float, lh: float, points: list[tuple[float, Point]], depth: int = 30
            ) -> list[tuple[float, Point]]:
    """Insert geometric midpoints until adjacent regimes differ in at most one block."""
    out = [points[0]]
    for nxt in points[1:]:
        stack = [nxt]
        level = 0
        while stack:
            R_b, p_b = stack[-1]
            R_a, p_a = out[-1]
            if _n_blocks_changed(p_a.regime, p_b.regime) <= 1 or level >= depth:
                out.append(stack.pop())
                continue
            mid = math.sqrt(R_a * R_b)
            stack.append((mid, point_at(K, K_A, mid, lw, lh, p_a)))
            level += 1
    return out


def _narrow(K: int, K_A: int, lw: float, lh: float, R_lo: float, p_lo: Point, R_hi: float, p_hi: Point,
            rel: float = 1e-3) -> tuple[float, Point, float, Point]:
    """Bisect (geometric) while the bracket is wider than ``rel`` and the midpoint has an end's regime."""
    while R_hi / R_lo - 1 > rel:
        mid = math.sqrt(R_lo * R_hi)
        point = point_at(K, K_A, mid, lw, lh, p_lo)
        if point.regime == p_lo.regime:
            R_lo, p_lo = mid, point
        elif point.regime == p_hi.regime:
            R_hi, p_hi = mid, point
        else:
            break
    return R_lo, p_lo, R_hi, p_hi


def _side(K: int, K_A: int, lw: float, lh: float, R: Any, lo, hi, digits: int) -> dict[str, Any]:
    """Certify the regime ``lo`` at ``R(1 - 1e-4)`` and ``hi`` at ``R(1 + 1e-4)`` in mpmath (the margins
    there are ~1e-4 times the event's slope, far above float64 rounding, so the float solve resolves
    the regime; and 1e-4 is close enough that these are the regimes adjacent to R)."""
    out: dict[str, Any] = {}
    for name, reg, Rs in (("below", lo, float(R) * (1 - 1e-4)), ("above", hi, float(R) * (1 + 1e-4))):
        entry: dict[str, Any] = {"R": Rs, "regime": reg.label(), "ok": False}
        fl = point_at(K, K_A, Rs, lw, lh)
        entry["float_regime"] = fl.regime.label()
        if fl.regime == reg:
            _, info = refine_mp(_profile(K, K_A, Rs), fl, lw, lh, digits)
            cert = info["certificate"]
            entry.update({"ok": info["ok"], "kkt_residual": cert["kkt_residual"], "min_margin": cert["min_margin"]})
        out[name] = entry
    return out


def find_penalized_thresholds(K: int, K_A: int, lambda_W: float, lambda_H: float, digits: int = 30,
                              log10_range: float = 8.0, per_decade: int = 6) -> list[Transition]:
    """Every regime change of (P) for the two-size family with ``R in [1, 10^log10_range]``, sorted,
    each to ``digits`` digits with its certificate (module docstring)."""
    _check(K, K_A, lambda_W, lambda_H)
    require(isinstance(digits, int) and 15 <= digits <= 200, "digits", "an integer in [15, 200]", digits)
    make = functools.partial(PenalizedSystem, lambda_W=lambda_W, lambda_H=lambda_H)
    points = _refine(K, K_A, lambda_W, lambda_H, scan(K, K_A, lambda_W, lambda_H, log10_range, per_decade))
    out = []
    for (R_lo, p_lo), (R_hi, p_hi) in zip(points, points[1:]):
        if p_lo.regime == p_hi.regime:
            continue
        t0 = time.perf_counter()
        R_lo, p_lo, R_hi, p_hi = _narrow(K, K_A, lambda_W, lambda_H, R_lo, p_lo, R_hi, p_hi)
        small, ev = _event_between(p_lo.regime, p_hi.regime)
        R, cert, _ = _solve_threshold(_profile(K, K_A, R_lo), small, ev, R_lo, p_lo, R_hi, p_hi, digits, make)
        with mpmath.workdps(digits + 15):
            inside = bool(R_lo < R < R_hi)
        sides = _side(K, K_A, lambda_W, lambda_H, R, p_lo.regime, p_hi.regime, digits)
        out.append(certified_transition(R, cert, small, ev, (R_lo, R_hi), inside, sides, p_lo, p_hi, t0))
    return out


def event_at(K: int, K_A: int, lambda_W: float, lambda_H: float, R: Any, smaller_regime: str, event_key: Any,
             digits: int = 30) -> Any:
    """The regime-boundary function of (P) at a candidate ``R`` (independent re-check of a threshold):
    the smaller regime's KKT point at ``R`` in mpmath, then ``1 + gamma_g / c`` (contrast event) or
    ``det(I - G^T G / c^2)`` off the active subspace (rank event); 0 at a true threshold."""
    _check(K, K_A, lambda_W, lambda_H)
    small = parse_regime(smaller_regime)
    Rf = float(R)
    prof = _profile(K, K_A, Rf)
    fl = point_at(K, K_A, Rf, lambda_W, lambda_H)
    if fl.regime != small:
        raise SolverError(f"event_at: the optimum at R = {Rf:g} is in regime {fl.regime.label()}, not "
                          f"{smaller_regime}; pass R within ~1e-6 relative of the threshold")
    K_B = K - K_A
    with mpmath.workdps(digits + 15):
        Rm = mpmath.mpf(R)
        pi = np.array([Rm / (K_A * Rm + K_B), 1 / (K_A * Rm + K_B)], dtype=object)
        sys_ = PenalizedSystem(prof, small, pi, lambda_W=lambda_W, lambda_H=lambda_H)
        x, info = newton(sys_, bk.mp_array([mpmath.mpf(float(v)) for v in fl.x]), tol=mpmath.mpf(10) ** (-(digits + 8)))
        if not info["converged"]:
            raise SolverError(f"event_at: no KKT point of regime {smaller_regime} near R = {Rf:g}")
        A, B, s, mu, _ = sys_.unpack(x[None, :])
        GM, gamma, _ = sys_.gradient(A, B, s, pi[None, :])
        value = PenalizedSystem(prof, small, None, tuple(event_key), lambda_W=lambda_W,
                                lambda_H=lambda_H).event_value(A, B, GM, gamma, mu)[0]
    return +value
