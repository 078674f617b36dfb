"""A result's two verdicts (lpm_verify.verdicts): statement holds / fails / not checked, printed
derivation exact / N misprints counted by ROOT misprint, experiments pass / not reproduced; each rule
with the record that must flip it (negative controls)."""
from __future__ import annotations

import json

from lpm_verify.records import CheckRecord
from lpm_verify.verdicts import (BEYOND, EXACT, EXPERIMENT, FAILS, HOLDS, INCONCLUSIVE, MISPRINTS, NOT_APPLICABLE, NOT_CHECKED,
                                 NOT_REPRODUCED, PAPER, PASS, all_result_verdicts, misprint_totals, result_verdicts,
                                 summary_json)

ROOTS = {"Theorem 1/minimum-value": "theorem1-Cb", "Theorem 1/eq22-27": "theorem1-Cb",
         "Theorem 1/logit-gap": "theorem1-Cb", "Theorem 1/display": "theorem1-exp",
         "Property 1/i": "property1-K"}


def rec(check_id: str, verdict: str, part: str = "statement", origin: str = "paper",
        method: str = "symbolic") -> CheckRecord:
    return CheckRecord(check_id, check_id.split("/", 1)[0], "claim", method, verdict, 0, 0, 0.0, 1e-12, "why", 15,
                       0.1, {}, part=part, origin=origin)


def test_statement_holds_and_derivation_counts_root_misprints_not_records():
    records = [rec("Theorem 1/eq9", "pass"),
               rec("Theorem 1/minimum-value", "erratum", "derivation"),
               rec("Theorem 1/eq22-27", "erratum", "derivation"),
               rec("Theorem 1/logit-gap", "erratum", "derivation"),
               rec("Theorem 1/display", "erratum", "derivation"),
               rec("Theorem 1/step", "pass", "derivation")]
    v = result_verdicts("Theorem 1", records, ROOTS)
    assert v.kind == PAPER and v.statement.verdict == HOLDS and v.statement.text() == "holds"
    assert v.derivation.verdict == MISPRINTS and v.derivation.misprints == ("theorem1-Cb", "theorem1-exp")
    assert v.derivation.text() == "2 misprints (4 records)"
    # negative control: without the table each record would count as its own misprint
    assert result_verdicts("Theorem 1", records, {}).derivation.text() == "4 misprints (4 records)"
    # negative control: every derivation step passes -> exact
    clean = [r for r in records if r.verdict == "pass"]
    assert result_verdicts("Theorem 1", clean, ROOTS).derivation.text() == EXACT


def test_a_misprint_inside_the_statement_reads_holds_with_the_misprint_named_never_fails():
    v = result_verdicts("Property 1", [rec("Property 1/i", "erratum"), rec("Property 1/ii", "pass")], ROOTS)
    assert v.statement.verdict == HOLDS
    assert v.statement.text() == "holds (with misprint property1-K corrected)"
    assert v.derivation.verdict == NOT_CHECKED


def test_a_failing_statement_check_fails_the_statement_and_a_failing_step_the_derivation():
    records = [rec("Theorem 1/eq9", "pass"), rec("Theorem 1/eq10", "fail"),
               rec("Theorem 1/step", "pass", "derivation")]
    v = result_verdicts("Theorem 1", records, ROOTS)
    assert v.statement.verdict == FAILS and v.statement.failed == ("Theorem 1/eq10",)
    assert v.derivation.verdict == EXACT
    records[2] = rec("Theorem 1/step", "fail", "derivation")
    records.append(rec("Theorem 1/display", "erratum", "derivation"))
    d = result_verdicts("Theorem 1", records, ROOTS).derivation
    assert d.verdict == FAILS and d.text() == "fails; 1 misprint (1 record)"


def test_nothing_run_or_only_skipped_is_not_checked():
    assert result_verdicts("Lemma 3", [], ROOTS).statement.verdict == NOT_CHECKED
    v = result_verdicts("Lemma 3", [rec("Lemma 3/mosek", "skipped")], ROOTS)
    assert v.statement.text() == "not checked (1 skipped)"
    assert result_verdicts("Lemma 3", [rec("Lemma 3/mosek", "pass")], ROOTS).statement.verdict == HOLDS


