"""The observed Minority-Collapse point of trained networks, next to the LPM's threshold ``R_0``.

Figs. 2 and 4 plot the average between-minority-class cosine against the imbalance ratio ``R``;
the LPM (Eq. 7) predicts that it reaches 1 at a finite ``R_0`` (Section 4.B).  For a curve of
networks the analogue is the ``R`` at which the cosine first crosses a stated level, interpolated
linearly in ``log R`` between the two grid points that bracket the crossing.  Two levels are used:

* ``halfway``: midpoint between ``-1/(K-1)`` (the simplex ETF, Definition 1: every pair of the
  ``K`` classifiers at that cosine) and ``1`` (collapse): where the curve is half way to collapse;
* ``0.9``: the cosine is near 1, i.e. the minority classifiers have (almost) collapsed.

Every function here is pure (numbers in, numbers out) so that the experiment checks and the
penalized-model predictions judge networks by the same number.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from lpm_verify.errors import require

#: The minority cosine at which a curve counts as (nearly) collapsed: the "approaches 1" level of the Fig. 4
#: check and the observed collapse point of the theory-gap comparison.
COLLAPSE_LEVEL = 0.9


def collapse_levels(K: int) -> dict[str, float]:
    """``{"halfway": (1 - 1/(K-1)) / 2, "0.9": 0.9}``: the cosine levels at which collapse is read off."""
    require(isinstance(K, int) and K >= 3, "K", "an integer >= 3 (two or more minority classes need K >= 3)", K)
    return {"halfway": (1.0 - 1.0 / (K - 1)) / 2.0, f"{COLLAPSE_LEVEL:g}": COLLAPSE_LEVEL}


@dataclass(frozen=True)
class Crossing:
    """Where a curve ``cos(R)`` reaches ``level`` on a grid of ratios, with its censoring.

    ``bound``: ``"="`` (reached between two grid points; ``R`` interpolated linearly in ``log R``),
    ``">"`` (not reached at any finite grid point: the crossing lies beyond ``R``, the largest finite
    ratio; a bound, never a number), ``"<="`` (already reached at the first grid point ``R``).
    """

    R: float
    bound: str
    level: float

    @property
    def interval(self) -> tuple[float, float]:
        """The ratios the crossing may lie in: ``(R, R)``, ``(R, inf)`` or ``(1, R)``."""
        return {"=": (self.R, self.R), ">": (self.R, math.inf), "<=": (1.0, self.R)}[self.bound]

    @property
    def exact(self) -> bool:
        return self.bound == "="

    def to_dict(self) -> dict[str, Any]:
        return {"R": self.R, "bound": self.bound, "level": self.level}

    def __str__(self) -> str:
        return {"=": "", ">": "> ", "<=": "<= "}[self.bound] + f"{self.R:.4g}"


def crossing(R: Sequence[float], cos: Sequence[float], level: float = COLLAPSE_LEVEL) -> Crossing:
    """The smallest ``R`` at which the curve ``cos(R)`` reaches ``level``, interpolated linearly in ``log R``
    between the two grid points that bracket it; a bound when the grid does not bracket it (:class:`Crossing`).

    ``R`` must be increasing; ``R = inf`` may close the grid and is left out (no finite point to
    interpolate to).  A non-finite cosine raises: a corrupt run is not a data point.
    """
    Rs = np.asarray(R, dtype=float)
    cs = np.asarray(cos, dtype=float)
    require(Rs.ndim == 1 and Rs.shape == cs.shape and Rs.size >= 1, "R, cos", "two 1-D arrays of equal length >= 1",
            (Rs.shape, cs.shape))
    require(bool(np.all(Rs >= 1)) and bool(np.all(np.diff(Rs) > 0)), "R", "increasing ratios >= 1", Rs.tolist())
    require(bool(np.all(np.isfinite(cs))), "cos", "finite cosines (a NaN cosine means a broken run)", cs.tolist())
    finite = np.isfinite(Rs)
    Rs, cs = Rs[finite], cs[finite]
    require(Rs.size >= 1, "R", "at least one finite ratio", R)
    above = np.flatnonzero(cs >= level)
    if above.size == 0:
        return Crossing(float(Rs[-1]), ">", level)
    i = int(above[0])
    if i == 0:
        return Crossing(float(Rs[0]), "<=", level)
    x0, x1 = math.log(Rs[i - 1]), math.log(Rs[i])
    t = (level - cs[i - 1]) / (cs[i] - cs[i - 1])
    return Crossing(float(math.exp(x0 + t * (x1 - x0))), "=", level)


def earlier(a: Crossing, b: Crossing, strict: bool = True) -> bool | None:
    """Whether crossing ``a`` comes before ``b`` (``strict``: at a smaller R; else at a smaller or equal R):
    True or False when their intervals decide it, None when two bounds overlap (undecided)."""
    (a_lo, a_hi), (b_lo, b_hi) = a.interval, b.interval
    if (a_hi < b_lo) if strict else (a_hi <= b_lo):
        return True
    if (a_lo >= b_hi) if strict else (a_lo > b_hi):
        return False
    if a.exact and b.exact:
        return a.R < b.R if strict else a.R <= b.R
    return None


@dataclass(frozen=True)
class CollapsePoint:
    """The observed collapse point of one curve (one configuration, several seeds) at one level.

    ``per_seed``: the crossing of each seed; ``log10_mean`` / ``log10_sd``: mean and sample sd of
    ``log10 R`` over seeds when every seed crossed on the grid (else NaN: bounds are not averaged);
    ``predicted``: the LPM's ``R_0`` at the fitted energies (None if unknown); ``log10_ratio``:
    ``log10(predicted / observed)`` with the observed point ``10**log10_mean`` (None unless both exist).
    """

    level_name: str
    level: float
    seeds: tuple
    per_seed: tuple[Crossing, ...]
    log10_mean: float
    log10_sd: float
    predicted: float | None
    log10_ratio: float | None

    @property
    def observed(self) -> float | None:
        return 10.0 ** self.log10_mean if math.isfinite(self.log10_mean) else None

    @property
    def censored(self) -> str | None:
        """'above the grid' / 'below the grid' when some seed's crossing is only a bound, else None."""
        bounds = {c.bound for c in self.per_seed} - {"="}
        return None if not bounds else " and ".join(
            {">": "above the grid", "<=": "below the grid"}[b] for b in sorted(bounds))


