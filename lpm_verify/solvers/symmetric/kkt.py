"""The reduced KKT system of Eq. 15 in one regime, its Jacobian and Newton (float64 or mpmath), the
arithmetic they share, and the full ``X`` rebuilt from the reduced variables.

The reduced KKT system of Eq. 15 in one regime, its Jacobian, and Newton (float64 or mpmath).

In the symmetry-reduced variables Eq. 15 is the nuclear-norm program (Eq. 91 on the invariant
subspace; see :mod:`lpm_verify.solvers.symmetric`) ::

    min  f(Z_M, s)   s.t.  ||Z_M||_* + sum_g (K_g - 1) s_g <= T = K sqrt(E_H E_W).

A regime fixes ``r = rank Z_M`` and which contrasts ``s_g`` are nonzero.  In a regime the problem
is smooth in ``x = (A, B, s_active, mu)`` (``Z_M = A B^T`` balanced, ``A`` lower trapezoidal to fix
the rotation gauge) and the KKT conditions are the square(-plus-gauge) system ::

    G_M B + mu A = 0,   G_M^T A + mu B = 0,   df/ds_g + mu (K_g - 1) = 0  (g active),   budget = T,

with ``G_M = df/dZ_M``.  Newton's Jacobian is taken by the complex-step derivative (exact to
rounding at any precision).

Arithmetic: Arithmetic of the symmetry-reduced solver of Eq. 15 that works alike on float64 / complex128
arrays and on numpy object arrays of mpmath numbers (batched inverse and determinant, ``log1p``,
the imaginary part used by the complex-step derivative of the KKT residual).

Rebuild: The full invariant ``X`` of Eq. 15 from the reduced variables.

With ``Z_M = A B^T`` balanced (``A^T A = B^T B``) and ``a = sqrt(E_H / E_W)`` the blocks are
``X_M = [[a A A^T, A B^T], [B A^T, B B^T / a]]`` and ``S_g = s_g [[a, 1], [1, 1/a]]``, which
saturate both budgets; ``X  # (2K, 2K)`` is ``X_M`` on the normalized group indicators plus
``S_g`` on each group's contrasts.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import mpmath
import numpy as np

from lpm_verify import backend as bk
from lpm_verify.solvers.symmetric.profile import Profile, Regime

# -- arithmetic alike on float64 / complex128 arrays and object arrays of mpmath numbers --------------------------
mp_im = np.frompyfunc(mpmath.im, 1, 1)  # imaginary part of an mpc array (complex-step derivative)
_mp_log1p = np.frompyfunc(mpmath.log1p, 1, 1)


def log1p(x: np.ndarray) -> np.ndarray:
    """``log(1 + x)`` elementwise, float64 or mpmath (accurate for tiny x, i.e. tiny losses)."""
    return _mp_log1p(x) if x.dtype == object else np.log1p(x)


def inv_batched(M: np.ndarray) -> np.ndarray:
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


def det_batched(M: np.ndarray) -> np.ndarray:
    if M.dtype != object:
        return np.linalg.det(M)
    return np.array([_det_obj(M[i]) for i in range(M.shape[0])], dtype=object)


# -- the full invariant X from the reduced variables -----------------------------------------------------------------
def blocks(prof: Profile, A: np.ndarray, B: np.ndarray, s: np.ndarray, a: Any) -> tuple[np.ndarray, list]:
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


# -- the reduced KKT system of one regime ------------------------------------------------------------------------------
@dataclass(frozen=True)
class System:
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
    def n_extra(self) -> int:
        """Unknowns of a reduced model beyond Eq. 15's (none here; e.g. a last-layer bias), packed after
        the contrasts and returned as the columns ``G ..`` of ``s``."""
        return 0

    @property
    def mu_index(self) -> int:
        """Position of ``mu`` in ``x``."""
        r = self.regime.rank
        return (self.G * r - r * (r - 1) // 2) + self.G * r + len(self.regime.active_groups) + self.n_extra

    def unpack(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any]:
        """Batch ``X  # (b, n)`` -> ``A, B  # (b, G, r)``, ``s  # (b, G + n_extra)``, ``mu  # (b,)``, ``tau``."""
        G, r = self.G, self.regime.rank
        b = X.shape[0]
        A = np.zeros((b, G, r), dtype=X.dtype)
        i = 0
        for j in range(r):
            A[:, j:, j] = X[:, i:i + G - j]
            i += G - j
        B = X[:, i:i + G * r].reshape(b, G, r)
        i += G * r
        s = np.zeros((b, G + self.n_extra), dtype=X.dtype)
        act = self.regime.active_groups
        if act:
            s[:, act] = X[:, i:i + len(act)]
        i += len(act)
        s[:, G:] = X[:, i:i + self.n_extra]
        i += self.n_extra
        mu = X[:, i]
        tau = X[:, i + 1] if self.event is not None else None
        return A, B, s, mu, tau

    @property
    def n_grad(self) -> int:
        """Number of stationarity rows (they lead the residual)."""
        return 2 * self.G * self.regime.rank + len(self.regime.active_groups) + self.n_extra

    def scaled(self, F: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Residual with the stationarity rows divided by ``mu``: relative accuracy also when the
        optimal loss and hence ``mu`` are tiny (large ``E_H E_W``)."""
        mu = abs(x[self.mu_index])
        return np.concatenate([F[:self.n_grad] / mu, F[self.n_grad:]])

    def pack(self, A: np.ndarray, B: np.ndarray, s: np.ndarray, mu: Any, tau: Any = None) -> np.ndarray:
        r = self.regime.rank
        parts = [A[j:, j] for j in range(r)] + [B.reshape(-1), s[self.regime.active_groups], s[self.G:],
                                                np.array([mu])]
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

    def gradient(self, A: np.ndarray, B: np.ndarray, s: np.ndarray, pi: np.ndarray, bias: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``G_M  # (b, G, G)``, ``gamma  # (b, G)`` (contrast eigenvalue of dL/dZ) and ``D - 1  # (b, G)``
        (the loss of a class of group g is ``log D = log1p(D - 1)``); ``bias  # (b, G)`` adds ``bias[g']``
        to every logit of a class of group g'."""
        counts, sq = self._counts(A.dtype)
        Z = A @ np.swapaxes(B, 1, 2)  # (b, G, G)
        C = Z / sq if bias is None else Z / sq + bias[:, None, :]
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
        FA = GM @ B + mu[:, None, None] * A
        FB = np.swapaxes(GM, 1, 2) @ A + mu[:, None, None] * B
        act = self.regime.active_groups
        Fs = gamma[:, act] * (counts[act] - 1) + mu[:, None] * (counts[act] - 1)
        parts = [FA.reshape(b, -1), FB.reshape(b, -1), Fs, self.extra_rows(A, B, s, pi),
                 self.constraint_row(A, B, s, mu, pi)[:, None]]
        if self.event is not None:
            parts.append(self.event_value(A, B, GM, gamma, mu)[:, None])
        return np.concatenate(parts, axis=1)

    def extra_rows(self, A: np.ndarray, B: np.ndarray, s: np.ndarray, pi: np.ndarray) -> np.ndarray:
        """Stationarity rows of the :attr:`n_extra` unknowns  # (b, n_extra) (none for Eq. 15)."""
        return np.zeros((A.shape[0], 0), dtype=A.dtype)

    def constraint_row(self, A: np.ndarray, B: np.ndarray, s: np.ndarray, mu: np.ndarray, pi: np.ndarray
                       ) -> np.ndarray:
        """The row that fixes ``mu``: Eq. 15's budget ``||Z_M||_* + sum_g (K_g - 1) s_g = T``  # (b,)."""
        counts, _ = self._counts(A.dtype)
        T = self.profile.K * math.sqrt(self.profile.E_H * self.profile.E_W) if A.dtype != object else \
            self.profile.K * mpmath.sqrt(mpmath.mpf(self.profile.E_H) * mpmath.mpf(self.profile.E_W))
        used = (np.sum(A * A, axis=(1, 2)) + np.sum(B * B, axis=(1, 2))) / 2 + np.sum(s * (counts - 1), axis=1)
        return used - T

    def event_value(self, A: np.ndarray, B: np.ndarray, GM: np.ndarray, gamma: np.ndarray, mu: np.ndarray
                    ) -> np.ndarray:
        """Smooth function that vanishes where the event's inactive block meets its dual bound."""
        if self.event[0] == "contrast":
            return 1 + gamma[:, self.event[1]] / mu  # gamma_g = -mu: contrast g about to open
        return det_batched(np.eye(self.G) - complement_gram(A, B, GM) / (mu * mu)[:, None, None])


def complement_gram(A: np.ndarray, B: np.ndarray, GM: np.ndarray) -> np.ndarray:
    """``P_B G_M^T P_A G_M P_B`` with ``P_A, P_B`` the projectors off range(A), range(B)  # (b, G, G)."""
    b, G, r = A.shape
    eye = np.eye(G)
    if r == 0:
        PA = PB = np.tile(eye, (b, 1, 1))
    else:
        AtA = inv_batched(np.swapaxes(A, 1, 2) @ A)
        BtB = inv_batched(np.swapaxes(B, 1, 2) @ B)
        PA = eye - A @ AtA @ np.swapaxes(A, 1, 2)
        PB = eye - B @ BtB @ np.swapaxes(B, 1, 2)
    M = PA @ GM @ PB
    return np.swapaxes(M, 1, 2) @ M


def jacobian(system: System, x: np.ndarray) -> np.ndarray:
    """Complex-step Jacobian ``dF/dx  # (m, n)`` of :meth:`System.residual`."""
    n = len(x)
    if x.dtype == object:
        h = mpmath.mpf(10) ** (-(mpmath.mp.dps + 10))
        Xb = np.empty((n, n), dtype=object)
        for i in range(n):
            for j in range(n):
                Xb[i, j] = mpmath.mpc(x[j], h if i == j else 0)
        return (mp_im(system.residual(Xb)) / h).T
    h = 1e-30
    Xb = x[None, :] + 1j * h * np.eye(n)
    return (system.residual(Xb).imag / h).T


def equilibrate(system: System, x: np.ndarray, J: np.ndarray, F: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(diag(r) J diag(c), diag(r) F, c)``: stationarity rows over ``mu``, the ``mu`` column times ``mu``."""
    mp = x.dtype == object
    mu_abs = abs(x[system.mu_index])
    wrow = np.ones(len(F), dtype=object if mp else float)
    wrow[:system.n_grad] = 1 / mu_abs
    wcol = np.ones(len(x), dtype=object if mp else float)
    wcol[system.mu_index] = mu_abs
    return J * wrow[:, None] * wcol[None, :], F * wrow, wcol


def newton(system: System, x: np.ndarray, tol: Any, max_iter: int = 40) -> tuple[np.ndarray, dict]:
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
        J = jacobian(system, x)
        # rows scaled like the merit (stationarity / mu): the least-squares solve must not treat the
        # O(mu) rows as negligible next to the O(1) budget row when the loss (hence mu) is tiny
        # and the mu column scaled by |mu| (mu is solved for in relative terms)
        J, Fw, wcol = equilibrate(system, x, J, F)
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
