"""What every LPM solver returns, and the registry of the conic solvers that cvxpy can call.

Shaped after cvxpy (``settings.py``, ``reductions/solvers/defines.py``): statuses are grouped in
sets that callers test membership in; :data:`SOLVERS` is a preference-ordered map of solver
descriptions and :func:`installed_solvers` is computed from it; a failed solve raises
:class:`~lpm_verify.errors.SolverError` naming the solver and the fix, an inaccurate one warns and
is kept in the record with its status.
"""
from __future__ import annotations

import importlib
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import SolverError, SolverNotInstalledError

# -- statuses (cvxpy's strings) -----------------------------------------------------------------
OPTIMAL = "optimal"
OPTIMAL_INACCURATE = "optimal_inaccurate"
STATUS_OPTIMAL = frozenset({OPTIMAL})
STATUS_INACCURATE = frozenset({OPTIMAL_INACCURATE})
STATUS_SOLUTION_PRESENT = STATUS_OPTIMAL | STATUS_INACCURATE
STATUS_FAILED = frozenset({"infeasible", "unbounded", "infeasible_inaccurate", "unbounded_inaccurate",
                           "infeasible_or_unbounded", "solver_error", "user_limit", None})


class InaccurateSolutionWarning(UserWarning):
    """A solver stopped at ``optimal_inaccurate``: the result is kept, with that status."""


class SolverFallbackWarning(UserWarning):
    """``solver="auto"`` did not find a licensed MOSEK and used the next solver instead."""


@dataclass(frozen=True)
class ConicSolver:
    """One cvxpy backend: user-facing ``name``, cvxpy's name, the module to import, licensing."""

    name: str
    cvxpy_name: str
    module: str
    needs_license: bool = False
    fix: str = ""

    def is_installed(self) -> bool:
        """True when the Python package imports."""
        try:
            importlib.import_module(self.module)
        except Exception:
            return False
        return True

    def license_found(self) -> bool:
        """For MOSEK: ``$MOSEKLM_LICENSE_FILE`` or ``~/mosek/mosek.lic`` exists; always True otherwise."""
        if not self.needs_license:
            return True
        env = os.environ.get("MOSEKLM_LICENSE_FILE")
        candidates = [Path(p) for p in env.split(os.pathsep)] if env else []
        candidates.append(Path.home() / "mosek" / "mosek.lic")
        return any(p.is_file() for p in candidates)

    def available(self) -> bool:
        return self.is_installed() and self.license_found()


# Preference order: first available entry wins in "auto" mode (MOSEK only when licensed).
SOLVERS: dict[str, ConicSolver] = {s.name: s for s in [
    ConicSolver("mosek", "MOSEK", "mosek", needs_license=True,
                fix="pip install mosek and place a license at ~/mosek/mosek.lic or set MOSEKLM_LICENSE_FILE"),
    ConicSolver("clarabel", "CLARABEL", "clarabel", fix="pip install clarabel"),
    ConicSolver("scs", "SCS", "scs", fix="pip install scs"),
]}


def installed_solvers() -> list[str]:
    """Names of the registered solvers that import here (licensing not checked), in preference order."""
    return [name for name, s in SOLVERS.items() if s.is_installed()]


def resolve_solver(name: str) -> tuple[ConicSolver, str | None]:
    """The solver for ``name`` ("clarabel", "scs", "mosek" or "auto") and a note when auto fell back.

    Raises :class:`SolverNotInstalledError` for an unknown name, an uninstalled solver, or MOSEK
    named explicitly without a license; the message lists the installed solvers and the fix.
    """
    key = name.lower()
    have = ", ".join(installed_solvers()) or "none"
    if key == "auto":
        mosek = SOLVERS["mosek"]
        if mosek.available():
            return mosek, None
        reason = "not installed" if not mosek.is_installed() else "no license found"
        note = f"solver=auto: MOSEK {reason}; using Clarabel"
        warnings.warn(note, SolverFallbackWarning, stacklevel=3)
        return SOLVERS["clarabel"], note
    if key not in SOLVERS:
        raise SolverNotInstalledError(
            f"unknown solver {name!r}; accepted: auto, {', '.join(SOLVERS)} (installed: {have})")
    solver = SOLVERS[key]
    if not solver.is_installed():
        raise SolverNotInstalledError(f"solver {solver.name} is not installed (installed: {have}); fix: {solver.fix}")
    if not solver.license_found():
        raise SolverNotInstalledError(
            f"solver {solver.name} has no license (installed: {have}); fix: {solver.fix}, or use solver=auto")
    return solver, None


