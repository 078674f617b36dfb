"""Minority cosine against the imbalance ratio R (the data of Fig. 3), as CSV rows and a plot.

:func:`sweep` solves the two-size LPM (``K_A`` classes of size ``R``, ``K - K_A`` of size 1) along a
list of R (``math.inf`` allowed) and returns one row per R with the keys of :data:`COLUMNS`.
``method="symmetric"`` walks the list by warm-started Newton on the reduced KKT system (regime
switches detected by the certificate); "sdp" / "nuclear" solve Eq. 15 / Eq. 91 with cvxpy per point;
"nonconvex" solves Eq. 7 directly (class weights R carry the imbalance, ``p = 2K``).  ``geometry_resolved``
is False where a conic solver fixed the loss but not the geometry
(:func:`lpm_verify.solvers.base.geometry_resolution`): that row's cosines and regime are not meaningful.
"""
from __future__ import annotations

import csv
import io
import math
import time
from typing import Any, Iterable, Sequence

import numpy as np

from lpm_verify.errors import LPMInputError, require
from lpm_verify.io import write_bytes_atomic, write_text_atomic
from lpm_verify.problem import LPMProblem, two_size_fractions
from lpm_verify.solvers.base import summarize

COLUMNS = ("K", "K_A", "R", "E_W", "E_H", "cos_minority", "cos_majority", "cos_all", "norm_minority",
           "norm_majority", "regime", "objective", "seconds", "method", "geometry_resolved")
METHODS = ("symmetric", "sdp", "nuclear", "nonconvex")


def _check(K: int, K_A: int, E_W: float, E_H: float, R_values: Sequence[float], method: str) -> None:
    require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
    require(isinstance(K_A, int) and 0 < K_A < K, "K_A", f"an integer in [1, K-1] = [1, {K - 1}]", K_A)
    require(math.isfinite(E_W) and E_W > 0, "E_W", "a finite number > 0", E_W)
    require(math.isfinite(E_H) and E_H > 0, "E_H", "a finite number > 0", E_H)
    for R in R_values:
        require(R > 0 and not math.isnan(R), "R", "> 0 (inf allowed)", R)
    require(method in METHODS, "method", f"one of {', '.join(METHODS)}", method)


def sweep(K: int, K_A: int, E_W: float, E_H: float, R_values: Iterable[float], method: str = "symmetric",
          solver: str = "clarabel", progress: bool = False) -> list[dict[str, Any]]:
    """One row per R (see the module docstring); ``progress`` shows a tqdm bar."""
    R_values = [float(R) for R in R_values]
    _check(K, K_A, E_W, E_H, R_values, method)
    from tqdm import tqdm
    rows = []
    point = None
    for R in tqdm(R_values, desc=f"K_A={K_A}", unit="R", disable=not progress):
        t0 = time.perf_counter()
        if method == "symmetric":
            stats, point = _symmetric_row(K, K_A, R, E_W, E_H, point)
        else:
            stats = _generic_row(K, K_A, R, E_W, E_H, method, solver)
        rows.append({"K": K, "K_A": K_A, "R": R, "E_W": E_W, "E_H": E_H, **stats,
                     "seconds": time.perf_counter() - t0, "method": method})
    return rows


def _symmetric_row(K: int, K_A: int, R: float, E_W: float, E_H: float, point: Any) -> tuple[dict, Any]:
    from lpm_verify.solvers.symmetric import Profile, regime_name, solve_float, summary_from_point
    from lpm_verify.solvers.symmetric.continuation import bisect_step, step, try_regime
    from lpm_verify.solvers.symmetric.kkt import System
    prof = Profile.two_size(K, K_A, R, E_W, E_H)
    pi = prof.fractions()
    tau = math.log(R) if math.isfinite(R) else None
    if point is None:
        point = solve_float(prof)
    else:
        got = None
        prev = point.info.get("previous")
        if tau is not None and prev is not None and prev.regime == point.regime and \
                point.info.get("tau") not in (None, prev.info.get("tau")) and prev.info.get("tau") is not None:
            # secant predictor in log R along the current regime's branch
            w = (tau - point.info["tau"]) / (point.info["tau"] - prev.info["tau"])
            with np.errstate(all="ignore"):
                got, _ = try_regime(prof, pi, point.regime, point.x + w * (point.x - prev.x))
        if got is None:
            with np.errstate(all="ignore"):
                got = step(prof, pi, point)
        if got is None:
            got = bisect_step(prof, point.info["pi"], pi, point, 0)
        got.info["previous"] = point
        point.info.pop("previous", None)
        point = got
    point.info["pi"] = pi
    point.info["tau"] = tau
    s = summary_from_point(prof, point)
    system = System(prof, point.regime, pi)
    A, B, sv, _, _ = system.unpack(point.x[None, :])
    _, _, Dm1 = system.gradient(A, B, sv, pi[None])
    objective = float(np.sum(np.array(prof.counts) * pi * np.log1p(Dm1[0])))
    return {"cos_minority": s["cos_B"], "cos_majority": s["cos_A"], "cos_all": s["cos_all"],
            "norm_minority": s["norm_B"], "norm_majority": s["norm_A"], "regime": regime_name(point.regime),
            "objective": objective, "geometry_resolved": True}, point


