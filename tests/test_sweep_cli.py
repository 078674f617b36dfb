"""sweep rows / CSV / plot, and the solve, sweep, threshold commands (their flags, bad input)."""
from __future__ import annotations

import argparse
import csv
import json
import math

import pytest

from lpm_verify.commands import solve as solve_cmd
from lpm_verify.commands import sweep as sweep_cmd
from lpm_verify.commands import threshold as threshold_cmd
from lpm_verify.errors import LPMInputError
from lpm_verify.sweep import COLUMNS, log_grid, plot_sweep, sweep, write_sweep_csv


def parse(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def test_sweep_rows_closed_form_at_R1_and_inf_row():
    rows = sweep(10, 5, 1.0, 5.0, [1.0, 3.0, 30.0, math.inf])
    assert [r["R"] for r in rows] == [1.0, 3.0, 30.0, math.inf]
    assert set(COLUMNS) <= set(rows[0])
    for key in ("cos_minority", "cos_majority", "cos_all"):
        assert abs(rows[0][key] + 1 / 9) < 1e-13  # Eq. 10: the ETF at R = 1
    assert abs(rows[0]["objective"] - math.log1p(9 * math.exp(-math.sqrt(5.0) * 10 / 9))) < 1e-13
    assert rows[2]["cos_minority"] == pytest.approx(1.0, abs=1e-12) and "collapse" in rows[2]["regime"]
    assert rows[3]["regime"] == "minority-collapse (M1 A+ B0)"


def test_sweep_undefined_cosines_are_nan():
    one = sweep(10, 9, 1.0, 5.0, [2.0])[0]  # K_B = 1: no pair of minority classifiers
    assert math.isnan(one["cos_minority"])
    zero = sweep(10, 7, 1.0, 5.0, [50.0])[0]  # minority classifiers exactly zero (Lemma 5 case (ii))
    assert math.isnan(zero["cos_minority"]) and zero["norm_minority"] == 0.0


def test_sweep_methods_agree():
    R = [4.0, math.inf]
    sym = sweep(6, 3, 1.0, 2.0, R)
    sdp = sweep(6, 3, 1.0, 2.0, R, method="sdp")
    nuc = sweep(6, 3, 1.0, 2.0, R, method="nuclear")
    for a, b, c in zip(sym, sdp, nuc):
        assert abs(a["objective"] - b["objective"]) < 1e-6 and abs(a["objective"] - c["objective"]) < 1e-6
        assert a["regime"] == b["regime"]


def test_csv_and_png(tmp_path):
    rows = sweep(10, 7, 1.0, 5.0, [1.0, 10.0, math.inf])
    write_sweep_csv(rows, str(tmp_path / "s.csv"))
    back = list(csv.DictReader(open(tmp_path / "s.csv")))
    assert [r["R"] for r in back] == ["1.0", "10.0", "inf"] and back[1]["cos_minority"] == "nan"
    plot_sweep(rows, str(tmp_path / "s.png"))
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_log_grid():
    g = log_grid("1:10000:41")
    assert len(g) == 41 and g[0] == 1.0 and abs(g[-1] - 1e4) < 1e-8 and abs(g[10] - 10.0) < 1e-12
    with pytest.raises(LPMInputError, match="--R"):
        log_grid("10:1:5")


def test_solve_command_json(capsys):
    args = parse(solve_cmd, ["--K", "10", "--KA", "5", "--R", "100", "--EW", "1", "--EH", "5", "--digits", "30",
                             "--json"])
    assert solve_cmd.run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["regime"] == "minority-collapse (M1 A+ B0)" and out["status"] == "optimal"
    assert len(out["objective"].replace(".", "").lstrip("0")) >= 30
    assert set(out["certificate"]) >= {"kkt_residual", "gap_bound", "dual_min_eig", "margins"}


def test_solve_command_sizes_and_methods(capsys):
    for method in ("symmetric", "sdp", "nuclear"):
        args = parse(solve_cmd, ["--sizes", "30,30,10,10,1,1", "--EW", "1", "--EH", "2", "--method", method, "--json"])
        assert solve_cmd.run(args) == 0
    outs = [json.loads(block) for block in capsys.readouterr().out.replace("}\n{", "}\n\n{").split("\n\n")]
    objs = [o["objective"] for o in outs]
    assert max(objs) - min(objs) < 1e-6 and outs[0]["K_A"] == 2


def test_threshold_command_json(capsys):
    args = parse(threshold_cmd, ["--K", "10", "--KA", "7", "--EW", "1", "--EH", "5", "--digits", "30", "--json"])
    assert threshold_cmd.run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(t["from"], t["to"]) for t in out["transitions"]] == [
        ("distinct (M1 A+ B+)", "minority-collapse (M1 A+ B0)"),
        ("minority-collapse (M1 A+ B0)", "minority-collapse-zero (M0 A+ B0)")]
    for t in out["transitions"]:
        assert len(t["R"].replace(".", "").lstrip("0")) == 30 and t["certificate"]["certified"]
    assert out["regimes"]["R=inf"] == "minority-collapse-zero (M0 A+ B0)"


def test_sweep_command(tmp_path, capsys):
    args = parse(sweep_cmd, ["--K", "10", "--KA", "3,7", "--EW", "1", "--EH", "5", "--R", "1:100:5", "--out",
                             str(tmp_path)])
    assert sweep_cmd.run(args) == 0
    rows = list(csv.DictReader(open(tmp_path / "sweep.csv")))
    assert len(rows) == 12 and rows[5]["R"] == "inf"
    assert (tmp_path / "sweep.png").exists()
    assert "K_A=7: minority-collapse" in capsys.readouterr().out


@pytest.mark.parametrize("argv,match", [
    (["solve", "--KA", "10"], "--KA must be an integer in"),
    (["solve", "--KA", "0"], "--KA must be an integer in"),
    (["solve", "--R", "-1"], "--R must be a number > 0"),
    (["solve", "--EW", "0"], "--EW must be a finite number > 0"),
    (["solve", "--EH", "-2"], "--EH must be a finite number > 0"),
    (["solve", "--method", "sdp", "--solver", "gurobi"], "unknown solver 'gurobi'.*installed: clarabel, scs"),
    (["solve", "--method", "sdp", "--solver", "mosek"], "mosek is not installed"),
    (["sweep", "--KA", "12", "--out", "x"], "--KA must be integers in"),
    (["threshold", "--KA", "0"], "--KA must be an integer in"),
])
def test_bad_input_exits_2_with_a_message(argv, match, capsys, monkeypatch, tmp_path):
    from lpm_verify.cli import main
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    import re
    assert re.search(match, err), err
