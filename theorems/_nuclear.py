"""Shared pieces of Lemma 7 and Property 1 (the nuclear-norm relaxation Eq. 91): the radius derived from
Eq. 89's variational bound, the nuclear norm, the cross-entropy gradient in the logits, and the solved
instances (Eq. 15 and Eq. 91 on Lemma 1's random profiles and two two-size problems).  A fixtures
module: it registers no check and imports no result module."""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
import sympy as sp

from lpm_verify.problem import LPMProblem
from theorems._imbalanced import TIGHT, profile_problem


E_H, E_W, K, a = sp.symbols("E_H E_W K a", positive=True)
#: Radius of Eq. 91 as printed.
PRINTED_RADIUS = K * sp.sqrt(E_H * E_W)


# -- symbolic --------------------------------------------------------------------------------
def eq89_bound() -> sp.Expr:
    """Right side of Eq. 93 after the constraints: ``(a/2) K E_W + (1/(2a)) K E_H``."""
    return a / 2 * K * E_W + K * E_H / (2 * a)


def derived_radius() -> tuple[sp.Expr, sp.Expr]:
    """``(a*, radius)``: the stationary point of Eq. 89's bound over ``a > 0`` and the bound there."""
    bound = eq89_bound()
    (a_star,) = [s for s in sp.solve(sp.diff(bound, a), a) if s.is_positive]
    return a_star, sp.simplify(bound.subs(a, a_star))


# -- proof steps -----------------------------------------------------------------------------
def nuclear_norm(Z: np.ndarray) -> float:
    """``||Z||_*``, the sum of singular values."""
    return float(np.linalg.svd(Z, compute_uv=False).sum())


def printed_radius(E_H_: float, E_W_: float, K_: int) -> float:
    """Eq. 91's radius as printed, ``K sqrt(E_H E_W)``, in float64."""
    return float(PRINTED_RADIUS.subs({E_H: E_H_, E_W: E_W_, K: K_}))


# -- solver checks ---------------------------------------------------------------------------
#: Lemma 1's random profiles (K, seed) used here; all have E_H != E_W.
PROFILE_KEYS: tuple[tuple[int, int], ...] = ((3, 2), (4, 3), (5, 4))


def instances() -> list[LPMProblem]:
    """The problems of the solver checks of Lemma 7 and Property 1 (``p = 2K``, ``E_H != E_W``): three
    random profiles and two two-size problems."""
    return [profile_problem(*key) for key in PROFILE_KEYS] + [
            LPMProblem.two_size(4, 2, 10.0, 1.0, 3.0, p=8), LPMProblem.two_size(5, 3, 100.0, 2.0, 0.5, p=10)]


@functools.lru_cache(maxsize=None)
def sdp_solution(index: int) -> Any:
    """Eq. 15 at ``instances()[index]``, Clarabel at TIGHT tolerances."""
    from lpm_verify.solvers.sdp import solve_sdp
    return solve_sdp(instances()[index], **TIGHT)


@functools.lru_cache(maxsize=None)
def nuclear_solution(index: int) -> Any:
    """Eq. 91 at ``instances()[index]`` (the solver stack's cvxpy formulation), Clarabel at TIGHT tolerances."""
    from lpm_verify.solvers.nuclear import solve_nuclear
    return solve_nuclear(instances()[index], **TIGHT)


def ce_gradient(Z: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """``G = grad_Z sum_k pi_k L_CE(Z_k, y_k)  # (K, K)``: column k is ``pi_k (softmax(Z_k) - e_k)``."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return (E / E.sum(axis=0, keepdims=True) - np.eye(Z.shape[0])) * pi[None, :]
