"""Predictions and controls of "Why theory and practice differ", as plain data computed from the runs.

:func:`theory_gap` maps the store's runs (and the free-features control's rows) to one JSON-ready dict;
the report renders it and computes nothing.  Its parts:

* **Families.**  Runs that differ only in ``R`` and the seed (same setting, ``K_A``, weight decay, ``n_A``;
  no oversampling; at least two minority classes, ``K - K_A >= 2``, so that the minority cosine of
  Figs. 2 and 4 is defined; control presets apart).  ``K`` is read from the runs (``len(class_order)``).
  Per family: the seed-mean minority cosine over ``R``, the observed collapse point (the ``R`` where that
  cosine reaches :data:`~experiments.collapse.COLLAPSE_LEVEL`, a bound when it does not on the grid,
  :func:`~experiments.collapse.crossing`), and the collapse point of each model of
  :mod:`experiments.predictions` ((a) Eq. 7 at the fitted energies, (b) the penalized LPM with the
  balance calibration, (c) the unregularized limit), each the median over the family's runs at finite
  ``R``, with its :func:`score` against the observed point.
* **Control 1** (calibration): runs of :data:`CONTROL1_PRESET` (backbone weight decay 0, explicit
  penalties ``lambda_W``, ``lambda_H``) against the penalized LPM's exact collapse point
  ``R_c = (1/(lambda_W lambda_H) - K_B)/K_A`` and its optimum's minority cosine (symmetric KKT solve),
  also with features constrained to ``h >= 0`` (nonconvex solve, the MLP's features leave a ReLU).
* **Control 2** (dynamics): free features trained by SGD like the networks
  (:mod:`experiments.free_features`) against the optimum of the objective they minimize and the networks.
* **Out of sample** (:func:`out_of_sample`): on the families whose runs are in the paper's regime, each calibration of :mod:`experiments.calibration` that does not
  look at the outcome predicts the curve over ``R`` and its transition; scores per family (max and mean
  ``|delta cos|``, :func:`score` of the transition) and over held-out families (:func:`held_out`).
  "In regime" is the claims' own criterion, the weight-decay exposure (:data:`experiments.regime.TERMINAL_PHASE`).
* **Conclusion**: sentences derived from the scores by :func:`conclusion`, :func:`held_out_conclusion` and
  :func:`control_conclusions`.
"""
from __future__ import annotations

import hashlib
import json
import math
import statistics
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from experiments.claims_data import SeedGroup, group_by_seed, setting_of
from experiments.collapse import COLLAPSE_LEVEL, crossing
from experiments.predictions import log10_ratio, penalized_collapse_R, predictions
from experiments.regime import REPORT_PRESET, TERMINAL_PHASE, meets
from experiments.store import Run, read_store_json

#: Networks trained with the penalized model's own penalties (control 1, wd 0): a control, never a family.
CONTROL1_PRESET = "cpu-control-penalized"
#: Networks with a frozen random backbone (control 3: only W_L and the features' final linear map train).
FROZEN_PRESET = "cpu-control-frozen"
#: Presets of controls: never families.
CONTROL_PRESETS = (CONTROL1_PRESET, FROZEN_PRESET)
#: Folder of the store holding the free-features control (control 2), and its file.
FREE_FEATURES_DIR = "controls"
FREE_FEATURES_FILE = "free_features.json"
#: A prediction within this factor of the observed collapse point agrees with it.  Collapse points of one
#: configuration spread over seeds by up to about this factor on the cpu-report grid (R steps of 2.5 to 5),
#: so a closer agreement could not be resolved.
AGREEMENT_FACTOR = 2.0
#: The models of :mod:`experiments.predictions`, in the order the report shows them, with one line each.
MODELS: dict[str, str] = {
    "eq7": "(a) Eq. 7 at each run's fitted (E_W, E_H)",
    "penalized": "(b) the penalized LPM with lambda_W = wd and lambda_H from the balance relation "
                 "lambda_W ||W||^2 = lambda_H mean ||h||^2 (the run's measured norms)",
    "unregularized": "(c) the penalized LPM as lambda_W lambda_H -> 0 (no finite collapse)",
}
#: The same models named in a sentence, and why one can lack a prediction.
MODEL_NAMES: dict[str, str] = {"eq7": "(a) Eq. 7 at the fitted energies",
                               "penalized": "(b) the penalized LPM with the balance calibration",
                               "unregularized": "(c) the unregularized limit"}
MISSING_REASON: dict[str, str] = {"eq7": "no fitted energies or no LPM threshold in the runs' metrics",
                                  "penalized": "no measured norms, or no weight decay",
                                  "unregularized": "no observed curve"}
#: Verdicts of :func:`score`.
WITHIN, EARLY, LATE, NO_COLLAPSE, UNDECIDED, NO_PREDICTION = (
    "within", "early", "late", "no collapse", "undecided", "no prediction")

Norms = Callable[[str], dict[str, float]]


