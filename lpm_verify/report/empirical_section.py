"""The section "Empirical claims of the paper": one row per experiment check, read from its record.

Each row gives the figure or table, the claim in words, the statistical criterion that decided it,
the verdict, the numbers (mean ± sd over seeds, from the record), and the commands that reproduce it.
Below: the settings the verdicts were decided on, the observed collapse points beside the LPM's
``R_0`` (from the Fig. 2 record), Fig. 7's histograms (weights read from the stored runs) and the
Fig. 9 angle table (from its record).  No number of a check is recomputed here.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from experiments.claims_data import binary_groups, classifier_weights, train_command
from experiments.imagenet_angles import PAPER_ANGLES, etf_angle
from experiments.regime import REGIME_PRESET, REPORT_PRESET
from lpm_verify.records import EMPIRICAL_RESULTS, CheckRecord, Method, Verdict
from lpm_verify.report import figures
from lpm_verify.report.document import Badge, Code, Figure, Heading, Section, note, para, table
from lpm_verify.report.networks import RunsGathered

#: The Fig. 2 check whose record carries the collapse-point table of every curve.
COLLAPSE_RECORD = "Figure 2/lpm-captures-phase-transition"
FIG9_RECORD = "Figure 9/classifier-not-an-etf"
#: How many seeds' histograms Fig. 7's analogue overlays per classifier.
HIST_BINS = 40


def _short(label: str) -> str:
    """A curve label without its setting (the settings are listed once, below the table)."""
    return re.sub(r"^.*?seeds \d+(?:,\d+)*(?:, )?", "", label) or label


def _setting(label: str) -> str:
    """A curve label cut after its seeds: the setting (dataset, network, preset, epochs, n_A, seeds)."""
    m = re.match(r"^.*?seeds \d+(?:,\d+)*", label)
    return m.group(0) if m else label


def _numbers(value: Any, depth: int = 0) -> str:
    """A record's ``observed`` as compact text: nested dicts as ``key: value; ...``."""
    if isinstance(value, dict):
        parts = [f"{_short(str(k))}: {_numbers(v, depth + 1)}" for k, v in value.items()]
        return ("; " if depth == 0 else ", ").join(parts) if depth < 2 else "{" + ", ".join(parts) + "}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _commands(r: CheckRecord, runs_root: str) -> tuple:
    runs = "" if runs_root in ("runs", "runs/") else f" --runs {runs_root}"
    verify = Code(f'python -m lpm_verify verify --only "{r.id}"{runs}')
    if r.result == "Figure 9":
        return (verify, " with --imagenet-checkpoint PATH")
    preset = REGIME_PRESET if r.verdict == Verdict.INCONCLUSIVE.value else REPORT_PRESET
    return (Code(train_command(runs_root, preset)), " then ", verify)


def regime_cell(r: CheckRecord) -> str:
    """Whether the verdict was decided in the claim's regime: the criterion and how many runs met it."""
    reg = r.detail.get("regime") if isinstance(r.detail, dict) else None
    if not reg:
        return "-"
    decided = "decided in regime" if r.verdict != Verdict.INCONCLUSIVE.value else "not in regime"
    return (f"{decided}: {reg['runs_in_regime']} run(s) meet {reg['criterion']}, {reg['runs_off_regime']} do not"
            + (f" (e.g. {reg['off_regime_examples'][0]})" if reg.get("off_regime_examples") else ""))


def claims_table(records: list[CheckRecord], runs_root: str) -> list[list]:
    rows = []
    for r in records:
        counted = r.detail.get("comparisons") if isinstance(r.detail, dict) else None
        tally = f"{int(r.error)} of {counted} comparisons fail. " if counted is not None and r.error is not None \
            and math.isfinite(r.error) else ""
        if r.verdict == Verdict.SKIPPED.value:
            numbers = r.skip_reason
        elif r.verdict == Verdict.INCONCLUSIVE.value:
            numbers = (f"{r.inconclusive_reason}. Off-regime runs (no finding): "
                       f"{_numbers(r.detail.get('off_regime_observed'))}")
        else:
            numbers = tally + _numbers(r.observed)
        rows.append([r.result, r.claim, r.criterion or "-", Badge(r.verdict), regime_cell(r), numbers,
                     _commands(r, runs_root)])
    return rows


