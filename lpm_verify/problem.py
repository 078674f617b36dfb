"""The Layer-Peeled Model, Eq. 7, and its oversampling variant, Eq. 18.

    min_{W,H}  (1/N') sum_k w_k sum_{i<=n_k} L(W h_{k,i}, y_k)
    s.t.       (1/K) sum_k ||w_k||^2 <= E_W,
               (1/K) sum_k (1/n_k) sum_i ||h_{k,i}||^2 <= E_H,

with ``N' = sum_k w_k n_k``.  Plain Eq. 7 is ``w_k = 1``; Eq. 18 is ``w_k = w_r`` on the minority
classes.  ``W  # (K, p)`` has the classifiers as rows; features are a list of ``K`` arrays
``H[k]  # (n_k, p)`` (or one array ``# (K, n, p)`` in the balanced case).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import mpmath
import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import require
from lpm_verify.losses import SoftmaxLoss, cross_entropy


def positive(name: str, value: float) -> float:
    """``value`` if it is a finite number > 0; else LPMInputError naming ``name``."""
    require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
            name, "a finite number > 0", value)
    return value


def class_sizes(sizes: Any) -> tuple[float, ...]:
    """The class sizes ``n_1..n_K`` as a tuple, checked: K >= 2, every size finite and > 0."""
    sizes = tuple(sizes)
    require(len(sizes) >= 2, "K (number of classes)", ">= 2", len(sizes))
    for k, n in enumerate(sizes):
        positive(f"n_{k + 1} (class size)", n)
    return sizes


def check_dimension(p: int | None) -> None:
    """The feature dimension ``p``: None (as large as needed) or an integer >= 1."""
    if p is not None:
        require(isinstance(p, int) and p >= 1, "p", "an integer >= 1", p)


@dataclass(frozen=True)
class LPMProblem:
    """One instance of Eq. 7 (or Eq. 18 when ``weights`` is given).

    ``sizes`` are the class sizes ``n_k`` (positive; real values are allowed for the relaxed
    programs, whose objective only sees the fractions ``w_k n_k / N'``).  ``p`` is the feature
    dimension, ``None`` when a result does not fix it.
    """

    sizes: tuple[float, ...]
    E_W: float
    E_H: float
    p: int | None = None
    loss: SoftmaxLoss = field(default_factory=cross_entropy)
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        sizes = class_sizes(self.sizes)
        object.__setattr__(self, "sizes", sizes)
        positive("E_W", self.E_W)
        positive("E_H", self.E_H)
        check_dimension(self.p)
        if self.weights is not None:
            w = tuple(self.weights)
            require(len(w) == len(sizes), "weights", f"a list of K = {len(sizes)} numbers", w)
            for k, wk in enumerate(w):
                positive(f"weights[{k}]", wk)
            object.__setattr__(self, "weights", w)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def balanced(cls, K: int, n: float, E_W: float, E_H: float, **kw: Any) -> "LPMProblem":
        """``n_k = n`` for all ``K`` classes (Section 3)."""
        require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
        return cls((n,) * K, E_W, E_H, **kw)

    @classmethod
    def two_size(cls, K: int, K_A: int, R: float, E_W: float, E_H: float, n_B: float = 1.0,
                 w_r: float | None = None, **kw: Any) -> "LPMProblem":
        """``K_A`` majority classes of size ``n_A = R n_B`` and ``K - K_A`` of size ``n_B`` (Section 4.B).

        ``w_r`` is the oversampling rate of Eq. 18 (minority losses weighted by ``w_r``).
        ``R = inf`` has no minority examples: use :func:`two_size_fractions` for that limit.
        """
        require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
        require(isinstance(K_A, int) and 0 < K_A < K, "K_A", f"an integer in [1, K-1] = [1, {K - 1}]", K_A)
        require(isinstance(R, (int, float)) and math.isfinite(R) and R > 0, "R",
                "a finite number > 0 (R = inf: use two_size_fractions)", R)
        sizes = (R * n_B,) * K_A + (float(n_B),) * (K - K_A)
        weights = None if w_r is None else (1.0,) * K_A + (float(w_r),) * (K - K_A)
        return cls(sizes, E_W, E_H, weights=weights, **kw)

    # -- derived quantities -------------------------------------------------------------------
    @property
    def K(self) -> int:
        return len(self.sizes)

    @property
    def N(self) -> float:
        """``N' = sum_k w_k n_k`` (``N`` of Eq. 7 when there are no weights)."""
        w = self.weights or (1.0,) * self.K
        return float(sum(wk * nk for wk, nk in zip(w, self.sizes)))

    def fractions(self, mp: bool = False) -> np.ndarray:
        """Objective weight of each class, ``w_k n_k / N'`` (the coefficients of Eq. 15)."""
        w = self.weights or (1.0,) * self.K
        if mp:
            num = [mpmath.mpf(wk) * mpmath.mpf(nk) for wk, nk in zip(w, self.sizes)]
            total = sum(num)
            return np.array([x / total for x in num], dtype=object)
        num = np.array(w, dtype=float) * np.array(self.sizes, dtype=float)
        return num / num.sum()

    @property
    def is_balanced(self) -> bool:
        return len(set(self.sizes)) == 1 and (self.weights is None or len(set(self.weights)) == 1)

    def require_p(self, minimum: int, result: str) -> int:
        """The feature dimension, raising unless ``p >= minimum`` as ``result`` assumes."""
        require(self.p is not None and self.p >= minimum, "p", f">= {minimum} for {result}", self.p)
        return self.p  # type: ignore[return-value]

    # -- Eq. 7 / Eq. 18 -----------------------------------------------------------------------
    def _feature_blocks(self, H: Any) -> list[Any]:
        blocks = list(H)
        require(len(blocks) == self.K, "H", f"K = {self.K} blocks of features, one per class", len(blocks))
        for k, (Hk, nk) in enumerate(zip(blocks, self.sizes)):
            require(Hk.ndim == 2 and Hk.shape[0] == nk, f"H[{k}]",
                    f"an array of shape (n_{k + 1} = {nk:g}, p)", getattr(Hk, "shape", None))
        return blocks

    def objective(self, W: Any, H: Any) -> Any:
        """Objective of Eq. 7 (Eq. 18 with weights) for ``W  # (K, p)`` and features ``H[k]  # (n_k, p)``."""
        blocks = self._feature_blocks(H)
        w = self.weights or (1,) * self.K
        total = 0
        for k, Hk in enumerate(blocks):
            Z = Hk.dot(W.T)  # (n_k, K) logits
            total = total + w[k] * np.sum(self.loss(Z, np.full(Z.shape[0], k)))
        if bk.is_mp(W):
            return total / sum(mpmath.mpf(wk) * mpmath.mpf(nk) for wk, nk in zip(w, self.sizes))
        return total / self.N

    def objective_means(self, W: Any, Hbar: Any, mp: bool | None = None) -> Any:
        """Objective when every feature of class k equals ``Hbar[k]  # (K, p)``: ``sum_k pi_k L(W h_k, y_k)``.

        This is Eq. 15's objective in terms of (W, class means) and is defined for real ``n_k``.
        """
        mp = bk.is_mp(W) if mp is None else mp
        Z = Hbar.dot(W.T)  # (K, K): row k is the logit z_k of Eq. 15
        return np.sum(self.fractions(mp) * self.loss(Z, np.arange(self.K)))

    def classifier_energy(self, W: Any) -> Any:
        """``(1/K) sum_k ||w_k||^2``, the left side of the E_W constraint."""
        return np.sum(W * W) / self.K

    def feature_energy(self, H: Any) -> Any:
        """``(1/K) sum_k (1/n_k) sum_i ||h_{k,i}||^2``, the left side of the E_H constraint."""
        blocks = self._feature_blocks(H)
        return sum(np.sum(Hk * Hk) / Hk.shape[0] for Hk in blocks) / self.K

    def constraint_slacks(self, W: Any, H: Any) -> tuple[Any, Any]:
        """``(E_W - classifier_energy, E_H - feature_energy)``; both >= 0 iff feasible."""
        return self.E_W - self.classifier_energy(W), self.E_H - self.feature_energy(H)


def two_size_fractions(K: int, K_A: int, R: float) -> np.ndarray:
    """Class fractions ``n_k / N`` of the two-size profile, including the limit ``R = inf`` (zero minority weight)."""
    require(isinstance(K_A, int) and 0 < K_A < K, "K_A", f"an integer in [1, K-1] = [1, {K - 1}]", K_A)
    require(R > 0, "R", "> 0 (inf allowed)", R)
    if math.isinf(R):
        return np.array([1.0 / K_A] * K_A + [0.0] * (K - K_A))
    n = np.array([R] * K_A + [1.0] * (K - K_A))
    return n / n.sum()


def split_features(H: Any, sizes: Sequence[int]) -> list[Any]:
    """Split stacked features ``# (sum n_k, p)`` into per-class blocks ``H[k]  # (n_k, p)``."""
    cuts = np.cumsum([int(n) for n in sizes])[:-1]
    return np.split(H, cuts)
