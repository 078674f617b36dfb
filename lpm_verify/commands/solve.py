"""``python -m lpm_verify solve``: one imbalanced LPM instance by the chosen method.

    python -m lpm_verify solve --K 10 --KA 5 --R 100 --EW 1 --EH 5 [--sizes n1,n2,...]
        [--method symmetric|sdp|nuclear|nonconvex] [--solver clarabel|scs|mosek|auto] [--digits D] [--json]

Prints the objective of Eq. 15 (= Eq. 7's minimum), the average cosines (all, majority, minority),
classifier norms, the regime (names of :func:`lpm_verify.solvers.symmetric.regime_name`, the same as
``threshold``'s) and the time taken.  ``--sizes`` gives any class-size profile: majority = the classes
of the largest size, minority = the classes of the smallest size (classes of other sizes are in
neither; with all sizes equal there is no minority).  ``--digits`` (symmetric only) refines in mpmath
and prints the certificate.  A conic solution whose geometry the solver did not resolve (near-zero
loss, unused budget) is flagged: ``geometry_resolved`` false and ``geometry_note`` says why; so is one whose
regime disagrees with the certified thresholds (``--KA``/``--R`` instances; ``certified_regime`` is printed
beside it) or whose R is too close to a certified threshold for the solver's tolerance.

Limits (checked before any work, see :data:`MAX_K`): K <= 2000 (symmetric), 100 (nonconvex), 40 (sdp,
nuclear: the interior point's dense PSD block needs about 8 (K(2K+1))^2 bytes and time grows like K^6);
--digits <= 2000, with K <= 200; the logit scale 1e-3 <= sqrt(E_W E_H) K/(K-1) <= 700 (above, every
loss underflows float64); R in [1e-100, 1e100] or inf.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

from lpm_verify.commands import _energies
from lpm_verify.commands.args import add_budget_arguments, check_budgets, ratio
from lpm_verify.errors import LPMInputError, require

METHODS = ("symmetric", "sdp", "nuclear", "nonconvex")

#: Largest K each method accepts: symmetric 17 s / 0.8 GB at K = 2000 (its full X is (2K, 2K));
#: nonconvex 45 s at K = 200; sdp 36 s / 0.65 GB at K = 40 on this 2-core machine, growing like K^6
#: (and K = 200 aborted with a 51 GB allocation, see :func:`conic_memory_bytes`).
MAX_K: dict[str, int] = {"symmetric": 2000, "nonconvex": 100, "sdp": 40, "nuclear": 40}
#: ``--digits`` limits: 2 s at 2000 digits, 46 s at 10000 (time grows like digits^2); the mpmath
#: rebuild of X has (2K)^2 entries, 2.8 s at K = 200 and 100 digits.
MAX_DIGITS, MAX_K_DIGITS = 2000, 200
def conic_memory_bytes(K: int) -> int:
    """Estimated memory of an interior-point solve of Eq. 15 / 91: the dense block of the PSD cone
    (side ``2K``, ``K(2K+1)`` entries in its triangle) in the KKT system, 8 bytes per entry."""
    return 8 * (K * (2 * K + 1)) ** 2


LIMITS_TEXT = (f"Limits (refused before any work): K <= {MAX_K['symmetric']} (symmetric), {MAX_K['nonconvex']} "
               f"(nonconvex), {MAX_K['sdp']} (sdp, nuclear: the interior point's dense PSD block needs about "
               f"8 (K(2K+1))^2 bytes, 51 GB at K = 200, and time grows like K^6); --digits 15..{MAX_DIGITS} "
               f"with K <= {MAX_K_DIGITS}; 1e-3 <= sqrt(E_W E_H) K/(K-1) <= 700 (above, the loss underflows "
               f"float64); R in [1e-100, 1e100] or inf.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = LIMITS_TEXT
    instance = parser.add_argument_group("instance")
    instance.add_argument("--K", type=int, default=10, help="number of classes, >= 2 (default 10)")
    instance.add_argument("--KA", type=int, default=5, help="number of majority classes K_A, 1..K-1 (default 5)")
    instance.add_argument("--R", type=ratio, default=10.0,
                          help="imbalance ratio n_A/n_B > 0, 'inf' allowed (default 10)")
    instance.add_argument("--sizes", help="comma-separated class sizes n_1..n_K (overrides --K/--KA/--R); "
                          "majority = the classes of the largest size, minority = those of the smallest")
    add_budget_arguments(instance)
    method = parser.add_argument_group("method")
    method.add_argument("--method", choices=METHODS, default="symmetric",
                        help="solver (default symmetric); K <= " +
                        ", ".join(f"{MAX_K[m]} ({m})" for m in METHODS))
    method.add_argument("--solver", default="clarabel", help="cvxpy solver for sdp/nuclear: clarabel, scs, mosek, auto")
    method.add_argument("--digits", type=int, help=f"symmetric method: refine in mpmath to this many digits "
                        f"(15..{MAX_DIGITS}; K <= {MAX_K_DIGITS})")
    _energies.add_penalty_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def parse_sizes(text: str) -> list[float]:
    """``"100,100,10"`` -> sizes, largest first; LPMInputError naming ``--sizes`` otherwise."""
    accepted = "at least two comma-separated finite numbers > 0, e.g. 100,100,10,10"
    try:
        sizes = [float(x) for x in text.split(",")]
    except ValueError:
        raise LPMInputError(f"--sizes must be {accepted}; got {text!r}") from None
    require(len(sizes) >= 2 and all(math.isfinite(s) and s > 0 for s in sizes), "--sizes", accepted, text)
    return sorted(sizes, reverse=True)


def _fractions(args: argparse.Namespace, profile: bool = True) -> dict[str, Any]:
    """The instance: fractions ``pi  # (K,)`` (largest class first), its symmetric :class:`Profile` of
    Eq. 7 (when ``profile``), and the majority / minority class indices."""
    import numpy as np

    from lpm_verify.solvers.symmetric import Profile
    if args.sizes:
        sizes = parse_sizes(args.sizes)
        top = sizes[0]
        pi = np.array([s / top for s in sizes])  # scaled by the largest first: no overflow at 1e308
        pi /= pi.sum()
        majority = [k for k, s in enumerate(sizes) if s == sizes[0]]
        minority = [k for k, s in enumerate(sizes) if s == sizes[-1] and s != sizes[0]]
        return {"pi": pi, "sizes": sizes, "K": len(sizes), "K_A": len(majority), "majority": majority,
                "minority": minority, "profile": Profile.from_fractions(pi.tolist(), args.EW, args.EH) if profile
                else None}
    from lpm_verify.problem import two_size_fractions
    return {"pi": two_size_fractions(args.K, args.KA, args.R), "sizes": None, "K": args.K, "K_A": args.KA,
            "majority": list(range(args.KA)), "minority": list(range(args.KA, args.K)),
            # two groups also at R = 1, so that the regime reads as in ``threshold``
            "profile": Profile.two_size(args.K, args.KA, args.R, args.EW, args.EH) if profile else None}


def validate(args: argparse.Namespace, budgets: bool = True) -> dict[str, Any]:
    """Check every input and the size limits before any work; returns the instance (:func:`_fractions`).
    ``budgets=False``: the penalized model (no --EW/--EH, no Eq. 7 profile)."""
    if not args.sizes:
        require(not math.isnan(args.R) and args.R > 0, "--R", "a number > 0 ('inf' allowed)", args.R)
        require(args.K >= 2, "--K", "an integer >= 2", args.K)
        require(0 < args.KA < args.K, "--KA", f"an integer in [1, K-1] = [1, {args.K - 1}]", args.KA)
        require(args.method != "nonconvex" or math.isfinite(args.R), "--R",
                "finite for --method nonconvex (Eq. 7 has no R = inf limit)", args.R)
    K = len(parse_sizes(args.sizes)) if args.sizes else args.K
    limit = MAX_K[args.method]
    if K > limit:
        able = [m for m in METHODS if MAX_K[m] >= K]
        extra = (f" (an estimated {conic_memory_bytes(K) / 1e9:.3g} GB for the dense PSD block, and time "
                 f"growing like K^6)" if args.method in ("sdp", "nuclear") else "")
        raise LPMInputError(f"--K: --method {args.method} accepts K <= {limit}; got K = {K}{extra}; "
                            + (f"use --method {able[0]} (K <= {MAX_K[able[0]]})" if able else
                               f"no method accepts K > {max(MAX_K.values())}"))
    if args.digits is not None:
        if args.method != "symmetric":
            raise LPMInputError(f"--digits needs --method symmetric (only it refines in mpmath; {args.method} "
                                f"works in float64); got --method {args.method}")
        require(15 <= args.digits <= MAX_DIGITS, "--digits",
                f"an integer in [15, {MAX_DIGITS}] (time grows like digits^2: 46 s at 10000)", args.digits)
        require(K <= MAX_K_DIGITS, "--K", f"<= {MAX_K_DIGITS} with --digits (the mpmath X has (2K)^2 entries)", K)
    if budgets:
        check_budgets(K, args.EW, args.EH)
    if args.method in ("sdp", "nuclear") and args.solver.lower() != "auto":
        from lpm_verify.solvers.base import resolve_solver
        resolve_solver(args.solver)  # bad names fail before any work
    return _fractions(args, profile=budgets)


def solve_instance(args: argparse.Namespace) -> dict[str, Any]:
    """Validate, solve and summarize (pure apart from the solve; used by ``run`` and the tests)."""
    if (lambdas := _energies.penalties(args)) is not None:  # --lambda-W/--lambda-H: the penalized model
        from lpm_verify.commands import _penalized
        return _penalized.solve_penalized(args, validate(args, budgets=False), *lambdas, _energies.bias(args))
    inst = validate(args)
    import mpmath

    from lpm_verify.regimes import regime_of_X
    from lpm_verify.solvers.base import summarize_groups
    from lpm_verify.solvers.symmetric import regime_name, solve_symmetric
    pi, prof, K = inst["pi"], inst["profile"], inst["K"]
    t0 = time.perf_counter()
    out: dict[str, Any] = {"method": args.method, "K": K, "K_A": inst["K_A"], "R": None if inst["sizes"] else args.R,
                           "sizes": inst["sizes"], "E_W": args.EW, "E_H": args.EH,
                           "majority": "classes of the largest size" if inst["sizes"] else "the first K_A classes",
                           "minority": ("classes of the smallest size" if inst["minority"] else
                                        "none (all classes have the same size)") if inst["sizes"]
                           else "the last K - K_A classes"}
    if args.method == "symmetric":
        sol = solve_symmetric(prof, digits=args.digits)
    elif args.method in ("sdp", "nuclear"):
        from lpm_verify.solvers.nuclear import solve_nuclear
        from lpm_verify.solvers.sdp import solve_sdp
        sol = (solve_sdp if args.method == "sdp" else solve_nuclear)(pi, E_W=args.EW, E_H=args.EH, solver=args.solver)
        sol.detail["regime"] = regime_name(regime_of_X(sol.X, prof))
    else:
        from lpm_verify.problem import LPMProblem
        from lpm_verify.solvers.nonconvex import solve_lpm
        problem = LPMProblem((1,) * K, args.EW, args.EH, p=2 * K, weights=tuple(pi.tolist()))
        sol = solve_lpm(problem).as_lpm_solution()
        sol.detail["regime"] = regime_name(regime_of_X(sol.X, prof))
    stats = summarize_groups(sol, inst["majority"], inst["minority"])
    held = None
    if args.method != "symmetric" and not inst["sizes"]:  # the symmetric solver's label is certified itself
        from lpm_verify.certified_labels import label_verdict
        held = label_verdict(stats["regime"], args.method, sol.detail, K, inst["K_A"], args.EW, args.EH, args.R)
        if not held["consistent"]:
            stats["geometry_note"] = "; ".join(n for n in (stats["geometry_note"], held["note"]) if n)
            stats["geometry_resolved"] = False
    out.update({k: stats[k] for k in ("cos_all", "cos_majority", "cos_minority", "norm_majority", "norm_minority",
                                       "regime", "geometry_resolved")})
    if held is not None and held["certified_regime"] is not None:
        out["certified_regime"] = held["certified_regime"]
    if not stats["geometry_resolved"]:
        out["geometry_note"] = stats["geometry_note"]
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


#: Keys whose values are geometry: marked "(unresolved)" in the text output when the solver did not
#: resolve the geometry.
GEOMETRY_KEYS = ("cos_all", "cos_majority", "cos_minority", "norm_majority", "norm_minority", "regime")


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
        if key in GEOMETRY_KEYS and not out["geometry_resolved"]:
            value = f"{value} (unresolved)"
        print(f"{key:>17}: {value}")
    return 0
