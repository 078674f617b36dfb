"""The report: every section and every referenced image present, caching by inputs, escaping,
the summary's verdict rules, and (slow) a headless-Chromium render without broken images.

The LPM sweeps/thresholds are replaced by a fast deterministic stand-in (monkeypatched job
functions) and the checks by a private registry, so the default tests take seconds; the real
registry is exercised through ``--only``.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import re
import shutil
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lpm_verify.records import RESULTS, CheckRecord
from lpm_verify.registry import Registry
from lpm_verify.report import lpm as lpm_mod
from lpm_verify.report.build import ReportOptions, build_report
from lpm_verify.report.cache import Cache, input_key, source_closure
from lpm_verify.report.document import Badge, Code, Document, Section, note, para, table
from lpm_verify.report.gather import gather_checks
from lpm_verify.report.lpm_section import fig3_configs
from lpm_verify.report.render import to_html, to_markdown
from lpm_verify.report.sections import NO_CHECK, summarize_result

SECTIONS = ("summary", "errata", "beyond", "related", "lpm-figures", "theory-gap", "networks", "checks", "provenance")

CHECKS_A = '''
from lpm_verify.outcomes import compare, printed_vs_derived
from lpm_verify.registry import check


def register(reg):
    @check("Definition 1/exact", claim="1 = 1", method="symbolic", tolerance=0, reason="exact", digits=None,
           registry=reg, origin="paper", part="statement")
    def _exact():
        return compare(1, 1)

    @check("Theorem 1/printed-formula", claim="printed constant", method="proof-step", tolerance=1e-12,
           reason="float64 rounding", registry=reg, origin="paper", part="derivation")
    def _erratum():
        return printed_vs_derived(2.0, 1.0, 1.0, printed="L = a | b <x>", corrected="L = a", evidence="2 != 1 at a = 1")
'''

CHECKS_B = '''
from lpm_verify.outcomes import compare, skipped
from lpm_verify.registry import check


def register(reg):
    @check("Theorem 4/numeric", claim="observed within 1e-9", method="numeric", tolerance=1e-9,
           reason="float64 solve", registry=reg, origin="paper", part="statement")
    def _numeric():
        return compare(0.5, 0.5 + 1e-12)

    @check("Lemma 2/needs-mosek", claim="solver agrees", method="solver", tolerance=1e-6, reason="IPM accuracy",
           registry=reg, origin="paper", part="statement")
    def _skip():
        return skipped("MOSEK is not licensed here")

    @check("Lemma 4/long", claim="slow one", method="numeric", tolerance=1e-9, reason="float64", slow=True,
           registry=reg, origin="paper", part="statement")
    def _slow():
        return compare(1.0, 1.0)
'''


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_registry(folder: Path, source_a: str = CHECKS_A, tag: str = "") -> Registry:
    """A private registry from two check modules written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report_checks_a.py").write_text(textwrap.dedent(source_a))
    (folder / "report_checks_b.py").write_text(textwrap.dedent(CHECKS_B))
    reg = Registry()
    _load(folder / "report_checks_a.py", f"report_checks_a{tag}").register(reg)
    _load(folder / "report_checks_b.py", f"report_checks_b{tag}").register(reg)
    return reg


# -- a fast stand-in for lpm_verify.sweep / lpm_verify.regimes (job functions monkeypatched) --------
def _R0(K_A: int, E_W: float, E_H: float) -> float:
    return 4.0 * K_A * (E_W * E_H) ** 0.5


def fake_thresholds(payload):
    K, K_A, E_W, E_H, digits = payload
    return [{"R": f"{_R0(K_A, E_W, E_H):.{digits}g}", "from_regime": "separated", "to_regime": "minority-collapse",
             "certificate": {"residual": 1e-31}}]


