"""The penalized Layer-Peeled Model: the regularized training objective that the paper's Eqs. 3-4
start from before the Lagrangian argument of Section 3 replaces the penalties by the constraints of
Eq. 7.  With class sizes ``n_k`` and ``N = sum_k n_k``::

    min_{W,H}  (1/N) sum_k sum_i CE(W h_{k,i}, k) + (lambda_W/2) ||W||_F^2
               + (lambda_H/2) (1/N) sum_k sum_i ||h_{k,i}||^2

(the feature penalty is the per-example average, as weight decay on a per-example feature would be;
the CLI's normalization).  Hong & Ling (arXiv 2309.09725) and Dang et al. (arXiv 2301.00437) put it on
the sum, ``(lambda_H/2) sum ||h||^2``: ``feature_penalty="sum"`` takes that form, which is the mean form with
``lambda_H(mean) = N lambda_H(sum)`` (:attr:`PenalizedLPM.mean_lambda_H`).

Convex form.  For any ``Y`` and ``p >= rank Y``,

    min_{A B = Y} (alpha/2) ||A||_F^2 + (beta/2) ||B||_F^2 = sqrt(alpha beta) ||Y||_*          (V)

(``||Y||_* = tr(U^T A B V) <= ||A||_F ||B||_F <= (t^2 ||A||^2 + ||B||^2 / t^2)/2`` for every ``t > 0``;
equality for the balanced SVD factors ``A = c U S^{1/2}``, ``B = S^{1/2} V^T / c``, ``c^4 = beta/alpha``).
With the logit matrix ``Z_full = W H  # (K, N)`` and ``(alpha, beta) = (lambda_W, lambda_H/N)``, the model
is exactly ``min (1/N) sum CE(Z_full) + sqrt(lambda_W lambda_H / N) ||Z_full||_*`` whenever ``p >= K``
(``rank Z_full <= K``).  The objective is convex in ``Z_full`` and invariant under permuting the examples
of a class, so it has a minimizer whose columns are equal within each class (within-class collapse:
averaging a class's columns does not increase it).  With ``Z  # (K, K)``, column ``Z[:, k] = W h_k`` the
logits of class k, and ``pi_k = n_k / N``, ``||Z_full||_* = sqrt(N) ||Z diag(sqrt(pi))||_*``, hence

    min_Z  sum_k pi_k CE(Z[:, k], k) + c ||Z diag(sqrt(pi))||_*,     c = sqrt(lambda_W lambda_H).   (P)

So the optimum depends on ``(lambda_W, lambda_H)`` only through their product, and a minority class's
feature is penalized with weight ``pi_k`` (not ``1/K`` as in Eq. 7's per-class feature budget).
For ``p < K`` (P) is a relaxation (a lower bound).  ``Z = 0`` is optimal iff
``c >= ||diag-scaled gradient at 0||_2``, e.g. ``c >= 1/sqrt(K)`` for balanced classes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from lpm_verify.errors import require
from lpm_verify.losses import cross_entropy
from lpm_verify.problem import check_dimension, class_sizes, positive


@dataclass(frozen=True)
class PenalizedLPM:
    """One instance of the penalized model (module docstring) with cross-entropy loss.

    ``sizes`` are the class sizes ``n_k`` (positive; real values are allowed for the convex form
    (P), which only sees ``pi_k = n_k / N``); ``p`` the feature dimension, ``None`` when not fixed.
    """

    sizes: tuple[float, ...]
    lambda_W: float
    lambda_H: float
    p: int | None = None
    lambda_b: float | None = None  # last-layer bias: None none, 0 free, > 0 penalty (lambda_b/2)||b||^2
    feature_penalty: str = "mean"  # "mean": (lambda_H/2)(1/N) sum ||h||^2; "sum": (lambda_H/2) sum ||h||^2

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", class_sizes(self.sizes))
        positive("lambda_W", self.lambda_W)
        positive("lambda_H", self.lambda_H)
        check_dimension(self.p)
        require(self.feature_penalty in ("mean", "sum"), "feature_penalty", "'mean' or 'sum'", self.feature_penalty)

    @property
    def mean_lambda_H(self) -> float:
        """``lambda_H`` of the mean form: itself for ``"mean"``, ``N lambda_H`` for ``"sum"``."""
        return self.lambda_H * (self.N if self.feature_penalty == "sum" else 1.0)

    @classmethod
    def two_size(cls, K: int, K_A: int, R: float, lambda_W: float, lambda_H: float, n_B: float = 1.0,
                 **kw: Any) -> "PenalizedLPM":
        """``K_A`` classes of size ``R n_B`` and ``K - K_A`` of size ``n_B`` (Section 4.B's family)."""
        require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
        require(isinstance(K_A, int) and 0 < K_A < K, "K_A", f"an integer in [1, K-1] = [1, {K - 1}]", K_A)
        require(isinstance(R, (int, float)) and math.isfinite(R) and R > 0, "R", "a finite number > 0", R)
        return cls((R * n_B,) * K_A + (float(n_B),) * (K - K_A), lambda_W, lambda_H, **kw)

    @property
    def K(self) -> int:
        return len(self.sizes)

    @property
    def N(self) -> float:
        return float(sum(self.sizes))

    def fractions(self) -> np.ndarray:
        """``pi_k = n_k / N``  # (K,)."""
        n = np.asarray(self.sizes, dtype=float)
        return n / n.sum()

    @property
    def nuclear_weight(self) -> float:
        """``c = sqrt(lambda_W lambda_H)``, the weight of ``||Z diag(sqrt(pi))||_*`` in (P)."""
        return math.sqrt(self.lambda_W * self.mean_lambda_H)

    def objective(self, W: np.ndarray, H: list[np.ndarray]) -> float:
        """The penalized objective for ``W  # (K, p)`` and features ``H[k]  # (n_k, p)``."""
        require(len(H) == self.K, "H", f"K = {self.K} blocks of features, one per class", len(H))
        loss = cross_entropy()
        total = 0.0
        sq = 0.0
        for k, Hk in enumerate(H):
            require(Hk.ndim == 2 and Hk.shape[0] == self.sizes[k], f"H[{k}]",
                    f"an array of shape (n_{k + 1} = {self.sizes[k]:g}, p)", getattr(Hk, "shape", None))
            total += float(np.sum(loss(Hk @ W.T, np.full(Hk.shape[0], k))))
            sq += float(np.sum(Hk * Hk))
        return total / self.N + self.lambda_W / 2 * float(np.sum(W * W)) + self.mean_lambda_H / 2 * sq / self.N

    def objective_means(self, W: np.ndarray, Hbar: np.ndarray) -> float:
        """The objective when every feature of class k equals ``Hbar[k]  # (K, p)``."""
        pi = self.fractions()
        loss = cross_entropy()
        ce = loss(Hbar @ W.T, np.arange(self.K))
        return float(np.sum(pi * ce) + self.lambda_W / 2 * np.sum(W * W)
                     + self.mean_lambda_H / 2 * np.sum(pi * np.sum(Hbar * Hbar, axis=1)))

    def convex_objective(self, Z: np.ndarray) -> float:
        """(P) at ``Z  # (K, K)`` (column k = logits of class k)."""
        pi = self.fractions()
        L = Z.T  # row k = logits of class k
        zmax = L.max(axis=1, keepdims=True)
        lse = zmax[:, 0] + np.log(np.exp(L - zmax).sum(axis=1))
        nuc = float(np.linalg.svd(Z * np.sqrt(pi)[None, :], compute_uv=False).sum())
        return float(np.sum(pi * (lse - np.diag(L)))) + self.nuclear_weight * nuc

    def factor(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The minimizing factors of (V): ``(W  # (K, K), Hbar  # (K, K))`` with ``W Hbar^T = Z`` and
        penalty ``c ||Z diag(sqrt(pi))||_*`` (``p = K``; classifiers are the rows of ``W``)."""
        pi = self.fractions()
        U, S, Vt = np.linalg.svd(Z * np.sqrt(pi)[None, :])
        scale = (self.mean_lambda_H / self.lambda_W) ** 0.25
        W = U * (scale * np.sqrt(S))[None, :]
        Htil = (np.sqrt(S) / scale)[:, None] * Vt  # (K, K) columns sqrt(pi_k) h_k
        return W, (Htil / np.sqrt(pi)[None, :]).T.copy()


def balance_lambda_H(lambda_W: float, classifier_sq_norm: float, mean_feature_sq_norm: float) -> float:
    """``lambda_H`` from the balance relation of every stationary point of the penalized model.

    The loss only sees ``W H``, so ``t -> (W t, H / t)`` leaves it unchanged; stationarity at ``t = 1``
    of ``(lambda_W/2) t^2 ||W||^2 + (lambda_H/2) t^-2 mean_i ||h_i||^2`` gives
    ``lambda_W ||W||_F^2 = lambda_H mean_i ||h_i||^2``.
    """
    positive("lambda_W", lambda_W)
    positive("||W||_F^2", classifier_sq_norm)
    positive("mean ||h||^2", mean_feature_sq_norm)
    return lambda_W * classifier_sq_norm / mean_feature_sq_norm


def balanced_product(K: Any, margin: Any, exp: Callable[[Any], Any] = math.exp) -> Any:
    """``lambda_W lambda_H`` of the balanced (``pi_k = 1/K``) optimum of (P) whose logit margin is ``margin``.

    By symmetry and convexity that optimum is ``Z = s (I - 11^T/K)`` (each class's own logit exceeds every
    other by ``s``; the nuclear weight of ``Z diag(sqrt(pi))`` is ``(K-1) s / sqrt(K)``), so ``s`` minimizes
    ``log(1 + (K-1) e^{-s}) + c (K-1) s / sqrt(K)``; stationarity gives ``c / sqrt(K) = 1/(e^s + K - 1)``:

        lambda_W lambda_H = c^2 = K / (e^s + K - 1)^2          (s > 0 iff c < 1/sqrt(K)).

    ``exp`` lets sympy or mpmath evaluate the same formula.
    """
    return K / (exp(margin) + K - 1) ** 2


def balanced_margin(K: int, product: float) -> float:
    """The inverse of :func:`balanced_product`: the logit margin ``s = log(sqrt(K / product) - K + 1)`` of the
    balanced optimum of (P) at ``lambda_W lambda_H = product`` (< 1/K; else ``Z = 0`` is optimal)."""
    positive("lambda_W lambda_H", product)
    require(product < 1.0 / K, "lambda_W lambda_H", f"< 1/K = {1.0 / K:g} (else Z = 0 is the balanced optimum)",
            product)
    return math.log(math.sqrt(K / product) - K + 1)
