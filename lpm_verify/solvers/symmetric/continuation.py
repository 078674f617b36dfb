"""Float64 solution of the reduced Eq. 15 and its mpmath refinement: one warm-started solve with regime
switching, the cvxpy fallback, and the continuation from the balanced closed form.

Switching: One float64 solve of the reduced Eq. 15 at fixed fractions ``pi``, warm-started: Newton in a
regime (:mod:`~lpm_verify.solvers.symmetric.kkt`), accepted only with a passing certificate
(:mod:`~lpm_verify.solvers.symmetric.certificate`), and regime switching where it fails.

Fallback: Last resort of the float64 continuation: the reduced convex program of Eq. 15 (the nuclear-norm
form, Eq. 91 on the invariant subspace) solved by cvxpy/Clarabel, then polished by Newton.

Continuation: Continuation for the reduced Eq. 15: from the balanced closed form (Theorem 1) along a homotopy in
the class weights to the target fractions (float64, bisecting failed steps, cvxpy as a last resort),
and Newton refinement in mpmath with the certificate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import mpmath
import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import SolverError
from lpm_verify.solvers.symmetric.certificate import certificate, certificate_ok, quick_certificate
from lpm_verify.solvers.symmetric.kkt import System, complement_gram, newton
from lpm_verify.solvers.symmetric.profile import GROUP_NAMES, Profile, Regime

# -- one warm-started float64 solve with regime switching -----------------------------------------------------------
@dataclass
class Point:
    """A reduced KKT point: its ``regime``, ``x`` packed as in :class:`~.kkt.System`, and ``info``
    (Newton statistics, the certificate, the fractions ``pi`` it solves)."""

    regime: Regime
    x: np.ndarray
    info: dict = field(default_factory=dict)


FLOAT_TOL = 1e-14  # relative to T; the mu-scaled residual reaches ~1e-16 T in float64


def tol_float(prof: Profile) -> float:
    """Float64 Newton tolerance: :data:`FLOAT_TOL` times ``max(1, T)``."""
    return FLOAT_TOL * max(1.0, prof.K * math.sqrt(prof.E_H * prof.E_W))


def convert(point: Point, old: Regime, new: Regime, prof: Profile, pi: np.ndarray, scale: float = 1e-3
            ) -> np.ndarray:
    """Initial ``x`` for regime ``new`` from a solution of regime ``old`` (one block switched); an
    opened block starts at ``scale * T`` (``T = K sqrt(E_H E_W)``)."""
    sys_old = System(prof, old, pi)
    A, B, s, mu, _ = sys_old.unpack(point.x[None, :])
    A, B, s, mu = A[0], B[0], s[0].copy(), mu[0]
    scale = scale * prof.K * math.sqrt(prof.E_H * prof.E_W)
    if new.rank < old.rank:
        keep = np.argsort(-np.linalg.norm(A, axis=0) * np.linalg.norm(B, axis=0))[:new.rank]
        A, B = A[:, keep], B[:, keep]
    elif new.rank > old.rank:
        GM, _, _ = sys_old.gradient(A[None], B[None], s[None], pi[None])
        # new column along the leading singular pair of G_M off the active subspace (G_M b = -mu a)
        v = np.linalg.eigh(complement_gram(A[None], B[None], GM)[0])[1][:, -1]
        u = -(GM[0] @ v)
        u = u / (np.linalg.norm(u) or 1.0)
        A = np.column_stack([A, math.sqrt(scale) * u])
        B = np.column_stack([B, math.sqrt(scale) * v])
    for g, (a_old, a_new) in enumerate(zip(old.active, new.active)):
        if a_new and not a_old:
            s[g] = scale
        elif a_old and not a_new:
            s[g] = 0.0
    A, B = gauge_fix(A, B)
    return System(prof, new, pi).pack(A, B, s, mu)


def gauge_fix(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate ``(A, B) -> (A Q, B Q)`` so that ``A`` is lower trapezoidal (the packed gauge)."""
    r = A.shape[1]
    if r <= 1:
        return A, B
    Q, _ = np.linalg.qr(A.T)  # A^T = Q R  ->  A Q = R^T lower trapezoidal
    return A @ Q, B @ Q


def try_regime(prof: Profile, pi: np.ndarray, regime: Regime, x0: np.ndarray) -> tuple[Point | None, dict | None]:
    """Newton in ``regime`` from ``x0``: (certified point or None, certificate when Newton converged)."""
    system = System(prof, regime, pi)
    tol = tol_float(prof)
    try:
        x, info = newton(system, x0, tol=tol)
        if not info["converged"] or not np.all(np.isfinite(x)):
            return None, None
        cert = quick_certificate(system, x)
    except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError):
        return None, None
    if not certificate_ok(cert, 1e3 * tol):
        return None, cert
    info["certificate"] = cert
    return Point(regime, x, info), cert


def _flip(regime: Regime, key: str) -> Regime:
    """The regime suggested by a violated margin ``key`` (see :func:`margins`)."""
    block, side = key.split("/")
    if block == "mean":
        return replace(regime, rank=regime.rank + (1 if side == "dual" else -1))
    act = list(regime.active)
    act[GROUP_NAMES.index(block)] = side == "dual"
    return Regime(regime.rank, tuple(act))


