"""lpm_verify.symbolic: 'proved' only when sympy reduces the identity to 0, else numeric and said so."""
from __future__ import annotations

import math

import pytest
import sympy as sp

from lpm_verify.errors import LPMInputError
from lpm_verify.records import Verdict
from lpm_verify.symbolic import all_of, decide_identity, decide_zero, identities_outcome, printed_identity_outcome
from lpm_verify.verdict_rule import verdict_for

x = sp.Symbol("x", positive=True)
K = sp.Symbol("K", positive=True, integer=True)
POINTS = [{x: sp.Rational(1, 3)}, {x: sp.Integer(2)}, {x: sp.Rational(7, 2)}]


def test_a_true_identity_is_proved_without_evaluating() -> None:
    identity = decide_identity(sp.log(x**2), 2 * sp.log(x), points=POINTS)
    assert identity.proved and identity.error == 0 and identity.points == 0


def test_a_false_identity_is_refuted_at_an_exact_point() -> None:
    identity = decide_identity(sp.log(x**2), sp.log(x), points=POINTS)
    assert not identity.proved and identity.refuted and identity.points == 3
    assert identity.error == pytest.approx(abs(math.log(7 / 2)))


def test_an_identity_the_simplifiers_cannot_reach_is_numeric_not_proved() -> None:
    """sin^2 + cos^2 = 1 is true; with no rewrite allowed it is only evaluated (rounding residue)."""
    identity = decide_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, points=POINTS, digits=50, simplifiers=())
    assert not identity.proved and not identity.refuted and identity.digits == 50
    assert "numeric at 3 exact points, 50 digits" in identity.describe()
    out = identities_outcome({"pythagoras": identity})
    assert out.detail["proved"] is False and "pythagoras" in out.detail["unproved"]


def test_no_points_and_no_proof_is_nan() -> None:
    identity = decide_zero(sp.sin(x) - x, simplifiers=())
    assert math.isnan(identity.error) and verdict_for(identities_outcome({"i": identity}), 1.0) is Verdict.FAIL


def test_a_free_symbol_left_after_substitution_is_nan() -> None:
    identity = decide_zero(x - K, points=[{x: 1}])
    assert math.isnan(identity.error)


def test_identities_outcome_takes_the_worst_and_proves_only_all() -> None:
    proved = decide_identity(sp.expand((x + 1) ** 2), x**2 + 2 * x + 1)
    wrong = decide_identity(x**2, x, points=POINTS)
    out = identities_outcome({"square": proved, "wrong": wrong})
    assert out.detail["proved"] is False and out.error == wrong.error
    assert identities_outcome({"square": proved}).detail["proved"] is True


def test_printed_identity_outcome_is_erratum_only_when_refuted_and_corrected_proved() -> None:
    printed = decide_identity(sp.log(x**2), sp.log(x), points=POINTS)
    corrected = decide_identity(sp.log(x**2), 2 * sp.log(x), points=POINTS)
    out = printed_identity_outcome(printed, corrected, printed_form="log x", corrected_form="2 log x", evidence="e")
    assert verdict_for(out, 0.0) is Verdict.ERRATUM and out.detail["proved"] is True
    both_wrong = printed_identity_outcome(printed, printed, printed_form="p", corrected_form="c", evidence="e")
    assert verdict_for(both_wrong, 0.0) is Verdict.FAIL and both_wrong.detail["proved"] is False


def test_low_precision_is_refused() -> None:
    with pytest.raises(LPMInputError, match="digits"):
        decide_zero(x, digits=10)


def test_a_nan_anywhere_is_the_worst_error() -> None:
    nan_identity = decide_zero(x - K, points=[{x: 1}])
    fine = decide_identity(x, x)
    for order in ([fine, nan_identity], [nan_identity, fine]):
        assert math.isnan(identities_outcome(order).error)
        assert math.isnan(all_of(order).error)
