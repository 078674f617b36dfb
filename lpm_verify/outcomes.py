"""Builders of a check's :class:`~lpm_verify.records.Outcome`: equality, inequality, a printed formula
against the derived truth, and a skip.  A NaN or inf anywhere makes the error NaN, so the verdict is
``fail`` (an inequality or equality with a non-finite side proves nothing)."""
from __future__ import annotations

import cmath
from typing import Any

import mpmath
import numpy as np

from lpm_verify.records import Outcome, jsonable, short
from lpm_verify.verdict_rule import as_float


def _entries(x: Any) -> list[Any]:
    """The scalars of ``x`` (a scalar, a sequence, a float array or an object array of mpf)."""
    arr = np.asarray(x, dtype=object if isinstance(x, np.ndarray) and x.dtype == object else None)
    return [arr.item()] if arr.shape == () else list(arr.ravel())


def _is_finite(v: Any) -> bool:
    """Whether ``v`` is a finite number; NaN, +-inf and anything that is not a number are not."""
    if isinstance(v, (mpmath.mpf, mpmath.mpc)):
        return bool(mpmath.isfinite(v))
    try:
        return cmath.isfinite(complex(v))
    except (TypeError, ValueError, OverflowError):
        return False


def all_finite(*values: Any) -> bool:
    """Whether every entry of every value is a finite number (vectorised for float arrays)."""
    for x in values:
        if isinstance(x, np.ndarray) and x.dtype != object:
            if not bool(np.isfinite(x).all()):
                return False
        elif not all(_is_finite(v) for v in _entries(x)):
            return False
    return True


def _maxabs(x: Any) -> Any:
    """Largest |entry| of ``x`` at the entries' own precision; NaN if any entry is not finite.

    Python's ``max`` skips a NaN that is not first, so non-finite entries are decided first."""
    if not all_finite(x):
        return float("nan")
    return max(abs(v) for v in _entries(x))


def compare(expected: Any, observed: Any, relative: bool = False, **detail: Any) -> Outcome:
    """Outcome for "observed equals expected": error = max |difference| (divided by max |expected| if
    relative).  A NaN or inf anywhere in ``expected`` or ``observed`` makes the error NaN (``fail``)."""
    if not all_finite(expected, observed):
        return Outcome(expected, observed, float("nan"),
                       detail={"error": "non-finite entry in expected or observed", **detail})
    diff = _maxabs(np.asarray(observed) - np.asarray(expected)) if np.ndim(expected) else abs(observed - expected)
    if relative:
        scale = _maxabs(expected) if np.ndim(expected) else abs(expected)
        diff = diff / scale if scale else diff
    return Outcome(expected, observed, as_float(diff), detail={"error": "relative" if relative else "absolute", **detail})


def at_most(lhs: Any, rhs: Any, **detail: Any) -> Outcome:
    """Outcome for the inequality ``lhs <= rhs`` (elementwise): error = largest violation, 0 if it holds.
    A NaN or inf on either side makes the error NaN (``fail``): an inequality with inf proves nothing."""
    left, right = np.broadcast_arrays(np.asarray(lhs, dtype=object), np.asarray(rhs, dtype=object))
    if not all_finite(left, right):
        return Outcome(f"<= {short(rhs)}", short(lhs), float("nan"),
                       detail={"largest lhs - rhs": "non-finite entry", "points": int(left.size), **detail})
    worst = max((a - b for a, b in zip(left.ravel(), right.ravel())), key=as_float)
    return Outcome(f"<= {short(rhs)}", short(lhs), max(0.0, as_float(worst)),
                   detail={"largest lhs - rhs": as_float(worst), "points": int(left.size), **detail})


def printed_vs_derived(printed_value: Any, derived_value: Any, corrected_value: Any, *, printed: str,
                       corrected: str, evidence: str, relative: bool = False, **detail: Any) -> Outcome:
    """Outcome for a formula as printed: ``pass`` if it equals the derived truth, ``erratum`` if only
    ``corrected`` does.  The printed form is always checked first; the corrected one never replaces it."""
    base = compare(derived_value, printed_value, relative=relative, **detail)
    alt = compare(derived_value, corrected_value, relative=relative)
    base.printed, base.corrected, base.corrected_error, base.evidence = printed, corrected, alt.error, evidence
    base.detail["corrected value"] = jsonable(corrected_value)
    return base


def skipped(reason: str, **detail: Any) -> Outcome:
    """Outcome for a check that cannot run here (e.g. an optional solver is absent)."""
    return Outcome(None, None, float("nan"), detail=detail, skip_reason=reason)
