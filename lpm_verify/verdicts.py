"""A result's two verdicts, computed here and nowhere else: its statement and its printed derivation.

Every record already has its own verdict (:func:`lpm_verify.verdict_rule.verdict_for`); this module only
combines them per result, so ``verify``, the report and the JSON say the same thing.

**Statement** (from the result's ``part=statement`` checks):

* ``holds``        every statement check that ran is ``pass`` or ``erratum``;
* ``fails``        some statement check is ``fail``;
* ``not checked``  no statement check ran (none registered, all skipped, or not selected).

An ``erratum`` inside a statement check means the claim holds once a misprinted constant or form in its
statement is corrected (Property 1 (i) prints ||Z*||_* = sqrt(E_H E_W) where K sqrt(E_H E_W) holds).
It is shown as ``holds (with misprint <id> corrected)``, never as a failure of the result: the
theorem is right, the printed formula is not.

**Printed derivation** (from the ``part=derivation`` checks): ``exact`` (every one ``pass``),
``N misprints (M records)`` counted by ROOT misprint through the errata table (one slip that makes
four displays miss is one misprint), ``fails`` when a derivation check fails, ``not checked`` when none ran.

**Experiment results** (the paper's figures and tables, decided from training runs) have one verdict,
``pass`` / ``not reproduced`` / ``inconclusive (not in regime)`` / ``not checked`` (``fails`` only when a
check broke), and no derivation.  An inconclusive check neither holds nor refutes the claim: it is never
counted as a finding.

A result of the paper is judged on its ``origin=paper`` checks only; the suite's own findings
(``origin=beyond``) are listed apart ("Beyond the paper") and judge only the beyond-the-paper results.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from lpm_verify.records import BEYOND_RESULTS, EMPIRICAL_RESULTS, RESULTS, CheckRecord, Method, Origin, Part, Verdict

HOLDS = "holds"
FAILS = "fails"
NOT_CHECKED = "not checked"
EXACT = "exact"
MISPRINTS = "misprints"
PASS = "pass"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive (not in regime)"
NOT_APPLICABLE = "n/a"

#: What a result is: a claim of the paper, a finding of this suite, or an empirical claim of the paper.
PAPER, BEYOND, EXPERIMENT = "paper", "beyond", "experiment"

_RAN = (Verdict.PASS.value, Verdict.ERRATUM.value, Verdict.FAIL.value, Verdict.NOT_REPRODUCED.value)


@dataclass(frozen=True)
class PartVerdict:
    """One of a result's two verdicts."""

    verdict: str                          # holds | fails | not checked | exact | misprints | pass | ...
    misprints: tuple[str, ...] = ()       # root misprint ids (or check ids of erratum records without a root)
    records: int = 0                      # erratum records behind ``misprints``
    failed: tuple[str, ...] = ()          # check ids with verdict fail
    skipped: int = 0                      # checks of this part that were skipped

    def text(self, max_names: int | None = None) -> str:
        """The verdict as the summary prints it; a statement that holds with misprints names them (more
        than ``max_names``: counts them, for a fixed-width table)."""
        if self.verdict == MISPRINTS:
            out = f"{_count(len(self.misprints), 'misprint')} ({_count(self.records, 'record')})"
        elif self.verdict == HOLDS and self.misprints and max_names is not None and len(self.misprints) > max_names:
            out = f"holds (with {len(self.misprints)} misprints corrected)"
        elif self.verdict == HOLDS and self.misprints:
            out = f"holds (with misprint{'s' if len(self.misprints) > 1 else ''} {', '.join(self.misprints)} corrected)"
        else:
            out = self.verdict
        if self.verdict == FAILS and self.misprints:  # a failure and misprints in the same part: say both
            out += f"; {_count(len(self.misprints), 'misprint')} ({_count(self.records, 'record')})"
        if self.verdict == NOT_CHECKED and self.skipped:
            out += f" ({self.skipped} skipped)"
        return out

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "text": self.text(), "misprints": list(self.misprints),
                "erratum_records": self.records, "failed": list(self.failed), "skipped": self.skipped}


@dataclass(frozen=True)
class ResultVerdicts:
    """The two verdicts of one result (``derivation`` is ``n/a`` for an experiment result)."""

    result: str
    kind: str                     # paper | beyond | experiment
    statement: PartVerdict
    derivation: PartVerdict
    verdict_counts: Mapping[str, int] = field(default_factory=dict)  # over the records judged

    def to_json(self) -> dict[str, Any]:
        return {"result": self.result, "kind": self.kind, "statement": self.statement.to_json(),
                "derivation": self.derivation.to_json(), "checks": dict(self.verdict_counts)}


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def kind_of(result: str, records: Iterable[CheckRecord] = ()) -> str:
    """``experiment`` for the paper's empirical claims (or a result checked only by experiments),
    ``beyond`` for the suite's own models and findings, ``paper`` otherwise."""
    records = list(records)
    if result in EMPIRICAL_RESULTS or (records and all(r.method == Method.EXPERIMENT.value for r in records)):
        return EXPERIMENT
    return BEYOND if result in BEYOND_RESULTS else PAPER


