"""Report section "Why theory and practice differ": renders the data of :func:`experiments.theory_gap.theory_gap`
(families with each model's predicted and the observed collapse point, the two controls, the conclusion).

Nothing here computes a prediction, solves a model or words a conclusion: the build step computes the data
once per change of the runs (cached beside the store) and this module lays it out.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from lpm_verify.report import figures
from lpm_verify.report.cache import Cache
from lpm_verify.report.document import Code, Figure, Heading, Section, note, para, rich, table

#: Commands that produce the controls' inputs (shown when they are absent).
CONTROL1_COMMAND = "python -m lpm_verify train --preset {preset} --out {runs}"
FREE_FEATURES_COMMAND = "python -m experiments.free_features --out {folder}"
#: The preset whose runs are in the paper's regime (the out-of-sample families).
REGIME_COMMAND = "python -m lpm_verify train --preset cpu-regime --out {runs}"


def _fmt_R(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.3g}" if x < 1e4 else f"{x:.2e}"


def _fmt_score(s: dict[str, Any]) -> str:
    value = s.get("log10")
    if value is None:
        return "-"
    if math.isinf(value):
        return "+inf"
    rel = "" if s["relation"] == "=" else s["relation"] + " "
    return f"{rel}{value:+.2f}"


def _obs(o: dict[str, Any]) -> str:
    if o.get("R") is None:
        return "-"
    return {"=": "", ">": "> ", "<=": "<= "}.get(o["bound"], "") + _fmt_R(o["R"])


def _at(o: dict[str, Any]) -> str:
    """An observed point as ``R = 66``, ``R <= 10`` or ``R > 250``."""
    return "no data" if o.get("R") is None else f"R {o['bound'] if o['bound'] in ('>', '<=') else '='} {_fmt_R(o['R'])}"


def _cos(x: float | None) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.3f}"


def theory_gap_section(data: dict[str, Any], runs_root: str, out: Path, *, control1_preset: str,
                       free_features_folder: str, cache: Cache | None = None) -> Section:
    """The section; figures are written into ``out``.  ``data`` is :func:`experiments.theory_gap.theory_gap`'s."""
    sec = Section("theory-gap", "Why theory and practice differ")
    sec.add(para(*rich(
        "The penalized Layer-Peeled Model `(1/N) sum CE + (lambda_W/2)||W||^2 + (lambda_H/2)(1/N) sum ||h||^2` "
        "(the form Eqs. 3-4 start from before the Lagrangian argument) equals the convex program "
        "`min_Z sum_k pi_k CE(Z_k) + sqrt(lambda_W lambda_H) ||Z diag(sqrt(pi))||_*` and collapses exactly: the "
        "minority classifiers are identical iff `n_B/N <= lambda_W lambda_H`, i.e. "
        "`R >= R_c = (1/(lambda_W lambda_H) - K_B)/K_A`, the sharp threshold of W. Hong and S. Ling, arXiv "
        "2309.09725 (their sum feature penalty converted, lambda_H = N lambda_H(theirs)), certified here against "
        "the reduced KKT solver at 30 digits, "
        "`python -m lpm_verify verify --only \"Penalized LPM\"`).")))
    _families(sec, data)
    _out_of_sample(sec, data.get("out_of_sample"), runs_root, out, cache)
    _control1(sec, data.get("control1"), runs_root, out, control1_preset, cache)
    _control2(sec, data.get("control2"), out, free_features_folder, cache)
    _controls(sec, data.get("controls"), runs_root, free_features_folder)
    sec.add(Heading("Conclusion"))
    for text in data["conclusion"]:
        sec.add(para(text))
    return sec


def _families(sec: Section, data: dict[str, Any]) -> None:
    rows = data["families"]
    sec.add(Heading("Predicted vs observed collapse point"))
    if not rows:
        sec.add(note("No family of runs with two or more minority classes and no oversampling in the store: the "
                     "predictions table needs them."))
        return
    level, factor = data["level"], data["agreement_factor"]
    sec.add(table(
        ["runs", "K", "K_A", "wd", f"observed R (cos >= {level:g})", "(a) Eq. 7 R_0", "log10 (a)/obs", "(a)",
         "(b) penalized R_c", "log10 (b)/obs", "(b)", "(b) lambda_H", "(c) lambda -> 0", "(c)", "n"],
        [[f"{r['dataset']} / {r['arch']} / {r['preset']}", str(r["K"]), str(r["K_A"]), f"{r['wd']:g}",
          _obs(r["observed"]),
          _fmt_R(r["models"]["eq7"]["R"]), _fmt_score(r["models"]["eq7"]), r["models"]["eq7"]["verdict"],
          _fmt_R(r["models"]["penalized"]["R"]), _fmt_score(r["models"]["penalized"]),
          r["models"]["penalized"]["verdict"], _fmt_R(r["penalized_lambda_H"]),
          _fmt_R(r["models"]["unregularized"]["R"]), r["models"]["unregularized"]["verdict"], str(r["runs"])]
         for r in rows],
        caption="; ".join(data["models"].values()) + ". Predictions: median over the family's runs at finite R (all "
                f"seeds). Observed: the R where the seed-mean minority cosine reaches {level:g} (log-linear "
                "interpolation); '> R' = never on the grid, so that log ratio is an upper bound. Verdicts: within "
                f"{factor:g}x, early (collapse predicted at a smaller R), late, no collapse (not on the grid and "
                "not predicted below it), undecided."))


