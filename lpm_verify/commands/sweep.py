"""``python -m lpm_verify sweep``: minority cosine against R (the data of Fig. 3), CSV + PNG.

    python -m lpm_verify sweep --K 10 --KA 3,5,7 --EW 1 --EH 5 --R 1:10000:41
        [--method symmetric|sdp|nuclear|nonconvex] [--solver clarabel|scs|mosek|auto] --out DIR

``--R start:stop:num`` is a log-spaced grid; R = inf (zero minority weight) is appended except for
the nonconvex method.  Writes ``DIR/sweep.csv`` and ``DIR/sweep.png``.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from lpm_verify.commands.args import add_budget_arguments, check_budgets, check_output_dir
from lpm_verify.commands.solve import MAX_K
from lpm_verify.errors import require
from lpm_verify.sweep import MAX_GRID_POINTS, METHODS, log_grid, plot_sweep, sweep, write_sweep_csv


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, e.g. 3,5,7; got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    instance = parser.add_argument_group("instance")
    instance.add_argument("--K", type=int, default=10, help="number of classes, >= 2 (default 10)")
    instance.add_argument("--KA", type=_int_list, default=[3, 5, 7], help="majority counts K_A, each 1..K-1, e.g. 3,5,7")
    add_budget_arguments(instance)
    instance.add_argument("--R", default="1:10000:41",
                          help=f"log grid start:stop:num, finite 0 < start <= stop, num <= {MAX_GRID_POINTS} "
                          "(default 1:10000:41); R = inf is added")
    parser.add_argument("--method", choices=METHODS, default="symmetric",
                        help="solver (default symmetric); K <= " + ", ".join(f"{MAX_K[m]} ({m})" for m in METHODS))
    parser.add_argument("--solver", default="clarabel", help="cvxpy solver for sdp/nuclear")
    parser.add_argument("--out", required=True, help="output folder for sweep.csv and sweep.png (created if needed)")


def validate(args: argparse.Namespace) -> list[float]:
    """Every input (all K_A, the grid, the budgets, the output folder) checked before any work;
    returns the R values."""
    require(args.K >= 2, "--K", "an integer >= 2", args.K)
    require(args.K <= MAX_K[args.method], "--K", f"<= {MAX_K[args.method]} for --method {args.method} "
            f"(see `solve --help`); use --method symmetric (K <= {MAX_K['symmetric']})", args.K)
    require(len(args.KA) >= 1, "--KA", "at least one integer", args.KA)
    for K_A in args.KA:
        require(0 < K_A < args.K, "--KA", f"integers in [1, K-1] = [1, {args.K - 1}]", K_A)
    duplicates = sorted({K_A for K_A in args.KA if args.KA.count(K_A) > 1})
    require(not duplicates, "--KA", f"distinct integers (repeated: {', '.join(map(str, duplicates))})",
            ",".join(map(str, args.KA)))
    check_budgets(args.K, args.EW, args.EH)
    R_values = log_grid(args.R) + ([] if args.method == "nonconvex" else [math.inf])
    if args.method in ("sdp", "nuclear"):
        from lpm_verify.solvers.base import resolve_solver
        resolve_solver(args.solver)
    check_output_dir(args.out, "--out")
    return R_values


def run(args: argparse.Namespace) -> int:
    R_values = validate(args)
    rows = []
    for K_A in args.KA:
        rows += sweep(args.K, K_A, args.EW, args.EH, R_values, method=args.method, solver=args.solver,
                      progress=True)
    out = Path(args.out)
    write_sweep_csv(rows, str(out / "sweep.csv"))
    plot_sweep(rows, str(out / "sweep.png"))
    total = sum(r["seconds"] for r in rows)
    print(f"{len(rows)} points ({args.method}) in {total:.2f} s -> {out / 'sweep.csv'}, {out / 'sweep.png'}")
    unresolved = [r["R"] for r in rows if not r["geometry_resolved"]]
    if unresolved:
        print(f"geometry not resolved by {args.method} at {len(unresolved)} points (R = "
              f"{', '.join(f'{R:.4g}' for R in unresolved)}): their cosines and regimes are not meaningful "
              f"(column geometry_resolved); use --method symmetric")
    for K_A in args.KA:
        print(f"K_A={K_A}: {regime_changes([r for r in rows if r['K_A'] == K_A])}")
    return 0


def regime_changes(rows: list[dict]) -> str:
    """The regime changes along increasing R among the rows whose geometry is resolved, as one line."""
    sel = sorted((r for r in rows if r["geometry_resolved"]), key=lambda r: r["R"])
    changes = [(a["R"], b["R"], b["regime"]) for a, b in zip(sel, sel[1:]) if a["regime"] != b["regime"]]
    return "; ".join(f"{b} between R={lo:.4g} and {hi:.4g}" for lo, hi, b in changes) or "no regime change"
