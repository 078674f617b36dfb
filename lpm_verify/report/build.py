"""Build the whole report: gather (checks, LPM data, runs), make sections and figures, write files.

    <out>/index.md, <out>/index.html      the same section model, two renderings
    <out>/*.png                          figures referenced by both
    <out>/data/checks.json               {"summary": per-result verdicts, "records": every check record}
    <out>/data/sweep.csv                 every LPM sweep row (Fig. 3, Fig. 8, network overlays)
    <out>/data/thresholds.json           every regime threshold with its certificate
    <out>/data/runs.json                 the runs the network section used (config + metrics)
    <out>/.manifest.json                 every file above with the SHA-256 of what was written

Results keyed by their inputs (see cache.py) live outside ``<out>``, in ``<runs>/.cache/report/`` or the
folder ``--cache`` names, so that a report into another ``<out>`` reuses them.

Safety of ``<out>``, which may hold the user's own files:

* The report is built in a staging folder inside ``<out>`` (``.report-staging-*``, so on the same
  filesystem as the files it replaces) and swapped in only when complete.  Until the swap, nothing
  in ``<out>`` changes but the lock file and the
  staging folder; any failure before it (an exception, a kill, a full disk) leaves the previous
  report as it was, and :class:`ReportNotWritten` says so in one line.
* The swap renames each file into place (``os.replace``, atomic per file: a reader sees the old
  or the new file, never a part), figures and data first, ``index.md`` and ``index.html`` last, and
  only then removes the previous report's files that this one no longer writes.  So at every
  instant ``index.html`` is complete and every image it refers to exists and is complete.  The
  report as a whole is not swapped in one step: if the process dies during the swap (a few
  renames), the previous ``index.html`` can show a figure of the same name from the new report.
* Files are deleted or replaced only when the previous report's manifest lists them *and* their
  content still has the hash it recorded; an unreadable manifest, a path outside ``<out>`` or a file
  changed since means nothing (or that file) is deleted, and a file the report would replace that
  it did not write stops the report before the swap.  A report never deletes by pattern.  (An
  earlier report written before manifests is replaced, but its other files are left in place.)
* One report at a time per ``<out>`` (an exclusive lock on ``<out>/.report.lock``); staging
  folders left by a killed report are removed by the next one.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from experiments.claims_data import CorruptStoreError, holds_regime_runs
from experiments.theory_gap import (CONTROL1_PRESET, FREE_FEATURES_DIR, FREE_FEATURES_FILE, read_free_features,
                                    remeasured_norms, theory_gap)
from experiments.theory_gap import inputs_digest as theory_gap_inputs
from lpm_verify.check_inputs import CheckInputs
from lpm_verify.commands.registry import expected_verdicts
from lpm_verify.errata import load_errata, root_ids
from lpm_verify.errors import DataNotFoundError, LPMInputError, NamedFailure, SolverNotInstalledError
from lpm_verify.expected import pin_problems
from lpm_verify.io import file_sha256, fsync_file, fsync_folder, hashed_once, write_json_atomic, write_text_atomic
from lpm_verify.records import Verdict, jsonable
from lpm_verify.registry import Registry
from lpm_verify.report import lpm as lpm_data
from lpm_verify.report.cache import Cache, input_key
from lpm_verify.report.document import Code, Document, Section, note, table
from lpm_verify.report.empirical_section import empirical_section
from lpm_verify.report.gather import gather_checks
from lpm_verify.report.lpm_section import FIG8_ENERGIES, fig3_configs, fig8_configs, lpm_section
from lpm_verify.report.network_section import network_section
from lpm_verify.report.networks import RunsGathered, gather_runs
from lpm_verify.report.render import to_html, to_markdown
from lpm_verify.report.sections import (beyond_section, checks_section, errata_section, provenance_section,
                                        summary_rows, summary_section, summary_text)
from lpm_verify.report.related_section import related_section
from lpm_verify.report.theory_gap_section import theory_gap_section
from lpm_verify.sweep import write_sweep_csv
from lpm_verify.verdicts import summary_json


@dataclass
class ReportOptions:
    """Everything a report depends on besides the sources (``python -m lpm_verify report`` flags)."""

    out: Path = Path("reports")
    fresh: bool = False
    jobs: int = 1
    train: bool = True
    runs: Path = Path("runs")
    cache: Path | None = None              # default: <runs>/.cache/report (cache_dir)
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
    imagenet_checkpoint: Path | None = None  # Fig. 9's state dict (``--imagenet-checkpoint``)


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


def cache_dir(options: ReportOptions) -> Path:
    """The report's cache: ``options.cache``, by default beside the run store (``<runs>/.cache/report``, a
    hidden folder the store's scan skips), so that every ``--out`` built from one store shares it."""
    return Path(options.cache) if options.cache is not None else Path(options.runs) / ".cache" / "report"


