"""Test-session setup shared by tests/, theorems/ and benchmarks/.

One OpenBLAS thread: the checks run many small dense solves (scipy L-BFGS-B, cvxpy) for which
OpenBLAS threads only oversubscribe the 2 cores. Set before numpy is first imported.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