def _control1(sec: Section, c1: dict[str, Any] | None, runs_root: str, out: Path, preset: str,
              cache: Cache | None) -> None:
    sec.add(Heading("Control 1: explicit penalties (calibration)"))
    if not c1:
        sec.add(note(f"No {preset} runs in the store; train them with ",
                     Code(CONTROL1_COMMAND.format(preset=preset, runs=runs_root)), "."))
        return
    panel = figures.Panel(f"MLP, wd 0, lambda_W = lambda_H = {c1['lambda_W']:.4f}, K_A = {c1['K_A']}", c1["K"],
                          [figures.Curve("networks (mean +- sd over seeds)", c1["R"], c1["cos"], c1["cos_sd"],
                                         marks_x=[c1["predicted"]], marks_y=[1.0])],
                          [figures.Curve("penalized LPM optimum", c1["R"], c1["optimum_cos"]),
                           figures.Curve("same, features >= 0 (ReLU)", c1["R"], c1["optimum_nonneg_cos"])],
                          marks_label="predicted collapse point R_c")
    figures.network_overlay(panel, out / "theory_gap_control1.png", cache=cache)
    sec.add(Figure("theory_gap_control1.png", "Control 1: minority cosine of networks trained with the "
                   "penalized model's own penalties (solid) and the penalized model's optimum (dotted)."))
    sec.add(table(["R", "seeds", "network cos (mean)", "sd", "train acc", "optimum cos", "optimum cos, h >= 0"],
                  [[_fmt_R(R), str(s), _cos(c), _cos(sd), _cos(acc), _cos(o), _cos(nn)]
                   for R, s, c, sd, acc, o, nn in zip(c1["R"], c1["seeds"], c1["cos"], c1["cos_sd"], c1["train_acc"],
                                                      c1["optimum_cos"], c1["optimum_nonneg_cos"])],
                  caption="optimum cos, h >= 0: the penalized LPM with nonnegative features (the MLP's features "
                          f"leave a ReLU), nonconvex solve, {c1['nonneg_starts']} starts, p = {c1['width']}, for "
                          "R <= 2 R_c."))
    level = c1["observed"]["level"]
    sec.add(para(f"Collapse (minority cosine >= {level:g}): predicted at R_c = {_fmt_R(c1['predicted'])} (exact); "
                 f"in the model with features >= 0 at {_at(c1['nonneg_observed'])}; in the networks at "
                 f"{_at(c1['observed'])}."))


def _control2(sec: Section, c2: dict[str, Any] | None, out: Path, folder: str, cache: Cache | None) -> None:
    sec.add(Heading("Control 2: free features trained like the networks (dynamics)"))
    if not c2:
        sec.add(note("No free-features results in the store; compute them with ",
                     Code(FREE_FEATURES_COMMAND.format(folder=folder)), "."))
        return
    fams = c2["families"]
    panels = [figures.Panel(f"K_A = {f['K_A']}, wd = {f['wd']:g}", f["K"], [
        figures.Curve("free features (SGD)", f["R"], f["free_cos"]),
        figures.Curve("networks", f["net_R"], f["net_cos"]),
        figures.Curve("optimum of the free-features objective", f["R"], f["optimum_cos"])]) for f in fams]
    figures.lpm_panels(panels, out / "theory_gap_control2.png",
                       "Control 2: minority cosine of free features (SGD, the networks' schedule), networks, "
                       "and the optimum SGD targets", cache=cache)
    sec.add(Figure("theory_gap_control2.png", "Control 2. The optimum is the penalized LPM with lambda_W = wd, "
                   "lambda_H = wd N (SGD weight decay on each free feature); where it is collapsed to zero "
                   "minority classifiers its cosine is undefined and not drawn."))
    sec.add(table(["K_A", "wd", "free features: observed R", "networks: observed R",
                   "optimum: first collapsed grid R", "free train acc", "runs", "seconds"],
                  [[str(f["K_A"]), f"{f['wd']:g}", _obs(f["free_observed"]), _obs(f["net_observed"]),
                    _fmt_R(f["first_optimum_collapse"]), f"{f['train_acc']:.3f}", str(f["runs"]),
                    f"{f['seconds']:.0f}"] for f in fams]))


def _fam(r: dict[str, Any]) -> str:
    return f"{r['dataset']} / {r['arch']}, K_A = {r['K_A']}, wd = {r['wd']:g}"


