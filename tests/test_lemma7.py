"""Negative controls for the Lemma 7 checks: a wrong radius, norm, factorization or minimizer must not pass."""
from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify.outcomes import at_most, compare, printed_vs_derived
from lpm_verify.problem import LPMProblem
from lpm_verify.records import Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.symbolic import all_of, identities_outcome, printed_identity_outcome
from lpm_verify.verdict_rule import verdict_for
from theorems import lemma7_nuclear_norm as l7
from theorems._imbalanced import random_point, random_sizes


def _tol(check_id: str) -> float:
    return REGISTRY.get(check_id).tolerance


def test_radius_rejects_a_missing_K_or_a_wrong_a():
    assert all_of(l7.radius_gaps(l7.PRINTED_RADIUS)).proved
    assert all_of(l7.radius_gaps(sp.sqrt(l7.E_H * l7.E_W))).refuted
    assert all_of(l7.radius_gaps(l7.PRINTED_RADIUS, printed_a=l7.E_H / l7.E_W)).refuted
    assert judge("Lemma 7/radius", identities_outcome(l7.radius_gaps(sp.sqrt(l7.E_H * l7.E_W)))) is Verdict.FAIL


def test_factorization_as_printed_is_an_erratum_and_the_corrected_one_passes():
    printed = l7.factorization_gaps(l7.PRINTED_SIGMA1, l7.PRINTED_SIGMA2)
    corrected = l7.factorization_gaps(l7.CORRECTED_SIGMA1, l7.CORRECTED_SIGMA2)
    assert printed.refuted and corrected.proved
    assert REGISTRY.get("Lemma 7/factorization-symbolic").run().verdict == Verdict.ERRATUM.value
    swapped = printed_identity_outcome(corrected, printed, printed_form="c", corrected_form="p", evidence="")
    assert verdict_for(swapped, 0.0) is Verdict.PASS
    wrong = printed_identity_outcome(printed, printed, printed_form="p", corrected_form="p", evidence="")
    assert verdict_for(wrong, 0.0) is Verdict.FAIL


def test_eq89_fails_for_a_norm_that_is_too_large():
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((4, 4))
    tol = _tol("Lemma 7/eq89-variational")
    assert verdict_for(at_most(*map(np.array, l7.eq89_sides(Z, 2.0, rng))), tol) is Verdict.PASS
    doubled = at_most(*map(np.array, l7.eq89_sides(Z, 2.0, rng, norm=lambda M: 2 * l7.nuclear_norm(M))))
    assert verdict_for(doubled, tol) is Verdict.FAIL


def test_eq93_fails_with_the_radius_of_property_1_as_printed():
    rng = np.random.default_rng(2)
    problem = LPMProblem((3, 1, 2), E_W=1.0, E_H=2.0)
    W, H = random_point(rng, problem, 4)
    tol = _tol("Lemma 7/eq93-chain")
    def small_radius(E_H, E_W, K):
        return float(np.sqrt(E_H * E_W))
    assert verdict_for(at_most(*map(np.array, l7.eq93_sides(problem, W, H, l7.printed_radius))), tol) is Verdict.PASS
    assert verdict_for(at_most(*map(np.array, l7.eq93_sides(problem, W, H, small_radius))), tol) is Verdict.FAIL


@settings(deadline=None, derandomize=True, max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), K=st.integers(2, 5), fill=st.floats(0.05, 1.0))
def test_eq93_holds_on_random_feasible_points(seed, K, fill):
    rng = np.random.default_rng(seed)
    problem = LPMProblem(random_sizes(rng, K), E_W=float(rng.uniform(0.1, 5)), E_H=float(rng.uniform(0.1, 5)))
    W, H = random_point(rng, problem, K + 1, fill_W=fill, fill_H=1.0)
    outcome = at_most(*map(np.array, l7.eq93_sides(problem, W, H, l7.printed_radius)))
    assert verdict_for(outcome, _tol("Lemma 7/eq93-chain")) is Verdict.PASS