def fake_sweep(payload):
    K, K_A, E_W, E_H, R_values, method = payload
    etf = -1 / (K - 1)
    rows = []
    for R in R_values:
        t = 1.0 if R == math.inf else min(1.0, math.log(R) / math.log(_R0(K_A, E_W, E_H)))
        zero = K_A == 7 and R > 2 * _R0(K_A, E_W, E_H)  # like the real LPM: w_B = 0 far beyond R_0
        rows.append({"K": K, "K_A": K_A, "R": "inf" if R == math.inf else R, "E_W": E_W, "E_H": E_H,
                     "cos_minority": math.nan if zero else etf + (1 - etf) * t, "cos_majority": etf, "cos_all": etf,
                     "norm_minority": 0.0 if zero else 1.0, "norm_majority": 1.0, "regime": "collapsed" if t >= 1 else "separated",
                     "objective": 1.0, "seconds": 0.0})
    return {"rows": rows, "note": None}


@pytest.fixture
def fake_lpm(monkeypatch):
    calls = {"sweep": 0}

    def counting_sweep(payload):
        calls["sweep"] += 1
        return fake_sweep(payload)
    # the stand-in does not run lpm_verify.sweep / regimes, so their sources are not its inputs
    monkeypatch.setattr(lpm_mod, "input_key", lambda kind, params, modules: input_key(kind, params, []))
    monkeypatch.setattr(lpm_mod, "_thresholds_job", fake_thresholds)
    monkeypatch.setattr(lpm_mod, "_sweep_job", counting_sweep)
    return calls


def write_run(root: Path, **cfg) -> None:
    """A finished run in the store's layout (config.json + metrics.json)."""
    config = {"dataset": "fashion-mnist", "arch": "mlp", "preset": "cpu-report", "epochs": 60, "seed": 0,
              "device": "cpu", "K_A": 5, "R": 10, "n_majority": 500, "wd": 5e-4, "oversample": 1, "bias": False,
              "lr": 0.1, "batch_size": 128, **cfg}
    R = config["R"]
    collapse = 1.0 if R == math.inf else min(1.0, math.log(R) / math.log(600))
    metrics = {"cos_minority": -1 / 9 + collapse * (1 + 1 / 9) / config["oversample"] - 0.01 * config["seed"],
               "norm_variation_minority": 1e-5, "nc1": 0.01, "train_acc": 1.0, "test_acc": 0.8 - 0.1 * collapse,
               "test_acc_minority": 0.7 - 0.5 * collapse, "fitted_E_W": 0.9, "fitted_E_H": 6.0,
               "lpm_cos_minority": 0.5}
    name = f"run_KA{config['K_A']}_R{R}_w{config['oversample']}_s{config['seed']}"
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({k: ("inf" if v == math.inf else v) for k, v in config.items()}))
    (folder / "metrics.json").write_text(json.dumps(metrics))


@pytest.fixture
def runs_store(tmp_path):
    root = tmp_path / "runs"
    for K_A in (3, 7):
        for R in (1, 10, 100, math.inf):
            for seed in (0, 1):
                write_run(root, K_A=K_A, R=R, seed=seed)
        for w in (10, 100):
            write_run(root, K_A=K_A, R=100, oversample=w)
    return root


def options(tmp_path: Path, registry: Registry | None, runs: Path, **kw) -> ReportOptions:
    return ReportOptions(out=tmp_path / "report", runs=runs, train=False, registry=registry, sweep_points=5,
                         include_slow=False,
                         fig8_energies=((1.0, 1.0), (1.0, 10.0)), **kw)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.sections: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "section":
            self.sections.append(attrs["id"])

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def png_dpi(path: Path) -> float:
    from PIL import Image
    with Image.open(path) as img:
        return float(img.info["dpi"][0])


