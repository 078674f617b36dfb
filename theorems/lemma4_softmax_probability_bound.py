"""Lemma 4: the bound on the summed own-class softmax probability used in the proof of Theorem 4.

    sum_{i,k} S(W h_{k,i})(k) <= L(0),                                               (Eq. 59)
    L(t) = N - ( t/2 + K (n - t) / (1 + exp(K/(K-1) sqrt(n/(n-t)) s - log(K-1))) ),   t in [0:n-1],
    L(n) = N - n/2,                                                                    (Eq. 54)

with ``s = sqrt(E_H E_W)``.  ``L(0)/N = 1/(1 + (K-1) e^{-K s/(K-1)})`` is the softmax probability at
Eq. 9, so Eq. 59 is Theorem 4 for the linear loss ``g1(x) = 1 - x``.

Checked: Eq. 52 and the second derivative Eq. 53 (sympy); the case split and the bounds Eqs. 60-63 on
seeded random feasible points; every printed step of ``L'(t) < 0`` (sympy, and the equivalence of
``f(K s/(K-1)) < 0`` with Theorem 4's assumption); ``L(t) <= L(0)`` above the boundary; equality at
Eq. 9; the nonconvex solver for the linear loss above the boundary; and that Eq. 59 fails below the
boundary, so Theorem 4's assumption (in force where Lemma 4 is stated, inside the proof of Theorem 4,
and invoked by its proof) is needed.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import mpmath
import numpy as np
import sympy as sp

from lpm_verify import backend as bk
from lpm_verify.outcomes import at_most, compare, printed_vs_derived
from lpm_verify.problem import LPMProblem
from lpm_verify.records import Outcome
from lpm_verify.registry import check
from lpm_verify.symbolic import Identity, decide_identity, identities_outcome, printed_identity_outcome
from theorems._softmax_bounds import (LINEAR, STEP_REASON, STEP_TOL, SOLVER_REASON, assumption_gap,
                                       boundary_lambert, etf_point_mp, etf_probability, one_vs_rest_point,
                                       random_feasible_point, solver_gaps)

K_, n_, t_, s_, x_, C_ = sp.symbols("K n t s x C", positive=True)


# -- L(t), Eq. 54 -----------------------------------------------------------------------------
def L(t: int, K: int, n: int, s: Any) -> Any:
    """``L(t)`` of Eq. 54 at the working precision (``s = sqrt(E_H E_W)``)."""
    N = K * n
    if t == n:
        return N - mpmath.mpf(n) / 2
    x = mpmath.mpf(K) / (K - 1) * mpmath.sqrt(mpmath.mpf(n) / (n - t)) * s
    return N - (mpmath.mpf(t) / 2 + K * (n - t) / (1 + mpmath.exp(x - mpmath.log(K - 1))))


def g0(x: Any, K: int) -> Any:
    """``g0(x) = 1/(1 + (K-1) e^x)`` (before Eq. 53)."""
    return 1 / (1 + (K - 1) * mpmath.exp(x))


def margins(W: np.ndarray, H: Sequence[np.ndarray]) -> np.ndarray:
    """``m[k, i] = (1/(K-1)) sum_{k'!=k} z_{k,i}(k') - z_{k,i}(k)``, ``z_{k,i} = W h_{k,i}``  # (K, n)."""
    K = W.shape[0]
    out = []
    for k in range(K):
        Z = H[k].dot(W.T)  # (n, K)
        out.append((np.sum(Z, axis=1) - Z[:, k]) / (K - 1) - Z[:, k])
    return np.stack(out)


def own_probabilities(W: np.ndarray, H: Sequence[np.ndarray]) -> np.ndarray:
    """``S(z_{k,i})(k)  # (K, n)``."""
    return np.stack([bk.softmax(H[k].dot(W.T), axis=1)[:, k] for k in range(W.shape[0])])


