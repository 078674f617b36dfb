"""Imbalanced training subsets of Section 4.C: K_A majority classes of n_A examples, K_B minority of n_B.

``n_B = floor(n_A / R)`` (``R = inf``: the minority classes get no training example, as in the
paper's ``R = inf`` column).  Classes are relabelled by their position in ``class_order`` so that
labels ``0..K_A-1`` are the majority and ``K_A..K-1`` the minority, which is the layout every
metric of :mod:`lpm_verify.metrics` assumes; the original labels are ``class_order[label]``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lpm_verify.errors import require

# The paper (Section 4.C) does not say which classes are the majority; we take the dataset's label
# order, so the first K_A labels (FashionMNIST: T-shirt/top, Trouser, Pullover, ...) are majority.
PAPER_CLASS_ORDER: tuple[int, ...] = tuple(range(10))


@dataclass(frozen=True)
class Subset:
    """Chosen training examples: ``indices  # (N,)`` into the full training set, new ``labels  # (N,)``."""

    indices: np.ndarray
    labels: np.ndarray
    class_order: tuple[int, ...]
    K_A: int
    n_A: int
    n_B: int

    @property
    def K(self) -> int:
        return len(self.class_order)

    @property
    def counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.K)


def minority_size(n_A: int, R: float) -> int:
    """``n_B = floor(n_A / R)``; 0 for ``R = inf``; at least 1 for finite ``R <= n_A``."""
    require(isinstance(R, (int, float)) and (R >= 1), "R", "a number >= 1 or inf", R)
    if math.isinf(R):
        return 0
    require(R <= n_A, "R", f"<= n_A = {n_A} (so n_B = n_A/R >= 1) or inf (no minority examples)", R)
    return int(math.floor(n_A / R + 1e-9))


def relabel(y: np.ndarray, class_order: tuple[int, ...]) -> np.ndarray:
    """Map original labels to positions in ``class_order`` (labels not in it are an error)."""
    lut = np.full(max(int(y.max()), max(class_order)) + 1, -1, dtype=np.int64)
    lut[list(class_order)] = np.arange(len(class_order))
    out = lut[y]
    require(bool(np.all(out >= 0)), "class_order", "a permutation of all dataset labels", class_order)
    return out


def imbalanced_subset(y_train: np.ndarray, K_A: int, n_A: int, R: float, seed: int,
                      class_order: tuple[int, ...] = PAPER_CLASS_ORDER) -> Subset:
    """Sample ``n_A`` examples from each of the first ``K_A`` classes of ``class_order`` and
    ``n_B = n_A/R`` from each other class, without replacement, with ``numpy`` seed ``seed``."""
    K = len(class_order)
    require(sorted(class_order) == list(range(K)), "class_order", f"a permutation of 0..{K - 1}", class_order)
    require(isinstance(K_A, int) and 1 <= K_A < K, "K_A", f"an integer in [1, {K - 1}]", K_A)
    available = np.bincount(y_train, minlength=K)
    require(isinstance(n_A, int) and 1 <= n_A <= int(available[list(class_order[:K_A])].min()), "n_majority",
            f"an integer in [1, {int(available[list(class_order[:K_A])].min())}] (smallest majority class)", n_A)
    n_B = minority_size(n_A, R)
    rng = np.random.default_rng(seed)
    chosen: list[np.ndarray] = []
    for position, cls in enumerate(class_order):
        n = n_A if position < K_A else n_B
        pool = np.flatnonzero(y_train == cls)
        chosen.append(np.sort(rng.choice(pool, size=n, replace=False)) if n < len(pool) else pool)
    indices = np.concatenate(chosen).astype(np.int64)
    return Subset(indices, relabel(y_train[indices], class_order), tuple(class_order), K_A, n_A, n_B)