# -- tests ------------------------------------------------------------------------------------
def test_report_has_every_section_and_every_image(tmp_path, fake_lpm, runs_store):
    result = build_report(options(tmp_path, make_registry(tmp_path / "checks"), runs_store))
    out = tmp_path / "report"
    page = parse(out / "index.html")
    assert page.sections == list(SECTIONS)
    assert len(page.images) >= 5  # Fig. 3, Fig. 8, overlay, accuracy bars, oversampling
    for src in page.images:
        assert (out / src).is_file(), src
        assert (out / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png_dpi(out / src) >= 150
    text = " ".join(page.text)
    for result_name in RESULTS:  # every numbered result appears, checked or not
        assert result_name in text
    assert NO_CHECK in text
    assert "Where the plotted quantity is undefined" in text and "norm_minority = 0" in text
    md = (out / "index.md").read_text()
    for src in page.images:  # the Markdown refers to the same figures
        assert f"]({src})" in md
    # the erratum: printed and corrected forms, evidence, and the command that reproduces it
    assert "L = a | b <x>" in text and 'python -m lpm_verify verify --only "Theorem 1/printed-formula"' in text
    assert r"L = a \| b <x>" in md
    # the fail-free private registry: Theorem 1's printed derivation has a misprint (not in the errata table,
    # so it is its own root) and no statement check, Lemma 2 skipped, Lemma 4 slow (not run)
    lines = {line.split()[0] + " " + line.split()[1]: line for line in result.summary.splitlines()[1:]}
    assert re.split(r"\s{2,}", lines["Theorem 1"])[1:3] == ["not checked", "1 misprint (1 record)"]
    assert "not checked (1 skipped)" in lines["Lemma 2"] and " not run: " in lines["Lemma 4"]
    assert " holds " in lines["Definition 1"] and "symbolic (exact)" in lines["Definition 1"]
    assert "Theorem 1/printed-formula' has verdict erratum but no root misprint" in text  # the table audit
    # data files
    checks_json = json.loads((out / "data" / "checks.json").read_text())
    records = checks_json["records"]
    summary = {r["result"]: r for r in checks_json["summary"]["results"]}
    assert summary["Theorem 1"]["derivation"]["misprints"] == ["Theorem 1/printed-formula"]
    assert summary["Definition 1"]["statement"]["verdict"] == "holds" and checks_json["summary"]["erratum_records"] == 1
    assert {r["id"] for r in records} == {"Definition 1/exact", "Theorem 1/printed-formula", "Theorem 4/numeric",
                                          "Lemma 2/needs-mosek"}
    csv_lines = (out / "data" / "sweep.csv").read_text().splitlines()
    assert csv_lines[0].startswith("K,K_A,R,") and any(",inf," in line for line in csv_lines)
    # thresholds in a table with their digits, networks labelled, the missing-run command
    assert "4" * 0 + "python -m lpm_verify threshold --K 10 --KA 3" in text
    assert "seeds 0,1" in text and "device cpu" in text
    assert "python -m lpm_verify train --preset paper" in text
    assert "python -m lpm_verify train --preset cpu-regime" in text
    assert "trained before the regime diagnostics were stored" in text  # this store has no exposure


def test_second_report_recomputes_nothing_and_a_changed_input_is_recomputed(tmp_path, fake_lpm, runs_store):
    first = build_report(options(tmp_path, make_registry(tmp_path / "checks"), runs_store))
    assert first.cache.misses["check"] == 4 and first.cache.hits["check"] == 0
    sweeps = fake_lpm["sweep"]
    assert sweeps > 0

    second = build_report(options(tmp_path, make_registry(tmp_path / "checks", tag="2"), runs_store))
    assert sum(second.cache.misses.values()) == 0 and second.cache.hits["check"] == 4
    assert fake_lpm["sweep"] == sweeps

    # editing one check module recomputes its checks only; the other module's come from the cache
    edited = CHECKS_A.replace("compare(1, 1)", "compare(1, 1)  # edited")
    cache = Cache(runs_store / ".cache" / "report")
    third = gather_checks(cache, registry=make_registry(tmp_path / "checks", edited, tag="3"), include_slow=False)
    assert sorted(third.computed) == ["Definition 1/exact", "Theorem 1/printed-formula"]
    assert cache.hits["check"] == 2

    # a sweep parameter is an input too; --fresh recomputes everything
    lpm_mod.compute(fig3_configs(), cache, points=6)
    assert cache.misses["sweep"] == 3 and cache.hits["thresholds"] == 3
    fresh = Cache(runs_store / ".cache" / "report", fresh=True)
    again = gather_checks(fresh, registry=make_registry(tmp_path / "checks", edited, tag="4"), include_slow=False)
    assert len(again.computed) == 4 and fresh.hits["check"] == 0


def test_a_report_into_a_second_output_folder_finds_every_result_cached(tmp_path, fake_lpm, runs_store):
    reg = make_registry(tmp_path / "checks")
    first = build_report(options(tmp_path, reg, runs_store))
    second = build_report(dataclasses.replace(options(tmp_path, reg, runs_store), out=tmp_path / "elsewhere"))
    assert sum(first.cache.misses.values()) > 0 and not first.cache.disabled
    assert sum(second.cache.misses.values()) == 0
    assert second.cache.hits == first.cache.misses  # every lookup of the first report, now found
    assert not (tmp_path / "report" / ".cache").exists() and (runs_store / ".cache" / "report").is_dir()


def test_an_unwritable_cache_folder_means_no_cache_and_one_warning_line(tmp_path, fake_lpm, runs_store, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    opts = dataclasses.replace(options(tmp_path, make_registry(tmp_path / "checks"), runs_store),
                               cache=blocker / "cache")
    first = build_report(opts)
    second = build_report(opts)
    err = capsys.readouterr().err
    assert err.count("warning:") == 2 and err.count("cannot write the report cache") == 2  # one line per report
    assert sum(second.cache.hits.values()) == 0 and second.cache.misses == first.cache.misses
    assert "no cache" in second.cache.summary() and (tmp_path / "report" / "index.html").is_file()


def test_source_closure_is_computed_once_per_process(tmp_path, monkeypatch):
    import ast as ast_module
    from lpm_verify.report import cache as cache_module
    parsed = []
    real_parse = ast_module.parse
    monkeypatch.setattr(cache_module.ast, "parse", lambda *a, **k: parsed.append(k.get("filename")) or real_parse(*a, **k))
    (tmp_path / "lpm_verify").mkdir()
    (tmp_path / "lpm_verify" / "__init__.py").write_text("")
    (tmp_path / "lpm_verify" / "a.py").write_text("from lpm_verify import b\n")
    (tmp_path / "lpm_verify" / "b.py").write_text("")
    for _ in range(50):
        input_key("check", {"id": "x"}, ["lpm_verify.a"], root=tmp_path)
        input_key("check", {"id": "y"}, ["lpm_verify.b"], root=tmp_path)
    assert len(parsed) == 3  # each file once, not once per key


def test_source_closure_follows_local_imports(tmp_path):
    pkg = tmp_path / "lpm_verify"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import numpy\nfrom lpm_verify.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "sub" / "c.py").write_text("")
    (pkg / "unused.py").write_text("")
    names = {p.relative_to(tmp_path).as_posix() for p in source_closure(["lpm_verify.a"], tmp_path)}
    assert names == {"lpm_verify/__init__.py", "lpm_verify/a.py", "lpm_verify/sub/__init__.py",
                     "lpm_verify/sub/b.py", "lpm_verify/sub/c.py"}


def test_a_failed_solve_is_reported_in_its_section_and_fails_the_command(tmp_path, fake_lpm, monkeypatch):
    from lpm_verify.errors import SolverError

    def fails(payload):
        raise SolverError("symmetric solver: no regime passed the KKT certificate")
    monkeypatch.setattr(lpm_mod, "_thresholds_job", fails)
    result = build_report(options(tmp_path, make_registry(tmp_path / "checks"), tmp_path / "empty-store"))
    text = " ".join(parse(tmp_path / "report" / "index.html").text)
    assert "find_thresholds failed: SolverError: symmetric solver" in text
    assert result.section_errors and "Fig. 3 recomputed" in text  # the sweeps still made the figure
    assert "python -m lpm_verify train --preset cpu-report" in text  # no run: the command that produces it


def test_without_torch_the_report_says_how_to_install_the_trainer(tmp_path, monkeypatch):
    from lpm_verify.report.networks import gather_runs
    monkeypatch.setitem(sys.modules, "experiments.presets", None)  # import raises ImportError
    got = gather_runs(tmp_path / "runs", train=True)
    assert got.runs == 0 and "pip install -e '.[experiments]'" in got.notes[0]


def test_rendering_escapes_text():
    sec = Section("s", "A <b> & C")
    sec.add(para("x < y & ", Code("a|b`c"), " *not bold*"),
            table(["h|1", "h2"], [["<script>alert(1)</script>", Badge("erratum")], [Code("a|b`c"), "&lt;"]]),
            note("R | inf"))
    doc = Document("T <1>", "sub", [sec])
    html = to_html(doc)
    assert "<script>" not in html and "&lt;script&gt;" in html and "A &lt;b&gt; &amp; C" in html
    assert '<span class="badge v-erratum">erratum</span>' in html
    md = to_markdown(doc)
    assert r"h\|1" in md and r"\<script\>" in md and r"\*not bold\*" in md and r"R \| inf" in md
    assert "x \\< y \\& ``a|b`c``" in md  # a code span outside a table keeps its pipe
    assert "| ``a\\|b`c`` | \\&lt; |" in md  # inside a table the pipe is escaped, even in code


def _rec(result: str, verdict: str, method: str, error: float, tol: float) -> CheckRecord:
    return CheckRecord(f"{result}/{method}-{verdict}", result, "c", method, verdict, 0, 0, error, tol, "r", 15,
                       0.5, {})


def test_result_verdict_is_the_worst_and_evidence_the_strongest_that_held():
    row = summarize_result("Theorem 1", [_rec("Theorem 1", "pass", "solver", 1e-9, 1e-6),
                                         _rec("Theorem 1", "fail", "symbolic", 1.0, 0.0),
                                         _rec("Theorem 1", "pass", "proof-step", 1e-7, 1e-6)], [])
    assert row.statement == "fails" and row.evidence.startswith("proof steps (float64)")
    assert row.worst.startswith("1.00e+00 vs 0e+00")
    empty = summarize_result("Lemma 3", [], [])
    assert empty.statement == "not checked" and NO_CHECK in empty.counts


def test_real_checks_through_the_command_line(tmp_path, fake_lpm):
    from lpm_verify.cli import main
    out = tmp_path / "rep"
    rc = main(["report", "--out", str(out), "--no-train", "--runs", str(tmp_path / "none"),
               "--only", "Definition 1", "--sweep-points", "3", "--skip-slow"])
    records = json.loads((out / "data" / "checks.json").read_text())["records"]
    assert records and all(r["result"] == "Definition 1" for r in records)
    assert rc == (1 if any(r["verdict"] == "fail" for r in records) else 0)
    text = (out / "index.md").read_text()
    assert "not selected (--only)" in text
    assert main(["report", "--out", str(out), "--no-train", "--only", "Theorem 9"]) == 2  # unknown result: rejected


def test_the_cache_flag_names_a_folder(tmp_path, capsys):
    from lpm_verify.cli import main
    (tmp_path / "a-file").write_text("")
    assert main(["report", "--out", str(tmp_path / "rep"), "--no-train", "--cache", str(tmp_path / "a-file")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--cache" in err[0]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_MARK_BROKEN = """<script>window.addEventListener('load', () => {
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
  const div = document.createElement('div'); div.id = 'broken-images';
  div.textContent = broken.length + ':' + broken.join(' '); document.body.appendChild(div); });</script>"""


def broken_images(html_path: Path, profile: Path) -> str:
    """Load ``html_path`` in headless Chromium and return "<count>:<srcs>" of images that did not load."""
    probe = html_path.with_name("_probe.html")
    probe.write_text(html_path.read_text().replace("</body>", _MARK_BROKEN + "</body>"))
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--disable-sync", "--no-first-run",
                          f"--user-data-dir={profile}", "--allow-file-access-from-files",
                          "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    probe.unlink()
    start = dom.find('<div id="broken-images">')
    assert start >= 0, "the probe script did not run"
    return dom[start + len('<div id="broken-images">'): dom.find("</div>", start)]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_chromium_renders_the_report_without_broken_images(tmp_path, fake_lpm, runs_store):
    build_report(options(tmp_path, make_registry(tmp_path / "checks"), runs_store))
    index = tmp_path / "report" / "index.html"
    assert broken_images(index, tmp_path / "profile") == "0:"
    # negative control: a missing figure is seen as broken
    victim = parse(index).images[0]
    (tmp_path / "report" / victim).unlink()
    count, _, srcs = broken_images(index, tmp_path / "profile").partition(":")
    assert count == "1" and victim in srcs


def test_sweep_falls_back_to_the_sdp_and_says_so(monkeypatch):
    import lpm_verify.sweep as sweep_module
    from lpm_verify.errors import SolverError

    def fake(K, K_A, E_W, E_H, R_values, method="symmetric"):
        if method != "sdp":
            raise SolverError("no regime passed the KKT certificate")
        return fake_sweep((K, K_A, E_W, E_H, R_values, method))["rows"]
    monkeypatch.setattr(sweep_module, "sweep", fake)
    out = lpm_mod._sweep_job((10, 3, 10.0, 10.0, [1.0, 10.0], "symmetric"))
    assert len(out["rows"]) == 2 and "method 'sdp'" in out["note"] and "KKT certificate" in out["note"]
    with pytest.raises(SolverError):  # no fallback from a method other than the symmetric one
        lpm_mod._sweep_job((10, 3, 10.0, 10.0, [1.0], "nonconvex"))


def test_an_empty_store_trains_the_report_preset_or_says_how_to_get_the_data(tmp_path, monkeypatch):
    import experiments.presets as presets
    from lpm_verify.errors import DataNotFoundError
    from lpm_verify.report.networks import gather_runs
    calls = []

    def trains(name, out, data_root=None, **kw):
        calls.append((name, data_root))
        if name == "cpu-report":
            write_run(Path(out), K_A=3, R=10)
    monkeypatch.setattr(presets, "run_preset", trains)
    import experiments.free_features as free_features
    monkeypatch.setattr(free_features, "run_grid", lambda configs, out, progress=True: calls.append(("free", str(out))))
    got = gather_runs(tmp_path / "runs", train=True, data_root=tmp_path / "data")
    assert got.trained and got.runs == 1
    assert calls == [("cpu-report", str(tmp_path / "data")), ("cpu-control-penalized", str(tmp_path / "data")),
                     ("free", str(tmp_path / "runs" / "controls"))]  # the report preset and both controls
    assert gather_runs(tmp_path / "runs", train=True).runs == 1 and len(calls) == 3  # a full store trains nothing

    def no_data(name, out, data_root=None, **kw):
        raise DataNotFoundError("train-images-idx3-ubyte not found")
    monkeypatch.setattr(presets, "run_preset", no_data)
    got = gather_runs(tmp_path / "empty", train=True)
    assert not got.trained and got.runs == 0 and "apt-get install dataset-fashion-mnist" in got.notes[0]
    assert "--no-train" in gather_runs(tmp_path / "empty", train=False).notes[0]


# -- errata by root misprint, beyond the paper, two verdicts per result -------------------------
def _erec(check_id: str, verdict: str, *, part: str = "derivation", origin: str = "paper",
          printed: str | None = "printed form", evidence: str | None = "evidence text") -> CheckRecord:
    return CheckRecord(check_id, check_id.split("/", 1)[0], "claim of " + check_id, "proof-step", verdict, 0, 0,
                       0.5 if verdict == "erratum" else 0.0, 1e-12, "float64 rounding", 15, 0.1, {},
                       printed=printed if verdict == "erratum" else None, corrected="corrected form",
                       evidence=evidence if verdict == "erratum" else None, part=part, origin=origin)


def _private_errata():
    from lpm_verify.errata import parse_errata
    entry = {"location": "SI Appendix A.1, proof of Theorem 1: Eq. 23", "note": "why it is wrong"}
    return parse_errata({"version": 1, "erratum": [
        {**entry, "id": "t1-artifact", "printed": r"\mathrm{arg\,max}_k\ x", "corrected": r"\mathrm{arg\,min}_k\ x",
         "status": "possible transcription artifact", "checks": ["Theorem 1/argmax"]},
        {**entry, "id": "t1-Cb", "printed": r"C_b := e^{-s/(K-1)}", "corrected": r"C_b := (K-1)\,e^{-s/(K-1)}",
         "status": "confirmed", "checks": ["Theorem 1/root", "Theorem 1/consequence", "Theorem 1/not-showing"]},
    ]})


def test_errata_section_groups_records_by_root_misprint_with_artifacts_apart(tmp_path):
    from lpm_verify.report.sections import errata_section
    records = [_erec("Theorem 1/root", "erratum"), _erec("Theorem 1/consequence", "erratum"),
               _erec("Theorem 1/not-showing", "pass"), _erec("Theorem 1/argmax", "erratum"),
               _erec("Lemma 2/stray", "erratum", evidence="stray evidence")]
    sec = errata_section(records, _private_errata(), cache=Cache(tmp_path))
    doc = Document("T", "s", [sec])
    html, md = to_html(doc), to_markdown(doc)
    text = " ".join(_text(html))
    assert "2 misprints (3 records): 1 confirmed, 1 possible transcription artifact" in text
    # confirmed first, then the artifacts under their own heading, then the record without a root
    order = [text.index(s) for s in ("Confirmed misprints", "t1-Cb (Theorem 1)", "Possible transcription artifacts",
                                     "t1-artifact (Theorem 1)", "Erratum records without a root misprint")]
    assert order == sorted(order)
    # under the root: the root record, its consequences with evidence and the command that reproduces each
    assert text.index("Theorem 1/root") < text.index("Theorem 1/consequence") and "consequence" in text
    assert 'python -m lpm_verify verify --only "Theorem 1/consequence"' in text and "evidence text" in text
    # typeset in HTML (inline SVG, offline), LaTeX kept in the Markdown
    assert html.count('<svg class="math"') == 4 and 'aria-label="C_b := e^{-s/(K-1)}"' in html
    assert r"$C_b := (K-1)\,e^{-s/(K-1)}$" in md
    # the audit: a listed check that passed, and an erratum verdict without a root, are both flagged
    assert "'Theorem 1/not-showing', whose verdict is pass" in text
    assert "'Lemma 2/stray' has verdict erratum but no root misprint" in text and "stray evidence" in text
    # negative control: with no erratum record there is no misprint to count
    clean = errata_section([_erec("Theorem 1/root", "pass")], _private_errata(), cache=Cache(tmp_path))
    assert "No check found a misprint" in " ".join(_text(to_html(Document("T", "s", [clean]))))


def test_beyond_section_lists_only_the_suites_own_findings():
    from lpm_verify.report.sections import beyond_section
    records = [_erec("Theorem 5/limit", "pass", part="statement"),
               _erec("Theorem 5/exact-collapse-at-finite-R", "pass", part="statement", origin="beyond"),
               _erec("Penalized LPM/weight-decay", "fail", part="statement", origin="beyond")]
    text = " ".join(_text(to_html(Document("T", "s", [beyond_section(records)]))))
    assert "Theorem 5/exact-collapse-at-finite-R" in text and "Penalized LPM/weight-decay" in text
    assert "Theorem 5/limit" not in text
    assert "fails" in text  # the beyond-the-paper model's own verdict
    empty = " ".join(_text(to_html(Document("T", "s", [beyond_section(records[:1])]))))
    assert "No check in this report has origin beyond" in empty and "Penalized LPM" in empty


def test_summary_shows_statement_and_derivation_verdicts_per_result():
    from lpm_verify.report.sections import summary_section
    records = [_erec("Property 1/i-constant-symbolic", "erratum", part="statement"),
               _erec("Property 1/kkt-step", "pass"),
               _erec("Theorem 1/minimum-value", "erratum"), _erec("Theorem 1/equality-eq22-27", "erratum"),
               _erec("Theorem 1/eq9", "pass", part="statement"),
               _erec("Theorem 5/exact-collapse-at-finite-R", "fail", part="statement", origin="beyond")]
    sec = summary_section(records, [], 0)
    html = to_html(Document("T", "s", [sec]))
    rows = {cells[0]: cells for cells in _rows(html)}
    # the real errata table: two records of one root misprint count once
    assert rows["Theorem 1"][1].startswith("holds") and rows["Theorem 1"][2].startswith("1 misprint (2 records")
    assert rows["Property 1"][1] == "holds (with misprint property1-K corrected)" and rows["Property 1"][2] == "exact"
    # a beyond-the-paper check never judges the paper's result (negative control: it failed)
    assert rows["Theorem 5"][1] == "not checked" and "Penalized LPM" not in rows
    assert rows["Theorem 5"][3] == "0; 1 beyond the paper (not judging it)"
    assert '<span class="badge v-misprints">1 misprint</span>' in html
    assert "differ from the table of expected verdicts" not in html
    # negative control: a verdict that differs from what the table expects is called out
    unexpected = ["Theorem 1/eq9: expected erratum (misprint x), got pass"]
    flipped = " ".join(_text(to_html(Document("T", "s", [summary_section(records, [], 0, unexpected)]))))
    assert ("1 verdict differs from the table of expected verdicts (theorems/expected_verdicts.toml): "
            "Theorem 1/eq9: expected erratum (misprint x), got pass") in flipped


def _text(html: str) -> list[str]:
    page = _Page()
    page.feed(html)
    return page.text


def _rows(html: str) -> list[list[str]]:
    """The body rows of every table, as the text of each cell."""
    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag == "td":
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "td":
                self.rows[-1].append(self.cell.strip())
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data
    parser = Rows()
    parser.feed(html)
    return [r for r in parser.rows if r]


def test_math_keeps_latex_in_markdown_and_is_typeset_inline_in_html():
    from lpm_verify.report.document import Math
    from lpm_verify.report.mathsvg import tex_to_svg
    tex = r"\|\mathbf{Z}^\star\|_* = K\sqrt{E_H E_W}"
    sec = Section("m", "M")
    sec.add(para("inline ", Math(tex, tex_to_svg(tex))),
            table(["As printed"], [[Math(tex, tex_to_svg(tex))], [Math("a < b")]]))
    doc = Document("T", "s", [sec])
    md, html = to_markdown(doc), to_html(doc)
    assert f"inline ${tex}$" in md  # outside a table the LaTeX is verbatim
    assert "| $\\\\|\\mathbf{Z}^\\star\\\\|_* = K\\sqrt{E_H E_W}$ |" in md  # inside, its pipes are escaped
    assert html.count('<svg class="math"') == 2 and "<path" in html
    assert '<code class="tex">a &lt; b</code>' in html  # no SVG: the LaTeX, escaped


def test_each_run_family_shows_its_regime_diagnostics():
    from lpm_verify.report.document import Section
    from lpm_verify.report.network_section import _regime_table
    from lpm_verify.report.networks import RunGroup
    metrics = [{"wd_exposure": X, "final_loss": 1e-3, "train_acc_majority": 1.0, "train_acc_minority": acc,
                "late_drift_cos_minority": 1e-4, "late_drift_W_norm": -1e-3, "late_drift_mean_h_norm": 2e-3}
               for X, acc in ((17.0, 1.0), (0.5, 0.4))]
    group = RunGroup({"K_A": 5, "R": 100, "oversample": 1}, [0, 1], metrics, ["a", "b"])
    sec = Section("x", "x")
    _regime_table(sec, [group])
    text = str(sec.blocks)
    assert "8.75" in text and "1 of 2" in text and "exposure X" in text  # X mean, one seed in regime
