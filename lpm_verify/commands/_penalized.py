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


def solve_penalized(args: argparse.Namespace, inst: dict[str, Any], lambda_W: float, lambda_H: float
                    ) -> dict[str, Any]:
    """The ``solve`` record of the penalized model (keys as for Eq. 7, plus the penalties) for the
    validated instance ``inst`` (:func:`lpm_verify.commands.solve.validate`)."""
    from lpm_verify.penalized import PenalizedLPM
    pi, sizes, K_A, K = inst["pi"], inst["sizes"], inst["K_A"], inst["K"]
    require(args.method != "sdp", "--method", "symmetric, nuclear or nonconvex for the penalized model", args.method)
    require(args.digits is None or (args.method == "symmetric" and args.digits >= 15), "--digits",
            "an integer >= 15, with --method symmetric", args.digits)
    require(bool(np.all(pi > 0)), "--R", "finite for the penalized model", args.R)
    out: dict[str, Any] = {"model": "penalized", "normalization": NORMALIZATION, "method": args.method, "K": K,
                           "K_A": K_A, "R": None if sizes else args.R, "sizes": sizes,
                           "lambda_W": lambda_W, "lambda_H": lambda_H}
    t0 = time.perf_counter()
    problem = PenalizedLPM(tuple(pi.tolist()), lambda_W, lambda_H)
    if args.method == "symmetric":
        from lpm_verify.solvers.penalized_symmetric import (objective_value, penalized_profile, refine_mp,
                                                             solve_float, system)
        from lpm_verify.solvers.symmetric import regime_name
        from lpm_verify.solvers.symmetric.kkt import blocks, rebuild_X
        prof = penalized_profile(pi.tolist())
        point = solve_float(prof, lambda_W, lambda_H)
        A, B, t, _, _ = system(prof, point.regime, point.info["pi"], lambda_W, lambda_H).unpack(point.x[None, :])
        X = rebuild_X(prof, *blocks(prof, A[0], B[0], t[0], 1.0))
        out.update(_classifier_summary(X[K:, K:] * math.sqrt(lambda_H / lambda_W), K_A, 1e-9))
        out.update({"regime": regime_name(point.regime), "solver": "reduced-kkt"})
        out["objective"] = float(objective_value(system(prof, point.regime, point.info["pi"], lambda_W, lambda_H),
                                                 point.x))
        if args.digits:
            _, info = refine_mp(prof, point, lambda_W, lambda_H, args.digits)
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


def thresholds_penalized(K: int, K_A: int, lambda_W: float, lambda_H: float, digits: int) -> dict[str, Any]:
    """The ``threshold --json`` report of the penalized model (same shape as Eq. 7's)."""
    from lpm_verify.penalized_regimes import find_penalized_thresholds, point_at
    from lpm_verify.solvers.symmetric import regime_name
    t0 = time.perf_counter()
    transitions = find_penalized_thresholds(K, K_A, lambda_W, lambda_H, digits=digits)
    ends = {f"R={R:g}": regime_name(point_at(K, K_A, R, lambda_W, lambda_H).regime) for R in (1.0, 1e8)}
    return {"model": "penalized", "normalization": NORMALIZATION, "K": K, "K_A": K_A, "lambda_W": lambda_W,
            "lambda_H": lambda_H, "digits": digits, "transitions": [t.as_dict(digits) for t in transitions],
            "regimes": ends, "certified": all(t.certificate["certified"] for t in transitions),
            "seconds": time.perf_counter() - t0}


def print_thresholds(report: dict[str, Any]) -> None:
    print(f"penalized LPM K={report['K']} K_A={report['K_A']} lambda_W={report['lambda_W']:g} "
          f"lambda_H={report['lambda_H']:g}: regime at R=1 {report['regimes']['R=1']}, "
          f"at R=1e8 {report['regimes']['R=1e+08']}")
    for t in report["transitions"]:
        c = t["certificate"]
        print(f"R = {t['R']}  {t['from']} -> {t['to']}  [{t['event']}; residual {c['augmented_residual']}, "
              f"certified {c['certified']}]")
    if not report["transitions"]:
        print("no regime change for R in [1, 1e8]")
    print(f"({report['seconds']:.2f} s)")