def score(predicted: float | None, observed: dict[str, Any], factor: float = AGREEMENT_FACTOR) -> dict[str, Any]:
    """A predicted collapse point against the observed one (:func:`~experiments.collapse.crossing`).

    ``{"verdict", "log10", "relation"}`` with ``log10 = log10(predicted / observed R)`` and ``relation``
    ``"="``, or ``"<="`` / ``">="`` when the observed point is only a bound (the true log ratio lies on
    that side).  Verdicts: ``within`` (``|log10| <= log10 factor``), ``early`` (the prediction is at a
    smaller ``R`` by more than ``factor``; also when it lies below ``R_max / factor`` on a grid where the
    networks never collapse), ``late`` (larger by more than ``factor``, or never), ``no collapse`` (the
    networks do not collapse on the grid and the prediction is not below it: neither confirmed nor
    refuted), ``undecided`` (collapsed already at the smallest ``R`` and the prediction is not above it),
    ``no prediction`` (no predicted value, or no observed curve).
    """
    value, relation = log10_ratio(predicted, observed)
    out = {"log10": value, "relation": relation}
    if value is None:
        return {**out, "verdict": NO_PREDICTION}
    tol = math.log10(factor)
    bound = observed["bound"]
    if bound == "=":
        verdict = WITHIN if abs(value) <= tol else (EARLY if value < 0 else LATE)
    elif bound == ">":  # observed > R_max: the true log ratio is below ``value``
        verdict = EARLY if value < -tol else NO_COLLAPSE
    else:  # observed <= R_min: the true log ratio is above ``value``
        verdict = LATE if value > tol else UNDECIDED
    return {**out, "verdict": verdict}


def _observed(R: Sequence[float], cos: Sequence[float]) -> dict[str, Any]:
    """The collapse point of the curve ``cos(R)`` (finite R with a finite cosine; :func:`experiments.collapse.crossing`),
    a bound off the grid; ``bound = "no data"`` without such points."""
    pts = sorted((float(r), float(c)) for r, c in zip(R, cos) if math.isfinite(r) and math.isfinite(c))
    if not pts:
        return {"R": None, "bound": "no data", "level": COLLAPSE_LEVEL}
    return crossing([r for r, _ in pts], [c for _, c in pts]).to_dict()


