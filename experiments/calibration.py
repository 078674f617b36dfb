"""Out-of-sample predictions of a network family's minority-cosine curve: each model solved at every ``R``
with parameters measured before collapse, never on the outcome.

A family is a set of runs that differ only in ``R`` and the seed (:func:`experiments.theory_gap.families`).
Its balanced runs (``R = 1``) are the only input of calibrations (a)-(c); (d) uses another family's observed
transition.  Each calibration, in one line, is :data:`CALIBRATIONS`.

* (a) Eq. 7 (Section 2) at ``(E_W, E_H)`` fitted on the ``R = 1`` runs (features centred at their
  class-balanced mean, as the authors' analysis; median over seeds), solved at each ``R`` by the symmetry
  reduced solver; its transition is where the curve reaches the level (bisection in ``log R`` below the
  certified threshold ``R_0`` of Section 4.B, the curve taken as increasing, as Fig. 3 shows).
* (b) the penalized LPM (:mod:`lpm_verify.penalized`) with ``lambda_W = wd`` and ``lambda_H`` from the
  balance relation ``lambda_W ||W||_F^2 = lambda_H mean_i ||h_i||^2`` measured on the ``R = 1`` runs.
* (c) the penalized LPM with the product ``lambda_W lambda_H = K / (e^s + K - 1)^2``
  (:func:`lpm_verify.penalized.balanced_product`, certified by theorems/penalized_calibration.py) at the
  ``R = 1`` runs' mean logit margin ``s`` (``logit_margin`` of :mod:`experiments.analysis`).
* (d) one-parameter transfer: ``lambda_W lambda_H = 1/(K_A R_obs + K_B)`` from another family's observed
  transition ``R_obs`` read as the model's exact collapse point, then ``R_c = (1/(lambda_W lambda_H) - K_B)/K_A``
  for this family (:func:`fit_product`, :func:`transfer_R`; exact on the model itself, checked in
  theorems/penalized_calibration.py).  Across weight decays the product is scaled by ``(wd/wd_fit)^2``:
  both penalties come from the weight decay (``lambda_W = wd``, ``lambda_H`` taken proportional to it).

Every function is pure apart from the solves; no torch.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from experiments.claims_data import SeedGroup
from experiments.predictions import penalized_collapse_R
from lpm_verify.penalized import balance_lambda_H, balanced_product

#: One line per calibration, in the order the report shows them.
CALIBRATIONS: dict[str, str] = {
    "eq7_balanced": "(a) Eq. 7 at the (E_W, E_H) fitted on the family's R = 1 runs only (centred features, median "
                    "over seeds); transition where its curve reaches the level",
    "penalized_balance": "(b) penalized LPM, lambda_W = wd and lambda_H from the balance relation lambda_W ||W||^2 = "
                         "lambda_H mean ||h||^2 measured on the R = 1 runs only; transition where its curve reaches "
                         "the level",
    "penalized_scale": "(c) penalized LPM, lambda_W lambda_H = K/(e^s + K - 1)^2 inverted from the R = 1 runs' mean "
                       "logit margin s (the balanced optimum's scale); transition where its curve reaches the level",
    "transfer": "(d) one-parameter transfer: lambda_W lambda_H = 1/(K_A R_obs + K_B) fitted on another family's "
                "observed transition (read as the model's collapse point; scaled by (wd/wd_fit)^2 across weight "
                "decays), predicting R_c = (1/(lambda_W lambda_H) - K_B)/K_A; leave-one-out over the families",
    "in_sample_eq7": "upper bound, in-sample: Eq. 7 at each run's own fitted (E_W, E_H), median R_0 over all runs",
    "in_sample_penalized": "upper bound, in-sample: penalized LPM with each run's own balance calibration, median "
                           "R_c over all runs",
}
#: The same, named in a sentence.
SHORT: dict[str, str] = {"eq7_balanced": "(a) Eq. 7 calibrated at R = 1",
                         "penalized_balance": "(b) the penalized LPM with the balance relation at R = 1",
                         "penalized_scale": "(c) the penalized LPM with the logit scale at R = 1",
                         "transfer": "(d) the one-parameter transfer",
                         "in_sample_eq7": "Eq. 7 in-sample (upper bound)",
                         "in_sample_penalized": "the penalized LPM in-sample (upper bound)"}
#: Calibrations that never see the family's outcome (the held-out ones).
HELD_OUT = ("eq7_balanced", "penalized_balance", "penalized_scale", "transfer")
#: The largest ratio a model curve is searched to (bisection bracket when a model never collapses below it).
R_SEARCH_MAX = 1e12
#: Bisection stops when the bracket is this narrow in log10 R: far below the factor-2 agreement scale.
LOG10_TOL = 1e-3

Norms = Callable[[str], dict[str, float]]


@dataclass(frozen=True)
class ModelCurve:
    """A model's minority cosine as a function of ``R`` and the ``R`` where it collapses exactly (None: not
    below :data:`R_SEARCH_MAX`)."""

    cos: Callable[[float], float]
    collapse_R: float | None

    def transition(self, level: float) -> float | None:
        """Smallest ``R`` where the curve reaches ``level``: bisection in ``log R`` on ``[1, collapse_R]``
        (the curve increasing in ``R``); None when the model does not collapse below :data:`R_SEARCH_MAX`.
        A zero minority classifier (undefined cosine, only beyond collapse) counts as collapsed."""
        if self.collapse_R is None:
            return None
        lo, hi = 0.0, math.log10(max(self.collapse_R, 1.0))
        if _reached(self.cos(1.0), level):
            return 1.0
        while hi - lo > LOG10_TOL:
            mid = (lo + hi) / 2
            if _reached(self.cos(10 ** mid), level):
                hi = mid
            else:
                lo = mid
        return 10 ** hi


def _reached(c: float, level: float) -> bool:
    return not math.isfinite(c) or c >= level


def penalized_curve(K: int, K_A: int, product: float) -> ModelCurve:
    """The penalized LPM (form (P)) at ``lambda_W lambda_H = product`` (only the product matters): minority
    cosine of the reduced KKT optimum (certified float64) and the exact collapse point."""
    from lpm_verify.penalized_regimes import point_at
    from lpm_verify.solvers.penalized_symmetric import reduced_summary
    from lpm_verify.solvers.symmetric import Profile
    lam = math.sqrt(product)

    def cos(R: float) -> float:
        point = point_at(K, K_A, R, lam, lam)
        return float(reduced_summary(Profile.two_size(K, K_A, R, 1.0, 1.0), point, lam, lam)["cos_1"])
    R_c = penalized_collapse_R(K, K_A, lam, lam)
    return ModelCurve(cos, max(R_c, 1.0) if R_c <= R_SEARCH_MAX else None)


def eq7_curve(K: int, K_A: int, E_W: float, E_H: float) -> ModelCurve:
    """Eq. 7 at ``(E_W, E_H)``: minority cosine from the symmetry-reduced solver, ``R_0`` the first certified
    transition into minority collapse (:func:`lpm_verify.regimes.find_thresholds`, 15 digits)."""
    from lpm_verify.regimes import find_thresholds
    from lpm_verify.sweep import sweep

    def cos(R: float) -> float:
        return float(sweep(K, K_A, E_W, E_H, [R], method="symmetric")[0]["cos_minority"])
    found = [t for t in find_thresholds(K, K_A, E_W, E_H, digits=15, per_decade=3)
             if t.to_regime.startswith("minority-collapse") and t.certificate.get("certified")]
    return ModelCurve(cos, float(found[0].R) if found else None)


def fit_product(K: Any, K_A: Any, R_obs: Any) -> Any:
    """``lambda_W lambda_H = 1/(K_A R + K_B)``: the product whose exact collapse point is ``R`` (the inverse of
    :func:`transfer_R`; works on floats and mpmath numbers)."""
    return 1 / (K_A * R_obs + (K - K_A))


def transfer_R(product: Any, K: Any, K_A: Any) -> Any:
    """``R_c = (1/product - K_B)/K_A``, the penalized model's collapse point (:func:`penalized_collapse_R`)."""
    return penalized_collapse_R(K, K_A, product, 1)


