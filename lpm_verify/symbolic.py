"""Deciding symbolic identities: proved by sympy, or only evaluated at stated points (and said so).

Every ``symbolic`` check of the suite decides its identities here, so that the word means one thing:
sympy reduced ``lhs - rhs`` to 0.  When no rewrite does, :func:`decide_identity` evaluates
``|lhs - rhs|`` at the given exact points at ``digits`` significant digits and the result says
``proved = False`` with the number of points and their precision; a check built on such a result
must be registered ``numeric``, and ``pytest theorems/`` refuses a ``symbolic`` record whose detail
lacks ``proved: True``.

A printed formula that is *wrong* is refuted, not proved: its difference from the derived one is
nonzero at an exact point (:attr:`Identity.refuted`), which is a counterexample.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import sympy as sp

from lpm_verify.errors import require
from lpm_verify.records import Outcome, jsonable

Simplifier = Callable[[sp.Expr], sp.Expr]


def _log_rewrite(expr: sp.Expr) -> sp.Expr:
    return sp.simplify(sp.expand_log(sp.simplify(sp.expand_log(expr, force=True)), force=True))


def _power_rewrite(expr: sp.Expr) -> sp.Expr:
    return sp.simplify(sp.powsimp(sp.expand_power_base(expr, force=True), force=True))


#: Rewrites tried in order until one reaches 0.  The ``force=True`` rewrites (logs of products,
#: powers of products) are valid because every symbol they meet in this suite is declared positive.
DEFAULT_SIMPLIFIERS: tuple[Simplifier, ...] = (sp.expand, sp.simplify, _log_rewrite, _power_rewrite)

#: Significant digits of the fallback evaluation: far beyond float64, so that a nonzero value at an
#: exact point is a counterexample and a value below 10^-40 is not mistaken for one.
DIGITS = 50


@dataclass(frozen=True)
class Identity:
    """What is known about ``lhs == rhs``.

    ``proved``: sympy reduced ``lhs - rhs`` to 0 (then ``error`` is 0 and no point was evaluated).
    Otherwise ``error`` is the largest ``|lhs - rhs|`` over ``points`` exact points evaluated at
    ``digits`` digits (NaN when there were none or a value is not a number).
    """

    proved: bool
    error: float
    points: int
    digits: int
    residual: str

    @property
    def refuted(self) -> bool:
        """The identity is false: ``lhs - rhs`` is clearly nonzero at an exact point."""
        return not self.proved and math.isfinite(self.error) and self.error > 10.0 ** (10 - self.digits)

    def describe(self) -> str:
        if self.proved:
            return "proved by sympy"
        return f"not proved; numeric at {self.points} exact points, {self.digits} digits"


def _worst(errors: Sequence[float]) -> float:
    """The largest error, a NaN counting as the largest (Python's ``max`` would skip it)."""
    return max(errors, key=lambda v: math.inf if math.isnan(v) else v) if errors else float("nan")


def _value(expr: sp.Expr, point: Mapping[sp.Symbol, Any], digits: int) -> float:
    value = sp.N(sp.sympify(expr).subs(point), digits)
    if value.free_symbols or not value.is_number:
        return float("nan")
    try:
        return float(abs(complex(value)))
    except (TypeError, ValueError):
        return float("nan")


def decide_identity(lhs: Any, rhs: Any = 0, *, points: Sequence[Mapping[sp.Symbol, Any]] = (),
                    digits: int = DIGITS, simplifiers: Sequence[Simplifier] = DEFAULT_SIMPLIFIERS) -> Identity:
    """Whether sympy proves ``lhs == rhs``; if not, ``|lhs - rhs|`` at ``points`` (exact substitutions).

    ``points`` are only evaluated when no simplifier reaches 0; give exact (rational) values so that
    the evaluation error is the ``digits`` of :func:`sympy.N` alone.
    """
    require(digits >= 15, "digits", ">= 15", digits)
    diff = sp.sympify(lhs) - sp.sympify(rhs)
    residual = diff
    for simplify in (lambda e: e, *simplifiers):
        residual = simplify(residual)
        if residual == 0:
            return Identity(True, 0.0, 0, digits, "0")
    values = [_value(residual, point, digits) for point in points]
    return Identity(False, _worst(values), len(values), digits, str(residual)[:200])


def decide_zero(expr: Any, **kwargs: Any) -> Identity:
    """:func:`decide_identity` for ``expr == 0``."""
    return decide_identity(expr, 0, **kwargs)


def all_of(identities: Mapping[str, Identity] | Sequence[Identity]) -> Identity:
    """The conjunction: proved iff every identity is; error = the largest (NaN first)."""
    items = list(identities.items() if isinstance(identities, Mapping) else enumerate(identities))
    require(len(items) > 0, "identities", "nonempty", identities)
    worst = _worst([i.error for _, i in items])
    unproved = [str(name) for name, i in items if not i.proved]
    return Identity(not unproved, worst, max(i.points for _, i in items), min(i.digits for _, i in items),
                    "0" if not unproved else "unproved: " + ", ".join(unproved))


def identities_outcome(identities: Mapping[str, Identity] | Sequence[Identity], **detail: Any) -> Outcome:
    """Outcome for "every identity holds": error = the largest error; ``detail['proved']`` is True only
    when sympy proved every one (else the detail names the points and digits of the evaluation).
    A sequence is named by position."""
    if not isinstance(identities, Mapping):
        identities = {str(i): identity for i, identity in enumerate(identities)}
    require(len(identities) > 0, "identities", "nonempty", identities)
    proved = all(i.proved for i in identities.values())
    error = _worst([i.error for i in identities.values()])
    out = {name: i.describe() for name, i in identities.items() if not i.proved}
    return Outcome(0, error, error, detail={
        "proved": proved, "identities": len(identities),
        **({"unproved": out} if out else {}), **jsonable(detail)})


def printed_identity_outcome(printed: Identity, corrected: Identity, *, printed_form: str, corrected_form: str,
                             evidence: str, **detail: Any) -> Outcome:
    """Outcome for a printed formula checked symbolically against the derived one: ``pass`` if the
    printed identity is proved, ``erratum`` if it is refuted and the corrected identity is proved.
    ``detail['proved']`` says the verdict is exact: each identity is proved or refuted at an exact point."""
    decided = (printed.proved or printed.refuted) and (printed.proved or corrected.proved)
    return Outcome(0, printed.error, printed.error, printed=printed_form, corrected=corrected_form,
                   corrected_error=corrected.error, evidence=evidence,
                   detail={"proved": decided, "printed": printed.describe(), "corrected": corrected.describe(),
                           **jsonable(detail)})