def _fmt_R(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return x if isinstance(x, str) and x else "-"  # a censored crossing, e.g. "> 500"
    return "inf" if math.isinf(v) else ("-" if math.isnan(v) else f"{v:.3g}")


def collapse_rows(record: CheckRecord) -> list[list[str]]:
    rows = []
    for p in record.detail.get("collapse_points", []):
        sd = p.get("log10_R_sd")
        spread = f" (log10 sd {float(sd):.2f})" if isinstance(sd, (int, float)) and math.isfinite(sd) else ""
        ratio = p.get("log10_predicted_over_observed")
        rows.append([_short(p["curve"]), f"{p['level']} (cos {float(p['cos_level']):.3f})",
                     ", ".join({">": "> ", "<=": "<= "}.get(b, "") + _fmt_R(r) for r, b in
                               zip(p["R_per_seed"], p.get("bound_per_seed", ["="] * len(p["R_per_seed"])))), (_fmt_R(p["R_observed"]) + spread if p["R_observed"] is not None
                                                                  else p.get("censored") or "-"),
                     _fmt_R(p.get("lpm_R0")), "-" if ratio is None else (f"{float(ratio):+.2f}"
                                                                         if math.isfinite(float(ratio)) else str(ratio))])
    return rows


def fig7_histograms(gathered: RunsGathered, out: Path) -> list[Figure]:
    """One PNG per balanced two-class configuration: entries of w_1 and w_2, one outline per seed (Fig. 7)."""
    import matplotlib.pyplot as plt
    figs = []
    for i, g in enumerate(binary_groups(gathered.groups)):
        weights = sorted(((seed, classifier_weights(path)) for seed, path in zip(g.seeds, g.paths)), key=lambda x: str(x[0]))
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), squeeze=False)
        for k, ax in enumerate(axes[0]):
            for j, (seed, W) in enumerate(weights):
                ax.hist(W[k], bins=HIST_BINS, histtype="step", linewidth=1.4,
                        color=figures.COLORS[j % len(figures.COLORS)], label=f"seed {seed}")
            ax.set_xlabel(f"entries of w_{k + 1}")
            ax.set_ylabel("count")
            ax.set_title(f"w_{k + 1} ({W.shape[1]} entries per seed)", fontsize=10)
            ax.legend(fontsize=8)
        name = f"fig7_binary_weights_{i}.png"
        figures.save(fig, out / name)
        c = g.config
        figs.append(Figure(name, f"Fig. 7 analogue: histograms of the last-layer weights of {c.get('arch')} trained "
                                 f"on classes {c.get('class_order')} of {c.get('dataset')} ({c.get('n_majority')} "
                                 f"examples each, {c.get('epochs')} epochs, seeds {','.join(str(s) for s, _ in weights)}). "
                                 "Lemma 3's l_q patterns would show one or two spikes."))
    return figs


def fig9_rows(record: CheckRecord) -> list[list[str]]:
    d = record.detail
    rows = [[f"this checkpoint ({d.get('architecture')}, {d.get('classifier_key')})", f"{d['min_deg']:.2f}",
             f"{d['max_deg']:.2f}", f"{d['std_deg']:.2f}"]]
    rows += [[f"paper, {arch}", f"{a:g}", f"{b:g}", f"{s:g}"] for arch, (a, b, s) in PAPER_ANGLES.items()]
    etf = etf_angle(int(d.get("K", 1000)))
    rows.append([f"simplex ETF, K = {d.get('K', 1000)}", f"{etf:.2f}", f"{etf:.2f}", "0"])
    return rows


#: Where the report looks for the convergence study (``python -m experiments.convergence --out <runs>/convergence``).
CONVERGENCE_DIR = "convergence"


