"""Shared pieces of the balanced-case modules (Definition 1, Theorem 1, Lemma 2): the printed simplex ETF of
Definition 1 in the algebra spanned by I and J = 1 1^T (symbolic K), and the minimizer Eq. 9 in float64.
A fixtures module: it registers no check and imports no result module."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy as sp

from lpm_verify import geometry

K_SYM = sp.Symbol("K", integer=True, positive=True)


# An element a I + b J of the algebra spanned by I_K and J = 1_K 1_K^T is the pair (a, b).
def ij_product(x: tuple[Any, Any], y: tuple[Any, Any], K: Any = K_SYM) -> tuple[Any, Any]:
    """``(a1 I + b1 J)(a2 I + b2 J) = a1 a2 I + (a1 b2 + b1 a2 + K b1 b2) J`` (uses ``J^2 = K J``)."""
    return x[0] * y[0], x[0] * y[1] + x[1] * y[0] + K * x[1] * y[1]


def etf_gram_coefficients(scale: Any, centre: Any, K: Any = K_SYM) -> tuple[Any, Any]:
    """Gram ``M^T M`` of ``M = scale * P (I + centre J)`` with ``P^T P = I``, as ``(a, b)`` in ``a I + b J``.

    ``M^T M = scale^2 (I + centre J)^T (I + centre J)``; Definition 1 prints ``scale = sqrt(K/(K-1))``
    and ``centre = -1/K``.
    """
    C = (sp.Integer(1), centre)
    a, b = ij_product(C, C, K)
    return sp.expand(scale ** 2 * a), sp.expand(scale ** 2 * b)


PRINTED_SCALE = sp.sqrt(K_SYM / (K_SYM - 1))


PRINTED_CENTRE = -1 / K_SYM


def minimizer(K: int, n: int, p: int, E_W: float, E_H: float, rng: np.random.Generator | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 9 in float64: ``W = sqrt(E_W) M^T  # (K, p)``, ``H[k, i] = sqrt(E_H) m_k  # (K, n, p)``."""
    M = geometry.simplex_etf(K, p, rng)  # (p, K)
    W = math.sqrt(E_W) * M.T
    H = np.repeat((math.sqrt(E_H) * M.T)[:, None, :], n, axis=1)
    return W, H
