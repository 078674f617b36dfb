"""experiments.subsets: the imbalanced subsets of Section 4.C (counts, seeding, relabelling)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.subsets import imbalanced_subset, minority_size, relabel
from lpm_verify.errors import LPMInputError

Y = np.repeat(np.arange(10), 60)[np.random.default_rng(0).permutation(600)]  # 60 per class, shuffled


@pytest.mark.parametrize("K_A, R, n_B", [(3, 1, 50), (5, 10, 5), (7, 50, 1), (5, math.inf, 0), (3, 3, 16)])
def test_counts(K_A, R, n_B):
    s = imbalanced_subset(Y, K_A, 50, R, seed=1)
    assert s.n_B == n_B == minority_size(50, R)
    assert s.counts.tolist() == [50] * K_A + [n_B] * (10 - K_A)
    assert len(np.unique(s.indices)) == len(s.indices)            # without replacement
    np.testing.assert_array_equal(s.labels, relabel(Y[s.indices], s.class_order))


def test_reproducible_and_seeded():
    a, b = imbalanced_subset(Y, 5, 40, 10, seed=3), imbalanced_subset(Y, 5, 40, 10, seed=3)
    np.testing.assert_array_equal(a.indices, b.indices)
    c = imbalanced_subset(Y, 5, 40, 10, seed=4)
    assert not np.array_equal(a.indices, c.indices)


def test_class_order_decides_the_majority():
    order = (9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
    s = imbalanced_subset(Y, 2, 30, 10, seed=0, class_order=order)
    original = Y[s.indices]
    assert np.bincount(original, minlength=10)[[9, 8]].tolist() == [30, 30]
    assert np.bincount(original, minlength=10)[:8].tolist() == [3] * 8
    assert set(s.labels[original == 9]) == {0}                     # relabelled: majority first


def test_full_class_uses_every_example():
    s = imbalanced_subset(Y, 5, 60, 1, seed=0)
    assert len(s.indices) == 600


@pytest.mark.parametrize("kwargs, message", [
    (dict(K_A=5, n_A=50, R=51), "R must be <= n_A = 50"),
    (dict(K_A=5, n_A=50, R=0.5), "R must be a number >= 1"),
    (dict(K_A=10, n_A=50, R=2), "K_A must be an integer in"),
    (dict(K_A=5, n_A=61, R=2), "n_majority must be an integer in"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(LPMInputError, match=message):
        imbalanced_subset(Y, seed=0, **kwargs)
