"""Appendix C (theorems/appendixC_oversampling_vs_weighting.py): negative controls for the symbolic
moments, the step-size relation and the Monte Carlo checks."""
from __future__ import annotations

import numpy as np
import sympy as sp

from lpm_verify.outcomes import compare, printed_vs_derived
from lpm_verify.records import Verdict
from lpm_verify.registry import judge
from theorems import appendixC_oversampling_vs_weighting as AC


def test_swapped_scheme_formulas_are_caught() -> None:
    """Appendix C/eq86-eq88: the oversampling formulas (Eq. 88) fed as weighting's Eq. 86 fail."""
    major, minor = AC.symbolic_population(K_A=1, n_A=2, K_B=1, n_B=1, dim=1)
    w_r = sp.Symbol("w_r", positive=True)
    mean_w, second_w, total_w = AC.moments_from_distribution(major, minor, w_r, "weighting")
    assert total_w == 0
    pm, ps = AC.moments_printed(major, minor, w_r, "oversampling")  # the other scheme's formulas
    residuals = [sp.simplify(e) for e in (mean_w - pm)] + [sp.simplify(second_w - ps), total_w]
    out = compare(0, sum(0 if r == 0 else 1 for r in residuals))
    assert judge("Appendix C/eq86-eq88", out) is Verdict.FAIL


def test_step_size_relation() -> None:
    """Appendix C/step-size: the printed relation fed as the correction fails; no correction (eta_w = eta_s)
    fails too."""
    derived = AC.step_size_relation(*AC._SYM)
    assert sp.simplify(AC.eta_w_corrected(*AC._SYM) - derived) == 0
    assert sp.simplify(AC.eta_w_printed(*AC._SYM) - derived) != 0
    err_p = 0 if sp.simplify(AC.eta_w_printed(*AC._SYM) - derived) == 0 else 1
    as_truth = printed_vs_derived(err_p, 0, err_p, printed="p", corrected="p", evidence="control")
    assert judge("Appendix C/step-size", as_truth) is Verdict.FAIL
    err_none = 0 if sp.simplify(AC._SYM[-1] - derived) == 0 else 1
    wrong = printed_vs_derived(err_p, 0, err_none, printed="p", corrected="eta_w = eta_s", evidence="control")
    assert judge("Appendix C/step-size", wrong) is Verdict.FAIL
    # they coincide only without oversampling (w_r = 1)
    n_A, K_A, n_B, K_B, w_r, eta_s = AC._SYM
    assert sp.simplify((AC.eta_w_printed(*AC._SYM) - derived).subs(w_r, 1)) == 0


def test_sampling_is_seeded_and_follows_the_laws() -> None:
    pop = AC.softmax_population()
    a = AC.sample_updates(pop, "oversampling", 1000, np.random.default_rng(3))
    b = AC.sample_updates(pop, "oversampling", 1000, np.random.default_rng(3))
    assert np.array_equal(a, b)
    # minority rows only ever appear scaled by w_r under weighting
    v = AC.sample_updates(pop, "weighting", 5000, np.random.default_rng(4))
    minority = {tuple(np.round(pop.w_r * g, 12)) for g in pop.G[pop.n_major:]}
    majority = {tuple(np.round(g, 12)) for g in pop.G[: pop.n_major]}
    assert all(tuple(np.round(x, 12)) in minority | majority for x in v[:200])


def test_monte_carlo_catches_wrong_formulas() -> None:
    """Appendix C/mc-means (printed ratio or none fed as the correction), Appendix C/mc-second-moments
    (Eq. 86 with w_r for w_r^2) and Appendix C/mc-variance-ratio (the printed step-size ratio) fail."""
    pop, mc = AC.monte_carlo()
    N, Np = pop.n_major + pop.n_minor, pop.n_major + pop.w_r * pop.n_minor
    assert AC.mean_z(pop, mc, N / Np) <= AC._Z_TOL
    z_printed, z_none = AC.mean_z(pop, mc, Np / N), AC.mean_z(pop, mc, 1.0)  # printed / no correction
    for z in (z_printed, z_none):
        wrong = printed_vs_derived(z_printed, 0.0, z, printed="p", corrected="c", evidence="control")
        assert judge("Appendix C/mc-means", wrong) is Verdict.FAIL
    # Eq. 86 with w_r instead of w_r^2 (the oversampling exponent) must be rejected
    A, B = pop.G[: pop.n_major], pop.G[pop.n_major:]
    wrong = (np.sum(A * A) + pop.w_r * np.sum(B * B)) / N
    z = abs(mc.second_w - wrong) / mc.se_second_w
    assert judge("Appendix C/mc-second-moments", compare(0, z)) is Verdict.FAIL
    assert AC.exact_variance_ratio(pop) > 1
    # the variance ratio with the printed eta_w/eta_s = N'/N against the exact one (eta_w/eta_s = N/N')
    r_printed = (Np / N) ** 2 * mc.var_w / mc.var_s
    se = r_printed * np.sqrt((mc.se_var_w / mc.var_w) ** 2 + (mc.se_var_s / mc.var_s) ** 2)
    z_ratio = abs(r_printed - AC.exact_variance_ratio(pop)) / se
    assert judge("Appendix C/mc-variance-ratio", compare(0, z_ratio)) is Verdict.FAIL


def test_comparison_direction_could_come_out_either_way() -> None:
    """Appendix C/comparison-direction: the printed direction fed as the correction, or 'equal', fails."""
    # the check's derived sign is computed: it is +1 in the sentence's regime, 0 without oversampling
    # (w_r = 1, both schemes coincide), so a printed direction could pass or fail on the computation
    assert AC.second_moment_ratio(1000, 3, 1, 7, 1000) > 1
    assert AC.second_moment_ratio(1000, 3, 1, 7, 1) == 1
    derived = int(sp.sign(AC.second_moment_ratio(1000, 3, 1, 7, 1000) - 1))
    for corrected in (-1, 0):
        wrong = printed_vs_derived(-1, derived, corrected, printed="p", corrected="c", evidence="control")
        assert judge("Appendix C/comparison-direction", wrong) is Verdict.FAIL


def test_weighting_never_has_the_smaller_second_moment() -> None:
    n_A, K_A, n_B, K_B, w_r, _ = AC._SYM
    N, Np = n_A * K_A + n_B * K_B, n_A * K_A + w_r * n_B * K_B
    assert sp.expand(N * (n_A * K_A + w_r**2 * n_B * K_B) - Np**2 - n_A * K_A * n_B * K_B * (w_r - 1) ** 2) == 0


def test_second_moment_order_with_the_printed_step_size_fails() -> None:
    """Appendix C/second-moment-order: with the printed eta_w = (N'/N) eta_s the ratio is not the claimed one."""
    out = AC.second_moment_order_outcome(AC.eta_w_printed)
    assert judge("Appendix C/second-moment-order", out) is Verdict.FAIL
