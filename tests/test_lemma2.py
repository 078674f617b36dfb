"""Lemma 2 (theorems/lemma2_equalities_imply_etf.py): negative controls and hypothesis-based checks."""
from __future__ import annotations

import math

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify.commands.registry import load_all
from lpm_verify.outcomes import printed_vs_derived
from lpm_verify.records import Outcome, Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.symbolic import identities_outcome
from theorems import lemma2_equalities_imply_etf as l2
from theorems.theorem1_balanced_ce import minimizer

load_all()



def test_registered_verdicts() -> None:
    verdicts = {c.id: c.run().verdict for c in REGISTRY.checks(["Lemma 2"])}
    assert verdicts.pop("Lemma 2/proof-scalings") == "erratum"
    assert set(verdicts.values()) == {"pass"}


def test_forced_gram_rejects_a_wrong_solution() -> None:
    good = l2.forced_gram_symbolic_K()
    assert identities_outcome(l2.forced_gram_error(good)).detail["proved"] is True
    wrong = dict(good, off=-l2.E_W_SYM / l2.K_SYM)  # -E_W/K instead of -E_W/(K-1)
    err = identities_outcome(l2.forced_gram_error(wrong)).error
    assert judge("Lemma 2/forced-gram-symbolic-K", Outcome(0, err, err)) == Verdict.FAIL


def test_full_system_solution_is_the_etf_gram() -> None:
    (G,) = l2.full_system_solutions(3)
    assert sp.simplify(G - l2.E_W_SYM * sp.Rational(3, 2) * (sp.eye(3) - sp.ones(3, 3) / 3)) == sp.zeros(3, 3)


def test_scalings_pass_with_the_corrected_ratio_and_fail_with_a_wrong_one() -> None:
    inputs = l2.constructed_inputs(seed=4)
    corrected = max(max(l2.scaling_residuals(*x, plug_ratio=lambda E_W, E_H: math.sqrt(E_H / E_W)).values())
                    for x in inputs)
    assert corrected < 1e-12
    wrong = max(max(l2.scaling_residuals(*x, plug_ratio=lambda E_W, E_H: E_H / E_W).values()) for x in inputs)
    assert judge("Lemma 2/proof-scalings", Outcome(0, wrong, wrong)) == Verdict.FAIL


def test_scalings_detect_a_non_etf_input() -> None:
    """A point with h = C w and the right energies but a non-ETF Gram fails the Eq. 31 step."""
    rng = np.random.default_rng(0)
    K, E_W, E_H = 4, 1.0, 2.0
    W = rng.standard_normal((K, K))
    W -= W.mean(axis=0)
    W *= math.sqrt(K * E_W / np.sum(W ** 2))
    H = math.sqrt(E_H / E_W) * W[:, None, :]
    res = l2.scaling_residuals(W, H, E_W, E_H, plug_ratio=lambda a, b: math.sqrt(b / a))
    assert res["WW^T = E_W K/(K-1)(I - 11^T/K)"] > 1e-3
    assert np.max(np.abs(l2.hypothesis_residuals(W, H, E_W, E_H))) > 1e-3  # Eq. 30 is violated there


@settings(deadline=None, derandomize=True, max_examples=25)
@given(K=st.integers(2, 6), n=st.integers(1, 3), extra=st.integers(0, 3), E_W=st.floats(0.05, 20), E_H=st.floats(0.05, 20),
       seed=st.integers(0, 2 ** 32 - 1))
def test_eq9_points_satisfy_hypotheses_and_conclusion(K: int, n: int, extra: int, E_W: float, E_H: float, seed: int) -> None:
    W, H = minimizer(K, n, K - 1 + extra, E_W, E_H, np.random.default_rng(seed))
    assert np.max(np.abs(l2.hypothesis_residuals(W, H, E_W, E_H))) <= 1e-12 * max(1.0, E_W, E_H)
    assert l2.eq9_error(W, H, E_W, E_H) <= 1e-12


def test_eq9_error_detects_a_perturbed_optimum() -> None:
    W, H = minimizer(3, 2, 3, 1.0, 4.0, np.random.default_rng(1))
    H = H.copy()
    H[1, 1] += 1e-4
    err = l2.eq9_error(W, H, 1.0, 4.0)
    assert judge("Lemma 2/random-solutions", Outcome(0, err, err)) == Verdict.FAIL


def test_least_squares_finds_hypothesis_solutions() -> None:
    W, H, residual = l2.solve_hypotheses(3, 2, 4, 0.5, 2.0, np.random.default_rng(8))
    assert residual < 1e-10 and l2.eq9_error(W, H, 0.5, 2.0) < 1e-7


