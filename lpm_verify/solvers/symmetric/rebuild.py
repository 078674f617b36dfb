"""The full invariant ``X`` of Eq. 15 from the reduced variables.

With ``Z_M = A B^T`` balanced (``A^T A = B^T B``) and ``a = sqrt(E_H / E_W)`` the blocks are
``X_M = [[a A A^T, A B^T], [B A^T, B B^T / a]]`` and ``S_g = s_g [[a, 1], [1, 1/a]]``, which
saturate both budgets; ``X  # (2K, 2K)`` is ``X_M`` on the normalized group indicators plus
``S_g`` on each group's contrasts.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import mpmath
import numpy as np

from lpm_verify.solvers.symmetric.profile import Profile


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
