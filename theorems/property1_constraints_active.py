"""Property 1: for the cross-entropy loss both constraints are active at every minimizer.

(i)   every minimizer ``Z*`` of Eq. 91 has ``||Z*||_*`` equal to the radius — printed as
      ``sqrt(E_H E_W)``, but Eq. 91's radius is ``K sqrt(E_H E_W)`` (Eq. 89 with ``a = sqrt(E_H/E_W)``,
      see Lemma 7) and the KKT argument of the proof puts ``Z*`` on that boundary;
(ii)  every minimizer of Eq. 7 has feature energy ``E_H`` and classifier energy ``E_W``;
(iii) every minimizer of Eq. 15 has ``(1/K) sum_{k<=K} X(k,k) = E_H`` and ``(1/K) sum_{k>K} X(k,k) = E_W``.

The proof of (i) rests on ``grad_Z sum_k pi_k L(Z_k, y_k) != 0`` for every ``Z``; (ii) and (iii) follow
by contradiction through Eq. 93 and Eq. 16 (the proof of (iii) cites "Theorem 1" for the map,
which is Lemma 1's Eq. 16).

Checks: (symbolic) the gradient never vanishes (its own-class component times ``sum_j e^{z_j}`` is
minus a sum of exponentials) and the constant of (i) as printed vs derived (erratum);
(proof-step) the KKT step at computed minimizers of Eq. 91 and the slack contradictions of (ii),
(iii) on random points; (numeric / solver) (i) at Eq. 91's minimizers (erratum), (ii) at the
nonconvex minimizers, (iii) at the SDP minimizers with positive multipliers.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
import sympy as sp

from lpm_verify.outcomes import at_most, printed_vs_derived
from lpm_verify.problem import LPMProblem
from lpm_verify.records import Outcome
from lpm_verify.registry import check
from lpm_verify.symbolic import Identity, decide_identity, identities_outcome, printed_identity_outcome
from theorems._imbalanced import all_zero, class_means, gram_of, random_point, random_sizes, solutions
from theorems._nuclear import (E_H, E_W, K, PROFILE_KEYS, ce_gradient, derived_radius, instances, nuclear_norm,
                               nuclear_solution, printed_radius, sdp_solution)


#: Property 1 (i) as printed: the value of ||Z*||_*.
PRINTED_CONSTANT = sp.sqrt(E_H * E_W)
CORRECTED_CONSTANT = K * sp.sqrt(E_H * E_W)
_I_PRINTED = "||Z*||_* = sqrt(E_H E_W)"
_I_CORRECTED = "||Z*||_* = K sqrt(E_H E_W)"
_I_EVIDENCE = ("SI Appendix C, Property 1 (i) (and again in the proof of (ii), '||Z*||_* < sqrt(E_H "
               "E_W)'): the factor K is missing, a typo-level misprint; Eq. 91 prints the radius "
               "K sqrt(E_H E_W) itself.  Eq. 91's radius is K sqrt(E_H E_W) (min over a of Eq. 89's bound, Lemma 7) and the KKT step puts "
               "Z* on it; the computed minimizers of Eq. 91 have ||Z*||_* = K sqrt(E_H E_W), e.g. 5 for K = 5, "
               "E_H E_W = 1, not 1")


# -- symbolic --------------------------------------------------------------------------------
def ce_loss(z: list[sp.Symbol], k: int) -> sp.Expr:
    """Cross-entropy Eq. 8 of logits ``z`` for class ``k``: ``log sum_j e^{z_j} - z_k``."""
    return sp.log(sum(sp.exp(v) for v in z)) - z[k]


def nonvanishing_gradient_error(loss: Callable[[list[sp.Symbol], int], sp.Expr], K_: int = 3) -> float:
    """Number of terms, over all classes k, of ``-dL(z, y_k)/dz_k * sum_j e^{z_j}`` (expanded) that
    sympy cannot prove positive for real ``z``, for an explicit number of classes ``K_``."""
    z = list(sp.symbols(f"z1:{K_ + 1}", real=True))
    total = sum(sp.exp(v) for v in z)
    bad = 0
    for k in range(K_):
        expr = sp.expand(sp.simplify(-sp.diff(loss(z, k), z[k]) * total))
        bad += sum(1 for t in sp.Add.make_args(expr) if not t.is_positive)
    return float(bad)


def split_ce_loss(z_k: sp.Symbol, others: sp.Symbol) -> sp.Expr:
    """Cross-entropy Eq. 8 for any K, written with ``others = sum_{j != k} e^{z_j}`` (which does not
    depend on ``z_k``): ``log(e^{z_k} + others) - z_k``."""
    return sp.log(sp.exp(z_k) + others) - z_k


def general_gradient_identity(loss: Callable[[sp.Symbol, sp.Symbol], sp.Expr] = split_ce_loss) -> Identity:
    """For every K >= 2: ``-dL/dz_k * sum_j e^{z_j} = sum_{j != k} e^{z_j}``, a sum of K - 1 >= 1
    exponentials, hence > 0 (``others`` is declared positive).  ``loss(z_k, others)`` is the loss
    of class k with the other classes' exponentials collected in ``others``."""
    z_k, others = sp.Symbol("z_k", real=True), sp.Symbol("S_other", positive=True)
    points = [{z_k: sp.Rational(1, 3), others: sp.Integer(2)}, {z_k: sp.Integer(-2), others: sp.Rational(1, 5)}]
    return decide_identity(-sp.diff(loss(z_k, others), z_k) * (sp.exp(z_k) + others), others, points=points)


