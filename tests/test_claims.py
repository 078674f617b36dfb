"""The registry's verdict rule, its bookkeeping, and that every kind of outcome can fail."""
from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest

from lpm_verify.check_inputs import CheckInputs
from lpm_verify.outcomes import at_most, compare, printed_vs_derived, skipped
from lpm_verify.records import NON_FAILING, CheckRecord, Method, Outcome, Verdict
from lpm_verify.registry import Check, Registry, check
from lpm_verify.verdict_rule import verdict_for


def _run(fn, tolerance=1e-12, digits=15):
    return Check("Theorem 1/x", "Theorem 1", "c", Method.NUMERIC, tolerance, "test", digits, fn).run()


def test_compare_passes_within_and_fails_outside_tolerance():
    assert _run(lambda: compare(1.0, 1.0 + 1e-14)).verdict == "pass"
    assert _run(lambda: compare(1.0, 1.0 + 1e-9)).verdict == "fail"


def test_compare_on_arrays_uses_the_worst_entry():
    assert _run(lambda: compare(np.zeros(3), np.array([0, 0, 1e-6]))).verdict == "fail"


def test_relative_error_scales_by_expected():
    assert compare(1e6, 1e6 + 1e-7, relative=True).error == pytest.approx(1e-13)


def test_inequality_holds_and_is_violated():
    assert _run(lambda: at_most([1, 2], [1, 3])).verdict == "pass"
    rec = _run(lambda: at_most([1, 2.5], [1, 2]))
    assert rec.verdict == "fail" and rec.error == pytest.approx(0.5)


def test_erratum_only_when_printed_misses_and_corrected_matches():
    ok = printed_vs_derived(2.0, 2.0, 3.0, printed="2", corrected="3", evidence="e")
    assert verdict_for(ok, 1e-12) is Verdict.PASS
    err = printed_vs_derived(3.0, 2.0, 2.0, printed="3", corrected="2", evidence="e")
    assert verdict_for(err, 1e-12) is Verdict.ERRATUM
    both_wrong = printed_vs_derived(3.0, 2.0, 4.0, printed="3", corrected="4", evidence="e")
    assert verdict_for(both_wrong, 1e-12) is Verdict.FAIL


def test_nan_error_and_exceptions_fail():
    assert _run(lambda: compare(1.0, float("nan"))).verdict == "fail"

    def boom():
        raise ZeroDivisionError("x")
    rec = _run(boom)
    assert rec.verdict == "fail" and "ZeroDivisionError" in rec.detail["exception"]


def test_a_check_must_return_an_outcome():
    assert _run(lambda: 0.0).verdict == "fail"


def test_skipped_records_its_reason():
    rec = _run(lambda: skipped("MOSEK has no license here"))
    assert rec.verdict == "skipped" and "MOSEK" in rec.skip_reason


def test_working_precision_is_set_and_restored():
    before = mpmath.mp.dps
    rec = _run(lambda: compare(mpmath.mpf(mpmath.mp.dps), mpmath.mpf(50)), tolerance=0, digits=50)
    assert rec.verdict == "pass" and mpmath.mp.dps == before


def test_duplicate_and_unknown_ids_and_results():
    reg = Registry()
    check("Lemma 2/a", claim="c", method="symbolic", tolerance=0, reason="exact", registry=reg)(lambda: compare(0, 0))
    with pytest.raises(ValueError, match="already registered"):
        check("Lemma 2/a", claim="c", method="symbolic", tolerance=0, reason="exact", registry=reg)(lambda: compare(0, 0))
    with pytest.raises(KeyError, match="Did you mean: Lemma 2/a"):
        reg.get("Lemma 2/b")
    with pytest.raises(ValueError, match="not one of"):
        check("Lemma 99/a", claim="c", method="symbolic", tolerance=0, reason="exact", registry=reg)(lambda: compare(0, 0))
    with pytest.raises(ValueError, match="reason"):
        check("Lemma 2/c", claim="c", method="symbolic", tolerance=0, reason=" ", registry=reg)(lambda: compare(0, 0))


