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
* **Conclusion**: sentences derived from the scores by :func:`conclusion` and :func:`control_conclusions`.
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
from experiments.regime import REPORT_PRESET
from experiments.store import Run

#: Networks trained with the penalized model's own penalties (control 1, wd 0): a control, never a family.
CONTROL1_PRESET = "cpu-control-penalized"
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
        if g.config.get("preset") == CONTROL1_PRESET or g.oversample != 1 or g.K - int(g.config["K_A"]) < 2:
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


def theory_gap(runs: Sequence[Run], free_features: dict[str, Any] | None = None, norms: Norms | None = None
               ) -> dict[str, Any]:
    """Everything the section shows, from the store's ``runs`` and the free-features file's content
    (``{"rows": [...]}``, or None): families with their predictions and scores, both controls, and the
    conclusion.  Plain JSON-ready data (``inf`` included)."""
    groups = group_by_seed(runs)
    rows = [family_row(fam, norms) for fam in families(groups)]
    c1 = control1(runs)
    c2 = control2((free_features or {}).get("rows"), groups)
    return {"level": COLLAPSE_LEVEL, "agreement_factor": AGREEMENT_FACTOR, "models": MODELS, "families": rows,
            "control1": c1, "control2": c2, "conclusion": conclusion(rows) + control_conclusions(c1, c2)}


def inputs_digest(runs: Sequence[Run], free_features_path: Path) -> str:
    """SHA-256 of what :func:`theory_gap` reads: every run's folder, config and metrics, the size and mtime
    of checkpoints of runs whose metrics lack the norms (re-measured from them), and the free-features
    file's bytes.  With the sources, the key under which its result is stored."""
    digest = hashlib.sha256()
    for run in sorted(runs, key=lambda r: str(r.path)):
        digest.update(json.dumps([str(run.path), run.config, run.metrics], sort_keys=True, default=str).encode())
        ckpt = Path(run.path) / "checkpoint.pt"
        if "classifier_sq_norm" not in run.metrics and ckpt.is_file():
            st = ckpt.stat()
            digest.update(f"checkpoint {st.st_size} {st.st_mtime_ns}".encode())
    ff = Path(free_features_path)
    digest.update(ff.read_bytes() if ff.is_file() else b"<absent>")
    return digest.hexdigest()


def read_free_features(path: Path) -> dict[str, Any] | None:
    """The free-features control's file (:func:`experiments.free_features.run_grid`), or None if absent."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


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
