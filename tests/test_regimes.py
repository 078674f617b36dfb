"""Regime detection and thresholds: certified roots, independent re-checks, and negative controls."""
from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import pytest

from lpm_verify.problem import two_size_fractions
from lpm_verify.regimes import Eq7Family, event_at, find_thresholds, regime_of_X
from lpm_verify.solvers.symmetric import Profile, Regime, parse_regime, solve_float

DIGITS = 30


@functools.lru_cache(maxsize=None)
def thresholds(K_A: int, E_W: float, E_H: float, below_one: bool = False) -> tuple:
    return tuple(find_thresholds(10, K_A, E_W, E_H, digits=DIGITS, below_one=below_one))


@pytest.mark.parametrize("K_A,E_W,E_H", [(5, 1.0, 5.0), (7, 1.0, 5.0), (5, 0.5, 5.0), (7, 1.0, 1.0)])
def test_thresholds_are_certified_roots(K_A, E_W, E_H):
    for t in thresholds(K_A, E_W, E_H):
        c = t.certificate
        assert c["certified"] and c["converged"] and c["root_inside_bracket"]
        assert c["augmented_residual"] < mpmath.mpf(10) ** -(DIGITS + 5)
        assert abs(c["event_slope_dlogR"]) > 1e-3  # transversal: the regime really changes
        assert all(side["ok"] for side in c["sides"].values())
        assert parse_regime(t.from_regime) != parse_regime(t.to_regime)


def test_event_recheck_and_negative_control():
    """An independent solve of the smaller regime at R* gives a vanishing boundary function;
    at R*(1 + 1e-20) it is ~ slope * 1e-20, far above the certificate tolerance."""
    for t in thresholds(7, 1.0, 5.0):
        c = t.certificate
        with mpmath.workdps(DIGITS + 15):
            at = event_at(Eq7Family(10, 7, 1.0, 5.0), t.R, c["smaller_regime"], c["event_key"])
            off = event_at(Eq7Family(10, 7, 1.0, 5.0), t.R * (1 + mpmath.mpf(10) ** -20), c["smaller_regime"],
                           c["event_key"])
        assert abs(at) < mpmath.mpf(10) ** -(DIGITS + 5)
        assert abs(off) > mpmath.mpf(10) ** -(DIGITS - 5)


def test_mirror_symmetry_below_one():
    """R < 1 with (K_A, K_B) is R' = 1/R > 1 with the groups swapped: thresholds must map onto each other."""
    below = [t for t in thresholds(7, 1.0, 5.0, True) if t.R < 1]
    above = thresholds(3, 1.0, 5.0)
    assert len(below) == len(above) >= 1
    with mpmath.workdps(DIGITS + 10):
        for b, a in zip(below, reversed(above)):
            assert abs(1 / b.R - a.R) / a.R < mpmath.mpf(10) ** -(DIGITS - 2)


@pytest.mark.parametrize("K_A,E_W,E_H", [(5, 1.0, 5.0), (7, 1.0, 5.0), (3, 1.0, 5.0), (5, 1.0, 1.0),
                                         (5, 1.0, 10.0), (5, 0.5, 5.0)])
def test_regime_at_infinity_matches_lemma5_cases(K_A, E_W, E_H):
    """Lemma 5 (ii) vs (iii), as printed: case (ii) iff exp((1+1/K_R) sqrt(E_H E_W)/(K_A-1)) < sqrt(1+K_R)+1;
    its minimizer has w_B = 0 (our M0 A+ B0), case (iii) has w_B = -c sum w_A != 0 (M1 A+ B0)."""
    K_B = 10 - K_A
    K_R = K_A / K_B
    case_ii = math.exp((1 + 1 / K_R) * math.sqrt(E_H * E_W) / (K_A - 1)) < math.sqrt(1 + K_R) + 1
    regime = solve_float(Profile.two_size(10, K_A, math.inf, E_W, E_H)).regime
    assert regime == (Regime(0, (True, False)) if case_ii else Regime(1, (True, False)))


def test_sdp_brackets_the_collapse_threshold():
    """Clarabel (an independent solver) sees the minority contrast open below R0 and closed above it."""
    from lpm_verify.solvers.sdp import solve_sdp
    (t,) = thresholds(5, 1.0, 5.0)
    R0 = float(t.R)
    prof = Profile.two_size(10, 5, 2.0, 1.0, 5.0)
    tight = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    below = solve_sdp(two_size_fractions(10, 5, R0 * 0.97), E_W=1.0, E_H=5.0, **tight)
    above = solve_sdp(two_size_fractions(10, 5, R0 * 1.03), E_W=1.0, E_H=5.0, **tight)
    assert regime_of_X(below.X, prof) == Regime(1, (True, True))
    assert regime_of_X(above.X, prof) == Regime(1, (True, False))


def test_regime_of_X_reads_an_exact_invariant_X():
    prof = Profile.two_size(10, 7, 10.0, 1.0, 5.0)
    from lpm_verify.solvers.symmetric import solve_symmetric
    sol = solve_symmetric(prof)
    assert regime_of_X(sol.X, prof) == parse_regime(sol.detail["regime"]) == Regime(0, (True, False))
    assert np.allclose(sol.X[17:, 17:], 0.0)  # minority classifiers exactly zero in this regime


def test_thresholds_sorted_and_single_collapse_in_case_iii():
    """K_A = 5, (E_W, E_H) = (1, 10) is Lemma 5 case (iii): one change only (collapse, w_B stays nonzero)."""
    ts = thresholds(5, 1.0, 10.0)
    assert [t.R for t in ts] == sorted(t.R for t in ts) and len(ts) == 1
    assert parse_regime(ts[0].to_regime) == Regime(1, (True, False))


def test_wide_bracket_regression_finds_the_change_not_another_root():
    """K_A = 7, E_W = E_H = 1: the scan's first bracket is [1, 1.47]; Newton from it once converged to a
    spurious root of the same equation at R = 1.3974 (uncertified).  Clarabel, independently, has the
    minority classifiers distinct at 0.99 R0 and collapsed at 1.01 R0 of the root now reported."""
    from lpm_verify.solvers.sdp import solve_sdp
    R0 = float(thresholds(7, 1.0, 1.0)[0].R)
    assert 1.3 < R0 < 1.3974
    prof = Profile.two_size(10, 7, 2.0, 1.0, 1.0)
    tight = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    below = solve_sdp(two_size_fractions(10, 7, R0 * 0.99), E_W=1.0, E_H=1.0, **tight)
    above = solve_sdp(two_size_fractions(10, 7, R0 * 1.01), E_W=1.0, E_H=1.0, **tight)
    assert regime_of_X(below.X, prof) == Regime(1, (True, True))
    assert regime_of_X(above.X, prof) == Regime(1, (True, False))
