"""Shared pieces of the imbalanced-case theorem modules (Lemma 1, Proposition 1, Theorem 5, Lemma 7,
Property 1): Lemma 1's random class-size profiles and their solves (Eq. 15 and Eq. 7), random feasible
points of Eq. 7, exact orthogonal matrices, and the Gram matrix ``X`` of Eq. 15.  A fixtures module:
it registers no check and imports no result module (the leading underscore keeps it out of
:func:`lpm_verify.commands.registry.load_all`).
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np
import sympy as sp

from lpm_verify.outcomes import compare
from lpm_verify.problem import LPMProblem
from lpm_verify.records import Outcome
from lpm_verify.solvers.base import TIGHT


def all_zero(gaps: np.ndarray, **detail: object) -> Outcome:
    """Outcome for "every gap is zero": error = largest ``|gap|``."""
    gaps = np.asarray(gaps, dtype=float)
    return compare(np.zeros_like(gaps), gaps, **detail)


def rational_orthogonal(m: int, seed: int) -> sp.Matrix:
    """An exact orthogonal ``m x m`` rational matrix: the Cayley transform ``(I - A)(I + A)^{-1}``
    of a random skew-symmetric integer ``A`` (``I + A`` is always invertible)."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.integers(-3, 4, size=(m, m)), 1)
    A = sp.Matrix(upper - upper.T)
    eye = sp.eye(m)
    return (eye - A) * (eye + A).inv()


def random_sizes(rng: np.random.Generator, K: int, largest: int = 5) -> tuple[int, ...]:
    """A random class-size profile ``n_k`` in ``[1, largest]``, not all equal."""
    while True:
        sizes = tuple(int(n) for n in rng.integers(1, largest + 1, size=K))
        if len(set(sizes)) > 1:
            return sizes


def random_point(rng: np.random.Generator, problem: LPMProblem, p: int, fill_W: float = 1.0,
                 fill_H: float = 1.0) -> tuple[np.ndarray, list[np.ndarray]]:
    """A random point of Eq. 7 with classifier energy ``fill_W E_W`` and feature energy ``fill_H E_H``.

    ``fill <= 1`` gives a feasible point (``fill = 1`` saturates the constraint).  Features of a
    class are its random mean plus random within-class spread.
    """
    W = rng.standard_normal((problem.K, p))  # (K, p)
    W *= np.sqrt(fill_W * problem.E_W / problem.classifier_energy(W))
    H = [rng.standard_normal(p) + rng.uniform(0.1, 1.0) * rng.standard_normal((int(n), p))
         for n in problem.sizes]  # K blocks (n_k, p)
    scale = np.sqrt(fill_H * problem.E_H / problem.feature_energy(H))
    return W, [scale * Hk for Hk in H]


def class_means(H: Sequence[np.ndarray]) -> np.ndarray:
    """``Hbar  # (K, p)``: row k is ``h_k = (1/n_k) sum_i h_{k,i}``."""
    return np.stack([Hk.mean(axis=0) for Hk in H])


def gram_of(W: np.ndarray, Hbar: np.ndarray) -> np.ndarray:
    """``X = [h_1, ..., h_K, W^T]^T [h_1, ..., h_K, W^T]  # (2K, 2K)`` of Eq. 15."""
    B = np.vstack([Hbar, W])  # (2K, p): rows h_1..h_K, w_1..w_K
    return B @ B.T


def minority_gaps(X: np.ndarray, K_A: int) -> np.ndarray:
    """``||w_k - w_k'||`` for every minority pair ``K_A < k < k' <= K``, read from ``X  # (2K, 2K)``."""
    K = X.shape[0] // 2
    out = []
    for k in range(K_A, K):
        for j in range(k + 1, K):
            a, b = K + k, K + j
            out.append(np.sqrt(max(0.0, X[a, a] + X[b, b] - 2 * X[a, b])))
    return np.array(out)


def profile_problem(K: int, seed: int) -> LPMProblem:
    """A random imbalanced instance of Eq. 7: sizes in [1, 5], ``E_W, E_H`` in [0.5, 3], ``p = 2K``."""
    rng = np.random.default_rng(seed)
    sizes = random_sizes(rng, K)
    E_W, E_H = (float(round(v, 3)) for v in rng.uniform(0.5, 3.0, size=2))
    return LPMProblem(sizes, E_W=E_W, E_H=E_H, p=2 * K)


# -- solver checks ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def solutions(K: int, seed: int) -> tuple[LPMProblem, Any, Any]:
    """``(problem, SDP solution of Eq. 15, nonconvex solution of Eq. 7)`` for one random profile."""
    from lpm_verify.solvers.nonconvex import solve_lpm
    from lpm_verify.solvers.sdp import solve_sdp
    problem = profile_problem(K, seed)
    return problem, solve_sdp(problem, solver="clarabel", **TIGHT), solve_lpm(problem, starts=4, seed=seed)