def test_duality_gap_detects_a_non_minimizer():
    problem = l7.instances()[0]
    Z = l7.logits_of(l7.sdp_solution(0).X)
    radius = l7.printed_radius(problem.E_H, problem.E_W, problem.K)
    tol = _tol("Lemma 7/optimum-equals-eq15")
    assert l7.eq91_duality_gap(Z, problem.fractions(), radius)[0] <= tol
    assert l7.eq91_duality_gap(0.8 * Z, problem.fractions(), radius)[0] > tol  # interior point
    assert l7.eq91_duality_gap(Z.T, problem.fractions(), radius)[0] > tol  # same norm, wrong logits


def test_factorization_point_energies_match_the_algebra():
    problem = LPMProblem((2, 1, 3), E_W=0.5, E_H=2.0, p=5)
    Z = np.random.default_rng(4).standard_normal((3, 3))
    Z *= l7.printed_radius(2.0, 0.5, 3) / l7.nuclear_norm(Z)  # on the boundary of Eq. 91
    ce, fe, _ = l7.factorization_point(problem, Z, l7.printed_factors, np.random.default_rng(0))
    assert np.isclose(ce, 0.5 * np.sqrt(0.5 / 2.0)) and np.isclose(fe, 2.0 * np.sqrt(2.0 / 0.5))
    ce, fe, _ = l7.factorization_point(problem, Z, l7.corrected_factors, np.random.default_rng(0))
    assert np.isclose(ce, 0.5) and np.isclose(fe, 2.0)


def test_tightness_fails_when_p_is_too_small():
    from dataclasses import replace

    from lpm_verify.outcomes import compare
    from lpm_verify.solvers.nonconvex import solve_lpm
    problem = replace(l7.instances()[0], p=1)  # K = 3 classes in one dimension
    value = solve_lpm(problem, starts=2, seed=0).objective
    outcome = compare(l7.nuclear_solution(0).objective, value)
    assert verdict_for(outcome, _tol("Lemma 7/tight-at-p-equals-K")) is Verdict.FAIL


def _points(factors):
    problem, Z = l7.instances()[0], l7.nuclear_solution(0).detail["Z"]
    return np.array(l7.factorization_point(problem, Z, factors, np.random.default_rng(0)))


def test_factorization_at_solution_fails_for_a_wrong_correction_or_the_printed_form_as_correction():
    problem = l7.instances()[0]
    derived = np.array([problem.E_W, problem.E_H, l7.sdp_solution(0).objective])
    printed, corrected = _points(l7.printed_factors), _points(l7.corrected_factors)
    def swapped(s, E_H_, E_W_):  # the fourth roots on the wrong factors
        return l7.corrected_factors(s, E_W_, E_H_)
    def outcome(printed_value, corrected_value):
        return printed_vs_derived(printed_value, derived, corrected_value, relative=True, printed="p",
                                  corrected="c", evidence="")
    assert judge("Lemma 7/factorization-at-solution", outcome(printed, corrected)) is Verdict.ERRATUM
    assert judge("Lemma 7/factorization-at-solution", outcome(printed, _points(swapped))) is Verdict.FAIL
    assert judge("Lemma 7/factorization-at-solution", outcome(printed, printed)) is Verdict.FAIL
    # an interior Z (not a minimizer): even the corrected factorization misses E_W, E_H and the minimum
    Z_in = 0.95 * l7.nuclear_solution(0).detail["Z"]
    inner = np.array(l7.factorization_point(problem, Z_in, l7.corrected_factors, np.random.default_rng(0)))
    assert judge("Lemma 7/factorization-at-solution", outcome(printed, inner)) is Verdict.FAIL


def test_nuclear_solve_vs_sdp_fails_for_a_perturbed_nuclear_minimizer():
    from lpm_verify.solvers.nuclear import eq91_objective
    problem, Z = l7.instances()[0], l7.nuclear_solution(0).detail["Z"]
    sdp = np.array([l7.sdp_solution(0).objective])
    pi = problem.fractions()
    assert judge("Lemma 7/nuclear-solve-vs-sdp", compare(sdp, np.array([eq91_objective(Z, pi)]))) is Verdict.PASS
    for bad in (0.99 * Z, Z.T):  # interior point; same nuclear norm, transposed logits
        assert judge("Lemma 7/nuclear-solve-vs-sdp", compare(sdp, np.array([eq91_objective(bad, pi)]))) \
            is Verdict.FAIL