def test_scalings_printed_ratio_fed_as_correction_does_not_pass() -> None:
    inputs = l2.constructed_inputs(seed=4)
    printed = max(max(l2.scaling_residuals(*x).values()) for x in inputs)  # default: the printed sqrt(E_W/E_H)
    outcome = printed_vs_derived(printed, 0.0, printed, printed="", corrected="", evidence="")
    assert judge("Lemma 2/proof-scalings", outcome) == Verdict.FAIL


def test_full_system_fails_for_a_wrong_target_gram() -> None:
    """Eq. 31 without the factor K/(K-1), and E_W (I - 11^T) (the Theorem 3 misprint), are not the solution."""
    for wrong in (lambda K: l2.E_W_SYM * (sp.eye(K) - sp.ones(K, K) / K), lambda K: l2.E_W_SYM * (sp.eye(K) - sp.ones(K, K))):
        err, proved = l2.full_system_error(3, target_of=wrong)
        assert not proved
        assert judge("Lemma 2/full-system-K2-6", Outcome(0.0, err, err)) == Verdict.FAIL
    err, proved = l2.full_system_error(3)
    assert proved and judge("Lemma 2/full-system-K2-6", Outcome(0.0, err, err)) == Verdict.PASS


def test_full_system_fails_when_the_solution_is_not_unique() -> None:
    """Dropping sum_k w_k = 0 leaves a one-parameter family of Grams: uniqueness, hence the lemma, fails."""
    def without_centring(K: int) -> list[sp.Matrix]:
        c = sp.sqrt(l2.E_H_SYM / l2.E_W_SYM)
        g = {(i, j): sp.Symbol(f"G_{min(i, j)}{max(i, j)}") for i in range(K) for j in range(K)}
        C = sp.Symbol("C")
        eqs = [c * (g[k, k] - g[k, l]) - C for k in range(K) for l in range(K) if k != l]
        eqs.append(sum(g[k, k] for k in range(K)) - K * l2.E_W_SYM)
        unknowns = sorted(set(g.values()), key=str) + [C]
        return [sp.Matrix(K, K, lambda i, j: dict(zip(unknowns, s))[g[i, j]]) for s in sp.linsolve(eqs, unknowns)]
    err, _ = l2.full_system_error(3, solutions_of=without_centring)
    assert judge("Lemma 2/full-system-K2-6", Outcome(0.0, err, err)) == Verdict.FAIL


def test_hypotheses_hold_fails_at_a_perturbed_point() -> None:
    inputs = l2.constructed_inputs(seed=1)[:3]
    assert judge("Lemma 2/hypotheses-hold-at-eq9", l2.hypotheses_error(inputs)) == Verdict.PASS
    W, H, E_W, E_H = inputs[1]
    H = H.copy()
    H[0, 0] *= 1.001  # one feature leaves its class mean
    out = l2.hypotheses_error(inputs[:1] + [(W, H, E_W, E_H)])
    assert judge("Lemma 2/hypotheses-hold-at-eq9", out) == Verdict.FAIL


def test_scaling_points_reach_beyond_eq9_and_a_wrong_ratio_fails_there() -> None:
    """The Eq. 28-only inputs are far from the conclusion (their Gram is no ETF), the Eq. 28 steps still
    hold there with the corrected ratio, and a step that needs Eq. 30 would fail there (so they are not
    Eq. 9 points in disguise)."""
    corrected = l2.scaling_outcome(lambda E_W, E_H: math.sqrt(E_H / E_W))
    assert corrected["conclusion residual at Eq. 28-only points"] > 0.1
    assert max(corrected["per step"].values()) < REGISTRY.get("Lemma 2/proof-scalings").tolerance
    later = [k for k in corrected["per step"] if k not in l2.EQ28_STEPS]
    worst_later = min(max(l2.scaling_residuals(*x)[k] for k in later) for x in l2.eq28_only_inputs())
    assert worst_later > 0.01
    inverted_at_partial = max(l2.scaling_residuals(*x)["plug h_k = ratio * w_k"] for x in l2.eq28_only_inputs())
    assert judge("Lemma 2/proof-scalings", Outcome(0, inverted_at_partial, inverted_at_partial)) == Verdict.FAIL


def test_least_squares_inputs_satisfy_the_hypotheses() -> None:
    for W, H, E_W, E_H in l2.solved_inputs():
        assert np.max(np.abs(l2.hypothesis_residuals(W, H, E_W, E_H))) < 1e-12
