"""Negative controls for the Lemma 1 checks: a wrong map, remainder, point or solution must not pass."""
from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify.outcomes import at_most, compare
from lpm_verify.problem import LPMProblem
from lpm_verify.records import Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.symbolic import identities_outcome
from lpm_verify.verdict_rule import verdict_for
from theorems import lemma1_sdp_relaxation as l1
from theorems._imbalanced import TIGHT, all_zero, profile_problem, random_point, random_sizes, rational_orthogonal


def _tol(check_id: str) -> float:
    return REGISTRY.get(check_id).tolerance


def map_identity_gaps(P: sp.Matrix, K: int) -> np.ndarray:
    """Exact gaps of the identities behind Eq. 15 / Eq. 16 for a symbolic ``2K x 2K`` matrix.

    With ``S`` a symbolic symmetric matrix (playing ``X^(1/2)``) and ``B = P S``: ``B^T B = S^2``
    needs only ``P^T P = I_2K``.  With a symbolic ``B = [h_1..h_K, W^T]  # (p, 2K)`` and
    ``X = B^T B``: ``z_k = X(k, K+1:2K)`` equals ``W h_k``, ``(1/K) sum_{k<=K} X(k,k) =
    (1/K) sum ||h_k||^2`` and ``(1/K) sum_{k>K} X(k,k) = (1/K) sum ||w_k||^2``.
    """
    m, p = 2 * K, P.shape[0]
    S = sp.Matrix(m, m, lambda i, j: sp.Symbol(f"s{min(i, j)}_{max(i, j)}", real=True))
    Bmap = P * S  # (p, 2K)
    gaps = [sp.simplify(e) for e in (Bmap.T * Bmap - S * S)]
    B = sp.Matrix(p, m, lambda i, j: sp.Symbol(f"b{i}_{j}", real=True))
    X = B.T * B
    Hm, Wt = B[:, :K], B[:, K:]  # columns h_k ; W^T
    for k in range(K):
        gaps += list((X[k, K:].T - Wt.T * Hm[:, k]).expand())
    gaps.append(sp.expand(sum(X[k, k] for k in range(K)) - sum((Hm[:, k].T * Hm[:, k])[0] for k in range(K))))
    gaps.append(sp.expand(sum(X[k, k] for k in range(K, m)) - sum(e ** 2 for e in Wt)))
    symbols = sorted(set().union(*(g.free_symbols for g in gaps)), key=str)
    point = {s: sp.Rational(i % 7 + 1, 3) for i, s in enumerate(symbols)}  # an exact witness point
    return np.array([abs(float(sp.N(g.subs(point), 30))) for g in gaps])


def test_map_identities_need_an_orthonormal_P():
    """Was the check 'Lemma 1/map-identities': with X defined as B^T B the identities are algebra of our
    own construction, not a claim of the paper, so they are a unit test of the Eq. 15 / Eq. 16 bookkeeping."""
    P = rational_orthogonal(3, seed=11)[:, :2]  # K = 1 keeps sympy fast
    assert np.all(map_identity_gaps(P, 1) == 0)
    P_bad = P.copy()
    P_bad[0, 0] += sp.Rational(1, 10)
    assert np.max(map_identity_gaps(P_bad, 1)) > 0


def test_step_a_rejects_a_remainder_without_the_1_over_n():
    def unnormalised(h, hbar):
        return sum(((v - hbar).T * (v - hbar))[0] for v in h)
    assert l1.jensen_remainder_gap(l1.paper_remainder).proved
    assert l1.jensen_remainder_gap(unnormalised).refuted
    assert judge("Lemma 1/step-a-cauchy-schwarz", identities_outcome([l1.jensen_remainder_gap(unnormalised)])) \
        is Verdict.FAIL


def test_pair_bound_rejects_a_remainder_without_the_half():
    def whole_square(a, b, c):
        v = a + b - 2 * c
        return (v.T * v)[0]
    assert l1.pair_bound_gap(l1.half_square_remainder).proved
    assert l1.pair_bound_gap(whole_square).refuted
    assert judge("Lemma 1/uniqueness-pair-bound", identities_outcome([l1.pair_bound_gap(whole_square)])) is Verdict.FAIL


def test_relaxation_chain_fails_at_an_infeasible_point():
    rng = np.random.default_rng(0)
    problem = LPMProblem((3, 1, 2), E_W=1.0, E_H=2.0, p=6)
    W, H = random_point(rng, problem, 6, fill_H=1.5)
    outcome = at_most(*map(np.array, l1.relaxation_chain(problem, W, H)))
    assert verdict_for(outcome, _tol("Lemma 1/relaxation-chain")) is Verdict.FAIL