def collapse_point(R: Sequence[float], cos_by_seed: dict, level: float, level_name: str = "",
                   predicted: float | None = None) -> CollapsePoint:
    """Crossing of ``level`` by each seed's curve ``cos_by_seed[seed]  # (len(R),)`` over the grid ``R``,
    summarised in ``log10 R`` (mean, sample sd) and compared with the LPM's ``predicted`` ``R_0``."""
    require(len(cos_by_seed) >= 1, "cos_by_seed", "at least one seed's curve", len(cos_by_seed))
    seeds = tuple(sorted(cos_by_seed, key=str))
    per_seed = tuple(crossing(R, cos_by_seed[s], level) for s in seeds)
    exact = all(c.exact for c in per_seed)
    logs = [math.log10(c.R) for c in per_seed]
    mean = statistics.fmean(logs) if exact else math.nan
    sd = statistics.stdev(logs) if exact and len(logs) > 1 else math.nan
    ratio = None
    if exact and predicted is not None and math.isfinite(predicted) and predicted > 0:
        ratio = math.log10(predicted) - mean
    return CollapsePoint(level_name, level, seeds, per_seed, mean, sd, predicted, ratio)


def predicted_R0(values: Sequence[float | None]) -> float | None:
    """The LPM's ``R_0`` of a curve: the median of its runs' ``lpm_R0`` (each for that run's fitted
    ``(E_W, E_H)``); None when no run has one (the LPM predicts no collapse, or the solve failed)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) > 0]
    return statistics.median(finite) if finite else None
