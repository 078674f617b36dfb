"""``solve`` and ``threshold`` for the penalized LPM (``--lambda-W A --lambda-H B``; :mod:`lpm_verify.penalized`).

``solve``: ``--method symmetric`` (reduced KKT solve, ``--digits`` refines in mpmath with the certificate),
``nuclear`` (the convex form (P) with the named cvxpy solver) or ``nonconvex`` (L-BFGS-B over ``W`` and
one feature per example; ``--sizes`` or ``R`` with integer class sizes).  ``threshold``: every regime
change in ``R in [1, 10^8]`` (:mod:`lpm_verify.penalized_regimes`), same JSON shape as for Eq. 7.
"""
from __future__ import annotations

import argparse
import math
import time
from typing import Any

import mpmath
import numpy as np

from lpm_verify.commands._energies import NORMALIZATION
from lpm_verify.errors import require


def _classifier_summary(X_ww: np.ndarray, K_A: int, tol: float) -> dict[str, Any]:
    from lpm_verify.solvers.base import LPMSolution, summarize
    K = X_ww.shape[0]
    X = np.zeros((2 * K, 2 * K))
    X[K:, K:] = X_ww
    stats = summarize(LPMSolution("", "", "", 0.0, X=X, detail={"norm_zero_tol": tol}), K_A)
    return {k: stats[k] for k in ("cos_all", "cos_majority", "cos_minority", "norm_majority", "norm_minority")}


def solve_penalized(args: argparse.Namespace, inst: dict[str, Any], lambda_W: float, lambda_H: float,
                    lambda_b: float | None = None) -> dict[str, Any]:
    """The ``solve`` record of the penalized model (keys as for Eq. 7, plus the penalties) for the
    validated instance ``inst`` (:func:`lpm_verify.commands.solve.validate`)."""
    from lpm_verify.penalized import PenalizedLPM
    pi, sizes, K_A, K = inst["pi"], inst["sizes"], inst["K_A"], inst["K"]
    require(args.method != "sdp", "--method", "symmetric, nuclear or nonconvex for the penalized model", args.method)
    require(args.digits is None or (args.method == "symmetric" and args.digits >= 15), "--digits",
            "an integer >= 15, with --method symmetric", args.digits)
    require(bool(np.all(pi > 0)), "--R", "finite for the penalized model", args.R)
    require(lambda_b is None or args.method != "nonconvex", "--bias", "none with --method nonconvex "
            "(use --method symmetric or nuclear for a bias)", args.bias)
    out: dict[str, Any] = {"model": "penalized", "normalization": NORMALIZATION, "method": args.method, "K": K,
                           "K_A": K_A, "R": None if sizes else args.R, "sizes": sizes,
                           "lambda_W": lambda_W, "lambda_H": lambda_H, "lambda_b": lambda_b}
    t0 = time.perf_counter()
    problem = PenalizedLPM(tuple(pi.tolist()), lambda_W, lambda_H, lambda_b=lambda_b)
    if args.method == "symmetric":
        from lpm_verify.solvers.penalized_symmetric import (objective_value, penalized_profile, refine_mp,
                                                             solve_float, system)
        from lpm_verify.solvers.symmetric import regime_name
        from lpm_verify.solvers.symmetric.kkt import blocks, rebuild_X
        prof = penalized_profile(pi.tolist())
        point = solve_float(prof, lambda_W, lambda_H, lambda_b=lambda_b)
        sys_ = system(prof, point.regime, point.info["pi"], lambda_W, lambda_H, lambda_b=lambda_b)
        A, B, t, _, _ = sys_.unpack(point.x[None, :])
        X = rebuild_X(prof, *blocks(prof, A[0], B[0], t[0], 1.0))
        out.update(_classifier_summary(X[K:, K:] * math.sqrt(lambda_H / lambda_W), K_A, 1e-9))
        out.update({"regime": regime_name(point.regime), "solver": "reduced-kkt"})
        out["objective"] = float(objective_value(sys_, point.x))
        if args.digits:
            _, info = refine_mp(prof, point, lambda_W, lambda_H, args.digits, lambda_b)
            cert = info["certificate"]
            out["objective"] = mpmath.nstr(info["objective"], args.digits, strip_zeros=False)
            out["certificate"] = {"certified": info["ok"], "kkt_residual": mpmath.nstr(cert["kkt_residual"], 3),
                                  "margins": {k: mpmath.nstr(v, 6) for k, v in cert["margins"].items()}}
    elif args.method == "nuclear":
        from lpm_verify.solvers.base import resolve_solver
        from lpm_verify.solvers.penalized_convex import solve_penalized_convex
        resolve_solver(args.solver)
        sol = solve_penalized_convex(problem, solver=args.solver)
        out.update(_classifier_summary(sol.W @ sol.W.T, K_A, sol.detail["norm_zero_tol"]))
        out.update({"objective": float(sol.objective), "solver": sol.solver, "status": sol.status})
    else:
        from lpm_verify.solvers.penalized_nonconvex import solve_penalized_nonconvex
        counts = sizes if sizes else [args.R] * K_A + [1.0] * (K - K_A)
        for n in counts:
            require(float(n).is_integer(), "--sizes/--R", "integer class sizes for --method nonconvex", n)
        sol = solve_penalized_nonconvex(PenalizedLPM(tuple(counts), lambda_W, lambda_H, p=K + 2))
        out.update(_classifier_summary(sol.W @ sol.W.T, K_A, 1e-6))
        out.update({"objective": float(sol.objective), "solver": "lbfgs",
                    "status": "optimal" if sol.converged else sol.stop_reason})
    out["seconds"] = time.perf_counter() - t0
    return out