def test_record_round_trips_through_json_with_high_precision_numbers():
    mpmath.mp.dps = 40
    try:
        rec = _run(lambda: compare(mpmath.mpf(1) / 3, mpmath.mpf(1) / 3), tolerance=0, digits=40)
    finally:
        mpmath.mp.dps = 15
    data = json.loads(json.dumps(rec.to_json()))
    assert data["expected"].startswith("0.333333333333333333333333333333")
    assert CheckRecord.from_json(data).verdict == "pass"
    assert {"result", "claim", "method", "verdict", "expected", "observed", "error", "tolerance",
            "precision_digits", "seconds", "detail"} <= set(data)


def test_error_is_a_float_even_for_infinite_disagreement():
    rec = _run(lambda: compare(0.0, math.inf))
    assert rec.verdict == "fail"


def test_warnings_raised_by_a_check_are_kept_in_its_record():
    import warnings

    def noisy():
        warnings.warn("clarabel solved only to optimal_inaccurate", RuntimeWarning)
        return compare(1.0, 1.0)
    rec = _run(noisy)
    assert rec.verdict == "pass"
    assert rec.detail["warnings"] == ["RuntimeWarning: clarabel solved only to optimal_inaccurate"]


# -- NaN and inf never pass (each case passed before the non-finite guard) -------------------
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("lhs, rhs", [([NAN, -1.0], [0.0, 0.0]), ([-1.0, NAN], [0.0, 0.0]),
                                      ([-1.0, -1.0], [0.0, NAN]), (NAN, 0.0), ([-INF, -1.0], [0.0, 0.0]),
                                      ([-1.0], [INF]),
                                      (np.array([mpmath.mpf(-1), mpmath.mpf("nan")], dtype=object), 0)])
def test_an_inequality_with_a_non_finite_side_fails(lhs, rhs):
    assert _run(lambda: at_most(lhs, rhs)).verdict == "fail"


@pytest.mark.parametrize("expected, observed", [
    ([1.0, 2.0], [1.0, NAN]), ([1.0, NAN], [1.0, 2.0]), ([NAN, 2.0], [NAN, 2.0]), ([INF, 1.0], [INF, 1.0]),
    (np.array([1.0, 2.0]), np.array([1.0, INF])), (INF, INF),
    (np.array([mpmath.mpf(1), mpmath.mpf(2)], dtype=object), np.array([mpmath.mpf(1), mpmath.mpf("nan")], dtype=object)),
    (mpmath.mpf(1), mpmath.mpf("nan")), (mpmath.mpf("inf"), mpmath.mpf("inf")),
    (np.array([1.0 + 0j, 2.0]), np.array([1.0 + 0j, complex(NAN, 0)])),
])
def test_a_comparison_with_a_non_finite_entry_fails(expected, observed):
    assert _run(lambda: compare(expected, observed)).verdict == "fail"
    assert _run(lambda: compare(expected, observed, relative=True)).verdict == "fail"


@pytest.mark.parametrize("printed_value", [NAN, math.inf, -math.inf, mpmath.mpf("nan"), mpmath.mpf("inf")])
def test_a_non_finite_printed_value_is_a_failure_never_an_erratum(printed_value):
    """An erratum needs the printed form evaluated and refuted; the corrected form matching proves nothing
    about a printed form that evaluates to NaN or inf."""
    out = printed_vs_derived(printed_value, 1.0, 1.0, printed="p", corrected="c", evidence="e")
    assert out.corrected_error == 0.0 and verdict_for(out, 1e-12) is Verdict.FAIL
    assert verdict_for(Outcome(1, 2, NAN, corrected_error=0.0), 1e-12) is Verdict.FAIL
    assert verdict_for(Outcome(1, 2, math.inf, corrected_error=0.0), 1e-12) is Verdict.FAIL


@pytest.mark.parametrize("corrected_value", [NAN, math.inf])
def test_a_refuted_printed_form_with_a_non_finite_correction_fails(corrected_value):
    out = printed_vs_derived(3.0, 2.0, corrected_value, printed="3", corrected="c", evidence="e")
    assert verdict_for(out, 1e-12) is Verdict.FAIL