def check_status(solver: str, status: str | None, what: str, stacklevel: int = 3) -> None:
    """Raise for a failed status, warn for an inaccurate one (the caller keeps it in the record).

    ``stacklevel`` is :func:`warnings.warn`'s: the default points at the caller of the solve function.
    """
    if status in STATUS_OPTIMAL:
        return
    if status in STATUS_INACCURATE:
        warnings.warn(f"{solver} solved {what} only to status {status!r}; result kept with that status",
                      InaccurateSolutionWarning, stacklevel=stacklevel)
        return
    raise SolverError(f"{solver} failed on {what} with status {status!r}; try solver='clarabel' "
                      f"(interior point) or a tighter/looser tolerance, and check E_W, E_H > 0")


#: Clarabel options for checks that read X itself (not only the objective): gap and feasibility
#: tolerances 1e-12, so Gram entries (and cosines from them) along flat directions are accurate to
#: ~1e-8 or better instead of ~1e-4 at Clarabel's default 1e-8.
TIGHT: dict[str, float] = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "tol_ktratio": 1e-10}


#: ``norm_zero_tol`` of an interior-point solve (see :func:`summarize`): X entries are accurate to
#: ~1e-8, so classifier norms resolve to ~1e-4; a norm below 1e-3 of the largest counts as zero when
#: averaging cosines.
INTERIOR_POINT_NORM_ZERO_TOL = 1e-3


#: Default stopping tolerances of the conic solvers (absolute and relative duality gap): the loss of a
#: returned ``X`` is within ``abs + rel * |f|`` of the minimum and no closer.
GAP_TOLERANCE: dict[str, tuple[float, float]] = {"clarabel": (1e-8, 1e-8), "mosek": (1e-8, 1e-8),
                                                 "scs": (1e-4, 1e-4)}

#: Relative accuracy a cosine or norm must have to be shown as a number (a cosine off by more than
#: 1e-3 already reads as a different geometry in Fig. 3's terms).
GEOMETRY_ACCURACY = 1e-3


def geometry_resolution(objective: float, gap_tolerance: float, relative_slacks: dict[str, float],
                        status: str) -> dict[str, Any]:
    """Whether a conic solution determines the geometry of ``X`` (cosines, norms, regime) or only its loss.

    An interior-point solver stops once the loss is within ``eps = gap_tolerance`` of the minimum.
    Near the minimum the loss reacts to a change of the geometry of relative size ``delta`` by about
    ``f * delta`` (the gradient ``G = pi (softmax - e_k)`` of Eq. 15 is itself of the size of the
    loss ``f`` when ``f`` is small), so the solver fixes the geometry only to ``delta ~ eps / f``.
    We show the geometry iff ``eps / f <= GEOMETRY_ACCURACY``, and iff every budget is used up to
    that accuracy: Eq. 15's minimum uses both budgets (scaling ``X`` up lowers every positive loss),
    so a slack larger than ``GEOMETRY_ACCURACY`` times the budget means the solver stopped where the
    loss no longer responds at its accuracy (seen: an SDP solution with E_W slack 113 of a budget of 1e4), and
    a violation that large (the feasibility tolerance is absolute: tiny budgets) is as bad.
    Also unresolved when the status is not ``optimal``.  Returns ``{"resolved", "note",
    "loss_resolution"}`` with ``loss_resolution = eps / f``.
    """
    ratio = gap_tolerance / objective if objective > 0 else math.inf
    reasons = []
    if status not in STATUS_OPTIMAL:
        reasons.append(f"status {status!r}")
    if not ratio <= GEOMETRY_ACCURACY:
        reasons.append(f"the optimal loss {objective:.3g} is within {1 / GEOMETRY_ACCURACY:.0f}x of the "
                       f"solver's gap tolerance {gap_tolerance:.1g}")
    for name, rel in relative_slacks.items():
        if not abs(rel) <= GEOMETRY_ACCURACY:
            reasons.append(f"{name} budget {'left' if rel > 0 else 'exceeded by'} {abs(rel):.3g} (relative), "
                           f"while the minimum uses exactly all of it")
    note = "" if not reasons else ("geometry not resolved at this accuracy (" + "; ".join(reasons) +
                                   "): cosines, norms and regime are not meaningful; use --method symmetric")
    return {"resolved": not reasons, "note": note, "loss_resolution": ratio}


def conic_gap_tolerance(solver: str, objective: float, solver_options: dict[str, Any]) -> float:
    """``abs + rel * |f|`` from ``solver_options`` (Clarabel's names) or the solver's defaults."""
    abs_tol, rel_tol = GAP_TOLERANCE.get(solver, GAP_TOLERANCE["clarabel"])
    abs_tol = float(solver_options.get("tol_gap_abs", solver_options.get("eps_abs", abs_tol)))
    rel_tol = float(solver_options.get("tol_gap_rel", solver_options.get("eps_rel", rel_tol)))
    return abs_tol + rel_tol * abs(objective)


