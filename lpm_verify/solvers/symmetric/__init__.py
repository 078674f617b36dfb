"""Symmetry-reduced solution of Eq. 15 in float64 (fast path) and in mpmath (with a certificate).

Reduction.  Group the classes by their objective weight ``pi_k`` (class size, times the
oversampling weight of Eq. 18): ``G`` groups, group ``g`` with ``K_g`` classes of weight ``pi_g``.
Eq. 15 is invariant under permuting the classes of one group (simultaneously in the feature and the
classifier half of ``X``) and is convex, so it has an invariant minimizer.  An invariant
``X  # (2K, 2K)`` is block diagonal in the basis {normalized group indicators u_g} + {contrasts}:

* one ``2G x 2G`` block ``X_M`` on ``span{(u_g, 0), (0, u_g)}`` (group means of h and w), and
* for each group with ``K_g >= 2`` one ``2 x 2`` block ``S_g`` repeated ``K_g - 1`` times on
  the within-group contrasts,

and ``X >= 0`` iff ``X_M >= 0`` and every ``S_g >= 0``.  The logits only see the h-w part
``Z = X[:K, K:]``: ``Z_M = X_M[hw]  # (G, G)`` and ``s_g = S_g[hw]``.  Eliminating the h-h and
w-w parts with the budgets gives the equivalent nuclear-norm program (Eq. 91 restricted to the
invariant subspace, where ``||Z||_* = ||Z_M||_* + sum_g (K_g - 1)|s_g|``)::

    min  f(Z_M, s) = sum_g K_g pi_g log(1 + (K_g-1) e^{-s_g} + sum_{g'!=g} K_g' e^{C_gg' - C_gg - s_g(1-1/K_g)})
    s.t. ||Z_M||_* + sum_g (K_g - 1) s_g <= T = K sqrt(E_H E_W),     C_gg' = Z_M[g,g'] / sqrt(K_g K_g'),

and the optimal ``X`` is recovered as ``X_M = [[a A A^T, A B^T], [B A^T, B B^T / a]]``,
``S_g = s_g [[a, 1], [1, 1/a]]`` with ``Z_M = A B^T`` balanced (``A^T A = B^T B``) and
``a = sqrt(E_H / E_W)``, which saturates both budgets.

Regimes and KKT.  A regime fixes ``r = rank Z_M`` and which contrasts ``s_g`` are nonzero.  In a
regime the problem is smooth in ``x = (A, B, s_active, mu)`` (``A`` lower trapezoidal to fix the
rotation gauge) and the KKT conditions are the square(-plus-gauge) system ::

    G_M B + mu A = 0,   G_M^T A + mu B = 0,   df/ds_g + mu (K_g - 1) = 0  (g active),   budget = T,

with ``G_M = df/dZ_M``.  In terms of Eq. 15 the dual matrix is ``Lambda = [[l_H I, G/2],
[G^T/2, l_W I]]`` with ``l_H = mu/(2a)``, ``l_W = mu a/2``; it splits like ``X`` into
``Lambda_M = [[l_H I_G, G_M/2], [G_M^T/2, l_W I_G]]`` and ``Lambda_g = [[l_H, gamma_g/2],
[gamma_g/2, l_W]]`` (``gamma_g`` the contrast eigenvalue of ``G``).  Certificate: KKT residual,
``Lambda_M, Lambda_g >= 0``, ``mu > 0``, and the strict-complementarity margins of every block.
Newton's Jacobian is taken by the complex-step derivative (exact to rounding at any precision).
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import mpmath
import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import SolverError, require
from lpm_verify.problem import LPMProblem
from lpm_verify.solvers.base import LPMSolution
from lpm_verify.solvers.sdp import lemma1_factors

GROUP_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# =============================================================================================
# Profile and regime
# =============================================================================================
@dataclass(frozen=True)
class Profile:
    """Classes grouped by weight: ``counts[g] = K_g``, ``weights[g]`` the unnormalized weight of one
    class of group g (``w_k n_k``; 0 allowed, e.g. the minority at ``R = inf``), budgets, and
    ``class_groups[k]`` the group of class k (classes keep their order in the rebuilt ``X``)."""

    counts: tuple[int, ...]
    weights: tuple[float, ...]
    E_W: float
    E_H: float
    class_groups: tuple[int, ...]

    @property
    def G(self) -> int:
        return len(self.counts)

    @property
    def K(self) -> int:
        return sum(self.counts)

    def fractions(self, mp: bool = False) -> np.ndarray:
        """Per-class weight ``pi_g`` of each group, ``sum_g K_g pi_g = 1``  # (G,)."""
        conv = mpmath.mpf if mp else float
        w = [conv(x) for x in self.weights]
        total = sum(conv(c) * x for c, x in zip(self.counts, w))
        return np.array([x / total for x in w], dtype=object if mp else float)

    @classmethod
    def from_fractions(cls, pi: Sequence[float], E_W: float, E_H: float) -> "Profile":
        """Group equal entries of the class weights ``pi  # (K,)`` (first appearance order)."""
        pi = [float(x) for x in pi]
        require(len(pi) >= 2 and all(x >= 0 and math.isfinite(x) for x in pi) and sum(pi) > 0,
                "fractions", "K >= 2 finite nonnegative numbers, not all zero", pi)
        require(math.isfinite(E_W) and E_W > 0, "E_W", "a finite number > 0", E_W)
        require(math.isfinite(E_H) and E_H > 0, "E_H", "a finite number > 0", E_H)
        values: list[float] = []
        groups = []
        for x in pi:
            if x not in values:
                values.append(x)
            groups.append(values.index(x))
        counts = tuple(groups.count(g) for g in range(len(values)))
        return cls(counts, tuple(values), float(E_W), float(E_H), tuple(groups))

    @classmethod
    def from_problem(cls, problem: LPMProblem) -> "Profile":
        require(problem.loss.is_cross_entropy, "loss", "cross-entropy for the symmetric solver", problem.loss.name)
        w = problem.weights or (1.0,) * problem.K
        return cls.from_fractions([wk * nk for wk, nk in zip(w, problem.sizes)], problem.E_W, problem.E_H)

    @classmethod
    def two_size(cls, K: int, K_A: int, R: float, E_W: float, E_H: float, w_r: float = 1.0) -> "Profile":
        """``K_A`` classes of size ``R`` and ``K - K_A`` of size 1 (times ``w_r``), ``R`` in (0, inf]."""
        require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
        require(isinstance(K_A, int) and 0 < K_A < K, "K_A", f"an integer in [1, K-1] = [1, {K - 1}]", K_A)
        require(isinstance(R, (int, float)) and R > 0 and not math.isnan(R), "R", "a number > 0 (inf allowed)", R)
        require(w_r > 0 and math.isfinite(w_r), "w_r", "a finite number > 0", w_r)
        require(math.isfinite(E_W) and E_W > 0, "E_W", "a finite number > 0", E_W)
        require(math.isfinite(E_H) and E_H > 0, "E_H", "a finite number > 0", E_H)
        groups = (0,) * K_A + (1,) * (K - K_A)
        if math.isinf(R):
            return cls((K_A, K - K_A), (1.0, 0.0), float(E_W), float(E_H), groups)
        return cls((K_A, K - K_A), (float(R), float(w_r)), float(E_W), float(E_H), groups)