def lemma4_steps(W: np.ndarray, H: Sequence[np.ndarray], E_W: Any, E_H: Any,
                 bound: Callable[[int, int, int, Any], Any] = L) -> dict[str, Any]:
    """Every bound of the proof of Lemma 4 at one feasible point, as ``name -> [(lhs, rhs), ...]`` for
    ``lhs <= rhs`` (an equality contributes both directions).  Uses the case split (i)/(ii) with
    ``t = |S_1|``; ``bound`` is the candidate for ``L(t)`` of Eq. 54 used in Eq. 63."""
    K, n = W.shape[0], H[0].shape[0]
    s = mpmath.sqrt(E_H * E_W)
    m = margins(W, H)
    P = own_probabilities(W, H)
    cut = mpmath.log(mpmath.mpf(1) / (K - 1))
    S1 = [i for i in range(n) if any(m[k, i] >= cut for k in range(K))]
    S2 = [i for i in range(n) if i not in S1]
    t = len(S1)
    steps: dict[str, Any] = {
        "Eq. 52": [(P[k, i], g0(m[k, i], K)) for k in range(K) for i in range(n)],
        "Eq. 60": [(sum(P[k, i] for i in S1 for k in range(K)), t * (mpmath.mpf(1) / 2 + K - 1))],
    }
    if S2:
        mean = sum(m[k, i] for i in S2 for k in range(K)) / ((n - t) * K)
        total = sum(P[k, i] for i in S2 for k in range(K))
        steps["Eq. 61"] = [(total, sum(g0(m[k, i], K) for i in S2 for k in range(K))),
                           (sum(g0(m[k, i], K) for i in S2 for k in range(K)), (n - t) * K * g0(mean, K))]
        Cpp = mpmath.sqrt(n * E_H / ((n - t) * E_W))
        wsum = np.sum(W, axis=0)
        hbar = [sum(H[k][i] for k in range(K)) / K for i in range(n)]
        m0 = sum(m[k, i] for i in S2 for k in range(K))
        m1 = sum(np.sum(sum(H[k][i] for k in range(K)) * wsum) - K * sum(np.sum(H[k][i] * W[k]) for k in range(K))
                 for i in S2) / (K - 1)
        w2 = np.sum(W * W)
        half = -mpmath.mpf(K) / (2 * (K - 1))  # -K/(2(K-1)) at the working precision
        tail = Cpp * K * (n - t) / (2 * (K - 1)) * w2
        m2 = half * sum(np.sum((hbar[i] - H[k][i]) ** 2) for k in range(K) for i in S2) / Cpp - tail
        m3 = half * sum(np.sum(H[k][i] ** 2) for k in range(K) for i in S2) / Cpp - tail
        m4 = half * sum(np.sum(H[k] ** 2) for k in range(K)) / Cpp - tail
        m5 = -mpmath.mpf(K) ** 2 / (K - 1) * mpmath.sqrt(E_H * E_W * (n - t) * n)
        steps["Eq. 62"] = [(m0, m1), (m1, m0), (m2, m1), (m3, m2), (m4, m3), (m5, m4)]
    steps["Eq. 63"] = [(np.sum(P), bound(t, K, n, s))]
    steps["t"] = t
    return steps


def worst_violation(steps_list: Sequence[dict[str, Any]], names: Sequence[str]) -> Any:
    """Largest ``lhs - rhs`` over the named steps of many points (``<= 0`` when all hold)."""
    worst = mpmath.mpf("-inf")
    for steps in steps_list:
        for name in names:
            for lhs, rhs in steps.get(name, []):
                worst = max(worst, lhs - rhs)
    return worst


def _points() -> list[tuple[np.ndarray, list[np.ndarray], Any, Any]]:
    """Seeded feasible points above the boundary (``s = 1.2 s*(K)``), Gaussian and near-ETF, K = 2..5."""
    rng = np.random.default_rng(4)
    out = []
    for j in range(24):
        K, n = int(rng.integers(2, 6)), int(rng.integers(1, 4))
        s = mpmath.mpf("1.2") * boundary_lambert(K)
        E_W = mpmath.mpf(str(rng.choice(["0.5", "1", "2"])))
        E_H = s * s / E_W
        W, H = random_feasible_point(rng, K, n, K + 1, E_W, E_H, near_etf=j % 2 == 0)
        out.append((W, H, E_W, E_H))
    return out


