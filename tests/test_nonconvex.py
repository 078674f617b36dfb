"""Unit tests of the nonconvex solver of Eq. 7 / Eq. 18 (lpm_verify.solvers.nonconvex)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from lpm_verify.errors import LPMInputError, SolverError
from lpm_verify.losses import SoftmaxLoss, power_loss
from lpm_verify.problem import LPMProblem, split_features
from lpm_verify.solvers.nonconvex import _Objective, solve_lpm

#: Relative rounding slack of a constraint that is active at the optimum (a few float64 ulps of
#: the sum of squares that defines the energy).
FEAS = 1e-12


def _feasible(problem: LPMProblem, sol) -> None:
    assert sol.classifier_energy <= problem.E_W * (1 + FEAS)
    assert sol.feature_energy <= problem.E_H * (1 + FEAS)
    slack_W, slack_H = problem.constraint_slacks(sol.W, sol.H)
    assert slack_W >= -FEAS * problem.E_W and slack_H >= -FEAS * problem.E_H


@pytest.mark.parametrize("problem", [
    LPMProblem.balanced(4, 2, 1.0, 3.0, p=5),
    LPMProblem((3, 1, 2), 2.0, 0.5, p=2),
    LPMProblem.two_size(4, 2, 3.0, 1.0, 1.0, w_r=3.0, p=4),
    LPMProblem.balanced(3, 1, 1.0, 1.0, p=3, loss=power_loss(2.0)),
], ids=["balanced", "imbalanced-p<K", "oversampled", "power-loss"])
def test_output_is_feasible_and_shaped(problem: LPMProblem) -> None:
    sol = solve_lpm(problem, starts=2, seed=3)
    assert sol.W.shape == (problem.K, problem.p)
    assert [Hk.shape for Hk in sol.H] == [(int(n), problem.p) for n in problem.sizes]
    _feasible(problem, sol)
    assert len(sol.start_objectives) == 2 and sol.objective <= min(sol.start_objectives) + 1e-12
    assert sol.converged and sol.stop_reason in ("projected-gradient", "relative-reduction")


def test_reproducible_with_seed() -> None:
    problem = LPMProblem((2, 3, 1), 1.0, 1.0, p=3)
    a, b = solve_lpm(problem, starts=3, seed=11), solve_lpm(problem, starts=3, seed=11)
    assert a.start_objectives == b.start_objectives
    np.testing.assert_array_equal(a.W, b.W)
    for Ha, Hb in zip(a.H, b.H):
        np.testing.assert_array_equal(Ha, Hb)
    c = solve_lpm(problem, starts=3, seed=12)
    assert not np.array_equal(a.W, c.W)  # another seed starts elsewhere (W is only unique up to rotation)


def test_never_worse_than_random_feasible_points() -> None:
    """The solver's objective is at most that of random feasible points (a bound that uses no theory)."""
    problem = LPMProblem((2, 1, 3), 1.5, 0.7, p=3, weights=(1.0, 2.0, 1.0))
    sol = solve_lpm(problem, starts=4, seed=0)
    rng = np.random.default_rng(5)
    for _ in range(50):
        W = rng.standard_normal((problem.K, problem.p))
        W *= np.sqrt(problem.E_W / problem.classifier_energy(W)) * rng.uniform(0, 1)
        H = [rng.standard_normal((int(n), problem.p)) for n in problem.sizes]
        scale = np.sqrt(problem.E_H / problem.feature_energy(H)) * rng.uniform(0, 1)
        assert sol.objective <= problem.objective(W, [scale * Hk for Hk in H]) + 1e-12


@pytest.mark.parametrize("loss", [None, power_loss(2.0), power_loss(3.5)], ids=["ce", "power2", "power3.5"])
def test_gradient_matches_finite_differences(loss: SoftmaxLoss | None) -> None:
    kw = {} if loss is None else {"loss": loss}
    problem = LPMProblem((3, 1, 2), 1.0, 2.0, p=4, weights=(1.0, 2.0, 1.0), **kw)
    fun = _Objective(problem, [3, 1, 2])
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(3 * 4 + 6 * 4), [0.5, 0.7]])
    f, g = fun(x)
    if fun.log_objective:  # cross-entropy: the solver minimises log f (module docstring)
        f = np.exp(f)
    numeric = approx_fprime(x, lambda y: fun(y)[0], 1e-7)
    # forward differences at step 1e-7: error ~ 1e-7 * curvature plus 1e-16/1e-7 rounding
    assert np.max(np.abs(g - numeric)) < 1e-5
    W, H = fun.point(x)
    assert abs(f - problem.objective(W, split_features(H, [3, 1, 2]))) < 1e-14