def build_report(options: ReportOptions) -> ReportResult:
    """Write the report to ``options.out``; returns what was written and the summary text.

    Built in a staging folder and swapped in when complete (module docstring); raises
    :class:`ReportNotWritten` when it fails, the previous report being left as it was.  The experiment
    checks read ``options.runs`` (and ``options.imagenet_checkpoint``).
    """
    out = Path(options.out)
    with _staging(out) as stage:
        previous, manifest_note = read_manifest(out)
        try:
            with hashed_once():  # each checkpoint the cache keys name is read once per report
                result = _assemble(options, stage, manifest_note)
            _log(options, f"report: swapping the new report into {out}")
            removed, kept = publish(stage, out, previous)
        except INPUT_ERRORS:  # bad input: the command's one-line message (nothing was swapped in)
            raise
        except (OSError, _SwapFailed, CorruptStoreError) as exc:
            raise ReportWriteFailed(_failure_line(exc, out)) from exc
        except Exception as exc:
            raise ReportNotWritten(_failure_line(exc, out)) from exc
    _log(options, f"report: removed {len(removed)} files of the previous report"
         + (f"; kept {len(kept)} changed since it wrote them: {', '.join(kept)}" if kept else ""))
    result.files = [out / p.relative_to(stage) for p in result.files]
    return result


def _assemble(options: ReportOptions, out: Path, manifest_note: str | None) -> ReportResult:
    """Gather, compute and render the whole report into the (staging) folder ``out``."""
    start = time.perf_counter()
    (out / "data").mkdir(parents=True, exist_ok=True)
    cache = Cache.open(cache_dir(options), fresh=options.fresh)
    files: list[Path] = []

    # The store first: an empty one is trained before the experiment checks read it.
    _log(options, "report: experiments store")
    runs = gather_runs(options.runs, train=options.train, data_root=options.data_root,
                       progress=options.progress or options.log_lines)
    _log(options, "report: checks")
    t = _Timer()
    inputs = CheckInputs(runs=Path(options.runs), imagenet_checkpoint=options.imagenet_checkpoint)
    gathered = gather_checks(cache, inputs=inputs, only=options.only, include_slow=options.include_slow, jobs=options.jobs,
                             progress=options.progress or options.log_lines, registry=options.registry)
    records = gathered.records
    files.append(write_json_atomic(out / "data" / "checks.json",
                                   {"summary": summary_json(records, root_ids(load_errata())),
                                    "records": [r.to_json() for r in records]}))
    # registration and expected verdicts are audited against the real registry only (a private one lacks
    # the checks the tables name)
    registered = None if options.registry is not None else [r.id for r in records] + [c.id for c, _ in gathered.not_run]
    unexpected = [] if registered is None else pin_problems(records, expected_verdicts(), registered,
                                                            in_regime_store=holds_regime_runs(inputs.runs))
    summary = t.stop(summary_section(records, gathered.not_run, len(gathered.computed), unexpected))
    t = _Timer()
    errata = t.stop(errata_section(records, cache=cache, registered=registered))
    t = _Timer()
    beyond = t.stop(beyond_section(records))
    t = _Timer()
    related = t.stop(related_section(records))

    _log(options, f"report: checks done ({len(records)} records, {time.perf_counter() - start:.1f} s)")
    _log(options, "report: LPM sweeps and thresholds")
    t = _Timer()
    lpm_source = _LPMSource(cache, options)
    figs = lpm_source(fig3_configs() + fig8_configs(options.fig8_energies))
    lpm = t.stop(lpm_section(figs[:3], figs[3:], out, digits=options.threshold_digits, cache=cache))

    _log(options, f"report: LPM sweeps and thresholds done ({time.perf_counter() - start:.1f} s)")
    _log(options, "report: network experiments")
    t = _Timer()
    nets = t.stop(network_section(runs, str(options.runs), out, lpm_source, cache))
    t = _Timer()
    empirical = empirical_section(records, runs, str(options.runs), out)
    if empirical is not None:
        t.stop(empirical)
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
    t = _Timer()
    theory_gap = t.stop(theory_gap_section(theory_gap_data(cache, runs, Path(options.runs)), str(options.runs), out,
                                           control1_preset=CONTROL1_PRESET,
                                           free_features_folder=str(Path(options.runs) / FREE_FEATURES_DIR),
                                           cache=cache))
    body = ([summary, errata, beyond, related, lpm] + ([empirical] if empirical is not None else [])
            + [theory_gap, nets, checks])
    provenance = provenance_section(records, body, cache, command=options.command, lpm_method=options.lpm_method,
                                    threshold_digits=options.threshold_digits,
                                    total_seconds=time.perf_counter() - start)
    provenance.add(note(CACHE_KEYS))
    add_input_problems(provenance, nets, cache, runs, manifest_note)
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


