"""Eq. 91 (nuclear-norm relaxation) against Eq. 15, and Lemma 7's factorization (Eq. 92) as printed."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lpm_verify.problem import two_size_fractions
from lpm_verify.solvers.nuclear import lemma7_map, solve_nuclear
from lpm_verify.solvers.sdp import solve_sdp

OBJ_TOL = 1e-6  # two interior-point solves at Clarabel's default 1e-8 tolerances, different cones


@pytest.mark.parametrize("fractions,E_W,E_H", [(two_size_fractions(6, 3, 20.0), 1.0, 5.0),
                                               (two_size_fractions(6, 2, math.inf), 0.5, 2.0),
                                               ([0.5, 0.3, 0.1, 0.1], 1.0, 1.0)])
def test_eq91_and_eq15_have_the_same_minimum(fractions, E_W, E_H):
    nuc = solve_nuclear(fractions, E_W=E_W, E_H=E_H)
    sdp = solve_sdp(fractions, E_W=E_W, E_H=E_H)
    assert abs(nuc.objective - sdp.objective) < OBJ_TOL
    assert abs(nuc.detail["nuclear_norm"] - nuc.detail["budget"]) < 1e-6  # the constraint is active


def _feasibility(W, Hbar, E_W, E_H):
    K = W.shape[0]
    return E_W - np.sum(W * W) / K, E_H - np.sum(Hbar * Hbar) / K


def test_lemma7_balanced_split_is_feasible_and_exact():
    Z = solve_nuclear(two_size_fractions(6, 3, 5.0), E_W=1.0, E_H=4.0).detail["Z"]
    W, Hbar = lemma7_map(Z, 7, 1.0, 4.0, rng=np.random.default_rng(0))
    assert np.max(np.abs(W @ Hbar.T - Z)) < 1e-10
    sW, sH = _feasibility(W, Hbar, 1.0, 4.0)
    assert abs(sW) < 1e-6 and abs(sH) < 1e-6  # both budgets saturated


def test_lemma7_as_printed_is_infeasible_unless_E_W_equals_E_H():
    """Printed Sigma_1 = sqrt(E_W/E_H) sqrt(Sigma): ||W||^2 = K E_W sqrt(E_W/E_H) > K E_W when E_W > E_H."""
    Z = solve_nuclear(two_size_fractions(6, 3, 5.0), E_W=4.0, E_H=1.0).detail["Z"]
    W, Hbar = lemma7_map(Z, 6, 4.0, 1.0, printed=True)
    sW, _ = _feasibility(W, Hbar, 4.0, 1.0)
    assert sW < -1.0  # violated: ||W||^2/K = 4 * 2 = 8 > 4
    Z1 = solve_nuclear(two_size_fractions(6, 3, 5.0), E_W=2.0, E_H=2.0).detail["Z"]
    W1, H1 = lemma7_map(Z1, 6, 2.0, 2.0, printed=True)
    assert min(_feasibility(W1, H1, 2.0, 2.0)) > -1e-6  # E_W = E_H: printed and corrected coincide