@check("Property 1/gradient-never-zero", origin="paper", part="derivation",
       method="symbolic", digits=None, tolerance=0.0,
       reason="exact: sympy proves the identity for symbolic K (and each term positive for K = 2..6)",
       claim="for cross-entropy and every K >= 2, -dL(Z_k, y_k)/dZ_kk * sum_j exp(Z_jk) = sum_{j != k} exp(Z_jk) > 0, "
             "so the gradient of Eq. 91's objective never vanishes and the multiplier of the proof of (i) is nonzero")
def cross_entropy_gradient_never_vanishes() -> Outcome:
    explicit = {K_: nonvanishing_gradient_error(ce_loss, K_) for K_ in range(2, 7)}
    identities = {"every K: -dL/dz_k sum_j e^z_j = sum_{j!=k} e^z_j": general_gradient_identity()}
    identities.update({f"K={K_}: every term positive": Identity(bad == 0, bad, 0, 50, f"{bad:g} terms not positive")
                       for K_, bad in explicit.items()})
    return identities_outcome(identities)


def constant_gaps(constant: sp.Expr) -> Identity:
    """Whether ``constant`` is the radius re-derived as the minimum over ``a`` of Eq. 89's bound
    (where the KKT step of the proof puts ``||Z*||_*``); if not, the gap at exact points."""
    pts = [{E_H: 2, E_W: sp.Rational(1, 2), K: 3}, {E_H: 5, E_W: 1, K: 4}, {E_H: 1, E_W: 1, K: 10}]
    return decide_identity(constant, derived_radius()[1], points=pts)


@check("Property 1/i-constant-symbolic", origin="paper", part="statement",
       method="symbolic", digits=None, tolerance=0.0,
       reason="sympy proves the corrected constant and refutes the printed one at exact rational points",
       claim="Property 1 (i): the nuclear norm of any minimizer of Eq. 91 equals the radius of Eq. 91")
def _constant_symbolic() -> Outcome:
    return printed_identity_outcome(constant_gaps(PRINTED_CONSTANT), constant_gaps(CORRECTED_CONSTANT),
                                    printed_form=_I_PRINTED, corrected_form=_I_CORRECTED, evidence=_I_EVIDENCE,
                                    points="(E_H, E_W, K) = (2, 1/2, 3), (5, 1, 4), (1, 1, 10)")


# -- proof steps -----------------------------------------------------------------------------
#: A multiplier below this is not told apart from zero by solves accurate to ~1e-7.
MULTIPLIER_FLOOR = 1e-4


