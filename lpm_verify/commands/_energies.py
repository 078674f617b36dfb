"""The mutually exclusive energy flags of ``solve`` and ``threshold``: Eq. 7's budgets ``--EW/--EH`` or the
penalized model's ``--lambda-W/--lambda-H`` (:mod:`lpm_verify.penalized`, per-example feature penalty).

``add_penalty_arguments`` adds the penalty flags and turns the budget flags' defaults into "not given"
(remembering them); ``penalties(args)`` then returns ``(lambda_W, lambda_H)`` for the penalized model or
``None`` for Eq. 7 (filling in the remembered budget defaults when no energy flag was given), and raises
a one-line :class:`~lpm_verify.errors.LPMInputError` when both kinds, or only one flag of a pair, are given.
"""
from __future__ import annotations

import argparse
import math

from lpm_verify.errors import LPMInputError, require

#: The normalization of the feature penalty, stated in every penalized record.
NORMALIZATION = "(1/N) sum CE + (lambda_W/2)||W||_F^2 + (lambda_H/2)(1/N) sum_i ||h_i||^2"


def add_penalty_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("penalized LPM (in place of --EW/--EH)")
    group.add_argument("--lambda-W", dest="lambda_W", type=float,
                       help="classifier penalty (lambda_W/2)||W||_F^2 (with --lambda-H; excludes --EW/--EH)")
    group.add_argument("--lambda-H", dest="lambda_H", type=float,
                       help="feature penalty (lambda_H/2) mean_i ||h_i||^2 (with --lambda-W; excludes --EW/--EH)")
    group.add_argument("--bias", default=None, metavar="free|none|PENALTY",
                       help="last-layer bias of the penalized model (logits W h + b): none (default), free, or a "
                            "number lambda_b > 0 for the penalty (lambda_b/2)||b||^2")
    parser.set_defaults(_budget_defaults=(parser.get_default("EW"), parser.get_default("EH")), EW=None, EH=None)


def penalties(args: argparse.Namespace) -> tuple[float, float] | None:
    """``(lambda_W, lambda_H)`` when the penalty flags were given, else ``None`` (budgets filled in)."""
    budgets = [f for f, v in (("--EW", args.EW), ("--EH", args.EH)) if v is not None]
    lambdas = [f for f, v in (("--lambda-W", args.lambda_W), ("--lambda-H", args.lambda_H)) if v is not None]
    if budgets and lambdas:
        raise LPMInputError(f"{' '.join(budgets)} and {' '.join(lambdas)} are mutually exclusive: give either "
                            "--EW/--EH (Eq. 7) or --lambda-W/--lambda-H (penalized LPM)")
    if len(lambdas) == 1:
        raise LPMInputError("--lambda-W and --lambda-H must be given together (penalized LPM), or neither "
                            f"(Eq. 7 with --EW/--EH); got only {lambdas[0]}")
    if not lambdas:
        require(args.bias is None, "--bias", "given only with --lambda-W/--lambda-H (the penalized model has the "
                "bias; Eq. 7 has none)", args.bias)
        EW, EH = args._budget_defaults
        args.EW = EW if args.EW is None else args.EW
        args.EH = EH if args.EH is None else args.EH
        return None
    for flag, v in (("--lambda-W", args.lambda_W), ("--lambda-H", args.lambda_H)):
        require(math.isfinite(v) and v > 0, flag, "a finite number > 0", v)
    return args.lambda_W, args.lambda_H


def bias(args: argparse.Namespace) -> float | None:
    """``lambda_b`` of ``--bias``: ``None`` (none, the default), ``0.0`` (free) or the finite penalty > 0."""
    text = "none" if args.bias is None else str(args.bias).strip().lower()
    if text in ("none", "free"):
        return None if text == "none" else 0.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    require(math.isfinite(value) and value > 0, "--bias", "free, none or a finite number > 0 (lambda_b)", args.bias)
    return value
