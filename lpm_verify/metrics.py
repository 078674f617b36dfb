"""Collapse metrics of trained networks: NC1–NC4, between-class cosines, norm variation (Table 1).

Pure numpy functions: arrays in, numbers out.  Conventions as in Eq. 7: ``W  # (K, p)`` holds the
classifiers as rows, ``H  # (N, p)`` one feature vector per row with integer labels ``y  # (N,)``
in ``0..K-1``.  The neural-collapse properties NC1–NC4 are those of Papyan, Han and Donoho (2020),
reference (1) of the paper; the paper restates them in Section 3.B.

Class imbalance makes "the global mean" ambiguous, so every function that centres takes
``balanced``: ``True`` uses the class-balanced mean ``(1/K) sum_k h_k`` and averages the
within-class covariance over classes, ``False`` uses the sample-weighted mean and averages the
within-class covariance over samples (Papyan et al.'s balanced setting makes the two equal).
"""
from __future__ import annotations

import numpy as np

from lpm_verify.errors import require
from lpm_verify.geometry import centering_matrix, cosines


def _check_features(H: np.ndarray, y: np.ndarray, K: int) -> None:
    require(H.ndim == 2, "H", "a 2-D array (N, p) of features, one per row", H.shape)
    require(y.shape == (H.shape[0],), "y", f"a 1-D label array of length N = {H.shape[0]}", y.shape)
    counts = np.bincount(y, minlength=K)
    require(len(counts) == K and np.all(counts > 0), "y",
            f"labels in 0..{K - 1} with every class present", counts.tolist())


def class_means(H: np.ndarray, y: np.ndarray, K: int) -> np.ndarray:
    """Class means ``h_k = (1/n_k) sum_i h_{k,i}`` as rows: ``# (K, p)`` (Section 4.A)."""
    _check_features(H, y, K)
    sums = np.zeros((K, H.shape[1]))
    np.add.at(sums, y, H)
    return sums / np.bincount(y, minlength=K)[:, None]


def global_mean(H: np.ndarray, y: np.ndarray, K: int, balanced: bool = True) -> np.ndarray:
    """Global mean ``# (p,)``: class-balanced ``(1/K) sum_k h_k`` or sample-weighted ``(1/N) sum h``."""
    return class_means(H, y, K).mean(axis=0) if balanced else H.mean(axis=0)


def within_class_covariance(H: np.ndarray, y: np.ndarray, K: int, balanced: bool = True) -> np.ndarray:
    """``Sigma_W  # (p, p)``: average of ``(h - h_k)(h - h_k)^T`` over classes or over samples."""
    M = class_means(H, y, K)  # (K, p)
    D = H - M[y]  # (N, p)
    if not balanced:
        return D.T @ D / H.shape[0]
    counts = np.bincount(y, minlength=K).astype(float)
    Dw = D / np.sqrt(counts[y] * K)[:, None]  # each class contributes (1/K) of its own average
    return Dw.T @ Dw


def between_class_covariance(H: np.ndarray, y: np.ndarray, K: int, balanced: bool = True) -> np.ndarray:
    """``Sigma_B = (1/K) sum_k (h_k - h_G)(h_k - h_G)^T  # (p, p)``."""
    Mc = class_means(H, y, K) - global_mean(H, y, K, balanced)  # (K, p)
    return Mc.T @ Mc / K


def nc1(H: np.ndarray, y: np.ndarray, K: int, balanced: bool = True) -> float:
    """NC1, within-class variability collapse: ``Tr(Sigma_W Sigma_B^+) / K`` (Papyan et al. 2020).

    Zero exactly when every feature equals its class mean.
    """
    Sw = within_class_covariance(H, y, K, balanced)
    Sb = between_class_covariance(H, y, K, balanced)
    return float(np.trace(Sw @ np.linalg.pinv(Sb, hermitian=True)) / K)


def etf_distance(V: np.ndarray) -> float:
    """``|| G/||G||_F - C/||C||_F ||_F`` for the Gram ``G = V V^T`` of the rows ``V  # (K, p)``.

    ``C = I_K - 11^T/K`` is the simplex ETF Gram matrix up to scale (Definition 1), so the value
    is zero exactly when the rows form a simplex ETF of any scale (equal norms and pairwise
    cosine ``-1/(K-1)``, Eq. 10), and at most 2.
    """
    require(V.ndim == 2 and V.shape[0] >= 2, "V", "a 2-D array (K, p) with K >= 2 rows", V.shape)
    G = V @ V.T
    C = centering_matrix(V.shape[0])
    return float(np.linalg.norm(G / np.linalg.norm(G) - C / np.linalg.norm(C)))


