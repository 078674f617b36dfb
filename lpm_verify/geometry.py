"""Simplex equiangular tight frames (Definition 1), Gram matrices, pairwise cosines and norms.

Column convention throughout: a frame ``M  # (p, K)`` holds one vector per column, as in
Definition 1; a classifier ``W  # (K, p)`` holds one vector per row, as in Eq. 7.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import require


def centering_matrix(K: int) -> np.ndarray:
    """``I_K - (1/K) 1 1^T`` in float64."""
    return np.eye(K) - np.full((K, K), 1.0 / K)


def partial_orthogonal(p: int, K: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """``P  # (p, K)`` with ``P^T P = I_K`` (needs ``p >= K``); random (Haar) if ``rng`` is given."""
    require(p >= K, "p", f">= K = {K} for a partial orthogonal P of Definition 1", p)
    if rng is None:
        return np.eye(p, K)
    Q, R = np.linalg.qr(rng.standard_normal((p, K)))
    return Q * np.sign(np.diag(R))


def simplex_etf(K: int, p: int | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
    """The K-simplex ETF of Definition 1, ``M = sqrt(K/(K-1)) P (I_K - 11^T/K)  # (p, K)``.

    ``p`` defaults to ``K``.  For ``p = K - 1`` (the footnote to Definition 1) ``P`` is chosen with
    ``[P^T, 1_K/sqrt(K)]`` orthogonal, which gives the same Gram matrix.  Columns have unit norm
    and pairwise cosine ``-1/(K-1)`` (Eq. 10).
    """
    require(K >= 2, "K", ">= 2", K)
    p = K if p is None else p
    require(p >= K - 1, "p", f">= K - 1 = {K - 1}", p)
    scale = np.sqrt(K / (K - 1))
    if p >= K:
        return scale * partial_orthogonal(p, K, rng) @ centering_matrix(K)
    # p = K - 1: orthonormal basis of the complement of 1_K, rotated if rng is given.
    basis = np.linalg.svd(centering_matrix(K))[0][:, : K - 1]  # (K, K-1)
    rot = partial_orthogonal(K - 1, K - 1, rng)
    return scale * rot @ basis.T @ centering_matrix(K)


def etf_gram(K: int) -> np.ndarray:
    """Gram matrix ``M^T M = K/(K-1) (I_K - 11^T/K)`` of Definition 1 in float64."""
    return K / (K - 1) * centering_matrix(K)


def gram(V: Any) -> Any:
    """Gram matrix of the columns of ``V  # (p, K)``."""
    return V.T.dot(V)


def norms(V: Any, axis: int = 0) -> Any:
    """Euclidean norms of the columns (``axis=0``) or rows (``axis=1``) of ``V``."""
    return bk.sqrt(np.sum(V * V, axis=axis))


def cosines(V: Any, axis: int = 0) -> Any:
    """Pairwise cosine matrix of the columns (``axis=0``) or rows (``axis=1``) of ``V``."""
    G = gram(V) if axis == 0 else V.dot(V.T)
    d = bk.sqrt(np.diagonal(G).copy())
    return G / np.outer(d, d)


def mean_offdiag(C: Any, idx: Any = None) -> Any:
    """Average of the off-diagonal entries of ``C`` restricted to the index set ``idx`` (all if None).

    Undefined (NaN) for fewer than two indices: the paper's "average between-minority cosine" has
    no pairs to average when ``K_B = 1``.
    """
    idx = np.arange(C.shape[0]) if idx is None else np.asarray(idx)
    m = len(idx)
    if m < 2:
        return float("nan")
    sub = C[np.ix_(idx, idx)]
    return (np.sum(sub) - np.sum(np.diagonal(sub))) / (m * (m - 1))
