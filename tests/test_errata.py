"""The errata table (lpm_verify/errata.toml): it loads and validates, agrees with the registry and the
pinned verdicts, every printed and corrected form typesets with mathtext, and each rule that guards it
fails on a table that breaks it (negative controls)."""
from __future__ import annotations

import tomllib

import pytest

from lpm_verify.commands.registry import load_all
from lpm_verify.errata import ERRATA_FILE, Status, audit, load_errata, ordered, parse_errata, root_ids
from lpm_verify.errors import LPMInputError
from lpm_verify.records import RESULTS
from lpm_verify.report.mathsvg import tex_to_svg


def _entry(**kw) -> dict:
    base = {"id": "x", "location": "SI Appendix A.1, proof of Theorem 1: Eq. 23", "printed": "a", "corrected": "b",
            "status": "confirmed", "note": "n", "checks": ["Theorem 1/a", "Theorem 1/b"]}
    return {**base, **kw}


def _table(*entries: dict) -> dict:
    return {"version": 1, "erratum": list(entries)}


@pytest.fixture(scope="module")
def registry():
    return load_all()


def test_table_loads_with_one_root_per_entry_and_known_results():
    errata = load_errata()
    assert errata and len({e.id for e in errata}) == len(errata)
    assert all(e.result in RESULTS for e in errata)
    roots = root_ids(errata)
    assert sum(len(e.checks) for e in errata) == len(roots)  # no check under two roots


def test_every_listed_id_is_a_registered_check(registry):
    ids = {c.id for c in registry.checks()}
    found = audit(load_errata(), {}, registered=ids)
    assert found.unregistered == (), found.problems()


def test_every_expected_erratum_is_under_exactly_one_root_and_no_listed_check_is_expected_to_pass(registry):
    from lpm_verify.commands.registry import expected_verdicts
    table = expected_verdicts()
    pins = {c.id: table[c.id].verdict.value if c.id in table else "pass" for c in registry.checks()}
    found = audit(load_errata(), pins, registered=[c.id for c in registry.checks()])
    assert found.ok, found.problems()
    listed = set(root_ids(load_errata()))
    assert {c for c, v in pins.items() if v == "erratum"} == listed


def test_the_three_self_declared_conversion_caveats_are_possible_transcription_artifacts():
    artifacts = {e.checks[0] for e in load_errata() if e.status is Status.ARTIFACT}
    assert artifacts == {"Theorem 1/nc4-prediction", "Theorem 3/eq44c-second-jensen", "Theorem 5/eq71-step-a"}
    order = [e.status for e in ordered(load_errata())]
    assert order == sorted(order, key=list(Status).index)  # confirmed first, artifacts after


@pytest.mark.parametrize("entry", load_errata(), ids=lambda e: e.id)
def test_every_entry_typesets_offline_with_mathtext(entry):
    for tex in (entry.printed, entry.corrected):
        svg = tex_to_svg(tex)
        assert svg.startswith("<svg") and "<path" in svg and "<use" in svg  # glyphs drawn as paths
    assert entry.printed != entry.corrected


def test_latex_outside_mathtext_is_rejected_with_the_formula_named():
    with pytest.raises(LPMInputError, match=r"stackrel"):
        tex_to_svg(r"L \stackrel{a}{=} R")
    with pytest.raises(LPMInputError, match="non-empty"):
        tex_to_svg("  ")


def test_typesetting_is_deterministic_and_cached(tmp_path):
    from lpm_verify.report.cache import Cache
    cache = Cache(tmp_path)
    first = tex_to_svg(r"\sqrt{E_H E_W}", cache)
    assert tex_to_svg(r"\sqrt{E_H E_W}", cache) == first == tex_to_svg(r"\sqrt{E_H E_W}")
    assert cache.misses["math"] == 1 and cache.hits["math"] == 1
    assert "<metadata>" not in first and "#ffffff" not in first  # no date, transparent background


# -- audit: each disagreement is found (negative controls) --------------------------------------
def test_audit_flags_an_erratum_verdict_without_a_root():
    errata = parse_errata(_table(_entry()))
    found = audit(errata, {"Theorem 1/a": "erratum", "Theorem 1/b": "erratum", "Lemma 2/c": "erratum"})
    assert found.unlisted == ("Lemma 2/c",) and not found.ok
    assert audit(errata, {"Theorem 1/a": "erratum", "Theorem 1/b": "erratum"}).ok


def test_audit_flags_a_listed_id_that_is_not_a_check():
    errata = parse_errata(_table(_entry()))
    found = audit(errata, {}, registered=["Theorem 1/a"])
    assert found.unregistered == (("x", "Theorem 1/b"),)
    assert audit(errata, {}, registered=["Theorem 1/a", "Theorem 1/b"]).ok


def test_audit_flags_a_listed_check_whose_verdict_is_pass():
    errata = parse_errata(_table(_entry()))
    found = audit(errata, {"Theorem 1/a": "erratum", "Theorem 1/b": "pass"})
    assert found.not_shown == (("x", "Theorem 1/b"),)
    assert "no check shows this misprint" in found.problems()[0]


# -- parse: a malformed table raises, naming what is wrong (negative controls) --------------------
@pytest.mark.parametrize("table, message", [
    (_table(_entry(), _entry(checks=["Lemma 2/z"])), "used twice"),
    (_table(_entry(), _entry(id="y", checks=["Theorem 1/b"])), "under two roots"),
    (_table(_entry(status="likely")), "status must be one of"),
    (_table({k: v for k, v in _entry().items() if k != "note"}), "missing \\['note'\\]"),
    (_table(_entry(line=531)), "unknown \\['line'\\]"),
    (_table(_entry(location="paper md line 531")), "location must name"),
    (_table(_entry(location="the proof of Theorem 1")), "location must name"),
    (_table(_entry(checks=[])), "non-empty list"),
    (_table(_entry(printed="")), "non-empty string"),
    ({"version": 2, "erratum": [_entry()]}, "version must be 1"),
    ({"version": 1}, "at least one"),
])
def test_a_malformed_table_raises(table, message):
    with pytest.raises(LPMInputError, match=message):
        parse_errata(table)


def test_the_shipped_file_is_the_table_that_loads():
    with open(ERRATA_FILE, "rb") as fh:
        assert parse_errata(tomllib.load(fh)) == load_errata()