@dataclass(frozen=True)
class Regime:
    """``rank = rank Z_M`` (mean block) and, per group, whether its contrast block is nonzero
    (``None`` for a group of one class, which has no contrast)."""

    rank: int
    active: tuple[bool | None, ...]

    def label(self) -> str:
        """E.g. ``"M1 A+ B0"``: mean block of rank 1, group A's contrast active, group B's zero."""
        parts = [f"M{self.rank}"]
        for g, a in enumerate(self.active):
            parts.append(GROUP_NAMES[g] + ("-" if a is None else "+" if a else "0"))
        return " ".join(parts)

    @property
    def active_groups(self) -> list[int]:
        return [g for g, a in enumerate(self.active) if a]

    def n_free(self, G: int) -> int:
        r = self.rank
        return (G * r - r * (r - 1) // 2) + G * r + len(self.active_groups) + 1

    def neighbours(self, G: int) -> list["Regime"]:
        out = [replace(self, rank=r) for r in (self.rank - 1, self.rank + 1) if 0 <= r <= G]
        for g, a in enumerate(self.active):
            if a is not None:
                act = list(self.active)
                act[g] = not a
                out.append(Regime(self.rank, tuple(act)))
        return out


def regime_name(regime: Regime) -> str:
    """Readable name plus code for two groups (majority A, minority B), e.g.
    ``"minority-collapse (M1 A+ B0)"``; the bare code for other profiles.

    ``*-collapse``: that group's classifiers are all equal (contrast block zero); ``-zero``: and the
    mean block has rank 0, so they are all zero (their cosine is undefined).
    """
    code = regime.label()
    if len(regime.active) != 2:
        return code
    a, b = regime.active
    zero = "-zero" if regime.rank == 0 else ""
    if a is False and b is False:
        name = "all-collapse" + zero
    elif b is False or (b is None and regime.rank == 0):
        name = "minority-collapse" + zero
    elif a is False or (a is None and regime.rank == 0):
        name = "majority-collapse" + zero
    else:
        name = "distinct"
    return f"{name} ({code})"


def parse_regime(label: str) -> Regime:
    """Inverse of :meth:`Regime.label` (also accepts :func:`regime_name`'s ``"name (code)"``)."""
    if "(" in label:
        label = label[label.index("(") + 1:label.rindex(")")]
    head, *rest = label.split()
    return Regime(int(head[1:]), tuple(None if p[1] == "-" else p[1] == "+" for p in rest))


# =============================================================================================
# Arithmetic helpers (float64 / complex128 and numpy object arrays of mpmath numbers)
# =============================================================================================
_mp_im = np.frompyfunc(mpmath.im, 1, 1)
_mp_log1p = np.frompyfunc(mpmath.log1p, 1, 1)


def log1p(x: np.ndarray) -> np.ndarray:
    """``log(1 + x)`` elementwise, float64 or mpmath (accurate for tiny x, i.e. tiny losses)."""
    return _mp_log1p(x) if x.dtype == object else np.log1p(x)


def _inv_batched(M: np.ndarray) -> np.ndarray:
    """Inverse of each ``(r, r)`` matrix of a batch ``(b, r, r)``."""
    if M.dtype != object:
        return np.linalg.inv(M)
    out = np.empty_like(M)
    for i in range(M.shape[0]):
        out[i] = np.array(mpmath.inverse(mpmath.matrix(M[i].tolist())).tolist(), dtype=object)
    return out


def _det_obj(M: np.ndarray) -> Any:
    """Determinant by Gaussian elimination with partial pivoting and no singularity cut-off.

    (``mpmath.det`` returns exactly 0 for a nearly singular matrix, which would hide the small
    values and the complex-step derivatives of the regime-boundary equation.)
    """
    M = M.copy()
    n = M.shape[0]
    det: Any = 1
    for j in range(n):
        p = max(range(j, n), key=lambda i: abs(M[i, j]))
        if M[p, j] == 0:
            return M[p, j]
        if p != j:
            M[[j, p]] = M[[p, j]]
            det = -det
        det = det * M[j, j]
        M[j + 1:, j:] = M[j + 1:, j:] - np.outer(M[j + 1:, j] / M[j, j], M[j, j:])
    return det


def _det_batched(M: np.ndarray) -> np.ndarray:
    if M.dtype != object:
        return np.linalg.det(M)
    return np.array([_det_obj(M[i]) for i in range(M.shape[0])], dtype=object)


# =============================================================================================
# The reduced KKT system
# =============================================================================================
@dataclass(frozen=True)
class _System:
    """A regime's KKT system; with ``event`` it is augmented by one unknown ``tau = log R`` (two-size
    family) and the equation that the event's dual margin vanishes (a regime boundary)."""

    profile: Profile
    regime: Regime
    pi: Any = None            # (G,) fixed fractions, or None when tau is an unknown
    event: tuple | None = None  # ("contrast", g) or ("rank",)

    @property
    def G(self) -> int:
        return self.profile.G

    @property
    def mu_index(self) -> int:
        """Position of ``mu`` in ``x``."""
        r = self.regime.rank
        return (self.G * r - r * (r - 1) // 2) + self.G * r + len(self.regime.active_groups)

    def unpack(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any]:
        """Batch ``X  # (b, n)`` -> ``A, B  # (b, G, r)``, ``s  # (b, G)``, ``mu  # (b,)``, ``tau``."""
        G, r = self.G, self.regime.rank
        b = X.shape[0]
        A = np.zeros((b, G, r), dtype=X.dtype)
        i = 0
        for j in range(r):
            A[:, j:, j] = X[:, i:i + G - j]
            i += G - j
        B = X[:, i:i + G * r].reshape(b, G, r)
        i += G * r
        s = np.zeros((b, G), dtype=X.dtype)
        act = self.regime.active_groups
        if act:
            s[:, act] = X[:, i:i + len(act)]
        i += len(act)
        mu = X[:, i]
        tau = X[:, i + 1] if self.event is not None else None
        return A, B, s, mu, tau

    @property
    def n_grad(self) -> int:
        """Number of stationarity rows (they lead the residual)."""
        return 2 * self.G * self.regime.rank + len(self.regime.active_groups)

    def scaled(self, F: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Residual with the stationarity rows divided by ``mu``: relative accuracy also when the
        optimal loss and hence ``mu`` are tiny (large ``E_H E_W``)."""
        mu = abs(x[self.mu_index])
        return np.concatenate([F[:self.n_grad] / mu, F[self.n_grad:]])

    def pack(self, A: np.ndarray, B: np.ndarray, s: np.ndarray, mu: Any, tau: Any = None) -> np.ndarray:
        G, r = self.G, self.regime.rank
        parts = [A[j:, j] for j in range(r)] + [B.reshape(-1), s[self.regime.active_groups], np.array([mu])]
        if self.event is not None:
            parts.append(np.array([tau]))
        dtype = object if any(p.dtype == object for p in parts) else float
        return np.concatenate([p.astype(dtype) for p in parts])

    def fractions(self, tau: Any, b: int, dtype: Any) -> np.ndarray:
        """``pi  # (b, G)``; for the augmented system the two-size family with ``R = e^tau``."""
        if tau is None:
            return np.tile(np.asarray(self.pi, dtype=dtype), (b, 1))
        K_A, K_B = self.profile.counts
        eneg = bk.exp(-tau)  # 1/R
        piA = 1 / (K_A + K_B * eneg)
        return np.stack([piA, eneg * piA], axis=1)

    def _counts(self, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        """``K_g  # (G,)`` and ``sqrt(K_g K_g')  # (G, G)`` exactly in the working precision."""
        if dtype == object:
            counts = np.array([mpmath.mpf(c) for c in self.profile.counts], dtype=object)
            return counts, np.frompyfunc(mpmath.sqrt, 1, 1)(np.outer(counts, counts))
        return self._float_counts

    @functools.cached_property
    def _float_counts(self) -> tuple[np.ndarray, np.ndarray]:
        counts = np.array(self.profile.counts, dtype=float)
        return counts, np.sqrt(np.outer(counts, counts))

    def gradient(self, A: np.ndarray, B: np.ndarray, s: np.ndarray, pi: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``G_M  # (b, G, G)``, ``gamma  # (b, G)`` (contrast eigenvalue of dL/dZ) and ``D - 1  # (b, G)``
        (the loss of a class of group g is ``log D = log1p(D - 1)``)."""
        counts, sq = self._counts(A.dtype)
        Z = A @ np.swapaxes(B, 1, 2)  # (b, G, G)
        C = Z / sq
        Cd = np.diagonal(C, axis1=1, axis2=2)  # (b, G)
        own = Cd + s * (1 - 1 / counts)
        off = 1 - np.eye(self.G)
        E = bk.exp(C - own[:, :, None]) * off  # (b, G, G), other-group logits relative to own
        es = bk.exp(-s)  # same-group others relative to own
        other = np.sum(E * counts[None, None, :], axis=2)  # (b, G) mass of the other groups
        Dm1 = (counts - 1) * es + other  # D - 1, D = softmax denominator relative to the own logit
        D = 1 + Dm1
        # p_own - 1 = -(D - 1)/D written without the cancellation (tiny losses stay relative-accurate)
        GM = pi[:, :, None] * sq * (E / D[:, :, None])
        idx = np.arange(self.G)
        GM[:, idx, idx] = -pi * other / D
        gamma = -pi * (counts * es + other) / D  # pi (p_own - 1 - p_e)
        return GM, gamma, Dm1

    def residual(self, X: np.ndarray) -> np.ndarray:
        """KKT residual of the batch ``X  # (b, n)`` -> ``(b, m)`` (analytic: complex step applies)."""
        A, B, s, mu, tau = self.unpack(X)
        b = X.shape[0]
        pi = self.fractions(tau, b, X.dtype)
        GM, gamma, _ = self.gradient(A, B, s, pi)
        counts, _ = self._counts(X.dtype)
        T = self.profile.K * math.sqrt(self.profile.E_H * self.profile.E_W) if X.dtype != object else \
            self.profile.K * mpmath.sqrt(mpmath.mpf(self.profile.E_H) * mpmath.mpf(self.profile.E_W))
        FA = GM @ B + mu[:, None, None] * A
        FB = np.swapaxes(GM, 1, 2) @ A + mu[:, None, None] * B
        act = self.regime.active_groups
        Fs = gamma[:, act] * (counts[act] - 1) + mu[:, None] * (counts[act] - 1)
        used = (np.sum(A * A, axis=(1, 2)) + np.sum(B * B, axis=(1, 2))) / 2 + np.sum(s * (counts - 1), axis=1)
        parts = [FA.reshape(b, -1), FB.reshape(b, -1), Fs, (used - T)[:, None]]
        if self.event is not None:
            parts.append(self.event_value(A, B, GM, gamma, mu)[:, None])
        return np.concatenate(parts, axis=1)

    def event_value(self, A: np.ndarray, B: np.ndarray, GM: np.ndarray, gamma: np.ndarray, mu: np.ndarray
                    ) -> np.ndarray:
        """Smooth function that vanishes where the event's inactive block meets its dual bound."""
        if self.event[0] == "contrast":
            return 1 + gamma[:, self.event[1]] / mu  # gamma_g = -mu: contrast g about to open
        return _det_batched(np.eye(self.G) - _complement_gram(A, B, GM) / (mu * mu)[:, None, None])


def _complement_gram(A: np.ndarray, B: np.ndarray, GM: np.ndarray) -> np.ndarray:
    """``P_B G_M^T P_A G_M P_B`` with ``P_A, P_B`` the projectors off range(A), range(B)  # (b, G, G)."""
    b, G, r = A.shape
    eye = np.eye(G)
    if r == 0:
        PA = PB = np.tile(eye, (b, 1, 1))
    else:
        AtA = _inv_batched(np.swapaxes(A, 1, 2) @ A)
        BtB = _inv_batched(np.swapaxes(B, 1, 2) @ B)
        PA = eye - A @ AtA @ np.swapaxes(A, 1, 2)
        PB = eye - B @ BtB @ np.swapaxes(B, 1, 2)
    M = PA @ GM @ PB
    return np.swapaxes(M, 1, 2) @ M


def _jacobian(system: _System, x: np.ndarray) -> np.ndarray:
    """Complex-step Jacobian ``dF/dx  # (m, n)`` of :meth:`_System.residual`."""
    n = len(x)
    if x.dtype == object:
        h = mpmath.mpf(10) ** (-(mpmath.mp.dps + 10))
        Xb = np.empty((n, n), dtype=object)
        for i in range(n):
            for j in range(n):
                Xb[i, j] = mpmath.mpc(x[j], h if i == j else 0)
        return (_mp_im(system.residual(Xb)) / h).T
    h = 1e-30
    Xb = x[None, :] + 1j * h * np.eye(n)
    return (system.residual(Xb).imag / h).T


def _equilibrate(system: _System, x: np.ndarray, J: np.ndarray, F: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(diag(r) J diag(c), diag(r) F, c)``: stationarity rows over ``mu``, the ``mu`` column times ``mu``."""
    mp = x.dtype == object
    mu_abs = abs(x[system.mu_index])
    wrow = np.ones(len(F), dtype=object if mp else float)
    wrow[:system.n_grad] = 1 / mu_abs
    wcol = np.ones(len(x), dtype=object if mp else float)
    wcol[system.mu_index] = mu_abs
    return J * wrow[:, None] * wcol[None, :], F * wrow, wcol


def _newton(system: _System, x: np.ndarray, tol: Any, max_iter: int = 40) -> tuple[np.ndarray, dict]:
    """Damped Gauss-Newton on ``F(x) = 0`` (least squares absorbs the gauge equations).

    The line search uses ``max |F_i| / scale_i`` with the stationarity rows divided by ``mu`` (they
    are ``O(mu)`` while the budget row is ``O(1)``; their second-order errors after a full step are
    then of one size); convergence is judged on the plain ``max |F_i| <= tol``.
    """
    mp = x.dtype == object

    def norm(F: np.ndarray) -> Any:
        return max(abs(v) for v in F) if mp else float(np.max(np.abs(F)))

    def merit(F: np.ndarray, x: np.ndarray) -> Any:
        return norm(system.scaled(F, x))

    F = system.residual(x[None, :])[0]
    m = merit(F, x)
    res = m
    step_norm = None
    damped = 0
    for it in range(1, max_iter + 1):
        if not (res < float("inf")):
            break
        J = _jacobian(system, x)
        # rows scaled like the merit (stationarity / mu): the least-squares solve must not treat the
        # O(mu) rows as negligible next to the O(1) budget row when the loss (hence mu) is tiny
        # and the mu column scaled by |mu| (mu is solved for in relative terms)
        J, Fw, wcol = _equilibrate(system, x, J, F)
        if mp:
            dx_m, _ = mpmath.qr_solve(mpmath.matrix(J.tolist()), mpmath.matrix((-Fw).tolist()))
            dx = np.array([dx_m[i] for i in range(len(x))], dtype=object) * wcol
        else:
            dx = np.linalg.lstsq(J, -Fw, rcond=None)[0] * wcol
        t = 1
        while True:
            xn = x + t * dx
            Fn = system.residual(xn[None, :])[0]
            mn = merit(Fn, xn)
            rn = mn
            if mn < m or t < 1e-4 or (rn <= tol):
                break
            t = t / 2
        damped = damped + 1 if t < 1 else 0
        if (not mn < m and rn > tol) or damped >= 12:
            # no descent, or only damped steps: this regime's branch has no root near x
            return x, {"iterations": it, "residual": res, "last_step": step_norm, "converged": False}
        step_norm = norm(t * dx)
        x, F, res, m = xn, Fn, rn, mn
        # mpmath: residual and last step both below tol (quadratic convergence certified);
        # float64: the residual alone (a step after reaching rounding level only adds noise)
        if res <= tol and (not mp or step_norm <= tol):
            return x, {"iterations": it, "residual": res, "last_step": step_norm, "converged": True}
    return x, {"iterations": max_iter, "residual": res, "last_step": step_norm, "converged": bool(res <= tol)}


# =============================================================================================
# Margins and certificate
# =============================================================================================
def _singular_values(M: np.ndarray) -> list[Any]:
    if M.dtype == object:
        return list(mpmath.svd_r(mpmath.matrix(M.tolist()), compute_uv=False)) if M.size else []
    return list(np.linalg.svd(M, compute_uv=False))


def _min_eig(M: np.ndarray) -> Any:
    if M.dtype == object:
        return min(mpmath.eigsy(mpmath.matrix(M.tolist()), eigvals_only=True))
    return float(np.linalg.eigvalsh(M)[0])


def margins(system: _System, x: np.ndarray) -> dict[str, Any]:
    """Strict-complementarity margins of every block (all > 0 in the interior of the regime).

    ``mean/primal``: smallest nonzero singular value of ``Z_M`` (r >= 1);
    ``mean/dual``: ``mu - sigma_max`` of ``G_M`` off the active subspace (r < G);
    ``<g>/primal``: ``s_g`` (active contrast); ``<g>/dual``: ``mu - |gamma_g|`` (inactive contrast);
    ``mu``: the budget multiplier.
    """
    A, B, s, mu, tau = system.unpack(x[None, :])
    b = 1
    pi = system.fractions(tau, b, x.dtype)
    GM, gamma, _ = system.gradient(A, B, s, pi)
    out: dict[str, Any] = {"mu": mu[0]}
    r, G = system.regime.rank, system.G
    if r >= 1:
        out["mean/primal"] = min(_singular_values(A[0] @ B[0].T)[:r])
    if r < G:
        comp = _complement_gram(A, B, GM)[0]
        top = max(_singular_values(comp)) if comp.size else 0
        out["mean/dual"] = mu[0] - (mpmath.sqrt(top) if x.dtype == object else math.sqrt(max(top, 0.0)))
    for g, a in enumerate(system.regime.active):
        if a is None:
            continue
        name = GROUP_NAMES[g]
        if a:
            out[f"{name}/primal"] = s[0, g]
        else:
            out[f"{name}/dual"] = mu[0] - abs(gamma[0, g])
    return out


def certificate(system: _System, x: np.ndarray) -> dict[str, Any]:
    """KKT certificate of ``x`` in Eq. 15's terms (see module docstring).

    ``kkt_residual``: max |F| with the stationarity rows divided by ``mu`` (``kkt_residual_raw``:
    plain max |F|); ``dual_min_eig``: smallest eigenvalue of ``Lambda_M`` and of each
    ``Lambda_g`` (>= 0 up to rounding means dual feasible); ``multipliers``: ``l_H, l_W``;
    ``gap_bound``: ``<Lambda, X> + l_H slack_H + l_W slack_W`` bounds ``f(X) - min`` from above;
    ``margins``: :func:`margins`; ``min_margin``: the smallest of them.
    """
    mp = x.dtype == object
    prof = system.profile
    A, B, s, mu, tau = system.unpack(x[None, :])
    pi = system.fractions(tau, 1, x.dtype)
    GM, gamma, _ = system.gradient(A, B, s, pi)
    F = system.residual(x[None, :])[0]
    a = mpmath.sqrt(mpmath.mpf(prof.E_H) / prof.E_W) if mp else math.sqrt(prof.E_H / prof.E_W)
    lH, lW = mu[0] / (2 * a), mu[0] * a / 2
    G = prof.G
    eyeG = np.eye(G).astype(object) if mp else np.eye(G)
    LM = np.zeros((2 * G, 2 * G), dtype=GM.dtype)
    LM[:G, :G], LM[G:, G:] = lH * eyeG, lW * eyeG
    LM[:G, G:], LM[G:, :G] = GM[0] / 2, GM[0].T / 2
    XM, Sg = _blocks(prof, A[0], B[0], s[0], a)
    dual = {"mean": _min_eig(LM)}
    compl = np.sum(LM * XM)
    for g, c in enumerate(prof.counts):
        if c >= 2:
            Lg = np.array([[lH, gamma[0, g] / 2], [gamma[0, g] / 2, lW]], dtype=LM.dtype)
            dual[GROUP_NAMES[g]] = _min_eig(Lg)
            compl = compl + (c - 1) * np.sum(Lg * Sg[g])
    K = prof.K
    trH = a * (np.sum(A * A) + np.sum(s[0] * (np.array(prof.counts) - 1)))
    trW = (np.sum(B * B) + np.sum(s[0] * (np.array(prof.counts) - 1))) / a
    slackH, slackW = K * prof.E_H - trH, K * prof.E_W - trW
    gap = abs(compl) + abs(lH * slackH) + abs(lW * slackW)
    m = margins(system, x)
    return {
        "regime": system.regime.label(),
        "kkt_residual": max(abs(v) for v in system.scaled(F, x)),
        "kkt_residual_raw": max(abs(v) for v in F),
        "dual_min_eig": dual,
        "multipliers": {"lambda_H": lH, "lambda_W": lW},
        "complementarity": compl,
        "gap_bound": gap,
        "margins": m,
        "min_margin": min(m.values()),
    }


def quick_certificate(system: _System, x: np.ndarray) -> dict[str, Any]:
    """Residual and margins only (the regime test of the float64 continuation).

    The margins already decide dual feasibility: ``Lambda_M >= 0`` iff ``sigma_max(G_M) <= mu``
    (``mean/dual``, the active part equals ``mu`` by stationarity) and ``Lambda_g >= 0`` iff
    ``|gamma_g| <= mu`` (``<g>/dual``); :func:`certificate` adds the eigenvalues and the gap bound.
    """
    F = system.residual(x[None, :])[0]
    m = margins(system, x)
    return {"regime": system.regime.label(), "kkt_residual": max(abs(v) for v in system.scaled(F, x)),
            "dual_min_eig": {}, "margins": m, "min_margin": min(m.values())}


def certificate_ok(cert: dict[str, Any], tol: Any) -> bool:
    """True iff ``mu > 0``, the (mu-scaled) KKT residual <= tol, every dual block is PSD and every
    dual margin >= 0 up to ``-tol * mu`` (dual quantities scale with ``mu``), and every primal
    margin > tol.

    Primal margins must be strictly positive: a rank-r system also has the degenerate solutions of
    lower rank (a zero column of ``A``, ``B``), which belong to the smaller regime.  At a regime
    boundary the smaller regime passes (its dual margin is ~0).
    """
    m = cert["margins"]
    mu = m["mu"]
    return (mu > 0 and cert["kkt_residual"] <= tol
            and all(v >= -tol * mu for v in cert["dual_min_eig"].values())
            and all(v >= -tol * mu for k, v in m.items() if k.endswith("/dual"))
            and all(v > tol for k, v in m.items() if k.endswith("/primal")))


# =============================================================================================
# Reconstruction of X, cosines
# =============================================================================================
def _blocks(prof: Profile, A: np.ndarray, B: np.ndarray, s: np.ndarray, a: Any) -> tuple[np.ndarray, list]:
    """``X_M  # (2G, 2G)`` and the ``S_g  # (2, 2)`` blocks of the balanced factorization."""
    G = A.shape[0]
    XM = np.zeros((2 * G, 2 * G), dtype=object if A.dtype == object else float)
    XM[:G, :G], XM[:G, G:] = a * (A @ A.T), A @ B.T
    XM[G:, :G], XM[G:, G:] = B @ A.T, (B @ B.T) / a
    Sg = [np.array([[a * s[g], s[g]], [s[g], s[g] / a]], dtype=XM.dtype) for g in range(prof.G)]
    return XM, Sg


def rebuild_X(prof: Profile, XM: np.ndarray, Sg: Sequence[np.ndarray]) -> np.ndarray:
    """Full invariant ``X  # (2K, 2K)`` from the mean block and the contrast blocks (class order kept)."""
    K, G = prof.K, prof.G
    mp = XM.dtype == object
    sqrt = mpmath.sqrt if mp else math.sqrt
    U = np.zeros((K, G), dtype=XM.dtype)
    for k, g in enumerate(prof.class_groups):
        U[k, g] = 1 / sqrt(mpmath.mpf(prof.counts[g]) if mp else prof.counts[g])
    X = np.zeros((2 * K, 2 * K), dtype=XM.dtype)
    for i in range(2):
        for j in range(2):
            X[i * K:(i + 1) * K, j * K:(j + 1) * K] = U @ XM[i * G:(i + 1) * G, j * G:(j + 1) * G] @ U.T
    for g in range(G):
        idx = np.array([k for k in range(K) if prof.class_groups[k] == g])
        c = mpmath.mpf(prof.counts[g]) if mp else float(prof.counts[g])
        P = np.eye(len(idx)) - np.full((len(idx), len(idx)), 1 / c, dtype=XM.dtype)  # contrast projector
        for i in range(2):
            for j in range(2):
                X[np.ix_(i * K + idx, j * K + idx)] += Sg[g][i, j] * P
    return X


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


# =============================================================================================
# Solving one point: Newton in a regime, regime switching, continuation
# =============================================================================================
@dataclass
class _Point:
    regime: Regime
    x: np.ndarray
    info: dict = field(default_factory=dict)


FLOAT_TOL = 1e-14  # relative to T; the mu-scaled residual reaches ~1e-16 T in float64


def _tol_float(prof: Profile) -> float:
    return FLOAT_TOL * max(1.0, prof.K * math.sqrt(prof.E_H * prof.E_W))


def _convert(point: _Point, old: Regime, new: Regime, prof: Profile, pi: np.ndarray, scale: float = 1e-3
             ) -> np.ndarray:
    """Initial ``x`` for regime ``new`` from a solution of regime ``old`` (one block switched); an
    opened block starts at ``scale * T`` (``T = K sqrt(E_H E_W)``)."""
    sys_old = _System(prof, old, pi)
    A, B, s, mu, _ = sys_old.unpack(point.x[None, :])
    A, B, s, mu = A[0], B[0], s[0].copy(), mu[0]
    scale = scale * prof.K * math.sqrt(prof.E_H * prof.E_W)
    if new.rank < old.rank:
        keep = np.argsort(-np.linalg.norm(A, axis=0) * np.linalg.norm(B, axis=0))[:new.rank]
        A, B = A[:, keep], B[:, keep]
    elif new.rank > old.rank:
        GM, _, _ = sys_old.gradient(A[None], B[None], s[None], pi[None])
        # new column along the leading singular pair of G_M off the active subspace (G_M b = -mu a)
        v = np.linalg.eigh(_complement_gram(A[None], B[None], GM)[0])[1][:, -1]
        u = -(GM[0] @ v)
        u = u / (np.linalg.norm(u) or 1.0)
        A = np.column_stack([A, math.sqrt(scale) * u])
        B = np.column_stack([B, math.sqrt(scale) * v])
    for g, (a_old, a_new) in enumerate(zip(old.active, new.active)):
        if a_new and not a_old:
            s[g] = scale
        elif a_old and not a_new:
            s[g] = 0.0
    A, B = _gauge_fix(A, B)
    return _System(prof, new, pi).pack(A, B, s, mu)


def _gauge_fix(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate ``(A, B) -> (A Q, B Q)`` so that ``A`` is lower trapezoidal (the packed gauge)."""
    r = A.shape[1]
    if r <= 1:
        return A, B
    Q, _ = np.linalg.qr(A.T)  # A^T = Q R  ->  A Q = R^T lower trapezoidal
    return A @ Q, B @ Q


def _try(prof: Profile, pi: np.ndarray, regime: Regime, x0: np.ndarray) -> tuple[_Point | None, dict | None]:
    """Newton in ``regime`` from ``x0``: (certified point or None, certificate when Newton converged)."""
    system = _System(prof, regime, pi)
    tol = _tol_float(prof)
    try:
        x, info = _newton(system, x0, tol=tol)
        if not info["converged"] or not np.all(np.isfinite(x)):
            return None, None
        cert = quick_certificate(system, x)
    except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError):
        return None, None
    if not certificate_ok(cert, 1e3 * tol):
        return None, cert
    info["certificate"] = cert
    return _Point(regime, x, info), cert


def _flip(regime: Regime, key: str) -> Regime:
    """The regime suggested by a violated margin ``key`` (see :func:`margins`)."""
    block, side = key.split("/")
    if block == "mean":
        return replace(regime, rank=regime.rank + (1 if side == "dual" else -1))
    act = list(regime.active)
    act[GROUP_NAMES.index(block)] = side == "dual"
    return Regime(regime.rank, tuple(act))


def _step(prof: Profile, pi: np.ndarray, start: _Point) -> _Point | None:
    """Solve at ``pi`` warm-started from ``start``.

    Newton in ``start``'s regime first.  If it converges with a violated margin, the violated
    block is switched (an inactive block whose dual margin went negative opens; an active one whose
    primal margin went negative closes); otherwise the neighbouring regimes are tried, rank
    decrease first (a rank-r branch ends in a fold at the boundary, where Newton finds no root).
    """
    with np.errstate(all="ignore"):
        got, cert = _try(prof, pi, start.regime, start.x)
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
                got, _ = _try(prof, pi, reg, _convert(start, start.regime, reg, prof, pi, scale))
                if got is not None:
                    return got
    return None


def balanced_point(prof: Profile) -> _Point:
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
    A, B = _gauge_fix(A, B)
    regime = Regime(r, tuple(None if k == 1 else True for k in prof.counts))
    s = np.array([c if k >= 2 else 0.0 for k in prof.counts])
    mu = math.exp(-c) / (1 + (K - 1) * math.exp(-c))
    pi = np.full(G, 1.0 / K)
    return _Point(regime, _System(prof, regime, pi).pack(A, B, s, mu))


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


def solve_float(prof: Profile, start: _Point | None = None) -> _Point:
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
        point = _bisect_step(prof, prev_pi, pi, point, depth=0)
        prev_pi = pi
    point.info["pi"] = pi_target
    return point


def _bisect_step(prof: Profile, pi0: np.ndarray, pi1: np.ndarray, point: _Point, depth: int) -> _Point:
    got = _step(prof, pi1, point)
    if got is not None:
        got.info["pi"] = pi1
        return got
    if depth >= 8:
        return _fallback(prof, pi1)
    counts = np.array(prof.counts, dtype=float)
    mid = np.sqrt(np.where(pi0 > 0, pi0, pi1 * 1e-12) * np.where(pi1 > 0, pi1, pi0 * 1e-12))
    mid = mid / np.sum(counts * mid)
    half = _bisect_step(prof, pi0, mid, point, depth + 1)
    return _bisect_step(prof, mid, pi1, half, depth + 1)


def _fallback(prof: Profile, pi: np.ndarray) -> _Point:
    """Solve the reduced convex program with cvxpy/Clarabel, read off the regime, polish by Newton."""
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
    cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms))), cons).solve(solver="CLARABEL")
    if ZM.value is None:
        raise SolverError("symmetric fallback: Clarabel found no solution of the reduced program; "
                          "try method='sdp'")
    U, S, Vt = np.linalg.svd(ZM.value)
    r = int(np.sum(S > 1e-6 * T))
    active = tuple(None if c == 1 else bool(s.value[g] > 1e-6 * T) for g, c in enumerate(prof.counts))
    A, B = _gauge_fix(U[:, :r] * np.sqrt(S[:r]), Vt[:r].T * np.sqrt(S[:r]))
    sv = np.where([bool(a) for a in active], s.value, 0.0)
    mu = float(cons[0].dual_value)
    base = Regime(r, active)
    x0 = _System(prof, base, pi).pack(A, B, sv, mu)
    start = _Point(base, x0)
    with np.errstate(all="ignore"):
        got, _ = _try(prof, pi, base, x0)
        for reg in base.neighbours(G):
            if got is not None:
                break
            got, _ = _try(prof, pi, reg, _convert(start, base, reg, prof, pi))
    if got is None:
        raise SolverError("symmetric solver: no regime passed the KKT certificate at this point; "
                          "use method='sdp' (Clarabel) for this instance")
    got.info["pi"] = pi
    return got


def refine_mp(prof: Profile, point: _Point, digits: int) -> tuple[np.ndarray, dict]:
    """Newton in mpmath at ``digits + 15`` working digits from a float64 point; returns (x, info)."""
    pi = prof.fractions(mp=True)
    system = _System(prof, point.regime, pi)
    x = bk.mp_array([mpmath.mpf(float(v)) for v in point.x])
    tol = mpmath.mpf(10) ** (-(digits + 8))
    x, info = _newton(system, x, tol=tol)
    info["certificate"] = certificate(system, x)
    return x, info


# =============================================================================================
# Public entry point
# =============================================================================================
def solution_from_point(prof: Profile, regime: Regime, x: np.ndarray, pi: Any) -> dict[str, Any]:
    """Everything derived from a reduced point: X, objective, cosines, norms."""
    mp = x.dtype == object
    system = _System(prof, regime, pi)
    A, B, s, mu, _ = system.unpack(x[None, :])
    piB = system.fractions(None, 1, x.dtype)
    _, _, Dm1 = system.gradient(A, B, s, piB)
    counts = np.array(prof.counts, dtype=float)
    objective = np.sum(counts * piB[0] * log1p(Dm1[0]))
    a = mpmath.sqrt(mpmath.mpf(prof.E_H) / prof.E_W) if mp else math.sqrt(prof.E_H / prof.E_W)
    XM, Sg = _blocks(prof, A[0], B[0], s[0], a)
    X = rebuild_X(prof, XM, Sg)
    return {"X": X, "X_M": XM, "S": Sg, "objective": objective, "mu": mu[0],
            "groups": _group_cosines(prof, B[0], s[0], a, X)}


def summary_from_point(prof: Profile, point: _Point) -> dict[str, float]:
    """Float cosines and norms straight from the reduced scalars (no ``2K x 2K`` rebuild).

    With ``w_ww`` the classifier Gram: within group g ``cos = (BB_gg - s_g) / (BB_gg + (K_g-1) s_g)``;
    ``cos_all`` averages all ordered pairs; NaN where a classifier is zero or a group has one class.
    """
    system = _System(prof, point.regime, point.info.get("pi", prof.fractions()))
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
                    start: _Point | None = None) -> LPMSolution:
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
        cert = certificate(_System(prof, point.regime, pi), x)
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