def step(prof: Profile, pi: np.ndarray, start: Point) -> Point | None:
    """Solve at ``pi`` warm-started from ``start``.

    Newton in ``start``'s regime first.  If it converges with a violated margin, the violated
    block is switched (an inactive block whose dual margin went negative opens; an active one whose
    primal margin went negative closes); otherwise the neighbouring regimes are tried, rank
    decrease first (a rank-r branch ends in a fold at the boundary, where Newton finds no root).
    """
    with np.errstate(all="ignore"):
        got, cert = try_regime(prof, pi, start.regime, start.x)
        if got is not None:
            return got
        order: list[Regime] = []
        if cert is not None:
            bad = sorted((v, k) for k, v in cert["margins"].items() if k != "mu" and v < 0)
            order = [_flip(start.regime, k) for _, k in bad]
        order += sorted(start.regime.neighbours(prof.G), key=lambda r: r.rank - start.regime.rank)
        seen = set()
        for reg in order:
            if reg in seen or not 0 <= reg.rank <= prof.G or (reg.rank == 0 and not any(reg.active)):
                continue
            seen.add(reg)
            for scale in (1e-3, 1e-6):
                got, _ = try_regime(prof, pi, reg, convert(start, start.regime, reg, prof, pi, scale))
                if got is not None:
                    return got
    return None


# -- last resort: the reduced convex program by cvxpy ---------------------------------------------------------------
#: Clarabel settings of :func:`fallback`, tried in turn: its defaults, then gap and feasibility
#: tolerances 1e-14.  Tiny budgets (e.g. E_W = 1e-6, ``T = K sqrt(E_H E_W)`` ~ 0.02) make the whole
#: loss landscape ~T flat, so the defaults' 1e-8 leave the rank of ``Z_M`` unreadable at ``1e-6 T``.
FALLBACK_SETTINGS: tuple[dict[str, float], ...] = ({}, {"tol_gap_abs": 1e-14, "tol_gap_rel": 1e-14,
                                                        "tol_feas": 1e-14})


def fallback(prof: Profile, pi: np.ndarray) -> Point:
    """Solve the reduced convex program with cvxpy/Clarabel, read off the regime, polish by Newton
    (at each of :data:`FALLBACK_SETTINGS` until a regime passes the certificate)."""
    for settings in FALLBACK_SETTINGS:
        got = _fallback_once(prof, pi, settings)
        if got is not None:
            got.info["pi"] = pi
            return got
    raise SolverError("symmetric solver: no regime passed the KKT certificate at this point (known to happen "
                      "for logit scales sqrt(E_W E_H) K/(K-1) above ~50 towards R = inf, where the loss is "
                      "~e^-scale); try method='sdp' (Clarabel), which flags a geometry it cannot resolve")


def _fallback_once(prof: Profile, pi: np.ndarray, settings: dict[str, float]) -> Point | None:
    import warnings

    import cvxpy as cp
    G = prof.G
    counts = np.array(prof.counts, dtype=float)
    sq = np.sqrt(np.outer(counts, counts))
    T = prof.K * math.sqrt(prof.E_H * prof.E_W)
    ZM = cp.Variable((G, G))
    s = cp.Variable(G, nonneg=True)
    terms = []
    for g in range(G):
        if pi[g] == 0:
            continue
        own = ZM[g, g] / counts[g] + s[g] * (1 - 1 / counts[g])
        logits = [own]
        if counts[g] > 1:
            logits.append(ZM[g, g] / counts[g] - s[g] / counts[g] + math.log(counts[g] - 1))
        logits += [ZM[g, h] / sq[g, h] + math.log(counts[h]) for h in range(G) if h != g]
        terms.append(counts[g] * pi[g] * (cp.log_sum_exp(cp.hstack(logits)) - own))
    cons = [cp.normNuc(ZM) + (counts - 1) @ s <= T]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "may be inaccurate": the certificate below decides
        cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms))), cons).solve(solver="CLARABEL", **settings)
    if ZM.value is None:
        raise SolverError("symmetric fallback: Clarabel found no solution of the reduced program; "
                          "try method='sdp'")
    U, S, Vt = np.linalg.svd(ZM.value)
    r = int(np.sum(S > 1e-6 * T))
    active = tuple(None if c == 1 else bool(s.value[g] > 1e-6 * T) for g, c in enumerate(prof.counts))
    A, B = gauge_fix(U[:, :r] * np.sqrt(S[:r]), Vt[:r].T * np.sqrt(S[:r]))
    sv = np.where([bool(a) for a in active], s.value, 0.0)
    mu = float(cons[0].dual_value)
    base = Regime(r, active)
    x0 = System(prof, base, pi).pack(A, B, sv, mu)
    start = Point(base, x0)
    with np.errstate(all="ignore"):
        got, _ = try_regime(prof, pi, base, x0)
        for reg in base.neighbours(G):
            if got is not None:
                break
            got, _ = try_regime(prof, pi, reg, convert(start, base, reg, prof, pi))
    return got


# -- continuation from the balanced closed form, mpmath refinement -------------------------------------------------
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
    spread = math.log10(wt.max()) - math.log10(wt.min())  # the ratio itself overflows past 1.8e308
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
