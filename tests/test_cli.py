"""Command-line behaviour shared by every subcommand: bad input is one line and exit status 2, a failure
one line and exit status 1 (a traceback only with --debug), inputs checked before any work."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lpm_verify.cli import main


def test_verify_writes_json_records(tmp_path, capsys):
    out = tmp_path / "out.json"
    rc = main(["verify", "--only", "Definition 1", "--json", str(out)])
    records = json.loads(out.read_text())["records"]
    assert rc in (0, 1)
    assert records and all(r["result"] == "Definition 1" for r in records)
    assert rc == (1 if any(r["verdict"] == "fail" for r in records) else 0)
    assert "verdict" in capsys.readouterr().out


def test_unknown_result_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "lpm_verify", "verify", "--only", "Theorem 99"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --only must name a result")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# -- one-line errors, exit 2 for bad input and 1 for a failure, inputs checked before work ------------------------

def run_cli(argv, capsys):
    """``(status, stdout, stderr)`` of ``main(argv)`` in-process."""
    rc = main(argv)
    got = capsys.readouterr()
    return rc, got.out, got.err


def assert_one_line_error(rc, err, status, pattern):
    assert rc == status, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ") and re.search(pattern, err), err


@pytest.mark.parametrize("argv,status,pattern", [
    (["solve", "--EW", "1e4", "--EH", "1e4"], 2, r"--EW, --EH must be such that 0.001 <= sqrt\(E_W E_H\)"),
    (["solve", "--EW", "1e-20"], 2, r"--EW, --EH must be such that 0.001 <="),
    (["solve", "--R", "1e308"], 2, r"--R must be a number > 0 in \[1e-100, 1e\+100\]"),
    (["threshold", "--K", "99999999999"], 2, r"--K must be an integer in \[2, 10000\]"),
    (["threshold", "--EW", "1e4", "--EH", "1e4"], 2, r"--EW, --EH must be"),
    (["threshold", "--digits", "1000"], 2, r"--digits must be an integer in \[15, 200\]"),
    (["solve", "--R", "nan"], 2, r"--R must be a number > 0"),
    (["solve", "--EW", "inf"], 2, r"--EW must be a finite number > 0"),
    (["solve", "--K", "x"], 2, r"argument --K: invalid int value"),
    (["solve", "--sizes", "1,,2"], 2, r"--sizes must be at least two comma-separated finite numbers"),
    (["solve", "--sizes", "5"], 2, r"--sizes must be at least two"),
    (["solve", "--sizes", "1,nan"], 2, r"--sizes must be"),
    (["sweep", "--R", "1:inf:5", "--out", "o"], 2, r"--R must be start:stop:num with finite"),
    (["sweep", "--R", "1:1e400:3", "--out", "o"], 2, r"--R must be start:stop:num with finite"),
    (["sweep", "--R", "-1:100:5", "--out", "o"], 2, r"--R must be start:stop:num .*got '-1:100:5'"),
    (["sweep", "--R", "1:10:0", "--out", "o"], 2, r"--R must be"),
    (["sweep", "--KA", "", "--out", "o"], 2, r"--KA must be at least one integer"),
    (["verify", "--only", ""], 2, r"--only must name a result"),
    (["verify", "--jobs", "0"], 2, r"--jobs must be an integer >= 1"),
    (["report", "--only", " "], 2, r"--only must be a result"),
    (["report", "--sweep-points", "100000"], 2, r"--sweep-points must be an integer in \[2, 1000\]"),
    (["nonsense"], 2, r"invalid choice: 'nonsense'"),
])
def test_bad_input_and_failures_are_one_line(argv, status, pattern, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rc, _, err = run_cli(argv, capsys)
    assert_one_line_error(rc, err, status, pattern)


def test_tiny_budgets_are_solved_like_the_sdp(capsys):
    """E_W = 1e-6 once raised an uncaught SolverError in solve and threshold: now a one-line error."""
    rc, out, err = run_cli(["solve", "--EW", "1e-6", "--R", "100", "--json"], capsys)
    assert rc == 0, err
    sym = json.loads(out)
    rc, out, err = run_cli(["solve", "--EW", "1e-6", "--R", "100", "--method", "sdp", "--json"], capsys)
    sdp = json.loads(out)
    assert rc == 0 and sym["regime"] == sdp["regime"] == "minority-collapse-zero (M0 A+ B0)"
    # Clarabel's absolute feasibility tolerance 1e-8 is 1e-2 of E_W = 1e-6 here: objectives agree to ~1e-6
    assert abs(sym["objective"] - sdp["objective"]) < 1e-5
    rc, out, err = run_cli(["threshold", "--EW", "1e-6", "--json"], capsys)
    assert rc == 0 and json.loads(out)["certified"] is True, err


def test_sweep_validates_every_KA_before_solving(capsys, monkeypatch, tmp_path):
    from lpm_verify.commands import sweep as sweep_cmd

    def must_not_run(*a, **k):
        raise AssertionError("sweep solved before validating all of --KA")
    monkeypatch.setattr(sweep_cmd, "sweep", must_not_run)
    rc, _, err = run_cli(["sweep", "--K", "10", "--KA", "3,10", "--out", str(tmp_path)], capsys)
    assert_one_line_error(rc, err, 2, r"--KA must be integers in \[1, K-1\] = \[1, 9\]; got 10")


@pytest.mark.parametrize("kind", ["existing-file", "file-as-parent", "unwritable"])
def test_output_paths_checked_before_any_work(kind, capsys, monkeypatch, tmp_path):
    from lpm_verify.commands import sweep as sweep_cmd
    from lpm_verify.commands import verify as verify_cmd
    monkeypatch.setattr(sweep_cmd, "sweep", lambda *a, **k: pytest.fail("sweep ran"))
    monkeypatch.setattr(verify_cmd, "run_checks", lambda *a, **k: pytest.fail("checks ran"))
    afile = tmp_path / "a.txt"
    afile.write_text("keep")
    target = {"existing-file": afile, "file-as-parent": afile / "sub", "unwritable": Path("/proc/lpm-verify-x")}[kind]
    for argv in (["sweep", "--R", "1:10:2", "--out", str(target)], ["report", "--out", str(target)]):
        rc, _, err = run_cli(argv, capsys)
        assert_one_line_error(rc, err, 2, r"--out")
    json_target = {"existing-file": tmp_path, "file-as-parent": afile / "x.json",
                   "unwritable": Path("/proc/x.json")}[kind]
    rc, _, err = run_cli(["verify", "--only", "Definition 1", "--json", str(json_target)], capsys)
    assert_one_line_error(rc, err, 2, r"--json")
    assert afile.read_text() == "keep"


def test_size_limits_refuse_with_the_limit_and_the_method_that_can(capsys):
    for method in ("sdp", "nuclear"):
        rc, _, err = run_cli(["solve", "--K", "200", "--KA", "100", "--R", "100", "--method", method], capsys)
        assert_one_line_error(rc, err, 2, rf"--method {method} accepts K <= 40; got K = 200 .*51\.5 GB.*"
                                          r"use --method symmetric \(K <= 2000\)")
    rc, _, err = run_cli(["solve", "--digits", "100000"], capsys)
    assert_one_line_error(rc, err, 2, r"--digits must be an integer in \[15, 2000\]")
    rc, _, err = run_cli(["solve", "--K", "5000", "--KA", "1"], capsys)
    assert_one_line_error(rc, err, 2, r"accepts K <= 2000")
    rc, _, err = run_cli(["sweep", "--K", "100", "--KA", "5", "--method", "sdp", "--out", "x"], capsys)
    assert_one_line_error(rc, err, 2, r"--K must be <= 40 for --method sdp")


def test_conic_memory_estimate_matches_the_observed_abort():
    from lpm_verify.commands.solve import conic_memory_bytes
    # K = 200 once aborted allocating 51 GB; the dense PSD block estimate gives the same size
    assert 50e9 < conic_memory_bytes(200) < 52e9


def test_equal_and_huge_sizes(capsys):
    rc, out, err = run_cli(["solve", "--sizes", "10,10,10", "--json"], capsys)
    assert rc == 0, err
    got = json.loads(out)
    assert got["cos_minority"] is None and got["minority"].startswith("none")
    assert abs(got["cos_all"] + 0.5) < 1e-12  # the ETF of Theorem 1, K = 3: cosine -1/(K-1)
    rc, out, err = run_cli(["solve", "--sizes", "1e308,1e308,1", "--json"], capsys)
    assert rc == 0, err
    assert json.loads(out)["sizes"] == [1e308, 1e308, 1.0]
    # found by the slow CLI fuzz: a size ratio past float64's range (1.1e310) overflowed the homotopy's length
    rc, out, err = run_cli(["solve", "--sizes", "1_000,9.065327301662308e-308", "--json"], capsys)
    assert rc == 0, err
    assert json.loads(out)["status"] == "optimal"


def test_unexpected_error_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    from lpm_verify.commands import solve as solve_cmd

    def boom(args):
        raise ZeroDivisionError("boom")
    monkeypatch.setattr(solve_cmd, "solve_instance", boom)
    rc, _, err = run_cli(["solve"], capsys)
    assert_one_line_error(rc, err, 1, r"internal error \(ZeroDivisionError: boom\); rerun with --debug")
    for argv in (["--debug", "solve"], ["solve", "--debug"]):
        rc, _, err = run_cli(argv, capsys)
        assert rc == 1 and "Traceback" in err and "ZeroDivisionError: boom" in err


def test_solver_failure_is_one_line_and_exit_1(capsys, monkeypatch):
    from lpm_verify.errors import SolverError
    from lpm_verify.solvers import symmetric

    def fails(*a, **k):
        raise SolverError("symmetric solver: no regime passed the KKT certificate at this point")
    monkeypatch.setattr(symmetric, "solve_symmetric", fails)
    rc, _, err = run_cli(["solve"], capsys)
    assert_one_line_error(rc, err, 1, r"^error: solver failure: symmetric solver: no regime passed")


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0 and "COMMAND" in capsys.readouterr().out
    assert main(["solve", "--help"]) == 0 and "--sizes" in capsys.readouterr().out


def test_verify_prints_one_line_per_result_when_stderr_is_a_log(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lpm_verify", "verify", "--only", "Definition 1", "--only",
                           "Lemma 2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("checks: ")]
    assert [ln.split(" done")[0] for ln in lines] == ["checks: Definition 1", "checks: Lemma 2"], proc.stderr
    assert "\r" not in proc.stderr  # no progress bar in a log


# -- one regime vocabulary; majority / minority of a general size profile ----------------------------------------

def test_solve_and_threshold_name_the_R1_regime_alike(capsys):
    rc, out, _ = run_cli(["solve", "--K", "10", "--KA", "5", "--R", "1", "--json"], capsys)
    solve_regime = json.loads(out)["regime"]
    rc2, out2, _ = run_cli(["threshold", "--K", "10", "--KA", "5", "--json"], capsys)
    assert rc == rc2 == 0
    assert solve_regime == json.loads(out2)["regimes"]["R=1.0"] == "distinct (M1 A+ B+)"


def test_sizes_minority_is_the_smallest_classes(capsys):
    import numpy as np

    from lpm_verify.solvers.base import group_stats
    from lpm_verify.solvers.symmetric import Profile, solve_symmetric
    rc, out, _ = run_cli(["solve", "--sizes", "30,30,10,10,1,1", "--EW", "1", "--EH", "2", "--json"], capsys)
    got = json.loads(out)
    assert rc == 0 and got["majority"] == "classes of the largest size"
    pi = np.array([30, 30, 10, 10, 1, 1]) / 82
    X = np.asarray(solve_symmetric(Profile.from_fractions(pi.tolist(), 1.0, 2.0)).X, dtype=float)
    Gw = X[6:, 6:]
    smallest, _ = group_stats(Gw, [4, 5])
    all_but_largest, _ = group_stats(Gw, [2, 3, 4, 5])
    assert abs(got["cos_minority"] - smallest) < 1e-9
    assert abs(all_but_largest - smallest) > 0.1  # the old definition is a different number here


def test_report_prints_progress_lines_when_stderr_is_a_log(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lpm_verify", "report", "--only", "Definition 1", "--no-train",
                           "--sweep-points", "2", "--skip-slow", "--out", str(tmp_path / "rep"), "--runs",
                           str(tmp_path / "runs")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    for step in ("report: checks done", "checks: Definition 1 done", "report: LPM sweeps and thresholds done",
                 "report: network experiments done"):
        assert any(ln.startswith(step) for ln in lines), proc.stderr
    assert "\r" not in proc.stderr


def test_the_imagenet_flag_and_its_environment_default_give_the_same_answer(tmp_path, monkeypatch, capsys):
    """The variable is read at the command line's edge only, as the flag's default: same check, same message."""
    absent = str(tmp_path / "absent.pt")
    assert main(["verify", "--only", "Figure 9", "--imagenet-checkpoint", absent]) == 2
    by_flag = capsys.readouterr().err
    monkeypatch.setenv("LPM_VERIFY_IMAGENET_CHECKPOINT", absent)
    assert main(["verify", "--only", "Figure 9"]) == 2
    assert capsys.readouterr().err == by_flag and "--imagenet-checkpoint must be an existing state-dict file" in by_flag


# -- an import that fails: a missing optional package, or a bug --------------------------------------
def _break_import(monkeypatch, exc: ImportError) -> None:
    """Make importing the ``verify`` subcommand's module raise ``exc``."""
    import importlib
    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == "lpm_verify.commands.verify":
            raise exc
        return real(name, *args, **kwargs)
    monkeypatch.setattr(importlib, "import_module", fake)


@pytest.mark.parametrize("exc", [
    ImportError("cannot import name 'REGISTRY' from 'lpm_verify.claims'", name="lpm_verify.claims"),
    ModuleNotFoundError("No module named 'lpm_verify.claims'", name="lpm_verify.claims"),
    ModuleNotFoundError("No module named 'theorems._gone'", name="theorems._gone"),
    ImportError("cannot import name 'tqdm' from 'tqdm'", name="tqdm"),  # a package present but broken
])
def test_a_broken_internal_import_is_an_internal_error_not_a_missing_package(exc, monkeypatch, capsys):
    _break_import(monkeypatch, exc)
    assert main(["verify", "--only", "Definition 1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "report it" in err
    assert "pip install" not in err and "needs the Python package" not in err and "Traceback" not in err
    _break_import(monkeypatch, exc)
    assert main(["--debug", "verify", "--only", "Definition 1"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_a_missing_optional_third_party_package_gets_the_install_hint(monkeypatch, capsys):
    _break_import(monkeypatch, ModuleNotFoundError("No module named 'torch'", name="torch"))
    assert main(["verify", "--only", "Definition 1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `verify` needs the Python package 'torch'") and "pip install torch" in err
