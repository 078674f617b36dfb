"""The symmetry-reduced solver against closed forms, the SDP (Clarabel), the nonconvex solver of Eq. 7,
and its own certificate (with negative controls)."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from lpm_verify.errors import LPMInputError, SolverError
from lpm_verify.problem import LPMProblem, two_size_fractions
from lpm_verify.solvers.base import summarize
from lpm_verify.solvers.symmetric import Profile, Regime, parse_regime, regime_name, solve_float, solve_symmetric
from lpm_verify.solvers.symmetric.certificate import certificate, certificate_ok
from lpm_verify.solvers.symmetric.continuation import refine_mp
from lpm_verify.solvers.symmetric.kkt import System, newton

# Clarabel at tight tolerances: objective to ~1e-9; X only to ~1e-4 in the flat directions of Eq. 15
# (measured max |X_sdp - X_sym| = 8e-5 at K = 10), so entries/cosines are compared at 1e-3.
TIGHT = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
SDP_OBJ_TOL = 1e-7
SDP_X_TOL = 1e-3


def theorem1_value(K: int, E_W: mpmath.mpf, E_H: mpmath.mpf) -> mpmath.mpf:
    """Closed form at R = 1 derived here: h_k = sqrt(E_H) m_k, w_k = sqrt(E_W) m_k with m a unit simplex
    ETF, so z_k(j) = sqrt(E_H E_W) (K/(K-1)) (delta_kj - 1/K), own minus other = sqrt(E_H E_W) K/(K-1),
    and L = log(1 + (K-1) exp(-sqrt(E_H E_W) K/(K-1)))."""
    return mpmath.log(1 + (K - 1) * mpmath.exp(-mpmath.sqrt(E_H * E_W) * K / (K - 1)))


@pytest.mark.parametrize("counts,E_W,E_H", [((5, 5), 1, 5), ((3, 7), "0.5", 5), ((3, 3, 4), 2, "0.25"),
                                            ((1, 9), 1, 1)])
def test_balanced_matches_theorem1_to_30_digits(counts, E_W, E_H):
    K = sum(counts)
    groups = tuple(g for g, c in enumerate(counts) for _ in range(c))
    prof = Profile(counts, (1.0,) * len(counts), float(E_W), float(E_H), groups)
    sol = solve_symmetric(prof, digits=35)
    with mpmath.workdps(50):
        expected = theorem1_value(K, mpmath.mpf(E_W), mpmath.mpf(E_H))
        assert abs(sol.objective - expected) < mpmath.mpf(10) ** -32
        X = sol.X
        Wg = X[K:, K:]
        for i in range(K):
            assert abs(Wg[i, i] - mpmath.mpf(E_W)) < mpmath.mpf(10) ** -32  # ||w_k||^2 = E_W
            for j in range(i):
                cos = Wg[i, j] / mpmath.sqrt(Wg[i, i] * Wg[j, j])
                assert abs(cos + mpmath.mpf(1) / (K - 1)) < mpmath.mpf(10) ** -32
    assert certificate_ok(sol.detail["certificate"], mpmath.mpf(10) ** -30)


GRID = [(5, 1.0, 1.0, 5.0), (5, 30.0, 1.0, 5.0), (5, math.inf, 1.0, 5.0), (7, 3.0, 1.0, 5.0), (7, 8.0, 1.0, 5.0),
        (7, math.inf, 1.0, 5.0), (3, 500.0, 1.0, 5.0), (5, 10.0, 1.0, 10.0), (5, 2.0, 0.5, 5.0), (5, 2.5, 1.0, 1.0)]


@pytest.mark.parametrize("K_A,R,E_W,E_H", GRID)
def test_agrees_with_sdp(K_A, R, E_W, E_H):
    from lpm_verify.solvers.sdp import solve_sdp
    K = 10
    sym = solve_symmetric(Profile.two_size(K, K_A, R, E_W, E_H))
    sdp = solve_sdp(two_size_fractions(K, K_A, R), E_W=E_W, E_H=E_H, **TIGHT)
    assert abs(sym.objective - sdp.objective) < SDP_OBJ_TOL
    assert sym.objective <= sdp.objective + 1e-12  # the KKT point is the minimum; Clarabel is above it
    assert np.max(np.abs(sym.X - sdp.X)) < SDP_X_TOL
    a, b = summarize(sym, K_A), summarize(sdp, K_A)
    assert abs(a["norm_minority"] - b["norm_minority"]) < SDP_X_TOL
    if not math.isnan(a["cos_minority"]):
        assert abs(a["cos_minority"] - b["cos_minority"]) < SDP_X_TOL


def test_three_sizes_agree_with_sdp_and_nonconvex():
    from lpm_verify.solvers.nonconvex import solve_lpm
    from lpm_verify.solvers.sdp import solve_sdp
    sizes = (100.0, 100.0, 30.0, 30.0, 30.0, 5.0, 5.0, 5.0)
    problem = LPMProblem((1,) * 8, 1.0, 5.0, p=16, weights=sizes)  # Eq. 18 weights carry the sizes
    sym = solve_symmetric(problem)
    assert parse_regime(sym.detail["regime"]).rank == 2 and sym.detail["profile"].G == 3
    sdp = solve_sdp(problem, **TIGHT)
    nc = solve_lpm(problem, starts=2)
    assert abs(sym.objective - sdp.objective) < SDP_OBJ_TOL
    assert abs(sym.objective - nc.objective) < 1e-8  # nonconvex L-BFGS stops at relative reduction 1e-10
    assert np.max(np.abs(sym.X - sdp.X)) < SDP_X_TOL
    Wn = nc.W @ nc.W.T  # classifier Gram of the nonconvex solution, invariant to the rotation P
    assert np.max(np.abs(Wn - sym.X[8:, 8:])) < 1e-3


@pytest.mark.parametrize("K_A,R", [(5, 1.0), (5, 20.0), (7, 3.0), (3, 400.0)])
def test_agrees_with_nonconvex(K_A, R):
    from lpm_verify.solvers.nonconvex import solve_lpm
    problem = LPMProblem((1,) * 10, 1.0, 5.0, p=20, weights=(R,) * K_A + (1.0,) * (10 - K_A))
    sym = solve_symmetric(problem)
    nc = solve_lpm(problem, starts=2)
    assert abs(sym.objective - nc.objective) < 1e-8
    Gw = nc.W @ nc.W.T
    B = slice(K_A, 10)
    cos = Gw[B, B] / np.sqrt(np.outer(np.diag(Gw)[B], np.diag(Gw)[B]))
    m = 10 - K_A
    assert abs((cos.sum() - m) / (m * (m - 1)) - summarize(sym, K_A)["cos_minority"]) < 1e-3


def test_rebuilt_X_is_invariant_psd_and_saturates_budgets():
    prof = Profile.two_size(10, 3, 40.0, 1.0, 5.0)
    sol = solve_symmetric(prof)
    X = sol.X
    assert np.linalg.eigvalsh(X)[0] > -1e-10
    assert abs(np.trace(X[:10, :10]) / 10 - 5.0) < 1e-10 and abs(np.trace(X[10:, 10:]) / 10 - 1.0) < 1e-10
    perm = np.r_[[1, 0, 2], np.arange(3, 10)[::-1]]  # permute within each group
    full = np.r_[perm, perm + 10]
    assert np.max(np.abs(X[np.ix_(full, full)] - X)) < 1e-12


def test_rebuild_X_places_classes_in_their_order():
    prof = Profile.from_fractions([1.0, 3.0, 1.0, 3.0], 1.0, 2.0)  # groups interleaved
    sol = solve_symmetric(prof)
    from lpm_verify.solvers.sdp import solve_sdp
    sdp = solve_sdp(np.array([1.0, 3.0, 1.0, 3.0]), E_W=1.0, E_H=2.0, **TIGHT)
    assert np.max(np.abs(sol.X - sdp.X)) < SDP_X_TOL


def test_float_and_mp_agree_to_1e12():
    for K_A, R in [(5, 7.0), (3, 300.0), (7, 4.5)]:
        prof = Profile.two_size(10, K_A, R, 1.0, 5.0)
        fl = solve_symmetric(prof)
        mp = solve_symmetric(prof, digits=30)
        assert fl.detail["regime"] == mp.detail["regime"]
        assert abs(fl.detail["cos_B"] - mp.detail["cos_B"]) < 1e-12
        assert abs(fl.objective - mp.objective) < 1e-13


def _mp_point(K_A=5, R=100.0):
    prof = Profile.two_size(10, K_A, R, 1.0, 5.0)
    point = solve_float(prof)
    mpmath.mp.dps = 45
    x, info = refine_mp(prof, point, 30)
    return prof, point, x, info


def test_certificate_passes_at_the_solution_and_fails_for_a_perturbed_point():
    dps = mpmath.mp.dps
    try:
        prof, point, x, info = _mp_point()
        system = System(prof, point.regime, prof.fractions(mp=True))
        tol = mpmath.mpf(10) ** -30
        cert = certificate(system, x)
        assert certificate_ok(cert, tol) and cert["gap_bound"] < tol
        bad = x.copy()
        bad[0] = bad[0] * (1 + mpmath.mpf(10) ** -12)  # perturbed X (its mean block)
        assert not certificate_ok(certificate(system, bad), tol)
    finally:
        mpmath.mp.dps = dps


def test_certificate_rejects_the_wrong_regime():
    """Past the collapse threshold the non-collapsed regime's KKT point has s_B < 0: certificate fails."""
    dps = mpmath.mp.dps
    try:
        prof, point, x, info = _mp_point(R=100.0)
        assert point.regime == Regime(1, (True, False))
        wrong = Regime(1, (True, True))
        system = System(prof, wrong, prof.fractions(mp=True))
        A, B, s, mu, _ = System(prof, point.regime, prof.fractions(mp=True)).unpack(x[None, :])
        s = s[0].copy()
        s[1] = mpmath.mpf("0.01")
        xw, info = newton(system, system.pack(A[0], B[0], s, mu[0]), tol=mpmath.mpf(10) ** -35)
        cert = certificate(system, xw)
        assert info["converged"] and cert["margins"]["B/primal"] < 0
        assert not certificate_ok(cert, mpmath.mpf(10) ** -30)
    finally:
        mpmath.mp.dps = dps


