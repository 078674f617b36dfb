"""Seeded multi-start L-BFGS-B, shared by the float64 solvers of Eq. 7 (nonconvex.py) and Eq. 12
(contrastive.py): the same scipy options, the same stopping rule and the same reading of it.

Stopping rule of a start: L-BFGS-B stops when the projected gradient has sup-norm ``<= tol``
(``converged``, reason ``projected-gradient``) or when an iteration changes the objective f by
``(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= FTOL`` (``converged``, reason ``relative-reduction``);
otherwise it stops at ``max_iter`` iterations or after a failed line search (``converged = False``,
reason ``max_iter`` / ``line-search-failed``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from scipy.optimize import OptimizeResult, minimize

from lpm_verify.errors import require

#: Relative objective reduction below which a start stops (scipy's L-BFGS-B ``ftol``).
FTOL = 1e-15


@dataclass
class Start:
    """One start's final L-BFGS-B result and how it stopped."""

    result: OptimizeResult
    converged: bool
    stop_reason: str


def check_options(starts: int, max_iter: int, tol: float) -> None:
    """Raise :class:`LPMInputError` unless ``starts, max_iter >= 1`` are integers and ``0 < tol < 1``."""
    require(isinstance(starts, int) and starts >= 1, "starts", "an integer >= 1", starts)
    require(isinstance(max_iter, int) and max_iter >= 1, "max_iter", "an integer >= 1", max_iter)
    require(isinstance(tol, float) and 0 < tol < 1, "tol", "a float in (0, 1)", tol)


def stop_reason(result: Any, max_iter: int) -> tuple[bool, str]:
    """``(converged, reason)`` of an L-BFGS-B result under the module's stopping rule."""
    message = str(result.message).upper().replace("_", " ")
    if "PROJECTED GRADIENT" in message:
        return True, "projected-gradient"
    if "REL REDUCTION" in message or "RELATIVE REDUCTION" in message:
        return True, "relative-reduction"
    if result.nit >= max_iter or "LIMIT" in message:
        return False, "max_iter"
    if "ABNORMAL" in message:
        return False, "line-search-failed"
    return False, f"lbfgsb: {result.message}"


def run_starts(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x0s: Iterable[np.ndarray],
               bounds: Sequence[tuple[float | None, float | None]], max_iter: int, tol: float) -> list[Start]:
    """Run L-BFGS-B on ``fun`` (objective and gradient) from each start in ``x0s``, in order."""
    runs = []
    for x0 in x0s:
        res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": max_iter, "gtol": tol, "ftol": FTOL, "maxcor": 20,
                                "maxfun": 4 * max_iter})
        runs.append(Start(res, *stop_reason(res, max_iter)))
    return runs
