"""``python -m lpm_verify``: see :mod:`lpm_verify.cli`."""
import os
import sys

# Many small dense solves (scipy, cvxpy): OpenBLAS threads only oversubscribe the cores.
# Set before numpy is imported; torch uses MKL and its own threads, so training is unaffected.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    from lpm_verify.cli import main  # noqa: E402
except KeyboardInterrupt:  # Ctrl-C while the modules load: the same one line as once the command runs
    print("error: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
