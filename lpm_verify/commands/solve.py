"""``python -m lpm_verify solve``: one imbalanced LPM instance by the chosen method.

    python -m lpm_verify solve --K 10 --KA 5 --R 100 --EW 1 --EH 5 [--sizes n1,n2,...]
        [--method symmetric|sdp|nuclear|nonconvex] [--solver clarabel|scs|mosek|auto] [--digits D] [--json]

Prints the objective of Eq. 15 (= Eq. 7's minimum), the average cosines (all, majority, minority),
classifier norms, the regime and the time taken.  ``--sizes`` gives any class-size profile
(then majority = classes of the largest size, minority = the smallest).  ``--digits`` (symmetric
only) refines in mpmath and prints the certificate.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

import mpmath
import numpy as np

from lpm_verify.commands import _energies, _penalized
from lpm_verify.errors import require

METHODS = ("symmetric", "sdp", "nuclear", "nonconvex")


def _ratio(text: str) -> float:
    return math.inf if text.strip().lower() in ("inf", "infinity") else float(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--K", type=int, default=10, help="number of classes (default 10)")
    parser.add_argument("--KA", type=int, default=5, help="number of majority classes K_A (default 5)")
    parser.add_argument("--R", type=_ratio, default=10.0, help="imbalance ratio n_A/n_B, 'inf' allowed (default 10)")
    parser.add_argument("--EW", type=float, default=1.0, help="classifier budget E_W (default 1)")
    parser.add_argument("--EH", type=float, default=5.0, help="feature budget E_H (default 5)")
    parser.add_argument("--sizes", help="comma-separated class sizes n_1..n_K (overrides --K/--KA/--R)")
    parser.add_argument("--method", choices=METHODS, default="symmetric", help="solver (default symmetric)")
    parser.add_argument("--solver", default="clarabel", help="cvxpy solver for sdp/nuclear: clarabel, scs, mosek, auto")
    parser.add_argument("--digits", type=int, help="symmetric method: refine in mpmath to this many digits (>= 15)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    _energies.add_penalty_arguments(parser)


def _fractions(args: argparse.Namespace) -> tuple[np.ndarray, list[float] | None, int]:
    """``(pi  # (K,), sizes or None, K_A)``; classes are reordered largest first."""
    if args.sizes:
        try:
            sizes = sorted((float(x) for x in args.sizes.split(",")), reverse=True)
        except ValueError:
            require(False, "--sizes", "comma-separated positive numbers, e.g. 100,100,10,10", args.sizes)
        require(len(sizes) >= 2 and all(s > 0 and math.isfinite(s) for s in sizes), "--sizes",
                "at least two finite positive numbers", args.sizes)
        K_A = sum(1 for s in sizes if s == sizes[0])
        pi = np.array(sizes) / sum(sizes)
        return pi, sizes, K_A
    require(args.K >= 2, "--K", "an integer >= 2", args.K)
    require(0 < args.KA < args.K, "--KA", f"an integer in [1, K-1] = [1, {args.K - 1}]", args.KA)
    require(args.R > 0 and not math.isnan(args.R), "--R", "a number > 0 ('inf' allowed)", args.R)
    from lpm_verify.problem import two_size_fractions
    return two_size_fractions(args.K, args.KA, args.R), None, args.KA


def solve_instance(args: argparse.Namespace) -> dict[str, Any]:
    """Solve and summarize (pure apart from the solve; used by ``run`` and the tests)."""
    if (lambdas := _energies.penalties(args)) is not None:
        return _penalized.solve_penalized(args, *lambdas)
    require(args.EW > 0 and math.isfinite(args.EW), "--EW", "a finite number > 0", args.EW)
    require(args.EH > 0 and math.isfinite(args.EH), "--EH", "a finite number > 0", args.EH)
    require(args.digits is None or (args.method == "symmetric" and args.digits >= 15), "--digits",
            "an integer >= 15, with --method symmetric", args.digits)
    from lpm_verify.regimes import regime_of_X
    from lpm_verify.solvers.base import resolve_solver, summarize
    from lpm_verify.solvers.symmetric import Profile, regime_name, solve_symmetric
    pi, sizes, K_A = _fractions(args)
    K = len(pi)
    if args.method in ("sdp", "nuclear") and args.solver.lower() != "auto":
        resolve_solver(args.solver)  # bad names fail before any work
    prof = Profile.from_fractions(pi.tolist(), args.EW, args.EH)
    t0 = time.perf_counter()
    out: dict[str, Any] = {"method": args.method, "K": K, "K_A": K_A, "R": None if sizes else args.R,
                           "sizes": sizes, "E_W": args.EW, "E_H": args.EH}
    if args.method == "symmetric":
        sol = solve_symmetric(prof, digits=args.digits)
    elif args.method in ("sdp", "nuclear"):
        from lpm_verify.solvers.nuclear import solve_nuclear
        from lpm_verify.solvers.sdp import solve_sdp
        sol = (solve_sdp if args.method == "sdp" else solve_nuclear)(pi, E_W=args.EW, E_H=args.EH, solver=args.solver)
        sol.detail["regime"] = regime_name(regime_of_X(sol.X, prof))
    else:
        require(np.all(pi > 0), "--R", "finite for --method nonconvex", args.R)
        from lpm_verify.problem import LPMProblem
        from lpm_verify.solvers.nonconvex import solve_lpm
        problem = LPMProblem((1,) * K, args.EW, args.EH, p=2 * K, weights=tuple(pi.tolist()))
        sol = solve_lpm(problem).as_lpm_solution()
        sol.detail["regime"] = regime_name(regime_of_X(sol.X, prof))
    stats = summarize(sol, K_A)
    out.update({k: stats[k] for k in ("cos_all", "cos_majority", "cos_minority", "norm_majority", "norm_minority",
                                       "regime")})
    out.update({"solver": sol.solver, "status": sol.status, "seconds": time.perf_counter() - t0})
    if args.digits:
        cert = sol.detail["certificate"]
        with mpmath.workdps(args.digits + 5):
            out["objective"] = mpmath.nstr(sol.objective, args.digits, strip_zeros=False)
            out["cos_minority_exact"] = mpmath.nstr(sol.detail.get("cos_B", mpmath.nan), args.digits)
            out["certificate"] = {"kkt_residual": mpmath.nstr(cert["kkt_residual"], 3),
                                  "gap_bound": mpmath.nstr(cert["gap_bound"], 3),
                                  "dual_min_eig": {k: mpmath.nstr(v, 3) for k, v in cert["dual_min_eig"].items()},
                                  "margins": {k: mpmath.nstr(v, 6) for k, v in cert["margins"].items()}}
    else:
        out["objective"] = float(sol.objective)
    for key in ("slacks", "solver_note"):
        if key in sol.detail:
            out[key] = sol.detail[key]
    return out


def _json_safe(value: Any) -> Any:
    """NaN (an undefined cosine) -> null, so the output is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    out = solve_instance(args)
    if args.json:
        print(json.dumps(_json_safe(out), indent=2, default=str))
        return 0
    for key, value in out.items():
        if isinstance(value, float):
            value = f"{value:.10g}"
        print(f"{key:>14}: {value}")
    return 0
