"""The check registry: every claim of the paper is checked once, here, and read everywhere else.

A check is a function registered with :func:`check` next to its metadata (result, claim, method,
tolerance and the reason for that tolerance, working precision).  It returns an :class:`Outcome`
(expected, observed, error); :meth:`Check.run` turns that into a :class:`CheckRecord` with a verdict
computed in one place, :func:`verdict_for`:

* ``pass``     the error is within tolerance;
* ``erratum``  the formula *as printed* was evaluated and misses (a finite error above tolerance), and the
               corrected form the check also evaluated is within tolerance (the record carries printed
               form, corrected form and evidence); a non-finite printed error is ``fail``, never an erratum;
* ``fail``     anything else, including an exception or a NaN error;
* ``skipped``  the check could not run here, with the reason (an input is absent);
* ``inconclusive``  (experiment checks) the runs are not in the regime the claim is about, with the reason.

``pytest theorems/`` parametrizes over :data:`REGISTRY`; ``python -m lpm_verify verify`` and the
report run the same checks or read their stored records.
"""
from __future__ import annotations

import cmath
import difflib
import enum
import inspect
import math
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

import mpmath
import numpy as np

from lpm_verify.check_inputs import CheckInputs

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
    expect: str | None = None
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


def _as_float(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def verdict_for(outcome: Outcome, tolerance: float, method: "Method | str | None" = None) -> Verdict:
    """The single rule that turns a measurement into a verdict (see the module docstring).

    For an ``experiment`` check a finite error above tolerance is ``not-reproduced`` (the paper's
    empirical claim does not hold for our runs); a non-finite error is still ``fail`` (the check broke).
    An outcome with ``inconclusive_reason`` is ``inconclusive`` for an experiment check and ``fail`` for
    any other (only runs have a regime they can miss).
    """
    if outcome.skip_reason:
        return Verdict.SKIPPED
    if outcome.inconclusive_reason:
        is_experiment = method is not None and Method(method) is Method.EXPERIMENT
        return Verdict.INCONCLUSIVE if is_experiment else Verdict.FAIL
    error = _as_float(outcome.error)
    if math.isfinite(error) and error <= tolerance:
        return Verdict.PASS
    if method is not None and Method(method) is Method.EXPERIMENT:
        return Verdict.NOT_REPRODUCED if math.isfinite(error) else Verdict.FAIL
    if outcome.corrected_error is not None and math.isfinite(error):
        # An erratum is a printed form evaluated and refuted: its error finite and above tolerance (a NaN or
        # inf printed error says nothing about the printed form), and the corrected form finite and within it.
        corrected = _as_float(outcome.corrected_error)
        if math.isfinite(corrected) and corrected <= tolerance:
            return Verdict.ERRATUM
    return Verdict.FAIL


@dataclass(frozen=True)
class Check:
    """A registered check: metadata plus the function that measures."""

    id: str
    result: str
    claim: str
    method: Method
    tolerance: float
    reason: str
    digits: int | None
    fn: Callable[..., Outcome]
    slow: bool = False
    origin: Origin = Origin.PAPER
    part: Part = Part.STATEMENT
    #: The verdict this check is pinned to; ``pytest theorems/`` fails when it comes out otherwise.
    expect: Verdict | None = None
    #: ``origin=literature``: the published result checked (authors, title, arXiv id, theorem).
    citation: str | None = None
    #: Whether ``fn`` takes the :class:`~lpm_verify.check_inputs.CheckInputs` (decided from its signature).
    takes_inputs: bool = False

    def run(self, inputs: CheckInputs | None = None) -> CheckRecord:
        """Run the check (``inputs`` reach a function that takes them; default: no run store, no checkpoint);
        an exception becomes a ``fail`` record with its traceback, never a crash."""
        start = time.perf_counter()
        saved_dps = mpmath.mp.dps
        caught: list[warnings.WarningMessage] = []
        try:
            if self.digits is not None and self.digits > 15:
                mpmath.mp.dps = self.digits
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                outcome = self.fn(inputs if inputs is not None else CheckInputs()) if self.takes_inputs else self.fn()
            if not isinstance(outcome, Outcome):
                raise TypeError(f"check {self.id} returned {type(outcome).__name__}, not Outcome")
            verdict = verdict_for(outcome, self.tolerance, self.method)
            # Serialise while the working precision is still in force, so digits are kept.
            expected, observed, detail = (jsonable(outcome.expected), jsonable(outcome.observed),
                                          jsonable(outcome.detail))
        except Exception as exc:  # a crash is a failed check, recorded with its cause
            outcome = Outcome(None, None, float("nan"),
                              detail={"exception": f"{type(exc).__name__}: {exc}",
                                      "traceback": traceback.format_exc(limit=6)})
            verdict = Verdict.FAIL
            expected, observed, detail = None, None, outcome.detail
        finally:
            mpmath.mp.dps = saved_dps
        if caught:  # e.g. an inaccurate solver status: kept in the record, not lost on stderr
            detail = {**detail, "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught})}
        error = _as_float(outcome.error) if outcome.error is not None else None
        return CheckRecord(
            id=self.id, result=self.result, claim=self.claim, method=self.method.value,
            verdict=verdict.value, expected=expected, observed=observed,
            error=error, tolerance=self.tolerance, tolerance_reason=self.reason,
            precision_digits=self.digits, seconds=time.perf_counter() - start,
            detail=detail, printed=outcome.printed, corrected=outcome.corrected,
            evidence=outcome.evidence, skip_reason=outcome.skip_reason, slow=self.slow,
            origin=self.origin.value, part=self.part.value,
            expect=None if self.expect is None else self.expect.value, criterion=outcome.criterion,
            inconclusive_reason=outcome.inconclusive_reason, citation=self.citation,
        )


class Registry:
    """Checks by id, in registration order.  Duplicate ids raise; unknown ids suggest close ones."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def register(self, chk: Check) -> Check:
        if chk.id in self._checks:
            raise ValueError(f"check id {chk.id!r} is already registered")
        if chk.result not in RESULTS:
            raise ValueError(f"check {chk.id!r}: result {chk.result!r} is not one of {', '.join(RESULTS)}")
        if not (chk.tolerance >= 0 and chk.reason.strip()):
            raise ValueError(f"check {chk.id!r}: a tolerance >= 0 and the reason for it are required")
        if chk.expect is None:
            raise ValueError(f"check {chk.id!r}: expect= (the pinned verdict: pass, erratum, ...) is required")
        if (chk.origin is Origin.LITERATURE) != bool(chk.citation and chk.citation.strip()):
            raise ValueError(f"check {chk.id!r}: a citation is required for origin=literature and only there "
                             f"(origin {chk.origin.value!r}, citation {chk.citation!r})")
        self._checks[chk.id] = chk
        return chk

    def get(self, check_id: str) -> Check:
        try:
            return self._checks[check_id]
        except KeyError:
            close = difflib.get_close_matches(check_id, list(self._checks), n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise KeyError(f"unknown check {check_id!r}.{hint}") from None

    def checks(self, only: Iterable[str] | None = None, include_slow: bool = True) -> list[Check]:
        """Checks whose result or id prefix is in ``only`` (all if None), slow ones unless excluded,
        in the paper's order of results (registration order within a result)."""
        wanted = list(only) if only else None
        out = []
        for chk in self._checks.values():
            if not include_slow and chk.slow:
                continue
            if wanted and not any(chk.result == w or chk.id.startswith(w) for w in wanted):
                continue
            out.append(chk)
        return sorted(out, key=lambda c: RESULTS.index(c.result))

    def __len__(self) -> int:
        return len(self._checks)


REGISTRY = Registry()


def judge(check_id: str, outcome: Outcome, registry: Registry | None = None) -> Verdict:
    """The verdict ``outcome`` would get under registered check ``check_id``'s tolerance
    (negative-control tests feed a wrong formula or point through this)."""
    chk = (REGISTRY if registry is None else registry).get(check_id)
    return verdict_for(outcome, chk.tolerance, chk.method)


def check(check_id: str, *, claim: str, method: Method | str, tolerance: float, reason: str,
          digits: int | None = 15, slow: bool = False, registry: Registry | None = None,
          origin: Origin | str = Origin.PAPER, part: Part | str = Part.STATEMENT,
          expect: Verdict | str | None = None, citation: str | None = None,
          ) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    """Register the decorated function as check ``check_id`` ("Theorem 1/minimum-value").

    The function takes no argument, or one (``inputs: CheckInputs``: the run store and other inputs
    the runner passes; experiment checks).

    The result is the part of the id before the first ``/``.  ``digits`` is the working precision
    (mpmath ``dps`` is set to it while the check runs when it exceeds 15; 15 means float64; None
    means exact).  ``reason`` says why ``tolerance`` has the size it has.  ``origin`` says whether the
    claim is the paper's or this suite's own finding; ``part`` whether the check tests the result's
    statement or a step of its printed derivation; ``expect`` pins the verdict; ``citation`` names the
    published result an ``origin=literature`` check tests.
    """
    def decorate(fn: Callable[..., Outcome]) -> Callable[..., Outcome]:
        (REGISTRY if registry is None else registry).register(Check(
            id=check_id, result=check_id.split("/", 1)[0], claim=claim, method=Method(method),
            tolerance=tolerance, reason=reason, digits=digits, fn=fn, slow=slow,
            origin=Origin(origin), part=Part(part), expect=None if expect is None else Verdict(expect),
            citation=citation, takes_inputs=takes_inputs(check_id, fn)))
        return fn
    return decorate


def takes_inputs(check_id: str, fn: Callable[..., Outcome]) -> bool:
    """Whether check function ``fn`` takes the runner's inputs: it has no required parameter (False) or
    exactly one (True); anything else is refused at registration."""
    required = [p for p in inspect.signature(fn).parameters.values()
                if p.default is inspect.Parameter.empty
                and p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if len(required) > 1:
        raise ValueError(f"check {check_id!r}: a check function takes no argument or one (inputs: CheckInputs); "
                         f"{fn.__name__} requires {len(required)}")
    return len(required) == 1


# -- helpers that build outcomes -------------------------------------------------------------
def _entries(x: Any) -> list[Any]:
    """The scalars of ``x`` (a scalar, a sequence, a float array or an object array of mpf)."""
    arr = np.asarray(x, dtype=object if isinstance(x, np.ndarray) and x.dtype == object else None)
    return [arr.item()] if arr.shape == () else list(arr.ravel())


def _is_finite(v: Any) -> bool:
    """Whether ``v`` is a finite number; NaN, +-inf and anything that is not a number are not."""
    if isinstance(v, (mpmath.mpf, mpmath.mpc)):
        return bool(mpmath.isfinite(v))
    try:
        return cmath.isfinite(complex(v))
    except (TypeError, ValueError, OverflowError):
        return False


def all_finite(*values: Any) -> bool:
    """Whether every entry of every value is a finite number (vectorised for float arrays)."""
    for x in values:
        if isinstance(x, np.ndarray) and x.dtype != object:
            if not bool(np.isfinite(x).all()):
                return False
        elif not all(_is_finite(v) for v in _entries(x)):
            return False
    return True


def _maxabs(x: Any) -> Any:
    """Largest |entry| of ``x`` at the entries' own precision; NaN if any entry is not finite.

    Python's ``max`` skips a NaN that is not first, so non-finite entries are decided first."""
    if not all_finite(x):
        return float("nan")
    return max(abs(v) for v in _entries(x))


def compare(expected: Any, observed: Any, relative: bool = False, **detail: Any) -> Outcome:
    """Outcome for "observed equals expected": error = max |difference| (divided by max |expected| if
    relative).  A NaN or inf anywhere in ``expected`` or ``observed`` makes the error NaN (``fail``)."""
    if not all_finite(expected, observed):
        return Outcome(expected, observed, float("nan"),
                       detail={"error": "non-finite entry in expected or observed", **detail})
    diff = _maxabs(np.asarray(observed) - np.asarray(expected)) if np.ndim(expected) else abs(observed - expected)
    if relative:
        scale = _maxabs(expected) if np.ndim(expected) else abs(expected)
        diff = diff / scale if scale else diff
    return Outcome(expected, observed, _as_float(diff), detail={"error": "relative" if relative else "absolute", **detail})


def at_most(lhs: Any, rhs: Any, **detail: Any) -> Outcome:
    """Outcome for the inequality ``lhs <= rhs`` (elementwise): error = largest violation, 0 if it holds.
    A NaN or inf on either side makes the error NaN (``fail``): an inequality with inf proves nothing."""
    left, right = np.broadcast_arrays(np.asarray(lhs, dtype=object), np.asarray(rhs, dtype=object))
    if not all_finite(left, right):
        return Outcome(f"<= {short(rhs)}", short(lhs), float("nan"),
                       detail={"largest lhs - rhs": "non-finite entry", "points": int(left.size), **detail})
    worst = max((a - b for a, b in zip(left.ravel(), right.ravel())), key=_as_float)
    return Outcome(f"<= {short(rhs)}", short(lhs), max(0.0, _as_float(worst)),
                   detail={"largest lhs - rhs": _as_float(worst), "points": int(left.size), **detail})


def printed_vs_derived(printed_value: Any, derived_value: Any, corrected_value: Any, *, printed: str,
                       corrected: str, evidence: str, relative: bool = False, **detail: Any) -> Outcome:
    """Outcome for a formula as printed: ``pass`` if it equals the derived truth, ``erratum`` if only
    ``corrected`` does.  The printed form is always checked first; the corrected one never replaces it."""
    base = compare(derived_value, printed_value, relative=relative, **detail)
    alt = compare(derived_value, corrected_value, relative=relative)
    base.printed, base.corrected, base.corrected_error, base.evidence = printed, corrected, alt.error, evidence
    base.detail["corrected value"] = jsonable(corrected_value)
    return base


def skipped(reason: str, **detail: Any) -> Outcome:
    """Outcome for a check that cannot run here (e.g. an optional solver is absent)."""
    return Outcome(None, None, float("nan"), detail=detail, skip_reason=reason)
