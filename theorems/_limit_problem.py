"""Shared pieces of Lemmas 5 and 6 (the limit problem Eq. 66, R = inf): Lemma 6's constants and the
coefficient of ||w_B||^2 in Eq. 78 (b); the three cases of Lemma 5 with the constants the proof picks
(x_0 of case iii included); and Eq. 66 solved once per instance.  A fixtures module: it registers no
check and imports no result module."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable

import mpmath
import sympy as sp

from lpm_verify.solvers.base import TIGHT
from lpm_verify.solvers.limit import LimitSolution, solve_limit


# -- constants of Lemma 6 ------------------------------------------------------------------------
@dataclass(frozen=True)
class BoundConstants:
    """``C'_a, C'_b, C'_c, C_d, C_e, C_f, C_g`` of Lemma 6 (any numeric type: float, mpf, sympy)."""

    Cpa: Any
    Cpb: Any
    Cpc: Any
    C_d: Any
    C_e: Any
    C_f: Any
    C_g: Any


def bound_constants(K_A: Any, K_B: Any, C_a: Any, C_b: Any, C_c: Any,
                    log: Callable[[Any], Any] = math.log) -> BoundConstants:
    """The constants of Lemma 6 as printed (``log`` chooses float, mpmath or sympy)."""
    D = C_a + (K_A - 1) * C_b + K_B * C_c
    Cpa, Cpb, Cpc = C_a / D, C_b / D, C_c / D
    C_d = -Cpa * log(Cpa) - Cpb * (K_A - 1) * log(Cpb) - K_B * Cpc * log(Cpc)
    S = K_A * C_b + K_B * C_c
    return BoundConstants(Cpa, Cpb, Cpc, C_d, K_A * C_b / S, K_B * C_c / S, S / D)


def coefficient(K_R: Any, C_e: Any, C_f: Any) -> Any:
    """``1/K_R - C_f^2 - C_f^4/(C_e(2 - C_e))``, the coefficient of ``||w_B||^2`` in Eq. 78 (b)."""
    return 1 / K_R - C_f**2 - C_f**4 / (C_e * (2 - C_e))


#: The instances of the three cases: (K_A, K_B, E_W, E_H).
CASE_I = (1, 3, 1.0, 1.0)


CASE_II = (3, 2, 1.0, 1.0)   # exp((5/3)/2) = 2.30 < sqrt(2.5) + 1 = 2.58


CASE_III = (3, 2, 2.0, 2.0)  # exp((5/3) 2/2) = 5.29 >= 2.58


# -- closed forms -------------------------------------------------------------------------------
def case_i_constants(K_B: Any, s: Any, sqrt: Callable = sp.sqrt, exp: Callable = sp.exp) -> tuple:
    """``(C_a, C_b, C_c)`` of case (i); ``s = sqrt(E_H E_W)``."""
    return exp(sqrt(K_B * (1 + K_B)) * s), 1, exp(-sqrt((1 + K_B) / K_B) * s)


def case_ii_constants(K_A: Any, K_B: Any, s: Any, exp: Callable = sp.exp) -> tuple:
    """``(C_a, C_b, C_c)`` of case (ii); ``s = sqrt(E_H E_W)``."""
    t = (1 + K_B / K_A) * s
    return exp(t), exp(-t / (K_A - 1)), 1


# -- case (iii) ---------------------------------------------------------------------------------
def g_functions(K_A: int, K_B: int, E_W: Any, E_H: Any) -> dict[str, Callable[[Any], Any]]:
    """``g_N, g_a, g_b, g_c`` of case (iii) in mpmath (``C'_e/C'_f = sqrt(K_R + 1) - 1``)."""
    K_R = mpmath.mpf(K_A) / K_B
    Cf = 1 / mpmath.sqrt(K_R + 1)
    r = 1 + (1 - Cf) / Cf
    E_W, E_H = mpmath.mpf(E_W), mpmath.mpf(E_H)

    def g_N(x: Any) -> Any:
        return mpmath.sqrt((1 + K_R) * E_W / (K_R * x**2 + (K_R + K_R**2) * (1 - x) ** 2))

    def scale(x: Any) -> Any:
        return g_N(x) * mpmath.sqrt((1 + K_R) * E_H / K_R) / mpmath.sqrt(x**2 + r**2 * (1 - x) ** 2)

    return {"g_N": g_N,
            "g_a": lambda x: mpmath.exp(scale(x) * (x**2 + r * (1 - x) ** 2)),
            "g_b": lambda x: mpmath.exp(scale(x) * (-x**2 / (K_A - 1) + r * (1 - x) ** 2)),
            "g_c": lambda x: mpmath.exp(scale(x) * (-r * K_R * (1 - x) ** 2)),
            "target": lambda: (1 / Cf - 1) / K_R}


def x0_equation(K_A: int, K_B: int, E_W: Any, E_H: Any) -> Callable[[Any], Any]:
    """``F(x) = log(g_b(x)/g_c(x)) - log((1/C'_f - 1)/K_R)``; x_0 is its root in [0, 1]."""
    g = g_functions(K_A, K_B, E_W, E_H)
    return lambda x: mpmath.log(g["g_b"](x) / g["g_c"](x)) - mpmath.log(g["target"]())


def find_x0(K_A: int, K_B: int, E_W: Any, E_H: Any) -> Any:
    """The root x_0 in [0, 1] at the working precision (bracketing solver, sign change required)."""
    F = x0_equation(K_A, K_B, E_W, E_H)
    if abs(F(mpmath.mpf(1))) <= mpmath.mpf(10) ** (5 - mpmath.mp.dps):  # on the (ii)/(iii) boundary
        return mpmath.mpf(1)
    return mpmath.findroot(F, (mpmath.mpf(0), mpmath.mpf(1)), solver="anderson")


def case_of(K_A: int, K_B: int, E_W: float, E_H: float) -> str:
    """Which case of the proof applies: 'i', 'ii' or 'iii'."""
    if K_A == 1:
        return "i"
    return "ii" if math.exp((1 + K_B / K_A) * math.sqrt(E_W * E_H) / (K_A - 1)) < math.sqrt(1 + K_A / K_B) + 1 else "iii"


@functools.lru_cache(maxsize=None)
def solved(K_A: int, K_B: int, E_W: float, E_H: float,
           pair_gap: tuple[int, int, float] | None = None) -> LimitSolution:
    """Eq. 66 solved once per instance (Clarabel; tight tolerances when the shape of X is read)."""
    return solve_limit(K_A, K_B, E_W, E_H, pair_gap=pair_gap, **(TIGHT if pair_gap is None else {}))


# -- checks: solver -----------------------------------------------------------------------------------
def lemma5_constants(K_A: int, K_B: int, E_W: float, E_H: float) -> tuple[float, float, float]:
    """The constants ``(C_a, C_b, C_c)`` the proof picks for this instance (case i, ii or iii), in float."""
    s, case = math.sqrt(E_W * E_H), case_of(K_A, K_B, E_W, E_H)
    if case == "i":
        return tuple(float(c) for c in case_i_constants(K_B, s, math.sqrt, math.exp))
    if case == "ii":
        return tuple(float(c) for c in case_ii_constants(K_A, K_B, s, exp=math.exp))
    with mpmath.workdps(30):
        x0 = find_x0(K_A, K_B, E_W, E_H)
        g = g_functions(K_A, K_B, E_W, E_H)
        return tuple(float(g[n](x0)) for n in ("g_a", "g_b", "g_c"))
