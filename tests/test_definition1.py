"""Negative controls and unit tests for theorems/definition1_etf.py (Definition 1, simplex ETF)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
import sympy as sp

from lpm_verify import geometry
from lpm_verify.commands.registry import load_all
from lpm_verify.outcomes import printed_vs_derived
from lpm_verify.records import Verdict
from lpm_verify.registry import REGISTRY, judge
from lpm_verify.verdict_rule import verdict_for
from theorems import definition1_etf as d1
from theorems._etf import ij_product

load_all()



def test_registered_checks_pass_or_erratum() -> None:
    verdicts = {c.id: c.run().verdict for c in REGISTRY.checks(["Definition 1"])}
    assert verdicts.pop("Definition 1/footnote-p=K-1") == "erratum"
    assert set(verdicts.values()) == {"pass"}


@pytest.mark.parametrize("scale, centre", [
    (sp.sqrt(d1.K_SYM / (d1.K_SYM + 1)), d1.PRINTED_CENTRE),   # wrong normalisation
    (d1.PRINTED_SCALE, -1 / (d1.K_SYM - 1)),                     # wrong centring
    (sp.Integer(1), d1.PRINTED_CENTRE),                          # no normalisation
])
def test_symbolic_gram_rejects_wrong_formula(scale: sp.Expr, centre: sp.Expr) -> None:
    assert judge("Definition 1/gram-symbolic-K", d1.gram_entries_error(scale, centre)) == Verdict.FAIL


def test_ij_algebra_matches_explicit_matrices() -> None:
    """(a1 I + b1 J)(a2 I + b2 J) as computed in span{I, J} equals the explicit product for K = 4."""
    K = 4
    x, y = (sp.Rational(2, 3), sp.Rational(-1, 5)), (sp.Integer(3), sp.Rational(1, 7))
    a, b = ij_product(x, y, K)
    J = sp.ones(K, K)
    assert (x[0] * sp.eye(K) + x[1] * J) * (y[0] * sp.eye(K) + y[1] * J) == a * sp.eye(K) + b * J


def test_explicit_frames_reject_wrong_scale() -> None:
    out = d1.explicit_frames_error(scale_of=lambda K: sp.sqrt(sp.Rational(K + 1, K)))
    assert judge("Definition 1/explicit-K2-6", out) == Verdict.FAIL


def test_cayley_P_is_exactly_partial_orthogonal() -> None:
    P = d1.cayley_partial_orthogonal(6, 4, seed=2)
    assert P.T * P == sp.eye(4) and P.shape == (6, 4)


def test_proof_facts_detect_non_orthogonal_P() -> None:
    K = 3
    P = sp.Matrix([[1, 0, 0], [0, 2, 0], [0, 0, 1], [0, 0, 0]])  # P^T P != I
    facts = d1.proof_facts_error(K, P, d1.etf_exact(K, P))
    assert facts["P^T P - I"] != 0
    bad_M = d1.etf_exact(K, d1.cayley_partial_orthogonal(4, K), centre=sp.Integer(0))  # no centring
    facts = d1.proof_facts_error(K, d1.cayley_partial_orthogonal(4, K), bad_M)
    assert facts["M 1"] != 0 and facts["rank M - (K-1)"] != 0


def test_footnote_distinguishes_printed_and_normalised_column() -> None:
    assert d1.footnote_orthogonality_error(4, sp.ones(4, 1)) == 3  # |K - 1| on the diagonal entry
    assert d1.footnote_orthogonality_error(4, sp.ones(4, 1) / 2) == 0
    assert d1.footnote_etf_error(4) == 0


def simplex_etf_error(make: Callable[..., np.ndarray] = geometry.simplex_etf, Ks: tuple[int, ...] = tuple(range(2, 11)),
                      seed: int = 0) -> tuple[float, dict]:
    """Largest deviation of ``make(K, p, rng)`` from unit norms, zero column sum and cosine -1/(K-1),
    p in {K-1, K, 2K} (was the check 'Definition 1/simplex-etf-numeric': it tests our constructor)."""
    rng = np.random.default_rng(seed)
    worst, detail = 0.0, {}
    for K in Ks:
        for p in (K - 1, K, 2 * K):
            M = make(K, p, rng)  # (p, K)
            target = np.full((K, K), -1.0 / (K - 1))
            np.fill_diagonal(target, 1.0)
            err = max(float(np.max(np.abs(M.T @ M - target))), abs(M.shape[0] - p),
                      float(np.max(np.abs(M.sum(axis=1)))))
            detail[f"K={K},p={p}"] = err
            worst = max(worst, err)
    return worst, detail


#: float64 QR/SVD of matrices of size <= 20: a few ulps times K.
SIMPLEX_ETF_TOL = 1e-13


def test_simplex_etf_error_rejects_uncentred_frame() -> None:
    def uncentred(K: int, p: int, rng: np.random.Generator) -> np.ndarray:
        return np.sqrt(K / (K - 1)) * np.eye(p, K) if p >= K else np.zeros((p, K))
    worst, _ = simplex_etf_error(uncentred, Ks=(2, 3))
    assert worst > SIMPLEX_ETF_TOL


def test_geometry_simplex_etf_is_a_simplex_etf_for_K_2_to_10() -> None:
    worst, detail = simplex_etf_error(geometry.simplex_etf)
    assert worst < SIMPLEX_ETF_TOL, detail
    assert {"K=2,p=1", "K=2,p=2", "K=2,p=4", "K=10,p=9", "K=10,p=20"} <= set(detail)


def test_footnote_check_fails_for_a_wrong_or_printed_correction() -> None:
    tol = REGISTRY.get("Definition 1/footnote-p=K-1").tolerance
    printed = float(max(d1.footnote_orthogonality_error(K, sp.ones(K, 1)) for K in d1.EXPLICIT_K))
    wrong = float(max(d1.footnote_orthogonality_error(K, sp.ones(K, 1) / K) for K in d1.EXPLICIT_K))  # 1_K/K
    for candidate in (printed, wrong):
        outcome = printed_vs_derived(printed, 0.0, candidate, printed="", corrected="", evidence="")
        assert verdict_for(outcome, tol) == Verdict.FAIL


def test_proof_facts_check_fails_for_an_uncentred_frame() -> None:
    """Without the centring I - 11^T/K the columns do not sum to 0 and rank M = K; the check must fail."""
    assert judge("Definition 1/proof-facts", d1.proof_facts_outcome(Ks=(3,))) == Verdict.PASS
    uncentred = d1.proof_facts_outcome(lambda K, P: d1.etf_exact(K, P, centre=sp.Integer(0)), Ks=(3,))
    assert judge("Definition 1/proof-facts", uncentred) == Verdict.FAIL
