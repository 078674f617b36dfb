"""Theorem 1 (theorems/theorem1_balanced_ce.py): hypothesis-based proof steps and negative controls."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify.commands.registry import load_all
from lpm_verify.outcomes import printed_vs_derived
from lpm_verify.records import Outcome, Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.symbolic import decide_zero
from theorems import theorem1_balanced_ce as t1

load_all()

RELATIVE = 1e-12  # float64 rounding of the sums in Eqs. 21-27, relative to max(1, |sides|)



# -- strategies ----------------------------------------------------------------------------------
@st.composite
def feasible_points(draw: st.DrawFn) -> t1.Point:
    """A feasible point of the balanced Eq. 7: random Gaussian W, H scaled into (or onto) the constraint set."""
    K = draw(st.integers(2, 6))
    n = draw(st.integers(1, 3))
    p = draw(st.integers(K - 1, 2 * K))
    E_W = draw(st.floats(0.05, 20.0))
    E_H = draw(st.floats(0.05, 20.0))
    fill_W = draw(st.sampled_from([1.0, 0.5, 0.05]))
    fill_H = draw(st.sampled_from([1.0, 0.7, 0.1]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    W, H = rng.standard_normal((K, p)), rng.standard_normal((K, n, p))
    W *= math.sqrt(fill_W * E_W * K / np.sum(W ** 2))
    H *= math.sqrt(fill_H * E_H * K * n / np.sum(H ** 2))
    return t1.Point(W, H, E_W, E_H)


@st.composite
def logit_cases(draw: st.DrawFn) -> tuple[np.ndarray, int, t1.ProofConstants]:
    K = draw(st.integers(2, 8))
    logits = draw(st.lists(st.floats(-15, 15), min_size=K, max_size=K))
    C_a = draw(st.floats(1e-3, 1e3))
    C_b = draw(st.floats(1e-3, 1e3))
    return np.exp(np.array(logits)), draw(st.integers(0, K - 1)), t1.constants_from(K, C_a, C_b, 1.0, 1.0)


# -- hypothesis versions of the proof-step checks ---------------------------------------------
@settings(deadline=None, derandomize=True, max_examples=60)
@given(logit_cases())
def test_eq21_22_hold_for_any_constants(case: tuple) -> None:
    z, k, c = case
    assert t1.relative_mismatch([t1.eq21_sides(z, k, c)]) <= RELATIVE
    assert t1.relative_violation([t1.eq22_sides(z, k, c)]) <= RELATIVE
    assert t1.relative_violation([t1.eq22_combined_sides(z, k, c)]) <= RELATIVE


@settings(deadline=None, derandomize=True, max_examples=40)
@given(feasible_points())
def test_eq23_27_hold_at_feasible_points(point: t1.Point) -> None:
    worst, per = t1.proof_steps_error(t1.proof_step_pairs([point]))
    assert worst <= RELATIVE, per


# -- negative controls: symbolic ---------------------------------------------------------------
def test_minimum_value_check_reports_erratum_with_printed_constants() -> None:
    record = REGISTRY.get("Theorem 1/minimum-value").run()
    assert record.verdict == "erratum" and "C_b" in record.printed


def test_minimum_value_fails_for_a_wrong_corrected_constant() -> None:
    identity = t1.l0_error(lambda K, s, ns: 2 * (K - 1) * ns.exp(-s / (K - 1)))
    err = identity.error
    assert not identity.proved and err > 0.01
    assert judge("Theorem 1/minimum-value", Outcome(0, err, err)) == Verdict.FAIL


def test_corrected_bound_is_exact_and_printed_is_exact_only_for_K2() -> None:
    assert t1.l0_error(t1.corrected_C_b).proved
    assert float(t1.printed_l0_shortfall(2, 1.3)) == pytest.approx(0.0, abs=1e-25)
    assert float(t1.printed_l0_shortfall(3, 1.0)) > 0.04


def test_derived_minimum_matches_independent_formula() -> None:
    """The sympy derivation vs log(1 + (K-1) exp(-K s/(K-1))) written by hand (K = 4, s = 3/2)."""
    K, s = 4, sp.Rational(3, 2)
    by_hand = sp.log(1 + (K - 1) * sp.exp(-K * s / (K - 1)))
    assert abs(sp.N(t1.derived_minimum(K, s) - by_hand, 50)) < 1e-45


def test_cd_rearrangement_rejects_wrong_C_d() -> None:
    good = t1.constants_from(t1.K_SYM, t1.CA_SYM, t1.CB_SYM, t1.S_SYM, t1.S_SYM, sp)
    bad = t1.ProofConstants(good.K, good.s, good.C_a, good.C_b, good.C_c, good.C_d + sp.log(2), good.C_e)
    assert decide_zero(t1.cd_rearrangement(good)).proved
    assert not decide_zero(t1.cd_rearrangement(bad), points=t1.CONSTANT_SAMPLES).proved


def test_logit_gap_rejects_wrong_constant() -> None:
    identity = t1.logit_gap_error(lambda K, s, ns: ns.exp(-s))
    assert not identity.proved and identity.error > 0


# -- negative controls: proof steps ------------------------------------------------------------
def test_eq22_combined_fails_with_perturbed_C_d() -> None:
    cases = t1.random_logit_cases(50)
    shifted = [(z, k, t1.ProofConstants(c.K, c.s, c.C_a, c.C_b, c.C_c, c.C_d + 0.5, c.C_e)) for z, k, c in cases]
    err = t1.relative_violation([t1.eq22_combined_sides(z, k, c) for z, k, c in shifted])
    assert judge("Theorem 1/eq21-22", Outcome(0, err, err)) == Verdict.FAIL


def test_eq25_26_fail_with_inverted_C_e() -> None:
    """C_e = sqrt(E_W/E_H) (inverted) breaks Eq. 25/26 at boundary points with E_W != E_H."""
    pairs = []
    for pt in t1.random_points(40):
        c = t1.proof_constants(pt.W.shape[0], pt.E_W, pt.E_H)
        c = t1.ProofConstants(c.K, c.s, c.C_a, c.C_b, c.C_c, c.C_d, math.sqrt(pt.E_W / pt.E_H))
        pairs.append(t1.eq25_sides(pt.W, pt.H, c, pt.E_W, pt.E_H))
        pairs.extend(t1.eq26_sides(pt.H, c, pt.E_W, pt.E_H))
    err = t1.relative_violation(pairs)
    assert judge("Theorem 1/eq23-27", Outcome(0, err, err)) == Verdict.FAIL


def test_eq27_fails_for_an_overstated_bound() -> None:
    """A bound above the true minimum (L0 + 0.1) is violated near the minimizer."""
    pt = t1.random_points(4)[0]  # j = 0: a perturbed minimizer on the boundary
    K = pt.W.shape[0]
    c = t1.proof_constants(K, pt.E_W, pt.E_H, t1.corrected_C_b)
    W, H = t1.minimizer(K, 2, K, pt.E_W, pt.E_H)
    lhs, rhs = t1.eq27_sides(W, H, c, pt.E_W, pt.E_H)
    assert lhs == pytest.approx(rhs, rel=1e-12)
    assert t1.relative_violation([(lhs + 0.1, rhs)]) > 1e-3


def test_equality_gaps_detect_a_perturbed_optimum() -> None:
    """Eq. 24-26 are tight at Eq. 9 but not at a rescaled (still feasible) point."""
    gaps = t1.equality_gaps_at_minimizer(3, 1, 3, 1.0, 2.0)
    assert max(gaps["eq24"], gaps["eq25"], gaps["eq26"]) < RELATIVE
    W, H = t1.minimizer(3, 1, 3, 1.0, 2.0)
    c = t1.proof_constants(3, 1.0, 2.0)
    assert t1.relative_mismatch([t1.eq25_sides(0.9 * W, H, c, 1.0, 2.0)]) > 1e-3


def test_tightest_ratio_is_the_corrected_one() -> None:
    for K, s in ((3, 0.5), (6, 2.0)):
        assert t1.best_ratio(K, s) == pytest.approx((K - 1) * math.exp(-K * s / (K - 1)), rel=1e-5)


# -- negative controls: solver ----------------------------------------------------------------
def _record(objective: float, closed: float, shape: float = 0.0) -> t1.SolveRecord:
    return t1.SolveRecord(3, 1, 3, 1.0, 1.0, objective, closed, shape, 0.0, 0.0, 0.0, "projected-gradient")


def test_solver_checks_fail_on_wrong_closed_form() -> None:
    closed = t1.closed_form_value(3, 1.0, 1.0)
    too_high = [_record(closed, closed + 1e-6)]  # a closed form above the true minimum gets beaten
    too_low = [_record(closed, closed - 1e-6)]  # one below is never reached
    assert judge("Theorem 1/nonconvex-never-below",
                    Outcome(0, t1.below_closed_form(too_high), t1.below_closed_form(too_high))) == Verdict.FAIL
    assert judge("Theorem 1/nonconvex-reaches",
                    Outcome(0, t1.above_closed_form(too_low), t1.above_closed_form(too_low))) == Verdict.FAIL


def test_collapse_metrics_detect_a_perturbed_optimum() -> None:
    rng = np.random.default_rng(0)
    W, H = t1.minimizer(4, 2, 6, 1.5, 0.5, rng)
    exact = t1.collapse_metrics(W, list(H), 1.5, 0.5)
    assert max(exact.values()) < 1e-14
    H2 = H.copy()
    H2[0, 0] += 1e-3  # breaks within-class collapse only
    assert t1.collapse_metrics(W, list(H2), 1.5, 0.5)["nc1"] > 1e-4
    W2 = W.copy()
    W2[1] *= 1.01  # breaks duality h = C w
    assert t1.collapse_metrics(W2, list(H), 1.5, 0.5)["duality"] > 1e-4
    skew = np.diag([1.0, 1.0, 1.0, 1.2])  # class-mean norms/cosines off the ETF
    bad = t1.collapse_metrics(W, [skew[k, k] * H[k] for k in range(4)], 1.5, 0.5)
    err = max(bad.values())
    assert judge("Theorem 1/nonconvex-collapse", Outcome(0, err, err)) == Verdict.FAIL


def test_solver_lands_on_closed_form_small_case() -> None:
    (rec,) = t1.solve_grid(((3, 2, 2, 1.0, 2.0),), starts=2)
    assert abs(rec.objective - rec.closed_form) < 1e-9
    assert max(rec.nc1, rec.etf_cosine, rec.norms, rec.duality) < 1e-5


def test_jensen_display_residual_vanishes_only_in_the_corrected_form() -> None:
    assert t1.jensen_condition_residual(4, 1.0, t1.corrected_C_b, through_exp=True) < 1e-14
    for rule, through_exp in ((t1.printed_C_b, True), (t1.corrected_C_b, False)):
        err = t1.jensen_condition_residual(4, 1.0, rule, through_exp)
        assert judge("Theorem 1/equality-condition-display", Outcome(0, err, err)) == Verdict.FAIL


def test_nc4_check_fails_for_the_farthest_mean() -> None:
    rng = np.random.default_rng(0)
    assert t1.nc4_disagreement(5, 6, 500, rng) == 0.0
    err = t1.nc4_disagreement(5, 6, 500, rng, nearest=np.argmax)
    assert judge("Theorem 1/nc4-prediction", Outcome(0, err, err)) == Verdict.FAIL


def test_equality_eq22_27_fails_for_a_wrong_corrected_constant() -> None:
    """A wrong 'corrected' C_b (2(K-1) e^{-s/(K-1)}) is not tight at Eq. 9; the printed one, fed as if it were
    the correction, must not pass either."""
    def worst(rule) -> float:
        return max(max(g[e] for e in ("eq22", "eq23", "eq27"))
                   for g in (t1.equality_gaps_at_minimizer(*args, C_b_rule=rule) for args in t1.EQUALITY_GRID))
    wrong = worst(lambda K, s, ns: 2 * (K - 1) * ns.exp(-s / (K - 1)))
    printed = worst(t1.printed_C_b)
    assert worst(t1.corrected_C_b) <= RELATIVE
    for candidate in (wrong, printed):
        outcome = printed_vs_derived(printed, 0.0, candidate, printed="", corrected="", evidence="")
        assert judge("Theorem 1/equality-eq22-27", outcome) == Verdict.FAIL


def test_tightest_C_b_rejects_the_printed_and_a_wrong_ratio() -> None:
    tol = REGISTRY.get("Theorem 1/tightest-C_b").tolerance
    for K, s in ((3, 1.0), (10, 0.3)):
        best = t1.best_ratio(K, s)
        assert abs(t1.printed_C_b(K, s, np) / math.exp(s) / best - 1) > 1e3 * tol
        assert abs(2 * t1.corrected_C_b(K, s, np) / math.exp(s) / best - 1) > 1e3 * tol
    # at K = 2 the printed and corrected constants coincide, so the check cannot tell them apart there
    assert t1.printed_C_b(2, 1.0, np) == t1.corrected_C_b(2, 1.0, np)


# -- negative controls: one per check id not covered above --------------------------------------
def test_jensen_weights_fails_for_a_wrong_C_c() -> None:
    """C_c without the 1/(K-1) makes the Jensen weights sum to K - C_a(K-2)/(C_a+C_b) != 1."""
    good = t1.constants_from(t1.K_SYM, t1.CA_SYM, t1.CB_SYM, t1.S_SYM, t1.S_SYM, sp)
    assert t1.jensen_weights_error(good).proved
    bad = t1.ProofConstants(good.K, good.s, good.C_a, good.C_b, good.C_c * (t1.K_SYM - 1), good.C_d, good.C_e)
    identity = t1.jensen_weights_error(bad)
    err = identity.error
    assert not identity.proved and judge("Theorem 1/jensen-weights", Outcome(0, err, err)) == Verdict.FAIL


def test_cd_rearrangement_check_fails_for_a_wrong_C_d() -> None:
    good = t1.constants_from(t1.K_SYM, t1.CA_SYM, t1.CB_SYM, t1.S_SYM, t1.S_SYM, sp)
    bad = t1.ProofConstants(good.K, good.s, good.C_a, good.C_b, good.C_c, good.C_d + sp.log(2), good.C_e)
    identity = decide_zero(t1.cd_rearrangement(bad), points=t1.CONSTANT_SAMPLES)
    err = identity.error
    assert not identity.proved and err == pytest.approx(math.log(2))
    assert judge("Theorem 1/C_d-rearrangement", Outcome(0, err, err)) == Verdict.FAIL


def test_equality_logit_gap_fails_for_a_wrong_or_printed_correction() -> None:
    printed = t1.logit_gap_error(t1.printed_C_b).error
    wrong = t1.logit_gap_error(lambda K, s, ns: 2 * (K - 1) * ns.exp(-s / (K - 1))).error  # off by log 2
    for candidate in (wrong, printed):
        outcome = printed_vs_derived(printed, 0.0, candidate, printed="", corrected="", evidence="")
        assert judge("Theorem 1/equality-logit-gap", outcome) == Verdict.FAIL


def test_minimum_value_mp50_fails_for_a_perturbed_point_and_a_wrong_closed_form() -> None:
    import mpmath
    cases = t1.MP50_CASES[:2]
    with mpmath.workdps(50):
        assert judge("Theorem 1/minimum-value-mp50", t1.value_mp_error(cases=cases)) == Verdict.PASS

        def nudged(*args):  # Eq. 9 with W scaled by 1 + 1e-30: off the sphere by far less than float64 sees
            W, H = t1.minimizer_mp(*args)
            return W * (1 + mpmath.mpf("1e-30")), H
        assert judge("Theorem 1/minimum-value-mp50", t1.value_mp_error(point=nudged, cases=cases)) == Verdict.FAIL
        no_K_factor = lambda K, s: mpmath.log(1 + (K - 1) * mpmath.exp(-s))  # noqa: E731  exp(-s) for exp(-K s/(K-1))
        out = t1.value_mp_error(closed_form=no_K_factor, cases=cases)
        assert judge("Theorem 1/minimum-value-mp50", out) == Verdict.FAIL


def test_minimizer_feasible_tight_fails_inside_the_constraint() -> None:
    def shrunk(*args):  # 0.999 W: feasible but the W constraint is no longer active
        W, H = t1.minimizer(*args)
        return 0.999 * W, H
    assert judge("Theorem 1/minimizer-feasible-tight", t1.feasible_tight_error(Ks=(3,))) == Verdict.PASS
    assert judge("Theorem 1/minimizer-feasible-tight", t1.feasible_tight_error(shrunk, Ks=(3,))) == Verdict.FAIL


def test_equality_eq24_27_fails_at_a_perturbed_optimum() -> None:
    def shrunk(*args):  # rescaled W (still feasible): Eq. 25 is no longer tight
        W, H = t1.minimizer(*args)
        return 0.9 * W, H
    gaps = t1.equality_gaps_at_minimizer(3, 1, 3, 1.0, 2.0, point=shrunk)
    err = max(gaps["eq24"], gaps["eq25"], gaps["eq26"])
    assert judge("Theorem 1/equality-eq24-27", Outcome(0.0, err, err)) == Verdict.FAIL


def test_grid_solver_checks_fail_on_perturbed_solver_output() -> None:
    closed = t1.closed_form_value(3, 1.0, 1.0)
    below = [_record(closed - 1e-6, closed)]  # a "solution" below the true minimum (infeasible output)
    above = [_record(closed + 1e-6, closed)]  # a solve that stalls above it
    shape = [_record(closed, closed, shape=1e-3)]  # a within-class spread of 1e-3 sqrt(E_H)
    assert judge("Theorem 1/nonconvex-grid-never-below",
                 Outcome(0, t1.below_closed_form(below), t1.below_closed_form(below))) == Verdict.FAIL
    assert judge("Theorem 1/nonconvex-grid-reaches",
                 Outcome(0, t1.above_closed_form(above), t1.above_closed_form(above))) == Verdict.FAIL
    assert judge("Theorem 1/nonconvex-grid-collapse",
                 Outcome(0, t1.collapse_error(shape), t1.collapse_error(shape))) == Verdict.FAIL