def _num(x: float | None, fmt: str = ".2f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _out_of_sample(sec: Section, oos: dict[str, Any] | None, runs_root: str, out: Path, cache: Cache | None) -> None:
    sec.add(Heading("Out of sample: predicting a family's curve from its balanced runs"))
    if oos is None:
        return
    sec.add(para(f"Families of runs in the paper's regime ({oos['runs_in_regime']} of {oos['runs']} runs meet "
                 f"{oos['criterion']}; the minority training accuracy is no criterion here, since a collapsed run "
                 "cannot fit its minority examples). Each calibration, in one line:"))
    for line in oos["calibrations"].values():
        sec.add(para("- " + line))
    fams = oos["families"]
    if not fams:
        sec.add(note("No family in regime; train one with ", Code(REGIME_COMMAND.format(runs=runs_root)), "."))
        return
    panels = []
    for r in fams:
        curves = [figures.Curve("networks (mean +- sd)", r["R"], r["cos"], r["cos_sd"])]
        for name, p in r["predictions"].items():
            if p.get("cos"):
                curves.append(figures.Curve(oos.get("short", {}).get(name, name), p.get("R_dense") or r["R"],
                                            p.get("cos_dense") or p["cos"]))
        for f in r["transfer"]:
            curves.append(figures.Curve(f"(d) transfer from {f['source']}", f.get("R_dense") or r["R"],
                                        f.get("cos_dense") or f["cos"]))
        panels.append(figures.Panel(_fam(r), r["K"], curves))
    figures.lpm_panels(panels, out / "theory_gap_out_of_sample.png",
                       "Minority cosine: networks in regime and each calibration's model curve", cache=cache)
    sec.add(Figure("theory_gap_out_of_sample.png", "One panel per family: the networks' seed-mean minority cosine "
                   "(error bars: sd over seeds) and the curve of each calibration, solved at every R of the grid "
                   "and between (the in-sample Eq. 7 curve at the grid's runs only)."))
    rows = []
    for r in fams:
        preds = [(oos.get("short", {}).get(name, name), p) for name, p in r["predictions"].items()]
        preds += [(f"(d) transfer from {f['source']} ({f['across']})", f) for f in r["transfer"]]
        for name, p in preds:
            rows.append([_fam(r), _obs(r["observed"]), name, p["params"], _fmt_R(p["transition"]), _fmt_score(p),
                         p["verdict"], _num(p["max_dcos"]), _num(p["mean_dcos"])])
    sec.add(table(["family", "observed transition", "calibration", "parameters", "predicted transition",
                   "log10 pred/obs", "verdict", "max |dcos|", "mean |dcos|"], rows,
                  caption="Transition: the R where the curve reaches the observed level (the closed-form R_c for the "
                          "transfer); |dcos| over the grid's R > 1."))
    sec.add(table(["calibration", "scored", "exact", "median |log10|", "worst |log10|", "within", "early", "late",
                   "no collapse / undecided", "not available", "median max |dcos|", "median mean |dcos|"],
                  [[s["short"], str(s["scored"]), str(s["exact"]), _num(s["median_abs_log10"]),
                    _num(s["worst_abs_log10"]), str(s["counts"]["within"]), str(s["counts"]["early"]),
                    str(s["counts"]["late"]), str(s["counts"]["no collapse"] + s["counts"]["undecided"]),
                    str(s["counts"]["no prediction"]), _num(s["median_max_dcos"]), _num(s["median_mean_dcos"])]
                   for s in oos["held_out"]],
                  caption="Held-out scores: over the families a calibration was not fitted on (every family for "
                          "(a)-(c), every leave-one-out fold for (d)); median and worst |log10| over exact observed "
                          "transitions. The in-sample rows are upper bounds on what a calibration could reach."))


def _controls(sec: Section, rows: list[dict[str, Any]] | None, runs_root: str, free_features_folder: str) -> None:
    sec.add(Heading("What moves the gap"))
    if not rows:
        return
    out = []
    for r in rows:
        if not r["present"]:
            cmd = (CONTROL1_COMMAND.format(preset=r["preset"], runs=runs_root) if r["preset"] else
                   FREE_FEATURES_COMMAND.format(folder=free_features_folder))
            out.append([r["control"], r["isolates"], r["measure"], "-", f"runs absent: {cmd}"])
            continue
        out.append([r["control"], r["isolates"], r["measure"], _gap_text(r["before"]), _gap_text(r["after"])])
    sec.add(table(["control", "what it isolates", "gap measure", "gap before (networks)", "gap after (control)"],
                  out))


def _gap_text(g: dict[str, Any] | None) -> str:
    if not g:
        return "-"
    if "dcos" in g:
        return f"{_num(g['dcos'], '+.2f')} ({g['what']})"
    text = _fmt_score(g)
    if g.get("mean_dcos") is not None:
        text += f", mean |dcos| {g['mean_dcos']:.2f}"
    return text + (f" ({g['what']})" if g.get("what") else f" ({g['calibration']})")
