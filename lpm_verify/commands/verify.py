"""``python -m lpm_verify verify [--only RESULT] [--json PATH] [--strict]``: run the registered checks.

Prints one row per check (result, claim, method, verdict, error, tolerance, seconds), then one row per
result with its two verdicts (statement; printed derivation, counted by root misprint; see
:mod:`lpm_verify.verdicts`), then every verdict that differs from the table of expected verdicts
(``id: expected X (reason), got Y``; skipped checks are a condition, not held).  Exits 1 if any verdict is
``fail`` (errata are findings, not failures) or, with ``--strict``, differs from what the table expects;
0 otherwise.  ``--json`` writes ``{"summary": {...per result...}, "records": [...]}``.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter

from experiments.claims_data import holds_regime_runs
from lpm_verify.check_inputs import CheckInputs
from lpm_verify.commands.args import add_input_arguments, check_inputs, check_output_file
from lpm_verify.commands.registry import expected_verdicts, load_all, run_checks
from lpm_verify.errata import audit, load_errata, root_ids
from lpm_verify.errors import LPMInputError
from lpm_verify.expected import pin_problems
from lpm_verify.io import write_json_atomic
from lpm_verify.records import RESULTS, CheckRecord, Verdict, fmt_error
from lpm_verify.registry import REGISTRY
from lpm_verify.verdicts import all_result_verdicts, misprint_totals, summary_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", action="append", metavar="RESULT",
                        help="a result ('Theorem 1') or check-id prefix; repeatable")
    parser.add_argument("--json", metavar="PATH",
                        help='write {"summary": per-result verdicts, "records": [check records]} as JSON')
    parser.add_argument("--slow", action="store_true", help="include the checks marked slow")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a verdict differs from the table of expected verdicts "
                             "(theorems/expected_verdicts.toml)")
    parser.add_argument("--jobs", type=int, default=1, help="processes to run checks in (default 1)")
    add_input_arguments(parser)


def format_table(records: list[CheckRecord]) -> str:
    """Fixed-width table of records, one per line, with a verdict count at the end."""
    rows = [("result", "check", "method", "verdict", "error", "tolerance", "seconds")]
    for r in records:
        rows.append((r.result, r.id[len(r.result) + 1:], r.method, r.verdict, fmt_error(r.error),
                     f"{r.tolerance:.1e}", f"{r.seconds:.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    counts = Counter(r.verdict for r in records)
    lines.append(", ".join(f"{counts.get(v.value, 0)} {v.value}" for v in Verdict))
    return "\n".join(lines)


def format_summary(records: list[CheckRecord]) -> str:
    """Fixed-width table of the two verdicts of each result that has records here, and the errata count."""
    roots = root_ids(load_errata())
    present = {r.result for r in records}
    rows = [("result", "statement", "printed derivation")]
    rows += [(v.result, v.statement.text(max_names=2), v.derivation.text())
             for v in all_result_verdicts(records, roots) if v.result in present]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    misprints, n = misprint_totals(records, roots)
    lines.append(f"{misprints} misprint{'' if misprints == 1 else 's'} ({n} erratum record{'' if n == 1 else 's'})"
                 " by root misprint; statement verdicts judge origin=paper checks only")
    return "\n".join(lines)


def validate(args: argparse.Namespace) -> CheckInputs:
    """Every input checked before any check runs (the --json path included); returns the checks' inputs."""
    if args.jobs < 1:
        raise LPMInputError(f"--jobs must be an integer >= 1; got {args.jobs}")
    for name in args.only or []:
        if not name.strip():
            raise LPMInputError(f"--only must name a result ({', '.join(RESULTS)}) or a check id; got {name!r}")
    if args.json is not None:
        check_output_file(args.json, "--json")
    inputs = check_inputs(args)
    load_all()
    if args.only:
        known = set(RESULTS) | {c.id for c in REGISTRY.checks()}
        for name in args.only:
            if name not in known and not any(c.id.startswith(name) for c in REGISTRY.checks()):
                raise LPMInputError(f"--only must name a result ({', '.join(RESULTS)}) or a check id; got {name!r}")
    return inputs


def run(args: argparse.Namespace) -> int:
    inputs = validate(args)
    checks = REGISTRY.checks(args.only, include_slow=args.slow)
    # a bar on a terminal, one line per finished result in a log (registry.run_checks)
    records = run_checks(checks, inputs, jobs=args.jobs, progress=True)
    print(format_table(records))
    print()
    print(format_summary(records))
    for r in records:
        if r.verdict == Verdict.FAIL.value:  # a check that broke names why (a corrupt run of the store, ...)
            cause = r.detail.get("exception") if isinstance(r.detail, dict) else None
            print(r.summary() + (f"; broke on: {cause}" if cause else ""), file=sys.stderr)
    registered = [c.id for c in REGISTRY.checks()]
    for problem in audit(load_errata(), {r.id: r.verdict for r in records}, registered).problems():
        print(f"errata table: {problem}", file=sys.stderr)
    pins = pin_problems(records, expected_verdicts(), registered, in_regime_store=holds_regime_runs(inputs.runs))
    for problem in pins:
        print(problem, file=sys.stderr)
    if args.json:
        write_json_atomic(args.json, {"summary": summary_json(records, root_ids(load_errata())),
                                      "records": [r.to_json() for r in records]})
    return 1 if any(r.verdict == Verdict.FAIL.value for r in records) or (args.strict and pins) else 0