def judged_records(result: str, records: Iterable[CheckRecord]) -> list[CheckRecord]:
    """The records that judge ``result``: its ``origin=beyond`` checks for a beyond-the-paper result,
    its ``origin=paper`` checks otherwise."""
    origin = Origin.BEYOND.value if result in BEYOND_RESULTS else Origin.PAPER.value
    return [r for r in records if r.result == result and r.origin == origin]


def _misprints(records: list[CheckRecord], roots: Mapping[str, str]) -> tuple[tuple[str, ...], int]:
    """Distinct root misprints behind the erratum records (first seen first) and the number of records."""
    errata = [r for r in records if r.verdict == Verdict.ERRATUM.value]
    return tuple(dict.fromkeys(roots.get(r.id, r.id) for r in errata)), len(errata)


def _part_verdict(records: list[CheckRecord], roots: Mapping[str, str], held: Callable[[tuple[str, ...]], str]
                  ) -> PartVerdict:
    """Fails (a check failed) / not checked (none ran) / ``held(misprints)`` from one part's records."""
    ran = [r for r in records if r.verdict in _RAN]
    skipped = sum(1 for r in records if r.verdict == Verdict.SKIPPED.value)
    misprints, n = _misprints(ran, roots)
    failed = tuple(r.id for r in ran if r.verdict == Verdict.FAIL.value)
    if failed:
        return PartVerdict(FAILS, misprints, n, failed, skipped)
    if not ran:
        return PartVerdict(NOT_CHECKED, skipped=skipped)
    return PartVerdict(held(misprints), misprints, n, skipped=skipped)


def statement_verdict(records: list[CheckRecord], roots: Mapping[str, str]) -> PartVerdict:
    """Holds / fails / not checked from a result's statement records (see the module docstring)."""
    return _part_verdict(records, roots, lambda misprints: HOLDS)


def derivation_verdict(records: list[CheckRecord], roots: Mapping[str, str]) -> PartVerdict:
    """Exact / N misprints / fails / not checked from a result's derivation records."""
    return _part_verdict(records, roots, lambda misprints: MISPRINTS if misprints else EXACT)


def experiment_verdict(records: list[CheckRecord]) -> PartVerdict:
    """Pass / not reproduced / inconclusive / not checked (fails: a check broke) for an empirical claim.

    A refutation decided in regime outweighs a check that was not in regime; a pass needs every check that
    ran in regime to pass and at least one such check."""
    ran = [r for r in records if r.verdict in _RAN]
    skipped = sum(1 for r in records if r.verdict == Verdict.SKIPPED.value)
    failed = tuple(r.id for r in ran if r.verdict == Verdict.FAIL.value)
    if failed:
        return PartVerdict(FAILS, failed=failed, skipped=skipped)
    inconclusive = any(r.verdict == Verdict.INCONCLUSIVE.value for r in records)
    if not ran:
        return PartVerdict(INCONCLUSIVE if inconclusive else NOT_CHECKED, skipped=skipped)
    if any(r.verdict == Verdict.NOT_REPRODUCED.value for r in ran):
        return PartVerdict(NOT_REPRODUCED, skipped=skipped)
    return PartVerdict(INCONCLUSIVE if inconclusive else PASS, skipped=skipped)


def result_verdicts(result: str, records: Iterable[CheckRecord], roots: Mapping[str, str]) -> ResultVerdicts:
    """Both verdicts of ``result`` from all ``records`` (``roots``: check id -> root misprint id)."""
    mine = judged_records(result, records)
    kind = kind_of(result, mine)
    counts = Counter(r.verdict for r in mine)
    if kind == EXPERIMENT:
        return ResultVerdicts(result, kind, experiment_verdict(mine), PartVerdict(NOT_APPLICABLE), counts)
    statement = [r for r in mine if r.part == Part.STATEMENT.value]
    derivation = [r for r in mine if r.part == Part.DERIVATION.value]
    return ResultVerdicts(result, kind, statement_verdict(statement, roots), derivation_verdict(derivation, roots),
                          counts)


def all_result_verdicts(records: Iterable[CheckRecord], roots: Mapping[str, str],
                        results: Iterable[str] | None = None) -> list[ResultVerdicts]:
    """One entry per result of ``results`` (default: every result, then any unknown one in the records)."""
    records = list(records)
    if results is None:
        results = list(RESULTS) + sorted({r.result for r in records} - set(RESULTS))
    return [result_verdicts(res, records, roots) for res in results]


def misprint_totals(records: Iterable[CheckRecord], roots: Mapping[str, str]) -> tuple[int, int]:
    """(distinct root misprints, erratum records) over all ``records``."""
    misprints, n = _misprints(list(records), roots)
    return len(misprints), n


def summary_json(records: Iterable[CheckRecord], roots: Mapping[str, str]) -> dict[str, Any]:
    """The per-result summary object of ``verify --json`` and the report's ``data/checks.json``."""
    records = list(records)
    misprints, n = misprint_totals(records, roots)
    return {"results": [v.to_json() for v in all_result_verdicts(records, roots)],
            "misprints": misprints, "erratum_records": n,
            "verdicts": dict(Counter(r.verdict for r in records))}