@settings(deadline=None, derandomize=True, max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), K=st.integers(2, 5), fill=st.floats(0.05, 1.0))
def test_relaxation_chain_holds_on_random_feasible_points(seed, K, fill):
    rng = np.random.default_rng(seed)
    problem = LPMProblem(random_sizes(rng, K), E_W=float(rng.uniform(0.1, 5)), E_H=float(rng.uniform(0.1, 5)))
    W, H = random_point(rng, problem, K + 1, fill_W=fill, fill_H=fill)
    outcome = at_most(*map(np.array, l1.relaxation_chain(problem, W, H)))
    assert verdict_for(outcome, _tol("Lemma 1/relaxation-chain")) is Verdict.PASS


@functools.lru_cache(maxsize=None)
def _solved():
    from lpm_verify.solvers.sdp import solve_sdp
    problem = profile_problem(3, 2)
    return problem, solve_sdp(problem, **TIGHT)


def test_reconstruction_detects_a_suboptimal_or_infeasible_X():
    problem, sol = _solved()
    tol = _tol("Lemma 1/reconstruction-attains")
    assert np.max(l1.reconstruction_errors(problem, sol.X, sol.objective, seed=0)) <= tol
    assert np.max(l1.reconstruction_errors(problem, 0.9 * sol.X, sol.objective, seed=0)) > tol  # objective gap
    assert np.max(l1.reconstruction_errors(problem, 1.1 * sol.X, sol.objective, seed=0)) > tol  # infeasible


def test_saturation_certificate_needs_saturation_and_a_positive_multiplier():
    problem, sol = _solved()
    tol = _tol("Lemma 1/uniqueness-condition")
    lam = sol.detail["duals"]["E_H"]
    assert verdict_for(l1.saturation_certificate(problem.E_H, sol.X, lam), tol) is Verdict.PASS
    assert verdict_for(l1.saturation_certificate(problem.E_H, 0.9 * sol.X, lam), tol) is Verdict.FAIL
    assert verdict_for(l1.saturation_certificate(problem.E_H, sol.X, 0.0), tol) is Verdict.FAIL


def test_within_class_energy_sees_spread():
    problem = LPMProblem((2, 3), E_W=1.0, E_H=1.0)
    H = [np.ones((2, 3)), np.ones((3, 3))]
    assert l1.within_class_energy(problem, H) == 0.0
    H[1][0, 0] += 0.1
    assert l1.within_class_energy(problem, H) > _tol("Lemma 1/within-class-collapse")


def _lifted(problem, X, seed=0):
    from lpm_verify.solvers.sdp import lemma1_map
    return lemma1_map(X, problem.p, problem.sizes, rng=np.random.default_rng(seed))


def test_sdp_equals_nonconvex_fails_for_a_nonconvex_point_off_the_minimum():
    problem, sol = _solved()
    W, H = _lifted(problem, sol.X)  # the nonconvex role played by the lifted SDP minimizer
    at_min = compare(np.array([sol.objective]), np.array([float(problem.objective(W, H))]))
    assert judge("Lemma 1/sdp-equals-nonconvex", at_min) is Verdict.PASS
    W_off = W.copy()
    W_off[[0, 1]] = W_off[[1, 0]]  # a feasible point: two classifiers swapped
    off = compare(np.array([sol.objective]), np.array([float(problem.objective(W_off, H))]))
    assert judge("Lemma 1/sdp-equals-nonconvex", off) is Verdict.FAIL


def test_grid_errors_fail_for_spread_or_unsaturated_features_or_a_higher_value():
    problem, sol = _solved()
    W, H = _lifted(problem, sol.X)
    nc = SimpleNamespace(objective=float(problem.objective(W, H)), H=H,
                         feature_energy=float(problem.feature_energy(H)))
    assert judge("Lemma 1/sdp-equals-nonconvex-grid", all_zero(l1.grid_errors(problem, sol.objective, nc))) \
        is Verdict.PASS
    spread = [Hk + 1e-3 * np.arange(Hk.shape[0])[:, None] for Hk in H]  # within-class spread (no NC1)
    shrunk = [0.999 * Hk for Hk in H]  # feature energy below E_H
    for bad in (SimpleNamespace(objective=nc.objective, H=spread, feature_energy=nc.feature_energy),
                SimpleNamespace(objective=nc.objective, H=H, feature_energy=float(problem.feature_energy(shrunk))),
                SimpleNamespace(objective=nc.objective + 1e-6, H=H, feature_energy=nc.feature_energy)):
        outcome = all_zero(l1.grid_errors(problem, sol.objective, bad))
        assert judge("Lemma 1/sdp-equals-nonconvex-grid", outcome) is Verdict.FAIL
