"""Last-layer analysis of a trained network (Section 4.C, Table 1, Tables 3/4, Fig. 2/4/5).

Extracts the classifier ``W  # (K, p)`` and the training-set features ``H  # (N, p)`` in float64,
then computes with :mod:`lpm_verify.metrics`: NC1–NC4, between-class cosines, norm variation,
accuracies, the ``(E_W, E_H)`` that make both constraints of Eq. 7 active, and the LPM's
prediction (minority cosine and threshold ``R_0``) for that fit from the solver stack.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from experiments.models import Classifier
from experiments.predictions import feature_norms, logit_margin
from lpm_verify import metrics as M


@torch.no_grad()
def features_and_logits(model: Classifier, X: torch.Tensor, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """``H  # (N, p)`` and logits ``# (N, K)`` in float64, eval mode, full precision (no autocast)."""
    model.eval()
    hs, zs = [], []
    for start in range(0, len(X), batch):
        h = model.features(X[start:start + batch]).float()
        hs.append(h.double().cpu())
        zs.append(model.classifier(h).double().cpu())
    return torch.cat(hs).numpy(), torch.cat(zs).numpy()


def accuracies(logits: np.ndarray, y: np.ndarray, K_A: int, prefix: str) -> dict[str, float]:
    """Accuracy overall, on majority labels ``< K_A`` and minority labels ``>= K_A`` (NaN if none)."""
    hit = np.argmax(logits, axis=1) == y
    out = {f"{prefix}_acc": float(hit.mean())}
    for name, mask in (("majority", y < K_A), ("minority", y >= K_A)):
        out[f"{prefix}_acc_{name}"] = float(hit[mask].mean()) if mask.any() else float("nan")
    return out


# The SDP of Eq. 15 is solved by Clarabel to ~1e-8 (DESIGN.md: SDP results good to ~1e-6); when the
# whole optimal loss is below 1e-6 those digits no longer pin down the minimiser's geometry.
SDP_RESOLVED_OBJECTIVE = 1e-6


def minority_confusions(logits: np.ndarray, y: np.ndarray, K_A: int) -> dict[str, int]:
    """Where the minority test examples (labels ``>= K_A``) go wrong (Fig. 5's caption: "the trained neural
    networks misclassify many examples in the minority classes as some majority classes"): how many are
    misclassified, and how many of those into a majority class (label ``< K_A``)."""
    pred = np.argmax(logits, axis=1)
    minority = y >= K_A
    wrong = minority & (pred != y)
    return {"test_minority_errors": int(wrong.sum()), "test_minority_errors_to_majority": int((wrong & (pred < K_A)).sum())}


def lpm_prediction(K: int, K_A: int, E_W: float, E_H: float, R_eff: float) -> dict[str, Any]:
    """The LPM's minority cosine at ``R_eff`` and its Minority-Collapse threshold ``R_0`` for this fit.

    Cosine: ``lpm_verify.sweep.sweep`` with the symmetry-reduced solver, falling back to the SDP of
    Eq. 15 (Clarabel) where that solver reports an error.  ``R_0``: the first transition into a
    ``minority-collapse`` regime from ``lpm_verify.regimes.find_thresholds`` (15 digits are plenty
    to compare with networks); None with the reason when there is none or the solve failed.
    A missing or failing solver stack is recorded, never replaced by a number.
    """
    try:
        from lpm_verify.regimes import find_thresholds
        from lpm_verify.sweep import sweep
    except ImportError as exc:
        return {"lpm_cos_minority": None, "lpm_R0": None, "lpm_status": f"missing: solver stack not importable ({exc})"}
    out: dict[str, Any] = {"lpm_cos_minority": None, "lpm_R0": None}
    failures = []
    t0 = time.perf_counter()
    for method in ("symmetric", "sdp"):
        # The solver stack is a separate component: any error it raises is recorded with the run,
        # so that a trained network's metrics are never lost to it.
        try:
            row = sweep(K, K_A, E_W, E_H, [R_eff], method=method)[0]
        except Exception as exc:  # noqa: BLE001 - recorded verbatim in lpm_status
            failures.append(f"{method}: {type(exc).__name__}: {exc}")
            continue
        if method == "sdp" and row["objective"] < SDP_RESOLVED_OBJECTIVE:
            failures.append(f"sdp: objective {row['objective']:.3g} is below what the SDP resolves "
                            f"({SDP_RESOLVED_OBJECTIVE:g}); its cosine {row['cos_minority']:.4f} is not used")
            break
        out.update(lpm_cos_minority=float(row["cos_minority"]), lpm_regime=row["regime"], lpm_method=method,
                   lpm_objective=float(row["objective"]))
        break
    try:
        transitions = find_thresholds(K, K_A, E_W, E_H, digits=15, per_decade=3)
    except Exception as exc:  # noqa: BLE001 - recorded verbatim in lpm_status
        failures.append(f"find_thresholds: {type(exc).__name__}: {exc}")
    else:
        out["lpm_transitions"] = [{"R": float(t.R), "from": t.from_regime, "to": t.to_regime,
                                   "certified": bool(t.certificate.get("certified"))} for t in transitions]
        collapse = [t for t in transitions if t.to_regime.startswith("minority-collapse")]
        if collapse and collapse[0].certificate.get("certified"):
            out["lpm_R0"] = float(collapse[0].R)
        elif collapse:  # an uncertified root may be another root of the threshold equation: not used
            failures.append(f"R_0: the root {float(collapse[0].R):.6g} found is not certified")
        else:
            failures.append("R_0: no transition into minority collapse for R in [1, inf]")
    out["lpm_status"] = "ok" if not failures else "; ".join(failures)
    out["lpm_seconds"] = time.perf_counter() - t0
    return out