@functools.lru_cache(maxsize=1)
def _steps() -> tuple[dict[str, Any], ...]:
    return tuple(lemma4_steps(W, H, E_W, E_H) for W, H, E_W, E_H in _points())


@check("Lemma 4/eqs-52-60-61-62-63", origin="paper", part="derivation",
       method="proof-step", digits=30, tolerance=STEP_TOL, reason=STEP_REASON,
       claim="Eq. 52, the case bounds Eq. 60 (S_1) and Eq. 61 (S_2), the chain Eq. 62 and Eq. 63 "
             "(sum <= L(t), t = |S_1|) hold at random feasible points.")
def eqs_52_to_63_hold_at_feasible_points() -> Outcome:
    steps = _steps()
    names = ["Eq. 52", "Eq. 60", "Eq. 61", "Eq. 62", "Eq. 63"]
    ts = sorted({st["t"] for st in steps})
    return at_most(worst_violation(steps, names), 0, t_values=ts,
                   points_with_S2=sum("Eq. 61" in st for st in steps))


def eq55_lhs(W: np.ndarray, H: Sequence[np.ndarray], printed: bool) -> Any:
    """Left side of Eq. 55: ``(1/N) sum_{i,k} S(z_{k,i})(i)`` as printed (needs ``n <= K``) or with ``(k)``."""
    K, n = W.shape[0], H[0].shape[0]
    S = [bk.softmax(H[k].dot(W.T), axis=1) for k in range(K)]  # (n, K) each
    return sum(S[k][i, i if printed else k] for i in range(n) for k in range(K)) / (K * n)