def solve_conic(problem: Any, solver: ConicSolver, what: str, **solver_options: Any) -> float:
    """Solve the cvxpy ``problem`` with ``solver`` (from :func:`resolve_solver`) and check its status
    (:func:`check_status`; ``what`` names the program in messages).  Returns the solve's seconds."""
    import cvxpy as cp  # imported here: cvxpy takes seconds to import and the float paths never need it

    t0 = time.perf_counter()
    try:
        problem.solve(solver=solver.cvxpy_name, **solver_options)
    except cp.error.SolverError as exc:
        raise SolverError(f"{solver.name} failed on {what}: {exc}; try solver='clarabel' or 'scs'") from exc
    seconds = time.perf_counter() - t0
    check_status(solver.name, problem.status, what, stacklevel=4)
    return seconds


@dataclass
class LPMSolution:
    """A solution of Eq. 7 / Eq. 15 / Eq. 91 in a common shape.

    ``X  # (2K, 2K)`` is the Gram matrix of ``[h_1..h_K, w_1..w_K]`` (Eq. 15), ``W  # (K, p)`` the
    classifiers, ``Hbar  # (K, p)`` the class-mean features.  ``objective`` is Eq. 15's value
    ``sum_k pi_k L(z_k, y_k)`` (float, or ``mpmath.mpf`` for the high-precision path).
    ``detail`` holds method-specific data (slacks, certificate, regime, iterations).
    """

    method: str
    solver: str
    status: str
    objective: Any
    X: Any = None
    W: Any = None
    Hbar: Any = None
    seconds: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


def classifier_gram(solution: LPMSolution) -> np.ndarray:
    """``W W^T  # (K, K)`` in float64, from ``X[K:, K:]`` when present (exact for the reduced solver)."""
    if solution.X is not None:
        X = bk.to_float(solution.X)
        K = X.shape[0] // 2
        return X[K:, K:]
    W = bk.to_float(solution.W)
    return W @ W.T


def group_stats(Gw: np.ndarray, idx: Sequence[int], zero_tol: float = 1e-9) -> tuple[float, float]:
    """``(average pairwise cosine, average norm)`` of the classifiers ``idx`` from their Gram ``Gw``.

    The cosine is NaN for fewer than two classes (e.g. ``K_B = 1``) or when one of them is zero
    (norm below ``zero_tol`` times the largest classifier norm): the average cosine is undefined.
    """
    idx = np.asarray(idx, dtype=int)
    if len(idx) == 0:
        return math.nan, math.nan
    norms = np.sqrt(np.clip(np.diag(Gw), 0.0, None))
    avg_norm = float(norms[idx].mean())
    if len(idx) < 2 or np.min(norms[idx]) <= zero_tol * max(float(norms.max()), 1e-300):
        return math.nan, avg_norm
    C = Gw[np.ix_(idx, idx)] / np.outer(norms[idx], norms[idx])
    m = len(idx)
    return float((C.sum() - np.trace(C)) / (m * (m - 1))), avg_norm


def summarize(solution: LPMSolution, K_A: int) -> dict[str, Any]:
    """Cosines and norms of the classifiers of a two-size solution (majority = first ``K_A`` classes);
    see :func:`summarize_groups`."""
    K = classifier_gram(solution).shape[0]
    return summarize_groups(solution, range(K_A), range(K_A, K))


def summarize_groups(solution: LPMSolution, majority: Sequence[int], minority: Sequence[int]) -> dict[str, Any]:
    """Cosines and norms of the classifiers in the classes ``majority`` and ``minority``, and of all.

    ``cos_*`` is the average pairwise cosine (Fig. 3), NaN where undefined (see :func:`group_stats`;
    ``detail["norm_zero_tol"]`` is the solver's resolution of a classifier norm, default 1e-9);
    ``norm_*`` the average classifier norm (NaN for an empty group).  ``geometry_resolved`` is False
    when the solver did not determine the geometry (``detail["geometry"]``, see
    :func:`geometry_resolution`); the numbers are then not meaningful.
    """
    Gw = classifier_gram(solution)  # (K, K)
    K = Gw.shape[0]
    tol = solution.detail.get("norm_zero_tol", 1e-9)
    cos_all, _ = group_stats(Gw, range(K), tol)
    cos_A, norm_A = group_stats(Gw, majority, tol)
    cos_B, norm_B = group_stats(Gw, minority, tol)
    geometry = solution.detail.get("geometry", {"resolved": True, "note": ""})
    return {"cos_all": cos_all, "cos_majority": cos_A, "cos_minority": cos_B, "norm_majority": norm_A,
            "norm_minority": norm_B, "regime": solution.detail.get("regime", "unknown"),
            "objective": float(solution.objective), "geometry_resolved": bool(geometry["resolved"]),
            "geometry_note": geometry["note"]}
