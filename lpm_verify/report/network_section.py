"""The section "Network experiments": trained runs from the experiments store against the LPM.

Every number shown comes from a run's ``metrics.json`` (computed once, by the experiments layer's
analysis) averaged over seeds; the only new computation is the LPM curve over R for the
(E_W, E_H) fitted from a network (median over that curve's runs), for the Fig. 2 / Fig. 4 overlay.
Where an experiment of the paper has no run, the section prints the command that produces it.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from experiments.regime import PAPER_PRESET, REGIME_PRESET
from lpm_verify.report import figures
from lpm_verify.report.cache import Cache
from lpm_verify.report.document import Code, Figure, Heading, Section, note, para, rich, table
from lpm_verify.report.lpm import Config, LPMData
from lpm_verify.report.networks import REPORT_PRESET, RunGroup, RunsGathered

#: Config keys of one network family: everything but K_A, R, oversample and seed.
FAMILY_KEYS = ("dataset", "arch", "preset", "epochs", "device", "wd", "n_majority", "bias", "lr", "batch_size", "width")
#: Classes per dataset (both of the paper's datasets have 10).
DATASET_CLASSES = {"fashion-mnist": 10, "cifar10": 10}


def _fmt(x: float, spec: str = ".3f") -> str:
    if x == math.inf:
        return "inf"
    return "-" if not math.isfinite(x) else format(x, spec)


def _mean_sd(g: RunGroup, key: str, spec: str = ".3f") -> str:
    m, s = g.mean(key), g.spread(key)
    return _fmt(m, spec) + (f" ± {_fmt(s, spec)}" if math.isfinite(s) else "")


def _pct_sd(g: RunGroup, key: str) -> str:
    """A rate as a percentage, mean ± sample sd over seeds."""
    m, sd = 100 * g.mean(key), 100 * g.spread(key)
    return _fmt(m, ".2f") + (f" ± {_fmt(sd, '.2f')}" if math.isfinite(sd) else "")


def _R(x: float) -> str:
    return "inf" if x == math.inf else f"{x:g}"


def family_of(g: RunGroup) -> tuple:
    return tuple(str(g.config.get(k)) for k in FAMILY_KEYS)


def short_label(groups: list[RunGroup]) -> str:
    """Dataset, network and weight decay: enough to tell figures apart (the caption has the rest)."""
    c = groups[0].config
    return f"{c.get('dataset')}, {c.get('arch')}, wd = {c.get('wd')}, {c.get('epochs')} epochs"


def family_label(groups: list[RunGroup]) -> str:
    c = groups[0].config
    seeds = sorted({str(s) for g in groups for s in g.seeds})
    return (f"{c.get('dataset')}, {c.get('arch')}, preset {c.get('preset')}, {c.get('epochs')} epochs, "
            f"wd {c.get('wd')}, n_A {c.get('n_majority')}, seeds {','.join(seeds)}, device {c.get('device')}")


def classes(g: RunGroup) -> int:
    return DATASET_CLASSES.get(str(g.config.get("dataset")), 10)


def train_command(runs_root: str, extra: str) -> str:
    out = "" if runs_root in ("runs", "runs/") else f" --out {runs_root}"
    return f"python -m lpm_verify train {extra}{out}"


def overlay_configs(gathered: RunsGathered) -> dict[tuple, Config]:
    """(family, K_A) -> LPM configuration at the median (E_W, E_H) fitted from those runs (w_r = 1)."""
    out = {}
    by_curve: dict[tuple, list[RunGroup]] = defaultdict(list)
    for g in gathered.groups:
        if g.oversample == 1 and g.K >= 3:
            by_curve[(family_of(g), int(g.config.get("K_A")))].append(g)
    for key, groups in by_curve.items():
        e_w = statistics.median([g.median("fitted_E_W") for g in groups])
        e_h = statistics.median([g.median("fitted_E_H") for g in groups])
        if math.isfinite(e_w) and math.isfinite(e_h) and e_w > 0 and e_h > 0:
            out[key] = Config(classes(groups[0]), key[1], float(f"{e_w:.6g}"), float(f"{e_h:.6g}"))
    return out


def network_section(gathered: RunsGathered, runs_root: str, out: Path,
                    lpm: Callable[[list[Config]], list[LPMData]], cache: Cache | None = None) -> Section:
    """Runs table, Fig. 2/4 overlays, Table 1, Tables 3/4 with Fig. 5, Fig. 6/Table 2, missing runs."""
    sec = Section("networks", "Network experiments (trained networks vs the LPM)")
    for text in gathered.notes:
        sec.add(note(*rich(text)))
    if gathered.trained:
        sec.add(para(f"The store was empty, so this report trained the `{REPORT_PRESET}` preset first."))
    groups = [g for g in gathered.groups if g.K >= 3]  # two-class runs (Fig. 7) are in the empirical section
    if not groups:
        sec.add(para(f"No finished run in the store ({runs_root}/)."))
        _missing(sec, [], runs_root)
        return sec
    sec.add(para(f"{gathered.runs} finished run(s) in {runs_root}/, in {len(groups)} configuration(s), grouped below by "
                 "dataset, network, preset, epochs, weight decay and device; numbers are means over seeds (± sample "
                 "standard deviation where there are several)."))
    families: dict[tuple, list[RunGroup]] = defaultdict(list)
    for g in groups:
        families[family_of(g)].append(g)
    overlay = overlay_configs(gathered)
    lpm_data = {d.config: d for d in lpm(list(dict.fromkeys(overlay.values())))} if overlay else {}
    for i, (fam, fgroups) in enumerate(families.items()):
        _family(sec, i, fam, fgroups, overlay, lpm_data, out, cache)
    _missing(sec, groups, runs_root)
    return sec


def _curve_by_KA(groups: list[RunGroup], x: Callable[[RunGroup], float]) -> list[tuple[int, figures.Curve]]:
    """(K_A, the networks' minority cosine vs ``x`` with the per-run LPM predictions as marks), by K_A."""
    by_ka: dict[int, list[RunGroup]] = defaultdict(list)
    for g in groups:
        by_ka[int(g.config.get("K_A"))].append(g)
    curves = []
    for k_a, gs in sorted(by_ka.items()):
        gs = sorted(gs, key=x)
        curves.append((k_a, figures.Curve(f"network, K_A = {k_a}", [x(g) for g in gs],
                                          [g.mean("cos_minority") for g in gs], [g.spread("cos_minority") for g in gs],
                                          [x(g) for g in gs], [g.mean("lpm_cos_minority") for g in gs])))
    return curves


def _family(sec: Section, index: int, fam: tuple, groups: list[RunGroup], overlay: dict[tuple, Config],
            lpm_data: dict[Config, LPMData], out: Path, cache: Cache | None) -> None:
    label = family_label(groups)
    K = classes(groups[0])
    plain = [g for g in groups if g.oversample == 1]
    sec.add(Heading(f"Runs: {label}"))
    sec.add(table(["K_A", "R", "w_r", "seeds", "cos minority (net)", "cos minority (LPM)", "fitted E_W", "fitted E_H",
                   "LPM R_0", "NC1", "train acc %", "test acc %", "test acc minority %"],
                  [[str(g.config.get("K_A")), _R(g.R), f"{g.oversample:g}", ",".join(str(s) for s in g.seeds),
                    _mean_sd(g, "cos_minority"), _fmt(g.mean("lpm_cos_minority")), _fmt(g.mean("fitted_E_W"), ".4g"),
                    _fmt(g.mean("fitted_E_H"), ".4g"), _fmt(g.mean("lpm_R0"), ".4g"), _fmt(g.mean("nc1"), ".3g"),
                    _pct_sd(g, "train_acc"), _pct_sd(g, "test_acc"), _pct_sd(g, "test_acc_minority")]
                   for g in groups],
                  caption=f"Runs of {label}. cos minority: average pairwise cosine of the minority classifiers "
                          "(mean ± sd over seeds). LPM: Eq. 7's optimum at this R (R / w_r with oversampling, "
                          "Proposition 1) for the (E_W, E_H) that make both constraints active for this network's "
                          "weights and features (uncentred, as Eq. 7 is printed), and its collapse threshold R_0; "
                          "both from the run's own metrics."))
    if plain:
        by_ka = _curve_by_KA(plain, lambda g: g.R)
        r_max = 3 * max([g.R for g in plain if math.isfinite(g.R)] + [1.0])  # the LPM curve over the runs' range
        overlays, fitted = [], []
        for k_a, _ in by_ka:
            cfg = overlay.get((fam, k_a))
            d = lpm_data.get(cfg) if cfg else None
            if d is not None and d.rows:
                rows = [r for r in d.rows if math.isfinite(r["R"]) and r["R"] <= r_max]
                overlays.append(figures.Curve(f"LPM, K_A = {k_a} (E_W = {cfg.E_W:.4g}, E_H = {cfg.E_H:.4g})",
                                              [r["R"] for r in rows], [r["cos_minority"] for r in rows]))
            else:
                overlays.append(figures.Curve(f"LPM, K_A = {k_a}: not computed", [], []))
                if cfg is None:
                    fitted.append(f"K_A = {k_a}: no fitted (E_W, E_H) in the runs' metrics")
                elif d is not None:
                    fitted.append(f"K_A = {k_a}: {d.sweep_error or d.threshold_error}")
        name = f"net{index}_minority_cosine.png"
        figures.network_overlay(figures.Panel(f"Fig. 2/4 analogue: {short_label(groups)}", K,
                                              [c for _, c in by_ka], overlays,
                                                marks_label="LPM at each run's own fitted (E_W, E_H)"), out / name,
                                 cache=cache)
        sec.add(Figure(name, f"Minority cosine vs R for trained networks ({label}; solid, error bars = sd over "
                             "seeds) against the LPM: dotted, the LPM curve for the median (E_W, E_H) fitted from "
                             "that K_A's runs; diamonds, the LPM at each run's own fitted (E_W, E_H) (from the run's "
                             "metrics). Runs at R = inf are in the tables (no place on a log axis)."))
        for text in fitted:
            sec.add(note("LPM overlay missing for " + text + "."))
    _regime_table(sec, groups)
    _norm_table(sec, groups)
    _accuracy_tables(sec, index, plain, label, out, cache)
    over = [g for g in groups if g.oversample != 1]
    if over:
        _oversampling(sec, index, groups, overlay, lpm_data, fam, label, out, cache)


def _regime_table(sec: Section, groups: list[RunGroup]) -> None:
    """Each configuration's regime diagnostics (experiments/trainer.py: regime_diagnostics) beside the
    criterion of experiments/regime.py; absent for runs trained before the diagnostics were stored."""
    from experiments.regime import TERMINAL_PHASE, meets
    if not any(m.get("wd_exposure") is not None for g in groups for m in g.metrics):
        sec.add(note("These runs were trained before the regime diagnostics were stored: their weight-decay "
                     "exposure is unknown and no experiment check decides on them."))
        return
    rows = []
    for g in groups:
        meet = sum(meets(m, TERMINAL_PHASE)[0] for m in g.metrics)
        rows.append([str(g.config.get("K_A")), _R(g.R), f"{g.oversample:g}", _fmt(g.mean("wd_exposure"), ".3g"),
                     _fmt(g.mean("final_loss"), ".2e"), _pct_sd(g, "train_acc_majority"),
                     _pct_sd(g, "train_acc_minority"), _fmt(g.mean("late_drift_cos_minority"), ".2e"),
                     _fmt(g.mean("late_drift_W_norm"), ".2e"), _fmt(g.mean("late_drift_mean_h_norm"), ".2e"),
                     f"{meet} of {len(g.seeds)}"])
    sec.add(table(["K_A", "R", "w_r", "exposure X", "final loss", "train acc majority %", "train acc minority %",
                   "drift cos minority", "drift ||W||_F", "drift mean ||h||", "seeds in regime"], rows,
                  caption="Regime diagnostics (means over seeds): weight-decay exposure X = sum_t lr_t wd/(1 - "
                          "momentum) (the paper's runs: ~17 at wd 5e-4), the last epoch's training loss, training "
                          "accuracy per group, and the change over the last 10% of the epochs of the minority "
                          f"cosine, ||W||_F and the mean feature norm. In regime: {TERMINAL_PHASE.describe()}."))


def _norm_table(sec: Section, groups: list[RunGroup]) -> None:
    """Table 1: norm variation Std/Avg of the minority classifiers at R = inf (largest R if none)."""
    plain = [g for g in groups if g.oversample == 1]
    if not plain:
        return
    by_ka: dict[Any, list[RunGroup]] = defaultdict(list)
    for g in plain:
        by_ka[g.config.get("K_A")].append(g)
    rows = []
    for k_a, gs in sorted(by_ka.items(), key=lambda kv: float(kv[0])):
        g = max(gs, key=lambda g: g.R)
        rows.append([f"K_A = {k_a}", _R(g.R), _mean_sd(g, "norm_variation_minority", ".2e"),
                     _mean_sd(g, "cos_minority")])
    sec.add(table(["Majority classes", "R", "norm variation Std/Avg ||w_B||", "cos minority"], rows,
                  caption="Table 1 analogue: variability of the lengths of the minority classifiers at the largest "
                          "R (the paper uses R = inf; its values range from 4.4e-8 to 1.4e-4)."))


def _accuracy_tables(sec: Section, index: int, plain: list[RunGroup], label: str, out: Path,
                     cache: Cache | None) -> None:
    """Tables 3/4 (train / test accuracy by K_A and R) and the Fig. 5 analogue (minority test accuracy)."""
    if not plain:
        return
    kas = sorted({g.config.get("K_A") for g in plain}, key=float)
    Rs = sorted({g.R for g in plain})
    cell = {(g.config.get("K_A"), g.R): g for g in plain}
    sec.add(table(["R"] + [f"train, K_A = {k}" for k in kas] + [f"test, K_A = {k}" for k in kas]
                  + [f"test minority, K_A = {k}" for k in kas],
                  [[_R(R)] + [_pct_sd(cell[(k, R)], key) if (k, R) in cell else "-"
                              for key in ("train_acc", "test_acc", "test_acc_minority") for k in kas] for R in Rs],
                  caption=f"Tables 3/4 analogue: training and test accuracy (%, mean ± sd over seeds) by R and K_A ({label})."))
    series = {f"R = {_R(R)}": [cell[(k, R)].mean("test_acc_minority") * 100 if (k, R) in cell else math.nan
                               for k in kas] for R in Rs if R != math.inf}
    name = f"net{index}_minority_test_accuracy.png"
    figures.grouped_bars([f"K_A = {k}" for k in kas], series, out / name, ylabel="test accuracy on minority classes (%)",
                         title=f"Fig. 5 analogue: {short_label(plain)}", cache=cache)
    sec.add(Figure(name, "Fig. 5 analogue: test accuracy on the minority classes for each R (bars) and K_A "
                         f"({label}). At R = inf there are no minority training examples, so it is left out."))


def _oversampling(sec: Section, index: int, groups: list[RunGroup], overlay: dict[tuple, Config],
                  lpm_data: dict[Config, LPMData], fam: tuple, label: str, out: Path, cache: Cache | None) -> None:
    """Fig. 6 (minority cosine vs w_r at fixed R) and Table 2 (test accuracy, original vs best w_r)."""
    over_R = sorted({g.R for g in groups if g.oversample != 1})
    for R in over_R:
        at_R = [g for g in groups if g.R == R]
        by_ka = _curve_by_KA(at_R, lambda g: g.oversample)
        overlays = []
        for k_a, _ in by_ka:
            cfg = overlay.get((fam, k_a))
            d = lpm_data.get(cfg) if cfg else None
            rows = [r for r in (d.rows if d else []) if math.isfinite(r["R"]) and 0 < r["R"] <= R]
            # Proposition 1: oversampling by w_r is the LPM at R / w_r, so w_r = R / R_row.
            overlays.append(figures.Curve(f"LPM (Prop. 1: R/w_r), K_A = {k_a}", [R / r["R"] for r in rows],
                                          [r["cos_minority"] for r in rows]))
        name = f"net{index}_oversampling_R{_R(R)}.png"
        figures.oversampling(figures.Panel(f"Fig. 6 analogue, R = {_R(R)}: {short_label(at_R)}", classes(at_R[0]),
                                           [c for _, c in by_ka], overlays,
                                           marks_label="LPM at each run's own fitted (E_W, E_H), R / w_r"),
                             out / name, cache=cache)
        sec.add(Figure(name, f"Fig. 6 analogue: minority cosine vs oversampling rate w_r at R = {_R(R)} ({label}); "
                             "dotted: the LPM at R / w_r (Proposition 1) for the fitted (E_W, E_H)."))
        rows = []
        for k_a in sorted({g.config.get("K_A") for g in at_R}, key=float):
            gs = [g for g in at_R if g.config.get("K_A") == k_a]
            orig = next((g for g in gs if g.oversample == 1), None)
            overs = [g for g in gs if g.oversample != 1]
            if orig is None or not overs:
                continue
            best = max(overs, key=lambda g: g.mean("test_acc"))
            rows.append([f"K_A = {k_a}", _pct_sd(orig, "test_acc_minority"), _pct_sd(best, "test_acc_minority"),
                         _pct_sd(orig, "test_acc"), _pct_sd(best, "test_acc"), f"{best.oversample:g}"])
        if rows:
            sec.add(table(["Majority classes", "original (minority)", "oversampling (minority)", "original (overall)",
                           "oversampling (overall)", "best w_r"], rows,
                          caption=f"Table 2 analogue: test accuracy (%) at R = {_R(R)}, best oversampling rate by "
                                  f"overall test accuracy ({label})."))


def _missing(sec: Section, groups: list[RunGroup], runs_root: str) -> None:
    """The command that produces each experiment with no run in the store."""
    have_plain = any(g.oversample == 1 and g.R > 1 for g in groups)
    have_inf = any(g.R == math.inf for g in groups)
    have_over = any(g.oversample != 1 for g in groups)
    have_paper = any(str(g.config.get("preset")) == PAPER_PRESET for g in groups)
    have_regime = any(str(g.config.get("preset")) == REGIME_PRESET for g in groups)
    rows = []
    if not have_plain:
        rows.append(["Fig. 2/4, Tables 3/4, Fig. 5 (CPU scale)", Code(train_command(runs_root, f"--preset {REPORT_PRESET}"))])
    if not have_inf:
        rows.append(["Table 1 (R = inf)", Code(train_command(runs_root, f"--preset {REPORT_PRESET} --R inf"))])
    if not have_over:
        rows.append(["Fig. 6 / Table 2 (oversampling, CPU scale)",
                     Code(train_command(runs_root, f"--preset {REPORT_PRESET} --R 500 --wd 5e-4 --oversample 1,10,100,500"))])
    if not have_regime:
        rows.append(["The claims in the paper's regime (weight-decay exposure X ~ 17; about 45 minutes on 2 cores)",
                     Code(train_command(runs_root, f"--preset {REGIME_PRESET}"))])
    if not have_paper:
        rows.append(["Everything at the paper's scale (VGG/ResNet, 350 epochs; needs a GPU)",
                     Code(train_command(runs_root, f"--preset {PAPER_PRESET}"))])
    if rows:
        sec.add(Heading("Experiments with no run in the store"))
        sec.add(table(["Experiment", "Command that produces it (then rerun the report)"], rows))
