"""Benchmarks of the solver stack (pytest-benchmark; not part of the default test run).

Run: ``python -m pytest benchmarks --benchmark-enable -p no:cacheprovider -o addopts=''``.

* The Fig. 3 sweep (K = 10, K_A = 5, E_W = 1, E_H = 5, R = 10^(0.1 i), i = 0..40) by the symmetric
  float64 path against 41 generic SDP solves with SCS at its defaults, timed in the same run:
  the ratio must be >= 50 and the minority cosines within 1e-12 of the mpmath (30-digit) solution.
* All regime thresholds at 30 digits for that case in < 2 s.
"""
from __future__ import annotations

import time

import mpmath

from lpm_verify.problem import two_size_fractions
from lpm_verify.regimes import find_thresholds
from lpm_verify.solvers.sdp import solve_sdp
from lpm_verify.solvers.symmetric import Profile, solve_symmetric
from lpm_verify.sweep import sweep

K, K_A, E_W, E_H = 10, 5, 1.0, 5.0
R_GRID = [10 ** (0.1 * i) for i in range(41)]


def _scs_sweep_seconds() -> float:
    t0 = time.perf_counter()
    for R in R_GRID:
        solve_sdp(two_size_fractions(K, K_A, R), E_W=E_W, E_H=E_H, solver="scs")
    return time.perf_counter() - t0


def test_sweep_symmetric_vs_scs(benchmark):
    solve_sdp(two_size_fractions(K, K_A, 2.0), E_W=E_W, E_H=E_H, solver="scs")  # import/compile warm-up
    scs_seconds = _scs_sweep_seconds()
    rows = benchmark.pedantic(sweep, args=(K, K_A, E_W, E_H, R_GRID), rounds=7, iterations=1, warmup_rounds=1)
    sym_seconds = benchmark.stats.stats.median  # robust to other processes on the machine
    errors = []
    with mpmath.workdps(45):
        for row in rows:
            exact = solve_symmetric(Profile.two_size(K, K_A, row["R"], E_W, E_H), digits=30).detail["cos_B"]
            errors.append(abs(mpmath.mpf(row["cos_minority"]) - exact))
    ratio = scs_seconds / sym_seconds
    benchmark.extra_info.update({"scs_41_seconds": scs_seconds, "symmetric_41_seconds": sym_seconds,
                                 "speedup": ratio, "max_cos_error_vs_mp30": float(max(errors))})
    assert ratio >= 50, f"speed-up {ratio:.1f}x < 50x (SCS {scs_seconds:.3f} s, symmetric {sym_seconds:.4f} s)"
    assert max(errors) <= 1e-12


def test_threshold_30_digits(benchmark):
    transitions = benchmark.pedantic(find_thresholds, args=(K, K_A, E_W, E_H), kwargs={"digits": 30},
                                     rounds=3, iterations=1)
    benchmark.extra_info.update({"R0": mpmath.nstr(transitions[0].R, 30), "seconds": benchmark.stats.stats.mean})
    assert all(t.certificate["certified"] for t in transitions)
    assert benchmark.stats.stats.max < 2.0