#: How a cached result is keyed (the Provenance section says it).
CACHE_KEYS = ("Cached results are keyed by the SHA-256 of their parameters, the sources they can execute, the "
              "library versions and the content of every file they read: each run's config.json and metrics.json, "
              "each run's checkpoint.pt and the ImageNet checkpoint, hashed once per report (never by path, size or "
              "modification time, so a file replaced by another of the same size and time is read again).")


def theory_gap_data(cache: Cache, runs: RunsGathered, runs_root: Path) -> dict:
    """:func:`experiments.theory_gap.theory_gap` of the store's runs (its KKT and nonconvex solves take
    seconds to minutes), stored in the cache keyed by the runs, the free-features file and the sources."""
    path = runs_root / FREE_FEATURES_DIR / FREE_FEATURES_FILE
    # the checkpoints it may re-measure norms from, by content (inputs_digest names them by size and time)
    checkpoints = sorted(file_sha256(c) for c in (Path(r.path) / "checkpoint.pt" for r in runs.found) if c.is_file())
    key = input_key("theory_gap", {"inputs": theory_gap_inputs(runs.found, path), "checkpoints": checkpoints},
                    ["experiments.theory_gap"])
    data = cache.get("theory_gap", key)
    if data is None:
        data = json.loads(json.dumps(theory_gap(runs.found, read_free_features(path), remeasured_norms())))
        cache.put("theory_gap", key, data)
    return data


# -- what the report could not use: cache entries, run files, the previous manifest ----------------
def add_input_problems(provenance: Section, networks: Section, cache: Cache, runs: RunsGathered,
                       manifest_note: str | None) -> None:
    """Tables naming every cache entry recomputed and every run file skipped, each with the reason
    (and a note in the network section pointing to the latter)."""
    if cache.rejected:
        provenance.add(table([f"Cache entry (under {cache.root})", "Why it was recomputed"],
                             [[Code(path), reason] for path, reason in cache.rejected],
                             caption="Entries that failed verification (content hash over kind, key and value, "
                                     "then the schema of their kind); each result was computed again."))
    if runs.skipped:
        provenance.add(table(["Run file skipped", "Why"], [[Code(path), reason] for path, reason in runs.skipped],
                             caption="Files of the experiments store that could not be used; the runs they belong to "
                                     "are left out of the network section."))
        networks.add(note(f"{len(runs.skipped)} run files of the store could not be used and their runs are left "
                          "out; Provenance names each file with the reason."))
    if manifest_note:
        provenance.add(table(["Report folder", "Note"], [[Code(MANIFEST), manifest_note]]))


