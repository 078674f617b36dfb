"""``python -m lpm_verify threshold``: every regime change in R >= 1, each to the requested digits.

    python -m lpm_verify threshold --K 10 --KA 5 --EW 1 --EH 5 [--digits 30] [--json]

Each threshold is the root of the smaller regime's KKT system augmented by its vanishing dual
margin, solved by Newton in mpmath (see :mod:`lpm_verify.regimes`), with its certificate.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

from lpm_verify.commands import _energies
from lpm_verify.commands.args import add_budget_arguments, check_budgets
from lpm_verify.errors import require


#: ``--digits`` range of :func:`lpm_verify.regimes.find_thresholds` (2 s at 200 digits, K = 10).
MIN_DIGITS, MAX_DIGITS = 15, 200
#: Largest K (2.5 s at K = 10000, K_A = 5000; K = 1e11 ran out of memory).
MAX_K = 10000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    instance = parser.add_argument_group("instance")
    instance.add_argument("--K", type=int, default=10, help=f"number of classes, 2..{MAX_K} (default 10)")
    instance.add_argument("--KA", type=int, default=5, help="number of majority classes K_A, 1..K-1 (default 5)")
    add_budget_arguments(instance)
    parser.add_argument("--digits", type=int, default=30,
                        help=f"significant digits of each threshold, {MIN_DIGITS}..{MAX_DIGITS} (default 30)")
    _energies.add_penalty_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def validate(args: argparse.Namespace, budgets: bool = True) -> None:
    """Every input checked before any work, with the CLI's flag names (``budgets=False``: the
    penalized model, which has no --EW/--EH)."""
    require(2 <= args.K <= MAX_K, "--K", f"an integer in [2, {MAX_K}]", args.K)
    require(0 < args.KA < args.K, "--KA", f"an integer in [1, K-1] = [1, {args.K - 1}]", args.KA)
    if budgets:
        check_budgets(args.K, args.EW, args.EH)
    require(MIN_DIGITS <= args.digits <= MAX_DIGITS, "--digits", f"an integer in [{MIN_DIGITS}, {MAX_DIGITS}]",
            args.digits)


def thresholds_report(family: Any, digits: int, top: float, params: dict[str, Any], scan: bool = True
                      ) -> dict[str, Any]:
    """The JSON-ready report of a two-size ``family`` (:class:`lpm_verify.regimes.Family`): ``params``
    (the instance), transitions with certificates (none without ``scan``: R = 1 is itself a boundary), and
    the regimes at R = 1 and R = ``top``."""
    from lpm_verify.regimes import transitions
    from lpm_verify.solvers.symmetric import regime_name
    t0 = time.perf_counter()
    found = transitions(family, digits) if scan else []
    ends = {f"R={R}": regime_name(family.fresh(R).regime) for R in (1.0, top)}
    return {**params, "digits": digits, "transitions": [t.as_dict(digits) for t in found], "regimes": ends,
            "certified": all(t.certificate["certified"] for t in found), "seconds": time.perf_counter() - t0}


def eq7_report(K: int, K_A: int, E_W: float, E_H: float, digits: int) -> dict[str, Any]:
    """:func:`thresholds_report` of Eq. 7's two-size family, ``R in [1, inf]``."""
    require(math.isfinite(E_W) and E_W > 0, "--EW", "a finite number > 0", E_W)
    require(math.isfinite(E_H) and E_H > 0, "--EH", "a finite number > 0", E_H)
    from lpm_verify.regimes import Eq7Family
    return thresholds_report(Eq7Family(K, K_A, E_W, E_H), digits, math.inf,
                             {"K": K, "K_A": K_A, "E_W": E_W, "E_H": E_H})


def print_thresholds(report: dict[str, Any], title: str) -> None:
    """The human-readable form of a :func:`thresholds_report`: ``title`` (the instance), the regimes at
    both ends, one line per transition."""
    (lo, reg_lo), (hi, reg_hi) = report["regimes"].items()
    print(f"{title}: regime at {lo} {reg_lo}, at {hi} {reg_hi}")
    if report.get("note"):
        print(report["note"])
    for t in report["transitions"]:
        c = t["certificate"]
        print(f"R = {t['R']}  {t['from']} -> {t['to']}  [{t['event']}; residual {c['augmented_residual']}, "
              f"certified {c['certified']}]")
    if not report["transitions"]:
        print(f"no regime change for R in [1, {hi[2:]}]")
    print(f"({report['seconds']:.2f} s)")


def run(args: argparse.Namespace) -> int:
    if (lambdas := _energies.penalties(args)) is not None:  # --lambda-W/--lambda-H: the penalized model
        from lpm_verify.commands import _penalized
        validate(args, budgets=False)
        lambda_b = _energies.bias(args)
        family, params, scan = _penalized.threshold_instance(args.K, args.KA, *lambdas, lambda_b)
        report = thresholds_report(family, args.digits, 1e8, params, scan=scan)
        title = (f"penalized LPM K={args.K} K_A={args.KA} lambda_W={lambdas[0]:g} lambda_H={lambdas[1]:g} "
                 f"bias={'none' if lambda_b is None else 'free' if lambda_b == 0 else f'lambda_b={lambda_b:g}'}")
    else:
        validate(args)
        report = eq7_report(args.K, args.KA, args.EW, args.EH, args.digits)
        title = f"K={args.K} K_A={args.KA} E_W={args.EW:g} E_H={args.EH:g}"
    print(json.dumps(report, indent=2, default=str)) if args.json else print_thresholds(report, title)
    return 0 if report["certified"] else 1
