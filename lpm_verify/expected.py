"""Expected verdicts: one reviewed table, one rule, used by ``verify --strict`` and ``pytest theorems/`` alike.

Every check is expected to ``pass`` unless the table (``theorems/expected_verdicts.toml``) says otherwise,
with a reason: ``erratum`` (the reason names the root misprint of ``errata.toml``), ``not-reproduced`` (an
empirical claim of the paper that our runs refute, with what was measured) or ``inconclusive`` (runs not in
the claim's regime).  ``skipped`` is never expected: it is a condition (an input or optional package is
absent), and a check with its input present is held to its expected verdict.  The table is strict both
ways: an entry for an unknown check is an error, and a check expected not to pass that passes is reported.

An experiment check's verdict depends on the store it reads: off the paper's regime (the default
``cpu-report`` store) it is ``inconclusive``; on a store that holds runs of an in-regime preset
(``cpu-regime``, ``paper``) it decides.  Its entry then carries a second pin, the sub-table ``in_regime``
(``pass`` allowed there), that holds when the store holds such runs -- chosen by the store, never by the
verdict, so a check that stops deciding on an in-regime store is reported.
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
#: Verdicts an ``in_regime`` pin may expect: a decision, or inconclusive where the in-regime preset lacks a setting.
IN_REGIME_EXPECTABLE = (Verdict.PASS, Verdict.NOT_REPRODUCED, Verdict.INCONCLUSIVE)
#: The reason given for a check absent from the table.
DEFAULT_REASON = "not in the table of expected verdicts"


@dataclass(frozen=True)
class Expected:
    """The verdict a check is expected to give, and why."""

    verdict: Verdict
    reason: str
    #: The pin on a store that holds runs of an in-regime preset (experiment checks only).
    in_regime: "Expected | None" = None


def _pin(check_id: str, entry: Any, allowed: tuple[Verdict, ...], source: str, keys: set[str]) -> Expected:
    where = f"{source}: entry {check_id!r}"
    if not isinstance(entry, dict) or not {"verdict", "reason"} <= set(entry) <= keys:
        raise LPMInputError(f"{where} must have exactly the keys verdict and reason"
                            + (" (and optionally in_regime)" if "in_regime" in keys else ""))
    if entry["verdict"] not in {v.value for v in allowed}:
        raise LPMInputError(f"{where}: verdict must be one of {', '.join(v.value for v in allowed)}"
                            + (" (pass is the default, skipped a condition)" if Verdict.PASS not in allowed
                               else " (skipped is a condition)") + f"; got {entry['verdict']!r}")
    if not isinstance(entry["reason"], str) or not entry["reason"].strip():
        raise LPMInputError(f"{where}: the reason must be a non-empty string")
    return Expected(Verdict(entry["verdict"]), entry["reason"].strip())


def parse_expected(data: Mapping[str, Any], source: str) -> dict[str, Expected]:
    """``{check id: Expected}`` from the parsed table; a malformed entry raises :class:`LPMInputError`."""
    out = {}
    for check_id, entry in data.items():
        pin = _pin(check_id, entry, EXPECTABLE, source, {"verdict", "reason", "in_regime"})
        if "in_regime" in entry:
            regime = _pin(f"{check_id}.in_regime", entry["in_regime"], IN_REGIME_EXPECTABLE, source,
                          {"verdict", "reason"})
            pin = Expected(pin.verdict, pin.reason, regime)
        out[check_id] = pin
    return out


def load_expected(path: Path) -> dict[str, Expected]:
    """The table of expected verdicts at ``path``."""
    with open(path, "rb") as fh:
        return parse_expected(tomllib.load(fh), source=str(path))


def expected_for(check_id: str, table: Mapping[str, Expected], in_regime_store: bool = False) -> Expected:
    """What ``table`` expects of check ``check_id`` (``pass`` when it is absent); on a store holding runs of
    an in-regime preset, its ``in_regime`` pin where it has one."""
    want = table.get(check_id, Expected(Verdict.PASS, DEFAULT_REASON))
    return want.in_regime if in_regime_store and want.in_regime is not None else want


def pin_problem(record: CheckRecord, table: Mapping[str, Expected], in_regime_store: bool = False) -> str | None:
    """``"id: expected X (reason), got Y"`` when ``record`` differs from what the table expects; None when it
    agrees or was skipped (a condition, not a verdict to hold)."""
    if record.verdict == Verdict.SKIPPED.value:
        return None
    want = expected_for(record.id, table, in_regime_store)
    if record.verdict == want.verdict.value:
        return None
    return f"{record.id}: expected {want.verdict.value} ({want.reason}), got {record.verdict}"


def pin_problems(records: Iterable[CheckRecord], table: Mapping[str, Expected], registered: Iterable[str],
                 in_regime_store: bool = False) -> list[str]:
    """Every table entry naming no registered check, then every record that differs from its pin."""
    known = set(registered)
    out = [f"expected verdicts: {check_id!r} is not a registered check" for check_id in table if check_id not in known]
    out += [p for p in (pin_problem(r, table, in_regime_store) for r in records) if p is not None]
    return out
