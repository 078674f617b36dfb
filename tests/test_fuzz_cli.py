"""Fuzz every subcommand's parser and entry point in-process.

Hypothesis generates argument lists with numbers at and beyond their limits, NaN/inf, empty and
malformed lists and ranges, and existing / unwritable output paths, and runs ``lpm_verify.cli.main``.
Every run must end with status 0, 1 or 2, never a traceback nor an "internal error" (an unexpected
exception), and with an ``error:`` line when not 0; a successful ``--json`` run prints one JSON object
and a successful sweep writes its CSV.

The expensive work is kept small: K <= 41 (larger K only where a limit refuses it), sweep grids of at
most 3 points, ``verify`` on one small result, and ``report`` / ``train`` with their builders replaced
by stubs (their argument validation is what runs).  The hypothesis profile sets the number of inputs
(``tests/conftest.py``): a subcommand tries :data:`EXAMPLES` inputs per 100 examples of the profile, so the
``default`` profile (well under a minute in all) tries :data:`EXAMPLES` and ``--hypothesis-profile slow``
(run by ``.ci/run``) ten times more.  Each test prints how many inputs it generated.
"""
from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpm_verify.cli import main

#: Inputs per subcommand per 100 examples of the hypothesis profile (the cheap parsers get more).
EXAMPLES = {"solve": 150, "threshold": 50, "sweep": 60, "verify": 20, "report": 60, "train": 40}

# -- values ------------------------------------------------------------------------------------------------------
SPECIAL_NUMBERS = ["nan", "inf", "-inf", "0", "-0", "-1", "1e400", "1e-400", "1e308", "5e-324", "", " ", "x",
                   "1,2", "0x10", "1_000"]
number = st.one_of(st.sampled_from(SPECIAL_NUMBERS),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.floats(min_value=1e-3, max_value=1e3).map(lambda v: f"{v:.6g}"))
small_int = st.one_of(st.sampled_from(["-1", "0", "1", "2", "3", "5", "41", "2001", "99999999999", "", "x", "2.5"]),
                      st.integers(min_value=-3, max_value=12).map(str))
int_list = st.one_of(st.sampled_from(["", ",", "1,,2", "x", "3,5,7", "0", "1,9", "-1"]),
                     st.lists(small_int, min_size=0, max_size=4).map(",".join))
number_list = st.one_of(st.sampled_from(["", ",", "10,10,10", "1e308,1e308,1", "1,nan", "5"]),
                        st.lists(number, min_size=0, max_size=6).map(",".join))
grid = st.one_of(st.sampled_from(["1:100:3", "1:inf:3", "1:1e400:3", "-1:100:3", "10:1:3", "1:10:0", "1:10:1001",
                                  "1:10", "", "::", "a:b:c"]),
                 st.tuples(number, number, st.sampled_from(["-1", "0", "1", "2", "3", "x"])).map(":".join))
junk = st.text(alphabet=string.printable, max_size=12)


def output_path(tmp: Path) -> st.SearchStrategy[str]:
    """A fresh folder, an existing file, a path under a file, an unwritable place, a folder, empty."""
    existing = tmp / "existing.txt"
    existing.write_text("keep")
    return st.sampled_from([str(tmp / "fresh"), str(existing), str(existing / "sub"), "/proc/lpm-verify-fuzz",
                            str(tmp), ""])


def options(pairs: dict[str, st.SearchStrategy]) -> st.SearchStrategy[list[str]]:
    """Any subset of the options, each with a generated value (``None`` = a flag)."""
    def build(chosen: list[tuple[str, str | None]]) -> list[str]:
        argv: list[str] = []
        for flag, value in chosen:
            argv += [flag] if value is None else [flag, value]
        return argv
    items = [st.tuples(st.just(flag), strat) for flag, strat in pairs.items()]
    return st.lists(st.one_of(items), max_size=len(pairs), unique_by=lambda p: p[0]).map(build)


# -- the check of one run ----------------------------------------------------------------------------------------
def check_run(argv: list[str], capsys) -> int:
    rc = main(argv)
    got = capsys.readouterr()
    assert rc in (0, 1, 2), (argv, rc, got.err)
    assert "Traceback" not in got.err, (argv, got.err)
    assert "internal error" not in got.err, (argv, got.err)  # an unexpected exception is a bug
    if rc != 0:
        last = got.err.strip().splitlines()[-1] if got.err.strip() else ""
        assert last.startswith("error: "), (argv, got.err)
    elif "--json" in argv and argv[0] in ("solve", "threshold"):
        assert isinstance(json.loads(got.out), dict), (argv, got.out)
    return rc


class Counter:
    def __init__(self) -> None:
        self.inputs = 0
        self.status: dict[int, int] = {}

    def add(self, rc: int) -> None:
        self.inputs += 1
        self.status[rc] = self.status.get(rc, 0) + 1

    def report(self, name: str, capsys) -> None:
        with capsys.disabled():
            print(f"\nfuzz {name}: {self.inputs} generated inputs, exit statuses {dict(sorted(self.status.items()))}")


def explore(strategy, body, n: int) -> None:
    """Run ``body`` on ``n`` inputs drawn from ``strategy`` (the rest of the settings: the loaded profile)."""
    settings(max_examples=n)(given(strategy)(body))()


