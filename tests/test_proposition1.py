"""Negative controls for the Proposition 1 checks: a wrong normaliser, duplication or rate must not pass."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from lpm_verify.geometry import simplex_etf
from lpm_verify.outcomes import at_most, compare
from lpm_verify.records import Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.symbolic import all_of, identities_outcome
from lpm_verify.verdict_rule import verdict_for
from theorems import proposition1_oversampling as p1
from theorems._imbalanced import TIGHT


def _tol(check_id: str) -> float:
    return REGISTRY.get(check_id).tolerance


def test_objective_identity_rejects_a_normaliser_without_the_rate():
    assert all_of(p1.objective_identity_gaps(p1.PRINTED_N_PRIME)).proved
    weight_adjusting = p1.n_A * p1.K_A + p1.n_B * p1.K_B  # Eq. 17 with the plain N
    assert all_of(p1.objective_identity_gaps(weight_adjusting)).refuted
    assert judge("Proposition 1/objective-identity", identities_outcome(p1.objective_identity_gaps(weight_adjusting))) \
        is Verdict.FAIL
    double_counted = p1.n_A * p1.K_A + p1.w_r ** 2 * p1.n_B * p1.K_B
    assert judge("Proposition 1/objective-identity", identities_outcome(p1.objective_identity_gaps(double_counted))) \
        is Verdict.FAIL


def test_duplication_detects_copies_of_the_wrong_features():
    def first_feature_only(H, K_A, rate):  # right counts, wrong features
        return [Hk if k < K_A else np.repeat(Hk[:1], rate * len(Hk), axis=0) for k, Hk in enumerate(H)]
    rng = np.random.default_rng(3)
    good = at_most(*map(np.array, p1.duplication_sides(4, 2, 6, 2, 3, 1.0, 2.0, rng)))
    bad = at_most(*map(np.array, p1.duplication_sides(4, 2, 6, 2, 3, 1.0, 2.0, np.random.default_rng(3),
                                                      duplicate=first_feature_only)))
    tol = _tol("Proposition 1/duplication")
    assert verdict_for(good, tol) is Verdict.PASS
    assert verdict_for(bad, tol) is Verdict.FAIL


def test_same_solution_fails_against_the_wrong_minority_size():
    from lpm_verify.solvers.sdp import solve_sdp
    case = (4, 2, 10, 2, 1.0, 3.0)
    over = solve_sdp(p1.oversampled(*case), **TIGHT)
    stand_in = SimpleNamespace(objective=over.objective, W=over.W)  # the nonconvex role, played exactly
    right = solve_sdp(p1.plain_equivalent(*case), **TIGHT)
    wrong = solve_sdp(p1.plain_equivalent(4, 2, 10, 3, 1.0, 3.0), **TIGHT)  # 3 n_B instead of 2 n_B
    tol = _tol("Proposition 1/same-solution")
    assert np.max(p1.same_solution_gaps(stand_in, right)) <= tol
    assert np.max(p1.same_solution_gaps(stand_in, wrong)) > tol


def test_lift_fails_for_the_wrong_program_or_without_the_rate():
    from lpm_verify.solvers.symmetric import solve_symmetric
    case = (4, 2, 10, 2, 1.0, 3.0)
    tol = _tol("Proposition 1/lift-attains-eq18")
    right = solve_symmetric(p1.plain_equivalent(*case))
    L = float(right.objective)
    good = p1.lift_gaps(p1.oversampled(*case), right.X, L, L + 1e-12, np.random.default_rng(0))
    assert verdict_for(compare(np.zeros_like(good), good), tol) is Verdict.PASS
    # X* of the program with 3 n_B lifted into Eq. 18 with w_r = 2: not the minimum there
    wrong = solve_symmetric(p1.plain_equivalent(4, 2, 10, 3, 1.0, 3.0))
    bad = p1.lift_gaps(p1.oversampled(*case), wrong.X, L, L + 1e-12, np.random.default_rng(0))
    assert verdict_for(compare(np.zeros_like(bad), bad), tol) is Verdict.FAIL
    # the right X* lifted into the model without oversampling (w_r = 1): objective differs
    plain_B = p1.oversampled(4, 2, 10, 1, 1.0, 3.0)
    unweighted = p1.lift_gaps(plain_B, right.X, L, L + 1e-12, np.random.default_rng(0))
    assert verdict_for(compare(np.zeros_like(unweighted), unweighted), tol) is Verdict.FAIL
    # a lifted point above an independent solve's objective is not a global minimizer
    beaten = p1.lift_gaps(p1.oversampled(*case), right.X, L, L - 1e-3, np.random.default_rng(0))
    assert verdict_for(compare(np.zeros_like(beaten), beaten), tol) is Verdict.FAIL


def test_equal_angles_hold_for_the_etf_and_fail_without_oversampling():
    from lpm_verify.solvers.sdp import solve_sdp
    tol = _tol("Proposition 1/equal-angles-at-wr-R")
    assert np.max(np.abs(p1.equal_angle_gaps(simplex_etf(5).T))) < 1e-14
    plain = solve_sdp(p1.oversampled(4, 2, 10, 1, 1.0, 3.0), **TIGHT)  # w_r = 1 != R
    assert np.max(np.abs(p1.equal_angle_gaps(plain.W))) > tol
