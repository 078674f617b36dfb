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


REGIME_TABLE = parse_expected({"Figure 4/x": {
    "verdict": "inconclusive", "reason": "cpu-report runs are off the regime",
    "in_regime": {"verdict": "pass", "reason": "measured on cpu-regime"}}}, "t.toml")


def test_an_in_regime_store_is_held_to_the_in_regime_pin_chosen_by_the_store_not_the_verdict():
    assert REGIME_TABLE["Figure 4/x"].in_regime == Expected(Verdict.PASS, "measured on cpu-regime")
    assert pin_problem(rec("Figure 4/x", "inconclusive"), REGIME_TABLE) is None
    assert pin_problem(rec("Figure 4/x", "pass"), REGIME_TABLE, in_regime_store=True) is None
    # negative controls: a check that stops deciding on an in-regime store, and one that decides off it
    assert pin_problem(rec("Figure 4/x", "inconclusive"), REGIME_TABLE, in_regime_store=True) == \
        "Figure 4/x: expected pass (measured on cpu-regime), got inconclusive"
    assert pin_problem(rec("Figure 4/x", "pass"), REGIME_TABLE) is not None
    # an entry without an in_regime pin keeps its one pin on every store
    assert pin_problem(rec("Theorem 1/minimum-value", "erratum"), TABLE, in_regime_store=True) is None


@pytest.mark.parametrize("entry, message", [
    ({"verdict": "inconclusive", "reason": "x", "in_regime": {"verdict": "skipped", "reason": "y"}},
     "skipped is a condition"),
    ({"verdict": "inconclusive", "reason": "x", "in_regime": {"verdict": "pass"}}, "exactly the keys"),
    ({"verdict": "inconclusive", "reason": "x", "in_regime": "pass"}, "exactly the keys"),
])
def test_a_malformed_in_regime_pin_is_refused(entry, message):
    with pytest.raises(LPMInputError, match=message):
        parse_expected({"Figure 4/x": entry}, "t.toml")


def test_a_store_holds_regime_runs_only_with_a_finished_run_of_an_in_regime_preset(tmp_path):
    import json
    from experiments.claims_data import holds_regime_runs

    def make_run(root, name, config, metrics):
        (root / name).mkdir()
        (root / name / "config.json").write_text(json.dumps(config))
        if metrics is not None:
            (root / name / "metrics.json").write_text(json.dumps(metrics))

    CONFIG = {"dataset": "fashion-mnist", "arch": "mlp", "preset": "cpu-smoke", "K_A": 5, "R": "inf",
              "n_majority": 100, "n_minority": 0, "epochs": 2, "seed": 0, "wd": 5e-4, "oversample": 1, "bias": False,
              "lr": 0.1, "batch_size": 128, "device": "cpu"}
    METRICS = {"cos_minority": None, "train_acc": 0.9, "test_acc": 0.5}
    assert not holds_regime_runs(None) and not holds_regime_runs(tmp_path / "absent")
    make_run(tmp_path, "report", {**CONFIG, "preset": "cpu-report"}, METRICS)
    make_run(tmp_path, "regime-unfinished", {**CONFIG, "preset": "cpu-regime"}, None)
    assert not holds_regime_runs(tmp_path)  # off-regime and unfinished runs choose the off-regime pins
    make_run(tmp_path, "regime", {**CONFIG, "preset": "cpu-regime"}, METRICS)
    assert holds_regime_runs(tmp_path)
