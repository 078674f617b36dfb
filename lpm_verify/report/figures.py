"""The report's figures (matplotlib, Agg backend): PNG at :data:`DPI` dots per inch, labelled axes,
legends, written atomically.

* :func:`lpm_panels`  minority cosine vs R from the LPM (Fig. 3; one panel per (E_W, E_H) for Fig. 8),
  log R axis, the -1/(K-1) line of Eq. 10, thresholds marked on their curves;
* :func:`network_overlay`  a trained network's minority cosine vs R (solid) over the LPM prediction
  for the (E_W, E_H) fitted from that network (dotted) -- the idea of Fig. 2 / Fig. 4;
* :func:`grouped_bars`  accuracies side by side (Fig. 5, Tables 2-4);
* :func:`oversampling`  minority cosine vs the oversampling rate w_r (Fig. 6).

Drawing is most of a warm report's time (half a second a figure), so each of these takes a ``cache``:
the PNG is stored keyed by the function, everything it draws, this module's source and matplotlib's
version, and a later report with the same data writes the stored bytes (:func:`_cached`).
"""
from __future__ import annotations

import base64
import dataclasses
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from lpm_verify.io import write_bytes_atomic  # noqa: E402
from lpm_verify.report.cache import Cache, input_key  # noqa: E402

DPI = 160
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


@dataclass
class Curve:
    """One line: x and y of equal length (non-finite points are dropped), optional error bars."""

    label: str
    x: list[float]
    y: list[float]
    yerr: list[float] | None = None
    marks_x: list[float] = field(default_factory=list)   # points to highlight (thresholds)
    marks_y: list[float] = field(default_factory=list)
    undefined_x: list[float] = field(default_factory=list)  # x where y is undefined: shaded, not drawn


@dataclass
class Panel:
    title: str
    K: int
    curves: list[Curve]
    overlays: list[Curve] = field(default_factory=list)   # dotted, colour-matched to ``curves``
    marks_label: str | None = None                         # legend text for the diamonds (Curve.marks_*)