# -- writing into --out safely: lock, manifest, staging, swap ----------------------------------------
#: The list of files a report wrote: ``{"format": 1, "files": {relative path: [sha256, ...]}}``
#: (two hashes for a file while a swap is in progress: the old version's and the new one's).
MANIFEST = ".manifest.json"
MANIFEST_FORMAT = 1
#: Prefix of the staging folder inside --out in which a report is built before the swap.
STAGING_PREFIX = ".report-staging-"
#: Held (flock) for the whole build: one report at a time per folder.
LOCK = ".report.lock"
#: Swapped in last, ``index.html`` the very last: the entry points see only complete reports.
INDEX_FILES = ("index.md", "index.html")


#: Bad input, reported by the command as such (exit 2); any other failure is :class:`ReportNotWritten`.
INPUT_ERRORS = (LPMInputError, DataNotFoundError, SolverNotInstalledError)


class ReportNotWritten(RuntimeError):
    """The report could not be built or swapped in; the message says whether --out is unchanged."""


class ReportWriteFailed(ReportNotWritten, NamedFailure):
    """The report could not be written for a cause outside the code (a full disk, a folder made read-only,
    a swap that failed, a run checkpoint that cannot be read): the message names it and says what is left
    in --out."""


class _SwapFailed(RuntimeError):
    """The swap itself failed after it had started (the message says what was replaced)."""


def _failure_line(exc: BaseException, out: Path) -> str:
    """One line: why the report was not written and that the previous one is unchanged."""
    if isinstance(exc, _SwapFailed):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return (f"report not written: no space left on the device of {out}"
                f"{f' (writing {exc.filename})' if exc.filename else ''}; the previous report in {out} is unchanged")
    what = " ".join(f"{type(exc).__name__}: {exc}".split())
    return f"report not written ({what}); the previous report in {out} is unchanged"


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """Create ``out``, hold its lock, remove staging folders a killed report left, and yield a new
    (empty) staging folder inside ``out``; removed again on the way out, whatever happened."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise LPMInputError(f"--out must be a folder this user can write; got {str(out)!r} ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LPMInputError(f"--out must be a folder no other report is writing to; got {str(out)!r} "
                                f"(locked by a running report: {out / LOCK})") from None
        for abandoned in out.glob(STAGING_PREFIX + "*"):  # the lock is ours: no live report uses them
            if abandoned.is_dir() and not abandoned.is_symlink():
                shutil.rmtree(abandoned, ignore_errors=True)
        try:
            stage = Path(tempfile.mkdtemp(dir=out, prefix=STAGING_PREFIX))
        except OSError as exc:
            raise LPMInputError(f"--out must be a folder this user can write; got {str(out)!r} "
                                f"({exc.strerror})") from None
        try:
            yield stage
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    finally:
        os.close(fd)  # releases the lock


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_report_path(name: object) -> bool:
    """A relative path inside the report folder that a report may have written (no '..', not absolute)."""
    if not isinstance(name, str) or not name or "\\" in name or name.startswith("/"):
        return False
    parts = name.split("/")
    return (all(p not in ("", ".", "..") for p in parts) and parts[0] not in (MANIFEST, LOCK, ".cache")
            and not parts[0].startswith(STAGING_PREFIX))


def read_manifest(out: Path) -> tuple[dict[str, list[str]], str | None]:
    """The previous report's files (relative path -> hashes), and a note when none can be trusted."""
    path = out / MANIFEST
    if not path.is_file():
        if (out / "index.html").exists():
            return {}, (f"the report already in this folder has no {MANIFEST} (older than manifests): no earlier "
                        "file was removed; delete its stale figures by hand")
        return {}, None
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return {}, f"{MANIFEST} is unreadable ({type(exc).__name__}): no earlier file was removed"
    files = data.get("files") if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else None
    if not isinstance(files, dict):
        return {}, f"{MANIFEST} is not a format-{MANIFEST_FORMAT} manifest: no earlier file was removed"
    bad = [name for name, hashes in files.items() if not _is_report_path(name) or not isinstance(hashes, list)
           or not all(isinstance(h, str) and len(h) == 64 for h in hashes)]
    if bad:
        return {}, (f"{MANIFEST} lists {len(bad)} paths outside the report folder or without hashes (first: "
                    f"{bad[0]!r}): none of it is trusted, no earlier file was removed")
    return files, None


