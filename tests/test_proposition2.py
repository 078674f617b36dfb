"""Proposition 2 (theorems/proposition2_lq.py) and the Eq. 20 solver (lpm_verify/solvers/lq.py):
solver unit tests and negative controls for each kind of check."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from lpm_verify.errors import LPMInputError
from lpm_verify.outcomes import at_most, compare, printed_vs_derived
from lpm_verify.records import NON_FAILING, Verdict
from lpm_verify.registry import judge
from lpm_verify.solvers.lq import best_eq9, eq9_objective, lq_energies, lq_objective, solve_lq
from lpm_verify.verdict_rule import verdict_for
from theorems import proposition2_lq as P2


# -- solver ---------------------------------------------------------------------------------------
def test_lq_solver_feasible_and_seeded() -> None:
    a = solve_lq(3, 4, 3.0, 1.5, 0.7, starts=3, seed=5)
    b = solve_lq(3, 4, 3.0, 1.5, 0.7, starts=3, seed=5)
    assert a.W.shape == (3, 4) and a.H.shape == (3, 4)
    e_w, e_h = lq_energies(a.W, a.H, 3.0)
    assert e_w <= 1.5 * (1 + 1e-12) and e_h <= 0.7 * (1 + 1e-12)
    assert a.objective == b.objective and np.array_equal(a.W, b.W)
    assert abs(lq_objective(a.W, a.H) - a.objective) < 1e-15
    assert a.objective <= min(a.start_objectives) + 1e-15


def test_lq_solver_matches_theorem1_at_q2() -> None:
    # q = 2 is Eq. 7 with n = 1: the minimum is log(1 + (K-1) exp(-K sqrt(E_H E_W)/(K-1))) (Theorem 1)
    K, E_W, E_H = 4, 1.2, 0.8
    sol = solve_lq(K, K, 2.0, E_W, E_H, starts=3, seed=0)
    truth = math.log1p((K - 1) * math.exp(-K * math.sqrt(E_H * E_W) / (K - 1)))
    assert abs(sol.objective - truth) < 1e-9


@pytest.mark.parametrize("kwargs, parameter", [
    ({"K": 1}, "K"), ({"p": 0}, "p"), ({"q": 0.5}, "q"), ({"q": math.nan}, "q"),
    ({"E_W": 0.0}, "E_W"), ({"E_H": -2.0}, "E_H"), ({"starts": 0}, "starts"),
])
def test_lq_solver_rejects_bad_input(kwargs: dict, parameter: str) -> None:
    args = {"K": 3, "p": 3, "q": 3.0, "E_W": 1.0, "E_H": 1.0, **kwargs}
    with pytest.raises(LPMInputError, match=parameter):
        solve_lq(**args)


def test_best_eq9_needs_p_at_least_K() -> None:
    with pytest.raises(LPMInputError, match="p"):
        best_eq9(4, 3, 3.0, 1.0, 1.0)


def test_best_eq9_at_q2_is_rotation_free() -> None:
    b = best_eq9(3, 4, 2.0, 1.0, 1.0, starts=2)
    assert abs(b.S - 3.0) < 1e-9  # unit columns: sum ||m_k||_2^2 = K for every rotation
    assert abs(b.objective - eq9_objective(3, 1.0, 1.0)) < 1e-9


# -- negative controls -----------------------------------------------------------------------------
def test_gprime_forms() -> None:
    """Proposition 2/gprime: a sign-flipped correction fails, and the printed 2K^4 form fed as the
    correction does not pass."""
    truth = P2.gprime_derived()
    printed = P2.gprime_printed(P2._a + 1, P2._q)
    assert P2.relative_gap(printed / (P2._a + 1), truth) == 0
    err_p = P2._decided(P2.relative_gap(printed, truth)).error
    assert err_p > 0
    flipped = -printed / (P2._a + 1)  # a wrong sign must not pass
    err_f = P2._decided(P2.relative_gap(flipped, truth)).error
    assert err_f > 1
    wrong = printed_vs_derived(err_p, 0.0, err_f, printed="p", corrected="c", evidence="control")
    assert judge("Proposition 2/gprime", wrong) is Verdict.FAIL
    as_truth = printed_vs_derived(err_p, 0.0, err_p, printed="p", corrected="p", evidence="control")
    assert judge("Proposition 2/gprime", as_truth) not in NON_FAILING


def test_sr_feasibility_control() -> None:
    """Proposition 2/SR-feasible: the printed S_R fed as the correction fails."""
    pts = P2.sr_points(count=40)
    assert P2.sr_feature_violation(pts, printed=False, E_H=3.0) <= 1e-12
    printed = P2.sr_feature_violation(pts, printed=True, E_H=3.0)
    assert printed > 1e-2
    as_truth = printed_vs_derived(printed, 0.0, printed, printed="p", corrected="p", evidence="control")
    assert judge("Proposition 2/SR-feasible", as_truth) is Verdict.FAIL


def test_eq9_distance_zero_on_eq9_point_and_witness_fails_when_reversed() -> None:
    """Proposition 2/eq20-witness and Proposition 2/eq20-witness-grid (same witness_outcome): an Eq. 20
    value not below the Eq. 9 value, or an Eq. 9 point, fails."""
    rng = np.random.default_rng(0)
    K = 4
    M = P2.random_partial_orthogonal(rng, 5, K) @ (np.eye(K) - 1.0 / K)  # (p, K) scaled ETF columns
    W = 0.7 * M.T
    assert P2.eq9_distance(W, 1.9 * W) < 1e-12
    assert P2.eq9_distance(W, 1.9 * W + 0.05 * rng.standard_normal(W.shape)) > 1e-3
    sol, eq9 = P2.solved(3.0, 4)
    assert verdict_for(at_most(sol.objective + P2._MARGIN, eq9.objective), 0) is Verdict.PASS
    # a candidate that is not below the Eq. 9 value must fail the witness inequality
    for check_id in ("Proposition 2/eq20-witness", "Proposition 2/eq20-witness-grid"):
        assert judge(check_id, at_most(eq9.objective + P2._MARGIN, eq9.objective)) is Verdict.FAIL
        assert judge(check_id, at_most(1e-3, P2.eq9_distance(W, 1.9 * W))) is Verdict.FAIL


def test_sr_objective_control() -> None:
    """Proposition 2/objective-on-SR: the printed value at a + 0.1 fails against the point at a."""
    K, p, q, a, B1, B2 = 4, 5, 3.0, 1.3, 0.8, 1.1
    W, H = P2.sr_point(K, p, q, a, B1, B2, P2.random_partial_orthogonal(np.random.default_rng(2), p, K))
    assert verdict_for(compare(P2.sr_objective_printed(K, q, a, B1, B2), lq_objective(W, H)), 1e-12) is Verdict.PASS
    wrong = compare(P2.sr_objective_printed(K, q, a + 0.1, B1, B2), lq_objective(W, H))
    assert judge("Proposition 2/objective-on-SR", wrong) is Verdict.FAIL
    assert float(sp.N(P2.g_expr(sp.Integer(K - 1), K, 2))) == pytest.approx(K**3 / ((K - 1) * (K * (K - 1)) ** 1))


def test_gprime_sign_with_a_wrong_factor_fails() -> None:
    """Proposition 2/gprime-sign: the factor 1 - (K-1)^{q-1} (exponent off by one) fails."""
    out = P2.gprime_sign_outcome(1 - P2._a ** (P2._q - 1))
    assert judge("Proposition 2/gprime-sign", out) is Verdict.FAIL


def test_eq32_with_a_wrong_g_fails() -> None:
    """Proposition 2/eq32: g scaled by 0.9 is violated at the bounds (and not attained)."""
    out = P2.eq32_outcome(lambda x, K, q: 0.9 * P2.g_expr(x, K, q))
    assert judge("Proposition 2/eq32", out) is Verdict.FAIL


def test_argmax_g_fails_at_q2() -> None:
    """Proposition 2/argmax-g: at q = 2 (the case the proposition excludes) K - 1 is the maximizer."""
    assert judge("Proposition 2/argmax-g", P2.argmax_g_outcome((2.0,))) is Verdict.FAIL
