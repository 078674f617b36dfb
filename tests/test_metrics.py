"""lpm_verify.metrics: exact on a synthetic simplex ETF (error 0), positive off it (negative controls)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lpm_verify import metrics as M
from lpm_verify.errors import LPMInputError
from lpm_verify.geometry import simplex_etf

K, P = 6, 9


def collapsed(counts, scale=2.0, offset_scale=1.5, seed=0):
    """Features equal to their class means, which form a scaled simplex ETF around a global offset."""
    rng = np.random.default_rng(seed)
    means = scale * simplex_etf(K, P, rng).T  # (K, p) rows: ETF
    offset = offset_scale * rng.standard_normal(P)
    y = np.repeat(np.arange(K), counts)
    return means + offset, means, y, (means + offset)[y]


def test_etf_collapse_gives_zero_errors():
    shifted, means, y, H = collapsed([5, 5, 5, 1, 1, 1])
    W = 0.7 * means  # self-dual classifier, NC3
    offset = shifted[0] - means[0]
    assert M.nc1(H, y, K) == pytest.approx(0.0, abs=1e-20)
    assert M.nc2(H, y, K) == pytest.approx(0.0, abs=1e-12)   # float64 rounding of O(1) entries
    assert M.nc3(W, H, y) == pytest.approx(0.0, abs=1e-24)
    assert M.nc4(W, H, y, b=-W @ offset) == 0.0  # the bias that removes the global offset
    assert M.nc4(W, H, y) > 0  # without it the offset shifts the logits: NC4 sees the disagreement
    assert M.etf_distance(W) == pytest.approx(0.0, abs=1e-12)
    cos = M.between_class_cosines(W, K_A=3)
    for group in ("all", "majority", "minority"):
        assert cos[f"cos_{group}"] == pytest.approx(-1 / (K - 1), abs=1e-14)   # Eq. 10
        assert cos[f"cos_{group}_std"] == pytest.approx(0.0, abs=1e-14)
    assert M.norm_variation(W, np.arange(3, K)) == pytest.approx(0.0, abs=1e-14)


def test_imbalanced_etf_needs_the_class_balanced_mean():
    """Sample-weighted centring of an imbalanced collapsed configuration is off the ETF: NC2 > 0."""
    _, means, y, H = collapsed([50, 50, 50, 1, 1, 1])
    assert M.nc2(H, y, K, balanced=True) == pytest.approx(0.0, abs=1e-12)
    assert M.nc2(H, y, K, balanced=False) > 0.1
    assert M.nc3(0.7 * means, H, y, balanced=False) > 0.01


def test_random_features_have_positive_errors():
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(K), 40)
    H = rng.standard_normal((len(y), P))
    W = rng.standard_normal((K, P))
    assert M.nc1(H, y, K) > 1.0
    assert M.nc2(H, y, K) > 0.05
    assert M.nc3(W, H, y) > 0.1
    assert M.nc4(W, H, y) > 0.1
    assert M.between_class_cosines(W, 3)["cos_minority_std"] > 0


def test_perturbed_etf_is_detected():
    """Negative control: move one class mean by 5% and every collapse metric leaves zero."""
    _, means, y, H = collapsed([5] * K)
    means2 = means.copy()
    means2[0] *= 1.05
    H2 = means2[y]
    assert M.nc2(H2, y, K) > 1e-3
    assert M.etf_distance(means2) > 1e-3
    assert M.nc3(means, H2, y) > 1e-4
    assert M.norm_variation(means2, np.arange(K)) > 1e-3


def test_nc1_of_known_two_class_configuration():
    """Two classes on a line: means +-1, within-class offsets +-s: Tr(Sw Sb^+)/K = s^2 / (2 * 1)."""
    s = 0.3
    H = np.array([[1 + s], [1 - s], [-1 + s], [-1 - s]])
    y = np.array([0, 0, 1, 1])
    assert M.nc1(H, y, 2) == pytest.approx(s ** 2 / 1.0 / 2, rel=1e-14)  # Sw = s^2, Sb = 1, K = 2


def test_constraint_energies_are_the_constraint_left_hand_sides():
    """Eq. 7: E_W = mean ||w_k||^2, E_H = (1/K) sum_k mean_i ||h_ki||^2 (class-balanced over i)."""
    W = np.array([[3.0, 4.0], [0.0, 1.0]])
    H = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 0.0]])
    y = np.array([0, 0, 1])
    E_W, E_H = M.constraint_energies(W, H, y)
    assert E_W == 13.0
    assert E_H == ((1 + 9) / 2 + 4) / 2
    _, E_Hc = M.constraint_energies(W, H, y, centre=np.array([1.0, 0.0]))
    assert E_Hc == ((0 + 10) / 2 + 1) / 2


def test_nc4_counts_disagreements():
    H = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    y = np.array([0, 0, 1, 1])
    W_swapped = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert M.nc4(W_swapped, H, y) == 1.0
    assert M.nc4(W_swapped.T @ np.array([[0, 1], [1, 0]]), H, y) == 0.0


@settings(deadline=None, derandomize=True, max_examples=25)
@given(scale=st.floats(0.1, 50), seed=st.integers(0, 10_000))
def test_collapse_metrics_are_scale_invariant(scale, seed):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), 10)
    H = rng.standard_normal((40, 5))
    W = rng.standard_normal((4, 5))
    assert M.nc1(scale * H, y, 4) == pytest.approx(M.nc1(H, y, 4), rel=1e-8)
    assert M.nc2(scale * H, y, 4) == pytest.approx(M.nc2(H, y, 4), rel=1e-8, abs=1e-12)
    assert M.nc3(scale * W, H, y) == pytest.approx(M.nc3(W, H, y), rel=1e-8, abs=1e-12)


def test_bad_input_names_the_parameter():
    with pytest.raises(LPMInputError, match="y must be labels in 0..2 with every class present"):
        M.class_means(np.zeros((4, 2)), np.array([0, 0, 1, 1]), 3)
    with pytest.raises(LPMInputError, match="V must be"):
        M.cosine_matrix(np.zeros((3, 2)))