def save(fig: plt.Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as PNG atomically (a reader never sees half a file)."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, dpi=DPI, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    return write_bytes_atomic(path, buf.getvalue())


def _finite(xs: Sequence[float], ys: Sequence[float], errs: Sequence[float] | None = None):
    keep = [i for i, (a, b) in enumerate(zip(xs, ys)) if math.isfinite(a) and math.isfinite(b) and a > 0]
    x = [xs[i] for i in keep]
    y = [ys[i] for i in keep]
    e = None if errs is None else [errs[i] if math.isfinite(errs[i]) else 0.0 for i in keep]
    return x, y, e


def _cosine_axes(ax: plt.Axes, panel: Panel, ylabel: str) -> None:
    etf = -1.0 / (panel.K - 1)
    ax.axhline(etf, color="0.45", linestyle="-.", linewidth=1.2, label=f"-1/(K-1) = {etf:.3f} (Eq. 10)")
    if panel.marks_label and any(c.marks_x for c in panel.curves):
        ax.plot([], [], linestyle="none", marker="D", markersize=6, markerfacecolor="white", markeredgecolor="0.3",
                markeredgewidth=1.5, label=panel.marks_label)
    ax.axhline(1.0, color="0.8", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("imbalance ratio R = n_A / n_B (log scale)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(min(etf, -0.2) - 0.08, 1.08)
    ax.set_title(panel.title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)


def _draw(ax: plt.Axes, curve: Curve, color: str, style: str, marker: str | None) -> None:
    x, y, e = _finite(curve.x, curve.y, curve.yerr)
    if not x:
        return
    if e is not None and any(e):
        ax.errorbar(x, y, yerr=e, color=color, linestyle=style, marker=marker, markersize=4, capsize=3,
                    label=curve.label)
    else:
        ax.plot(x, y, color=color, linestyle=style, marker=marker, markersize=3.5, label=curve.label)
    bad = [x for x in curve.undefined_x if math.isfinite(x) and x > 0]
    if bad:
        ax.axvspan(min(bad), max(bad), ymin=0.93, ymax=1.0, color=color, alpha=0.35, linewidth=0,
                   label=f"{curve.label}: undefined here (zero minority classifiers)")
    mx, my, _ = _finite(curve.marks_x, curve.marks_y)
    if mx:
        ax.plot(mx, my, linestyle="none", marker="D", markersize=6, markerfacecolor="white",
                markeredgecolor=color, markeredgewidth=1.5)


def _shared_legend(fig: plt.Figure, axes: Sequence[plt.Axes]) -> None:
    """One legend below all panels, each label once (panels share their K_A colours)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=min(3, len(seen)), fontsize=9,
               frameon=False, bbox_to_anchor=(0.5, 0.0))


def _cached(cache: Cache | None, figure: str, spec: Any, path: str | os.PathLike[str], draw: Callable[[], Path]
            ) -> Path:
    """``draw()`` (which writes ``path``), or the PNG a cache holds for the same ``figure`` and ``spec``."""
    if cache is None:
        return draw()
    params = {"figure": figure, "spec": json.loads(json.dumps(spec, default=str)), "dpi": DPI,
              "matplotlib": matplotlib.__version__}
    key = input_key("figure", params, [__name__])
    stored = cache.get("figure", key)
    if stored is not None:
        return write_bytes_atomic(path, base64.b64decode(stored["png"]))
    written = draw()
    cache.put("figure", key, {"png": base64.b64encode(Path(written).read_bytes()).decode("ascii")})
    return written


def lpm_panels(panels: Sequence[Panel], path: str | os.PathLike[str], suptitle: str, *,
               cache: Cache | None = None) -> Path:
    """Minority cosine vs R, one panel per entry (Fig. 3 is one panel; Fig. 8 several), one legend below."""
    return _cached(cache, "lpm_panels", [[dataclasses.asdict(p) for p in panels], suptitle], path,
                   lambda: _lpm_panels(panels, path, suptitle))


def _lpm_panels(panels: Sequence[Panel], path: str | os.PathLike[str], suptitle: str) -> Path:
    cols = min(len(panels), 2)
    rows = math.ceil(len(panels) / cols)
    height = 4.0 * rows + 0.8
    fig, axes = plt.subplots(rows, cols, figsize=(6.4 * cols, height), squeeze=False)
    used = list(axes.flat)[: len(panels)]
    for ax, panel in zip(used, panels):
        for i, curve in enumerate(panel.curves):
            _draw(ax, curve, COLORS[i % len(COLORS)], "-", "o")
        _cosine_axes(ax, panel, "average cosine between minority classifiers")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(suptitle, fontsize=11)
    _shared_legend(fig, used)
    fig.tight_layout(rect=(0, 0.55 / height, 1, 1))  # leave ~0.55 in below the panels for the legend
    return save(fig, path)


def network_overlay(panel: Panel, path: str | os.PathLike[str], *, cache: Cache | None = None) -> Path:
    """Trained networks (solid, error bars over seeds) over the LPM prediction (dotted), same colour per K_A."""
    return _cached(cache, "network_overlay", dataclasses.asdict(panel), path, lambda: _overlay(panel, path, 4.6))


def _overlay(panel: Panel, path: str | os.PathLike[str], height: float, xlabel: str | None = None) -> Path:
    """Minority cosine: ``panel.curves`` solid, ``panel.overlays`` dotted in the same colours, legend outside."""
    fig, ax = plt.subplots(figsize=(10.0, height))
    for i, curve in enumerate(panel.curves):
        _draw(ax, curve, COLORS[i % len(COLORS)], "-", "o")
    for i, curve in enumerate(panel.overlays):
        _draw(ax, curve, COLORS[i % len(COLORS)], ":", None)
    _cosine_axes(ax, panel, "average cosine between minority classifiers")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return save(fig, path)


def grouped_bars(categories: Sequence[str], series: dict[str, Sequence[float]], path: str | os.PathLike[str],
                 *, ylabel: str, title: str, cache: Cache | None = None) -> Path:
    """Bars per category, one colour per series (missing values left out)."""
    return _cached(cache, "grouped_bars", [list(categories), {k: list(v) for k, v in series.items()}, ylabel, title],
                   path, lambda: _grouped_bars(categories, series, path, ylabel=ylabel, title=title))


def _grouped_bars(categories: Sequence[str], series: dict[str, Sequence[float]], path: str | os.PathLike[str],
                  *, ylabel: str, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(categories) + 3), 4.2))
    width = 0.8 / max(len(series), 1)
    for j, (name, values) in enumerate(series.items()):
        xs = [i + (j - (len(series) - 1) / 2) * width for i in range(len(categories))]
        keep = [(x, v) for x, v in zip(xs, values) if math.isfinite(v)]
        bars = ax.bar([k[0] for k in keep], [k[1] for k in keep], width=width * 0.95,
                      color=COLORS[j % len(COLORS)], label=name)
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels(categories, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def oversampling(panel: Panel, path: str | os.PathLike[str], *, cache: Cache | None = None) -> Path:
    """Minority cosine vs oversampling rate w_r (log axis) at fixed R."""
    return _cached(cache, "oversampling", dataclasses.asdict(panel), path,
                   lambda: _overlay(panel, path, 4.4, xlabel="oversampling rate w_r (log scale)"))
