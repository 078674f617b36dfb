"""What a check is and what it produces: the results it may belong to, its kinds (method, origin, part),
the verdicts, the :class:`Outcome` a check function returns and the :class:`CheckRecord` it becomes.

Verdicts (decided by :func:`lpm_verify.verdict_rule.verdict_for`, the single rule):

* ``pass``     the error is within tolerance;
* ``erratum``  the formula *as printed* was evaluated and misses (a finite error above tolerance), and the
               corrected form the check also evaluated is within tolerance (the record carries printed
               form, corrected form and evidence); a non-finite printed error is ``fail``, never an erratum;
* ``fail``     anything else, including an exception or a NaN error;
* ``skipped``  the check could not run here, with the reason (an input is absent);
* ``not-reproduced``  (experiment checks) the paper's empirical claim does not hold for our runs;
* ``inconclusive``  (experiment checks) the runs are not in the regime the claim is about, with the reason.
"""
from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import mpmath
import numpy as np

#: Every numbered result of the paper, in the order the paper states them.
PAPER_RESULTS: tuple[str, ...] = (
    "Definition 1", "Theorem 1", "Lemma 2", "Theorem 3", "Theorem 4", "Lemma 4",
    "Lemma 1", "Proposition 1", "Theorem 5", "Lemma 5", "Lemma 6", "Lemma 7", "Property 1",
    "Proposition 2", "Lemma 3", "Appendix C",
)
#: Models and findings of this suite that are not results of the paper (every check ``origin=beyond``).
BEYOND_RESULTS: tuple[str, ...] = ("Penalized LPM",)
#: The paper's empirical claims (figures and tables), decided from stored training runs.
EMPIRICAL_RESULTS: tuple[str, ...] = (
    "Figure 2", "Figure 4", "Table 1", "Figure 5", "Tables 3 and 4", "Figure 6", "Table 2", "Figure 7",
    "Figure 9",
)
#: Every result a check may belong to, in report order.
RESULTS: tuple[str, ...] = PAPER_RESULTS + BEYOND_RESULTS + EMPIRICAL_RESULTS


class Method(str, enum.Enum):
    """How a check establishes its claim (strongest first)."""

    SYMBOLIC = "symbolic"
    PROOF_STEP = "proof-step"
    NUMERIC = "numeric"
    SOLVER = "solver"
    EXPERIMENT = "experiment"


class Verdict(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    ERRATUM = "erratum"
    SKIPPED = "skipped"
    #: An experiment check whose claim does not hold for our runs: a finding about the paper.
    NOT_REPRODUCED = "not-reproduced"
    #: An experiment check whose runs are not in the regime the claim is about: neither held nor refuted.
    INCONCLUSIVE = "inconclusive"


class Origin(str, enum.Enum):
    """Where the claim a check tests comes from."""

    PAPER = "paper"            # a claim of the paper (statement, proof step or printed formula)
    LITERATURE = "literature"  # a published result beside the paper (the check carries its citation)
    BEYOND = "beyond"          # a finding of this suite that the paper does not state


class Part(str, enum.Enum):
    """Which verdict of its result a check feeds (a result has two: statement and printed derivation)."""

    STATEMENT = "statement"    # the claim itself: does the result hold?
    DERIVATION = "derivation"  # a printed step, constant or display of the proof


#: Verdicts that do not fail ``pytest`` or ``verify`` (an erratum or a non-reproduced experiment is
#: a finding, not a failure of the suite; an inconclusive experiment is neither).
NON_FAILING = frozenset({Verdict.PASS, Verdict.ERRATUM, Verdict.SKIPPED, Verdict.NOT_REPRODUCED,
                         Verdict.INCONCLUSIVE})


@dataclass
class Outcome:
    """What a check function measured.

    ``error`` is a nonnegative measure of disagreement with the claim (e.g. ``|expected - observed|``
    or the largest violation of an inequality); NaN counts as disagreement.  For an erratum check,
    ``error`` measures the formula *as printed* and ``corrected_error`` the corrected form.
    """

    expected: Any
    observed: Any
    error: float
    detail: dict[str, Any] = field(default_factory=dict)
    printed: str | None = None
    corrected: str | None = None
    corrected_error: float | None = None
    evidence: str | None = None
    skip_reason: str | None = None
    #: Experiment checks: the statistical criterion that decides the verdict, in words.
    criterion: str | None = None
    #: Experiment checks: why the runs do not decide the claim (not in its regime); gives ``inconclusive``.
    inconclusive_reason: str | None = None


@dataclass
class CheckRecord:
    """One check's result: the JSON record of ``verify --json`` and of the report."""

    id: str
    result: str
    claim: str
    method: str
    verdict: str
    expected: Any
    observed: Any
    error: float | None
    tolerance: float
    tolerance_reason: str
    precision_digits: int | None
    seconds: float
    detail: dict[str, Any]
    printed: str | None = None
    corrected: str | None = None
    evidence: str | None = None
    skip_reason: str | None = None
    slow: bool = False
    origin: str = Origin.PAPER.value
    part: str = Part.STATEMENT.value
    criterion: str | None = None
    inconclusive_reason: str | None = None
    citation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: jsonable(v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CheckRecord":
        """Inverse of :meth:`to_json` (a non-finite error is stored as the string 'nan'/'inf')."""
        record = cls(**{k: data.get(k) for k in cls.__dataclass_fields__})
        if isinstance(record.error, str):
            record.error = float(record.error)
        return record

    def summary(self) -> str:
        """One line for a failing test or a log."""
        extra = (f" skip: {self.skip_reason}" if self.skip_reason else
                 f" inconclusive: {self.inconclusive_reason}" if self.inconclusive_reason else "")
        return (f"[{self.verdict}] {self.id}: expected {short(self.expected)}, observed "
                f"{short(self.observed)}, error {fmt_error(self.error)} vs tolerance "
                f"{self.tolerance:.1e} ({self.tolerance_reason}){extra}")


def jsonable(value: Any) -> Any:
    """Convert numbers of any precision, arrays and sympy objects to JSON-ready values."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (mpmath.mpf, mpmath.mpc)):
        return mpmath.nstr(value, mpmath.mp.dps)
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()] if value.dtype != object else [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def short(value: Any, width: int = 60) -> str:
    text = str(jsonable(value))
    return text if len(text) <= width else text[: width - 3] + "..."


def fmt_error(error: float | None) -> str:
    return "-" if error is None else f"{error:.2e}"
