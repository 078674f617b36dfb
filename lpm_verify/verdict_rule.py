"""The single rule that turns a check's measurement into its verdict (see :mod:`lpm_verify.records`)."""
from __future__ import annotations

import math
from typing import Any

from lpm_verify.records import Method, Outcome, Verdict


def as_float(x: Any) -> float:
    """``x`` as a float; NaN when it is not a number (None, a string, an overflowing value)."""
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
    error = as_float(outcome.error)
    if math.isfinite(error) and error <= tolerance:
        return Verdict.PASS
    if method is not None and Method(method) is Method.EXPERIMENT:
        return Verdict.NOT_REPRODUCED if math.isfinite(error) else Verdict.FAIL
    if outcome.corrected_error is not None and math.isfinite(error):
        # An erratum is a printed form evaluated and refuted: its error finite and above tolerance (a NaN or
        # inf printed error says nothing about the printed form), and the corrected form finite and within it.
        corrected = as_float(outcome.corrected_error)
        if math.isfinite(corrected) and corrected <= tolerance:
            return Verdict.ERRATUM
    return Verdict.FAIL
