"""The penalized LPM (:mod:`lpm_verify.penalized`, form (P)) reduced by symmetry, in float64 and mpmath.

Group the classes by ``pi_k`` as for Eq. 15 (:class:`~lpm_verify.solvers.symmetric.Profile`).  The
weight ``diag(sqrt(pi))`` is constant on each group, so it commutes with the block structure of an
invariant ``Z`` (group-mean block ``Z_M``, contrasts ``s_g``; the rows of ``Z_M`` are the feature side,
as in :mod:`~lpm_verify.solvers.symmetric.kkt`).  In the variables ``Y_M = diag(sqrt(pi_g)) Z_M`` and
``t_g = sqrt(pi_g) s_g`` (P) reads::

    min  f(diag(pi)^{-1/2} Y_M, t / sqrt(pi)) + c (||Y_M||_* + sum_g (K_g - 1) t_g),

i.e. the reduced Eq. 15 with the budget replaced by the penalty ``c``.  Its KKT system in a regime is
:class:`~lpm_verify.solvers.symmetric.kkt.System`'s with the chain-rule gradient ``diag(pi)^{-1/2} G_M``,
``gamma_g / sqrt(pi_g)``, and the budget row replaced by ``mu = c``; the dual margins (``c - sigma_max``
off the active subspace, ``c - |gamma_g|``) are then the subgradient conditions of the nuclear norm,
so residual + margins (``quick_certificate``) certify optimality of the convex problem (P).

Float64 solve: L-BFGS-B on the smooth form ``Y_M = A B^T`` (``A, B  # (G, G)``), ``t >= 0``, the regime
read off, then Newton in that regime (neighbouring regimes if the margins fail).  mpmath: Newton at
``digits + 15`` working digits from the float point, with the certificate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import mpmath
import numpy as np
from scipy.optimize import minimize

from lpm_verify import backend as bk
from lpm_verify.errors import SolverError
from lpm_verify.solvers.symmetric import Profile, Regime
from lpm_verify.solvers.symmetric.certificate import certificate_ok, quick_certificate
from lpm_verify.solvers.symmetric.continuation import Point, gauge_fix
from lpm_verify.solvers.symmetric.kkt import System, log1p, newton

#: Float64 Newton tolerance on the (c-scaled) KKT residual; the reduced problem has O(1) entries.
FLOAT_TOL = 1e-13
#: Relative size (to the largest entry) below which L-BFGS-B's singular values / contrasts count as zero
#: when reading off a regime guess; Newton and the margins then decide.
_ZERO = 1e-5


@dataclass(frozen=True)
class PenalizedSystem(System):
    """The reduced KKT system of (P) in one regime (see the module docstring); ``x`` packs
    ``(A, B, t_active, mu)`` like :class:`System` (``mu`` is pinned to ``c`` by the last row)."""

    lambda_W: float = 1.0
    lambda_H: float = 1.0

    def weight(self, dtype: Any) -> Any:
        """``c = sqrt(lambda_W lambda_H)`` in the working precision."""
        if dtype == object:
            return mpmath.sqrt(mpmath.mpf(self.lambda_W) * mpmath.mpf(self.lambda_H))
        return math.sqrt(self.lambda_W * self.lambda_H)

    def gradient(self, A: np.ndarray, B: np.ndarray, s: np.ndarray, pi: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gradient in ``(Y_M, t)``: ``(diag(pi)^{-1/2} G_M, gamma / sqrt(pi), D - 1)``."""
        root = bk.sqrt(pi)  # (b, G)
        GM, gamma, Dm1 = super().gradient(A / root[:, :, None], B, s / root, pi)
        return GM / root[:, :, None], gamma / root, Dm1

    def residual(self, X: np.ndarray) -> np.ndarray:
        F = super().residual(X)
        mu = self.unpack(X)[3]
        F[:, self.n_grad] = mu - self.weight(X.dtype if X.dtype == object else float)
        return F


def penalized_profile(pi: Any) -> Profile:
    """Group the class fractions ``pi  # (K,)``; the profile's ``E_W, E_H`` are unused by (P) (set to 1)."""
    return Profile.from_fractions(list(pi), 1.0, 1.0)