def kkt_errors(Z: np.ndarray, pi: np.ndarray, radius: float) -> np.ndarray:
    """The KKT step of the proof of (i) at ``Z``: ``lambda = ||G||_2`` must be ``>= MULTIPLIER_FLOOR``,
    ``-G / lambda`` must be a subgradient of ``||.||_*`` at ``Z`` (``<-G, Z> = lambda ||Z||_*``,
    relative), and complementary slackness ``||Z||_* = radius`` (relative)."""
    G = ce_gradient(Z, pi)
    lam = float(np.linalg.norm(G, 2))
    nuc = nuclear_norm(Z)
    return np.array([max(0.0, MULTIPLIER_FLOOR - lam), abs(float(np.sum(-G * Z)) - lam * nuc) / (lam * nuc),
                     abs(nuc - radius) / radius])


@check("Property 1/kkt-step", origin="paper", part="derivation",
       method="proof-step", tolerance=1e-6,
       reason="relative; the alignment is first order in the distance of Z* (Eq. 91 by Clarabel at TIGHT "
              "tolerances) to the optimum: measured <= 2e-8",
       claim="at the minimizers of Eq. 91 (E_H != E_W) the multiplier lambda = ||grad||_2 is positive, -grad/lambda is "
             "a subgradient of the nuclear norm, and Z* lies on the boundary (complementary slackness)")
def _kkt_step() -> Outcome:
    errors = [kkt_errors(nuclear_solution(i).detail["Z"], pr.fractions(), printed_radius(pr.E_H, pr.E_W, pr.K))
              for i, pr in enumerate(instances())]
    return all_zero(np.concatenate(errors))


def slack_sides(problem: LPMProblem, W: np.ndarray, H: list[np.ndarray]) -> tuple[list[float], list[float]]:
    """Proof of (ii), (iii) at a point with slack: Eq. 93 with the point's own energies gives
    ``||Z||_* <= K sqrt(feature energy * classifier energy) < K sqrt(E_H E_W)``; and the Gram ``X`` of
    the point has ``(1/K) tr_H X <= feature energy < E_H`` (Eq. 16 preserves the deficit)."""
    Hbar = class_means(H)  # (K, p)
    fe, ce = float(problem.feature_energy(H)), float(problem.classifier_energy(W))
    X = gram_of(W, Hbar)
    K_ = problem.K
    return ([nuclear_norm(W @ Hbar.T), K_ * np.sqrt(fe * ce), np.trace(X[:K_, :K_]) / K_, np.trace(X[K_:, K_:]) / K_],
            [K_ * np.sqrt(fe * ce), K_ * np.sqrt(problem.E_H * problem.E_W), fe, ce])


@check("Property 1/slack-contradiction", origin="paper", part="derivation",
       method="proof-step", tolerance=1e-12,
       reason="float64 rounding of O(1) sums and an SVD of a K x K matrix",
       claim="a point of Eq. 7 with slack in a constraint maps (Eq. 90) strictly inside Eq. 91's ball and its Gram "
             "matrix (Eq. 15) keeps the slack, the contradictions behind (ii) and (iii)")
def _slack_contradiction() -> Outcome:
    rng = np.random.default_rng(1)
    lhs, rhs = [], []
    for trial in range(30):
        K_ = int(rng.integers(2, 6))
        problem = LPMProblem(random_sizes(rng, K_), E_W=float(rng.uniform(0.2, 4)), E_H=float(rng.uniform(0.2, 4)))
        fills = (rng.uniform(0.2, 0.99), 1.0) if trial % 2 else (1.0, rng.uniform(0.2, 0.99))
        W, H = random_point(rng, problem, K_ + 1, fill_W=fills[0], fill_H=fills[1])
        l, r = slack_sides(problem, W, H)
        lhs += l
        rhs += r
    return at_most(np.array(lhs), np.array(rhs))


