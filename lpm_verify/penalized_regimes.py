"""Regimes of the penalized LPM's optimum (:mod:`lpm_verify.penalized`, form (P)) along the two-size
family and every imbalance ratio R at which the regime changes, certified at 30+ digits.

Regimes are those of the reduced Eq. 15 (:mod:`lpm_verify.regimes`): ``distinct (M1 A+ B+)``,
``minority-collapse (M1 A+ B0)`` (minority classifiers identical), ``minority-collapse-zero (M0 A+ B0)``
(minority classifiers zero), ...  By (P) the regimes depend on ``(lambda_W, lambda_H)`` only through
``c = sqrt(lambda_W lambda_H)``.

Reduction.  The penalized model is not a second threshold engine: :class:`PenalizedFamily` maps the
two-size family of (P) onto the reduced symmetric KKT system with the budget row replaced by the penalty
(:class:`~lpm_verify.solvers.penalized_symmetric.PenalizedSystem`) and onto certified float64 points
(:func:`~lpm_verify.solvers.penalized_symmetric.solve_float`), which is all that
:func:`lpm_verify.regimes.transitions` needs: the same scan, refinement, bisection, augmented Newton in
mpmath and side certificates as for Eq. 7.  R = inf is not scanned (the minority weight ``sqrt(pi_B)``
of (P) vanishes there); the scan stops at ``10^log10_range``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lpm_verify.errors import require
from lpm_verify.problem import positive
from lpm_verify.regimes import Family, Transition, transitions
from lpm_verify.solvers.penalized_symmetric import PenalizedSystem, solve_float
from lpm_verify.solvers.symmetric import Profile, Regime
from lpm_verify.solvers.symmetric.certificate import quick_certificate
from lpm_verify.solvers.symmetric.continuation import Point


@dataclass(frozen=True)
class PenalizedFamily(Family):
    """The two-size family of (P) (``K_A`` classes of size ``R``, ``K - K_A`` of size 1) as a
    :class:`~lpm_verify.regimes.Family`: its systems are :class:`PenalizedSystem`'s, its certificate
    the residual-and-margins certificate that proves optimality of the convex (P)."""

    K: int
    K_A: int
    lambda_W: float
    lambda_H: float
    lambda_b: float | None = None

    def __post_init__(self) -> None:
        positive("lambda_W", self.lambda_W)
        positive("lambda_H", self.lambda_H)
        if self.lambda_b is not None:
            require(isinstance(self.lambda_b, (int, float)) and math.isfinite(self.lambda_b) and self.lambda_b >= 0,
                    "lambda_b", "None (no bias), 0 (free bias) or a finite number > 0", self.lambda_b)
        self.profile  # noqa: B018 -- Profile.two_size checks K and K_A before any solve

    def start(self) -> Point:
        return self.at(1.0, None)

    def at(self, R: float, warm: Point | None) -> Point:
        return solve_float(Profile.two_size(self.K, self.K_A, R, 1.0, 1.0), self.lambda_W, self.lambda_H, warm,
                           self.lambda_b)

    def fresh(self, R: float) -> Point:
        return self.at(R, None)

    def system(self, regime: Regime, pi: Any, event: tuple | None = None) -> PenalizedSystem:
        return PenalizedSystem(self.profile, regime, pi, event, lambda_W=self.lambda_W, lambda_H=self.lambda_H,
                               lambda_b=self.lambda_b)

    def certify(self, system: PenalizedSystem, x: np.ndarray) -> dict[str, Any]:
        return quick_certificate(system, x)


def point_at(K: int, K_A: int, R: float, lambda_W: float, lambda_H: float, warm: Point | None = None) -> Point:
    """Certified float64 optimum of (P) for the two-size family at ``R`` (two groups even at R = 1)."""
    return PenalizedFamily(K, K_A, lambda_W, lambda_H).at(R, warm)


def find_penalized_thresholds(K: int, K_A: int, lambda_W: float, lambda_H: float, digits: int = 30,
                              log10_range: float = 8.0, per_decade: int = 6, lambda_b: float | None = None
                              ) -> list[Transition]:
    """Every regime change of (P) for the two-size family with ``R in [1, 10^log10_range]``, sorted,
    each to ``digits`` digits with its certificate (:func:`lpm_verify.regimes.transitions`)."""
    return transitions(PenalizedFamily(K, K_A, lambda_W, lambda_H, lambda_b), digits, log10_range, per_decade)
