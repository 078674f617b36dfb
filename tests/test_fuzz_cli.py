"""Fuzz every subcommand's parser and entry point in-process.

Hypothesis generates argument lists with numbers at and beyond their limits, NaN/inf, empty and
malformed lists and ranges, and existing / unwritable output paths, and runs ``lpm_verify.cli.main``.
Every run must end with status 0, 1 or 2, never a traceback nor an "internal error" (an unexpected
exception), and with an ``error:`` line when not 0; a successful ``--json`` run prints one JSON object
and a successful sweep writes its CSV.

Two more families go beyond argument lists.  *Store files*: a run store whose config.json, metrics.json,
claim.json, failed.json or log.jsonl has a field set to a hostile value (NaN/Infinity literals, 10**300,
negative counts, wrong types, deep nesting) or is replaced by raw bytes (non-UTF-8, truncated, nested
200,000 levels); ``status`` and ``verify`` on it must name the problem, and a number outside its field's
meaning must make the run *invalid* (never a silent wrong number).  *Signals*: SIGTERM or SIGINT at a random
moment of a running ``sweep`` subprocess: it ends by the signal or with "interrupted", never a traceback,
and its CSV is whole or absent.

The expensive work is kept small: K <= 41 (larger K only where a limit refuses it), sweep grids of at
most 3 points, ``verify`` on one small result, and ``report`` / ``train`` with their builders replaced
by stubs (their argument validation is what runs).  The hypothesis profile sets the number of inputs
(``tests/conftest.py``): a subcommand tries :data:`EXAMPLES` inputs per 100 examples of the profile, so the
``default`` profile (well under a minute in all) tries :data:`EXAMPLES` and ``--hypothesis-profile slow``
(run by ``.ci/run``) ten times more.  Each test prints how many inputs it generated.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import string
import subprocess
import sys
import time
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




# -- store files: what a careless edit, a crash or a hostile user leaves in a run store ----------------------------
#: JSON values (as text) at and beyond every field's meaning: NaN/inf literals, huge and negative numbers,
#: wrong types, deep nesting.
RAW_VALUES = ["NaN", "Infinity", "-Infinity", "1e400", str(10 ** 300), "-7", "-10", "-1", "0", "0.5", "5.0", "7.0",
              "null", "true", '"inf"', '"-inf"', '"x"', "[]", "{}", "[" * 3000 + "]" * 3000, '"\\u202e\\u0000"']
raw_value = st.one_of(st.sampled_from(RAW_VALUES), st.integers(min_value=-2 ** 70, max_value=2 ** 70).map(str),
                      st.floats(allow_nan=False, allow_infinity=False).map(repr), st.text(max_size=8).map(json.dumps))
STORE_FILES = ("config.json", "metrics.json", "claim.json", "failed.json", "log.jsonl")


def _base_objects() -> dict[str, dict]:
    from tests.test_store import CONFIG, METRICS
    return {"config.json": {**CONFIG, "preset": "cpu-report", "seed": 1},
            "metrics.json": {**METRICS, "cos_minority": 0.2, "cos_all": -0.1, "train_acc_minority": 1.0},
            "claim.json": {"token": "t", "host": "elsewhere", "pid": 12, "job_id": None, "started": 1.0},
            "failed.json": {"error": "boom", "job_id": "7", "traceback": ["a", "b"]},
            "log.jsonl": {"epoch": 1, "loss": 0.5}}


def _mutated(base: dict, key: str, raw: str) -> str:
    """``base`` as JSON text with ``key`` set to the raw JSON ``raw`` (which may be no valid JSON at all)."""
    fields = [f"{json.dumps(k)}: {raw if k == key else json.dumps(v)}" for k, v in base.items()]
    if key not in base:
        fields.append(f"{json.dumps(key)}: {raw}")
    return "{" + ", ".join(fields) + "}"


@st.composite
def store_file(draw) -> tuple[str, bytes, str | None, str]:
    """(file name, its bytes, the field changed or None, the raw value): a field of a valid file set to a
    hostile value, or the whole file replaced by bytes (non-UTF-8, truncated, nested)."""
    name = draw(st.sampled_from(STORE_FILES))
    base = _base_objects()[name]
    kind = draw(st.sampled_from(["field", "field", "field", "bytes", "nested"]))
    if kind == "field":
        key = draw(st.one_of(st.sampled_from(sorted(base)), st.sampled_from(["wd_exposure", "late_probes", "momentum",
                                                                             "n_minority", "test_acc_minority",
                                                                             "class_order", "milestones", "width"])))
        raw = draw(raw_value)
        return name, _mutated(base, key, raw).encode(), key, raw
    if kind == "bytes":
        data = draw(st.one_of(st.binary(max_size=48), st.just(b'{"error": "\xff\xfe"}'),
                              st.just(json.dumps(base).encode()[:draw(st.integers(0, 30))])))
        return name, data, None, ""
    depth = draw(st.sampled_from([50, 999, 5000, 200000]))
    return name, ("[" * depth + "]" * depth).encode(), None, ""


def _out_of_bounds(name: str, key: str | None, raw: str) -> bool:
    """Whether the mutation put a number outside its field's meaning into config.json or metrics.json (the
    store must then call the run invalid: anything else is a silent wrong result)."""
    from experiments.store import CONFIG_BOUNDS, METRIC_BOUNDS
    bounds = {"config.json": CONFIG_BOUNDS, "metrics.json": METRIC_BOUNDS}.get(name, {})
    if key not in bounds:
        return False
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return True  # not JSON: invalid as well
    value = {"inf": math.inf, "-inf": -math.inf}.get(value, value) if isinstance(value, str) else value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # a null is an undefined metric (allowed); in config.json every numeric field is a setting (never null)
        return value is not None or name == "config.json"
    b = bounds[key]
    infinite_ok = key in ("R", "lpm_R_effective", "lpm_R0", "lpm_centred_R0")
    return math.isnan(value) or not (b.lo <= value <= b.hi) or (math.isinf(value) and not infinite_ok) or (
        key == "lr" and value == 0)


def fuzz_store(n: int, capsys, tmp: Path) -> Counter:
    from tests.test_store import make_run
    count = Counter()
    root = tmp / "store"

    def run(case):
        name, data, key, raw = case
        shutil.rmtree(root, ignore_errors=True)
        base = _base_objects()
        make_run(root, "good", config={**base["config.json"], "seed": 0}, metrics=base["metrics.json"])
        bad = make_run(root, "edited", config=base["config.json"], metrics=base["metrics.json"])
        (bad / name).write_bytes(data)
        rc = check_run(["status", "--out", str(root)], capsys)
        count.add(rc)
        if _out_of_bounds(name, key, raw):  # never a silent wrong number: the run is named invalid
            assert rc == 0
            statuses = __import__("experiments.store_status", fromlist=["store_status"]).store_status(root)[0]
            assert {s.name: s.state for s in statuses}["edited"] == "invalid", (name, key, raw)
        rc = main(["verify", "--only", "Figure 4", "--runs", str(root)])
        err = capsys.readouterr().err
        assert rc in (0, 1) and "Traceback" not in err and "internal error" not in err, (name, data[:80], err)
        if rc == 1:  # a check broke on the store: the unusable run is named, never left to the remaining runs
            assert "edited" in err, (name, data[:80], err)
        count.add(rc)
    explore(store_file(), run, n)
    return count


# -- signals: SIGTERM / SIGINT at any moment of a running command --------------------------------------------------
def _wait_until_running(proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until the command runs (numpy's extension is mapped: the sweep is under way).  A SIGINT within
    the interpreter's own first milliseconds, before any module of this project is executed, gets Python's
    KeyboardInterrupt traceback and nothing can change that; from ``__main__`` on the signal is one line."""
    maps = Path(f"/proc/{proc.pid}/maps")
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            if "_multiarray_umath" in maps.read_text():
                return
        except OSError:  # no /proc (not Linux): fall back on the drawn delay alone
            time.sleep(0.5)
            return
        time.sleep(0.01)


def fuzz_signals(n: int, capsys, tmp: Path) -> Counter:
    count = Counter()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    def run(case):
        sig, delay = case
        out = tmp / "sweep-signal"
        proc = subprocess.Popen([sys.executable, "-m", "lpm_verify", "sweep", "--K", "10", "--KA", "5",
                                 "--R", "1:1e4:1000", "--out", str(out)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        _wait_until_running(proc)
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 130, -signal.SIGINT, -signal.SIGTERM), (sig, delay, proc.returncode, err)
        assert "Traceback" not in err and "internal error" not in err, (sig, delay, err)
        if (out / "sweep.csv").exists():  # written atomically: whole or absent
            assert (out / "sweep.csv").read_text().startswith("K,K_A,R,")
        count.add(proc.returncode)
    explore(st.tuples(st.sampled_from([signal.SIGTERM, signal.SIGINT]), st.floats(0.0, 1.5)), run, n)
    return count


FUZZERS.update({"store": fuzz_store, "signals": fuzz_signals})
EXAMPLES.update({"store": 150, "signals": 4})


@pytest.mark.parametrize("name", list(FUZZERS))
def test_fuzz_cli(name, capsys, tmp_path, monkeypatch):
    _fuzz(name, capsys, tmp_path, monkeypatch)