def analyze(model: Classifier, X_train: torch.Tensor, y_train: torch.Tensor, X_test: torch.Tensor,
            y_test: torch.Tensor, K_A: int, R: float, oversample: int, lpm: bool = True) -> dict[str, Any]:
    """All metrics of one finished run (keys as in the store's ``metrics.json``); ``lpm=False``
    skips the LPM prediction (recorded as skipped)."""
    t0 = time.perf_counter()
    y = y_train.cpu().numpy()
    H, Z = features_and_logits(model, X_train)  # (N, p), (N, K)
    _, Z_test = features_and_logits(model, X_test)
    W = model.classifier.weight.detach().double().cpu().numpy()  # (K, p)
    b = None if model.classifier.bias is None else model.classifier.bias.detach().double().cpu().numpy()
    K = W.shape[0]
    present = np.bincount(y, minlength=K) > 0  # R = inf: minority classes have no training features
    out: dict[str, Any] = {}
    out.update(M.between_class_cosines(W, K_A))
    out["norm_variation_minority"] = M.norm_variation(W, np.arange(K_A, K))
    out["norm_variation_majority"] = M.norm_variation(W, np.arange(K_A))
    out.update(accuracies(Z, y, K_A, "train"))
    out.update(accuracies(Z_test, y_test.cpu().numpy(), K_A, "test"))
    out.update(minority_confusions(Z_test, y_test.cpu().numpy(), K_A))

    # NC1-NC4 over the classes that have training features (all of them unless R = inf).
    keep = np.flatnonzero(present)
    remap = np.full(K, -1)
    remap[keep] = np.arange(len(keep))
    Hk, yk, Wk = H, remap[y], W[keep]
    Kp = len(keep)
    out["nc_classes"] = int(Kp)
    for balanced, tag in ((True, ""), (False, "_weighted")):
        out[f"nc1{tag}"] = M.nc1(Hk, yk, Kp, balanced)
        out[f"nc2{tag}"] = M.nc2(Hk, yk, Kp, balanced)
        out[f"nc3{tag}"] = M.nc3(Wk, Hk, yk, balanced)
    out["nc2_W"] = M.etf_distance(W)
    out["nc4"] = M.nc4(Wk, Hk, yk, None if b is None else b[keep])

    # (E_W, E_H) making Eq. 7's constraints active: uncentred (the constraint as printed) and
    # centred at the class-balanced global mean; the LPM prediction uses the uncentred fit.
    out["fitted_E_W"], out["fitted_E_H"] = M.constraint_energies(Wk, Hk, yk)
    _, out["fitted_E_H_centred"] = M.constraint_energies(Wk, Hk, yk, centre=M.global_mean(Hk, yk, Kp, True))
    out["fitted_centring"] = "uncentred (Eq. 7 as printed); fitted_E_H_centred subtracts the class-balanced mean"
    if not present.all():
        out["fitted_note"] = "R = inf: E_H averages over the classes with training features only"
    out["bias"] = b is not None
    out.update(feature_norms(W, H))  # ||W||_F^2 and per-example mean ||h||^2 (experiments.predictions, (b))
    out["bias_norm"] = float(np.linalg.norm(b)) if b is not None else 0.0
    # The logit scale (calibration (c) of experiments.calibration reads it on the balanced runs).
    out["logit_margin"] = logit_margin(Z, y)

    # LPM prediction (Proposition 1: oversampling by w_r acts as n_B -> w_r n_B, i.e. R -> R / w_r).
    R_eff = R / oversample
    out["lpm_R_effective"] = "inf" if math.isinf(R_eff) else R_eff
    # lpm_*: for the uncentred fit (the constraints as printed); lpm_centred_*: for the centred one.
    for tag, E_H in (("lpm", out["fitted_E_H"]), ("lpm_centred", out["fitted_E_H_centred"])):
        pred = (lpm_prediction(K, K_A, out["fitted_E_W"], E_H, R_eff) if lpm else
                {"lpm_cos_minority": None, "lpm_R0": None, "lpm_status": "skipped (lpm=False for this run)"})
        out.update({tag + key[3:]: value for key, value in pred.items()})
    out["analysis_seconds"] = time.perf_counter() - t0
    return out