def _median(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(vals) if vals else None


def _curve(groups: list[SeedGroup]) -> dict[str, list]:
    finite = [g for g in groups if math.isfinite(g.R)]
    return {"R": [g.R for g in finite], "cos": [g.mean("cos_minority") for g in finite],
            "cos_sd": [g.spread("cos_minority") for g in finite], "seeds": [len(g.seeds) for g in finite]}


def families(groups: list[SeedGroup]) -> list[list[SeedGroup]]:
    """Groups of the same family (module docstring), each sorted by ``R``; families in a stable order."""
    out: dict[tuple, list[SeedGroup]] = {}
    for g in groups:
        if g.config.get("preset") in CONTROL_PRESETS or g.oversample != 1 or g.K - int(g.config["K_A"]) < 2:
            continue
        key = setting_of(g) + (int(g.config["K_A"]), float(g.config["wd"]), str(g.config.get("n_majority")))
        out.setdefault(key, []).append(g)
    return [sorted(fam, key=lambda g: g.R) for _, fam in sorted(out.items(), key=lambda kv: str(kv[0]))]


def family_row(fam: list[SeedGroup], norms: Norms | None = None) -> dict[str, Any]:
    """One family: its setting, curve, observed collapse point and each model's prediction with its score.

    Predictions are per run (all seeds at finite R), summarized by their median; ``norms(path)``
    re-measures ``||W||^2`` and ``mean ||h||^2`` of runs whose metrics predate them."""
    g0 = fam[0]
    curve = _curve(fam)
    observed = _observed(curve["R"], curve["cos"])
    per_run: dict[str, list] = {"eq7": [], "penalized": [], "lambda_H": []}
    for g in fam:
        if not math.isfinite(g.R):
            continue
        for metrics, path in zip(g.metrics, g.paths):
            m = dict(metrics)
            if "classifier_sq_norm" not in m and norms is not None:
                m.update(norms(path))
            pred = predictions({**g.config, "R": g.R}, m, K=g.K)
            per_run["eq7"].append(pred["eq7_R_collapse"])
            per_run["penalized"].append(pred["pen_R_collapse"])
            per_run["lambda_H"].append(pred["pen_lambda_H"])
    predicted = {"eq7": _median(per_run["eq7"]), "penalized": _median(per_run["penalized"]),
                 "unregularized": math.inf}
    c = g0.config
    return {"dataset": c.get("dataset"), "arch": c.get("arch"), "preset": c.get("preset"), "K": g0.K,
            "K_A": int(c["K_A"]), "wd": float(c["wd"]), "n_majority": c.get("n_majority"), **curve,
            "observed": observed, "runs": len(per_run["eq7"]), "penalized_lambda_H": _median(per_run["lambda_H"]),
            "models": {name: {"R": value, **score(value, observed)} for name, value in predicted.items()}}


def control1(runs: Sequence[Run], nonnegative_starts: int = 4) -> dict[str, Any] | None:
    """Control 1: observed vs predicted collapse point of the :data:`CONTROL1_PRESET` runs and the penalized
    optimum's minority cosine per R (also with ``h >= 0`` for ``R <= 2 R_c``); None without such runs."""
    own = [r for r in runs if r.config.get("preset") == CONTROL1_PRESET]
    if not own:
        return None
    fam = sorted(group_by_seed(own), key=lambda g: g.R)
    lw, lh = float(own[0].config["classifier_penalty"]), float(own[0].config["feature_penalty"])
    g0 = fam[0]
    K, K_A, width = g0.K, int(g0.config["K_A"]), g0.config.get("width")
    predicted = penalized_collapse_R(K, K_A, lw, lh)
    curve = _curve(fam)
    optimum = [_optimum_cos(K, K_A, R, lw, lh) for R in curve["R"]]
    nonneg = [_nonnegative_cos(K, K_A, R, lw, lh, int(width), nonnegative_starts)
              if width and R <= 2 * predicted else math.nan for R in curve["R"]]
    return {"K": K, "K_A": K_A, "width": width, "lambda_W": lw, "lambda_H": lh, "predicted": predicted,
            "observed": _observed(curve["R"], curve["cos"]), **curve,
            "train_acc": [g.mean("train_acc") for g in fam if math.isfinite(g.R)], "optimum_cos": optimum,
            "optimum_nonneg_cos": nonneg, "nonneg_starts": nonnegative_starts,
            "nonneg_observed": _observed(curve["R"], nonneg)}


def _optimum_cos(K: int, K_A: int, R: float, lw: float, lh: float) -> float:
    """Minority cosine of the penalized LPM's optimum (reduced KKT solve on the two-size profile)."""
    from lpm_verify.penalized_regimes import point_at
    from lpm_verify.solvers.penalized_symmetric import reduced_summary
    from lpm_verify.solvers.symmetric import Profile
    point = point_at(K, K_A, R, lw, lh)
    return reduced_summary(Profile.two_size(K, K_A, R, 1.0, 1.0), point, lw, lh)["cos_1"]


def _nonnegative_cos(K: int, K_A: int, R: float, lw: float, lh: float, p: int, starts: int) -> float:
    """Mean minority cosine of the penalized LPM with features constrained to ``h >= 0``: nonconvex
    L-BFGS-B, ``starts`` starts, class sizes ``(R,) * K_A + (1,) * K_B`` (integer ``R``; the model only
    sees the fractions), ``p`` = the network's width; NaN at a non-integer ``R``."""
    import numpy as np
    from lpm_verify.penalized import PenalizedLPM
    from lpm_verify.solvers.penalized_nonconvex import solve_penalized_nonconvex
    if not float(R).is_integer():
        return math.nan
    problem = PenalizedLPM((int(R),) * K_A + (1,) * (K - K_A), lw, lh, p=p)
    W = solve_penalized_nonconvex(problem, starts=starts, nonnegative_features=True).W[K_A:]
    n = np.linalg.norm(W, axis=1)
    C = (W @ W.T) / np.outer(n, n)
    return float(C[np.triu_indices(K - K_A, 1)].mean())


def control2(free_rows: list[dict[str, Any]] | None, groups: list[SeedGroup]) -> dict[str, Any] | None:
    """Control 2: free-features curves per (K_A, wd), the optimum they target, and the networks of the
    family with the same K_A and wd trained with the same hyperparameters (:data:`REPORT_PRESET`, whose
    settings :func:`experiments.free_features.grid` copies); None without free-features rows."""
    if not free_rows:
        return None
    fams = {(f[0].config.get("preset"), int(f[0].config["K_A"]), float(f[0].config["wd"])): f
            for f in families(groups)}
    out = []
    for K_A, wd in sorted({(r["K_A"], r["wd"]) for r in free_rows}):
        sel = [r for r in free_rows if (r["K_A"], r["wd"]) == (K_A, wd)]
        Rs = sorted({r["R"] for r in sel})
        free = [statistics.fmean([r["cos_minority"] for r in sel if r["R"] == R]) for R in Rs]
        opt = [statistics.fmean([r["opt_cos_minority"] for r in sel if r["R"] == R]) for R in Rs]
        collapsed = [all(r["opt_collapsed"] for r in sel if r["R"] == R) for R in Rs]
        nets = _curve(fams.get((REPORT_PRESET, K_A, wd), []))
        out.append({"K": int(sel[0]["K"]), "K_A": K_A, "wd": wd, "R": Rs, "free_cos": free,
                    "optimum_cos": opt, "optimum_collapsed": collapsed,
                    "free_observed": _observed(Rs, free),
                    "net_R": nets["R"], "net_cos": nets["cos"],
                    "net_observed": _observed(nets["R"], nets["cos"]),
                    "first_optimum_collapse": next((R for R, c in zip(Rs, collapsed) if c), None),
                    "free_minus_optimum": _mean_gap(Rs, free, Rs, opt),
                    "free_minus_networks": _mean_gap(Rs, free, nets["R"], nets["cos"]),
                    "networks_minus_optimum": _mean_gap(nets["R"], nets["cos"], Rs, opt),
                    "N": statistics.median(r["N"] for r in sel) if all("N" in r for r in sel) else None,
                    "train_acc": statistics.fmean([r["train_acc"] for r in sel]),
                    "seconds": sum(r["seconds"] for r in sel), "runs": len(sel)})
    return {"families": out}


def _mean_gap(R1: list[float], y1: list[float], R2: list[float], y2: list[float]) -> float | None:
    """Mean of ``y1 - y2`` over the ratios ``R > 1`` present (and finite) in both curves."""
    other = {R: y for R, y in zip(R2, y2) if math.isfinite(y)}
    diffs = [y - other[R] for R, y in zip(R1, y1) if R > 1 and R in other and math.isfinite(y)]
    return statistics.fmean(diffs) if diffs else None


def bound_text(observed: dict[str, Any]) -> str:
    """An observed collapse point in words: ``"R = 316"``, ``"R > 500"`` (a bound) or ``"R <= 10"``."""
    if observed.get("R") is None:
        return "no data"
    return f"R {observed['bound'] if observed['bound'] != '=' else '='} {observed['R']:.3g}"


def _by(log10s: list[float], bounded: bool) -> str:
    """How far off a set of predictions is: ``"by 3.2x to 31.6x"``, ``"by at least 10x"``, ``"(never
    collapsing)"``; infinite ratios (a model that never collapses) are counted apart."""
    finite = sorted((abs(v) for v in log10s if math.isfinite(v)))
    never = len(log10s) - len(finite)
    parts = []
    if finite:
        lo, hi = f"{10 ** finite[0]:.3g}x", f"{10 ** finite[-1]:.3g}x"
        parts.append(f"by {'at least ' if bounded else ''}{lo if lo == hi else f'{lo} to {hi}'}")
    if never:
        parts.append(f"({'it never collapses' if not finite else f'{never} never collapsing'})")
    return " ".join(parts)


def conclusion(rows: list[dict[str, Any]]) -> list[str]:
    """The sentences the family rows (:func:`family_row`) support, one per model and one for the families
    whose networks do not collapse on the grid; each number comes from the rows' scores."""
    if not rows:
        return ["No family of runs with two or more minority classes and no oversampling is in the store: "
                "no prediction can be compared with an observed collapse point."]
    out = []
    collapsed = [r for r in rows if r["observed"]["bound"] == "="]
    open_rows = [r for r in rows if r["observed"]["bound"] == ">"]
    for name, label in MODEL_NAMES.items():
        scores = [r["models"][name] for r in rows]
        parts = []
        within = [s for s in scores if s["verdict"] == WITHIN]
        early = [s for s in scores if s["verdict"] == EARLY]
        late = [s for s in scores if s["verdict"] == LATE]
        if within:
            parts.append(f"within {AGREEMENT_FACTOR:g}x of the observed collapse point on {len(within)}")
        if early:
            bounded = sum(s["relation"] != "=" for s in early)
            by = _by([s["log10"] for s in early], bounded == len(early))
            parts.append(f"early (collapse predicted at a smaller R) on {len(early)} {by}"
                         + (f", {bounded} of them where the networks do not collapse on the grid" if bounded else ""))
        if late:
            bounded = sum(s["relation"] != "=" for s in late)
            by = _by([s["log10"] for s in late], bounded == len(late))
            parts.append(f"late (collapse predicted at a larger R) on {len(late)} {by}")
        missing = sum(s["verdict"] == NO_PREDICTION for s in scores)
        if missing:
            parts.append(f"no prediction on {missing} ({MISSING_REASON[name]})")
        undecided = sum(s["verdict"] in (NO_COLLAPSE, UNDECIDED) for s in scores)
        if undecided:
            parts.append(f"undecided on {undecided} (the observed collapse point there is only a bound)")
        out.append(f"{label}, over {len(rows)} {'family' if len(rows) == 1 else 'families'}: " + "; ".join(parts) + ".")
    if open_rows:
        out.append(f"On {len(open_rows)} of {len(rows)} families the networks do not reach a minority cosine of "
                   f"{COLLAPSE_LEVEL:g} on the grid ("
                   + ", ".join(f"K_A = {r['K_A']}, wd = {r['wd']:g}: {bound_text(r['observed'])}" for r in open_rows)
                   + "): their collapse point is a lower bound, which refutes only predictions below it.")
    agreeing = [name for name in MODEL_NAMES if collapsed and all(
        r["models"][name]["verdict"] == WITHIN for r in collapsed)]
    if agreeing:
        out.append(f"{' and '.join(MODEL_NAMES[n] for n in agreeing)} predicts the collapse point within "
                   f"{AGREEMENT_FACTOR:g}x on every family where the networks collapse on the grid "
                   f"({len(collapsed)}).")
    elif collapsed:
        out.append(f"No model predicts the collapse point within {AGREEMENT_FACTOR:g}x on every one of the "
                   f"{len(collapsed)} families where the networks collapse on the grid.")
    return out


def control_conclusions(c1: dict[str, Any] | None, c2: dict[str, Any] | None) -> list[str]:
    """The sentences the two controls support (each number from the controls' data)."""
    out = []
    if c1:
        obs, predicted = c1["observed"], c1["predicted"]
        if obs["bound"] == "=":
            verdict = score(predicted, obs)
            out.append(f"Control 1: with the model's own penalties the networks collapse at R = {obs['R']:.3g} "
                       f"against the exact prediction {predicted:.3g} (log10 ratio {verdict['log10']:+.2f}: "
                       f"{_verdict_words(verdict['verdict'])}).")
            nn = c1["nonneg_observed"]
            if nn["bound"] == "=" and predicted > obs["R"]:
                closed = math.log(predicted / nn["R"]) / math.log(predicted / obs["R"])
                out.append(f"Constraining the model's features to be nonnegative, as the MLP's post-ReLU features "
                           f"are, moves its collapse point to R = {nn['R']:.3g}, {closed:.0%} of the way (in log R) "
                           f"to the networks; that solve is nonconvex ({c1['nonneg_starts']} starts, no "
                           "certificate), so this share is indicative only.")
        else:
            out.append(f"Control 1: the networks with the model's own penalties do not reach cosine "
                       f"{COLLAPSE_LEVEL:g} on the grid ({bound_text(obs)}); prediction R_c = {predicted:.3g}.")
    for f in (c2 or {}).get("families", []):
        head = f"Control 2 (K_A = {f['K_A']}, wd = {f['wd']:g})"
        beyond_one = [(c, done) for R, c, done in zip(f["R"], f["free_cos"], f["optimum_collapsed"]) if R > 1]
        if beyond_one and all(done for _, done in beyond_one):
            out.append(f"{head}: the free-features objective's optimum (lambda_H = wd N"
                       + (f", N = {f['N']:.0f}" if f.get("N") else "") + ") has identical minority classifiers "
                       f"at every R > 1 of the grid and SGD approaches it (minority cosine >= "
                       f"{min(c for c, _ in beyond_one):.3f}); networks: {bound_text(f['net_observed'])}.")
            continue
        gap_opt, gap_net, net_opt = f["free_minus_optimum"], f["free_minus_networks"], f["networks_minus_optimum"]
        if gap_opt is None or gap_net is None:
            out.append(f"{head}: inconclusive, the optimum's or the networks' cosine is undefined or missing at "
                       "every common R.")
            continue
        text = (f"{head}: free features trained by SGD collapse at {bound_text(f['free_observed'])} (networks "
                f"{bound_text(f['net_observed'])}); their minority cosine is {abs(gap_opt):.2f} "
                f"{'above' if gap_opt > 0 else 'below'} the optimum of their own objective and {gap_net:+.2f} "
                "against the networks on average over R > 1")
        if gap_opt > 0.1:
            text += (": SGD does not reach that optimum and collapses earlier than it, so the finite-time dynamics "
                     "alone move collapse to smaller R")
        if net_opt is not None and abs(net_opt) < 0.1:
            text += (f"; the networks' cosine is within {abs(net_opt):.2f} of that optimum on average (whether "
                     "that is more than a coincidence is not tested here)")
        out.append(text + ".")
    return out


def _verdict_words(verdict: str) -> str:
    return {WITHIN: f"within {AGREEMENT_FACTOR:g}x", EARLY: "the prediction is early",
            LATE: "the prediction is late"}.get(verdict, verdict)


def control_frozen(runs: Sequence[Run], norms: Norms | None = None) -> dict[str, Any] | None:
    """Control 3: the :data:`FROZEN_PRESET` runs at the paper's exposure as one family, with the out-of-sample
    calibrations (a)-(c) of :func:`out_of_sample`; None without such runs.  Same criterion as the families
    (:data:`TERMINAL_PHASE`, the exposure): a frozen random backbone need not fit every training example
    either."""
    own = [r for r in runs if r.config.get("preset") == FROZEN_PRESET]
    if not own:
        return None
    kept = [r for r in own if meets(r.metrics, TERMINAL_PHASE)[0]]
    groups = sorted(group_by_seed(kept), key=lambda g: g.R)
    row = _oos_row(groups, norms) if groups else None
    return {"runs": len(own), "runs_in_regime": len(kept), "family": row,
            "train_acc_minority": [g.mean("train_acc_minority") for g in groups]}


#: Calibrations a control's gap is read with, the first available one: the out-of-sample ones whose curve
#: is the model's (the gap is then the model's, not a fit's).
GAP_CALIBRATIONS = ("penalized_scale", "penalized_balance", "eq7_balanced")


def _gap(row: dict[str, Any] | None, name: str | None = None) -> dict[str, Any] | None:
    """The transition's log10 ratio and mean ``|delta cos|`` of one family under calibration ``name`` (the first
    available of :data:`GAP_CALIBRATIONS` when None)."""
    if row is None:
        return None
    for cand in ([name] if name else GAP_CALIBRATIONS):
        p = row["predictions"].get(cand)
        if p and p["verdict"] != NO_PREDICTION:
            return {"calibration": cand, "log10": p["log10"], "relation": p["relation"], "verdict": p["verdict"],
                    "mean_dcos": p["mean_dcos"]}
    return None


def controls_table(c1: dict[str, Any] | None, c2: dict[str, Any] | None, frozen: dict[str, Any] | None,
                   oos: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per control: the gap before (the networks) and after (the control), what it isolates, and
    whether its runs are present.  Gaps: log10 of predicted over observed transition (controls 1 and 3) or
    the mean cosine difference from the optimum over ``R > 1`` (control 2)."""
    def family(K_A: int, wd: float) -> dict[str, Any] | None:
        return next((r for r in oos["families"] if r["K_A"] == K_A and r["wd"] == wd), None)

    rows = []
    before1 = [g for g in (_gap(r, "penalized_balance") for r in oos["families"]) if g]
    after1 = score(c1["predicted"], c1["observed"]) if c1 else None
    rows.append({"control": "1: explicit penalties", "preset": CONTROL1_PRESET, "present": c1 is not None,
                 "isolates": "the calibration: the networks minimize the penalized model's own objective, so "
                             "lambda_W and lambda_H are known, not inferred",
                 "measure": "log10 predicted / observed transition of the penalized LPM",
                 "before": {"log10": _median(abs(g["log10"]) for g in before1 if g["relation"] == "="), "relation": "=",
                            "what": f"median |log10| of (b) over {len(before1)} families in regime"} if before1 else None,
                 "after": {"log10": after1["log10"], "relation": after1["relation"],
                           "what": "exact R_c of the control's penalties"} if after1 else None})
    fams2 = (c2 or {}).get("families", [])
    rows.append({"control": "2: free features", "preset": None, "present": c2 is not None,
                 "isolates": "feature learning: the features are free variables trained by SGD like the networks, "
                             "so only the training dynamics remain",
                 "measure": "mean cosine minus the optimum of the free-features objective over R > 1",
                 "before": {"dcos": _median(f["networks_minus_optimum"] for f in fams2), "what": "networks"}
                 if fams2 else None,
                 "after": {"dcos": _median(f["free_minus_optimum"] for f in fams2), "what": "free features"}
                 if fams2 else None})
    frozen_row = (frozen or {}).get("family")
    after3 = _gap(frozen_row)
    before3 = _gap(family(frozen_row["K_A"], frozen_row["wd"]), after3["calibration"]) if frozen_row and after3 else None
    rows.append({"control": "3: frozen random backbone", "preset": FROZEN_PRESET, "present": frozen is not None,
                 "isolates": "the last-layer geometry without feature learning: only W_L and the features' final "
                             "linear map train",
                 "measure": "log10 predicted / observed transition and mean |delta cos|, same calibration",
                 "before": before3, "after": after3})
    return rows


def frozen_conclusion(table: list[dict[str, Any]]) -> list[str]:
    """The sentence control 3 supports: whether freezing the backbone moves the calibrated model's gap."""
    row = next(r for r in table if r["preset"] == FROZEN_PRESET)
    before, after = row["before"], row["after"]
    if not row["present"]:
        return []
    if not before or not after:
        return ["Control 3 (frozen backbone): its runs are not in regime or lack an R = 1 run, or no cpu-regime "
                "family of the same K_A and wd is in the store: no gap to compare."]
    name = {"penalized_scale": "(c)", "penalized_balance": "(b)", "eq7_balanced": "(a)"}[after["calibration"]]
    text = (f"Control 3 (frozen backbone), calibration {name}: transition log10 predicted/observed "
            f"{_fmt_log(before)} with feature learning, {_fmt_log(after)} without")
    if before["mean_dcos"] is not None and after["mean_dcos"] is not None:
        text += f"; mean |delta cos| {before['mean_dcos']:.2f} -> {after['mean_dcos']:.2f}"
        smaller = after["mean_dcos"] < before["mean_dcos"]
        text += (": without feature learning the model's curve is closer, so feature learning accounts for part "
                 "of the gap" if smaller else ": freezing the features does not bring the curve closer, so the gap "
                 "is not from feature learning")
    return [text + "."]


def _fmt_log(g: dict[str, Any]) -> str:
    if g["log10"] is None:
        return "n/a"
    rel = "" if g["relation"] == "=" else g["relation"] + " "
    return f"{rel}{g['log10']:+.2f}"


def theory_gap(runs: Sequence[Run], free_features: dict[str, Any] | None = None, norms: Norms | None = None
               ) -> dict[str, Any]:
    """Everything the section shows, from the store's ``runs`` and the free-features file's content
    (``{"rows": [...]}``, or None): families with their predictions and scores, both controls, and the
    conclusion.  Plain JSON-ready data (``inf`` included)."""
    groups = group_by_seed(runs)
    rows = [family_row(fam, norms) for fam in families(groups)]
    c1 = control1(runs)
    c2 = control2((free_features or {}).get("rows"), groups)
    oos = out_of_sample(runs, norms)
    frozen = control_frozen(runs, norms)
    table = controls_table(c1, c2, frozen, oos)
    return {"level": COLLAPSE_LEVEL, "agreement_factor": AGREEMENT_FACTOR, "models": MODELS, "families": rows,
            "control1": c1, "control2": c2, "out_of_sample": oos, "control_frozen": frozen, "controls": table,
            "conclusion": conclusion(rows) + oos["conclusion"] + control_conclusions(c1, c2)
            + frozen_conclusion(table)}


def inputs_digest(runs: Sequence[Run], free_features_path: Path) -> str:
    """SHA-256 of what :func:`theory_gap` reads: every run's folder, config and metrics, the size and mtime
    of checkpoints of runs whose metrics lack the norms or the logit margin (re-measured from them), and the free-features
    file's bytes.  With the sources, the key under which its result is stored."""
    digest = hashlib.sha256()
    for run in sorted(runs, key=lambda r: str(r.path)):
        digest.update(json.dumps([str(run.path), run.config, run.metrics], sort_keys=True, default=str).encode())
        ckpt = Path(run.path) / "checkpoint.pt"
        if ("classifier_sq_norm" not in run.metrics or "logit_margin" not in run.metrics) and ckpt.is_file():
            st = ckpt.stat()
            digest.update(f"checkpoint {st.st_size} {st.st_mtime_ns}".encode())
    ff = Path(free_features_path)
    digest.update(ff.read_bytes() if ff.is_file() else b"<absent>")
    return digest.hexdigest()


def read_free_features(path: Path) -> dict[str, Any] | None:
    """The free-features control's file (:func:`experiments.free_features.run_grid`), or None if absent; read
    by the store's one guarded reader (a corrupt file is a named :class:`~experiments.store.StoreError`)."""
    path = Path(path)
    return read_store_json(path) if path.is_file() else None


def remeasured_norms() -> Norms:
    """``path -> {classifier_sq_norm, mean_feature_sq_norm}`` from the run's checkpoint (dataset loaded once,
    from its default location); ``{}`` when the data or the checkpoint are missing (then (b) has no value)."""
    from lpm_verify.errors import DataNotFoundError, LPMInputError
    datasets: dict[str, Any] = {}

    def norms(path: str) -> dict[str, float]:
        from experiments.data import load_dataset  # torch: imported only when a run needs re-measuring
        from experiments.run_norms import measure
        from experiments.store import load_run
        if not (Path(path) / "checkpoint.pt").is_file():
            return {}
        run = load_run(path)
        try:
            if run.config["dataset"] not in datasets:
                datasets[run.config["dataset"]] = load_dataset(run.config["dataset"])
            return measure(run, datasets[run.config["dataset"]])
        except (DataNotFoundError, LPMInputError):
            return {}
    return norms




def _curve_errors(R: Sequence[float], observed: Sequence[float], predicted: Sequence[float]) -> dict[str, Any]:
    """Max and mean ``|predicted - observed|`` over the ratios ``R > 1`` where both cosines are defined."""
    d = [abs(p - o) for r, o, p in zip(R, observed, predicted) if r > 1 and math.isfinite(o) and math.isfinite(p)]
    return {"max_dcos": max(d) if d else None, "mean_dcos": statistics.fmean(d) if d else None}


def _prediction(curve: Any, params: str, R: list[float], cos: list[float], observed: dict[str, Any],
                transition: float | None = None) -> dict[str, Any]:
    """One calibration's prediction for one family: its curve at the family's ``R``, the transition (the
    curve's crossing of the observed level unless given) and the scores."""
    from lpm_verify.errors import SolverError
    if curve is not None:
        try:
            pred_cos = [curve.cos(r) for r in R]
            dense = _dense(R)
            dense_cos = [curve.cos(r) for r in dense]
            if transition is None:
                transition = curve.transition(observed["level"])
        except SolverError as exc:  # recorded with the prediction, never replaced by a number
            curve, params = None, f"solve failed ({params}): {str(exc)[:160]}"
    if curve is None:
        return {"params": params, "cos": None, "transition": None, "collapse_R": None,
                **score(None, observed), "max_dcos": None, "mean_dcos": None}
    value = math.inf if transition is None else transition
    return {"params": params, "cos": pred_cos, "R_dense": dense, "cos_dense": dense_cos, "transition": value,
            "collapse_R": curve.collapse_R, **score(value, observed), **_curve_errors(R, cos, pred_cos)}


#: Points per decade of R at which a model curve is drawn between the grid's points (the scores use the grid).
DENSE_PER_DECADE = 4


def _dense(R: Sequence[float]) -> list[float]:
    """The finite grid ``R`` with :data:`DENSE_PER_DECADE` log-spaced points per decade from 1 to its largest
    value added, for drawing a model curve."""
    finite = [r for r in R if math.isfinite(r)]
    if not finite:
        return []
    top = math.log10(max(finite))
    steps = int(math.ceil(top * DENSE_PER_DECADE))
    return sorted(set(finite) | {10 ** (top * i / steps) for i in range(steps)})


def _label(row: dict[str, Any]) -> str:
    return f"K_A = {row['K_A']}, wd = {row['wd']:g}"


def _oos_row(fam: list[SeedGroup], norms: Norms | None) -> dict[str, Any]:
    """One family's curve, observed transition and the predictions of (a)-(c) and the in-sample bounds."""
    from experiments.calibration import balanced_curves, balanced_inputs
    row = family_row(fam, norms)
    R, cos = row["R"], row["cos"]
    g1 = next((g for g in fam if g.R == 1), None)
    preds: dict[str, Any] = {}
    if g1 is None:
        preds.update({name: _prediction(None, "not available: no R = 1 run in regime", R, cos, row["observed"])
                      for name in ("eq7_balanced", "penalized_balance", "penalized_scale")})
    else:
        inputs = balanced_inputs(g1, row["wd"], norms)
        for name, (curve, params) in balanced_curves(row["K"], row["K_A"], row["wd"], inputs).items():
            preds[name] = _prediction(curve, params, R, cos, row["observed"])
    in_eq7 = [g.mean("lpm_cos_minority") for g in fam if math.isfinite(g.R)]
    for name, model, params, curve in (("in_sample_eq7", "eq7", "each run's own fitted (E_W, E_H)", in_eq7),
                                       ("in_sample_penalized", "penalized", "each run's own balance calibration", None)):
        preds[name] = {"params": params, "cos": curve, "transition": row["models"][model]["R"],
                       "collapse_R": row["models"][model]["R"],
                       **{k: row["models"][model][k] for k in ("verdict", "log10", "relation")},
                       **(_curve_errors(R, cos, curve) if curve else {"max_dcos": None, "mean_dcos": None})}
    return {**{k: row[k] for k in ("dataset", "arch", "preset", "K", "K_A", "wd", "n_majority", "R", "cos", "cos_sd",
                                   "seeds", "observed")}, "predictions": preds, "transfer": []}


def out_of_sample(runs: Sequence[Run], norms: Norms | None = None) -> dict[str, Any]:
    """Families in the paper's regime and every calibration's prediction of their curve (module docstring).

    Only runs meeting :data:`TERMINAL_PHASE` enter; a family needs its ``R = 1`` runs for (a)-(c).
    (d) is fitted on each other family of the same dataset and architecture whose networks cross the level on
    the grid, one fold each."""
    from experiments.calibration import CALIBRATIONS, SHORT, fit_product, penalized_curve, transfer_R
    kept = [r for r in runs if meets(r.metrics, TERMINAL_PHASE)[0]]
    rows = [_oos_row(fam, norms) for fam in families(group_by_seed(kept))]
    for target in rows:
        for source in rows:
            same_setting = (source["dataset"], source["arch"]) == (target["dataset"], target["arch"])
            if source is target or not same_setting or source["observed"]["bound"] != "=":
                continue
            product = fit_product(source["K"], source["K_A"], source["observed"]["R"]) * (target["wd"] / source["wd"]) ** 2
            kind = " and ".join(k for k, a, b in (("K_A", source["K_A"], target["K_A"]), ("wd", source["wd"], target["wd"]),
                                                  ("n_A", source["n_majority"], target["n_majority"])) if a != b) or "setting"
            fold = _prediction(penalized_curve(target["K"], target["K_A"], product),
                               f"fitted on {_label(source)} (R_obs = {source['observed']['R']:.3g}): "
                               f"lambda_W lambda_H = {product:.4g}", target["R"], target["cos"], target["observed"],
                               transition=transfer_R(product, target["K"], target["K_A"]))
            target["transfer"].append({"source": _label(source), "across": kind, **fold})
    summary = held_out(rows)
    return {"criterion": TERMINAL_PHASE.describe(), "runs_in_regime": len(kept), "runs": len(runs),
            "calibrations": CALIBRATIONS, "short": SHORT,
            "families": rows, "held_out": summary, "conclusion": held_out_conclusion(summary, len(rows))}


def held_out(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per calibration, over the families it was not fitted on (every family for (a)-(c) and the in-sample
    bounds, every fold for (d)): median and worst ``|log10|`` of the transition where the observed point is
    exact, the verdict counts (bounds included) and the median curve errors."""
    from experiments.calibration import CALIBRATIONS, SHORT
    out = []
    for name, line in CALIBRATIONS.items():
        preds = ([f for r in rows for f in r["transfer"]] if name == "transfer"
                 else [r["predictions"][name] for r in rows])
        exact = [abs(p["log10"]) for p in preds if p["log10"] is not None and p["relation"] == "="]
        counts = {v: sum(p["verdict"] == v for p in preds) for v in (WITHIN, EARLY, LATE, NO_COLLAPSE, UNDECIDED,
                                                                     NO_PREDICTION)}
        out.append({"name": name, "line": line, "short": SHORT[name], "upper_bound": name.startswith("in_sample"), "scored": len(preds),
                    "exact": len(exact), "median_abs_log10": _median(exact),
                    "worst_abs_log10": max(exact) if exact else None, "counts": counts,
                    "median_max_dcos": _median(p["max_dcos"] for p in preds),
                    "median_mean_dcos": _median(p["mean_dcos"] for p in preds)})
    return out


def held_out_conclusion(summary: list[dict[str, Any]], n_families: int) -> list[str]:
    """Which calibration, if any, predicts the transition within :data:`AGREEMENT_FACTOR` out of sample, on how
    many families, and how the others miss (early, late, no collapse on the grid); from :func:`held_out`."""
    if not n_families:
        return ["Out of sample: no family of runs in the paper's regime (with two or more minority classes) is in "
                "the store, so no calibration could be scored; train them with the cpu-regime preset."]
    out = []
    reached = []
    for s in summary:
        if s["upper_bound"]:
            continue
        c = s["counts"]
        label = s["short"]
        if not s["scored"] or c[NO_PREDICTION] == s["scored"]:
            out.append(f"{label}: not available on any family.")
            continue
        parts = []
        if c[WITHIN]:
            parts.append(f"within {AGREEMENT_FACTOR:g}x on {c[WITHIN]}")
            reached.append(f"{label} ({c[WITHIN]} of {s['scored']})")
        if c[EARLY]:
            parts.append(f"early on {c[EARLY]}")
        if c[LATE]:
            parts.append(f"late on {c[LATE]}")
        if c[NO_COLLAPSE] or c[UNDECIDED]:
            parts.append(f"no collapse on the grid, consistent with the prediction, on {c[NO_COLLAPSE] + c[UNDECIDED]}")
        if c[NO_PREDICTION]:
            parts.append(f"not available on {c[NO_PREDICTION]}")
        err = ("" if s["median_abs_log10"] is None else
               f" (transition off by a median factor {10 ** s['median_abs_log10']:.3g}, worst "
               f"{10 ** s['worst_abs_log10']:.3g}, over {s['exact']} exact observed "
               f"{'point' if s['exact'] == 1 else 'points'})")
        if s["median_abs_log10"] is not None and math.isinf(s["median_abs_log10"]):
            err = " (the model does not collapse)"
        dcos = ("" if s["median_max_dcos"] is None else
                f"; curve: median max |delta cos| {s['median_max_dcos']:.2f}, mean {s['median_mean_dcos']:.2f}")
        unit = ("fold", "folds") if s["name"] == "transfer" else ("family", "families")
        out.append(f"Out of sample, {label}, over {s['scored']} {unit[s['scored'] != 1]}: "
                   + "; ".join(parts) + err + dcos + ".")
    if reached:
        out.append(f"Within a factor of {AGREEMENT_FACTOR:g} out of sample: " + ", ".join(reached) + ".")
    elif not any(s["exact"] for s in summary if not s["upper_bound"]):
        out.append(f"No family in regime reaches the level on its grid where a calibration predicts it, so no "
                   f"transition could be confirmed within a factor of {AGREEMENT_FACTOR:g}; predictions beyond the "
                   "grid are consistent with the bound, those inside it are refuted (early).")
    else:
        out.append(f"No calibration that does not look at the outcome predicts the transition within a factor of "
                   f"{AGREEMENT_FACTOR:g} on any family in regime.")
    return out
