"""Negative controls and random-point tests for the Theorem 4 checks (theorems/theorem4_softmax.py)."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify import backend as bk
from lpm_verify.outcomes import printed_vs_derived
from lpm_verify.problem import LPMProblem
from lpm_verify.records import Outcome, Verdict
from lpm_verify.registry import REGISTRY, judge
from theorems import _softmax_bounds as sb
from theorems import theorem4_softmax as t4



@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(30):
        yield


@pytest.mark.parametrize("K", [2, 3, 4, 7])
def test_boundary_separates_where_the_assumption_holds(K: int) -> None:
    s_star = t4.boundary_lambert(K)
    assert abs(s_star - t4.boundary_root(K)) < 1e-25
    assert t4.assumption_gap(s_star * (1 + mpmath.mpf("1e-12")), K) > 0
    assert t4.assumption_gap(s_star * (1 - mpmath.mpf("1e-12")), K) < 0


def test_boundary_rejects_the_other_lambert_branch_and_a_wrong_constant() -> None:
    K = 4
    m, b = mpmath.mpf(K * (K - 1)), mpmath.mpf((2 * K - 1) * (K - 1))
    principal = (mpmath.re(-m * mpmath.lambertw(-mpmath.exp(-b / m) / m, 0)) - b) / K ** 2
    assert principal < 0  # the principal branch is the other (negative) solution, outside s > 0
    wrong = (mpmath.re(-m * mpmath.lambertw(-mpmath.exp(-(b + 2) / m) / m, -1)) - b) / K ** 2
    assert abs(t4.assumption_gap(wrong, K)) > 1e-3


def test_eq56_check_verdicts() -> None:
    cid = "Theorem 4/eq56-minimum-value"
    with mpmath.workdps(50):
        printed, truth = t4.eq56_cases(t4.eq56_printed, t4.EQ56_CASES)
        corrected, _ = t4.eq56_cases(t4.eq56_corrected, t4.EQ56_CASES)
        g1_only, _ = t4.eq56_cases(lambda loss, K, P: loss.g1(P), t4.EQ56_CASES)
        arr = lambda v: np.array(v, dtype=object)  # noqa: E731
        base = dict(printed="", corrected="", evidence="")
        assert judge(cid, printed_vs_derived(arr(corrected), arr(truth), arr(corrected), **base)) == Verdict.PASS
        assert judge(cid, printed_vs_derived(arr(printed), arr(truth), arr(corrected), **base)) == Verdict.ERRATUM
        assert judge(cid, printed_vs_derived(arr(printed), arr(truth), arr(g1_only), **base)) == Verdict.FAIL
        # the printed form agrees for K = 2 and for cross-entropy (g2 = 0): the erratum is in the g2 term only
        for (K, name, _), p, c in zip(t4.EQ56_CASES, printed, corrected):
            assert (abs(p - c) < 1e-40) == (K == 2 or name == "ce")


def test_eq50_flags_the_printed_and_a_wrong_argument() -> None:
    zs = t4.random_logits(np.random.default_rng(0), 20)
    g = t4.LOSSES["power2"]
    tol = REGISTRY.get("Theorem 4/eq50-convexity-of-g2").tolerance
    assert t4.eq50_violation(g, zs, t4.eq50_corrected_argument) <= tol
    assert t4.eq50_violation(g, zs, t4.eq50_printed_argument) > tol
    assert t4.eq50_violation(g, zs, lambda Sk, K: (1 - Sk) / (K - 2)) > tol


def test_eq51_members_detect_a_reversed_step() -> None:
    W, H = t4._eq51_points()[1]
    objective, _, own, line3, line4 = t4.eq51_members(t4.LOSSES["power3"], W, H, t4.eq50_corrected_argument)
    assert abs(objective - own) < 1e-25
    assert line4 <= line3 <= own and line4 < own  # a reversed chain would be violated


def test_solver_check_fails_against_a_wrong_reference() -> None:
    problems = t4.above_boundary_problems(Ks=(3,), losses=("ce",), factors=(1.05,))
    tol = REGISTRY.get("Theorem 4/solver-above-boundary").tolerance
    assert -t4.solver_gaps(problems, lambda p: t4.etf_objective(p) + 1e-3, starts=2)["beats"] > tol
    assert t4.solver_gaps(problems, lambda p: t4.etf_objective(p) - 1e-3, starts=2)["value"] > tol


def test_geometry_check_fails_for_a_perturbed_optimum() -> None:
    tol = REGISTRY.get("Theorem 4/solver-lands-on-etf").tolerance
    problem = LPMProblem.balanced(4, 2, 2.0, 3.0, p=5)
    M = sb.simplex_etf(4, 5)  # (p, K)
    W = np.sqrt(problem.E_W) * M.T
    H = [np.tile(np.sqrt(problem.E_H) * M[:, k], (2, 1)) for k in range(4)]
    assert sb.etf_distance(W, H, problem.E_W, problem.E_H) < 1e-12
    H_spread = [Hk.copy() for Hk in H]
    H_spread[1][0] += 1e-3  # one feature leaves its class mean
    assert sb.etf_distance(W, H_spread, problem.E_W, problem.E_H) > tol
    assert sb.etf_distance(1.01 * W, H, problem.E_W, problem.E_H) > tol  # W off the E_W sphere
    assert sb.etf_distance(W, H, problem.E_W, 2 * problem.E_H) > tol  # features with the wrong scale


@pytest.mark.parametrize("name, K, s, alpha, beta", t4.BELOW_BOUNDARY_POINTS)
def test_assumption_needed_check_would_fail_above_the_boundary(name, K, s, alpha, beta) -> None:
    loss, a, b = t4._loss(name), mpmath.mpf(alpha), mpmath.mpf(beta)
    assert t4.below_boundary_gap(loss, K, mpmath.mpf(s), a, b) < -1e-3
    # above the boundary the same point is worse than the ETF (as Theorem 4 says) ...
    assert t4.below_boundary_gap(loss, K, mpmath.mpf("1.05") * t4.boundary_lambert(K), a, b) > 0
    # ... and for cross-entropy (Theorem 1: ETF always optimal) it never beats the ETF below it either
    assert t4.below_boundary_gap(t4.LOSSES["ce"], K, mpmath.mpf(s), a, b) > 0


def test_probe_tells_beaten_from_optimal() -> None:
    gaps = t4.probe_below_boundary([("ce", 5, 0.2), ("power2", 5, 0.2)], starts=4)
    assert gaps["ce, K=5, s=0.2"] > -REGISTRY.get("Theorem 4/below-boundary-probe").tolerance
    assert gaps["power2, K=5, s=0.2"] < -1e-4


@st.composite
def logits(draw):
    K = draw(st.integers(3, 6))
    z = draw(st.lists(st.floats(-6, 6), min_size=K, max_size=K))
    return bk.mp_array(np.array(z))


@settings(deadline=None, derandomize=True, max_examples=60)
@given(logits(), st.sampled_from(["power2", "power3"]))
def test_eq50_corrected_holds_for_random_logits(z, name) -> None:
    assert t4.eq50_violation(t4.LOSSES[name], [z], t4.eq50_corrected_argument) <= mpmath.mpf("1e-20")


@settings(deadline=None, derandomize=True, max_examples=25)
@given(st.integers(3, 5), st.integers(1, 3), st.integers(0, 2 ** 32 - 1), st.booleans())
def test_eq51_corrected_chain_at_random_feasible_points(K, n, seed, near) -> None:
    W, H = t4.random_feasible_point(np.random.default_rng(seed), K, n, K + 1, mpmath.mpf(2), mpmath.mpf(1), near)
    for name in ("power2", "power3"):
        objective, _, own, line3, line4 = t4.eq51_members(t4.LOSSES[name], W, H, t4.eq50_corrected_argument)
        assert abs(objective - own) < 1e-20
        assert line3 <= own + mpmath.mpf("1e-20") and line4 <= line3 + mpmath.mpf("1e-20")


def test_eq51_printed_first_line_and_chain_are_flagged() -> None:
    tol = REGISTRY.get("Theorem 4/eq51-first-line").tolerance
    W, H = t4._eq51_points()[2]  # K = 4, n = 2
    objective, printed, own, _, _ = t4.eq51_members(t4.LOSSES["power2"], W, H, t4.eq50_corrected_argument)
    assert abs(own - objective) <= tol and abs(printed - objective) > 1e-3
    outcome = printed_vs_derived(abs(printed - objective), 0, abs(printed - objective),
                                 printed="", corrected="", evidence="")
    assert judge("Theorem 4/eq51-first-line", outcome) == Verdict.FAIL  # printed fed as correction
    _, _, own, line3, line4 = t4.eq51_members(t4.LOSSES["power2"], W, H, t4.eq50_printed_argument)
    assert line3 - own > 1e-3  # the printed Eq. 50 line is above the objective: the chain breaks
    _, _, own, line3, _ = t4.eq51_members(t4.LOSSES["power2"], W, H, lambda Sk, K: (1 - Sk) / (K - 2))
    wrong = printed_vs_derived(mpmath.mpf(1), 0, max(line3 - own, 0), printed="", corrected="", evidence="")
    assert judge("Theorem 4/eq51-jensen-chain", wrong) == Verdict.FAIL


# -- negative controls: one per check id not covered above --------------------------------------
def test_assumption_boundary_fails_for_a_wrong_closed_form() -> None:
    """b + 2 for b = (2K-1)(K-1) inside Lambert W (a wrong constant), and the principal branch."""
    def wrong_constant(K: int):
        m, b = mpmath.mpf(K * (K - 1)), mpmath.mpf((2 * K - 1) * (K - 1))
        return (mpmath.re(-m * mpmath.lambertw(-mpmath.exp(-(b + 2) / m) / m, -1)) - b) / K ** 2

    def principal_branch(K: int):
        m, b = mpmath.mpf(K * (K - 1)), mpmath.mpf((2 * K - 1) * (K - 1))
        return (mpmath.re(-m * mpmath.lambertw(-mpmath.exp(-b / m) / m, 0)) - b) / K ** 2
    with mpmath.workdps(50):
        assert judge("Theorem 4/assumption-boundary", t4.boundary_outcome(Ks=(3, 4), sympy_Ks=())) == Verdict.PASS
        for wrong in (wrong_constant, principal_branch):
            out = t4.boundary_outcome(wrong, Ks=(3, 4), sympy_Ks=())
            assert judge("Theorem 4/assumption-boundary", out) == Verdict.FAIL


def test_assumption_needed_fails_above_the_boundary_and_for_cross_entropy() -> None:
    (name, K, s, alpha, beta) = t4.BELOW_BOUNDARY_POINTS[0]
    above = [(name, K, mpmath.mpf("1.05") * t4.boundary_lambert(K), alpha, beta)]  # where Theorem 4 applies
    ce = [("ce", K, s, alpha, beta)]  # Theorem 1: the ETF is optimal for cross-entropy at every s
    assert judge("Theorem 4/assumption-needed", t4.assumption_needed_outcome(t4.BELOW_BOUNDARY_POINTS)) == Verdict.PASS
    for points in (above, ce):
        assert judge("Theorem 4/assumption-needed", t4.assumption_needed_outcome(points)) == Verdict.FAIL


def test_solver_grid_fails_against_a_wrong_reference() -> None:
    """One small solve (K = 3, cross-entropy, 1.05 s*) against Eq. 9's value + 1e-3: the solver 'beats' it."""
    problems = t4.above_boundary_problems(Ks=(3,), losses=("ce",), factors=(1.05,))
    res = t4.solver_gaps(problems, lambda p: t4.etf_objective(p) + 1e-3, starts=1)
    err = max(-res["beats"], res["value"])  # the error of Theorem 4/solver-grid
    assert judge("Theorem 4/solver-grid", Outcome("", res, err)) == Verdict.FAIL
