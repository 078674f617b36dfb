"""What the runner hands to a check besides its own code: the run store and a user's checkpoint.

Experiment checks (the paper's empirical claims, Section 4.C and Appendix D) decide from data that lives
outside the repository.  ``verify`` and ``report`` build one :class:`CheckInputs` from their flags
(``--runs``, ``--imagenet-checkpoint``) and the runner passes it to every check function that takes an
argument, in worker processes too (it is picklable), so that no check reads an environment variable.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CheckInputs:
    """The inputs of the experiment checks; ``None`` means "not given" (the check is then skipped).

    ``runs``: the run store (``python -m lpm_verify train --out DIR``), read by the checks of
    Figs. 2, 4-7 and Tables 1-4.  ``imagenet_checkpoint``: a torchvision ImageNet state dict, read by
    the checks of Fig. 9 (Appendix D).
    """

    runs: Path | None = None
    imagenet_checkpoint: Path | None = None
