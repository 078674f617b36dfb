"""The proof-check harness: one pytest case per registered check, held to the table of expected verdicts.

A check fails the harness when its verdict differs from what ``theorems/expected_verdicts.toml`` expects
(``pass`` when it is absent; a ``pass`` that became an ``erratum`` is as much news as an ``erratum`` that
became a ``pass``) -- the same rule as ``verify --strict`` (:func:`lpm_verify.expected.pin_problem`) --
and a ``symbolic`` check fails it unless sympy proved its identity (the record's detail says
``proved: True``).  A check that could not run here (an experiment check without stored runs or
checkpoint, an absent optional solver) is a pytest skip: skipping is a condition, never a verdict.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pytest

from lpm_verify.check_inputs import CheckInputs
from lpm_verify.commands.registry import expected_verdicts, load_all
from lpm_verify.errata import load_errata, roots_by_check
from lpm_verify.expected import Expected, pin_problem, pin_problems
from lpm_verify.outcomes import compare
from lpm_verify.records import CheckRecord, Method, Verdict
from lpm_verify.registry import REGISTRY, Registry, check

load_all()
EXPECTED = expected_verdicts()
#: What ``verify`` reads by default: the run store ``runs/`` (absent in CI, so experiment checks skip there).
INPUTS = CheckInputs(runs=Path("runs"))

_CASES = [pytest.param(c.id, id=c.id, marks=[pytest.mark.slow] if c.slow else [])
          for c in REGISTRY.checks()]


def harness_failure(record: CheckRecord, table: Mapping[str, Expected]) -> str | None:
    """Why ``record`` fails the harness, or None when it gives its expected verdict (and, if symbolic,
    was proved)."""
    problem = pin_problem(record, table)
    if problem is not None:
        return f"{problem}\n{record.summary()}\n{record.detail}"
    if record.method == Method.SYMBOLIC.value and record.detail.get("proved") is not True:
        return f"{record.id}: registered 'symbolic' but its record does not say proved: True\n{record.detail}"
    return None


@pytest.mark.parametrize("check_id", _CASES)
def test_check(check_id: str) -> None:
    record = REGISTRY.get(check_id).run(INPUTS)
    if record.verdict == Verdict.SKIPPED.value:
        pytest.skip(record.skip_reason or "skipped")
    problem = harness_failure(record, EXPECTED)
    assert problem is None, problem


def test_the_table_names_registered_checks_only() -> None:
    assert pin_problems([], EXPECTED, [c.id for c in REGISTRY.checks()]) == []


def test_every_expected_erratum_names_the_root_misprint_that_lists_it() -> None:
    roots = roots_by_check(load_errata())
    for check_id, want in EXPECTED.items():
        if want.verdict is Verdict.ERRATUM:
            assert check_id in roots, f"{check_id}: expected erratum, but no root misprint in errata.toml lists it"
            assert roots[check_id].id in want.reason, f"{check_id}: the reason must name {roots[check_id].id}"
    listed = {c for c, e in roots.items()}
    assert listed <= {c for c, w in EXPECTED.items() if w.verdict is Verdict.ERRATUM}, \
        "a check listed in errata.toml is expected to pass"


def test_a_flipped_verdict_fails_the_harness() -> None:
    """Negative control: the same expectation, once with the measured value it was set on and once with a
    value that moved, is kept and lost; a check expected not to pass that passes is reported too."""
    reg = Registry()
    for check_id, observed in (("Lemma 2/kept", 1.0), ("Lemma 2/flipped", 1.5), ("Lemma 2/now-passes", 1.0)):
        check(check_id, claim="1 = 1", method="numeric", tolerance=1e-12, reason="float64 rounding",
              registry=reg, origin="paper", part="statement")(lambda o=observed: compare(1.0, o))
    table = {"Lemma 2/now-passes": Expected(Verdict.ERRATUM, "misprint x")}
    assert harness_failure(reg.get("Lemma 2/kept").run(), table) is None
    message = harness_failure(reg.get("Lemma 2/flipped").run(), table)
    assert message is not None and message.startswith("Lemma 2/flipped: expected pass (")
    assert ", got fail" in message
    message = harness_failure(reg.get("Lemma 2/now-passes").run(), table)
    assert message.startswith("Lemma 2/now-passes: expected erratum (misprint x), got pass")


def test_an_unproved_symbolic_check_fails_the_harness() -> None:
    reg = Registry()
    check("Lemma 2/sampled", claim="x = x", method="symbolic", tolerance=0, reason="exact", digits=None,
          registry=reg, origin="paper", part="statement")(lambda: compare(0, 0))
    message = harness_failure(reg.get("Lemma 2/sampled").run(), {})
    assert message is not None and "proved: True" in message
