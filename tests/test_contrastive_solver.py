"""Unit tests of the contrastive LPM solver (Eq. 12), lpm_verify.solvers.contrastive."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from lpm_verify.errors import LPMInputError
from lpm_verify.solvers.contrastive import _Objective, contrastive_objective, solve_contrastive

#: Relative slack of an active energy constraint: a few float64 ulps of a sum of squares.
FEAS = 1e-12


@pytest.mark.parametrize("K, n, p, tau, E_H", [(2, 3, 1, 1.0, 1.0), (3, 2, 2, 0.5, 2.0), (4, 1, 6, 2.0, 0.3)])
def test_output_is_feasible_shaped_and_converged(K: int, n: int, p: int, tau: float, E_H: float) -> None:
    sol = solve_contrastive(K, n, p, tau, E_H, starts=2, seed=1)
    assert sol.H.shape == (K, n, p)
    assert sol.feature_energy <= E_H * (1 + FEAS)
    assert abs(sol.feature_energy - np.sum(sol.H ** 2) / (K * n)) < FEAS * E_H
    assert len(sol.start_objectives) == 2 and sol.objective <= min(sol.start_objectives) + 1e-12
    assert sol.converged and sol.stop_reason in ("projected-gradient", "relative-reduction")


def test_reproducible_with_seed() -> None:
    a, b = solve_contrastive(3, 2, 3, 1.0, 1.0, starts=3, seed=7), solve_contrastive(3, 2, 3, 1.0, 1.0, starts=3, seed=7)
    assert a.start_objectives == b.start_objectives
    np.testing.assert_array_equal(a.H, b.H)
    c = solve_contrastive(3, 2, 3, 1.0, 1.0, starts=3, seed=8)
    assert not np.array_equal(a.H, c.H)  # another seed starts elsewhere (H is unique only up to rotation)


def test_gradient_matches_finite_differences() -> None:
    fun = _Objective(3, 2, 4, 0.7, 1.3)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(3 * 2 * 4), [0.6]])
    f, g = fun(x)
    numeric = approx_fprime(x, lambda y: fun(y)[0], 1e-7)
    # forward differences at step 1e-7: truncation ~1e-7 * curvature, rounding ~1e-16/1e-7
    assert np.max(np.abs(g - numeric)) < 1e-5
    assert abs(f - contrastive_objective(fun.point(x), 0.7)) < 1e-14  # the loss module's Eq. 11


def test_never_worse_than_random_feasible_points() -> None:
    """A bound that uses no theory: the solver is at most the objective of random feasible points."""
    K, n, p, tau, E_H = 3, 2, 3, 0.8, 1.5
    sol = solve_contrastive(K, n, p, tau, E_H, starts=3, seed=2)
    rng = np.random.default_rng(9)
    for _ in range(50):
        H = rng.standard_normal((K, n, p))
        H *= math.sqrt(E_H * K * n / np.sum(H * H)) * rng.uniform(0, 1)
        assert sol.objective <= contrastive_objective(H, tau) + 1e-12


@pytest.mark.parametrize("kwargs, parameter", [
    ({"K": 1}, "K"), ({"K": 2.0}, "K"), ({"n": 0}, "n"), ({"p": 0}, "p"), ({"tau": 0.0}, "tau"),
    ({"tau": math.nan}, "tau"), ({"E_H": -1.0}, "E_H"), ({"E_H": math.inf}, "E_H"),
    ({"starts": 0}, "starts"), ({"max_iter": 0}, "max_iter"), ({"tol": 1.0}, "tol"),
])
def test_bad_input_names_the_parameter(kwargs: dict, parameter: str) -> None:
    args = {"K": 3, "n": 2, "p": 3, "tau": 1.0, "E_H": 1.0}
    options = {k: kwargs.pop(k) for k in list(kwargs) if k in ("starts", "max_iter", "tol")}
    args.update(kwargs)
    with pytest.raises(LPMInputError, match=rf"^{parameter} must be"):
        solve_contrastive(**args, **options)