def all_zero_note(K: int, K_A: int, lambda_W: float, lambda_H: float) -> tuple[str | None, bool]:
    """``(note, engine)``: for ``lambda_W lambda_H >= 1/K`` one line on why R = 1 has no classifier (``Z = 0`` is
    optimal iff ``lambda_W lambda_H >= 1/K``) and where the majority classifiers open (a group of equal
    classes is collapsed iff ``n_g/N <= lambda_W lambda_H``; the minority's ``n_B/N <= 1/K`` for every R >= 1);
    ``engine`` is False when that opening sits at R = 1 itself, where no transition R > 1 exists to certify."""
    c2, K_B = lambda_W * lambda_H, K - K_A
    if c2 * K < 1:
        return None, True
    head = (f"lambda_W lambda_H = {c2:g} >= 1/K = {1 / K:g}: every classifier is zero at R = 1 and the minority "
            f"classes stay collapsed for all R >= 1 (n_B/N <= 1/K)")
    if c2 * K_A >= 1:
        return head + f"; the majority classes never separate either (n_A/N < 1/K_A <= lambda_W lambda_H)", True
    R_A = c2 * K_B / (1 - c2 * K_A)
    if R_A <= 1 + 1e-12:
        return head + ("; the majority classes separate as soon as R > 1 (n_A/N = lambda_W lambda_H at R = 1): "
                       "R = 1 is itself the boundary, so there is no transition R > 1 to certify"), False
    return head + f"; the majority classes separate where n_A/N = lambda_W lambda_H, at R = {R_A:.15g}", True


def threshold_instance(K: int, K_A: int, lambda_W: float, lambda_H: float, lambda_b: float | None = None
                       ) -> tuple[Any, dict[str, Any], bool]:
    """``(family, params, scan)`` for :func:`threshold.thresholds_report` of the penalized model (its two-size
    family, ``R in [1, 10^8]``), with :func:`all_zero_note` in ``params`` where it applies."""
    from lpm_verify.penalized_regimes import PenalizedFamily
    params = {"model": "penalized", "normalization": NORMALIZATION, "K": K, "K_A": K_A, "lambda_W": lambda_W,
              "lambda_H": lambda_H, "lambda_b": lambda_b}
    note, engine = all_zero_note(K, K_A, lambda_W, lambda_H)
    if note:
        params["note"] = note
    return PenalizedFamily(K, K_A, lambda_W, lambda_H, lambda_b), params, engine