def test_regime_names():
    assert regime_name(Regime(1, (True, True))) == "distinct (M1 A+ B+)"
    assert regime_name(Regime(1, (True, False))) == "minority-collapse (M1 A+ B0)"
    assert regime_name(Regime(0, (True, False))) == "minority-collapse-zero (M0 A+ B0)"
    assert parse_regime("minority-collapse (M1 A+ B0)") == Regime(1, (True, False))
    assert parse_regime("M2 A+ B- C0") == Regime(2, (True, None, False))


@pytest.mark.parametrize("kw,match", [(dict(K_A=10), "K_A"), (dict(K_A=0), "K_A"), (dict(R=0.0), "R"),
                                      (dict(R=-2.0), "R"), (dict(E_W=0.0), "E_W"), (dict(E_H=-1.0), "E_H")])
def test_bad_input(kw, match):
    args = dict(K=10, K_A=5, R=2.0, E_W=1.0, E_H=5.0) | kw
    with pytest.raises(LPMInputError, match=match):
        Profile.two_size(**args)


def test_digits_must_be_at_least_15():
    with pytest.raises(LPMInputError, match="digits"):
        solve_symmetric(Profile.two_size(10, 5, 2.0, 1.0, 5.0), digits=5)


def test_solver_error_is_a_named_error():
    assert issubclass(SolverError, RuntimeError)


