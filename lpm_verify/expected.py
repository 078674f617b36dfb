"""Expected verdicts: one reviewed table, one rule, used by ``verify --strict`` and ``pytest theorems/`` alike.

Every check is expected to ``pass`` unless the table (``theorems/expected_verdicts.toml``) says otherwise,
with a reason: ``erratum`` (the reason names the root misprint of ``errata.toml``), ``not-reproduced`` (an
empirical claim of the paper that our runs refute, with what was measured) or ``inconclusive`` (runs not in
the claim's regime).  ``skipped`` is never expected: it is a condition (an input or optional package is
absent), and a check with its input present is held to its expected verdict.  The table is strict both
ways: an entry for an unknown check is an error, and a check expected not to pass that passes is reported.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from lpm_verify.errors import LPMInputError
from lpm_verify.records import CheckRecord, Verdict

#: Verdicts the table may expect (``pass`` is the default; ``skipped`` is a condition; ``fail`` is never
#: an expected outcome of a check).
EXPECTABLE = (Verdict.ERRATUM, Verdict.NOT_REPRODUCED, Verdict.INCONCLUSIVE)
#: The reason given for a check absent from the table.
DEFAULT_REASON = "not in the table of expected verdicts"


@dataclass(frozen=True)
class Expected:
    """The verdict a check is expected to give, and why."""

    verdict: Verdict
    reason: str


def parse_expected(data: Mapping[str, Any], source: str) -> dict[str, Expected]:
    """``{check id: Expected}`` from the parsed table; a malformed entry raises :class:`LPMInputError`."""
    out = {}
    allowed = ", ".join(v.value for v in EXPECTABLE)
    for check_id, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"verdict", "reason"}:
            raise LPMInputError(f"{source}: entry {check_id!r} must have exactly the keys verdict and reason")
        if entry["verdict"] not in {v.value for v in EXPECTABLE}:
            raise LPMInputError(f"{source}: entry {check_id!r}: verdict must be one of {allowed} (pass is the "
                                f"default, skipped a condition); got {entry['verdict']!r}")
        if not isinstance(entry["reason"], str) or not entry["reason"].strip():
            raise LPMInputError(f"{source}: entry {check_id!r}: the reason must be a non-empty string")
        out[check_id] = Expected(Verdict(entry["verdict"]), entry["reason"].strip())
    return out


def load_expected(path: Path) -> dict[str, Expected]:
    """The table of expected verdicts at ``path``."""
    with open(path, "rb") as fh:
        return parse_expected(tomllib.load(fh), source=str(path))


def expected_for(check_id: str, table: Mapping[str, Expected]) -> Expected:
    """What ``table`` expects of check ``check_id`` (``pass`` when it is absent)."""
    return table.get(check_id, Expected(Verdict.PASS, DEFAULT_REASON))


def pin_problem(record: CheckRecord, table: Mapping[str, Expected]) -> str | None:
    """``"id: expected X (reason), got Y"`` when ``record`` differs from what the table expects; None when it
    agrees or was skipped (a condition, not a verdict to hold)."""
    if record.verdict == Verdict.SKIPPED.value:
        return None
    want = expected_for(record.id, table)
    if record.verdict == want.verdict.value:
        return None
    return f"{record.id}: expected {want.verdict.value} ({want.reason}), got {record.verdict}"


def pin_problems(records: Iterable[CheckRecord], table: Mapping[str, Expected], registered: Iterable[str]
                 ) -> list[str]:
    """Every table entry naming no registered check, then every record that differs from its pin."""
    known = set(registered)
    out = [f"expected verdicts: {check_id!r} is not a registered check" for check_id in table if check_id not in known]
    out += [p for p in (pin_problem(r, table) for r in records) if p is not None]
    return out
