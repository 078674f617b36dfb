"""The regime label of a float64 solution of the two-size LPM (Eq. 7 / 15 / 91) held against the certified
thresholds of :mod:`lpm_verify.regimes`.

A conic or nonconvex solver labels its solution by the rank pattern of ``X`` (:func:`regimes.regime_of_X`).
Near a threshold ``R*`` that label is decided by a block that vanishes linearly in ``|R - R*|/R*`` (the
event's slope along the branch is nonzero, part of the certificate), while the solver fixes ``X`` only to
its own accuracy.  So a label is trusted only when it agrees with the regime the certified thresholds give
at ``R`` *and* ``R`` is farther from every certified threshold than the solver can resolve.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from lpm_verify.errors import SolverError

#: An interior-point solution that stops at a loss gap ``eps`` fixes ``X`` near a threshold (where strict
#: complementarity fails) only to about ``sqrt(eps / f)``: measured for K = 10, K_A = 3, E_W = 1, E_H = 5
#: (f = 0.024, sqrt(eps / f) = 6.5e-4) the minority cosine's deficit on the collapsed side is up to 5e-4, and
#: the deficit on the distinct side is about 2 |R - R*|/R*.  Clarabel's label was right at relative
#: distance 1e-3 and wrong at 1e-4 (SDP and nuclear norm alike).  A factor 10 over sqrt(eps / f) keeps the
#: deficit of the resolved side well above that noise.
CONIC_RESOLUTION_FACTOR = 10.0
#: The nonconvex solver stops on its gradient, which near a threshold (a flat direction) bounds the
#: geometry poorly: on the same instance its label was right at relative distance 1e-3 and wrong at 1e-4;
#: 1e-2 leaves a factor 10 of headroom.
NONCONVEX_RESOLUTION = 1e-2


@dataclass(frozen=True)
class CertifiedRegime:
    """The regime at ``R`` from certified thresholds, and the certified threshold nearest to ``R``."""

    regime: str
    nearest: float | None          # nearest certified threshold (None: the regime does not change)
    relative_distance: float       # |R - nearest| / nearest (inf when there is none, or R = inf)


@functools.lru_cache(maxsize=64)
def _transitions(K: int, K_A: int, E_W: float, E_H: float, below_one: bool) -> tuple[Any, ...]:
    """The regime changes of :func:`regimes.find_thresholds` (15 digits: ample to compare with float64);
    cached, since a sweep asks once per R (about 0.15 s for K = 10)."""
    from lpm_verify.regimes import find_thresholds
    return tuple(find_thresholds(K, K_A, E_W, E_H, digits=15, below_one=below_one))


def certified_regime(K: int, K_A: int, E_W: float, E_H: float, R: float) -> CertifiedRegime | None:
    """The regime of the two-size LPM at ``R`` (``K_A`` classes of size ``R``, the others of size 1) from its
    certified thresholds; None when a threshold of the instance is not certified (nothing to hold a label to)."""
    try:
        transitions = _transitions(K, K_A, float(E_W), float(E_H), R < 1)
    except SolverError:  # no certified thresholds for this instance
        return None
    if not all(t.certificate.get("certified") for t in transitions):
        return None
    if not transitions:  # one regime for every R: the certified KKT solve at R names it
        from lpm_verify.solvers.symmetric import Profile, solve_symmetric
        return CertifiedRegime(solve_symmetric(Profile.two_size(K, K_A, R, E_W, E_H)).detail["regime"], None, math.inf)
    thresholds = [float(t.R) for t in transitions]
    above = [t for t, R_star in zip(transitions, thresholds) if R < R_star]
    regime = above[0].from_regime if above else transitions[-1].to_regime
    nearest = min(thresholds, key=lambda R_star: abs(math.log(R / R_star)) if math.isfinite(R) else 0.0)
    distance = abs(R - nearest) / nearest if math.isfinite(R) else math.inf
    return CertifiedRegime(regime, nearest, distance)


def label_resolution(method: str, detail: dict[str, Any]) -> float:
    """Smallest relative distance ``|R - R*|/R*`` at which a ``method`` solution's label can be trusted
    (:data:`CONIC_RESOLUTION_FACTOR`, :data:`NONCONVEX_RESOLUTION`); ``detail`` is the solution's."""
    if method == "nonconvex":
        return NONCONVEX_RESOLUTION
    loss_resolution = detail.get("geometry", {}).get("loss_resolution", math.inf)
    return CONIC_RESOLUTION_FACTOR * math.sqrt(loss_resolution)


def label_verdict(label: str, method: str, detail: dict[str, Any], K: int, K_A: int, E_W: float, E_H: float,
                  R: float) -> dict[str, Any]:
    """Whether the solver's regime ``label`` at ``R`` stands: ``{"consistent", "certified_regime", "note"}``.

    ``consistent`` is False when the label differs from the certified regime or ``R`` is within
    :func:`label_resolution` of a certified threshold; ``certified_regime`` is None when the instance has an
    uncertified threshold (then the label is not judged)."""
    cert = certified_regime(K, K_A, E_W, E_H, R)
    if cert is None:
        return {"consistent": True, "certified_regime": None, "note": ""}
    resolution = label_resolution(method, detail)
    reasons = []
    if label != cert.regime:
        reasons.append(f"its regime {label!r} differs from the certified {cert.regime!r}")
    if cert.relative_distance < resolution:
        reasons.append(f"R is {cert.relative_distance:.2g} (relative) from the certified threshold "
                       f"R* = {cert.nearest:.10g}, below the {resolution:.2g} that {method}'s tolerance resolves")
    note = ("; ".join(reasons) + "; use --method symmetric") if reasons else ""
    return {"consistent": not reasons, "certified_regime": cert.regime, "note": note}