def test_beyond_checks_do_not_judge_a_result_of_the_paper():
    records = [rec("Theorem 5/limit", "pass"), rec("Theorem 5/finite-R", "fail", origin="beyond")]
    assert result_verdicts("Theorem 5", records, ROOTS).statement.verdict == HOLDS
    only_beyond = result_verdicts("Theorem 5", records[1:], ROOTS)
    assert only_beyond.statement.verdict == NOT_CHECKED and not only_beyond.verdict_counts
    # a beyond-the-paper result is judged by its beyond checks
    own = result_verdicts("Penalized LPM", [rec("Penalized LPM/a", "pass", origin="beyond")], ROOTS)
    assert own.kind == BEYOND and own.statement.verdict == HOLDS
    assert result_verdicts("Penalized LPM", [rec("Penalized LPM/a", "pass")], ROOTS).statement.verdict == NOT_CHECKED


def test_experiment_results_pass_not_reproduced_or_not_checked():
    def exp(verdict):
        return rec("Figure 2/cosine", verdict, method="experiment")
    assert result_verdicts("Figure 2", [exp("pass")], ROOTS).statement.verdict == PASS
    v = result_verdicts("Figure 2", [exp("pass"), exp("not-reproduced")], ROOTS)
    assert v.kind == EXPERIMENT and v.statement.verdict == NOT_REPRODUCED and v.derivation.verdict == NOT_APPLICABLE
    assert result_verdicts("Figure 2", [exp("fail"), exp("pass")], ROOTS).statement.verdict == FAILS
    assert result_verdicts("Figure 2", [exp("skipped")], ROOTS).statement.text() == "not checked (1 skipped)"


def test_an_inconclusive_experiment_is_neither_a_pass_nor_a_finding():
    def exp(verdict):
        return rec("Figure 2/cosine", verdict, method="experiment")
    assert result_verdicts("Figure 2", [exp("inconclusive")], ROOTS).statement.verdict == INCONCLUSIVE
    assert result_verdicts("Figure 2", [exp("pass"), exp("inconclusive")], ROOTS).statement.verdict == INCONCLUSIVE
    assert result_verdicts("Figure 2", [exp("not-reproduced"), exp("inconclusive")], ROOTS
                           ).statement.verdict == NOT_REPRODUCED
    assert result_verdicts("Figure 2", [exp("fail"), exp("inconclusive")], ROOTS).statement.verdict == FAILS
    assert misprint_totals([exp("inconclusive")], ROOTS) == (0, 0)


def test_summary_json_has_one_entry_per_result_and_counts_misprints_by_root():
    records = [rec("Theorem 1/minimum-value", "erratum", "derivation"), rec("Theorem 1/eq22-27", "erratum", "derivation"),
               rec("Property 1/i", "erratum"), rec("Definition 1/gram", "pass")]
    data = json.loads(json.dumps(summary_json(records, ROOTS)))
    assert (data["misprints"], data["erratum_records"]) == (2, 3) == misprint_totals(records, ROOTS)
    by = {r["result"]: r for r in data["results"]}
    assert by["Theorem 1"]["derivation"]["text"] == "1 misprint (2 records)"
    assert by["Property 1"]["statement"]["misprints"] == ["property1-K"]
    assert by["Lemma 3"]["statement"]["verdict"] == NOT_CHECKED
    assert [r["result"] for r in data["results"]] == [v.result for v in all_result_verdicts(records, ROOTS)]


def test_verify_prints_both_verdicts_per_result():
    from lpm_verify.commands.verify import format_summary
    text = format_summary([rec("Property 1/i-constant-symbolic", "erratum"),
                           rec("Property 1/kkt", "pass", "derivation")])
    line = next(ln for ln in text.splitlines() if ln.startswith("Property 1"))
    assert "holds (with misprint property1-K corrected)" in line and line.rstrip().endswith("exact")
    assert "1 misprint (1 erratum record)" in text and "Theorem 1" not in text  # only results run here


def test_a_fixed_width_table_counts_many_statement_misprints_instead_of_naming_them():
    v = result_verdicts("Theorem 1", [rec("Theorem 1/minimum-value", "erratum"), rec("Theorem 1/display", "erratum")],
                        ROOTS)
    assert v.statement.text(max_names=1) == "holds (with 2 misprints corrected)"
    assert v.statement.text() == "holds (with misprints theorem1-Cb, theorem1-exp corrected)"
