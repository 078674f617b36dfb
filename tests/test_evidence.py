"""The evidence README promises for every numbered result of the paper: at least one check that sympy proves
(method ``symbolic`` and a record saying ``proved: True``) and at least one ``numeric`` or ``solver`` check that
compares with an independent computation."""
from __future__ import annotations

import pytest

from lpm_verify.commands.registry import load_all
from lpm_verify.outcomes import compare
from lpm_verify.records import PAPER_RESULTS, Method, Verdict
from lpm_verify.registry import REGISTRY, Check, Registry, check

load_all()

#: Verdicts of a check that decided its claim (an erratum decides the printed form and proves the corrected one).
DECIDED = (Verdict.PASS.value, Verdict.ERRATUM.value)


def first_proved(checks: list[Check]) -> str | None:
    """The id of the first symbolic check among ``checks`` whose record is decided and says ``proved: True``."""
    for chk in checks:
        if chk.method is Method.SYMBOLIC and not chk.slow:
            record = chk.run()
            if record.verdict in DECIDED and record.detail.get("proved") is True:
                return chk.id
    return None


def missing_evidence(result: str, registry: Registry = REGISTRY) -> list[str]:
    """The kinds of evidence ``result`` lacks: 'proved symbolic' and/or 'numeric or solver'."""
    checks = registry.checks([result])
    lacks = []
    if first_proved(checks) is None:
        lacks.append("proved symbolic")
    if not any(c.method in (Method.NUMERIC, Method.SOLVER) for c in checks):
        lacks.append("numeric or solver")
    return lacks


@pytest.mark.parametrize("result", PAPER_RESULTS)
def test_every_paper_result_has_proved_and_numeric_evidence(result: str) -> None:
    assert missing_evidence(result) == [], f"{result} lacks {missing_evidence(result)}"


def test_missing_evidence_is_named() -> None:
    """Negative control: a result with only a numeric check, and one whose symbolic check was only sampled."""
    reg = Registry()
    check("Lemma 2/numeric-only", claim="1 = 1", method="numeric", tolerance=1e-12, reason="float64 rounding",
          registry=reg)(lambda: compare(1.0, 1.0))
    check("Lemma 3/sampled", claim="x = x", method="symbolic", tolerance=0, reason="exact", digits=None,
          registry=reg)(lambda: compare(0, 0))
    assert missing_evidence("Lemma 2", reg) == ["proved symbolic"]
    assert missing_evidence("Lemma 3", reg) == ["proved symbolic", "numeric or solver"]
