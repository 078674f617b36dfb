"""The proof-check harness: one pytest case per registered check; a ``fail`` verdict fails it."""
from __future__ import annotations

import pytest

from lpm_verify.claims import REGISTRY, RESULTS, Method, Verdict, load_all

load_all()

_CASES = [pytest.param(c.id, id=c.id, marks=[pytest.mark.slow] if c.slow else [])
          for c in REGISTRY.checks()]


@pytest.mark.parametrize("check_id", _CASES)
def test_check(check_id: str) -> None:
    record = REGISTRY.get(check_id).run()
    if record.verdict == Verdict.SKIPPED.value:
        pytest.skip(record.skip_reason or "skipped")
    assert record.verdict != Verdict.FAIL.value, record.summary() + f"\n{record.detail}"


@pytest.mark.parametrize("result", RESULTS)
def test_result_has_every_kind_of_check(result: str) -> None:
    """Each numbered result is checked symbolically, step by step, and against a numeric solve."""
    methods = {Method(c.method) for c in REGISTRY.checks([result]) if c.result == result}
    assert Method.SYMBOLIC in methods, f"{result}: no symbolic check"
    assert Method.PROOF_STEP in methods, f"{result}: no proof-step check"
    assert methods & {Method.NUMERIC, Method.SOLVER}, f"{result}: no numeric or solver check"
