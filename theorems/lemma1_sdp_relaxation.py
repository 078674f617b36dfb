"""Lemma 1: the convex program Eq. 15 is a tight relaxation of the Layer-Peeled Model Eq. 7.

For any class-size profile ``n_1, ..., n_K`` (``p >= 2K``, loss convex in the logits) the minimum of
Eq. 15 equals that of Eq. 7, the map Eq. 16 ``[h_1, ..., h_K, W^T] = P X*^(1/2)`` with
``h_{k,i} = h_k`` sends a minimizer of Eq. 15 to a minimizer of Eq. 7, and when every minimizer of
Eq. 15 saturates ``(1/K) sum_{k<=K} X(k, k) = E_H`` every minimizer of Eq. 7 has collapsed
within-class features (NC1).

Checks: (symbolic) the identities of the map Eq. 16 and the step ``a`` of Section 4.A / Eq. 64
(Cauchy-Schwarz / Jensen) with its exact remainder, and the inequality of the uniqueness argument;
(proof-step) the relaxation chain of the proof on random feasible points of random profiles;
(solver) the SDP optimum against the nonconvex solver, the reconstruction, NC1 and the saturation
condition at the solutions.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import sympy as sp

from lpm_verify.outcomes import at_most, compare
from lpm_verify.problem import LPMProblem
from lpm_verify.records import Outcome
from lpm_verify.registry import check
from lpm_verify.symbolic import Identity, decide_identity, identities_outcome
from theorems._imbalanced import TIGHT, all_zero, class_means, gram_of, random_point, random_sizes, solutions

#: Random class-size profiles of the solver checks: (K, seed); p = 2K, sizes in [1, 5].
PROFILES: tuple[tuple[int, int], ...] = ((2, 1), (3, 2), (4, 3), (5, 4))
_SOLVER_TOL = 1e-8
_SOLVER_REASON = ("Clarabel with gap/feasibility tolerances 1e-12 (TIGHT) and the nonconvex solver's "
                  "stopping rule (gradient 1e-10, objective gap ~1e-20): both agree to ~1e-12 on these "
                  "objectives; 1e-8 leaves headroom for entries of X* and within-class spreads")


# -- symbolic --------------------------------------------------------------------------------
def jensen_remainder_gap(remainder: Any, n: int = 3, p: int = 2) -> Identity:
    """Step ``a`` (Sec. 4.A, Eq. 64): ``(1/n) sum ||h_i||^2 - ||hbar||^2 = remainder(h, hbar)``.

    The printed proof's remainder is ``(1/n) sum_i ||h_i - hbar||^2`` (a sum of squares, hence
    ``||hbar||^2 <= (1/n) sum ||h_i||^2``); ``remainder`` is a callable of the symbolic vectors.
    """
    h = [sp.Matrix(p, 1, lambda r, _c, i=i: sp.Symbol(f"h{i}_{r}", real=True)) for i in range(n)]
    hbar = sum(h, sp.zeros(p, 1)) / n
    lhs = sum((v.T * v)[0] for v in h) / n - (hbar.T * hbar)[0]
    symbols = sorted(set().union(*(v.free_symbols for v in h)), key=str)
    rng = np.random.default_rng(n * 100 + p)
    points = [[sp.Rational(int(x), 7) for x in rng.integers(-20, 21, size=len(symbols))] for _ in range(4)]
    return decide_identity(lhs, remainder(h, hbar), points=[dict(zip(symbols, pt)) for pt in points])


def paper_remainder(h: list[sp.Matrix], hbar: sp.Matrix) -> sp.Expr:
    """``(1/n) sum_i ||h_i - hbar||^2``, the term the uniqueness proof subtracts (Appendix B.1)."""
    return sum(((v - hbar).T * (v - hbar))[0] for v in h) / len(h)


def pair_bound_gap(remainder: Any, p: int = 2) -> Identity:
    """Uniqueness proof, last step: ``||a - c||^2 + ||b - c||^2 - ||a - b||^2 / 2 = remainder(a, b, c)``;
    the exact remainder ``||a + b - 2c||^2 / 2`` is a square, so the inequality holds."""
    a, b, c = (sp.Matrix(p, 1, lambda r, _c, t=t: sp.Symbol(f"{t}{r}", real=True)) for t in "abc")
    sq = lambda v: (v.T * v)[0]  # noqa: E731  (squared norm of a column)
    lhs = sq(a - c) + sq(b - c) - sq(a - b) / 2
    symbols = sorted(set().union(a.free_symbols, b.free_symbols, c.free_symbols), key=str)
    rng = np.random.default_rng(7)
    points = [[sp.Rational(int(x), 5) for x in rng.integers(-9, 10, size=len(symbols))] for _ in range(4)]
    return decide_identity(lhs, remainder(a, b, c), points=[dict(zip(symbols, pt)) for pt in points])


@check("Lemma 1/step-a-cauchy-schwarz", origin="paper", part="derivation",
       method="symbolic", digits=None, tolerance=0.0,
       reason="exact sympy identity",
       claim="||hbar_k||^2 <= (1/n_k) sum_i ||h_{k,i}||^2 (step a of Sec. 4.A and Eq. 64) with exact "
             "remainder (1/n_k) sum_i ||h_{k,i} - hbar_k||^2, a sum of squares")
def _step_a() -> Outcome:
    return identities_outcome({f"n={n}, p={p}": jensen_remainder_gap(paper_remainder, n, p) for n, p in ((2, 2), (3, 3))})


def half_square_remainder(a: sp.Matrix, b: sp.Matrix, c: sp.Matrix) -> sp.Expr:
    """``||a + b - 2c||^2 / 2``."""
    v = a + b - 2 * c
    return (v.T * v)[0] / 2


@check("Lemma 1/uniqueness-pair-bound", origin="paper", part="derivation",
       method="symbolic", digits=None, tolerance=0.0,
       reason="exact sympy identity",
       claim="||h_i - hbar||^2 + ||h_j - hbar||^2 >= ||h_i - h_j||^2 / 2 (uniqueness part of the proof), "
             "with remainder ||h_i + h_j - 2 hbar||^2 / 2")
def _pair_bound() -> Outcome:
    return identities_outcome({"p=3": pair_bound_gap(half_square_remainder, p=3)})


# -- proof steps -----------------------------------------------------------------------------
def relaxation_chain(problem: LPMProblem, W: np.ndarray, H: Sequence[np.ndarray]) -> tuple[list[float], list[float]]:
    """Left and right sides of every inequality of the proof of Lemma 1 at one point ``(W, H)``.

    Eq. 15 feasibility of ``X``: ``-lambda_min(X) <= 0``; step a ``(1/K) sum X(k,k) <= feature
    energy``; step b ``feature energy <= E_H``; step c ``(1/K) sum_{k>K} X(k,k) <= E_W``;
    Eq. 64 ``sum_k n_k/N L(W h_k) <= objective(W, H)``; uniqueness: ``(1/K) sum X(k,k) +
    (1/(2K n_k)) ||h_{k,i} - h_{k,j}||^2 <= feature energy`` for the farthest pair of every class.
    """
    K = problem.K
    Hbar = class_means(H)  # (K, p)
    X = gram_of(W, Hbar)  # (2K, 2K)
    meanH = np.trace(X[:K, :K]) / K
    feat = float(problem.feature_energy(H))
    lhs = [-float(np.linalg.eigvalsh(X)[0]), meanH, feat, np.trace(X[K:, K:]) / K,
           float(problem.objective_means(W, Hbar))]
    rhs = [0.0, feat, problem.E_H, problem.E_W, float(problem.objective(W, H))]
    for k, Hk in enumerate(H):
        if Hk.shape[0] >= 2:
            d = np.linalg.norm(Hk[:, None, :] - Hk[None, :, :], axis=2)
            lhs.append(meanH + d.max() ** 2 / (2 * K * Hk.shape[0]))
            rhs.append(feat)
    return lhs, rhs


@check("Lemma 1/relaxation-chain", origin="paper", part="derivation",
       method="proof-step", tolerance=1e-12,
       reason="float64 rounding of O(1) sums and eigenvalues",
       claim="at random feasible points of random class-size profiles, X is feasible for Eq. 15 (steps a, b, c), "
             "Eq. 64's Jensen step holds, and the uniqueness bound of the proof holds")
def _relaxation_chain() -> Outcome:
    rng = np.random.default_rng(2021)
    lhs, rhs = [], []
    for trial in range(40):
        K = int(rng.integers(2, 6))
        problem = LPMProblem(random_sizes(rng, K), E_W=float(rng.uniform(0.2, 4)),
                             E_H=float(rng.uniform(0.2, 4)), p=int(rng.integers(K, 2 * K + 2)))
        W, H = random_point(rng, problem, problem.p, fill_W=rng.uniform(0.3, 1.0),
                            fill_H=1.0 if trial % 2 else rng.uniform(0.3, 1.0))
        l, r = relaxation_chain(problem, W, H)
        lhs += l
        rhs += r
    return at_most(np.array(lhs), np.array(rhs))


def reconstruction_errors(problem: LPMProblem, X: np.ndarray, L0: float, seed: int) -> np.ndarray:
    """Eq. 16 applied to ``X  # (2K, 2K)`` with a random partial orthogonal ``P``: the lifted point's
    objective gap to ``L0``, its two constraint violations, and ``max |Gram - X|``."""
    from lpm_verify.solvers.sdp import lemma1_map
    W, H = lemma1_map(X, problem.p, problem.sizes, rng=np.random.default_rng(seed))
    slack_W, slack_H = problem.constraint_slacks(W, H)
    return np.array([abs(float(problem.objective(W, H)) - L0), max(0.0, -slack_W), max(0.0, -slack_H),
                     float(np.max(np.abs(gram_of(W, class_means(H)) - X)))])


def within_class_energy(problem: LPMProblem, H: Sequence[np.ndarray]) -> float:
    """``(1/K) sum_k (1/n_k) sum_i ||h_{k,i} - h_k||^2``: zero iff features collapse to their means (NC1)."""
    return float(sum(np.sum((Hk - Hk.mean(axis=0)) ** 2) / Hk.shape[0] for Hk in H) / problem.K)


#: A multiplier of the E_H constraint below this is not told apart from zero by a solve at ~1e-8.
DUAL_FLOOR = 1e-4


def saturation_certificate(E_H: float, X: np.ndarray, dual_E_H: float) -> Outcome:
    """Lemma 1's uniqueness condition at a solution of Eq. 15: ``(1/K) sum_{k<=K} X(k,k) = E_H`` and a
    positive multiplier ``lambda_H >= DUAL_FLOOR``, which by complementary slackness (strong duality)
    makes *every* minimizer of Eq. 15 saturate the constraint.  Error: the larger of ``|slack|`` and
    the shortfall of ``lambda_H`` below the floor."""
    K = X.shape[0] // 2
    slack = E_H - float(np.trace(X[:K, :K])) / K
    error = max(abs(slack), max(0.0, DUAL_FLOOR - dual_E_H))
    return Outcome(expected={"slack": 0.0, "lambda_H": f">= {DUAL_FLOOR}"},
                   observed={"slack": slack, "lambda_H": dual_E_H}, error=error)


@check("Lemma 1/sdp-equals-nonconvex", origin="paper", part="statement",
       method="solver", tolerance=_SOLVER_TOL, reason=_SOLVER_REASON,
       claim="for random class-size profiles (K = 2..5, p = 2K) the minimum of Eq. 15 equals the best "
             "value of Eq. 7 found by the nonconvex solver")
def _sdp_equals_nonconvex() -> Outcome:
    sols = [solutions(K, s) for K, s in PROFILES]
    return compare(np.array([sdp.objective for _, sdp, _ in sols]), np.array([nc.objective for _, _, nc in sols]),
                   profiles=[(pr.sizes, pr.E_W, pr.E_H) for pr, _, _ in sols])


@check("Lemma 1/reconstruction-attains", origin="paper", part="statement",
       method="solver", tolerance=_SOLVER_TOL, reason=_SOLVER_REASON,
       claim="Eq. 16 maps the SDP minimizer to a feasible point of Eq. 7 (random P, p = 2K) whose objective "
             "is the SDP minimum and whose Gram matrix is X*")
def _reconstruction() -> Outcome:
    errors = [reconstruction_errors(pr, sdp.X, sdp.objective, seed=s)
              for (K, s), (pr, sdp, _) in zip(PROFILES, (solutions(*ps) for ps in PROFILES))]
    return all_zero(np.concatenate(errors))


@check("Lemma 1/within-class-collapse", origin="paper", part="statement",
       method="solver", tolerance=_SOLVER_TOL, reason=_SOLVER_REASON,
       claim="the nonconvex minimizers of Eq. 7 saturate the feature constraint and their features collapse "
             "to the class means (within-class energy 0, NC1)")
def _within_class_collapse() -> Outcome:
    out = []
    for pr, _, nc in (solutions(*ps) for ps in PROFILES):
        out += [abs(nc.feature_energy - pr.E_H), within_class_energy(pr, nc.H)]
    return all_zero(np.array(out))


@check("Lemma 1/uniqueness-condition", origin="paper", part="derivation",
       method="solver", tolerance=_SOLVER_TOL, reason=_SOLVER_REASON,
       claim="at the SDP solutions the first K diagonal entries saturate E_H with a positive multiplier, so "
             "every minimizer of Eq. 15 saturates and every minimizer of Eq. 7 has the form Eq. 16")
def _uniqueness_condition() -> Outcome:
    outs = [saturation_certificate(pr.E_H, sdp.X, sdp.detail["duals"]["E_H"])
            for pr, sdp, _ in (solutions(*ps) for ps in PROFILES)]
    worst = max(outs, key=lambda o: o.error)
    worst.detail["all"] = [o.observed for o in outs]
    return worst


#: The slow grid: (K, seed, E_W, E_H), including tiny and large products E_H E_W.
GRID: tuple[tuple[int, int, float, float], ...] = tuple(
    (K, 100 + 10 * K + j, E_W, E_H) for K in (2, 3, 4, 5, 6)
    for j, (E_W, E_H) in enumerate(((0.05, 0.2), (1.0, 1.0), (3.0, 10.0))))


def grid_errors(problem: LPMProblem, sdp_objective: float, nc: Any) -> list[float]:
    """One grid point: ``|SDP minimum - nonconvex minimum|``, the relative deficit of the nonconvex
    minimizer's feature energy below ``E_H`` and its within-class energy relative to ``E_H`` (NC1)."""
    return [abs(sdp_objective - nc.objective), abs(nc.feature_energy / problem.E_H - 1),
            within_class_energy(problem, nc.H) / problem.E_H]


