"""Sections built from check records: Summary, Errata, All checks, and Provenance.

The summary has one row for EVERY numbered result in :data:`lpm_verify.claims.RESULTS`; a result
without a record says so ("no check yet") instead of disappearing.  A result's verdict is the worst
of its checks' verdicts (fail > erratum > not-reproduced > pass > skipped), each computed by
:func:`lpm_verify.claims.verdict_for` and never re-derived here.
"""
from __future__ import annotations

import math
import os
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from lpm_verify.claims import RESULTS, Check, CheckRecord, Method, Verdict, fmt_error
from lpm_verify.report.cache import REPO_ROOT, Cache, distribution_version, library_versions
from lpm_verify.report.document import Badge, Code, Heading, Section, note, para, table

NO_CHECK = "no check yet"
NOT_RUN = "not run"
#: Result verdict = the first of these that any of its checks has.
_PRIORITY = (Verdict.FAIL.value, Verdict.ERRATUM.value, Verdict.NOT_REPRODUCED.value, Verdict.PASS.value,
             Verdict.SKIPPED.value)
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
    """One line of the summary table."""

    result: str
    verdict: str
    counts: str
    evidence: str
    worst: str
    seconds: float | None


def _left_out_text(left_out: list[tuple[Check, str]]) -> str:
    reasons = Counter(why for _, why in left_out)
    return "; ".join(f"{n} {why}" for why, n in reasons.items())


def summarize_result(result: str, records: list[CheckRecord], left_out: list[tuple[Check, str]]) -> ResultRow:
    """Verdict, strongest evidence, worst error vs tolerance and time of one result's records."""
    if not records:
        verdict = NOT_RUN if left_out else NO_CHECK
        return ResultRow(result, verdict, "0", _left_out_text(left_out) if left_out else "-", "-", None)
    verdicts = Counter(r.verdict for r in records)
    verdict = next(v for v in _PRIORITY if verdicts.get(v))
    counts = ", ".join(f"{verdicts[v]} {v}" for v in _PRIORITY if verdicts.get(v))
    if left_out:
        counts += f"; not run: {_left_out_text(left_out)}"
    held = sorted((r for r in records if r.verdict in (Verdict.PASS.value, Verdict.ERRATUM.value)),
                  key=lambda r: (_METHOD_RANK.get(r.method, 99), r.precision_digits is not None))
    if held:
        best = held[0]
        evidence = f"{_METHOD_NAME.get(best.method, best.method)} ({precision(best.precision_digits)})"
        others = sorted({r.method for r in held} - {best.method}, key=lambda m: _METHOD_RANK.get(m, 99))
        if others:
            evidence += "; also " + ", ".join(_METHOD_NAME.get(m, m) for m in others)
    else:
        evidence = "none held"
    measured = [r for r in records if r.verdict in (Verdict.PASS.value, Verdict.FAIL.value)]
    if measured:
        w = max(measured, key=_ratio)
        worst = f"{fmt_error(w.error)} vs {w.tolerance:.0e} ({w.id.split('/', 1)[-1]})"
    else:
        worst = "-"
    return ResultRow(result, verdict, counts, evidence, worst, sum(r.seconds for r in records))


def summary_rows(records: list[CheckRecord], left_out: list[tuple[Check, str]]) -> list[ResultRow]:
    """One row per numbered result, in the paper's order; unknown results (if any) after them."""
    results = list(RESULTS) + sorted({r.result for r in records} - set(RESULTS))
    return [summarize_result(res, [r for r in records if r.result == res], [c for c in left_out if c[0].result == res])
            for res in results]


def summary_text(rows: list[ResultRow]) -> str:
    """The summary as a fixed-width text table (what the report command prints)."""
    lines = [("result", "verdict", "checks", "strongest evidence", "worst error vs tolerance", "seconds")]
    lines += [(r.result, r.verdict, r.counts, r.evidence, r.worst, "-" if r.seconds is None else f"{r.seconds:.2f}")
              for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


def summary_section(records: list[CheckRecord], left_out: list[tuple[Check, str]], computed: int) -> Section:
    rows = summary_rows(records, left_out)
    sec = Section("summary", "Summary: every numbered result")
    verdicts = Counter(r.verdict for r in records)
    sec.add(para(f"{len(records)} checks over {sum(1 for r in rows if r.verdict not in (NO_CHECK, NOT_RUN))} of "
                 f"{len(rows)} results: " + ", ".join(f"{verdicts.get(v, 0)} {v}" for v in _PRIORITY)
                 + f". {computed} checks were run for this report, {len(records) - computed} read from the cache "
                 "(their inputs had not changed)."))
    sec.add(table(["Result", "Verdict", "Checks", "Strongest evidence", "Worst error vs tolerance", "Time (s)"],
                  [[r.result, Badge(r.verdict), r.counts, r.evidence, r.worst,
                    "-" if r.seconds is None else f"{r.seconds:.2f}"] for r in rows],
                  caption="Verdict: worst over the result's checks (fail > erratum > not-reproduced > pass > skipped). "
                          "Strongest "
                          "evidence: the strongest method among checks that held (symbolic > proof steps > numeric "
                          "> solver > experiment) with its working precision. Worst error: the largest "
                          "error/tolerance among pass/fail checks (an erratum's printed-form error is in Errata)."))
    missing = [r.result for r in rows if r.verdict == NO_CHECK]
    if missing:
        sec.add(note(f"No check is registered yet for: {', '.join(missing)}."))
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


def errata_section(records: list[CheckRecord]) -> Section:
    sec = Section("errata", "Errata: misprints in the paper")
    errata = [r for r in in_paper_order(records) if r.verdict == Verdict.ERRATUM.value]
    if not errata:
        sec.add(para("No check found a misprint in the results it covers (a result with no check yet cannot "
                     "contribute one)."))
        return sec
    by_result = Counter(r.result for r in errata)
    sec.add(para(f"{len(errata)} formula(s) or proof step(s) as printed disagree with the derivation while the "
                 "corrected form agrees within tolerance (" + ", ".join(f"{res}: {n}" for res, n in by_result.items())
                 + "). Each check evaluates the printed form first; the corrected form never replaces it."))
    for r in errata:
        sec.add(Heading(r.id),
                table(["As printed", "Corrected"], [[Code(r.printed or "-"), Code(r.corrected or "-")]]),
                para("Evidence: " + (r.evidence or "-") + f" (printed-form error {fmt_error(r.error)} against "
                     f"tolerance {r.tolerance:.0e}, {precision(r.precision_digits)})."),
                para("Reproduce: ", Code(verify_command(r.id))))
    return sec


def checks_section(records: list[CheckRecord]) -> Section:
    sec = Section("checks", "All checks")
    sec.add(para("Every check record of this report (also in ", Code("data/checks.json"),
                 "). Tolerance reasons say why each tolerance has its size."))
    sec.add(table(["Check", "Method", "Verdict", "Error", "Tolerance", "Precision", "Seconds", "Claim / tolerance reason"],
                  [[r.id, r.method, Badge(r.verdict), fmt_error(r.error), f"{r.tolerance:.0e}",
                    precision(r.precision_digits), f"{r.seconds:.2f}",
                    f"{r.claim} [tolerance: {r.tolerance_reason}]" + (f" [skipped: {r.skip_reason}]" if r.skip_reason else "")]
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