def one_class_point(K: int, s: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """A feasible point of Eq. 7 (n = 1, p = K, ``E_W = E_H = s``) on which every example predicts class 1:
    ``w_1 = sqrt(K s) e_1``, ``w_k = 0`` (k >= 2) and ``h_{k,1} = sqrt(s) e_1`` for every k (both energies equal s)."""
    W = np.array([[mpmath.mpf(0)] * K for _ in range(K)], dtype=object)  # (K, K)
    W[0, 0] = mpmath.sqrt(K * s)
    H = []
    for _ in range(K):
        h = np.array([[mpmath.mpf(0)] * K], dtype=object)  # (1, K)
        h[0, 0] = mpmath.sqrt(s)
        H.append(h)
    return W, H


#: Eq. 9 points (K, n, s) where Eq. 55 must be tight, and (K, s) for :func:`one_class_point`; s is above s*(K).
EQ55_TIGHT = [(3, 2, "2.5"), (4, 3, "3.5"), (5, 2, "4.5")]
EQ55_ONE_CLASS = [(3, "5")]


def eq55_error(printed: bool) -> tuple[Any, Any]:
    """``(tightness, violation)`` of Eq. 55 with the printed index ``(i)`` or with ``(k)``: the largest
    ``|lhs - L(0)/N|`` at Eq. 9 (Eq. 56 needs equality there) and the largest ``lhs - L(0)/N`` at
    :func:`one_class_point` (an inequality must hold at every feasible point)."""
    tight = max(abs(eq55_lhs(*etf_point_mp(K, n, mpmath.mpf(s), mpmath.mpf(s)), printed=printed)
                    - L(0, K, n, mpmath.mpf(s)) / (K * n)) for K, n, s in EQ55_TIGHT)
    over = max(eq55_lhs(*one_class_point(K, mpmath.mpf(s)), printed=printed) - L(0, K, 1, mpmath.mpf(s)) / K
               for K, s in EQ55_ONE_CLASS)
    return tight, max(over, mpmath.mpf(0))


@check("Lemma 4/eq55-index", origin="paper", part="derivation",
       method="proof-step", digits=40, tolerance=1e-35,
       claim="Eq. 55 as printed, (1/N) sum_{i,k} S(z_{k,i})(i) <= L(0)/N, holds at every feasible point and is tight "
             "at Eq. 9 (as Eq. 56 needs).",
       reason="40-digit arithmetic on sums of at most 12 probabilities")
def eq55_own_class_sum_bounded() -> Outcome:
    p_tight, p_over = eq55_error(printed=True)
    c_tight, c_over = eq55_error(printed=False)
    return printed_vs_derived(
        max(p_tight, p_over), 0, max(c_tight, c_over),
        printed="(1/N) sum_{i=1}^n sum_{k=1}^K S(z_{k,i})(i) <= L(0)/N  (Eq. 55, SI Appendix A.2)",
        corrected="(1/N) sum_{i=1}^n sum_{k=1}^K S(z_{k,i})(k) <= L(0)/N  (as Eq. 59 and Eq. 51 have it)",
        evidence="with the class index (i) replaced by the example index the printed sum is (a) not tight at Eq. 9: "
                 f"it is below L(0)/N by up to {mpmath.nstr(p_tight, 6)} at (K, n, s) in {EQ55_TIGHT}, so Eq. 56 "
                 "would not be attained, and (b) not even an upper bound: at the feasible point n = 1, K = 3, "
                 "E_W = E_H = 5 (above s*(3) = 2.28) with w_1 = sqrt(15) e, w_2 = w_3 = 0, h_{k,1} = sqrt(5) e, "
                 f"it exceeds L(0)/N by {mpmath.nstr(p_over, 6)}. With (k): tightness gap {mpmath.nstr(c_tight, 3)}, "
                 f"excess {mpmath.nstr(c_over, 3)}. An index typo (S(z)(i) needs n <= K to be defined at all).",
        tightness_printed=p_tight, excess_printed=p_over)


# -- Eq. 53 and the monotonicity of L(t) --------------------------------------------------------
def g0_second_derivative_printed(x: Any, C: Any) -> Any:
    """Eq. 53 as printed: ``-e^x (1 + C e^x)(1 - C e^x) / (1 + C e^x)^4``."""
    return -sp.exp(x) * (1 + C * sp.exp(x)) * (1 - C * sp.exp(x)) / (1 + C * sp.exp(x)) ** 4


def g0_second_derivative_corrected(x: Any, C: Any) -> Any:
    """``C e^x (C e^x - 1) / (1 + C e^x)^3``."""
    return C * sp.exp(x) * (C * sp.exp(x) - 1) / (1 + C * sp.exp(x)) ** 3


def formula_gap(candidate: Any, truth: Any, symbols: Sequence[sp.Symbol], points: Sequence[Sequence[Any]]) -> Identity:
    """Whether sympy proves ``candidate == truth``; else ``|candidate - truth|`` at the exact ``points``."""
    return decide_identity(candidate, truth, points=[dict(zip(symbols, pt)) for pt in points])


@check("Lemma 4/eq53-g0-second-derivative", origin="paper", part="derivation",
       method="symbolic", digits=None, tolerance=0.0,
       claim="Eq. 53: g0''(x) = -exp(x)(1 + C exp(x))(1 - C exp(x)) / (1 + C exp(x))^4 for g0 = 1/(1 + C e^x).",
       reason="exact sympy differentiation and simplification")
def eq53_g0_second_derivative() -> Outcome:
    truth = sp.diff(1 / (1 + C_ * sp.exp(x_)), x_, 2)
    points = [(sp.Rational(1, 3), 2), (-1, 3), (sp.Rational(1, 2), 4)]
    return printed_identity_outcome(
        formula_gap(g0_second_derivative_printed(x_, C_), truth, (x_, C_), points),
        formula_gap(g0_second_derivative_corrected(x_, C_), truth, (x_, C_), points),
        printed_form="g0''(x) = -exp(x)(1 + C exp(x))(1 - C exp(x)) / (1 + C exp(x))^4",
        corrected_form="g0''(x) = C exp(x)(C exp(x) - 1) / (1 + C exp(x))^3",
        evidence="Eq. 53 (SI Appendix A.2), g0(x) = 1/(1 + C e^x), C = K - 1: sympy simplifies printed/derived to "
                 "1/C, i.e. "
                 "the printed form lacks the factor C (equal only for K = 2; at (x, C) = (1/2, 4) the difference is "
                 "0.063); its sign, and so the concavity region x < log(1/(K-1)) used in Eq. 61, is unaffected")


def L_prime_steps() -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """The printed steps of ``L'(t) < 0`` as ``name -> (printed, derived)`` pairs that must be equal."""
    s_total = s_
    E = sp.exp(K_ / (K_ - 1) * sp.sqrt(n_ / (n_ - t_)) * s_total - sp.log(K_ - 1))
    q = K_ / (1 + E)
    L_t = K_ * n_ - (t_ / 2 + (n_ - t_) * q)
    q_prime_printed = (-sp.Rational(1, 2) * K_ * E * K_ / (K_ - 1) * s_total * sp.sqrt(n_) * (n_ - t_) ** sp.Rational(-3, 2)
                       / (1 + E) ** 2)
    q_prime_bound = -sp.Rational(1, 2) * K_ ** 2 / (K_ - 1) * s_total * sp.sqrt(n_) * (n_ - t_) ** sp.Rational(-3, 2) / (1 + E)
    x_t = K_ / (K_ - 1) * sp.sqrt(n_ / (n_ - t_)) * s_total
    f = K_ * x_ + 2 * K_ - 1 - sp.exp(x_ - sp.log(K_ - 1))
    x0 = K_ / (K_ - 1) * s_total
    return {
        "L'(t) = -[1/2 - q + q'(n-t)]": (-(sp.Rational(1, 2) - q + sp.diff(q, t_) * (n_ - t_)), sp.diff(L_t, t_)),
        "q'(t) as printed": (q_prime_printed, sp.diff(q, t_)),
        "q'(t) >= bound (ratio e/(1+e))": (sp.diff(q, t_) / q_prime_bound, E / (1 + E)),
        "bound on L'(t) rewritten": ((sp.Rational(1, 2) * K_ ** 2 / (K_ - 1) * s_total * sp.sqrt(n_) / sp.sqrt(n_ - t_) + K_)
                                     / (1 + E) - sp.Rational(1, 2),
                                     (K_ * x_t + 2 * K_ - 1 - E) / (2 * (1 + E))),
        "f'(x) = K - exp(x)/(K-1)": (K_ - sp.exp(x_) / (K_ - 1), sp.diff(f, x_)),
        "f(K s/(K-1)) as printed": (K_ ** 2 / (K_ - 1) * s_total + 2 * K_ - 1 - sp.exp(K_ * s_total / (K_ - 1)) / (K_ - 1),
                                    f.subs(x_, x0)),
        # (K-1) f(x0) = exp(K (s - phi(s))/(K-1)) - exp(K s/(K-1)) with phi = Theorem 4's assumption_gap, so
        # f(x0) < 0 iff phi(s) > 0: the step 'f(K s/(K-1)) < 0 by our assumption' is exactly the assumption
        "(K-1) f(x0) = e^{K(s - phi(s))/(K-1)} - e^{K s/(K-1)}": (
            (K_ - 1) * f.subs(x_, x0),
            sp.exp(K_ * (s_total - assumption_gap(s_total, K_)) / (K_ - 1)) - sp.exp(K_ * s_total / (K_ - 1))),
    }


LPRIME_POINTS = [(3, 5, 2, sp.Rational(5, 2), sp.Rational(1, 3)), (4, 7, 3, sp.Rational(7, 2), sp.Rational(2, 5))]


@check("Lemma 4/L-prime-steps", origin="paper", part="derivation",
       method="symbolic", digits=None, tolerance=0.0,
       claim="Each printed step of L'(t) < 0 (L'(t), q'(t), its bound, the rewritten fraction, f'(x), f(Ks/(K-1)), "
             "and f(Ks/(K-1)) < 0 being Theorem 4's assumption) is an exact identity.",
       reason="exact sympy simplification; unproved identities are evaluated at exact points (nonzero = fail)")
def L_prime_steps_are_identities() -> Outcome:
    return L_prime_outcome(L_prime_steps())


def L_prime_outcome(steps: dict[str, tuple[sp.Expr, sp.Expr]]) -> Outcome:
    """Largest :func:`formula_gap` over the ``(printed, derived)`` pairs of ``steps`` (0 iff all are identities)."""
    return identities_outcome({name: formula_gap(a, b, (K_, n_, t_, s_, x_), LPRIME_POINTS)
                               for name, (a, b) in steps.items()})


def L_max_excess(Ks: Sequence[int], ns: Sequence[int], factors: Sequence[str]) -> Any:
    """``max_t L(t) - L(0)`` over ``t in [1:n]`` at ``s = factor * s*(K)`` (``<= 0`` is the proof's claim)."""
    worst = mpmath.mpf("-inf")
    for K in Ks:
        s_star = boundary_lambert(K)
        for n in ns:
            for factor in factors:
                s = mpmath.mpf(factor) * s_star
                worst = max(worst, max(L(t, K, n, s) for t in range(1, n + 1)) - L(0, K, n, s))
    return worst


@check("Lemma 4/L-max-at-zero", origin="paper", part="derivation",
       method="numeric", digits=30, tolerance=0.0,
       claim="Above the boundary L(t) < L(0) for every t in [1:n] (including L(n) < L(0)): K = 2..6, n = 1..40, "
             "sqrt(E_H E_W) in {1.0001, 1.1, 2, 5} s*.",
       reason="strict inequality of closed forms at 30 digits: required to hold with margin 1e-20 (rounding ~1e-28); "
              "the smallest measured margin is 0.022")
def L_is_maximal_at_zero() -> Outcome:
    # strict: L(t) = L(0) must fail, so the bound is a rounding margin below 0 (measured excess: -0.022)
    return at_most(L_max_excess(range(2, 7), range(1, 41), ("1.0001", "1.1", "2", "5")), mpmath.mpf("-1e-20"))


@check("Lemma 4/equality-at-etf", origin="paper", part="statement",
       method="proof-step", digits=40, tolerance=1e-35,
       claim="At Eq. 9 the sum of own-class probabilities equals L(0) (Eq. 59 is tight), L(0)/N is the ETF "
             "softmax probability 1/(1 + (K-1) exp(-K s/(K-1))), and Lemma 4's equality conditions hold.",
       reason="40-digit arithmetic on sums of at most 20 probabilities")
def probability_bound_tight_at_etf() -> Outcome:
    return equality_at_etf_outcome()


EQUALITY_CASES = ((2, 3, "1.5"), (3, 2, "2.5"), (4, 1, "3.3"), (5, 2, "7"))


def equality_at_etf_outcome(point: Callable[..., tuple[np.ndarray, list[np.ndarray]]] = etf_point_mp,
                            cases: Sequence[tuple[int, int, str]] = EQUALITY_CASES) -> Outcome:
    """Tightness of Eq. 59, ``L(0)/N`` vs the ETF probability, and Lemma 4's equality conditions at
    ``point(K, n, E_W, E_H)`` (default Eq. 9) with ``E_W = E_H = s``."""
    gaps = []
    for K, n, s in cases:
        s = mpmath.mpf(s)
        W, H = point(K, n, s, s)
        gaps += [abs(np.sum(own_probabilities(W, H)) - L(0, K, n, s)), abs(L(0, K, n, s) / (K * n) - etf_probability(K, s))]
        gaps += [abs(x) for x in equality_conditions(W, H, s, s)]
    return compare(0, max(gaps))


def equality_conditions(W: np.ndarray, H: Sequence[np.ndarray], E_W: Any, E_H: Any) -> list[Any]:
    """Residuals of Lemma 4's equality conditions: ``|S_1|``, ``hbar_i - h_{k,i} + sqrt(E_H/E_W) w_k``, both
    energies minus their bounds, and ``hbar_i`` (all 0 exactly when Eq. 59 is tight)."""
    K, n = W.shape[0], H[0].shape[0]
    C = mpmath.sqrt(E_H / E_W)
    hbar = [sum(H[k][i] for k in range(K)) / K for i in range(n)]
    cut = mpmath.log(mpmath.mpf(1) / (K - 1))
    m = margins(W, H)
    t = sum(1 for i in range(n) if any(m[k, i] >= cut for k in range(K)))
    out = [mpmath.mpf(t), np.sum(W * W) / K - E_W, sum(np.sum(Hk * Hk) for Hk in H) / (K * n) - E_H]
    out += [x for i in range(n) for k in range(K) for x in hbar[i] - H[k][i] + C * W[k]]
    out += [x for i in range(n) for x in hbar[i]]
    return out


# -- the statement: solver above the boundary, counterexample below ------------------------------
def linear_problems(Ks: Sequence[int] = (3, 4, 5), factors: Sequence[float] = (1.05, 1.5)) -> list[LPMProblem]:
    """Eq. 7 with ``g1(x) = 1 - x`` (objective ``1 - (1/N) sum S``), ``n = 2``, ``p = K + 1``, ``E_W = 1``."""
    return [LPMProblem.balanced(K, 2, 1.0, (f * float(boundary_lambert(K))) ** 2, p=K + 1, loss=LINEAR)
            for K in Ks for f in factors]


def linear_reference(problem: LPMProblem) -> float:
    """``1 - L(0)/N``: the objective that Eq. 59 says no feasible point goes below."""
    K, n = problem.K, int(problem.sizes[0])
    return float(1 - L(0, K, n, mpmath.sqrt(mpmath.mpf(problem.E_H * problem.E_W))) / (K * n))


@check("Lemma 4/solver-above-boundary", origin="paper", part="statement",
       method="solver", tolerance=1e-9, reason=SOLVER_REASON,
       claim="Above the boundary the nonconvex solver of Eq. 7 with g1(x) = 1 - x never gets (1/N) sum S above L(0)/N "
             "and reaches it: K in {3, 4, 5}, sqrt(E_H E_W) in {1.05, 1.5} s*.")
def solver_respects_probability_bound() -> Outcome:
    res = solver_gaps(linear_problems(), linear_reference)
    return Outcome(expected="gap >= 0 and |gap| small", observed=res, error=max(-res["beats"], res["value"]),
                   detail=res)


def statement_violation(K: int, s: Any, alpha: Any, beta: Any) -> Any:
    """``sum S - L(0)`` at the one-versus-rest point of Theorem 4's module (n = 1, ``E_W = E_H = s``)."""
    W, H = one_vs_rest_point(K, s, s, alpha, beta)
    return np.sum(own_probabilities(W, H)) - L(0, K, 1, s)


#: The one-versus-rest point below the boundary: (K, sqrt(E_H E_W) = E_W = E_H, alpha, beta) of
#: :func:`theorems.theorem4_softmax.one_vs_rest_point` (n = 1).
BELOW_BOUNDARY = (4, "0.3", "0.75", "0.875")


@check("Lemma 4/assumption-needed", origin="beyond", part="statement",
       method="numeric", digits=30, tolerance=0.0,
       claim="Lemma 4 rests on Theorem 4's assumption, which its proof invokes (f'(x) < 0, L'(t) < 0, L(n) < L(0)): "
             "below the boundary Eq. 59 fails by at least 1e-3 at a feasible point (K = 4, n = 1, E_W = E_H = 0.3, "
             "s* = 3.21; w_1 = sqrt(0.9) e, w_k = -sqrt(0.1) e, h_1 = sqrt(1.05) e, h_k = -sqrt(0.05) e).",
       reason="exact inequality evaluated at 30 digits; the 1e-3 margin is 1e24 times the rounding")
def probability_bound_fails_below_boundary() -> Outcome:
    K, s, alpha, beta = BELOW_BOUNDARY
    excess = statement_violation(K, mpmath.mpf(s), mpmath.mpf(alpha), mpmath.mpf(beta))
    return at_most(-excess, mpmath.mpf("-1e-3"), sum_S_minus_L0=mpmath.nstr(excess, 12),
                   note="Lemma 4 is stated inside the proof of Theorem 4, whose assumption is in force: the "
                        "statement's 'for any feasible solution' is not an erratum, but the assumption is needed")
