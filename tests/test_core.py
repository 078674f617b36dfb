"""Unit tests of the core modules: losses (Eq. 8, 14), geometry (Definition 1), problem (Eq. 7, 18), backend."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from lpm_verify import backend as bk
from lpm_verify import geometry
from lpm_verify.errors import LPMInputError
from lpm_verify.losses import cross_entropy, get_loss, power_loss
from lpm_verify.problem import LPMProblem, split_features, two_size_fractions


# -- losses ------------------------------------------------------------------------------------
def test_cross_entropy_is_minus_log_softmax() -> None:
    rng = np.random.default_rng(0)
    Z = rng.normal(scale=5.0, size=(7, 4))  # (m, K) logits
    labels = rng.integers(0, 4, size=7)
    by_hand = np.array([-math.log(math.exp(z[y]) / sum(math.exp(v) for v in z)) for z, y in zip(Z, labels)])
    np.testing.assert_allclose(cross_entropy()(Z, labels), by_hand, rtol=1e-13)


def test_cross_entropy_is_stable_for_large_logits() -> None:
    Z = np.array([[1000.0, 0.0, -5.0], [0.0, 800.0, 0.0]])
    out = cross_entropy()(Z, np.array([0, 0]))
    assert out[0] == pytest.approx(math.log1p(math.exp(-1000) + math.exp(-1005)), abs=1e-300)
    assert out[1] == pytest.approx(800.0 + math.log1p(2 * math.exp(-800)))


def test_power_loss_is_eq14() -> None:
    z, q = np.array([[0.3, -1.2, 2.0]]), 2.5
    S = np.exp(z) / np.exp(z).sum()
    expected = (1 - S[0, 1]) ** q + S[0, 0] ** q + S[0, 2] ** q
    assert power_loss(q)(z, np.array([1]))[0] == pytest.approx(expected, rel=1e-14)


def test_mp_and_float64_paths_agree() -> None:
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(5, 3))
    labels = np.array([0, 1, 2, 0, 1])
    with mpmath.workdps(40):
        for loss in (cross_entropy(), power_loss(3.0)):
            mp_out = loss(bk.mp_array(Z), labels)
            assert bk.is_mp(mp_out)
            np.testing.assert_allclose(bk.to_float(mp_out), loss(Z, labels), rtol=1e-13)


def test_get_loss_names_and_errors() -> None:
    assert get_loss("ce").is_cross_entropy and get_loss("power:2").name == "power:2"
    with pytest.raises(LPMInputError, match="q"):
        get_loss("power:x")
    with pytest.raises(LPMInputError, match="Did you mean"):
        get_loss("cross-entropyy")
    with pytest.raises(LPMInputError, match="q"):
        power_loss(1.0)


# -- geometry ------------------------------------------------------------------------------------
def test_geometry_on_a_synthetic_etf_is_exact() -> None:
    """Regular simplex built by hand (K = 3 in the plane): cosines exactly -1/2 at 50 digits."""
    with mpmath.workdps(50):
        angles = [2 * mpmath.pi * k / 3 for k in range(3)]
        M = bk.mp_array([[mpmath.cos(a) for a in angles], [mpmath.sin(a) for a in angles]])  # (2, 3)
        C = geometry.cosines(M)
        off = [C[i, j] for i in range(3) for j in range(3) if i != j]
        assert max(abs(c + mpmath.mpf(1) / 2) for c in off) < mpmath.mpf(10) ** -45
        assert max(abs(x - 1) for x in geometry.norms(M)) < mpmath.mpf(10) ** -45
        assert abs(geometry.mean_offdiag(C) + mpmath.mpf(1) / 2) < mpmath.mpf(10) ** -45


def test_geometry_on_random_features_is_not_an_etf() -> None:
    V = np.random.default_rng(2).standard_normal((6, 4))
    C = geometry.cosines(V)
    assert abs(geometry.mean_offdiag(C) + 1 / 3) > 1e-3


@pytest.mark.parametrize("K, p", [(2, 1), (3, 2), (4, 4), (5, 10)])
def test_simplex_etf_gram(K: int, p: int) -> None:
    M = geometry.simplex_etf(K, p, np.random.default_rng(K))
    assert M.shape == (p, K)
    np.testing.assert_allclose(geometry.gram(M), geometry.etf_gram(K), atol=1e-14)


def test_simplex_etf_rejects_small_p() -> None:
    with pytest.raises(LPMInputError, match="p"):
        geometry.simplex_etf(4, 2)


def test_mean_offdiag_needs_two_indices() -> None:
    assert math.isnan(geometry.mean_offdiag(np.eye(3), [1]))


# -- problem -------------------------------------------------------------------------------------
def test_objective_matches_per_sample_sum_with_weights() -> None:
    rng = np.random.default_rng(3)
    problem = LPMProblem((2, 1, 3), 1.0, 1.0, p=3, weights=(1.0, 2.0, 0.5))
    W = rng.standard_normal((3, 3))
    H = [rng.standard_normal((n, 3)) for n in (2, 1, 3)]
    ce = cross_entropy()
    total = sum(w * ce(Hk @ W.T, np.full(len(Hk), k)).sum() for k, (w, Hk) in enumerate(zip((1.0, 2.0, 0.5), H)))
    assert problem.objective(W, H) == pytest.approx(total / (2 * 1 + 1 * 2 + 3 * 0.5), rel=1e-14)


def test_objective_means_equals_objective_for_collapsed_features() -> None:
    rng = np.random.default_rng(4)
    problem = LPMProblem((3, 1, 2), 1.0, 1.0, p=2)
    W, Hbar = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    H = [np.repeat(Hbar[k][None], n, axis=0) for k, n in enumerate((3, 1, 2))]
    assert problem.objective_means(W, Hbar) == pytest.approx(problem.objective(W, H), rel=1e-14)


def test_energies_and_slacks() -> None:
    problem = LPMProblem((1, 2), 2.0, 3.0, p=2)
    W = np.array([[1.0, 1.0], [0.0, 2.0]])  # (1/K) sum ||w||^2 = (2 + 4)/2 = 3
    H = [np.array([[1.0, 0.0]]), np.array([[0.0, 2.0], [0.0, 0.0]])]  # (1/2)(1 + 4/2) = 1.5
    assert problem.classifier_energy(W) == 3.0 and problem.feature_energy(H) == 1.5
    assert problem.constraint_slacks(W, H) == (-1.0, 1.5)


def test_fractions_and_two_size() -> None:
    problem = LPMProblem.two_size(5, 2, 4.0, 1.0, 1.0, n_B=2.0, w_r=3.0)
    assert problem.sizes == (8.0, 8.0, 2.0, 2.0, 2.0)
    np.testing.assert_allclose(problem.fractions(), np.array([8, 8, 6, 6, 6]) / 34)
    np.testing.assert_allclose(two_size_fractions(4, 1, math.inf), [1, 0, 0, 0])


@pytest.mark.parametrize("kwargs, parameter", [
    ({"sizes": (1,), "E_W": 1.0, "E_H": 1.0}, "K"),
    ({"sizes": (1, -2), "E_W": 1.0, "E_H": 1.0}, "n_2"),
    ({"sizes": (1, 1), "E_W": 0.0, "E_H": 1.0}, "E_W"),
    ({"sizes": (1, 1), "E_W": 1.0, "E_H": math.inf}, "E_H"),
    ({"sizes": (1, 1), "E_W": 1.0, "E_H": 1.0, "p": 0}, "p"),
    ({"sizes": (1, 1), "E_W": 1.0, "E_H": 1.0, "weights": (1.0,)}, "weights"),
])
def test_problem_validation_names_parameter(kwargs: dict, parameter: str) -> None:
    with pytest.raises(LPMInputError, match=parameter):
        LPMProblem(**kwargs)


def test_objective_rejects_wrong_feature_blocks() -> None:
    problem = LPMProblem((2, 2), 1.0, 1.0, p=2)
    with pytest.raises(LPMInputError, match=r"H\[1\]"):
        problem.objective(np.zeros((2, 2)), [np.zeros((2, 2)), np.zeros((3, 2))])


def test_split_features() -> None:
    blocks = split_features(np.arange(12.0).reshape(6, 2), (1, 3, 2))
    assert [b.shape for b in blocks] == [(1, 2), (3, 2), (2, 2)]
