"""``python -m lpm_verify report [--out reports/] [--fresh] [--jobs N] [--no-train] [--runs runs/] [--data-root PATH]``.

Writes ``<out>/index.md``, ``<out>/index.html`` (PNG figures beside it) and ``<out>/data/`` (check
records JSON, sweep CSV, thresholds, runs), then prints the summary table.  Results are cached by
their inputs under ``<out>/.cache`` so that a second report only recomputes what changed; when the
experiments store is empty and FashionMNIST is available, the ``cpu-report`` preset is trained first.
Exit status 1 when a check fails or a dependency's computation failed (the report is still written).
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from lpm_verify.commands.args import add_input_arguments, check_inputs, check_output_dir
from lpm_verify.errors import require
from lpm_verify.records import RESULTS
from lpm_verify.sweep import MAX_GRID_POINTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="reports", help="report folder (default: reports/)")
    parser.add_argument("--fresh", action="store_true", help="recompute everything, ignoring the cache")
    parser.add_argument("--jobs", type=int, default=1, help="processes for independent checks and sweeps (default 1)")
    parser.add_argument("--no-train", action="store_true",
                        help="do not train the cpu-report preset when the experiments store is empty")
    add_input_arguments(parser)
    parser.add_argument("--data-root", help="folder holding FashionMNIST (default: the experiments layer's search path)")
    parser.add_argument("--only", action="append", metavar="RESULT",
                        help=f"restrict the checks to a result ({RESULTS[0]!r}, ...) or check-id prefix; repeatable")
    parser.add_argument("--skip-slow", action="store_true",
                        help="leave out the checks marked slow (by default the report runs them: about 15 s in all)")
    parser.add_argument("--sweep-points", type=int, default=40,
                        help=f"log-spaced R values per LPM curve, 2..{MAX_GRID_POINTS}, thresholds and R = inf "
                        "added (default 40)")


def validate(args: argparse.Namespace) -> None:
    """Every input checked before any work (the output folder must be writable)."""
    require(args.jobs >= 1, "--jobs", "an integer >= 1", args.jobs)
    require(2 <= args.sweep_points <= MAX_GRID_POINTS, "--sweep-points", f"an integer in [2, {MAX_GRID_POINTS}]",
            args.sweep_points)
    for name in args.only or []:
        require(bool(name.strip()), "--only", f"a result ({RESULTS[0]!r}, ...) or a check-id prefix", name)
    check_inputs(args)
    require(args.data_root is None or Path(args.data_root).is_dir(), "--data-root", "an existing folder",
            args.data_root)
    check_output_dir(args.out, "--out")


def run(args: argparse.Namespace) -> int:
    validate(args)
    from lpm_verify.report.build import ReportOptions, build_report  # matplotlib: imported only here
    options = ReportOptions(out=Path(args.out), fresh=args.fresh, jobs=args.jobs, train=not args.no_train,
                            runs=Path(args.runs), data_root=Path(args.data_root) if args.data_root else None,
                            only=args.only, include_slow=not args.skip_slow, sweep_points=args.sweep_points,
                            progress=sys.stderr.isatty(), log_lines=not sys.stderr.isatty(),
                            imagenet_checkpoint=Path(args.imagenet_checkpoint) if args.imagenet_checkpoint else None,
                            command="python -m lpm_verify report " + shlex.join(sys.argv[2:]) if len(sys.argv) > 2
                            else "python -m lpm_verify report")
    result = build_report(options)
    print(result.summary)
    print(f"\nwrote {options.out / 'index.html'} and {options.out / 'index.md'} in {result.seconds:.1f} s "
          f"({result.cache.summary()})")
    for err in result.section_errors:
        print(f"error: {err}", file=sys.stderr)
    return 1 if result.failed_checks or result.section_errors else 0
