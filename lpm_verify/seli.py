"""The simplex-encoded label matrix (SEL) of Thrampoulidis, Kini, Vakilian, Behnia, "Imbalance Trouble:
Revisiting Neural-Collapse Geometry" (arXiv 2208.05512): for one-hot labels ``Y  # (K, N)``,

    Z_SEL = (I_K - (1/K) 1 1^T) Y,

column i is ``e_{y_i} - 1/K``: every margin ``z_{y_i} - z_c`` equals 1 and every column sums to 0.  Their
SELI statement (read: abstract only) is that, with vanishing regularization, the logit matrix of the
unconstrained-features model with cross-entropy interpolates this matrix up to scale, whatever the class
sizes.  A class-collapsed logit matrix has one column per class; its SEL form is ``I_K - (1/K) 1 1^T``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from lpm_verify.errors import require


def one_hot(sizes: Sequence[int]) -> np.ndarray:
    """``Y  # (K, N)``: ``n_k`` columns ``e_k`` per class, in class order."""
    require(all(int(n) == n and n >= 1 for n in sizes), "sizes", "positive integers", sizes)
    return np.repeat(np.eye(len(sizes)), [int(n) for n in sizes], axis=1)


def sel_matrix(Y: np.ndarray) -> np.ndarray:
    """``(I - (1/K) 1 1^T) Y`` for a label matrix ``Y  # (K, N)``."""
    K = Y.shape[0]
    return (np.eye(K) - np.full((K, K), 1.0 / K)) @ Y


def direction_distance(Z: np.ndarray, target: np.ndarray) -> float:
    """``|| Z/||Z||_F - target/||target||_F ||_F``: how far the direction of ``Z`` is from ``target``'s."""
    nz, nt = np.linalg.norm(Z), np.linalg.norm(target)
    require(nz > 0 and nt > 0, "Z, target", "nonzero matrices", (nz, nt))
    return float(np.linalg.norm(Z / nz - target / nt))