# -- numeric / solver ------------------------------------------------------------------------
@check("Property 1/i-nuclear-norm-at-minimizers", origin="paper", part="statement",
       method="numeric", tolerance=1e-6,
       reason="relative; ||Z*||_* of Eq. 91 by Clarabel at TIGHT tolerances, on the boundary to ~1e-11 (measured)",
       claim="Property 1 (i) at computed minimizers of Eq. 91 (E_H != E_W, K = 3..5): ||Z*||_* equals the constant")
def _nuclear_norm_at_minimizers() -> Outcome:
    nuc, printed, corrected = [], [], []
    for i, pr in enumerate(instances()):
        nuc.append(nuclear_norm(nuclear_solution(i).detail["Z"]))
        printed.append(float(np.sqrt(pr.E_H * pr.E_W)))
        corrected.append(printed_radius(pr.E_H, pr.E_W, pr.K))
    return printed_vs_derived(np.array(printed), np.array(nuc), np.array(corrected), relative=True,
                              printed=_I_PRINTED, corrected=_I_CORRECTED,
                              evidence=_I_EVIDENCE + "; the same misprint as Property 1/i-constant-symbolic, here at "
                                                     "the computed minimizers of Eq. 91 (observed: ||Z*||_* per "
                                                     "instance, expected: the printed sqrt(E_H E_W))")


#: Instances of (ii): the three random profiles (solved once, shared with Lemma 1) and one two-size problem.
NONCONVEX_INSTANCES = 4


@functools.lru_cache(maxsize=None)
def nonconvex_solution(index: int) -> Any:
    """The nonconvex solver on ``instances()[index]`` (4 starts; Lemma 1's solve for its profiles)."""
    from lpm_verify.solvers.nonconvex import solve_lpm
    if index < len(PROFILE_KEYS):
        return solutions(*PROFILE_KEYS[index])[2]
    return solve_lpm(instances()[index], starts=4, seed=index)


def energy_gaps(problem: LPMProblem, feature_energy: float, classifier_energy: float) -> np.ndarray:
    """Relative gaps ``|feature energy / E_H - 1|`` and ``|classifier energy / E_W - 1|``."""
    return np.array([abs(feature_energy / problem.E_H - 1), abs(classifier_energy / problem.E_W - 1)])


@check("Property 1/ii-nonconvex-saturates", origin="paper", part="statement",
       method="numeric", tolerance=1e-8,
       reason="relative; the nonconvex solver's radii a, b are box-constrained and sit at their bound 1 up to rounding",
       claim="Property 1 (ii): the minimizers of Eq. 7 found by the nonconvex solver have feature energy E_H and "
             "classifier energy E_W")
def _nonconvex_saturates() -> Outcome:
    gaps = [energy_gaps(pr, nonconvex_solution(i).feature_energy, nonconvex_solution(i).classifier_energy)
            for i, pr in enumerate(instances()[:NONCONVEX_INSTANCES])]
    return all_zero(np.concatenate(gaps))


def sdp_saturation_errors(problem: LPMProblem, X: np.ndarray, duals: dict[str, float]) -> np.ndarray:
    """(iii) at one SDP solution: relative gaps of both trace constraints, and the shortfall of each
    multiplier below :data:`MULTIPLIER_FLOOR` (positive multipliers make *every* minimizer saturate, by
    complementary slackness under strong duality)."""
    K_ = problem.K
    return np.concatenate([energy_gaps(problem, np.trace(X[:K_, :K_]) / K_, np.trace(X[K_:, K_:]) / K_),
                           [max(0.0, MULTIPLIER_FLOOR - duals["E_H"]), max(0.0, MULTIPLIER_FLOOR - duals["E_W"])]])


@check("Property 1/iii-sdp-saturates", origin="paper", part="statement",
       method="solver", tolerance=1e-8,
       reason="relative; Clarabel at TIGHT tolerances leaves slacks ~1e-11 (measured)",
       claim="Property 1 (iii): the minimizers of Eq. 15 saturate both trace constraints, with positive multipliers")
def _sdp_saturates() -> Outcome:
    errors = [sdp_saturation_errors(pr, sdp_solution(i).X, sdp_solution(i).detail["duals"])
              for i, pr in enumerate(instances())]
    return all_zero(np.concatenate(errors))
