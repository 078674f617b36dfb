"""Sections built from check records: Summary, Errata, Beyond the paper, All checks, and Provenance.

The summary has one row for EVERY result of the paper in :data:`lpm_verify.records.RESULTS`; a result
without a record says so ("no check yet") instead of disappearing.  Its two verdicts (statement and
printed derivation) come from :mod:`lpm_verify.verdicts` and its errata from :mod:`lpm_verify.errata`;
every record's own verdict comes from :func:`lpm_verify.verdict_rule.verdict_for`.  Nothing is re-derived here.
"""
from __future__ import annotations

import math
import os
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from lpm_verify.errata import Erratum, Status, audit, load_errata, ordered, root_ids
from lpm_verify.records import BEYOND_RESULTS, RESULTS, CheckRecord, Method, Origin, Verdict, fmt_error
from lpm_verify.registry import Check
from lpm_verify.report.cache import REPO_ROOT, Cache, distribution_version, library_versions
from lpm_verify.report.document import Badge, Block, Code, Heading, Inline, Math, Section, note, para, table
from lpm_verify.report.mathsvg import tex_to_svg
from lpm_verify.verdicts import (MISPRINTS, NOT_CHECKED, PartVerdict, ResultVerdicts,
                                 all_result_verdicts, judged_records, misprint_totals, result_verdicts)

NO_CHECK = "no check yet"
NOT_RUN = "not run"
#: Result verdict = the first of these that any of its checks has.
_PRIORITY = (Verdict.FAIL.value, Verdict.ERRATUM.value, Verdict.NOT_REPRODUCED.value, Verdict.INCONCLUSIVE.value,
             Verdict.PASS.value, Verdict.SKIPPED.value)
_METHOD_RANK = {m.value: i for i, m in enumerate(Method)}
_METHOD_NAME = {"symbolic": "symbolic", "proof-step": "proof steps", "numeric": "numeric",
                "solver": "solver cross-check", "experiment": "experiment"}


def verify_command(check_id: str) -> str:
    return f'python -m lpm_verify verify --only "{check_id}"'


def precision(digits: int | None) -> str:
    if digits is None:
        return "exact"
    return "float64" if digits <= 15 else f"{digits} digits"


def _ratio(r: CheckRecord) -> float:
    """error / tolerance (inf where the tolerance is 0 and the error is not; nan error -> inf)."""
    err = r.error if r.error is not None else float("nan")
    if not math.isfinite(err):
        return math.inf
    if r.tolerance == 0:
        return 0.0 if err == 0 else math.inf
    return err / r.tolerance


@dataclass
class ResultRow:
    """One line of the summary table: the result's two verdicts (:mod:`lpm_verify.verdicts`) and its evidence."""

    result: str
    verdicts: ResultVerdicts
    counts: str
    evidence: str
    worst: str
    seconds: float | None

    @property
    def statement(self) -> str:
        return self.verdicts.statement.text(max_names=2)

    @property
    def derivation(self) -> str:
        return self.verdicts.derivation.text()


def _left_out_text(left_out: list[tuple[Check, str]]) -> str:
    reasons = Counter(why for _, why in left_out)
    return "; ".join(f"{n} {why}" for why, n in reasons.items())


