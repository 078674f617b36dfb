"""The errata table: one entry per ROOT misprint of the paper, read from ``errata.toml``.

A root misprint is one slip in the paper (e.g. the constant C_b in the proof of Theorem 1); the
checks that show it are its root check and its consequences (the same C_b makes Eqs. 23-27 and the
equality conditions miss too).  The table is data, kept beside the code as TOML: the LaTeX of the
printed and corrected forms sits in literal strings exactly as written, a reviewer diffs data rather
than code, and this module validates it on loading (unknown keys, duplicate ids, a check under two
roots and an unknown status all raise).

:func:`audit` compares the table with verdicts (from records, or the verdicts checks are pinned to):
an erratum verdict with no root, a listed id that is not a registered check, and a listed check whose
verdict is ``pass`` (a misprint that no check shows) are each reported.
"""
from __future__ import annotations

import enum
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from lpm_verify.errors import LPMInputError

#: The table shipped with the package.
ERRATA_FILE = Path(__file__).with_name("errata.toml")
_FIELDS = ("id", "location", "printed", "corrected", "status", "note", "checks")


class Status(str, enum.Enum):
    """How sure we are that the misprint is the paper's and not our copy's."""

    CONFIRMED = "confirmed"
    #: Our copy is a PDF-to-markdown conversion; the typeset page must be checked before citing.
    ARTIFACT = "possible transcription artifact"


@dataclass(frozen=True)
class Erratum:
    """One root misprint: where it is, printed and corrected LaTeX, and the checks that show it."""

    id: str
    location: str         # section and equation numbers of the paper
    printed: str          # LaTeX (matplotlib mathtext subset)
    corrected: str        # LaTeX (same subset)
    status: Status
    note: str
    checks: tuple[str, ...]  # root check first, consequences after

    @property
    def result(self) -> str:
        """The result whose check shows the misprint first (``"Theorem 1"``)."""
        return self.checks[0].split("/", 1)[0]


def parse_errata(data: Mapping[str, Any], source: str = "errata table") -> tuple[Erratum, ...]:
    """Validate the parsed TOML ``data`` (``version = 1``, ``[[erratum]]`` tables) into entries."""
    if data.get("version") != 1:
        raise LPMInputError(f"{source}: version must be 1; got {data.get('version')!r}")
    entries = data.get("erratum")
    if not isinstance(entries, list) or not entries:
        raise LPMInputError(f"{source}: needs at least one [[erratum]] table")
    out: list[Erratum] = []
    owner: dict[str, str] = {}
    for i, raw in enumerate(entries):
        name = raw.get("id", f"entry {i + 1}")
        missing = [f for f in _FIELDS if f not in raw]
        unknown = sorted(set(raw) - set(_FIELDS))
        if missing or unknown:
            raise LPMInputError(f"{source}: erratum {name!r} must have exactly the fields {', '.join(_FIELDS)}; "
                                f"missing {missing}, unknown {unknown}")
        if any(not isinstance(raw[f], str) or not raw[f].strip() for f in _FIELDS if f != "checks"):
            raise LPMInputError(f"{source}: erratum {name!r}: every field but checks must be a non-empty string")
        checks = raw["checks"]
        if not isinstance(checks, list) or not checks or not all(isinstance(c, str) and "/" in c for c in checks):
            raise LPMInputError(f"{source}: erratum {name!r}: checks must be a non-empty list of check ids "
                                f"('Result/name'); got {checks!r}")
        try:
            status = Status(raw["status"])
        except ValueError:
            raise LPMInputError(f"{source}: erratum {name!r}: status must be one of "
                                f"{', '.join(repr(s.value) for s in Status)}; got {raw['status']!r}") from None
        if re.search(r"\blines?\s+\d|\bmd\b|markdown", raw["location"]) or not re.search(r"\b(Section|Appendix)\b", raw["location"]):
            raise LPMInputError(f"{source}: erratum {name!r}: location must name the paper's section and equation, "
                                f"not a line of our copy; got {raw['location']!r}")
        if any(e.id == name for e in out):
            raise LPMInputError(f"{source}: erratum id {name!r} is used twice")
        for chk in checks:
            if chk in owner:
                raise LPMInputError(f"{source}: check {chk!r} is listed under two roots, {owner[chk]!r} and {name!r}")
            owner[chk] = name
        out.append(Erratum(name, raw["location"], raw["printed"], raw["corrected"], status, raw["note"],
                           tuple(checks)))
    return tuple(out)


def load_errata(path: Path | str | None = None) -> tuple[Erratum, ...]:
    """The errata table at ``path`` (default: the package's ``errata.toml``, read once)."""
    if path is None:
        return _default_table()
    with open(path, "rb") as fh:
        return parse_errata(tomllib.load(fh), source=str(path))


@lru_cache(maxsize=1)
def _default_table() -> tuple[Erratum, ...]:
    with open(ERRATA_FILE, "rb") as fh:
        return parse_errata(tomllib.load(fh), source=str(ERRATA_FILE))


def roots_by_check(errata: Iterable[Erratum]) -> dict[str, Erratum]:
    """Check id -> the root misprint it shows."""
    return {chk: e for e in errata for chk in e.checks}


def root_ids(errata: Iterable[Erratum]) -> dict[str, str]:
    """Check id -> the id of the root misprint it shows (what :mod:`lpm_verify.verdicts` counts by)."""
    return {chk: e.id for e in errata for chk in e.checks}


def ordered(errata: Iterable[Erratum]) -> list[Erratum]:
    """Confirmed misprints first, then possible transcription artifacts; table order within each."""
    rank = {s: i for i, s in enumerate(Status)}
    return sorted(errata, key=lambda e: rank[e.status])


@dataclass(frozen=True)
class ErrataAudit:
    """Where the table and the verdicts disagree (all empty: they agree)."""

    unlisted: tuple[str, ...]                  # verdict erratum, but under no root
    unregistered: tuple[tuple[str, str], ...]  # (erratum id, listed check id that is not registered)
    not_shown: tuple[tuple[str, str], ...]     # (erratum id, listed check whose verdict is pass)

    @property
    def ok(self) -> bool:
        return not (self.unlisted or self.unregistered or self.not_shown)

    def problems(self) -> list[str]:
        """One sentence per disagreement."""
        out = [f"check {c!r} has verdict erratum but no root misprint in the errata table" for c in self.unlisted]
        out += [f"erratum {e!r} lists {c!r}, which is not a registered check" for e, c in self.unregistered]
        out += [f"erratum {e!r} lists {c!r}, whose verdict is pass: no check shows this misprint there"
                for e, c in self.not_shown]
        return out


def audit(errata: Iterable[Erratum], verdicts: Mapping[str, str | None],
          registered: Iterable[str] | None = None) -> ErrataAudit:
    """Compare the table with ``verdicts`` (check id -> verdict, from records or the expected verdicts).

    ``registered`` are all check ids that exist (None: registration is not audited, e.g. a report over a
    private registry); a listed check without a verdict here (not run, or nothing pinned) is not judged.
    """
    errata = tuple(errata)
    roots = roots_by_check(errata)
    known = None if registered is None else set(registered)
    return ErrataAudit(
        unlisted=tuple(c for c, v in verdicts.items() if v == "erratum" and c not in roots),
        unregistered=() if known is None else tuple((e.id, c) for e in errata for c in e.checks if c not in known),
        not_shown=tuple((e.id, c) for e in errata for c in e.checks if verdicts.get(c) == "pass"),
    )
