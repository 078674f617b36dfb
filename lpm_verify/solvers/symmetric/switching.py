"""One float64 solve of the reduced Eq. 15 at fixed fractions ``pi``, warm-started: Newton in a
regime (:mod:`~lpm_verify.solvers.symmetric.kkt`), accepted only with a passing certificate
(:mod:`~lpm_verify.solvers.symmetric.certificate`), and regime switching where it fails.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from lpm_verify.solvers.symmetric.certificate import certificate_ok, quick_certificate
from lpm_verify.solvers.symmetric.kkt import System, complement_gram, newton
from lpm_verify.solvers.symmetric.profile import GROUP_NAMES, Profile, Regime


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
