"""Regimes of the imbalanced LPM optimum and every imbalance ratio R at which the regime changes.

A regime (:class:`~lpm_verify.solvers.symmetric.Regime`) is the rank pattern of the invariant
optimum ``X*`` of Eq. 15: the rank of the group-mean block ``Z_M`` and which within-group contrast
blocks are nonzero.  For the two-size family (``K_A`` classes of size ``R``, ``K_B`` of size 1)
the labels read e.g.

* ``distinct (M1 A+ B+)``: all classifiers distinct (the balanced ETF at R = 1 is of this type),
* ``minority-collapse (M1 A+ B0)``: the minority contrast vanishes, ``w_k`` equal for k > K_A,
* ``minority-collapse-zero (M0 A+ B0)``: the minority classifiers and features are exactly zero
  (their cosine is undefined).

Thresholds.  A regime change is where one block's strict complementarity fails: the smaller
regime's dual margin reaches 0 (``gamma_g = -mu`` for a contrast, ``sigma_max`` of ``G_M`` off the
active subspace ``= mu`` for the mean block).  Each threshold is the root ``tau* = log R*`` of the
smaller regime's KKT system augmented by that smooth equation, solved by Newton in mpmath at
``digits + 15`` working digits.  A float64 continuation over a log-grid of R (plus R = 0 and
R = inf, where one group has zero weight) only brackets the changes; no threshold is bisected.

Certificate of a threshold: the augmented residual and last Newton step, the derivative of the
event function along the branch (nonzero: the regime really changes there), and the KKT
certificates of the two regimes at ``R*(1 -+ delta)``, each passing with positive margins.
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import SolverError, require
from lpm_verify.solvers.symmetric.certificate import certificate, certificate_ok
from lpm_verify.solvers.symmetric.continuation import Point, balanced_point, bisect_step, convert, solve_float, step
from lpm_verify.solvers.symmetric.kkt import System, equilibrate, jacobian, newton
from lpm_verify.solvers.symmetric.profile import GROUP_NAMES, Profile, Regime, parse_regime, regime_name


@dataclass
class Transition:
    """One regime change: ``R`` (mpmath.mpf) with ``from_regime`` below and ``to_regime`` above."""

    R: Any
    from_regime: str
    to_regime: str
    event: str
    certificate: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, digits: int) -> dict[str, Any]:
        # R was computed with digits + 15 working digits and keeps them: print the requested ones
        return {"R": mpmath.nstr(self.R, digits, strip_zeros=False), "from": self.from_regime,
                "to": self.to_regime, "event": self.event,
                "certificate": {k: _jsonable(v) for k, v in self.certificate.items()}}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (mpmath.mpf, mpmath.mpc)):
        return mpmath.nstr(v, 6)
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (np.floating, float)):
        return float(v)
    return v


def regime_of_X(X: np.ndarray, prof: Profile, rel_tol: float = 1e-5) -> Regime:
    """Regime of a (float) invariant-or-nearly ``X  # (2K, 2K)``, e.g. an SDP solution.

    Block sizes are compared with ``rel_tol * T``, ``T = K sqrt(E_H E_W)`` (SDP accuracy ~1e-8).
    """
    K, G = prof.K, prof.G
    Z = np.asarray(X, dtype=float)[:K, K:]  # (K, K) z_k(j) = h_k . w_j
    U = np.zeros((K, G))
    for k, g in enumerate(prof.class_groups):
        U[k, g] = 1 / math.sqrt(prof.counts[g])
    T = K * math.sqrt(prof.E_H * prof.E_W)
    sv = np.linalg.svd(U.T @ Z @ U, compute_uv=False)
    active = []
    for g, c in enumerate(prof.counts):
        if c == 1:
            active.append(None)
            continue
        idx = [k for k in range(K) if prof.class_groups[k] == g]
        block = Z[np.ix_(idx, idx)]
        s = (np.trace(block) - block.sum() / c) / (c - 1)
        active.append(bool(s > rel_tol * T))
    return Regime(int(np.sum(sv > rel_tol * T)), tuple(active))


def _pi_two(K_A: int, K_B: int, R: float) -> np.ndarray:
    if math.isinf(R):
        return np.array([1.0 / K_A, 0.0])
    if R == 0:
        return np.array([0.0, 1.0 / K_B])
    return np.array([R, 1.0]) / (K_A * R + K_B)


def _pi_two_mp(K_A: int, K_B: int, R: Any) -> np.ndarray:
    """``_pi_two`` at a finite ``R`` in the working mpmath precision."""
    Rm = mpmath.mpf(R)
    return np.array([Rm / (K_A * Rm + K_B), 1 / (K_A * Rm + K_B)], dtype=object)


class Family:
    """A two-size family of reduced KKT problems indexed by ``R``: what the threshold engine accepts.

    ``K_A`` classes of weight ``R``, ``K_B = K - K_A`` of weight 1.  A model enters the engine by
    mapping itself onto the reduced symmetric KKT system (:class:`~lpm_verify.solvers.symmetric.kkt.System`
    or a subclass, packed alike) and onto certified float64 points: Eq. 15 here (:class:`Eq7Family`), the
    penalized model in :mod:`lpm_verify.penalized_regimes`.  ``unbounded``: whether the problems at
    ``R = 0`` and ``R = inf`` (one group of weight 0) are scanned.
    """

    K: int
    K_A: int
    unbounded: bool = False

    @functools.cached_property
    def profile(self) -> Profile:
        """The two groups' profile (two groups also at ``R = 1``); its weights are unused: the fractions
        reach every system explicitly."""
        return Profile.two_size(self.K, self.K_A, 1.0, *self.budgets)

    @property
    def budgets(self) -> tuple[float, float]:
        return (1.0, 1.0)

    def pi(self, R: float) -> np.ndarray:
        return _pi_two(self.K_A, self.K - self.K_A, R)

    def start(self) -> Point:
        """Certified float64 point at ``R = 1`` with ``info["pi"]``."""
        raise NotImplementedError

    def at(self, R: float, warm: Point) -> Point:
        """Certified float64 point at ``R`` continued from ``warm``, with ``info["pi"]``."""
        raise NotImplementedError

    def fresh(self, R: float) -> Point:
        """Certified float64 point at ``R`` solved from scratch (an independent start)."""
        raise NotImplementedError

    def system(self, regime: Regime, pi: Any, event: tuple | None = None) -> System:
        """The regime's KKT system at fractions ``pi`` (or augmented by ``event``, ``pi = None``)."""
        raise NotImplementedError

    def certify(self, system: System, x: np.ndarray) -> dict[str, Any]:
        """The certificate of a KKT point (``kkt_residual``, ``min_margin``, ...)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Eq7Family(Family):
    """Eq. 15 for the two-size family with budgets ``E_W, E_H`` (continuation from Theorem 1's closed form)."""

    K: int
    K_A: int
    E_W: float
    E_H: float
    unbounded: bool = True

    @property
    def budgets(self) -> tuple[float, float]:
        return (self.E_W, self.E_H)

    def start(self) -> Point:
        point = balanced_point(self.profile)
        point.info["pi"] = self.pi(1.0)
        return point

    def at(self, R: float, warm: Point) -> Point:
        """One warm-started step, else bisection in the fractions from ``warm.info["pi"]``."""
        pi = self.pi(R)
        with np.errstate(all="ignore"):
            got = step(self.profile, pi, warm)
        point = got if got is not None else bisect_step(self.profile, warm.info["pi"], pi, warm, 0)
        point.info["pi"] = pi
        return point

    def fresh(self, R: float) -> Point:
        return solve_float(Profile.two_size(self.K, self.K_A, R, self.E_W, self.E_H))

    def system(self, regime: Regime, pi: Any, event: tuple | None = None) -> System:
        return System(self.profile, regime, pi, event)

    def certify(self, system: System, x: np.ndarray) -> dict[str, Any]:
        return certificate(system, x)


def scan(family: Family, log10_range: float = 8.0, per_decade: int = 6, below_one: bool = False
         ) -> list[tuple[float, Point]]:
    """Float64 continuation over ``R = 1 .. 10^L`` (and ``inf`` for an unbounded family), and
    ``10^-L .. 1`` (and 0) with ``below_one``, from the family's point at R = 1."""
    n = int(round(log10_range * per_decade))
    tail = [math.inf] if family.unbounded else []
    up = [10 ** (i / per_decade) for i in range(1, n + 1)] + tail
    down = [10 ** (-i / per_decade) for i in range(1, n + 1)] + ([0.0] if family.unbounded else [])
    start = family.start()
    out = [(1.0, start)]
    for grid, sign in ((up, 1), (down, -1))[:2 if below_one else 1]:
        point = start
        branch = []
        for R in grid:
            point = family.at(R, point)
            branch.append((R, point))
        out = (out + branch) if sign > 0 else (branch[::-1] + out)
    return out


def _n_blocks_changed(a: Regime, b: Regime) -> int:
    return abs(a.rank - b.rank) + sum(x != y for x, y in zip(a.active, b.active))


def _refine(family: Family, points: list[tuple[float, Point]], depth: int = 30) -> list[tuple[float, Point]]:
    """Insert grid points wherever adjacent regimes differ in more than one block (geometric
    midpoints), or differ next to R = 0 / R = inf (factors of 1e3 towards it), until every change
    sits in a finite interval holding a single block change (or ``depth`` insertions)."""
    out = [points[0]]
    for (R_hi, p_hi) in points[1:]:
        stack = [(R_hi, p_hi)]
        level = 0
        while stack:
            R_b, p_b = stack[-1]
            R_a, p_a = out[-1]
            changed = _n_blocks_changed(p_a.regime, p_b.regime)
            unbounded = R_a == 0 or math.isinf(R_b)
            if changed == 0 or (changed == 1 and not unbounded) or level >= depth:
                out.append(stack.pop())
                continue
            if R_a == 0:
                mid = R_b / 1e3
            elif math.isinf(R_b):
                mid = R_a * 1e3
            else:
                mid = math.sqrt(R_a * R_b)
            stack.append((mid, family.at(mid, p_a)))
            level += 1
    return out


def _narrow(family: Family, R_lo: float, p_lo: Point, R_hi: float, p_hi: Point, rel: float = 1e-3
            ) -> tuple[float, Point, float, Point]:
    """Bisect a finite bracket in float64 (continuation from its lower end) until ``R_hi / R_lo - 1 <= rel``.

    Newton on the threshold equation then starts next to the change: from a wide bracket the
    smaller regime's branch, extrapolated to the far end, can lead Newton to another root of the
    same equation (seen for K = 10, K_A = 7, E_W = E_H = 1, bracket [1, 1.47]).  A point whose regime
    is neither end's stops the bisection; the side certificates then report the bracket honestly.
    """
    while 0 < R_lo and not math.isinf(R_hi) and R_hi / R_lo - 1 > rel:
        mid = math.sqrt(R_lo * R_hi)
        point = family.at(mid, p_lo)
        if point.regime == p_lo.regime:
            R_lo, p_lo = mid, point
        elif point.regime == p_hi.regime:
            R_hi, p_hi = mid, point
        else:
            break
    return R_lo, p_lo, R_hi, p_hi


def _event_between(lo: Regime, hi: Regime) -> tuple[Regime, tuple]:
    """The single block that differs and the smaller regime (where that block is inactive)."""
    diffs = []
    if lo.rank != hi.rank:
        diffs.append(("rank",))
    for g, (a, b) in enumerate(zip(lo.active, hi.active)):
        if a != b:
            diffs.append(("contrast", g))
    if len(diffs) != 1 or (diffs[0][0] == "rank" and abs(lo.rank - hi.rank) != 1):
        raise SolverError(f"regimes {lo.label()} and {hi.label()} differ in more than one block between "
                          f"adjacent grid points; refine the grid (per_decade)")
    ev = diffs[0]
    if ev[0] == "rank":
        small = lo if lo.rank < hi.rank else hi
    else:
        small = lo if not lo.active[ev[1]] else hi
    return small, ev


def _event_name(ev: tuple) -> str:
    return "mean-block rank" if ev[0] == "rank" else f"group {GROUP_NAMES[ev[1]]} contrast"


def _solve_threshold(family: Family, small: Regime, ev: tuple, R_lo: float, p_lo: Point, R_hi: float,
                     p_hi: Point, digits: int) -> tuple[Any, dict, Point]:
    """``R*`` where the smaller regime's ``ev`` dual margin vanishes (augmented Newton, mpmath)."""
    prof = family.profile
    ref = p_lo if p_lo.regime == small else p_hi
    # smaller regime at both brackets (it is a smooth KKT branch on both sides of the threshold)
    taus, vals, xs = [], [], []
    for R in (R_lo, R_hi):
        R_eff = min(max(R, 1e-300), 1e300)  # finite after _refine; clipped only at depth exhaustion
        pi = family.pi(R_eff)
        sysR = family.system(small, pi)
        with np.errstate(all="ignore"):
            x, info = newton(sysR, ref.x.copy(), tol=1e-12 * prof.K * math.sqrt(prof.E_H * prof.E_W))
        A, B, s, mu, _ = sysR.unpack(x[None, :])
        GM, gamma, _ = sysR.gradient(A, B, s, pi[None])
        aug = family.system(small, None, ev)
        taus.append(math.log(R_eff))
        vals.append(float(aug.event_value(A, B, GM, gamma, mu)[0]))
        xs.append(x)
    t0 = taus[0] - vals[0] * (taus[1] - taus[0]) / (vals[1] - vals[0]) if vals[1] != vals[0] else sum(taus) / 2
    t0 = min(max(t0, min(taus)), max(taus))
    w = (t0 - taus[0]) / (taus[1] - taus[0]) if taus[1] != taus[0] else 0.5
    aug = family.system(small, None, ev)
    x0 = np.append((1 - w) * xs[0] + w * xs[1], t0)
    with np.errstate(all="ignore"):
        xf, info_f = newton(aug, x0, tol=1e-13)
    with mpmath.workdps(digits + 15):
        xm = bk.mp_array([mpmath.mpf(float(v)) for v in xf])
        xm, info = newton(aug, xm, tol=mpmath.mpf(10) ** (-(digits + 10)))
        tau = xm[-1]
        # transversality: d(event)/d(tau) along the smaller regime's branch (implicit derivative)
        J, _, wcol = equilibrate(aug, xm, jacobian(aug, xm), aug.residual(xm[None, :])[0])
        # J: (m, n), last row = event, last column = tau; columns scaled by wcol (x = wcol * y)
        Jm = mpmath.matrix(J[:-1, :-1].tolist())
        dy, _ = mpmath.qr_solve(Jm, mpmath.matrix((-J[:-1, -1]).tolist()))
        slope = J[-1, -1] + sum(J[-1, i] * dy[i] for i in range(len(xm) - 1))
        cert = {"augmented_residual": info["residual"], "newton_iterations": info["iterations"],
                "last_step": info["last_step"], "converged": info["converged"],
                "event_slope_dlogR": slope, "float_start_residual": info_f["residual"]}
        R = mpmath.exp(tau)  # an mpf keeps the precision it was made with
    point = Point(small, xf[:-1].copy(), {"pi": family.pi(math.exp(float(xf[-1])))})
    return R, cert, point


def _side_certificates(family: Family, R: Any, lo: Regime, hi: Regime, ref: Point, digits: int
                       ) -> dict[str, Any]:
    """Certify regime ``lo`` at ``R(1 - delta)`` and ``hi`` at ``R(1 + delta)`` in mpmath, ``delta = 1e-4``.

    ``ref`` is the float64 threshold point (smaller regime at ``R``).  ``delta`` is large enough for
    the float64 start to resolve the regime (the margins there are ~ delta * slope, far above
    float rounding) and small enough that the certified regimes are those adjacent to ``R``.
    """
    out: dict[str, Any] = {}
    K_A, K_B = family.K_A, family.K - family.K_A
    delta = 1e-4
    for name, reg, Rs in (("below", lo, float(R) * (1 - delta)), ("above", hi, float(R) * (1 + delta))):
        fl = family.at(Rs, ref)
        if fl.regime != reg:
            fl = family.fresh(Rs)
        entry: dict[str, Any] = {"R": Rs, "regime": reg.label(), "float_regime": fl.regime.label(), "ok": False}
        if fl.regime == reg:
            with mpmath.workdps(digits + 15):
                system = family.system(reg, _pi_two_mp(K_A, K_B, Rs))
                x, info = newton(system, bk.mp_array([mpmath.mpf(float(v)) for v in fl.x]),
                                 tol=mpmath.mpf(10) ** (-(digits + 8)))
                cert = family.certify(system, x)
                entry["ok"] = bool(info["converged"] and certificate_ok(cert, mpmath.mpf(10) ** (-(digits + 5))))
                entry.update({k: cert[k] for k in ("kkt_residual", "min_margin", "gap_bound") if k in cert})
        out[name] = entry
    return out


def transitions(family: Family, digits: int = 30, log10_range: float = 8.0, per_decade: int = 6,
                below_one: bool = False) -> list[Transition]:
    """Every regime change of ``family`` for ``R in [1, 10^L]`` (and ``inf`` for an unbounded family;
    ``below_one=True`` adds ``(0, 1)``), each to ``digits`` digits with its certificate, sorted by R."""
    require(isinstance(digits, int) and 15 <= digits <= 200, "digits", "an integer in [15, 200]", digits)
    points = _refine(family, scan(family, log10_range, per_decade, below_one))
    out = []
    for (R_lo, p_lo), (R_hi, p_hi) in zip(points, points[1:]):
        if p_lo.regime == p_hi.regime:
            continue
        t0 = time.perf_counter()
        R_lo, p_lo, R_hi, p_hi = _narrow(family, R_lo, p_lo, R_hi, p_hi)
        small, ev = _event_between(p_lo.regime, p_hi.regime)
        R, cert, at_R = _solve_threshold(family, small, ev, R_lo, p_lo, R_hi, p_hi, digits)
        lo_b, hi_b = (R_lo if R_lo > 0 else 0.0), R_hi
        with mpmath.workdps(digits + 15):
            inside = (R > lo_b) and (math.isinf(hi_b) or R < hi_b)
        sides = _side_certificates(family, R, p_lo.regime, p_hi.regime, at_R, digits)
        out.append(certified_transition(R, cert, small, ev, (R_lo, R_hi), bool(inside), sides, p_lo, p_hi, t0))
    return out


def find_thresholds(K: int, K_A: int, E_W: float, E_H: float, digits: int = 30, log10_range: float = 8.0,
                    per_decade: int = 6, below_one: bool = False) -> list[Transition]:
    """Every regime change of the two-size LPM (Eq. 15) for ``R in [1, inf]`` (the paper's
    ``R = n_A/n_B >= 1``; ``below_one=True`` adds ``(0, 1)``, the mirror image of the problem with
    ``K_A, K_B`` swapped), each to ``digits`` digits, sorted by R (:func:`transitions`)."""
    require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
    require(isinstance(K_A, int) and 0 < K_A < K, "K_A", f"an integer in [1, K-1] = [1, {K - 1}]", K_A)
    return transitions(Eq7Family(K, K_A, E_W, E_H), digits, log10_range, per_decade, below_one)


def certified_transition(R: Any, cert: dict, small: Any, ev: tuple, bracket: tuple[float, float], inside: bool,
                         sides: dict, p_lo: Any, p_hi: Any, t0: float) -> Transition:
    """The :class:`Transition` at root ``R``: its certificate completed with the bracket, the regimes on
    both sides, and the verdict (converged, inside the bracket, both sides certified, nonzero slope)."""
    cert.update({"smaller_regime": small.label(), "event_key": list(ev), "bracket": list(bracket),
                 "root_inside_bracket": inside, "sides": sides})
    cert["certified"] = bool(cert["converged"] and inside and all(v["ok"] for v in sides.values())
                             and abs(cert["event_slope_dlogR"]) > mpmath.mpf(10) ** (-6))
    cert["seconds"] = time.perf_counter() - t0
    return Transition(R, regime_name(p_lo.regime), regime_name(p_hi.regime), _event_name(ev), cert)


def event_at(family: Family, R: Any, smaller_regime: str, event_key: Any, digits: int = 30) -> Any:
    """The regime-boundary function of ``family`` at a candidate ``R`` (independent re-check of a threshold).

    Solves the KKT system of ``smaller_regime`` at ``R`` in mpmath (``digits + 15`` working digits)
    from an independent float64 solve, and returns the event's value (``1 + gamma_g / mu`` for
    ``("contrast", g)``, ``det(I - G_M^T G_M / mu^2)`` off the active subspace for ``("rank",)``): 0 at
    a true threshold, about ``slope * (R - R*)/R*`` near it.
    """
    small = parse_regime(smaller_regime)
    ev = tuple(event_key)
    Rf = float(R)
    point = family.fresh(Rf)
    x0 = point.x if point.regime == small else convert(point, point.regime, small, family.profile, family.pi(Rf))
    with mpmath.workdps(digits + 15):
        pi = _pi_two_mp(family.K_A, family.K - family.K_A, R)
        system = family.system(small, pi)
        x, info = newton(system, bk.mp_array([mpmath.mpf(float(v)) for v in x0]),
                         tol=mpmath.mpf(10) ** (-(digits + 8)))
        if not info["converged"]:
            raise SolverError(f"event_at: no KKT point of regime {smaller_regime} near R = {Rf:g}")
        A, B, s, mu, _ = system.unpack(x[None, :])
        GM, gamma, _ = system.gradient(A, B, s, pi[None, :])
        value = family.system(small, None, ev).event_value(A, B, GM, gamma, mu)[0]
    return +value
