"""The section "LPM figures recomputed": Fig. 3, Fig. 8, and every regime threshold with its digits.

Data come from :mod:`lpm_verify.report.lpm` (sweeps and thresholds cached by their inputs); the
figures from :mod:`lpm_verify.report.figures`.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

from lpm_verify.records import short
from lpm_verify.report import figures
from lpm_verify.report.document import Code, CodeBlock, Figure, Heading, Section, note, para, table
from lpm_verify.report.lpm import Config, LPMData

#: Fig. 3 of the paper: K = 10, K_A = 3, 5, 7, E_W = 1, E_H = 5.
FIG3_K, FIG3_KA, FIG3_ENERGY = 10, (3, 5, 7), (1.0, 5.0)
#: Fig. 8 (several (E_W, E_H); the caption does not list them, so these span the product E_W E_H
#: from 1 to 100, and (5, 1) mirrors Fig. 3's (1, 5)).
FIG8_ENERGIES: tuple[tuple[float, float], ...] = ((1.0, 1.0), (5.0, 1.0), (1.0, 10.0), (10.0, 10.0))


def fig3_configs() -> list[Config]:
    return [Config(FIG3_K, k_a, *FIG3_ENERGY) for k_a in FIG3_KA]


def fig8_configs(energies: Iterable[tuple[float, float]] = FIG8_ENERGIES) -> list[Config]:
    return [Config(FIG3_K, k_a, e_w, e_h) for e_w, e_h in energies for k_a in FIG3_KA]


def _fnum(x: float, digits: int = 4) -> str:
    return "inf" if x == math.inf else ("undefined" if not math.isfinite(x) else f"{x:.{digits}g}")


def curve(d: LPMData, label: str | None = None) -> figures.Curve:
    """Minority cosine vs R of one configuration, thresholds marked on it."""
    rows = [r for r in d.rows if math.isfinite(r.get("R", math.nan))]
    xs = [r["R"] for r in rows]
    ys = [float(r.get("cos_minority", math.nan)) for r in rows]
    marks_x, marks_y = [], []
    for t in d.thresholds:
        R = float(t["R"])
        near = min(rows, key=lambda r: abs(math.log(r["R"] / R)) if R > 0 else math.inf, default=None)
        if near is not None and math.isfinite(R):
            marks_x.append(R)
            marks_y.append(float(near.get("cos_minority", math.nan)))
    undefined = [x for x, y in zip(xs, ys) if not math.isfinite(y)]
    return figures.Curve(label or f"K_A = {d.config.K_A}, K_B = {d.config.K_B}", xs, ys, None, marks_x, marks_y,
                         undefined)


def certificate_text(cert: dict) -> str:
    """The certificate of a threshold in a few words: certified or not, residual, Newton steps."""
    if not cert:
        return "-"
    parts = []
    if "certified" in cert:
        parts.append("certified" if cert["certified"] in (True, "True", "true") else "NOT certified")
    for key, name in (("augmented_residual", "residual"), ("newton_iterations", "Newton steps"),
                      ("event_slope_dlogR", "event slope d/dlog R")):
        if key in cert:
            value = cert[key]
            try:
                value = f"{float(value):.1e}" if key != "newton_iterations" else str(value)
            except (TypeError, ValueError):
                value = str(value)
            parts.append(f"{name} {value}")
    return ", ".join(parts) if parts else short(cert, 90)


def threshold_command(cfg: Config, digits: int) -> str:
    return (f"python -m lpm_verify threshold --K {cfg.K} --KA {cfg.K_A} --EW {cfg.E_W:g} --EH {cfg.E_H:g} "
            f"--digits {digits}")


def undefined_points(data: Iterable[LPMData]) -> list[list[str]]:
    """Rows (configuration, where, regime, why) for every configuration whose minority cosine is undefined
    somewhere (NaN in the sweep, or K_B < 2)."""
    out = []
    for d in data:
        if d.config.K_B < 2:
            out.append([d.config.label(), "every R", "-", f"K_B = {d.config.K_B} < 2: no pair of minority classifiers"])
            continue
        bad = [r for r in d.rows if not math.isfinite(float(r.get("cos_minority", math.nan)))]
        if not bad:
            continue
        finite = [r["R"] for r in bad if math.isfinite(r["R"])]
        where = f"{len(finite)} grid points, R from {_fnum(min(finite))} to {_fnum(max(finite))}" if finite else ""
        if any(r["R"] == math.inf for r in bad):
            where += (" and " if where else "") + "R = inf"
        zero = all(float(r.get("norm_minority", math.nan)) == 0 for r in bad)
        why = ("the minority classifiers are exactly zero (norm_minority = 0): the cosine is 0/0" if zero
               else "the sweep returned no minority cosine")
        out.append([d.config.label(), where, ", ".join(sorted({str(r.get("regime")) for r in bad})), why])
    return out


def product_invariance(fig3: list[LPMData], fig8: list[LPMData]) -> str | None:
    """Compare configurations with equal E_W E_H (Eq. 7 depends on the product only: W -> aW, H -> H/a)."""
    diffs, pairs = [], []
    for a in fig3:
        for b in fig8:
            ca, cb = a.config, b.config
            if (ca.K, ca.K_A) == (cb.K, cb.K_A) and (ca.E_W, ca.E_H) != (cb.E_W, cb.E_H) \
                    and math.isclose(ca.E_W * ca.E_H, cb.E_W * cb.E_H, rel_tol=1e-12):
                ys = {r["R"]: r.get("cos_minority", math.nan) for r in b.rows}
                common = [(r["cos_minority"], ys[r["R"]]) for r in a.rows if r["R"] in ys]
                both = [abs(x - y) for x, y in common if math.isfinite(x) and math.isfinite(y)]
                same_nan = all(math.isfinite(x) == math.isfinite(y) for x, y in common)
                if both:
                    diffs.append(max(both) if same_nan else math.inf)
                    pairs.append(f"K_A = {ca.K_A}: ({ca.E_W:g}, {ca.E_H:g}) vs ({cb.E_W:g}, {cb.E_H:g})")
    if not diffs:
        return None
    return ("Only the product E_W E_H can matter (W -> aW, H -> H/a maps the feasible sets of Eq. 7 onto each "
            "other when a^2 = E_W'/E_W): over the shared R grid the minority cosines of " + "; ".join(pairs)
            + f" differ by at most {max(diffs):.1e}" + (" (or are undefined at different R)" if math.inf in diffs else "")
            + ".")


def _value_at(d: LPMData, R: float) -> float:
    for r in d.rows:
        if r.get("R") == R:
            return float(r.get("cos_minority", math.nan))
    return math.nan


def lpm_section(fig3: list[LPMData], fig8: list[LPMData], out: Path, *, digits: int) -> Section:
    """Fig. 3 and Fig. 8 recomputed, the thresholds table, and the undefined-value notes."""
    sec = Section("lpm-figures", "LPM figures recomputed (Fig. 3, Fig. 8) and regime thresholds")
    every = fig3 + fig8
    errors = sorted({e for d in every for e in (d.sweep_error, d.threshold_error) if e})
    for e in errors:
        sec.add(note(e))
    have_rows = [d for d in every if d.rows]
    for d in every:
        if d.sweep_note:
            sec.add(note(f"{d.config.label()}: {d.sweep_note}."))
    if have_rows:
        sec.add(Heading("Fig. 3: minority collapse as R grows (K = 10, E_W = 1, E_H = 5)"))
        panel = figures.Panel("E_W = 1, E_H = 5", FIG3_K, [curve(d) for d in fig3], marks_label="regime threshold")
        figures.lpm_panels([panel], out / "fig3_minority_cosine.png",
                           "Fig. 3 recomputed: average cosine between minority classifiers (LPM, Eq. 7)")
        sec.add(Figure("fig3_minority_cosine.png",
                       "Fig. 3 recomputed. Average pairwise cosine of the K_B minority classifiers of the LPM "
                       "optimum vs the imbalance ratio R (log axis), K = 10, E_W = 1, E_H = 5. Diamonds: regime "
                       "thresholds from lpm_verify.regimes. Dash-dotted: -1/(K-1), the balanced ETF value "
                       "(Eq. 10)."))
        if fig8:
            energies = list(dict.fromkeys((d.config.E_W, d.config.E_H) for d in fig8))
            panels = [figures.Panel(f"E_W = {e_w:g}, E_H = {e_h:g}", FIG3_K,
                                    [curve(d) for d in fig8 if (d.config.E_W, d.config.E_H) == (e_w, e_h)],
                                    marks_label="regime threshold")
                      for e_w, e_h in energies]
            sec.add(Heading("Fig. 8: the same for several (E_W, E_H)"))
            figures.lpm_panels(panels, out / "fig8_minority_cosine.png",
                               "Fig. 8 recomputed: minority cosine vs R for several (E_W, E_H), K = 10")
            sec.add(Figure("fig8_minority_cosine.png",
                           "Fig. 8 recomputed: one panel per (E_W, E_H), K = 10, K_A = 3, 5, 7. The paper's "
                           "caption does not list its (E_W, E_H); these span E_W E_H from 1 to 100."))
        sec.add(table(["Configuration", "cos at R = 1", "-1/(K-1)", "cos at R = inf", "R grid"],
                      [[d.config.label(), _fnum(_value_at(d, 1.0), 6), _fnum(-1 / (d.config.K - 1), 6),
                        _fnum(_value_at(d, math.inf), 6),
                        f"{sum(1 for r in d.rows if math.isfinite(r['R']))} points in "
                        f"[1, {_fnum(max(r['R'] for r in d.rows if math.isfinite(r['R'])))}] + inf"]
                       for d in have_rows],
                      caption="Endpoints of each sweep: R = 1 is the balanced problem (Theorem 1 predicts "
                              "-1/(K-1)); R = inf is Theorem 5's limit, which a log axis cannot show."))
        sec.add(para("All sweep rows: ", Code("data/sweep.csv"), "."))
        product = product_invariance(fig3, fig8)
        if product:
            sec.add(para(product))
    sec.add(Heading("Regime thresholds"))
    with_t = [d for d in every if d.thresholds]
    if with_t:
        rows = []
        for d in with_t:
            for t in d.thresholds:
                rows.append([d.config.label(), f"{t['from_regime']} -> {t['to_regime']}", t.get("event") or "-",
                             Code(str(t["R"])), certificate_text(t.get("certificate") or {})])
        sec.add(table(["Configuration", "Regime change", "Event", f"R ({digits} significant digits)", "Certificate"],
                      rows,
                      caption="Every regime change in R found by lpm_verify.regimes.find_thresholds, as a root of "
                              "a smooth 1-D equation, not a grid scan."))
        sec.add(para("Reproduce the thresholds of a configuration, e.g. those of Fig. 3:"))
        sec.add(CodeBlock("\n".join(threshold_command(d.config, digits) for d in fig3)))
    elif not errors:
        sec.add(para("No regime change was found in the configurations above."))
    if have_rows:
        undefined = undefined_points(every)
        if undefined:
            sec.add(Heading("Where the plotted quantity is undefined"))
            sec.add(note("The minority cosine is undefined at the points below, so the figures draw no point there "
                         "and shade the range along the top edge instead. Where the minority classifiers are "
                         "exactly zero they have collapsed in Theorem 5's sense (w_k - w_k' = 0), but their "
                         "cosine, which the paper's Fig. 3 plots as 1, does not exist."))
            sec.add(table(["Configuration", "Where", "Regime", "Why"], undefined))
        sec.add(note("R = inf (no minority samples) has no place on a log axis: its values are in the endpoint "
                     "table above." + ("" if undefined else " The minority cosine is defined at every computed "
                                       "point (every minority classifier has nonzero norm and K_B >= 2).")))
    return sec
