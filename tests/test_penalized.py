"""Penalized LPM: negative controls for every check of theorems/penalized_lpm.py, and the CLI flags."""
from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest
import sympy as sp

from lpm_verify.cli import main
from lpm_verify.penalized import PenalizedLPM, balance_lambda_H
from lpm_verify.records import Outcome, Verdict
from lpm_verify.registry import judge
from theorems import penalized_lpm as pl


def test_variational_identity_rejects_the_arithmetic_mean():
    gap = pl.variational_gap(lambda a, b, x, y: (a * x + b * y) / 2)
    assert gap != 0
    wrong = pl.variational_outcome(lambda a, b, x, y: (a * x + b * y) / 2)
    assert judge("Penalized LPM/variational-identity", wrong) is Verdict.FAIL
    assert judge("Penalized LPM/variational-identity", pl.variational_outcome(pl._sqrt_formula)) is Verdict.PASS


def test_random_factorizations_never_beat_the_nuclear_norm_but_a_wrong_bound_is_caught():
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((4, 4))
    err, excess = pl.factorization_excess(Y, 0.3, 2.0, rng, trials=50)
    assert err < 1e-12 and excess >= 0
    # the bound with alpha beta replaced by (alpha + beta)^2 / 4 is not attained
    wrong = abs(err + (0.3 + 2.0) / 2 * np.linalg.svd(Y, compute_uv=False).sum()
                - np.sqrt(0.6) * np.linalg.svd(Y, compute_uv=False).sum())
    assert judge("Penalized LPM/variational-identity-numeric", Outcome(0, wrong, wrong)) is Verdict.FAIL


def test_within_class_averaging_excess_is_nonnegative_and_a_spread_point_is_not_a_minimizer():
    problem = PenalizedLPM((3, 3, 1), 0.1, 0.2)
    assert pl.collapse_excess(problem, np.random.default_rng(3), trials=10) >= 0
    # a negative excess (the averaged point worse) would fail the check
    assert judge("Penalized LPM/within-class-averaging", pl.at_most(1e-3, 0.0)) is Verdict.FAIL


def test_collapse_derivation_fails_for_swapped_class_counts():
    parts = pl.collapse_threshold(lambda c, KA, KB: (1 / c**2 - KA) / KB)
    assert parts["at_zero"] == 0 and parts["open_excess"] == 0
    assert sp.simplify(parts["root"]) != 0
    swapped = pl.collapse_derivation_outcome(lambda c, KA, KB: (1 / c**2 - KA) / KB)
    assert judge("Penalized LPM/collapse-derivation", swapped) is Verdict.FAIL


def test_collapse_threshold_fails_for_a_perturbed_formula():
    rows = pl.collapse_errors(lambda c, KA, KB: (1 / c**2 - KB) / KA * (1 + mpmath.mpf(10) ** -20))
    err = max(r["relative_error"] for r in rows)
    assert judge("Penalized LPM/collapse-threshold", Outcome(None, rows, err)) is Verdict.FAIL
    rows = pl.collapse_errors(lambda c, KA, KB: (1 / c**2 - KA) / KB)
    err = max(r["relative_error"] for r in rows)
    assert judge("Penalized LPM/collapse-threshold", Outcome(None, rows, err)) is Verdict.FAIL


def test_collapse_sides_fail_for_a_shifted_threshold():
    got = pl.group_collapse_margin((23,) * 7 + (10,) * 3, 0.1, 0.5, p=12, threshold=0.06)
    assert judge("Penalized LPM/collapse-sides", Outcome(None, got, got["error"])) is Verdict.FAIL


def test_zero_threshold_fails_without_the_minority_term():
    rows = pl.zero_errors(with_minority=False)
    err = max(r["relative_error"] for r in rows)
    assert judge("Penalized LPM/zero-threshold", Outcome(None, rows, err)) is Verdict.FAIL


def test_zero_sides_fail_at_a_misplaced_threshold():
    (K, K_A, lw, lh) = pl.ZERO_CASES[1]
    R = float([t for t in pl.thresholds(K, K_A, lw, lh) if t.to_regime.startswith("minority-collapse-zero")][0].R)
    sides = pl.zero_sides(K, K_A, lw, lh, 1.3 * R)  # both sides in the zero regime
    err = max(0.0, 0.02 - sides["below"]) + max(0.0, sides["above"] - 1e-3)
    assert judge("Penalized LPM/zero-sides", Outcome(None, sides, err)) is Verdict.FAIL


def test_convex_factors_reproduce_the_penalty():
    problem = PenalizedLPM((4, 4, 1), 0.2, 0.7)
    Z = np.random.default_rng(1).standard_normal((3, 3))
    W, Hbar = problem.factor(Z)
    assert np.allclose(W @ Hbar.T, Z)
    assert problem.objective_means(W, Hbar) == pytest.approx(problem.convex_objective(Z), rel=1e-12)


def test_balance_relation():
    assert balance_lambda_H(0.01, 4.0, 2.0) == pytest.approx(0.02)


@pytest.mark.parametrize("argv, message", [
    (["threshold", "--EW", "1", "--lambda-W", "0.01", "--lambda-H", "0.5"], "mutually exclusive"),
    (["solve", "--EH", "2", "--lambda-W", "0.01", "--lambda-H", "0.5"], "mutually exclusive"),
    (["solve", "--lambda-W", "0.01"], "--lambda-W and --lambda-H must be given together"),
    (["threshold", "--lambda-H", "0.5"], "--lambda-W and --lambda-H must be given together"),
    (["solve", "--lambda-W", "-1", "--lambda-H", "0.5"], "--lambda-W must be a finite number > 0"),
])
def test_cli_rejects_mixed_or_half_energy_flags(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_threshold_json_prints_the_closed_form_point(capsys):
    assert main(["threshold", "--K", "10", "--KA", "5", "--lambda-W", "0.01", "--lambda-H", "0.5",
                 "--digits", "20", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (t,) = report["transitions"]
    with mpmath.workdps(40):
        expected = (1 / (mpmath.mpf(0.01) * mpmath.mpf(0.5)) - 5) / 5
        assert abs(mpmath.mpf(t["R"]) / expected - 1) < mpmath.mpf(10) ** -18
    assert t["from"].startswith("distinct") and t["to"].startswith("minority-collapse")
    assert report["certified"]


def test_cli_solve_penalized_methods_agree(capsys):
    values = []
    for method in ("symmetric", "nonconvex"):
        assert main(["solve", "--K", "4", "--KA", "2", "--R", "5", "--lambda-W", "0.05", "--lambda-H", "0.5",
                     "--method", method, "--json"]) == 0
        values.append(json.loads(capsys.readouterr().out)["objective"])
    assert values[0] == pytest.approx(values[1], abs=1e-9)


def test_convex_collapse_sides_fail_at_a_misplaced_threshold():
    got = pl.convex_collapse_sides(10, 5, 0.01, 0.5, 1.5 * 39.0)  # both sides collapsed
    assert judge("Penalized LPM/collapse-sides", Outcome(None, got, got["error"])) is Verdict.FAIL


def test_nonnegative_features_are_feasible_and_cost_at_least_the_free_optimum():
    from lpm_verify.solvers.penalized_nonconvex import solve_penalized_nonconvex
    problem = PenalizedLPM((6, 6, 1, 1), 0.05, 0.4, p=6)
    free = solve_penalized_nonconvex(problem, starts=2)
    nonneg = solve_penalized_nonconvex(problem, starts=2, nonnegative_features=True)
    assert min(float(h.min()) for h in nonneg.H) >= 0.0
    assert nonneg.objective >= free.objective - 1e-12