def _write_manifest(out: Path, files: dict[str, list[str]]) -> None:
    write_json_atomic(out / MANIFEST, {"format": MANIFEST_FORMAT, "files": dict(sorted(files.items()))})


def _swap_order(name: str) -> tuple[int, str]:
    return (INDEX_FILES.index(name) + 1 if name in INDEX_FILES else 0, name)


def is_legacy_report(out: Path) -> bool:
    """An earlier report written before manifests: ``index.html`` and ``data/checks.json``, no manifest."""
    return not (out / MANIFEST).exists() and (out / "index.html").is_file() and (out / "data" / "checks.json").is_file()


def _check_swappable(out: Path, names: list[str], previous: dict[str, list[str]]) -> None:
    """Raise before anything is replaced when a file cannot be put in place: a folder in the way, or
    a file the previous report did not write (or that changed since) -- a report never overwrites
    those.  An earlier report without a manifest (:func:`is_legacy_report`) may be overwritten."""
    legacy = is_legacy_report(out)
    foreign = []
    for name in names:
        target = out / name
        for folder in reversed(target.parents[: len(Path(name).parts) - 1]):
            if folder.exists() and not folder.is_dir():
                raise OSError(f"{folder} is not a folder; the report writes {name} there")
        if target.is_dir() and not target.is_symlink():
            raise IsADirectoryError(f"{target} is a folder; the report writes a file {name} there")
        if (target.exists() or target.is_symlink()) and not legacy and (
                target.is_symlink() or sha256_file(target) not in previous.get(name, [])):
            foreign.append(name)
    if foreign:
        raise FileExistsError(f"{out} holds files the report writes that no earlier report there wrote (or that "
                              f"changed since): {', '.join(foreign)}; move them away or choose another --out")


def publish(stage: Path, out: Path, previous: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """Swap the complete report in ``stage`` into ``out`` (module docstring); returns the previous
    report's files removed and those kept because they changed since it wrote them."""
    written = {p.relative_to(stage).as_posix(): sha256_file(p) for p in stage.rglob("*") if p.is_file()}
    names = sorted(written, key=_swap_order)
    _check_swappable(out, names, previous)
    pending = {name: list(hashes) for name, hashes in previous.items()}
    for name, digest in written.items():  # while swapping, both versions are the report's
        pending[name] = sorted(set(pending.get(name, [])) | {digest})
    _write_manifest(out, pending)
    done = 0
    try:
        for name in names:
            fsync_file(stage / name)
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / name, out / name)
            done += 1
        for folder in {(out / name).parent for name in names}:
            fsync_folder(folder)
    except OSError as exc:  # index.html goes last, so it is still the previous one
        raise _SwapFailed(f"report swap failed after {done} of {len(names)} files ({type(exc).__name__}: {exc}); "
                          f"{out / 'index.html'} is still the previous report's and every file in {out} is whole"
                          ) from exc
    removed, kept = [], []
    for name in sorted(set(previous) - set(written)):
        path = out / name
        if not path.is_file() or path.is_symlink():
            continue
        try:
            unchanged = sha256_file(path) in previous[name]
            if unchanged:
                path.unlink()
        except OSError:  # unreadable or not removable: left in place, like a changed file
            unchanged = False
        (removed if unchanged else kept).append(name)
    try:  # files changed since the previous report wrote them are the user's now: no longer listed
        _write_manifest(out, {name: [digest] for name, digest in written.items()})
    except OSError:  # the manifest written before the swap (a superset of this one) stays: still correct
        pass
    return removed, kept
