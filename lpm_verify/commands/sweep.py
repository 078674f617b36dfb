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

from lpm_verify.errors import require
from lpm_verify.sweep import METHODS, log_grid, plot_sweep, sweep, write_sweep_csv


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, e.g. 3,5,7; got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--K", type=int, default=10, help="number of classes (default 10)")
    parser.add_argument("--KA", type=_int_list, default=[3, 5, 7], help="majority counts K_A, e.g. 3,5,7")
    parser.add_argument("--EW", type=float, default=1.0, help="classifier budget E_W (default 1)")
    parser.add_argument("--EH", type=float, default=5.0, help="feature budget E_H (default 5)")
    parser.add_argument("--R", default="1:10000:41", help="log grid start:stop:num (default 1:10000:41), plus inf")
    parser.add_argument("--method", choices=METHODS, default="symmetric", help="solver (default symmetric)")
    parser.add_argument("--solver", default="clarabel", help="cvxpy solver for sdp/nuclear")
    parser.add_argument("--out", required=True, help="output directory for sweep.csv and sweep.png")


def run(args: argparse.Namespace) -> int:
    require(len(args.KA) >= 1, "--KA", "at least one integer", args.KA)
    R_values = log_grid(args.R) + ([] if args.method == "nonconvex" else [math.inf])
    if args.method in ("sdp", "nuclear"):
        from lpm_verify.solvers.base import resolve_solver
        resolve_solver(args.solver)
    rows = []
    for K_A in args.KA:
        rows += sweep(args.K, K_A, args.EW, args.EH, R_values, method=args.method, solver=args.solver,
                      progress=True)
    out = Path(args.out)
    write_sweep_csv(rows, str(out / "sweep.csv"))
    plot_sweep(rows, str(out / "sweep.png"))
    total = sum(r["seconds"] for r in rows)
    print(f"{len(rows)} points ({args.method}) in {total:.2f} s -> {out / 'sweep.csv'}, {out / 'sweep.png'}")
    for K_A in args.KA:
        sel = [r for r in rows if r["K_A"] == K_A]
        changes = [(a["R"], b["R"], b["regime"]) for a, b in zip(sel, sel[1:]) if a["regime"] != b["regime"]]
        text = "; ".join(f"{b} between R={lo:.4g} and {hi:.4g}" for lo, hi, b in changes) or "no regime change"
        print(f"K_A={K_A}: {text}")
    return 0
