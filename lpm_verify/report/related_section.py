"""Related results: the published results beside the paper that the suite reproduces (``origin=literature``,
one row per cited result with its citation) and the suite's own findings (``origin=beyond``, one row per
check), each with what was checked and its verdict.  Built from the check records only; nothing is re-derived.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lpm_verify.records import CheckRecord, Origin, Verdict
from lpm_verify.report.document import Badge, Code, Section, para, table

#: A row's verdict = the first of these that any of its checks has.
_WORST_FIRST = (Verdict.FAIL.value, Verdict.ERRATUM.value, Verdict.NOT_REPRODUCED.value, Verdict.INCONCLUSIVE.value,
                Verdict.PASS.value, Verdict.SKIPPED.value)
#: "authors, 'title', arXiv id (venue): statement" -> the part up to the arXiv id (and venue), and the rest.
_CITATION = re.compile(r"^(.*?arXiv \d{4}\.\d{4,5}(?: \([^)]*\))?):\s*(.*)$", re.S)


@dataclass(frozen=True)
class RelatedRow:
    """One line of the table: the result, its source (``literature: <work>`` or ``beyond``), what the suite
    checked (its checks and methods), the verdict (worst over those checks) and the full citation."""

    result: str
    source: str
    checked: str
    verdict: str
    citation: str | None


def worst_verdict(records: list[CheckRecord]) -> str:
    """The first of fail, erratum, not-reproduced, inconclusive, pass, skipped among ``records``' verdicts."""
    got = {r.verdict for r in records}
    return next((v for v in _WORST_FIRST if v in got), Verdict.FAIL.value)


def split_citation(citation: str) -> tuple[str, str]:
    """``(work, statement)``: the citation up to its arXiv id (and venue), and what it says was checked."""
    m = _CITATION.match(citation.strip())
    return (m.group(1), m.group(2)) if m else (citation.strip(), "")


def _checked(records: list[CheckRecord]) -> str:
    return "; ".join(f"{r.id} ({r.method})" for r in records)


def related_rows(records: list[CheckRecord]) -> list[RelatedRow]:
    """Literature rows (grouped by citation, in order of first appearance), then one beyond row per check."""
    cited: dict[str, list[CheckRecord]] = {}
    for r in records:
        if r.origin == Origin.LITERATURE.value and r.citation:
            cited.setdefault(r.citation, []).append(r)
    rows = []
    for citation, mine in cited.items():
        work, statement = split_citation(citation)
        rows.append(RelatedRow(statement or mine[0].claim, f"literature: {work}", _checked(mine), worst_verdict(mine),
                               citation))
    for r in records:
        if r.origin == Origin.BEYOND.value:
            rows.append(RelatedRow(r.claim, "beyond (this suite's finding)", _checked([r]), worst_verdict([r]), None))
    return rows


def related_section(records: list[CheckRecord]) -> Section:
    """The table of :func:`related_rows` with a line on how to read it."""
    sec = Section("related", "Related results: published beside the paper, and this suite's own")
    rows = related_rows(records)
    n_lit = sum(1 for r in rows if r.citation)
    sec.add(para(f"{n_lit} published result{'' if n_lit == 1 else 's'} beside the paper reproduced by this suite "
                 f"(origin literature: the suite confirms them, they are not its findings) and "
                 f"{len(rows) - n_lit} finding{'' if len(rows) - n_lit == 1 else 's'} of the suite's own (origin "
                 "beyond: not found in the literature it could read; each check's claim says where it looked). "
                 "A row's verdict is the worst of its checks."))
    if rows:
        sec.add(table(["Result", "Source", "What the suite checked", "Verdict"],
                      [[r.result, r.source, Code(r.checked), Badge(r.verdict)] for r in rows],
                      caption="Literature rows quote their citation up to the arXiv id; the full citation, with "
                              "what of the paper could be read, is in All checks."))
    return sec
