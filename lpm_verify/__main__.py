"""``python -m lpm_verify``: see :mod:`lpm_verify.cli`."""
import sys

from lpm_verify.cli import main

sys.exit(main())
