"""Negative controls and random-point tests for the Lemma 4 checks (theorems/lemma4_softmax_probability_bound.py)."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify.outcomes import at_most, printed_vs_derived
from lpm_verify.records import Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.verdict_rule import verdict_for
from theorems import lemma4_softmax_probability_bound as l4
from theorems import theorem4_softmax as t4


@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(30):
        yield


def test_L_endpoints() -> None:
    K, n, s = 3, 4, mpmath.mpf("2.5")
    assert l4.L(n, K, n, s) == K * n - mpmath.mpf(n) / 2
    assert abs(l4.L(0, K, n, s) / (K * n) - t4.etf_probability(K, s)) < 1e-25


def test_proof_steps_flag_a_wrong_L_at_the_optimum() -> None:
    s = mpmath.mpf("1.2") * t4.boundary_lambert(3)
    W, H = t4.etf_point_mp(3, 2, mpmath.mpf(1), s * s)
    steps = l4.lemma4_steps(W, H, mpmath.mpf(1), s * s)
    assert steps["t"] == 0 and l4.worst_violation([steps], ["Eq. 63"]) <= 1e-25  # tight at Eq. 9
    wrong = l4.lemma4_steps(W, H, mpmath.mpf(1), s * s, bound=lambda t, K, n, s: l4.L(t, K, n, s) - mpmath.mpf("1e-6"))
    assert l4.worst_violation([wrong], ["Eq. 63"]) > REGISTRY.get("Lemma 4/eqs-52-60-61-62-63").tolerance


def test_eq62_chain_is_tight_at_the_optimum_and_strict_elsewhere() -> None:
    s = mpmath.mpf("1.2") * t4.boundary_lambert(4)
    W, H = t4.etf_point_mp(4, 2, mpmath.mpf(2), s * s / 2)
    chain = l4.lemma4_steps(W, H, mpmath.mpf(2), s * s / 2)["Eq. 62"]
    assert max(abs(lhs - rhs) for lhs, rhs in chain) < 1e-25  # m0 = m1 = ... = m5 at Eq. 9
    H_bad = [Hk.copy() for Hk in H]
    H_bad[0] = H_bad[0] * mpmath.mpf("0.9")
    chain_bad = l4.lemma4_steps(W, H_bad, mpmath.mpf(2), s * s / 2)["Eq. 62"]
    assert max(rhs - lhs for lhs, rhs in chain_bad) > 1e-6


def test_equality_conditions_fail_at_a_perturbed_optimum() -> None:
    s = mpmath.mpf(4)
    W, H = t4.etf_point_mp(3, 2, s, s)
    assert max(abs(x) for x in l4.equality_conditions(W, H, s, s)) < 1e-25
    W_bad = W.copy()
    W_bad[0] = W_bad[0] * mpmath.mpf("0.99")
    assert max(abs(x) for x in l4.equality_conditions(W_bad, H, s, s)) > 1e-3


def test_eq53_verdicts() -> None:
    truth = sp.diff(1 / (1 + l4.C_ * sp.exp(l4.x_)), l4.x_, 2)
    pts = [(sp.Rational(1, 3), 2), (-1, 3)]
    gap = lambda f: l4.formula_gap(f(l4.x_, l4.C_), truth, (l4.x_, l4.C_), pts).error  # noqa: E731
    assert gap(l4.g0_second_derivative_corrected) == 0
    assert gap(l4.g0_second_derivative_printed) > 0
    assert gap(lambda x, C: -l4.g0_second_derivative_corrected(x, C)) > 0
    wrong = printed_vs_derived(gap(l4.g0_second_derivative_printed), 0,
                               gap(lambda x, C: -l4.g0_second_derivative_corrected(x, C)),
                               printed="", corrected="", evidence="")
    assert verdict_for(wrong, REGISTRY.get("Lemma 4/eq53-g0-second-derivative").tolerance) == Verdict.FAIL


def test_L_prime_step_check_catches_a_wrong_step() -> None:
    steps = l4.L_prime_steps()
    assert all(l4.formula_gap(a, b, (l4.K_, l4.n_, l4.t_, l4.s_, l4.x_), l4.LPRIME_POINTS).proved
               for a, b in steps.values())
    derived = steps["f'(x) = K - exp(x)/(K-1)"][1]
    assert l4.formula_gap(l4.K_ - sp.exp(l4.x_), derived, (l4.K_, l4.n_, l4.t_, l4.s_, l4.x_), l4.LPRIME_POINTS).refuted


def test_L_is_not_maximal_at_zero_below_the_boundary() -> None:
    assert l4.L_max_excess(range(2, 7), range(1, 11), ("0.3",)) > 0  # the proof's L(t) <= L(0) needs the assumption
    assert l4.L_max_excess(range(2, 7), range(1, 11), ("1.0001",)) < 0


def test_statement_counterexample_only_below_the_boundary() -> None:
    half = mpmath.mpf(3) / 4, mpmath.mpf(7) / 8
    assert l4.statement_violation(4, mpmath.mpf("0.3"), *half) > 1e-3
    assert l4.statement_violation(4, mpmath.mpf("1.05") * t4.boundary_lambert(4), *half) < 0


def test_assumption_needed_check_fails_above_the_boundary() -> None:
    """The registered claim 'Eq. 59 fails by >= 1e-3' must come out fail where the assumption holds."""
    half = mpmath.mpf(3) / 4, mpmath.mpf(7) / 8
    excess = l4.statement_violation(4, mpmath.mpf("1.05") * t4.boundary_lambert(4), *half)
    outcome = at_most(-excess, mpmath.mpf("-1e-3"))
    assert verdict_for(outcome, REGISTRY.get("Lemma 4/assumption-needed").tolerance) == Verdict.FAIL


def test_solver_check_fails_against_a_wrong_reference() -> None:
    problems = l4.linear_problems(Ks=(3,), factors=(1.05,))
    tol = REGISTRY.get("Lemma 4/solver-above-boundary").tolerance
    assert -t4.solver_gaps(problems, lambda p: l4.linear_reference(p) + 1e-4, starts=2)["beats"] > tol


@settings(deadline=None, derandomize=True, max_examples=25)
@given(st.integers(2, 5), st.integers(1, 4), st.integers(0, 2 ** 32 - 1), st.booleans(),
       st.sampled_from(["1.0001", "1.3", "3"]))
def test_lemma4_steps_hold_at_random_feasible_points_above_the_boundary(K, n, seed, near, factor) -> None:
    s = mpmath.mpf(factor) * t4.boundary_lambert(K)
    W, H = t4.random_feasible_point(np.random.default_rng(seed), K, n, K + 1, mpmath.mpf(1), s * s, near)
    steps = l4.lemma4_steps(W, H, mpmath.mpf(1), s * s)
    assert l4.worst_violation([steps], ["Eq. 52", "Eq. 60", "Eq. 61", "Eq. 62", "Eq. 63"]) <= mpmath.mpf("1e-20")
    assert np.sum(l4.own_probabilities(W, H)) <= l4.L(0, K, n, s) + mpmath.mpf("1e-20")  # Eq. 59


def test_eq55_printed_index_is_not_tight_but_corrected_is() -> None:
    s = mpmath.mpf(3)
    W, H = t4.etf_point_mp(3, 3, s, s)
    bound = l4.L(0, 3, 3, s) / 9
    assert abs(l4.eq55_lhs(W, H, printed=False) - bound) < 1e-25
    assert bound - l4.eq55_lhs(W, H, printed=True) > 0.1
    wrong = printed_vs_derived(abs(l4.eq55_lhs(W, H, printed=True) - bound), 0, mpmath.mpf("1e-3"),
                               printed="", corrected="", evidence="")
    assert verdict_for(wrong, REGISTRY.get("Lemma 4/eq55-index").tolerance) == Verdict.FAIL


def test_eq55_printed_index_is_violated_at_a_feasible_point() -> None:
    """The printed (i) form is not an upper bound (above the boundary), the (k) form is."""
    K, s = 3, mpmath.mpf(5)
    assert s > t4.boundary_lambert(K)
    W, H = l4.one_class_point(K, s)
    assert abs(np.sum(W * W) / K - s) < 1e-25 and abs(sum(np.sum(h * h) for h in H) / K - s) < 1e-25  # feasible
    bound = l4.L(0, K, 1, s) / K
    assert l4.eq55_lhs(W, H, printed=True) - bound > 1e-4
    assert l4.eq55_lhs(W, H, printed=False) < bound
    tight, over = l4.eq55_error(printed=True)
    assert tight > 0.1 and over > 1e-4
    # a printed form fed as if it were the corrected one must not pass
    outcome = printed_vs_derived(max(tight, over), 0, max(tight, over), printed="", corrected="", evidence="")
    assert verdict_for(outcome, REGISTRY.get("Lemma 4/eq55-index").tolerance) == Verdict.FAIL


def test_f_at_x0_step_is_tied_to_the_coded_assumption() -> None:
    """(K-1) f(Ks/(K-1)) equals exp(K(s - phi)/(K-1)) - exp(Ks/(K-1)) only for Theorem 4's phi; a phi with a
    different constant ((2K-1)K instead of (2K-1)(K-1)) must leave a nonzero gap."""
    f = l4.K_ * l4.x_ + 2 * l4.K_ - 1 - sp.exp(l4.x_ - sp.log(l4.K_ - 1))
    x0 = l4.K_ / (l4.K_ - 1) * l4.s_
    lhs = (l4.K_ - 1) * f.subs(l4.x_, x0)
    def rhs(phi):
        return sp.exp(l4.K_ * (l4.s_ - phi) / (l4.K_ - 1)) - sp.exp(l4.K_ * l4.s_ / (l4.K_ - 1))
    symbols = (l4.K_, l4.n_, l4.t_, l4.s_, l4.x_)
    assert l4.formula_gap(lhs, rhs(t4.assumption_gap(l4.s_, l4.K_)), symbols, l4.LPRIME_POINTS).proved
    wrong = l4.s_ - (l4.K_ - 1) / l4.K_ * sp.log(l4.K_ ** 2 * l4.s_ + (2 * l4.K_ - 1) * l4.K_)
    assert l4.formula_gap(lhs, rhs(wrong), symbols, l4.LPRIME_POINTS).refuted


# -- negative controls: one per check id not covered above --------------------------------------
def test_L_prime_steps_check_fails_for_a_wrong_step() -> None:
    """f'(x) printed without the 1/(K-1) is not an identity (the other steps have gap 0, checked above)."""
    name = "f'(x) = K - exp(x)/(K-1)"
    bad = {name: (l4.K_ - sp.exp(l4.x_), l4.L_prime_steps()[name][1])}
    assert judge("Lemma 4/L-prime-steps", l4.L_prime_outcome(bad)) == Verdict.FAIL


def test_L_max_at_zero_fails_below_the_boundary() -> None:
    """The check's claim, max_t L(t) - L(0) <= -1e-20, at s = 0.3 s*(K) (assumption violated)."""
    excess = l4.L_max_excess(range(2, 5), range(1, 6), ("0.3",))
    assert judge("Lemma 4/L-max-at-zero", at_most(excess, mpmath.mpf("-1e-20"))) == Verdict.FAIL


def test_equality_at_etf_fails_at_a_perturbed_optimum() -> None:
    def shrunk(K, n, E_W, E_H):  # Eq. 9 with w_1 scaled by 0.99 (still feasible)
        W, H = t4.etf_point_mp(K, n, E_W, E_H)
        W = W.copy()
        W[0] = W[0] * mpmath.mpf("0.99")
        return W, H
    with mpmath.workdps(40):
        assert judge("Lemma 4/equality-at-etf", l4.equality_at_etf_outcome(cases=l4.EQUALITY_CASES[:2])) == Verdict.PASS
        out = l4.equality_at_etf_outcome(shrunk, cases=l4.EQUALITY_CASES[:2])
        assert judge("Lemma 4/equality-at-etf", out) == Verdict.FAIL
