"""Penalized LPM (not a result of the paper): the two relations that calibrate it on networks without looking
at where they collapse (experiments/calibration.py, "Why theory and practice differ").

* **Balanced scale.**  At ``R = 1`` (``pi_k = 1/K``) the optimum of the convex form (P) of
  :mod:`lpm_verify.penalized` is ``Z = s (I - 11^T/K)`` (symmetry and convexity; nuclear weight
  ``(K-1) s / sqrt(K)``), so its logit margin ``s`` minimizes ``log(1 + (K-1) e^{-s}) + c (K-1) s / sqrt(K)`` and
  ``lambda_W lambda_H = c^2 = K / (e^s + K - 1)^2`` (:func:`lpm_verify.penalized.balanced_product`): the
  balanced run's measured logit scale determines the product.  Checked in sympy (stationarity) and on the
  reduced KKT solver (the margin of its certified optimum).
* **Closed-form transfer.**  The collapse point ``R_c = (1/(lambda_W lambda_H) - K_B)/K_A`` has one parameter:
  the product fitted on one ``K_A``'s certified threshold predicts another's exactly
  (:func:`experiments.calibration.fit_product`, :func:`experiments.calibration.transfer_R`).

Origin ``beyond``: searched (``search`` tool, corpus "pages") for the balanced scale of the regularized
cross-entropy unconstrained-features model; Zhu et al., "A Geometric Analysis of Neural Collapse with
Unconstrained Features" (arXiv 2105.02375) characterize its global minimizers as simplex ETFs, but only the
abstract could be read, which states no scale relation; the transfer of the threshold across ``K_A`` is this
suite's reading of the threshold of W. Hong and S. Ling (arXiv 2309.09725), checked on the model.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import mpmath
import sympy as sp

from experiments.calibration import fit_product, transfer_R
from lpm_verify.penalized import balanced_product
from lpm_verify.records import Outcome
from lpm_verify.registry import check
from lpm_verify.symbolic import decide_zero, identities_outcome
from theorems._literature import BEYOND

#: (K, lambda_W, lambda_H) of the solver check: the CLI's target product, a small one (margin ~ 8, the networks'
#: range) and a K = 4 case.
SCALE_CASES = ((10, 0.01, 0.5), (10, 1e-3, 1e-3), (10, 5e-4, 1e-2), (4, 0.05, 0.2))
#: (K, K_A fitted, K_A predicted, lambda_W, lambda_H) of the transfer check, plus a change of K.
TRANSFER_CASES = ((10, 3, 5, 0.1, 0.5), (10, 5, 7, 0.1, 0.5), (10, 7, 3, 0.1, 0.5), (10, 5, 3, 0.01, 0.5))

s_, c_, K_ = sp.symbols("s c K", positive=True)

Formula = Callable[..., Any]


def balanced_objective() -> sp.Expr:
    """(P) at ``Z = s (I - 11^T/K)``, ``pi_k = 1/K``: ``log(1 + (K-1) e^{-s}) + c (K-1) s / sqrt(K)``."""
    return sp.log(1 + (K_ - 1) * sp.exp(-s_)) + c_ * (K_ - 1) * s_ / sp.sqrt(K_)


def scale_stationarity(formula: Formula) -> sp.Expr:
    """``c^2 - formula(K, s)`` with ``c`` the root of ``d/ds`` :func:`balanced_objective` ``= 0`` (linear in ``c``):
    0 iff ``formula`` is the product of the penalties at which margin ``s`` is optimal (the objective is convex
    in ``s``, so stationarity is optimality)."""
    (root,) = sp.solve(sp.diff(balanced_objective(), s_), c_)
    return sp.simplify(root**2 - formula(K_, s_, exp=sp.exp))


@check("Penalized LPM/balanced-scale-derivation", method="symbolic", digits=None, tolerance=0.0, part="derivation",
       reason="exact sympy identity", **BEYOND,
       claim="at R = 1 the penalized optimum's logit margin s satisfies lambda_W lambda_H = K/(e^s + K - 1)^2 "
             "(stationarity of log(1 + (K-1)e^-s) + sqrt(lambda_W lambda_H)(K-1)s/sqrt(K))")
def _balanced_scale_derivation() -> Outcome:
    return scale_derivation_outcome(balanced_product)


def scale_derivation_outcome(formula: Formula) -> Outcome:
    """:func:`scale_stationarity` of ``formula`` decided by sympy (fails unless proved)."""
    return identities_outcome({"stationarity": decide_zero(scale_stationarity(formula))})


def scale_errors(formula: Formula) -> list[dict[str, Any]]:
    """Relative error of ``formula(K, s)`` against ``lambda_W lambda_H`` at the margin ``s`` of the certified
    reduced-KKT optimum of (P) at R = 1 (:func:`lpm_verify.penalized_regimes.point_at`)."""
    from lpm_verify.penalized_regimes import point_at
    from lpm_verify.solvers.penalized_symmetric import class_logits
    from lpm_verify.solvers.symmetric import Profile
    out = []
    for K, lw, lh in SCALE_CASES:
        K_A = K // 2
        Z = class_logits(Profile.two_size(K, K_A, 1.0, 1.0, 1.0), point_at(K, K_A, 1.0, lw, lh), lw, lh)
        s = float(Z[0, 0] - Z[1, 0])
        out.append({"case": [K, lw, lh], "margin": s, "relative_error": abs(float(formula(K, s)) / (lw * lh) - 1)})
    return out


@check("Penalized LPM/balanced-scale-solver", method="solver", tolerance=1e-9, **BEYOND,
       reason="the float64 KKT point has residual < 1e-13; the margin s enters through e^s, so its error is "
              "amplified by about s ~ 10 in the product",
       claim="the certified optimum of the penalized LPM at R = 1 has the logit margin s with lambda_W lambda_H = "
             "K/(e^s + K - 1)^2")
def _balanced_scale_solver() -> Outcome:
    rows = scale_errors(balanced_product)
    return Outcome("lambda_W lambda_H = K/(e^s + K - 1)^2", rows, max(r["relative_error"] for r in rows))


def transfer_errors(fit: Formula, predict: Formula, digits: int = 30) -> list[dict[str, Any]]:
    """Fit the product on one ``K_A``'s certified collapse threshold with ``fit(K, K_A, R)``, predict another
    ``K_A``'s with ``predict(product, K, K_A)``; relative error against that one's certified root (inf when a
    root is missing or uncertified)."""
    from lpm_verify.penalized_regimes import find_penalized_thresholds

    def root(K: int, K_A: int, lw: float, lh: float) -> Any:
        found = [t for t in find_penalized_thresholds(K, K_A, lw, lh, digits=digits)
                 if t.to_regime.startswith("minority-collapse (")]
        return found[0].R if len(found) == 1 and found[0].certificate["certified"] else None

    out = []
    for K, K_fit, K_pred, lw, lh in TRANSFER_CASES:
        with mpmath.workdps(digits + 15):
            R_fit, R_true = root(K, K_fit, lw, lh), root(K, K_pred, lw, lh)
            ok = R_fit is not None and R_true is not None
            pred = predict(fit(K, K_fit, R_fit), K, K_pred) if ok else None
            err = abs(pred / R_true - 1) if ok else mpmath.inf
            out.append({"case": [K, K_fit, K_pred, lw, lh], "fitted_on": None if R_fit is None else mpmath.nstr(R_fit, 20),
                        "predicted": None if pred is None else mpmath.nstr(pred, 20),
                        "certified_root": None if R_true is None else mpmath.nstr(R_true, 20),
                        "relative_error": float(err)})
    return out


@check("Penalized LPM/collapse-transfer", method="numeric", digits=30, tolerance=1e-25, **BEYOND,
       reason="the certified roots have 30 significant digits (Newton at 45 digits, residual < 1e-40)",
       claim="lambda_W lambda_H = 1/(K_A R_c + K_B) fitted on one K_A's certified collapse threshold predicts "
             "another K_A's certified threshold through R_c = (1/(lambda_W lambda_H) - K_B)/K_A to 30 digits")
def _collapse_transfer() -> Outcome:
    rows = transfer_errors(fit_product, transfer_R)
    worst = max(r["relative_error"] for r in rows)
    return Outcome("fit on one K_A, predict another", rows, worst if math.isfinite(worst) else math.nan)
