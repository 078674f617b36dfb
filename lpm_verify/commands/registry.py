"""Loading the registry of checks, its table of expected verdicts, and running checks: the app's job.

:func:`load_all` imports every check module of :mod:`theorems` so that its checks register in
:data:`lpm_verify.registry.REGISTRY`; :func:`expected_verdicts` reads ``theorems/expected_verdicts.toml``
(:mod:`lpm_verify.expected`); :func:`run_checks` runs checks (in worker processes when asked), handing
each the :class:`~lpm_verify.check_inputs.CheckInputs` as an argument.  ``verify``, the report and
``pytest theorems/`` load all three here.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path

from lpm_verify.check_inputs import CheckInputs
from lpm_verify.expected import Expected, load_expected
from lpm_verify.records import CheckRecord
from lpm_verify.registry import REGISTRY, Check, Registry
import theorems


def load_all() -> Registry:
    """Import every check module of :mod:`theorems` (not ``test_*`` or fixtures ``_*``) so that its checks
    register; returns :data:`~lpm_verify.registry.REGISTRY`.  Importing twice registers nothing twice."""
    for info in sorted(pkgutil.iter_modules(theorems.__path__), key=lambda m: m.name):
        if not info.name.startswith(("test_", "_", "conftest")):
            importlib.import_module(f"theorems.{info.name}")
    return REGISTRY


#: The table of expected verdicts other than pass, shipped with the checks it names.
EXPECTED_FILE = Path(theorems.__file__).parent / "expected_verdicts.toml"


def expected_verdicts() -> dict[str, Expected]:
    """``{check id: Expected}`` of every check not expected to pass (:data:`EXPECTED_FILE`)."""
    return load_expected(EXPECTED_FILE)


def run_checks(checks: list[Check], inputs: CheckInputs, jobs: int = 1, progress: bool = False
               ) -> list[CheckRecord]:
    """Run ``checks`` with ``inputs`` (in ``jobs`` processes when > 1, each loading the registry when it
    starts), keeping their order.

    ``progress``: a progress bar on a terminal; when stderr is not a terminal (a log), one line per
    finished result instead (:class:`ResultLog`).
    """
    from tqdm import tqdm
    lines = ResultLog(checks) if progress and not sys.stderr.isatty() else None
    bar = progress and lines is None
    if jobs <= 1:
        return [_logged(c.run(inputs), lines)
                for c in tqdm(checks, desc="checks", unit="check", disable=not bar)]
    with ProcessPoolExecutor(max_workers=jobs, initializer=load_all) as pool:
        records = pool.map(_run_by_id, [c.id for c in checks], repeat(inputs))
        return [_logged(r, lines) for r in tqdm(records, total=len(checks), desc="checks", unit="check",
                                                disable=not bar)]


def _run_by_id(check_id: str, inputs: CheckInputs) -> CheckRecord:
    return REGISTRY.get(check_id).run(inputs)


def _logged(record: CheckRecord, lines: "ResultLog | None") -> CheckRecord:
    if lines is not None:
        lines.done(record)
    return record


class ResultLog:
    """Progress for a log: one stderr line when the last check of a result has finished."""

    def __init__(self, checks: list[Check]) -> None:
        self.left = {c.result: 0 for c in checks}
        for c in checks:
            self.left[c.result] += 1
        self.verdicts: dict[str, list[str]] = {k: [] for k in self.left}
        self.total, self.finished, self.start = len(checks), 0, time.perf_counter()

    def done(self, record: CheckRecord) -> None:
        self.finished += 1
        self.left[record.result] -= 1
        self.verdicts[record.result].append(record.verdict)
        if self.left[record.result] == 0:
            verdicts = self.verdicts[record.result]
            counts = ", ".join(f"{verdicts.count(v)} {v}" for v in sorted(set(verdicts)))
            print(f"checks: {record.result} done ({counts}); {self.finished}/{self.total} checks, "
                  f"{time.perf_counter() - self.start:.1f} s", file=sys.stderr, flush=True)