# -- per subcommand ------------------------------------------------------------------------------------------------
def fuzz_solve(n: int, capsys, tmp: Path) -> Counter:
    count = Counter()
    strat = options({"--K": small_int, "--KA": small_int, "--R": number, "--EW": number, "--EH": number,
                     "--sizes": number_list, "--method": st.sampled_from(["symmetric", "sdp", "nuclear", "bogus"]),
                     "--solver": st.sampled_from(["clarabel", "auto", "scs", "gurobi", ""]),
                     "--digits": st.sampled_from(["15", "30", "14", "2001", "-5", "x"]), "--json": st.none()})

    def run(argv):
        count.add(check_run(["solve", *argv], capsys))
    explore(strat, run, n)
    return count


def fuzz_threshold(n: int, capsys, tmp: Path) -> Counter:
    count = Counter()
    strat = options({"--K": small_int, "--KA": small_int, "--EW": number, "--EH": number,
                     "--digits": st.sampled_from(["15", "30", "14", "201", "0", "x"]), "--json": st.none()})

    def run(argv):
        count.add(check_run(["threshold", *argv], capsys))
    explore(strat, run, n)
    return count


def fuzz_sweep(n: int, capsys, tmp: Path) -> Counter:
    count = Counter()
    strat = st.tuples(options({"--K": small_int, "--KA": int_list, "--EW": number, "--EH": number, "--R": grid,
                               "--method": st.sampled_from(["symmetric", "bogus"])}),
                      st.one_of(st.just(str(tmp / "sweep-out")), output_path(tmp)))

    def run(case):
        argv, out = case
        argv = ["sweep", *argv, "--out", out]
        rc = check_run(argv, capsys)
        if rc == 0:
            assert (Path(out) / "sweep.csv").read_text().startswith("K,K_A,R,"), argv
        count.add(rc)
    explore(strat, run, n)
    return count


def fuzz_verify(n: int, capsys, tmp: Path) -> Counter:
    count = Counter()
    strat = st.tuples(options({"--only": st.one_of(st.sampled_from(["", " ", "Definition 1", "Theorem 99",
                                                                    "Definition 1/simplex-etf-numeric"]), junk),
                               "--jobs": st.sampled_from(["-1", "0", "1", "x"])}),
                      st.one_of(st.none(), output_path(tmp)))

    def run(case):
        argv, json_path = case
        argv = ["verify", *argv] + ([] if json_path is None else ["--json", json_path])
        if "--only" not in argv:
            argv += ["--only", "Definition 1"]  # never the whole registry in the fuzz run
        count.add(check_run(argv, capsys))
    explore(strat, run, n)
    return count


def fuzz_report(n: int, capsys, tmp: Path, monkeypatch) -> Counter:
    from lpm_verify.report import build

    class Stub:
        summary, seconds, section_errors, failed_checks = "stub", 0.0, [], 0

        class cache:
            @staticmethod
            def summary() -> str:
                return "stub"
    monkeypatch.setattr(build, "build_report", lambda options: Stub())
    count = Counter()
    strat = st.tuples(options({"--jobs": small_int, "--sweep-points": small_int, "--only": junk,
                               "--runs": st.sampled_from(["runs", str(tmp / "existing.txt"), ""]),
                               "--data-root": st.sampled_from([str(tmp), "/nonexistent", ""]),
                               "--fresh": st.none(), "--no-train": st.none(), "--skip-slow": st.none()}),
                      output_path(tmp))

    def run(case):
        argv, out = case
        count.add(check_run(["report", *argv, "--out", out], capsys))
    explore(strat, run, n)
    return count


def fuzz_train(n: int, capsys, tmp: Path, monkeypatch) -> Counter:
    presets = pytest.importorskip("experiments.presets")
    monkeypatch.setattr(presets, "run_preset", lambda *a, **k: [])
    count = Counter()
    strat = options({"--preset": st.sampled_from(["cpu-smoke", "bogus", ""]), "--KA": int_list, "--R": number_list,
                     "--epochs": small_int, "--workers": small_int, "--seed": int_list, "--wd": number_list,
                     "--n-majority": small_int, "--device": st.sampled_from(["cpu", "cuda", "tpu", ""])})

    def run(argv):
        if "--preset" not in argv:
            argv = ["--preset", "cpu-smoke", *argv]
        count.add(check_run(["train", *argv, "--out", str(tmp / "store")], capsys))
    explore(strat, run, n)
    return count


FUZZERS = {"solve": fuzz_solve, "threshold": fuzz_threshold, "sweep": fuzz_sweep, "verify": fuzz_verify,
           "report": fuzz_report, "train": fuzz_train}


def _fuzz(name: str, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    fn = FUZZERS[name]
    n = max(1, EXAMPLES[name] * settings.default.max_examples // 100)  # the loaded profile's scale
    count = fn(n, capsys, tmp_path, monkeypatch) if name in ("report", "train") else fn(n, capsys, tmp_path)
    count.report(name, capsys)
    assert count.inputs >= 1


@pytest.mark.parametrize("name", list(FUZZERS))
def test_fuzz_cli(name, capsys, tmp_path, monkeypatch):
    _fuzz(name, capsys, tmp_path, monkeypatch)