@check("Lemma 1/sdp-equals-nonconvex-grid", origin="paper", part="statement",
       method="solver", tolerance=1e-9, slow=True,
       reason="Clarabel's 1e-12 gap tolerance is absolute, so objectives are compared absolutely (they range from "
              "2e-5 to 1.6; measured differences <= 1e-12); energies relative, to rounding",
       claim="on 15 random class-size profiles (K = 2..6, p = 2K, E_H E_W from 0.01 to 30) the SDP minimum equals the "
             "nonconvex minimum, and the nonconvex minimizer has collapsed features saturating E_H")
def _grid() -> Outcome:
    from lpm_verify.solvers.nonconvex import solve_lpm
    from lpm_verify.solvers.sdp import solve_sdp
    errors, rows = [], []
    for K, seed, E_W, E_H in GRID:
        sizes = random_sizes(np.random.default_rng(seed), K)
        problem = LPMProblem(sizes, E_W=E_W, E_H=E_H, p=2 * K)
        sdp, nc = solve_sdp(problem, **TIGHT), solve_lpm(problem, starts=8, seed=seed)
        errors += grid_errors(problem, sdp.objective, nc)
        rows.append((sizes, E_W, E_H, sdp.objective, nc.objective))
    return all_zero(np.array(errors), rows=rows)
