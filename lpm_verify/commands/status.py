"""`python -m lpm_verify status --out runs/`: finished, running, failed and pending runs of a store.

Reads the store only (``experiments/store_status.py``): it works while jobs write to the store, on a
login node, and without torch.  Exit status 0.
"""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="runs", help="results store folder (default: runs/)")
    parser.add_argument("--lines", type=int, default=3, help="log lines shown for each failed run (default 3)")


def run(args: argparse.Namespace) -> int:
    from experiments.store_status import format_status, store_status
    from lpm_verify.errors import LPMInputError
    if args.lines < 0:
        raise LPMInputError(f"--lines must be an integer >= 0; got {args.lines}")
    statuses, skipped = store_status(args.out, lines=args.lines)
    print(printable(format_status(args.out, statuses, skipped), sys.stdout.encoding))
    return 0


def printable(text: str, encoding: str | None) -> str:
    """``text`` with the characters ``encoding`` cannot write escaped (a run folder may be named in any
    script while the terminal or pipe is ASCII), and every control or format character but the line break
    escaped too: folder names, config values and failure records are data, and an escape sequence or a
    bidirectional override in them must not clear the terminal or reorder what it shows."""
    import unicodedata
    encoding = encoding or "utf-8"
    safe = "".join(ch if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf")
                   else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return safe.encode(encoding, "backslashreplace").decode(encoding)