def summarize_result(result: str, records: list[CheckRecord], left_out: list[tuple[Check, str]],
                     roots: Mapping[str, str] | None = None) -> ResultRow:
    """Both verdicts, strongest evidence, worst error vs tolerance and time of one result.

    ``records`` may hold every record: only those that judge ``result`` are used
    (:func:`lpm_verify.verdicts.judged_records`: its own checks, of its own origin)."""
    roots = root_ids(load_errata()) if roots is None else roots
    mine = judged_records(result, records)
    verdicts = result_verdicts(result, mine, roots)
    others = sum(1 for r in records if r.result == result) - len(mine)
    beyond = f"; {others} beyond the paper (not judging it)" if others else ""
    if not mine:
        counts = f"0; not run: {_left_out_text(left_out)}" if left_out else "0" + (beyond or f" ({NO_CHECK})")
        return ResultRow(result, verdicts, counts, "-", "-", None)
    tally = Counter(r.verdict for r in mine)
    counts = ", ".join(f"{tally[v]} {v}" for v in _PRIORITY if tally.get(v))
    if left_out:
        counts += f"; not run: {_left_out_text(left_out)}"
    counts += beyond
    held = sorted((r for r in mine if r.verdict in (Verdict.PASS.value, Verdict.ERRATUM.value)),
                  key=lambda r: (_METHOD_RANK.get(r.method, 99), r.precision_digits is not None))
    if held:
        best = held[0]
        evidence = f"{_METHOD_NAME.get(best.method, best.method)} ({precision(best.precision_digits)})"
        others = sorted({r.method for r in held} - {best.method}, key=lambda m: _METHOD_RANK.get(m, 99))
        if others:
            evidence += "; also " + ", ".join(_METHOD_NAME.get(m, m) for m in others)
    else:
        evidence = "none held"
    measured = [r for r in mine if r.verdict in (Verdict.PASS.value, Verdict.FAIL.value, Verdict.NOT_REPRODUCED.value)]
    if measured:
        w = max(measured, key=_ratio)
        worst = f"{fmt_error(w.error)} vs {w.tolerance:.0e} ({w.id.split('/', 1)[-1]})"
    else:
        worst = "-"
    return ResultRow(result, verdicts, counts, evidence, worst, sum(r.seconds for r in mine))


def summary_rows(records: list[CheckRecord], left_out: list[tuple[Check, str]],
                 results: Iterable[str] | None = None) -> list[ResultRow]:
    """One row per result (default: every result, then unknown ones), in the paper's order."""
    if results is None:
        results = list(RESULTS) + sorted({r.result for r in records} - set(RESULTS))
    roots = root_ids(load_errata())
    return [summarize_result(res, records, [c for c in left_out if c[0].result == res], roots) for res in results]


