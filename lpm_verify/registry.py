"""The check registry: every claim of the paper is checked once, here, and read everywhere else.

A check is a function registered with :func:`check` next to its metadata (result, claim, method,
tolerance and the reason for that tolerance, working precision, origin, part).  It returns an
:class:`~lpm_verify.records.Outcome`; :meth:`Check.run` turns that into a
:class:`~lpm_verify.records.CheckRecord` with the verdict of :func:`lpm_verify.verdict_rule.verdict_for`.
``pytest theorems/``, ``python -m lpm_verify verify`` and the report run the same checks (the app loads
them: :mod:`lpm_verify.commands.registry`); what each is expected to give is in one table
(:mod:`lpm_verify.expected`).
"""
from __future__ import annotations

import difflib
import inspect
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable

import mpmath

from lpm_verify.check_inputs import CheckInputs
from lpm_verify.records import RESULTS, CheckRecord, Method, Origin, Outcome, Part, Verdict, jsonable
from lpm_verify.verdict_rule import as_float, verdict_for


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
        error = as_float(outcome.error) if outcome.error is not None else None
        return CheckRecord(
            id=self.id, result=self.result, claim=self.claim, method=self.method.value,
            verdict=verdict.value, expected=expected, observed=observed,
            error=error, tolerance=self.tolerance, tolerance_reason=self.reason,
            precision_digits=self.digits, seconds=time.perf_counter() - start,
            detail=detail, printed=outcome.printed, corrected=outcome.corrected,
            evidence=outcome.evidence, skip_reason=outcome.skip_reason, slow=self.slow,
            origin=self.origin.value, part=self.part.value,
            criterion=outcome.criterion,
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
          citation: str | None = None,
          ) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    """Register the decorated function as check ``check_id`` ("Theorem 1/minimum-value").

    The function takes no argument, or one (``inputs: CheckInputs``: the run store and other inputs
    the runner passes; experiment checks).

    The result is the part of the id before the first ``/``.  ``digits`` is the working precision
    (mpmath ``dps`` is set to it while the check runs when it exceeds 15; 15 means float64; None
    means exact).  ``reason`` says why ``tolerance`` has the size it has.  ``origin`` says whether the
    claim is the paper's or this suite's own finding; ``part`` whether the check tests the result's
    statement or a step of its printed derivation; ``citation`` names the published result an
    ``origin=literature`` check tests.  What the check is expected to give lives in the table of
    expected verdicts, not here.
    """
    def decorate(fn: Callable[..., Outcome]) -> Callable[..., Outcome]:
        (REGISTRY if registry is None else registry).register(Check(
            id=check_id, result=check_id.split("/", 1)[0], claim=claim, method=Method(method),
            tolerance=tolerance, reason=reason, digits=digits, fn=fn, slow=slow,
            origin=Origin(origin), part=Part(part), citation=citation, takes_inputs=takes_inputs(check_id, fn)))
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
