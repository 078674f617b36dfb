"""Check records for the report: run the registered checks, or read the records cached for them.

A check's record is reused only when nothing it depends on changed (see :mod:`lpm_verify.report.cache`);
the checks that must run are run together by :func:`lpm_verify.commands.registry.run_checks`, in ``jobs``
processes when ``jobs > 1``.  No number a check produced is ever recomputed by the report.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from lpm_verify.check_inputs import CheckInputs
from lpm_verify.commands.registry import load_all, run_checks
from lpm_verify.errors import LPMInputError
from lpm_verify.records import RESULTS, CheckRecord, Method
from lpm_verify.registry import REGISTRY, Check, Registry
from lpm_verify.report.cache import Cache, input_key


@dataclass
class GatheredChecks:
    records: list[CheckRecord]
    computed: list[str]       # ids run this time
    not_run: list[tuple[Check, str]]  # registered but not run here, with the reason


def check_key(chk: Check, inputs: CheckInputs) -> str:
    """Cache key of one check: its id, tolerance, precision and the sources it can execute (and, for an
    experiment check, the ``inputs`` it reads)."""
    params = {"id": chk.id, "tolerance": chk.tolerance, "digits": chk.digits, "method": chk.method.value}
    if chk.method is Method.EXPERIMENT:  # its verdict also depends on the run store it reads
        from experiments.claims_data import inputs_digest
        params["experiment_inputs"] = inputs_digest(inputs)
    source = inspect.getsourcefile(chk.fn)
    return input_key("check", params, [chk.fn.__module__], files=[Path(source)] if source else [])


def select(registry: Registry, only: Iterable[str] | None, include_slow: bool
           ) -> tuple[list[Check], list[tuple[Check, str]]]:
    """(checks to report, [(check left out, why)]), both in registration order."""
    wanted = {c.id for c in registry.checks(only, include_slow=True)}
    chosen, left_out = [], []
    for c in registry.checks(None, include_slow=True):
        if c.id not in wanted:
            left_out.append((c, "not selected (--only)"))
        elif c.slow and not include_slow:
            left_out.append((c, "slow (left out by --skip-slow)"))
        else:
            chosen.append(c)
    return chosen, left_out


def gather_checks(cache: Cache, *, inputs: CheckInputs = CheckInputs(), only: Iterable[str] | None = None,
                  include_slow: bool = True, jobs: int = 1, progress: bool = False,
                  registry: Registry | None = None) -> GatheredChecks:
    """Records of the selected checks, from the cache where the key matches, run otherwise (with ``inputs``:
    by default no run store and no checkpoint, so experiment checks are skipped).

    ``registry`` defaults to the global one with every theorem module loaded; parallel runs
    (``jobs > 1``) need the global registry because worker processes look checks up by id there.
    """
    if registry is None:
        registry = load_all()
    ids = [c.id for c in registry.checks()]
    for name in only or []:
        if name not in RESULTS and not any(i.startswith(name) for i in ids):
            raise LPMInputError(f"--only must name a result ({', '.join(RESULTS)}) or a check-id prefix; got {name!r}")
    chosen, left_out = select(registry, only, include_slow)
    keys = {c.id: check_key(c, inputs) for c in chosen}
    cached: dict[str, CheckRecord] = {}
    for c in chosen:
        stored = cache.get("check", keys[c.id])
        if stored is not None:
            cached[c.id] = CheckRecord.from_json(stored)
    todo = [c for c in chosen if c.id not in cached]
    fresh = run_checks(todo, inputs, jobs=jobs if registry is REGISTRY else 1, progress=progress)
    for record in fresh:
        cache.put("check", keys[record.id], record.to_json())
        cached[record.id] = CheckRecord.from_json(record.to_json())  # same JSON form as a cached one
    return GatheredChecks([cached[c.id] for c in chosen], [r.id for r in fresh], left_out)
