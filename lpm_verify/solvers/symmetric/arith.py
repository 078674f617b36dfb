"""Arithmetic of the symmetry-reduced solver of Eq. 15 that works alike on float64 / complex128
arrays and on numpy object arrays of mpmath numbers (batched inverse and determinant, ``log1p``,
the imaginary part used by the complex-step derivative of the KKT residual).
"""
from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

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
