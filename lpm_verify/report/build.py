"""Build the whole report: gather (checks, LPM data, runs), make sections and figures, write files.

    <out>/index.md, <out>/index.html      the same section model, two renderings
    <out>/*.png                          figures referenced by both
    <out>/data/checks.json               every check record
    <out>/data/sweep.csv                 every LPM sweep row (Fig. 3, Fig. 8, network overlays)
    <out>/data/thresholds.json           every regime threshold with its certificate
    <out>/data/runs.json                 the runs the network section used (config + metrics)
    <out>/.cache/                        results keyed by their inputs (see cache.py)
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from lpm_verify.claims import Registry, Verdict, jsonable
from lpm_verify.io import write_json_atomic, write_text_atomic
from lpm_verify.report import lpm as lpm_data
from lpm_verify.report.cache import Cache
from lpm_verify.report.document import Document, Section
from lpm_verify.report.gather import gather_checks
from lpm_verify.report.lpm_section import FIG8_ENERGIES, fig3_configs, fig8_configs, lpm_section
from lpm_verify.report.network_section import network_section
from lpm_verify.report.networks import gather_runs
from lpm_verify.report.render import to_html, to_markdown
from lpm_verify.sweep import write_sweep_csv
from lpm_verify.report.sections import (checks_section, errata_section, provenance_section, summary_rows,
                                        summary_section, summary_text)


@dataclass
class ReportOptions:
    """Everything a report depends on besides the sources (``python -m lpm_verify report`` flags)."""

    out: Path = Path("reports")
    fresh: bool = False
    jobs: int = 1
    train: bool = True
    runs: Path = Path("runs")
    data_root: Path | None = None
    only: list[str] | None = None          # results / check-id prefixes (default: all)
    include_slow: bool = True              # checks marked slow too (they are slow for pytest, not here)
    sweep_points: int = 40                 # log-spaced R per LPM curve (plus thresholds and inf)
    threshold_digits: int = 30
    lpm_method: str = "symmetric"
    fig8_energies: tuple[tuple[float, float], ...] = FIG8_ENERGIES
    progress: bool = False
    log_lines: bool = False                # progress as one line per finished step (stderr is a log)
    registry: Registry | None = None       # tests: a private registry instead of theorems/
    command: str = "python -m lpm_verify report"


@dataclass
class ReportResult:
    document: Document
    summary: str
    files: list[Path]
    cache: Cache
    seconds: float
    failed_checks: int
    section_errors: list[str] = field(default_factory=list)


class _Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def stop(self, section: Section) -> Section:
        section.seconds = time.perf_counter() - self.start
        return section


def _log(options: ReportOptions, text: str) -> None:
    if options.progress or options.log_lines:
        print(text, file=sys.stderr, flush=True)


class _LPMSource:
    """Computes (or reads from the cache) LPM data for configurations, keeping everything it returned."""

    def __init__(self, cache: Cache, options: ReportOptions) -> None:
        self.cache, self.options = cache, options
        self.data: list[lpm_data.LPMData] = []

    def __call__(self, configs: list[lpm_data.Config]) -> list[lpm_data.LPMData]:
        o = self.options
        got = lpm_data.compute(configs, self.cache, points=o.sweep_points, digits=o.threshold_digits,
                               method=o.lpm_method, jobs=o.jobs, progress=o.progress)
        self.data.extend(got)
        return got

    def errors(self) -> list[str]:
        """Every sweep or threshold computation that failed (each is also a note in its section)."""
        return sorted({e for d in self.data for e in (d.sweep_error, d.threshold_error) if e})


#: Figures this report writes (older ones matching these are removed first, so none goes stale).
FIGURE_PATTERNS = ("fig3_*.png", "fig8_*.png", "net*_*.png")


def build_report(options: ReportOptions) -> ReportResult:
    """Write the report to ``options.out``; returns what was written and the summary text."""
    start = time.perf_counter()
    out = Path(options.out)
    (out / "data").mkdir(parents=True, exist_ok=True)
    cache = Cache(out / ".cache", fresh=options.fresh)
    files: list[Path] = []

    _log(options, "report: checks")
    t = _Timer()
    gathered = gather_checks(cache, only=options.only, include_slow=options.include_slow, jobs=options.jobs,
                             progress=options.progress or options.log_lines, registry=options.registry)
    records = gathered.records
    files.append(write_json_atomic(out / "data" / "checks.json", [r.to_json() for r in records]))
    summary = t.stop(summary_section(records, gathered.not_run, len(gathered.computed)))
    t = _Timer()
    errata = t.stop(errata_section(records))

    _log(options, f"report: checks done ({len(records)} records, {time.perf_counter() - start:.1f} s)")
    _log(options, "report: LPM sweeps and thresholds")
    t = _Timer()
    for pattern in FIGURE_PATTERNS:
        for stale in out.glob(pattern):
            stale.unlink()
    lpm_source = _LPMSource(cache, options)
    figs = lpm_source(fig3_configs() + fig8_configs(options.fig8_energies))
    lpm = t.stop(lpm_section(figs[:3], figs[3:], out, digits=options.threshold_digits))

    _log(options, f"report: LPM sweeps and thresholds done ({time.perf_counter() - start:.1f} s)")
    _log(options, "report: network experiments")
    t = _Timer()
    runs = gather_runs(options.runs, train=options.train, data_root=options.data_root, progress=options.progress)
    nets = t.stop(network_section(runs, str(options.runs), out, lpm_source))
    write_sweep_csv([row for d in lpm_source.data for row in d.rows], str(out / "data" / "sweep.csv"))
    files.append(out / "data" / "sweep.csv")
    files.append(write_json_atomic(out / "data" / "thresholds.json",
                                   [{"config": vars(d.config), "thresholds": d.thresholds, "error": d.threshold_error}
                                    for d in lpm_source.data]))
    files.append(write_json_atomic(out / "data" / "runs.json",
                                   [{"config": jsonable(g.config), "seeds": g.seeds, "paths": g.paths,
                                     "metrics": jsonable(g.metrics)} for g in runs.groups]))
    _log(options, f"report: network experiments done ({len(runs.groups)} run groups, "
                  f"{time.perf_counter() - start:.1f} s)")
    t = _Timer()
    checks = t.stop(checks_section(records))
    body = [summary, errata, lpm, nets, checks]
    provenance = provenance_section(records, body, cache, command=options.command, lpm_method=options.lpm_method,
                                    threshold_digits=options.threshold_digits,
                                    total_seconds=time.perf_counter() - start)
    doc = Document("Layer-Peeled Model: agreement report",
                   "Fang, He, Long, Su, Exploring Deep Neural Networks via Layer-Peeled Model: Minority Collapse "
                   "in Imbalanced Training (PNAS 2021), checked claim by claim by lpm-verify. Generated "
                   + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()) + ".",
                   body + [provenance])
    files.append(write_text_atomic(out / "index.md", to_markdown(doc)))
    files.append(write_text_atomic(out / "index.html", to_html(doc)))
    files += sorted(out.glob("*.png"))
    errors = lpm_source.errors()
    return ReportResult(doc, summary_text(summary_rows(records, gathered.not_run)), files, cache,
                        time.perf_counter() - start,
                        sum(1 for r in records if r.verdict == Verdict.FAIL.value), errors)