def test_a_printed_formula_with_a_non_finite_derived_value_is_no_erratum():
    out = printed_vs_derived([1.0, 2.0], [1.0, NAN], [1.0, NAN], printed="p", corrected="c", evidence="e")
    assert verdict_for(out, 1e-12) is Verdict.FAIL


def test_finite_mpf_arrays_still_compare_at_their_precision():
    a = np.array([mpmath.mpf(1) / 3, mpmath.mpf(2)], dtype=object)
    assert compare(a, a.copy()).error == 0.0
    assert at_most(a, a + 1).error == 0.0


# -- inconclusive experiments, literature citations, inputs as an argument ------------------------------
def test_an_experiment_outside_its_regime_is_inconclusive_and_other_methods_fail():
    out = Outcome("cos >= 0.9", 0.2, 1.0, inconclusive_reason="weight-decay exposure X = 3 < 10")
    assert verdict_for(out, 0, Method.EXPERIMENT) is Verdict.INCONCLUSIVE
    assert verdict_for(out, 0, Method.NUMERIC) is Verdict.FAIL  # a formula has no regime to miss
    assert Verdict.INCONCLUSIVE in NON_FAILING
    record = Check("Figure 4/x", "Figure 4", "c", Method.EXPERIMENT, 0, "count", 15, lambda: out).run()
    assert record.verdict == "inconclusive" and record.inconclusive_reason.startswith("weight-decay")
    assert CheckRecord.from_json(json.loads(json.dumps(record.to_json()))).inconclusive_reason == \
        record.inconclusive_reason


def test_a_literature_check_needs_a_citation_and_only_it_may_have_one():
    reg = Registry()
    kw = dict(claim="c", method="numeric", tolerance=0, reason="exact", registry=reg)
    with pytest.raises(ValueError, match="citation"):
        check("Lemma 2/a", origin="literature", **kw)(lambda: compare(0, 0))
    with pytest.raises(ValueError, match="citation"):
        check("Lemma 2/b", origin="paper", citation="Papyan, Han, Donoho (2020)", **kw)(lambda: compare(0, 0))
    check("Lemma 2/c", origin="literature", citation="Papyan, Han, Donoho, arXiv:2008.08186, Thm 1",
          **kw)(lambda: compare(0, 0))
    record = reg.get("Lemma 2/c").run()
    assert record.origin == "literature" and record.to_json()["citation"].startswith("Papyan")


def test_a_check_receives_the_inputs_as_its_argument(tmp_path):
    reg = Registry()
    kw = dict(claim="c", method="experiment", tolerance=0, reason="count", registry=reg)
    check("Figure 4/reads", **kw)(lambda inputs: compare(1.0, float(inputs.runs == tmp_path)))
    check("Figure 4/plain", **kw)(lambda: compare(0, 0))
    assert reg.get("Figure 4/reads").takes_inputs and not reg.get("Figure 4/plain").takes_inputs
    assert reg.get("Figure 4/reads").run(CheckInputs(runs=tmp_path)).verdict == "pass"
    assert reg.get("Figure 4/reads").run().verdict == "not-reproduced"  # default inputs: no store
    assert reg.get("Figure 4/plain").run(CheckInputs(runs=tmp_path)).verdict == "pass"
    with pytest.raises(ValueError, match="no argument or one"):
        check("Figure 4/two", **kw)(lambda a, b: compare(0, 0))


def test_worker_processes_get_the_inputs_as_an_argument(tmp_path):
    from lpm_verify.commands.registry import load_all, run_checks
    checks = load_all().checks(["Table 1"])
    (serial,) = run_checks(checks, CheckInputs(runs=tmp_path / "empty"))
    (parallel,) = run_checks(checks, CheckInputs(runs=tmp_path / "empty"), jobs=2)
    assert serial.verdict == parallel.verdict == "skipped"
    assert str(tmp_path / "empty") in parallel.skip_reason