def summary_text(rows: list[ResultRow]) -> str:
    """The summary as a fixed-width text table (what the report command prints)."""
    lines = [("result", "statement", "printed derivation", "checks", "strongest evidence", "worst error vs tolerance",
              "seconds")]
    lines += [(r.result, r.statement, r.derivation, r.counts, r.evidence, r.worst,
               "-" if r.seconds is None else f"{r.seconds:.2f}") for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


def verdict_cell(part: PartVerdict) -> tuple[Inline, ...]:
    """A verdict as a coloured badge plus its qualifier ("holds" + " (with misprint x corrected)")."""
    if part.verdict == MISPRINTS:
        n = len(part.misprints)
        return (Badge(MISPRINTS, f"{n} misprint{'' if n == 1 else 's'}"),
                f" ({part.records} record{'' if part.records == 1 else 's'}: {', '.join(part.misprints)})")
    text = part.text()
    rest = text[len(part.verdict):] if text.startswith(part.verdict) else f" ({text})"
    return (Badge(part.verdict),) + ((rest,) if rest else ())


_VERDICT_RULES = ("Statement: holds / fails / not checked, from the result's own statement checks; \"holds (with "
                  "misprint x corrected)\" means the claim holds and a constant or form printed in it is misprinted "
                  "(misprint x in Errata), not that the result is wrong. Printed derivation: exact / N misprints "
                  "(M records), counted by root misprint (one slip that makes several displays miss is one "
                  "misprint), from the checks of the proof's printed steps. Empirical claims: pass / not "
                  "reproduced / not checked. ")


def summary_section(records: list[CheckRecord], left_out: list[tuple[Check, str]], computed: int,
                    unexpected: Sequence[str] = ()) -> Section:
    """One row per result of the paper (numbered results, then its empirical claims) with both verdicts;
    ``unexpected``: every verdict that differs from the table of expected verdicts
    (:func:`lpm_verify.expected.pin_problems`), called out in a note."""
    paper_results = [r for r in RESULTS if r not in BEYOND_RESULTS]
    paper_results += sorted({r.result for r in records} - set(RESULTS))
    rows = summary_rows(records, left_out, paper_results)
    sec = Section("summary", "Summary: every result of the paper")
    verdicts = Counter(r.verdict for r in records)
    misprints, n_errata = misprint_totals(records, root_ids(load_errata()))
    statements = Counter(r.verdicts.statement.verdict for r in rows)
    sec.add(para(f"{len(records)} checks over {sum(1 for r in rows if r.verdicts.statement.verdict != NOT_CHECKED)} "
                 f"of {len(rows)} results of the paper: "
                 + ", ".join(f"{verdicts.get(v, 0)} {v}" for v in _PRIORITY)
                 + ". Results: " + ", ".join(f"{n} {v}" for v, n in statements.most_common())
                 + f". The checks found {misprints} misprint{'' if misprints == 1 else 's'} in the printed text "
                 f"({n_errata} records; see Errata). {computed} checks were "
                 f"run for this report, {len(records) - computed} read from the cache (their inputs had not changed)."))
    sec.add(table(["Result", "Statement", "Printed derivation", "Checks", "Strongest evidence",
                   "Worst error vs tolerance", "Time (s)"],
                  [[r.result, verdict_cell(r.verdicts.statement), verdict_cell(r.verdicts.derivation), r.counts,
                    r.evidence, r.worst, "-" if r.seconds is None else f"{r.seconds:.2f}"] for r in rows],
                  caption=_VERDICT_RULES + "Only the paper's own claims (origin paper) judge its results; the "
                          "suite's own findings are in Beyond the paper. Strongest evidence: the strongest method "
                          "among checks that held (symbolic > proof steps > numeric > solver > experiment) with its "
                          "working precision. Worst error: the largest error/tolerance among checks measured "
                          "against their claim (an erratum's printed-form error is in Errata)."))
    missing = [r.result for r in rows if r.counts.endswith(f"({NO_CHECK})")]
    if missing:
        sec.add(note(f"No check is registered yet for: {', '.join(missing)}."))
    if unexpected:
        sec.add(note(f"{len(unexpected)} verdict{' differs' if len(unexpected) == 1 else 's differ'} from the table of "
                     "expected verdicts (theorems/expected_verdicts.toml): " + "; ".join(unexpected) + "."))
    failed = [r for r in records if r.verdict == Verdict.FAIL.value]
    if failed:
        sec.add(para("Failed checks (each reproducible with the command beside it):"))
        sec.add(table(["Check", "What went wrong", "Reproduce"],
                      [[r.id, r.detail.get("exception") or r.summary(), Code(verify_command(r.id))] for r in failed]))
    return sec


def in_paper_order(records: list[CheckRecord]) -> list[CheckRecord]:
    """Records sorted by the paper's order of results (registration order within a result)."""
    rank = {r: i for i, r in enumerate(RESULTS)}
    return sorted(records, key=lambda r: rank.get(r.result, len(rank)))


def _record_evidence(r: CheckRecord) -> str:
    return ((r.evidence or r.claim) + f" (printed-form error {fmt_error(r.error)} against tolerance "
            f"{r.tolerance:.0e}, {precision(r.precision_digits)})")


def _erratum_blocks(e: Erratum, by_id: Mapping[str, CheckRecord], svg: Callable[[str], str]) -> list[Block]:
    """One root misprint: where, printed and corrected forms typeset, why, and its records."""
    rows = []
    for i, chk in enumerate(e.checks):
        role = "root" if i == 0 else "consequence"
        r = by_id.get(chk)
        if r is None:
            rows.append([chk, role, Badge(NOT_RUN), "not run in this report", Code(verify_command(chk))])
        else:
            rows.append([chk, role, Badge(r.verdict), _record_evidence(r), Code(verify_command(chk))])
    return [Heading(f"{e.id} ({e.result})"),
            para("Where: ", e.location, ". Status: ", Badge(e.status.value), "."),
            table(["As printed", "Corrected"], [[Math(e.printed, svg(e.printed)), Math(e.corrected, svg(e.corrected))]]),
            para(e.note),
            table(["Check", "Role", "Verdict", "Evidence", "Reproduce"], rows)]


def errata_section(records: list[CheckRecord], errata: Iterable[Erratum] | None = None,
                   cache: Cache | None = None, registered: Iterable[str] | None = None) -> Section:
    """Errata by root misprint (:mod:`lpm_verify.errata`): confirmed ones first, then possible
    transcription artifacts; under each its records with evidence and the command that reproduces them.

    A root is shown when one of its checks ran here; ``registered`` (all check ids; default: those of
    ``records``) lets the table audit flag listed ids that are not checks."""
    errata = tuple(load_errata() if errata is None else errata)
    sec = Section("errata", "Errata: misprints in the paper, by root misprint")
    by_id = {r.id: r for r in records}
    found = audit(errata, {r.id: r.verdict for r in records}, registered)
    shown = [e for e in ordered(errata) if any(by_id.get(c) and by_id[c].verdict == Verdict.ERRATUM.value
                                               for c in e.checks)]
    n_records = sum(1 for e in shown for c in e.checks if by_id.get(c) and by_id[c].verdict == Verdict.ERRATUM.value)
    artifacts = [e for e in shown if e.status is Status.ARTIFACT]
    unlisted = [by_id[c] for c in found.unlisted]
    if not shown and not unlisted:
        sec.add(para("No check found a misprint in the results it covers (a result with no check yet cannot "
                     "contribute one)."))
    else:
        sec.add(para(f"{len(shown)} misprint{'' if len(shown) == 1 else 's'} ({n_records} records): "
                     f"{len(shown) - len(artifacts)} confirmed, {len(artifacts)} possible transcription "
                     f"artifact{'' if len(artifacts) == 1 else 's'}. A record is a check whose printed form misses "
                     "the derivation while the corrected form agrees within tolerance; the printed form is always "
                     "evaluated first and the corrected one never replaces it. Records are grouped under the root "
                     "misprint they follow from (the table of roots is ", Code("lpm_verify/errata.toml"),
                     "), so one slip that makes four displays miss counts once."))
        sec.add(table(["Misprint", "Result", "Where in the paper", "Status", "Records"],
                      [[e.id, e.result, e.location, Badge(e.status.value),
                        str(sum(1 for c in e.checks if by_id.get(c) and by_id[c].verdict == Verdict.ERRATUM.value))]
                       for e in shown]))
    for problem in found.problems():
        sec.add(note(problem + "."))
    svg = (lambda tex: tex_to_svg(tex, cache))
    confirmed = [e for e in shown if e.status is Status.CONFIRMED]
    if confirmed:
        sec.add(Heading("Confirmed misprints"))
        for e in confirmed:
            sec.add(*_erratum_blocks(e, by_id, svg))
    if artifacts:
        sec.add(Heading("Possible transcription artifacts"),
                note("Our copy of the paper is a PDF-to-markdown conversion. Each misprint below could have been "
                     "introduced by that conversion; confirm it on the typeset PNAS page before citing it."))
        for e in artifacts:
            sec.add(*_erratum_blocks(e, by_id, svg))
    if unlisted:
        sec.add(Heading("Erratum records without a root misprint"))
        for r in unlisted:
            sec.add(table(["As printed", "Corrected"], [[Code(r.printed or "-"), Code(r.corrected or "-")]]),
                    para(r.id, ": ", _record_evidence(r), "."), para("Reproduce: ", Code(verify_command(r.id))))
    return sec


def beyond_section(records: list[CheckRecord]) -> Section:
    """The suite's own findings (``origin=beyond``), with verdicts, apart from the paper's results."""
    sec = Section("beyond", "Beyond the paper: findings of this suite")
    mine = [r for r in in_paper_order(records) if r.origin == Origin.BEYOND.value]
    sec.add(para("Checks of claims the paper does not state: models and findings of this suite (for example "
                 "exact minority collapse at finite R and its rate, the Theorem 4 boundary s*(K), counterexamples "
                 "showing that an assumption is needed). They judge no result of the paper: a finding listed here "
                 "under \"Theorem 5\" is about Theorem 5's setting, not a verdict on it."))
    own = all_result_verdicts(mine, root_ids(load_errata()), BEYOND_RESULTS)
    sec.add(table(["Model of this suite", "Verdict", "Checks"],
                  [[v.result, verdict_cell(v.statement),
                    ", ".join(f"{n} {k}" for k, n in sorted(v.verdict_counts.items())) or f"0 ({NO_CHECK})"]
                   for v in own]))
    if not mine:
        sec.add(note("No check in this report has origin beyond."))
        return sec
    sec.add(table(["Check", "Claim", "Method", "Verdict", "Error vs tolerance", "Reproduce"],
                  [[r.id, r.claim, r.method, Badge(r.verdict), f"{fmt_error(r.error)} vs {r.tolerance:.0e}",
                    Code(verify_command(r.id))] for r in mine],
                  caption=f"{len(mine)} checks with origin beyond, in the paper's order of results."))
    return sec


def checks_section(records: list[CheckRecord]) -> Section:
    sec = Section("checks", "All checks")
    sec.add(para("Every check record of this report (also in ", Code("data/checks.json"),
                 "). Tolerance reasons say why each tolerance has its size."))
    sec.add(table(["Check", "Origin / part", "Method", "Verdict", "Error", "Tolerance", "Precision", "Seconds",
                   "Claim / tolerance reason"],
                  [[r.id, f"{r.origin} / {r.part}", r.method, Badge(r.verdict), fmt_error(r.error), f"{r.tolerance:.0e}",
                    precision(r.precision_digits), f"{r.seconds:.2f}",
                    f"{r.claim} [tolerance: {r.tolerance_reason}]" + (f" [skipped: {r.skip_reason}]" if r.skip_reason else "")
                    + (f" [inconclusive: {r.inconclusive_reason}]" if r.inconclusive_reason else "")
                    + (f" [citation: {r.citation}]" if r.citation else "")]
                   for r in in_paper_order(records)]))
    return sec


# -- provenance -------------------------------------------------------------------------------
def git_revision(root: Path = REPO_ROOT) -> str:
    """``<commit> (+ uncommitted changes)`` or why it is unknown."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True, timeout=20).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({type(exc).__name__})"
    return rev + (" with uncommitted changes to tracked files" if dirty else "")


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {platform.platform()}, {model}, {os.cpu_count()} logical CPUs"


def installed_solvers() -> str:
    try:
        import cvxpy
    except ImportError as exc:
        return f"cvxpy not importable ({exc})"
    return ", ".join(cvxpy.installed_solvers())


#: Solver names as checks write them, and the name the report shows.
_SOLVER_NAMES: dict[str, tuple[str, ...]] = {
    "Clarabel (cvxpy)": ("clarabel",), "SCS (cvxpy)": ("scs ", "scs)", "scs,"), "MOSEK (cvxpy)": ("mosek",),
    "nonconvex solver of Eq. 7 (L-BFGS-B)": ("l-bfgs-b", "nonconvex solver", "nonconvex solve"),
    "symmetry-reduced KKT solve (Newton, mpmath)": ("symmetric solve", "symmetry-reduced", "newton"),
}


def solvers_named(records: list[CheckRecord]) -> dict[str, int]:
    """How many checks name each solver in their claim, tolerance reason or detail."""
    counts: Counter = Counter()
    for r in records:
        text = f"{r.claim} {r.tolerance_reason} {r.detail}".lower()
        for name, keys in _SOLVER_NAMES.items():
            if any(key in text for key in keys):
                counts[name] += 1
    return dict(counts.most_common())


def provenance_section(records: list[CheckRecord], sections: Iterable[Section], cache: Cache, *,
                       command: str, lpm_method: str, threshold_digits: int, total_seconds: float) -> Section:
    sec = Section("provenance", "Provenance")
    versions = {**library_versions(),
                **{dist: distribution_version(dist) for dist in ("matplotlib", "tqdm", "lpm-verify")}}
    named = solvers_named(records)
    digits = Counter(precision(r.precision_digits) for r in records)
    sec.add(table(["Item", "Value"], [
        ["command", Code(command)],
        ["git revision", git_revision()],
        ["machine", machine()],
        ["package versions", ", ".join(f"{k} {v}" for k, v in versions.items())],
        ["cvxpy solvers installed", installed_solvers()],
        ["solvers named by the checks (claim, tolerance reason or detail)",
         ", ".join(f"{name} ({n} checks)" for name, n in named.items()) or "none named"],
        ["LPM sweeps / thresholds", f"lpm_verify.sweep method={lpm_method!r}; lpm_verify.regimes at "
                                    f"{threshold_digits} digits (mpmath)"],
        ["working precision of checks", ", ".join(f"{n} at {p}" for p, n in sorted(digits.items())) or "no checks"],
        ["cache", cache.summary()],
    ]))
    rows = [[s.title, f"{s.seconds:.1f}"] for s in sections]
    rows.append(["total (whole report)", f"{total_seconds:.1f}"])
    sec.add(table(["Section", "Wall time (s)"], rows,
                  caption="Wall time to build each section on this machine, computation included (cached results "
                          "cost only their lookup)."))
    return sec