def test_reduced_cvxpy_fallback_finds_the_same_point():
    """The last-resort path (Clarabel on the reduced program, then Newton) lands on the same KKT point."""
    from lpm_verify.solvers.symmetric.continuation import fallback
    prof = Profile.two_size(10, 7, 4.5, 1.0, 5.0)
    direct = solve_float(prof)
    via = fallback(prof, prof.fractions())
    assert via.regime == direct.regime and np.max(np.abs(via.x - direct.x)) < 1e-10


def test_full_X_certificate_symmetric_sdp_and_perturbed():
    """eq15_certificate works on any X: the rebuilt symmetric X certifies to rounding, Clarabel's X to
    its tolerance, and a perturbed feasible X (budgets kept) does not."""
    from lpm_verify.solvers.sdp import eq15_certificate, solve_sdp
    pi = two_size_fractions(10, 5, 30.0)
    sym = solve_symmetric(Profile.two_size(10, 5, 30.0, 1.0, 5.0))
    assert eq15_certificate(sym.X, pi, 1.0, 5.0)["gap_bound"] < 1e-13  # float64 rounding of a 20x20 X
    sdp = solve_sdp(pi, E_W=1.0, E_H=5.0)
    assert sdp.detail["certificate"]["gap_bound"] < 1e-4  # Clarabel defaults (1e-8) amplified by K(E_H+E_W)
    rng = np.random.default_rng(0)
    V = np.linalg.cholesky(sym.X + 1e-12 * np.eye(20)) + 1e-3 * rng.standard_normal((20, 20))
    Xp = V @ V.T
    Xp[:10, :10] *= 50 / np.trace(Xp[:10, :10])
    Xp[10:, 10:] *= 10 / np.trace(Xp[10:, 10:])
    cert = eq15_certificate(Xp, pi, 1.0, 5.0)
    assert cert["gap_bound"] > 1e-4 and cert["complementarity"] > 1e-4