@pytest.mark.parametrize("kwargs, parameter", [
    ({"sizes": (2, 2, 2), "p": None}, "p"),
    ({"sizes": (2, 2.5, 2), "p": 3}, "n_2"),
])
def test_bad_problem_raises_naming_parameter(kwargs: dict, parameter: str) -> None:
    problem = LPMProblem(kwargs["sizes"], 1.0, 1.0, p=kwargs["p"])
    with pytest.raises(LPMInputError, match=parameter):
        solve_lpm(problem)


@pytest.mark.parametrize("kwargs, parameter", [
    ({"starts": 0}, "starts"), ({"max_iter": 0}, "max_iter"), ({"tol": 0.0}, "tol"), ({"tol": 1}, "tol"),
])
def test_bad_options_raise_naming_parameter(kwargs: dict, parameter: str) -> None:
    with pytest.raises(LPMInputError, match=parameter):
        solve_lpm(LPMProblem.balanced(2, 1, 1.0, 1.0, p=2), **kwargs)


def test_non_analytic_loss_is_refused() -> None:
    """A g1 whose complex step is wrong (uses abs) is detected instead of giving a wrong gradient."""
    bad = SoftmaxLoss("abs-based", g1=lambda x: np.abs(1 - x) ** 2)
    with pytest.raises(SolverError, match="g1"):
        solve_lpm(LPMProblem.balanced(2, 1, 1.0, 1.0, p=2, loss=bad))


def test_max_iter_reports_not_converged() -> None:
    sol = solve_lpm(LPMProblem.balanced(5, 2, 3.0, 3.0, p=6), starts=1, max_iter=2)
    assert not sol.converged and sol.stop_reason == "max_iter" and sol.iterations <= 2


def test_speed_on_reference_size(benchmark) -> None:
    """K = 10, n = 2, p = 20, one start: ~0.02 s with OPENBLAS_NUM_THREADS=1.

    A benchmark (skipped by default) rather than an assertion on wall time: on a loaded machine
    OpenBLAS threads inside scipy's L-BFGS-B oversubscribe the cores and the time varies 30-fold.
    """
    problem = LPMProblem.balanced(10, 2, 1.0, 1.0, p=20)
    sol = benchmark(solve_lpm, problem, starts=1, seed=0)
    assert sol.converged


def test_no_start_stalls_at_zero_radius() -> None:
    """Regression: with radii in [0, 1] a start of this problem stopped at W = 0 (objective log 3)."""
    sol = solve_lpm(LPMProblem((2, 3, 1), 1.0, 1.0, p=3), starts=3, seed=11)
    assert max(sol.start_objectives) - min(sol.start_objectives) < 1e-12
    assert sol.objective < np.log(3) - 0.5


def test_weights_equal_duplicated_minority_examples() -> None:
    """Eq. 18 with integer w_r has the optimal value of Eq. 7 with each minority example repeated w_r times
    (for fixed W the loss is convex in h and the energy is a class average, so repeated examples may
    share one feature)."""
    weighted = solve_lpm(LPMProblem((2, 2, 1), 1.0, 2.0, p=4, weights=(1.0, 1.0, 3.0)), starts=4, seed=1)
    repeated = solve_lpm(LPMProblem((2, 2, 3), 1.0, 2.0, p=4), starts=4, seed=1)
    assert abs(weighted.objective - repeated.objective) < 1e-9


def test_agrees_with_the_sdp_relaxation_on_an_imbalanced_problem() -> None:
    """For p >= 2K the SDP Eq. 15 is exact (Lemma 1): the nonconvex optimum matches it to Clarabel's accuracy."""
    from lpm_verify.solvers.sdp import solve_sdp

    problem = LPMProblem.two_size(4, 2, 5.0, 1.0, 1.0, n_B=1.0, p=8)
    nonconvex = solve_lpm(problem, starts=4, seed=0)
    sdp = solve_sdp(problem, solver="clarabel")
    assert abs(nonconvex.objective - float(sdp.objective)) < 1e-6  # interior-point tolerance ~1e-8, see DESIGN.md
