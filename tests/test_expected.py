"""The table of expected verdicts (lpm_verify.expected): its schema, its strictness both ways, and
``verify --strict`` holding every check to it (negative controls: a moved verdict, an unknown id)."""
from __future__ import annotations

import pytest

from lpm_verify.errors import LPMInputError
from lpm_verify.expected import Expected, expected_for, parse_expected, pin_problem, pin_problems
from lpm_verify.records import CheckRecord, Verdict


def rec(check_id: str, verdict: str) -> CheckRecord:
    return CheckRecord(check_id, check_id.split("/", 1)[0], "claim", "numeric", verdict, 0, 0, 0.0, 1e-12, "why", 15,
                       0.1, {})


TABLE = {"Theorem 1/minimum-value": Expected(Verdict.ERRATUM, "misprint theorem1-Cb")}


def test_absent_means_pass_and_skipped_is_a_condition_not_a_verdict():
    assert expected_for("Lemma 2/x", TABLE).verdict is Verdict.PASS
    assert pin_problem(rec("Lemma 2/x", "pass"), TABLE) is None
    assert pin_problem(rec("Theorem 1/minimum-value", "erratum"), TABLE) is None
    assert pin_problem(rec("Theorem 1/minimum-value", "skipped"), TABLE) is None
    assert pin_problem(rec("Lemma 2/x", "skipped"), TABLE) is None


def test_a_verdict_that_moves_either_way_is_reported_with_the_reason():
    assert pin_problem(rec("Theorem 1/minimum-value", "pass"), TABLE) == \
        "Theorem 1/minimum-value: expected erratum (misprint theorem1-Cb), got pass"
    assert pin_problem(rec("Lemma 2/x", "erratum"), TABLE) == \
        "Lemma 2/x: expected pass (not in the table of expected verdicts), got erratum"
    assert pin_problem(rec("Lemma 2/x", "inconclusive"), TABLE) is not None


def test_an_entry_for_an_unknown_check_is_an_error():
    assert pin_problems([], TABLE, ["Lemma 2/x"]) == [
        "expected verdicts: 'Theorem 1/minimum-value' is not a registered check"]
    assert pin_problems([], TABLE, ["Theorem 1/minimum-value"]) == []


@pytest.mark.parametrize("entry, message", [
    ({"verdict": "skipped", "reason": "no checkpoint"}, "skipped a condition"),
    ({"verdict": "pass", "reason": "x"}, "pass is the default"),
    ({"verdict": "fail", "reason": "x"}, "must be one of"),
    ({"verdict": "erratum", "reason": "  "}, "non-empty"),
    ({"verdict": "erratum"}, "exactly the keys"),
    ({"verdict": "erratum", "reason": "x", "note": "y"}, "exactly the keys"),
])
def test_a_malformed_entry_is_refused(entry, message):
    with pytest.raises(LPMInputError, match=message):
        parse_expected({"Lemma 2/x": entry}, "t.toml")


def test_verify_strict_exits_1_on_a_verdict_that_differs_from_the_table(monkeypatch, capsys):
    from lpm_verify.cli import main
    from lpm_verify.commands import verify as verify_cmd
    assert main(["verify", "--strict", "--only", "Definition 1/gram-symbolic-K"]) == 0
    monkeypatch.setattr(verify_cmd, "expected_verdicts",
                        lambda: {"Definition 1/gram-symbolic-K": Expected(Verdict.ERRATUM, "a planted misprint")})
    assert main(["verify", "--only", "Definition 1/gram-symbolic-K"]) == 0  # reported, not fatal, without --strict
    assert main(["verify", "--strict", "--only", "Definition 1/gram-symbolic-K"]) == 1
    assert ("Definition 1/gram-symbolic-K: expected erratum (a planted misprint), got pass"
            in capsys.readouterr().err)
    monkeypatch.setattr(verify_cmd, "expected_verdicts",
                        lambda: {"Definition 1/no-such-check": Expected(Verdict.ERRATUM, "x")})
    assert main(["verify", "--strict", "--only", "Definition 1/gram-symbolic-K"]) == 1
    assert "'Definition 1/no-such-check' is not a registered check" in capsys.readouterr().err