def _median(values: Sequence[float]) -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(vals) if vals else None


def balanced_inputs(g1: SeedGroup, wd: float, norms: Norms | None = None) -> dict[str, Any]:
    """What (a)-(c) read from the family's ``R = 1`` runs (median over seeds; None where absent):
    ``E_W``, ``E_H`` (centred), ``lambda_H`` (balance relation, ``wd > 0``), ``margin`` (mean logit margin;
    ``norms(path)`` re-measures it from a run's checkpoint when its metrics predate it)."""
    E_W, E_H, lam_H, margin = [], [], [], []
    for m, path in zip(g1.metrics, g1.paths):
        m = dict(m)
        if ("logit_margin" not in m or "classifier_sq_norm" not in m) and norms is not None:
            m.update({k: v for k, v in norms(path).items() if k not in m})
        E_W.append(_num(m.get("fitted_E_W")))
        E_H.append(_num(m.get("fitted_E_H_centred")))
        margin.append(_num(m.get("logit_margin")))
        w2, h2 = _num(m.get("classifier_sq_norm")), _num(m.get("mean_feature_sq_norm"))
        lam_H.append(balance_lambda_H(wd, w2, h2) if wd > 0 and w2 > 0 and h2 > 0 else math.nan)
    return {"E_W": _median(E_W), "E_H": _median(E_H), "lambda_H": _median(lam_H), "margin": _median(margin),
            "runs": len(g1.metrics)}


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def balanced_curves(K: int, K_A: int, wd: float, inputs: dict[str, Any]) -> dict[str, tuple[ModelCurve | None, str]]:
    """(a), (b), (c) for one family from :func:`balanced_inputs`: ``{name: (curve or None, parameters or why
    not available)}``."""
    out: dict[str, tuple[ModelCurve | None, str]] = {}
    if inputs["E_W"] and inputs["E_H"]:
        out["eq7_balanced"] = (eq7_curve(K, K_A, inputs["E_W"], inputs["E_H"]),
                               f"E_W = {inputs['E_W']:.4g}, E_H = {inputs['E_H']:.4g}")
    else:
        out["eq7_balanced"] = (None, "not available: the R = 1 runs have no fitted (E_W, centred E_H)")
    if inputs["lambda_H"] and wd > 0:
        product = wd * inputs["lambda_H"]
        out["penalized_balance"] = (penalized_curve(K, K_A, product),
                                    f"lambda_W = {wd:g}, lambda_H = {inputs['lambda_H']:.4g}")
    else:
        out["penalized_balance"] = (None, "not available: no weight decay or no measured norms at R = 1")
    if inputs["margin"] is not None and inputs["margin"] > 0:
        product = float(balanced_product(K, inputs["margin"]))
        out["penalized_scale"] = (penalized_curve(K, K_A, product),
                                  f"s = {inputs['margin']:.4g}, lambda_W lambda_H = {product:.4g}")
    else:
        out["penalized_scale"] = (None, "not available: the R = 1 runs have no positive logit_margin (runs "
                                        "analysed before the metric existed and without a checkpoint)")
    return out