def convergence_part(runs_root: str, out: Path) -> list:
    """The convergence study's plot and table when ``<runs>/convergence/`` holds them (copied beside the
    report); nothing otherwise."""
    import csv

    from lpm_verify.io import write_bytes_atomic
    folder = Path(runs_root) / CONVERGENCE_DIR
    png, table_path = folder / "convergence.png", folder / "convergence.csv"
    if not (png.is_file() and table_path.is_file()):
        return []
    write_bytes_atomic(out / "convergence.png", png.read_bytes())
    with table_path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols = ("family", "R", "epochs", "X", "cos_minority", "train_acc_minority", "norm_variation_minority", "cos_all")
    return [Heading("Convergence: claim quantities against the weight-decay exposure"),
            Figure("convergence.png", "Each claim family's quantity against the weight-decay exposure X = sum_t lr_t "
                                      "wd/(1 - momentum) (only the epochs change; the paper's runs: X ~ 17). The regime "
                                      "criterion (experiments/regime.py) is read from where these stop moving."),
            table(list(cols), [[r.get(c, "") for c in cols] for r in rows])]


def empirical_section(records: list[CheckRecord], gathered: RunsGathered, runs_root: str, out: Path
                      ) -> Section | None:
    """The section, or None when no experiment check is among ``records`` (e.g. ``--only "Theorem 1"``)."""
    exp = [r for r in records if r.method == Method.EXPERIMENT.value and r.result in EMPIRICAL_RESULTS]
    if not exp:
        return None
    sec = Section("empirical", "Empirical claims of the paper")
    sec.add(para("Each claim the paper makes in words about its experiments (Section 4.C, Section 5, Appendix D) is "
                 "an experiment check decided from the stored runs with the criterion shown. pass: the claim holds "
                 "for our runs; not-reproduced: it does not (a finding about the paper, which does not fail verify); "
                 "inconclusive: the runs are not in the regime the claim is about (the reason is shown; no finding); "
                 "skipped: the runs it needs are missing (the reproduce column trains them); fail: the check itself "
                 "broke (e.g. a corrupt store)."))
    bad = [r for r in exp if r.verdict == Verdict.NOT_REPRODUCED.value]
    if bad:
        sec.add(note(f"{len(bad)} empirical claim(s) not reproduced: " + "; ".join(r.id for r in bad) + "."))
    sec.add(table(["Figure / table", "Claim", "Criterion", "Verdict", "Regime", "Numbers (mean ± sd over seeds)",
                   "Reproduce"],
                  claims_table(exp, runs_root)))
    settings = sorted({_setting(s) for r in exp if isinstance(r.detail, dict) for s in r.detail.get("settings", [])})
    if settings:
        sec.add(para("Settings the verdicts were decided on (the CPU preset trains an MLP as a proxy for the paper's "
                     "VGG/ResNet): " + " | ".join(settings)))
    collapse = next((r for r in exp if r.id == COLLAPSE_RECORD and r.detail.get("collapse_points")), None)
    if collapse is not None:
        sec.add(Heading("Observed collapse points vs the LPM's R_0"))
        sec.add(table(["Curve", "Level", "R per seed", "Observed R (geometric mean)", "LPM R_0",
                       "log10(R_0 / observed)"], collapse_rows(collapse),
                      caption="The R at which the networks' minority cosine crosses each level, interpolated linearly "
                              "in log R between the two grid points around it ('> R': not reached on the grid, a bound), "
                              "the LPM's threshold R_0 (median over the curve's finite-R runs, each at its own fitted "
                              "uncentred (E_W, E_H)). Levels: halfway between -1/(K-1) and 1, and 0.9."))
    conv = convergence_part(runs_root, out)
    if conv:
        sec.add(*conv)
    hists = fig7_histograms(gathered, out)
    if hists:
        sec.add(Heading("Fig. 7 analogue: last-layer weights of binary training"))
        sec.add(*hists)
    fig9 = next((r for r in exp if r.id == FIG9_RECORD and r.verdict != Verdict.SKIPPED.value
                 and "min_deg" in r.detail), None)
    if fig9 is not None:
        sec.add(Heading("Fig. 9: between-class angles of an ImageNet classifier"))
        sec.add(table(["Classifier", "min angle (°)", "max angle (°)", "std (°)"], fig9_rows(fig9),
                      caption="Angles between all pairs of rows of the classifier matrix; a simplex ETF puts every "
                              "pair at arccos(-1/(K-1))."))
    return sec