def system(prof: Profile, regime: Regime, pi: Any, lambda_W: float, lambda_H: float,
           event: tuple | None = None) -> PenalizedSystem:
    return PenalizedSystem(prof, regime, pi, event, lambda_W=lambda_W, lambda_H=lambda_H)


def objective_value(sys_: PenalizedSystem, x: np.ndarray) -> Any:
    """(P)'s value at a packed point ``x`` (loss + ``c`` times the reduced nuclear norm)."""
    A, B, s, mu, tau = sys_.unpack(x[None, :])
    pi = sys_.fractions(tau, 1, x.dtype)
    _, _, Dm1 = sys_.gradient(A, B, s, pi)
    counts = np.array(sys_.profile.counts, dtype=float)
    loss = np.sum(counts * pi[0] * log1p(Dm1[0]))
    if x.dtype == object:
        counts = np.array([mpmath.mpf(c) for c in sys_.profile.counts], dtype=object)
    nuc = (np.sum(A * A) + np.sum(B * B)) / 2 + np.sum(s[0] * (counts - 1))
    return loss + sys_.weight(x.dtype) * nuc


def _lbfgs(prof: Profile, pi: np.ndarray, lambda_W: float, lambda_H: float, x0: np.ndarray | None,
           seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smooth float64 solve over ``A, B  # (G, G)`` and ``t >= 0``: returns ``(Y_M, t, value)``."""
    G = prof.G
    full = Regime(G, tuple(None if c == 1 else True for c in prof.counts))
    sys_ = system(prof, full, pi, lambda_W, lambda_H)
    c = sys_.weight(float)
    counts = np.array(prof.counts, dtype=float)
    has = counts >= 2

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        A, B, t = x[:G * G].reshape(1, G, G), x[G * G:2 * G * G].reshape(1, G, G), x[2 * G * G:][None]
        t = np.where(has, t, 0.0)
        GM, gamma, Dm1 = sys_.gradient(A, B, t, pi[None])
        f = float(np.sum(counts * pi * np.log1p(Dm1[0]))) + c * (
            (np.sum(A * A) + np.sum(B * B)) / 2 + float(np.sum(t[0] * (counts - 1))))
        gA, gB = GM[0] @ B[0] + c * A[0], GM[0].T @ A[0] + c * B[0]
        gt = np.where(has, (gamma[0] + c) * (counts - 1), 0.0)
        return f, np.concatenate([gA.ravel(), gB.ravel(), gt])

    if x0 is None:
        rng = np.random.default_rng(seed)
        x0 = np.concatenate([rng.standard_normal(2 * G * G), np.ones(G)])
    bounds = [(None, None)] * (2 * G * G) + [(0.0, None)] * G
    res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 20000, "gtol": 1e-13, "ftol": 1e-16, "maxcor": 30})
    A, B = res.x[:G * G].reshape(G, G), res.x[G * G:2 * G * G].reshape(G, G)
    return A @ B.T, np.where(has, res.x[2 * G * G:], 0.0), res.x


def _pack(sys_: PenalizedSystem, Y: np.ndarray, t: np.ndarray, c: float) -> np.ndarray:
    """Packed ``x`` of ``sys_``'s regime from a float ``(Y_M, t)`` (balanced factors of ``Y_M``)."""
    U, S, Vt = np.linalg.svd(Y)
    r = sys_.regime.rank
    A, B = gauge_fix(U[:, :r] * np.sqrt(S[:r]), Vt[:r].T * np.sqrt(S[:r]))
    t = np.array([t[g] if a else 0.0 for g, a in enumerate(sys_.regime.active)])
    return sys_.pack(A, B, t, c)


def _guess(prof: Profile, Y: np.ndarray, t: np.ndarray) -> Regime:
    sv = np.linalg.svd(Y, compute_uv=False)
    top = max(float(sv.max(initial=0.0)), float(t.max(initial=0.0)), 1e-300)
    return Regime(int(np.sum(sv > _ZERO * top)),
                  tuple(None if c == 1 else bool(t[g] > _ZERO * top) for g, c in enumerate(prof.counts)))


