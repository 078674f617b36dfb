"""Negative controls for the Property 1 checks: a stationary loss, a wrong constant, an interior or
unsaturated solution must not pass."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lpm_verify.outcomes import at_most, printed_vs_derived
from lpm_verify.problem import LPMProblem
from lpm_verify.records import Outcome, Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.symbolic import identities_outcome, printed_identity_outcome
from lpm_verify.verdict_rule import verdict_for
from theorems import lemma7_nuclear_norm as l7
from theorems import property1_constraints_active as pr1
from theorems._imbalanced import all_zero, random_point


def _tol(check_id: str) -> float:
    return REGISTRY.get(check_id).tolerance


def test_a_loss_with_a_stationary_point_is_caught():
    def squared(z, k):
        return (z[k] - 1) ** 2  # gradient zero at z_k = 1
    assert pr1.nonvanishing_gradient_error(pr1.ce_loss) == 0
    error = pr1.nonvanishing_gradient_error(squared)
    assert judge("Property 1/gradient-never-zero", Outcome(expected=0, observed=error, error=error)) is Verdict.FAIL


@pytest.mark.parametrize("wrong", [
    lambda z_k, others: (z_k - 1) ** 2,                                   # stationary at z_k = 1
    lambda z_k, others: sp.log(sp.exp(z_k) + others),                     # log-sum-exp without -z_k
    lambda z_k, others: sp.log(sp.exp(z_k) + others) - z_k / 2,          # a wrong weight on z_k
])
def test_general_K_gradient_identity_rejects_a_wrong_loss(wrong):
    assert pr1.general_gradient_identity().proved
    identity = pr1.general_gradient_identity(wrong)
    assert identity.refuted
    assert judge("Property 1/gradient-never-zero", identities_outcome([identity])) is Verdict.FAIL


def test_constant_of_i_printed_is_an_erratum_and_corrected_is_exact():
    assert pr1.constant_gaps(pr1.PRINTED_CONSTANT).refuted
    assert pr1.constant_gaps(pr1.CORRECTED_CONSTANT).proved
    assert pr1.constant_gaps(pr1.CORRECTED_CONSTANT + sp.Rational(1, 10**6)).refuted


def test_kkt_errors_detect_interior_and_misaligned_points():
    problem = l7.instances()[0]
    Z = l7.nuclear_solution(0).detail["Z"]
    radius = l7.printed_radius(problem.E_H, problem.E_W, problem.K)
    tol = _tol("Property 1/kkt-step")
    assert np.max(pr1.kkt_errors(Z, problem.fractions(), radius)) <= tol
    assert np.max(pr1.kkt_errors(0.9 * Z, problem.fractions(), radius)) > tol  # slack
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal(Z.shape))[0]
    assert np.max(pr1.kkt_errors(Q @ Z, problem.fractions(), radius)) > tol  # same norm, not aligned


def test_slack_sides_fail_for_an_infeasible_point():
    rng = np.random.default_rng(5)
    problem = LPMProblem((2, 4, 1), E_W=1.0, E_H=1.5)
    tol = _tol("Property 1/slack-contradiction")
    W, H = random_point(rng, problem, 4, fill_H=0.5)
    assert verdict_for(at_most(*map(np.array, pr1.slack_sides(problem, W, H))), tol) is Verdict.PASS
    W, H = random_point(rng, problem, 4, fill_H=1.3)
    assert verdict_for(at_most(*map(np.array, pr1.slack_sides(problem, W, H))), tol) is Verdict.FAIL


def test_saturation_errors_need_both_traces_and_both_multipliers():
    problem = l7.instances()[0]
    sol = l7.sdp_solution(0)
    tol = _tol("Property 1/iii-sdp-saturates")
    duals = sol.detail["duals"]
    assert np.max(pr1.sdp_saturation_errors(problem, sol.X, duals)) <= tol
    K = problem.K
    shrunk = sol.X.copy()
    shrunk[K:, K:] *= 0.9  # classifier half unsaturated
    assert np.max(pr1.sdp_saturation_errors(problem, shrunk, duals)) > tol
    assert np.max(pr1.sdp_saturation_errors(problem, sol.X, {**duals, "E_W": 0.0})) > tol


def test_energy_gaps_are_relative():
    problem = LPMProblem((1, 2), E_W=4.0, E_H=0.5)
    assert np.all(pr1.energy_gaps(problem, 0.5, 4.0) == 0)
    assert np.allclose(pr1.energy_gaps(problem, 0.25, 2.0), [0.5, 0.5])


def test_i_constant_symbolic_fails_for_a_wrong_correction_or_the_printed_form_as_correction():
    printed = pr1.constant_gaps(pr1.PRINTED_CONSTANT)
    def outcome(corrected):
        return printed_identity_outcome(printed, pr1.constant_gaps(corrected), printed_form="p",
                                        corrected_form="c", evidence="")
    assert judge("Property 1/i-constant-symbolic", outcome(pr1.CORRECTED_CONSTANT)) is Verdict.ERRATUM
    assert judge("Property 1/i-constant-symbolic", outcome(pr1.K ** 2 * pr1.PRINTED_CONSTANT)) is Verdict.FAIL
    assert judge("Property 1/i-constant-symbolic", outcome(pr1.PRINTED_CONSTANT)) is Verdict.FAIL


def test_i_nuclear_norm_at_minimizers_fails_for_an_interior_Z_or_a_wrong_constant():
    problem, Z = l7.instances()[0], l7.nuclear_solution(0).detail["Z"]
    printed = np.array([np.sqrt(problem.E_H * problem.E_W)])
    radius = np.array([l7.printed_radius(problem.E_H, problem.E_W, problem.K)])
    def outcome(Z_, corrected):
        return printed_vs_derived(printed, np.array([l7.nuclear_norm(Z_)]), corrected, relative=True,
                                  printed="p", corrected="c", evidence="")
    cid = "Property 1/i-nuclear-norm-at-minimizers"
    assert judge(cid, outcome(Z, radius)) is Verdict.ERRATUM
    assert judge(cid, outcome(0.99 * Z, radius)) is Verdict.FAIL  # a Z* strictly inside the ball
    assert judge(cid, outcome(Z, printed)) is Verdict.FAIL  # the printed constant fed as the correction
    assert judge(cid, outcome(Z, 2 * radius)) is Verdict.FAIL


def test_ii_nonconvex_saturates_fails_at_a_point_with_slack():
    rng = np.random.default_rng(6)
    problem = l7.instances()[0]
    cid = "Property 1/ii-nonconvex-saturates"
    def outcome(W, H):
        return all_zero(pr1.energy_gaps(problem, float(problem.feature_energy(H)), float(problem.classifier_energy(W))))
    W, H = random_point(rng, problem, problem.p)
    assert judge(cid, outcome(W, H)) is Verdict.PASS
    assert judge(cid, outcome(W, [0.999 * Hk for Hk in H])) is Verdict.FAIL  # feature slack
    assert judge(cid, outcome(0.999 * W, H)) is Verdict.FAIL  # classifier slack
