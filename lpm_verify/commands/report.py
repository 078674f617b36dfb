"""`python -m lpm_verify report`: not yet implemented (see the open issues)."""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    print("python -m lpm_verify report: not yet implemented", file=sys.stderr)
    return 2
