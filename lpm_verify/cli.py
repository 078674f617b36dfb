"""``python -m lpm_verify {report, verify, solve, sweep, threshold, train}``.

Each subcommand lives in ``lpm_verify/commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int``.  Bad input (:class:`~lpm_verify.errors.LPMInputError`, a missing dataset, an
unavailable solver) becomes a one-line message on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from lpm_verify.errors import DataNotFoundError, LPMInputError, SolverNotInstalledError

COMMANDS: dict[str, str] = {
    "report": "write the agreement report (Markdown + HTML + figures) to reports/",
    "verify": "run the registered checks of the paper's results and print their verdicts",
    "solve": "solve one imbalanced LPM instance (Eq. 7 / 15 / 91)",
    "sweep": "minority cosine against the imbalance ratio R (Fig. 3 data)",
    "threshold": "every regime change in R, to the requested digits",
    "train": "train the paper's networks on imbalanced FashionMNIST / CIFAR10",
    "status": "finished / running / failed / pending runs of a (shared) run store",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lpm_verify", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"lpm_verify.commands.{name}")
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args))
    except (LPMInputError, DataNotFoundError, SolverNotInstalledError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
