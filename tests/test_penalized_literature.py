"""The penalized model beside its literature (theorems/penalized_literature.py): each check fails for a wrong
conversion, a wrong threshold or a perturbed SEL matrix, and the SEL / square-loss core functions."""
from __future__ import annotations


import numpy as np
import pytest

from lpm_verify.records import Outcome, Verdict
from lpm_verify.registry import judge
from lpm_verify.errors import LPMInputError
from lpm_verify.penalized_mse import PenalizedMSE
from lpm_verify.seli import direction_distance, one_hot, sel_matrix
from lpm_verify.symbolic import decide_zero, identities_outcome
from theorems import penalized_literature as lit


def _max_error(rows: list[dict]) -> float:
    return max(r.get("relative_error", r.get("error")) for r in rows)


def test_their_normalization_fails_for_a_wrong_conversion_factor():
    rows = lit.normalization_rows(conversion=lambda N: 1)  # lambda_H(mean) = lambda_H(sum): no factor N
    assert judge("Penalized LPM/hong-ling-normalization", Outcome(None, rows, _max_error(rows))) is Verdict.FAIL


def test_direct_solve_of_their_objective_fails_for_a_threshold_without_the_square():
    rows = lit.direct_rows(rule=lambda N, lw, lh: N * lw * lh)
    assert judge("Penalized LPM/hong-ling-direct", Outcome(None, rows, _max_error(rows))) is Verdict.FAIL


def test_their_objective_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    W, H, b = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(3)
    labels = np.array([0, 0, 1, 2, 2])
    f, gW, _, gb = lit.hong_ling_objective(W, H, b, labels, 0.1, 0.2, 0.3)
    eps = 1e-6
    dW = np.zeros_like(W)
    dW[1, 2] = eps
    assert (lit.hong_ling_objective(W + dW, H, b, labels, 0.1, 0.2, 0.3)[0] - f) / eps == pytest.approx(gW[1, 2],
                                                                                                        abs=1e-5)
    db = np.array([0.0, 0.0, eps])
    assert (lit.hong_ling_objective(W, H, b + db, labels, 0.1, 0.2, 0.3)[0] - f) / eps == pytest.approx(gb[2], abs=1e-5)


def test_a_perturbed_sel_matrix_fails_its_definition():
    K = lit.Ksym
    wrong = lit.sel_identities(on=1 - 1 / K, off=-1 / (K - 1))
    assert judge("Penalized LPM/seli-definition",
                 identities_outcome({k: decide_zero(v) for k, v in wrong.items()})) is Verdict.FAIL


def test_seli_limit_fails_for_a_perturbed_sel_matrix():
    K = lit.SELI_CASE[0]
    sel = np.eye(K) - 1.0 / K
    bump = np.random.default_rng(0).standard_normal((K, K))
    target = sel + 0.3 * np.linalg.norm(sel) * bump / np.linalg.norm(bump)
    rows = lit.seli_rows(target)
    assert judge("Penalized LPM/seli-limit", Outcome(None, rows, lit.seli_error(rows))) is Verdict.FAIL


def test_seli_distances_fall_like_one_over_log():
    rows = lit.seli_rows()
    assert [round(r["distance"], 2) for r in rows[:4]] == [0.79, 0.52, 0.38, 0.31]
    assert lit.seli_error(rows) == 0.0


def test_sel_matrix_has_unit_margins_and_centered_columns():
    Y = one_hot((3, 1, 2))
    S = sel_matrix(Y)
    labels = Y.argmax(axis=0)
    own = S[labels, np.arange(S.shape[1])]
    assert np.allclose(own[None, :] - S + Y, 1.0)  # margin 1 to every other class (0 against itself + Y)
    assert np.allclose(S.sum(axis=0), 0.0)
    assert direction_distance(2 * S, S) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(LPMInputError, match="sizes"):
        one_hot((2, 1.5))


def test_mse_threshold_fails_without_the_square():
    wrong = lit.mse_identities(rule=lambda N, lw, lh: N * lw * lh)
    assert judge("Penalized LPM/mse-zero-derivation",
                 identities_outcome({k: decide_zero(v) for k, v in wrong.items()})) is Verdict.FAIL
    rows = lit.mse_rows(rule=lambda N, lw, lh: N * lw * lh)
    assert judge("Penalized LPM/mse-zero-threshold", Outcome(None, rows, _max_error(rows))) is Verdict.FAIL


def test_mse_closed_form_minimum_is_attained_by_the_balanced_factors():
    problem = PenalizedMSE((5, 2, 1), 0.02, 0.05)
    sig = problem.singular_values()
    scale = (problem.lambda_H / problem.lambda_W) ** 0.25
    W = np.diag(scale * np.sqrt(sig))  # U = I: the classes are Y's left singular vectors
    Y = one_hot(problem.sizes)
    H = np.diag(np.sqrt(sig) / scale) @ (Y / np.sqrt(np.asarray(problem.sizes, float))[:, None])
    assert problem.objective(W, H) == pytest.approx(problem.minimum(), rel=1e-12)
    assert problem.zero_classes() == [s == 0 for s in sig]
    with pytest.raises(LPMInputError, match="sizes"):
        PenalizedMSE((3, 1.5), 0.1, 0.1)


def _record(check_id: str, verdict: str, origin: str = "paper", citation: str | None = None):
    from lpm_verify.records import CheckRecord
    return CheckRecord(check_id, check_id.split("/", 1)[0], "claim of " + check_id, "numeric", verdict, 0, 0, 0.0,
                       1e-12, "reason", 15, 0.1, {}, origin=origin, citation=citation)


def test_related_rows_group_literature_by_citation_and_list_each_finding():
    from lpm_verify.report.related_section import related_rows, related_section, split_citation
    from lpm_verify.report.document import Document
    from lpm_verify.report.render import to_markdown
    cite = "A. B, 'Title: with a colon', arXiv 2208.05512 (NeurIPS 2022): the limit is SEL"
    records = [_record("Theorem 5/a", "pass"),
               _record("Penalized LPM/x", "pass", "literature", cite),
               _record("Penalized LPM/y", "fail", "literature", cite),
               _record("Penalized LPM/z", "pass", "beyond")]
    rows = related_rows(records)
    assert [(r.source, r.verdict) for r in rows] == [
        ("literature: A. B, 'Title: with a colon', arXiv 2208.05512 (NeurIPS 2022)", "fail"),
        ("beyond (this suite's finding)", "pass")]
    assert rows[0].result == "the limit is SEL" and "Penalized LPM/y (numeric)" in rows[0].checked
    assert split_citation("no arXiv id here") == ("no arXiv id here", "")
    text = to_markdown(Document("T", "s", [related_section(records)]))
    assert "1 published result" in text and "1 finding" in text and "Theorem 5/a" not in text


def test_nonconvex_solve_in_the_sum_form_equals_the_mean_form_with_n_lambda_H():
    from lpm_verify.penalized import PenalizedLPM
    from lpm_verify.solvers.penalized_nonconvex import solve_penalized_nonconvex
    sizes = (4, 4, 1, 1)
    total = solve_penalized_nonconvex(PenalizedLPM(sizes, 0.05, 0.02, p=6, feature_penalty="sum"), starts=1)
    mean = solve_penalized_nonconvex(PenalizedLPM(sizes, 0.05, 0.02 * sum(sizes), p=6), starts=1)
    assert total.objective == pytest.approx(mean.objective, rel=1e-9)