def newton_point(prof: Profile, pi: np.ndarray, lambda_W: float, lambda_H: float, regime: Regime,
                 x0: np.ndarray) -> Point | None:
    """Newton in ``regime`` from ``x0``; a :class:`Point` only if its float certificate passes."""
    sys_ = system(prof, regime, pi, lambda_W, lambda_H)
    with np.errstate(all="ignore"):
        try:
            x, info = newton(sys_, x0, tol=FLOAT_TOL)
        except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError):
            return None
        if not info["converged"] or not np.all(np.isfinite(x)):
            return None
        cert = quick_certificate(sys_, x)
    if not certificate_ok(cert, 1e3 * FLOAT_TOL):
        return None
    info["certificate"] = cert
    info["pi"] = pi
    return Point(regime, x, info)


def solve_float(prof: Profile, lambda_W: float, lambda_H: float, warm: Point | None = None) -> Point:
    """Certified float64 KKT point of (P) at ``prof``'s fractions: Newton from ``warm`` (same regime),
    else L-BFGS-B, its regime and the neighbouring regimes."""
    pi = prof.fractions()
    c = math.sqrt(lambda_W * lambda_H)
    if warm is not None:
        got = newton_point(prof, pi, lambda_W, lambda_H, warm.regime, warm.x)
        if got is not None:
            return got
    Y, t, _ = _lbfgs(prof, pi, lambda_W, lambda_H, None)
    first = _guess(prof, Y, t)
    tried = []
    for reg in [first] + first.neighbours(prof.G) + [replace(first, rank=r) for r in range(prof.G + 1)]:
        if reg in tried:
            continue
        tried.append(reg)
        got = newton_point(prof, pi, lambda_W, lambda_H, reg, _pack(system(prof, reg, pi, lambda_W, lambda_H), Y, t, c))
        if got is not None:
            return got
    raise SolverError(f"penalized symmetric solver: no certified KKT point near the L-BFGS-B solution "
                      f"(regimes tried: {[r.label() for r in tried]})")


def refine_mp(prof: Profile, point: Point, lambda_W: float, lambda_H: float, digits: int
              ) -> tuple[np.ndarray, dict]:
    """Newton in mpmath at ``digits + 15`` working digits from a float point; ``info["certificate"]``
    is the residual-and-margins certificate, ``info["ok"]`` whether it passes at ``10^-(digits+5)``."""
    with mpmath.workdps(digits + 15):
        pi = prof.fractions(mp=True)
        sys_ = system(prof, point.regime, pi, lambda_W, lambda_H)
        x, info = newton(sys_, bk.mp_array([mpmath.mpf(float(v)) for v in point.x]),
                         tol=mpmath.mpf(10) ** (-(digits + 8)))
        cert = quick_certificate(sys_, x)
        info["certificate"] = cert
        info["ok"] = bool(info["converged"] and certificate_ok(cert, mpmath.mpf(10) ** (-(digits + 5))))
        info["objective"] = objective_value(sys_, x)
    return x, info


def reduced_summary(prof: Profile, point: Point, lambda_W: float, lambda_H: float) -> dict[str, Any]:
    """Objective of (P), ``Z_M`` and contrasts ``s_g`` (unscaled), and the within-group classifier cosine.

    Classifier Gram in the group basis: with the balanced factors the classifier side of ``Y`` is
    ``B``, so within group g ``cos = (BB_gg - t_g) / (BB_gg + (K_g - 1) t_g)`` (NaN for a one-class group
    or a zero classifier).
    """
    pi = point.info.get("pi", prof.fractions())
    sys_ = system(prof, point.regime, pi, lambda_W, lambda_H)
    A, B, t, _, _ = sys_.unpack(point.x[None, :])
    A, B, t = A[0], B[0], t[0]
    BB = B @ B.T
    out: dict[str, Any] = {"objective": float(objective_value(sys_, point.x)), "regime": point.regime,
                           "Z_M": (A @ B.T) / np.sqrt(pi)[:, None], "s": t / np.sqrt(pi)}
    for g, k in enumerate(prof.counts):
        den = BB[g, g] + (k - 1) * t[g]
        out[f"cos_{g}"] = float((BB[g, g] - t[g]) / den) if k >= 2 and den > 1e-14 else math.nan
        out[f"norm2_{g}"] = float(den / k)
    return out