def nc2(H: np.ndarray, y: np.ndarray, K: int, balanced: bool = True) -> float:
    """NC2 for the features: ETF distance (:func:`etf_distance`) of the globally centred class means."""
    return etf_distance(class_means(H, y, K) - global_mean(H, y, K, balanced))


def nc3(W: np.ndarray, H: np.ndarray, y: np.ndarray, balanced: bool = True) -> float:
    """NC3, self-duality: ``|| W/||W||_F - M/||M||_F ||_F^2`` with ``M`` the centred class means as rows.

    Zero exactly when ``w_k`` is the same positive multiple of ``h_k - h_G`` for every k.
    """
    K = W.shape[0]
    Mc = class_means(H, y, K) - global_mean(H, y, K, balanced)  # (K, p)
    require(W.shape == Mc.shape, "W", f"shape (K, p) = {Mc.shape}", W.shape)
    return float(np.linalg.norm(W / np.linalg.norm(W) - Mc / np.linalg.norm(Mc)) ** 2)


def nc4(W: np.ndarray, H: np.ndarray, y: np.ndarray, b: np.ndarray | None = None) -> float:
    """NC4, simplification to nearest class centre: fraction of samples where ``argmax_k (W h + b)_k``
    differs from ``argmin_k ||h - h_k||`` (Papyan et al. 2020).  Uses the training labels only to
    form the class means."""
    K = W.shape[0]
    M = class_means(H, y, K)  # (K, p)
    logits = H @ W.T + (0.0 if b is None else b)  # (N, K)
    d2 = (H * H).sum(1)[:, None] - 2.0 * H @ M.T + (M * M).sum(1)[None, :]  # (N, K)
    return float(np.mean(np.argmax(logits, axis=1) != np.argmin(d2, axis=1)))


def cosine_matrix(V: np.ndarray) -> np.ndarray:
    """Pairwise cosines of the rows of ``V  # (K, p)``: ``# (K, K)``."""
    n = np.linalg.norm(V, axis=1)
    require(bool(np.all(n > 0)), "V", "rows of nonzero norm (a cosine needs a direction)", n.tolist())
    return cosines(V, axis=1)


def _offdiag(C: np.ndarray, idx: np.ndarray) -> np.ndarray:
    sub = C[np.ix_(idx, idx)]
    return sub[~np.eye(len(idx), dtype=bool)]


def between_class_cosines(W: np.ndarray, K_A: int) -> dict[str, float]:
    """Average and standard deviation of the pairwise cosines of the classifiers (Figs. 2, 4).

    Classes ``0..K_A-1`` are the majority, ``K_A..K-1`` the minority (Section 4.B).  Keys:
    ``cos_all``, ``cos_majority``, ``cos_minority`` (the paper's "average between-minority-class
    cosine") and ``*_std`` (population std over pairs); NaN where a group has fewer than two classes.
    """
    K = W.shape[0]
    require(isinstance(K_A, int) and 0 <= K_A <= K, "K_A", f"an integer in [0, K] = [0, {K}]", K_A)
    C = cosine_matrix(W)
    out: dict[str, float] = {}
    for name, idx in (("all", np.arange(K)), ("majority", np.arange(K_A)), ("minority", np.arange(K_A, K))):
        vals = _offdiag(C, idx) if len(idx) >= 2 else np.array([])
        out[f"cos_{name}"] = float(vals.mean()) if vals.size else float("nan")
        out[f"cos_{name}_std"] = float(vals.std()) if vals.size else float("nan")
    return out


def norm_variation(W: np.ndarray, classes: np.ndarray) -> float:
    """``Std(||w_k||) / Avg(||w_k||)`` over the given classes (Table 1; population std)."""
    n = np.linalg.norm(W[np.asarray(classes)], axis=1)
    require(n.size >= 1 and n.mean() > 0, "classes", "a nonempty set of classes with nonzero classifiers",
            np.asarray(classes).tolist())
    return float(n.std() / n.mean())


def constraint_energies(W: np.ndarray, H: np.ndarray, y: np.ndarray, centre: np.ndarray | None = None
                        ) -> tuple[float, float]:
    """``(E_W, E_H)`` that make both constraints of Eq. 7 active for this ``(W, H)``.

    ``E_W = (1/K) sum_k ||w_k||^2`` and ``E_H = (1/K) sum_k (1/n_k) sum_i ||h_{k,i} - centre||^2``
    (``centre`` None: uncentred, exactly the left-hand sides of Eq. 7 and Eq. 18).
    """
    K = W.shape[0]
    _check_features(H, y, K)
    Hc = H if centre is None else H - centre
    sq = np.zeros(K)
    np.add.at(sq, y, (Hc * Hc).sum(1))
    E_H = float(np.mean(sq / np.bincount(y, minlength=K)))
    E_W = float(np.mean((W * W).sum(1)))
    return E_W, E_H
