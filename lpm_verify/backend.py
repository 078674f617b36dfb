"""Elementwise arithmetic that works on float64 arrays and on object arrays of mpmath numbers.

Every formula in :mod:`lpm_verify.losses`, :mod:`lpm_verify.problem` and
:mod:`lpm_verify.geometry` is written once against these functions, so the same definition is
evaluated in float64 (fast path, solvers) and in mpmath at any working precision (identity checks).
An array is "multiprecision" when its dtype is ``object``; :func:`mp_array` builds one.
"""
from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

_mp_exp = np.frompyfunc(mpmath.exp, 1, 1)
_mp_log = np.frompyfunc(mpmath.log, 1, 1)
_mp_sqrt = np.frompyfunc(mpmath.sqrt, 1, 1)


def is_mp(x: Any) -> bool:
    """True for an mpmath scalar or an object array (the multiprecision representation)."""
    if isinstance(x, (mpmath.mpf, mpmath.mpc)):
        return True
    return isinstance(x, np.ndarray) and x.dtype == object


def mp_array(x: Any) -> np.ndarray:
    """Object array of ``mpmath.mpf`` at the current ``mpmath.mp.dps`` (strings parsed exactly)."""
    arr = np.asarray(x, dtype=object)
    return np.frompyfunc(mpmath.mpf, 1, 1)(arr) if arr.shape else np.asarray(mpmath.mpf(arr.item()), dtype=object)


def to_float(x: Any) -> np.ndarray:
    """Float64 view of a float or multiprecision array."""
    return np.asarray(np.asarray(x, dtype=object).astype(float) if is_mp(x) else x, dtype=float)


def exp(x: Any) -> Any:
    """Elementwise exponential in the precision of ``x``."""
    return _mp_exp(x) if is_mp(x) else np.exp(x)


def log(x: Any) -> Any:
    """Elementwise natural logarithm in the precision of ``x``."""
    return _mp_log(x) if is_mp(x) else np.log(x)


def sqrt(x: Any) -> Any:
    """Elementwise square root in the precision of ``x``."""
    return _mp_sqrt(x) if is_mp(x) else np.sqrt(x)


def logsumexp(z: Any, axis: int = -1) -> Any:
    """``log(sum(exp(z)))`` along ``axis``, shifted by the maximum for stability."""
    zmax = np.max(z, axis=axis, keepdims=True)
    s = np.sum(exp(z - zmax), axis=axis, keepdims=True)
    return np.squeeze(zmax + log(s), axis=axis)


def softmax(z: Any, axis: int = -1) -> Any:
    """Softmax transform S(z) of Section 3.B along ``axis``."""
    zmax = np.max(z, axis=axis, keepdims=True)
    e = exp(z - zmax)
    return e / np.sum(e, axis=axis, keepdims=True)
