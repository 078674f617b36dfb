"""Predicted Minority-Collapse points for a trained network, from three models, and the observed one.

(a) ``eq7``: Eq. 7 at the run's fitted ``(E_W, E_H)`` (``lpm_R0`` of :mod:`experiments.analysis`).
(b) ``penalized``: the penalized LPM (:mod:`lpm_verify.penalized`) with ``lambda_W`` = the run's weight
    decay (PyTorch's ``SGD(weight_decay=wd)`` minimizes ``loss + (wd/2)||theta||^2``) and ``lambda_H`` from
    the **balance calibration**: at every stationary point of the penalized objective the rescaling
    ``(W, H) -> (tW, H/t)`` is stationary at ``t = 1``, so ``lambda_W ||W||_F^2 = lambda_H mean_i ||h_i||^2``,
    evaluated with the run's measured ``||W||_F^2`` and per-example ``mean_i ||h_i||^2``.  A run trained
    with explicit penalties (``classifier_penalty``/``feature_penalty``, backbone ``wd = 0``) uses those
    instead (calibration ``explicit``).  Its collapse point is exact and closed-form
    (theorems/penalized_lpm.py): the minority classifiers are identical iff
    ``n_B / N <= lambda_W lambda_H``, i.e. ``R >= R_c = (1/(lambda_W lambda_H) - K_B) / K_A``.
(c) ``unregularized``: ``lambda_W lambda_H -> 0`` gives ``R_c -> inf``: without regularization the
    penalized model never collapses at finite R (a parameter-free floor: no finite prediction).

Observed: :func:`experiments.collapse.crossing` of a group's seed-mean minority cosine at
``COLLAPSE_LEVEL`` (0.9), a bound when the grid does not bracket it.  All functions are pure.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from lpm_verify.penalized import balance_lambda_H

CALIBRATION_BALANCE = ("balance: lambda_W = wd, lambda_H = wd ||W||_F^2 / mean_i ||h_i||^2 (stationarity of the "
                       "rescaling (W, H) -> (tW, H/t)), measured norms of the run")
CALIBRATION_EXPLICIT = "explicit: lambda_W = classifier_penalty, lambda_H = feature_penalty of the run (wd = 0)"


def feature_norms(W: np.ndarray, H: np.ndarray) -> dict[str, float]:
    """``||W||_F^2`` of ``W  # (K, p)`` and the per-example ``mean_i ||h_i||^2`` of ``H  # (N, p)``."""
    return {"classifier_sq_norm": float(np.sum(W * W)), "mean_feature_sq_norm": float(np.mean(np.sum(H * H, axis=1)))}


def logit_margin(Z: np.ndarray, y: np.ndarray) -> float:
    """Mean over examples of ``z_y - mean_{k != y} z_k`` for logits ``Z  # (N, K)`` and labels ``y  # (N,)``: the
    logit scale of a network.  At the balanced optimum of the penalized LPM every example has margin ``s`` with
    ``lambda_W lambda_H = K/(e^s + K - 1)^2`` (:func:`lpm_verify.penalized.balanced_product`)."""
    K = Z.shape[1]
    own = Z[np.arange(len(y)), y]
    return float(np.mean(own - (Z.sum(axis=1) - own) / (K - 1)))


def penalized_collapse_R(K: int, K_A: int, lambda_W: float, lambda_H: float) -> float:
    """``R_c = (1/(lambda_W lambda_H) - K_B) / K_A`` (>= 0; the two-size family collapses for ``R >= R_c``)."""
    return max((1.0 / (lambda_W * lambda_H) - (K - K_A)) / K_A, 0.0)


def penalized_prediction(config: dict[str, Any], metrics: dict[str, Any], K: int = 10) -> dict[str, Any]:
    """(b) for one run: ``lambda_W, lambda_H``, the calibration used, ``R_c``, and whether the run's own
    (effective, Proposition 1: ``R / oversample``) ratio is beyond it.  ``None`` values with a reason
    when the norms are missing or the run has no regularization at all."""
    K_A = int(config["K_A"])
    wd = float(config.get("wd", 0.0))
    lw_exp, lh_exp = float(config.get("classifier_penalty", 0.0)), float(config.get("feature_penalty", 0.0))
    out: dict[str, Any] = {"pen_lambda_W": None, "pen_lambda_H": None, "pen_R_collapse": None}
    if lw_exp > 0 and lh_exp > 0:
        lw, lh, calibration = lw_exp, lh_exp, CALIBRATION_EXPLICIT
    elif wd > 0 and metrics.get("classifier_sq_norm") and metrics.get("mean_feature_sq_norm"):
        lw = wd
        lh = balance_lambda_H(wd, float(metrics["classifier_sq_norm"]), float(metrics["mean_feature_sq_norm"]))
        calibration = CALIBRATION_BALANCE
    else:
        out["pen_calibration"] = ("none: the run has no weight decay or explicit penalties" if wd <= 0 else
                                  "missing: the run's metrics have no measured norms (classifier_sq_norm)")
        return out
    R_c = penalized_collapse_R(K, K_A, lw, lh)
    R = float(config["R"]) / float(config.get("oversample", 1) or 1)
    out.update({"pen_lambda_W": lw, "pen_lambda_H": lh, "pen_calibration": calibration, "pen_R_collapse": R_c,
                "pen_collapsed_at_R": bool(R >= R_c)})
    return out


def predictions(config: dict[str, Any], metrics: dict[str, Any], K: int = 10) -> dict[str, Any]:
    """(a), (b), (c) for one run (keys ``eq7_R_collapse``, ``pen_*``, ``unregularized_R_collapse``)."""
    out: dict[str, Any] = {"eq7_R_collapse": metrics.get("lpm_R0"),
                           "eq7_calibration": "Eq. 7 at the fitted (E_W, E_H) (uncentred)"}
    out.update(penalized_prediction(config, metrics, K))
    out["unregularized_R_collapse"] = math.inf
    out["unregularized_note"] = ("lambda_W lambda_H -> 0: n_B/N <= lambda_W lambda_H never holds, "
                                 "no collapse at finite R")
    return out


def log10_ratio(predicted: float | None, observed: dict[str, Any]) -> tuple[float | None, str]:
    """``(log10(predicted / observed R), relation)`` for ``observed`` a :meth:`Crossing.to_dict`; the relation is ``"="`` or, when the observed point is
    only a bound, the direction in which the true log ratio lies (``"<="`` for an observed ``">"``)."""
    if predicted is None or observed.get("R") is None:
        return None, "n/a"
    if math.isinf(predicted):
        return math.inf, "="
    value = math.log10(max(predicted, 1e-300) / observed["R"])
    relation = {"=": "=", ">": "<=", "<=": ">="}.get(observed["bound"], "?")
    return value, relation
