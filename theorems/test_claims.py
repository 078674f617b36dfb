"""The proof-check harness: one pytest case per registered check, pinned to its ``expect`` verdict.

A check fails the harness when its verdict differs from the one it declares (a ``pass`` that became
an ``erratum`` is as much news as an ``erratum`` that became a ``pass``), and a ``symbolic`` check
fails it unless sympy proved its identity (the record's detail says ``proved: True``).  A check that
could not run here (e.g. an experiment check without stored runs) is a pytest skip.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from lpm_verify.check_inputs import CheckInputs
from lpm_verify.claims import REGISTRY, CheckRecord, Method, Registry, Verdict, check, compare
from lpm_verify.commands.registry import load_all

load_all()
#: What ``verify`` reads by default: the run store ``runs/`` (absent in CI, so experiment checks skip there).
INPUTS = CheckInputs(runs=Path("runs"))

_CASES = [pytest.param(c.id, id=c.id, marks=[pytest.mark.slow] if c.slow else [])
          for c in REGISTRY.checks()]


def harness_failure(record: CheckRecord) -> str | None:
    """Why ``record`` fails the harness, or None when it keeps its pinned verdict (and, if symbolic,
    was proved)."""
    if record.verdict != record.expect:
        return (f"{record.id}: verdict changed from {record.expect!r} (pinned) to {record.verdict!r}\n"
                f"{record.summary()}\n{record.detail}")
    if record.method == Method.SYMBOLIC.value and record.detail.get("proved") is not True:
        return f"{record.id}: registered 'symbolic' but its record does not say proved: True\n{record.detail}"
    return None


@pytest.mark.parametrize("check_id", _CASES)
def test_check(check_id: str) -> None:
    record = REGISTRY.get(check_id).run(INPUTS)
    if record.verdict == Verdict.SKIPPED.value and record.expect != Verdict.SKIPPED.value:
        pytest.skip(record.skip_reason or "skipped")
    problem = harness_failure(record)
    assert problem is None, problem


def test_a_flipped_verdict_fails_the_harness() -> None:
    """Negative control: the same pinned check, once with the measured value it was pinned on and
    once with a value that moved, keeps and loses its pin."""
    reg = Registry()
    for check_id, observed in (("Lemma 2/kept", 1.0), ("Lemma 2/flipped", 1.5)):
        check(check_id, claim="1 = 1", method="numeric", tolerance=1e-12, reason="float64 rounding",
              registry=reg, expect="pass", origin="paper", part="statement")(lambda o=observed: compare(1.0, o))
    assert harness_failure(reg.get("Lemma 2/kept").run()) is None
    message = harness_failure(reg.get("Lemma 2/flipped").run())
    assert message is not None and "'pass' (pinned) to 'fail'" in message


def test_an_unproved_symbolic_check_fails_the_harness() -> None:
    reg = Registry()
    check("Lemma 2/sampled", claim="x = x", method="symbolic", tolerance=0, reason="exact", digits=None,
          registry=reg, expect="pass", origin="paper", part="statement")(lambda: compare(0, 0))
    message = harness_failure(reg.get("Lemma 2/sampled").run())
    assert message is not None and "proved: True" in message
