"""The regime the paper's empirical claims are about, as data: which runs may decide a claim.

Section 4.C trains for 350 epochs to the terminal phase of training, where the weight decay has
shrunk whatever the gradient does not sustain.  A run's weight-decay exposure
``X = sum_t eta_t lambda / (1 - beta)`` (:func:`experiments.trainer.weight_decay_exposure`) measures
how far it got: weights that get no gradient keep ``exp(-X)`` of their scale.  The paper's runs have
``X`` about 17 at ``lambda = 5e-4``.  A late drift of the claim quantities is stored with every run
but is no criterion: a stepwise learning rate makes it small far from equilibrium too.

Nothing here imports torch: the checks and the report read these numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: The preset the default report trains (CPU proxy, minutes; far from the paper's regime: X ~ 0.5 at 5e-4).
REPORT_PRESET = "cpu-report"
#: The CPU preset at the paper's weight-decay exposure (under an hour on 2 cores).
REGIME_PRESET = "cpu-regime"
#: The authors' setup (Section 4.C) on a GPU.
PAPER_PRESET = "paper"
