"""Section 3 and Fig. 8 (Appendix D): how the Minority-Collapse threshold R_0 of the LPM moves, and the
minority angles below it.

After Theorem 5: "the phase transition point R_0 depends on the class sizes K_A, K_B and the thresholds
E_H, E_W.  This value becomes smaller when E_W, E_H, or the number of minority classes K_B is smaller
while fixing the other parameters (see more numerical examples in Figure S2)", i.e. Fig. 8.  Section 1:
"even below the phase transition point of this ratio ... the angles between any pair of the minority
classifiers are already smaller than those of the majority classes, both theoretically and empirically".

Both are decided on Eq. 7 itself: ``R_0`` is the first certified transition into a minority-collapse
regime found by :func:`lpm_verify.regimes.find_thresholds` (15 digits, certified on both sides), and the
cosines are those of the symmetry-reduced solver (:func:`lpm_verify.sweep.sweep`).
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

from lpm_verify.records import Outcome
from lpm_verify.registry import check

#: Fig. 8's family: K = K_A + K_B classes; each series varies one parameter with the others at the base.
BASE = {"K_A": 5, "K_B": 5, "E_W": 1.0, "E_H": 1.0}
SERIES = {"E_W": (0.5, 1.0, 2.0, 5.0), "E_H": (0.5, 1.0, 2.0, 5.0), "K_B": (2, 3, 5, 7)}
#: Fractions of R_0 below the transition at which the minority and majority angles are compared.
BELOW_FRACTIONS = (0.3, 0.6, 0.9)
#: Cases of that comparison (K = 10, as Fig. 3): every (K_A, E_W = E_H) of the grid.
ANGLE_CASES = tuple((K_A, E) for K_A in (3, 5, 7) for E in (1.0, 5.0))


@functools.lru_cache(maxsize=None)
def collapse_threshold(K: int, K_A: int, E_W: float, E_H: float) -> float | None:
    """``R_0`` of Eq. 7: the first certified transition into minority collapse (None: none found)."""
    from lpm_verify.regimes import find_thresholds
    for t in find_thresholds(K, K_A, E_W, E_H, digits=15, per_decade=3):
        if t.to_regime.startswith("minority-collapse"):
            return float(t.R) if t.certificate.get("certified") else None
    return None


def increasing_outcome(series: dict[str, Sequence[tuple[float, float | None]]]) -> Outcome:
    """``series[name] = [(parameter, R_0), ...]`` by increasing parameter: each R_0 must exist and grow
    strictly with the parameter (R_0 smaller when the parameter is smaller).  Error: violated steps."""
    violations, n = [], 0
    for name, pts in series.items():
        for (p0, r0), (p1, r1) in zip(pts, pts[1:]):
            n += 1
            if r0 is None or r1 is None or not r0 < r1:
                violations.append(f"{name}: R_0 = {r0} at {name} = {p0:g} is not below R_0 = {r1} at {p1:g}")
    observed = {name: {f"{p:g}": (None if r is None else float(f"{r:.6g}")) for p, r in pts}
                for name, pts in series.items()}
    return Outcome("R_0 strictly increasing in E_W, E_H and K_B", observed, float(len(violations)),
                   detail={"violations": violations, "comparisons": n})


@check("Theorem 5/threshold-smaller-for-smaller-EW-EH-KB", method="solver", origin="paper", part="statement",
       tolerance=0, digits=15,
       reason="a count of violated steps; each R_0 is a root certified on both sides to 15 digits",
       claim="R_0 becomes smaller when E_W, E_H or the number of minority classes K_B is smaller, the other "
             "parameters fixed (Section 3 after Theorem 5; Fig. 8)")
def _trends() -> Outcome:
    series = {}
    for name, values in SERIES.items():
        pts = []
        for v in values:
            p = {**BASE, name: v}
            pts.append((v, collapse_threshold(p["K_A"] + p["K_B"], p["K_A"], p["E_W"], p["E_H"])))
        series[name] = pts
    out = increasing_outcome(series)
    out.detail["base"] = BASE
    return out


def angles_outcome(rows: Sequence[dict[str, Any]]) -> Outcome:
    """``rows``: the LPM's solution below ``R_0`` (``cos_minority``, ``cos_majority``, ``R``, ``R0``): the
    minority cosine must exceed the majority one (smaller angles).  Error: rows where it does not."""
    violations = [f"K_A = {r['K_A']}, E = {r['E']:g}, R = {r['R']:.4g} (R_0 = {r['R0']:.4g}): cos minority "
                  f"{r['cos_minority']:.4f} <= cos majority {r['cos_majority']:.4f}"
                  for r in rows if not r["cos_minority"] > r["cos_majority"]]
    return Outcome("cos(minority) > cos(majority) below R_0", [
        {k: (float(f"{v:.6g}") if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
        float(len(violations)), detail={"violations": violations, "comparisons": len(rows)})


@check("Theorem 5/minority-angles-smaller-below-threshold", method="solver", origin="paper", part="statement",
       tolerance=0, digits=15,
       reason="a count of (case, R) points where the minority cosine does not exceed the majority one; the "
              "symmetric solver's KKT residual is ~1e-15, far below the cosine gaps",
       claim="below the phase transition the angles between the minority classifiers are already smaller than "
             "those between the majority classifiers (Section 1), for Eq. 7 with K = 10")
def _angles() -> Outcome:
    from lpm_verify.sweep import sweep
    rows = []
    for K_A, E in ANGLE_CASES:
        R0 = collapse_threshold(10, K_A, E, E)
        if R0 is None or not math.isfinite(R0):
            rows.append({"K_A": K_A, "E": E, "R": math.nan, "R0": math.nan, "cos_minority": math.nan,
                         "cos_majority": math.nan})
            continue
        Rs = [max(1.0 + 1e-3, f * R0) for f in BELOW_FRACTIONS if f * R0 > 1.0]
        for row in sweep(10, K_A, E, E, Rs, method="symmetric"):
            rows.append({"K_A": K_A, "E": E, "R": float(row["R"]), "R0": R0,
                         "cos_minority": float(row["cos_minority"]), "cos_majority": float(row["cos_majority"])})
    return angles_outcome(rows)