def _generic_row(K: int, K_A: int, R: float, E_W: float, E_H: float, method: str, solver: str) -> dict:
    from lpm_verify.regimes import regime_of_X
    from lpm_verify.solvers.symmetric import Profile, regime_name
    if method in ("sdp", "nuclear"):
        from lpm_verify.solvers.nuclear import solve_nuclear
        from lpm_verify.solvers.sdp import solve_sdp
        fn = solve_sdp if method == "sdp" else solve_nuclear
        sol = fn(two_size_fractions(K, K_A, R), E_W=E_W, E_H=E_H, solver=solver)
    else:
        require(math.isfinite(R), "R", "finite for method=nonconvex (Eq. 7 has no R = inf limit)", R)
        from lpm_verify.solvers.nonconvex import solve_lpm
        problem = LPMProblem((1,) * K, E_W, E_H, p=2 * K, weights=(R,) * K_A + (1.0,) * (K - K_A))
        sol = solve_lpm(problem).as_lpm_solution()
    prof = Profile.two_size(K, K_A, R, E_W, E_H)
    sol.detail["regime"] = regime_name(regime_of_X(sol.X, prof))
    s = summarize(sol, K_A)
    return {"cos_minority": s["cos_minority"], "cos_majority": s["cos_majority"], "cos_all": s["cos_all"],
            "norm_minority": s["norm_minority"], "norm_majority": s["norm_majority"], "regime": s["regime"],
            "objective": s["objective"], "geometry_resolved": s["geometry_resolved"]}


def write_sweep_csv(rows: Sequence[dict[str, Any]], path: str) -> None:
    """Write the rows (columns :data:`COLUMNS`; ``R = inf`` as "inf", undefined cosines as "nan")."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    write_text_atomic(path, buf.getvalue())


def plot_sweep(rows: Sequence[dict[str, Any]], path: str) -> None:
    """Minority cosine vs R (log x-axis), one curve per K_A, with the ``-1/(K-1)`` line of Eq. 10.

    ``R = inf`` is drawn as a marker at the right edge; R where the cosine is undefined (the minority
    classifiers are zero, or ``K_B = 1``) are marked on the axis and named in the legend; rows whose
    geometry the solver did not resolve are left out (their number is in the title).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dropped = sum(1 for r in rows if not r.get("geometry_resolved", True))
    rows = [r for r in rows if r.get("geometry_resolved", True)]  # unresolved geometry is not drawn
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    finite = [r["R"] for r in rows if math.isfinite(r["R"])]
    right = max(finite) * 3 if finite else 10.0
    Ks = sorted({r["K"] for r in rows})
    for K_A in sorted({r["K_A"] for r in rows}):
        sel = [r for r in rows if r["K_A"] == K_A]
        R = np.array([r["R"] for r in sel if math.isfinite(r["R"])])
        c = np.array([r["cos_minority"] for r in sel if math.isfinite(r["R"])], dtype=float)
        label = f"K_A = {K_A}"
        undefined = R[np.isnan(c)]
        if len(undefined):
            label += " (undefined: " + ("K_B = 1" if sel[0]["K"] - K_A == 1 else
                                        f"w_B = 0 for R >= {undefined.min():.3g}") + ")"
        line, = ax.plot(R, c, marker=".", label=label)
        if len(undefined):
            ax.plot(undefined, np.full(len(undefined), -1.0), "x", color=line.get_color(), ms=4)
        inf_rows = [r for r in sel if math.isinf(r["R"])]
        if inf_rows and math.isfinite(inf_rows[0]["cos_minority"]):
            ax.plot([right], [inf_rows[0]["cos_minority"]], "o", color=line.get_color(), mfc="none")
    for K in Ks:
        ax.axhline(-1 / (K - 1), color="gray", ls="-.", lw=1, label=f"-1/(K-1), K = {K}")
    ax.set_xscale("log")
    ax.set_xlabel("imbalance ratio R = n_A / n_B  (open circle: R = inf)")
    ax.set_ylabel("average cosine between minority classifiers")
    ax.set_ylim(-1.05, 1.05)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Layer-Peeled Model, Eq. 15 (x marks: cosine undefined)" +
                 (f"; {dropped} points with unresolved geometry not drawn" if dropped else ""), fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())


#: Most R values ``log_grid`` makes per curve (a symmetric point takes milliseconds, an SDP point seconds).
MAX_GRID_POINTS = 1000


def log_grid(spec: str) -> list[float]:
    """``"start:stop:num"`` -> ``num`` log-spaced R from start to stop (inclusive), all finite."""
    accepted = (f"start:stop:num with finite 0 < start <= stop and 1 <= num <= {MAX_GRID_POINTS}, "
                f"e.g. 1:10000:41 (R = inf is added by itself)")
    try:
        a, b, n = spec.split(":")
        start, stop, num = float(a), float(b), int(n)
    except ValueError:
        raise LPMInputError(f"--R must be {accepted}; got {spec!r}") from None
    require(math.isfinite(start) and math.isfinite(stop) and 0 < start <= stop and 1 <= num <= MAX_GRID_POINTS,
            "--R", accepted, spec)
    return np.geomspace(start, stop, num).tolist()
