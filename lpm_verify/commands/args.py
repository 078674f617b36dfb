"""Argument types and input checks shared by the subcommands (no heavy imports: startup stays fast).

Every check runs before a subcommand starts its work and raises
:class:`~lpm_verify.errors.LPMInputError` naming the flag and what it accepts (exit status 2).
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from lpm_verify.errors import LPMInputError, require

#: Largest logit scale ``c = sqrt(E_W E_H) K/(K-1)`` (the ETF's margin, Theorem 1): the optimal loss
#: is about ``e^{-c}``, which underflows float64 (smallest normal ~1e-308 = e^{-709}) beyond this.
MAX_LOGIT_SCALE = 700.0
#: Smallest logit scale the solvers are validated at (E_W = 1e-6, E_H = 5 gives 2.5e-3): below it the
#: loss is log K to within ~c over the whole feasible set and the regime thresholds crowd to R = 1, where
#: the reduced solver's float64 continuation is not reliable (the fuzz test found failures at c ~ 1e-4).
MIN_LOGIT_SCALE = 1e-3
#: Imbalance ratios accepted besides inf: beyond, R K_A overflows or 1/R underflows in the class weights.
MIN_RATIO, MAX_RATIO = 1e-100, 1e100


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan  # reported by the caller's "must be" message


def ratio(text: str) -> float:
    """An imbalance ratio: a number > 0 or 'inf' (argparse type)."""
    value = _float(text)
    if not (value == math.inf or MIN_RATIO <= value <= MAX_RATIO):
        raise argparse.ArgumentTypeError(f"must be a number > 0 in [{MIN_RATIO:g}, {MAX_RATIO:g}] or 'inf'; "
                                         f"got {text!r}")
    return value


def positive(text: str) -> float:
    """A finite number > 0 (argparse type)."""
    value = _float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0; got {text!r}")
    return value


def add_budget_arguments(group: Any) -> None:
    """``--EW``/``--EH``, Eq. 7's budgets."""
    group.add_argument("--EW", type=positive, default=1.0, help="classifier budget E_W > 0 (default 1)")
    group.add_argument("--EH", type=positive, default=5.0, help="feature budget E_H > 0 (default 5)")


def check_budgets(K: int, E_W: float, E_H: float) -> None:
    """Finite positive budgets whose losses do not underflow float64 (see :data:`MAX_LOGIT_SCALE`)."""
    require(math.isfinite(E_W) and E_W > 0, "--EW", "a finite number > 0", E_W)
    require(math.isfinite(E_H) and E_H > 0, "--EH", "a finite number > 0", E_H)
    c = math.sqrt(E_W) * math.sqrt(E_H) * K / (K - 1)
    require(MIN_LOGIT_SCALE <= c <= MAX_LOGIT_SCALE, "--EW, --EH",
            f"such that {MIN_LOGIT_SCALE:g} <= sqrt(E_W E_H) K/(K-1) <= {MAX_LOGIT_SCALE:g} (above, the optimal "
            f"loss ~e^-{MAX_LOGIT_SCALE:g} underflows float64; below, the loss is flat to within that scale "
            f"and the solvers are not validated)", f"E_W={E_W:g}, E_H={E_H:g}, K={K}: {c:.4g}")


def _probe_dir(folder: Path, flag: str, target: Path) -> None:
    """Create and remove a file in ``folder`` (os.access is True for root, so try it)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".lpm-write-test.")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise LPMInputError(f"{flag}: cannot write in {str(folder)!r} (for {str(target)!r}): "
                            f"{exc.strerror or exc}") from None


def _existing_ancestor(path: Path, flag: str) -> Path:
    for parent in [path, *path.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise LPMInputError(f"{flag}: {str(parent)!r} is a file, so {str(path)!r} cannot be created")
            return parent
    return Path(".")


def check_output_dir(path: str, flag: str) -> Path:
    """``path`` is, or can be created as, a writable folder; checked before any work."""
    require(bool(path and path.strip()), flag, "a folder path", path)
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise LPMInputError(f"{flag} must be a folder; {path!r} is an existing file")
    _probe_dir(_existing_ancestor(p, flag), flag, p)
    return p


def check_output_file(path: str, flag: str) -> Path:
    """``path`` can be written as a file (an existing file is replaced); checked before any work."""
    require(bool(path and path.strip()), flag, "a file path", path)
    p = Path(path)
    if p.is_dir() or path.endswith(os.sep):
        raise LPMInputError(f"{flag} must be a file path; {path!r} is a folder")
    _probe_dir(_existing_ancestor(p.parent, flag), flag, p)
    return p


#: How to get an optional dependency that a subcommand imports (named in its one-line error).
INSTALL_HINTS: dict[str, str] = {
    "torch": "pip install torch==2.13.0 (or any torch >= 2.4), then pip install -e '.[experiments]'",
    "torchvision": "pip install -e '.[torchvision]'",
    "matplotlib": "pip install matplotlib",
    "cvxpy": "pip install cvxpy clarabel",
    "submitit": "pip install -e '.[cluster]'",
}


def missing_dependency_message(name: str, command: str) -> str:
    """One line: subcommand ``command`` needs package ``name``, and how to install it."""
    hint = INSTALL_HINTS.get(name, f"pip install {name}")
    return f"`{command}` needs the Python package {name!r}, which cannot be imported here; install it with: {hint}"


#: Environment variable that gives ``--imagenet-checkpoint`` its default (read here, at the command line's
#: edge, only: the flag and the variable give the same answer because both become the flag's value).
IMAGENET_ENV = "LPM_VERIFY_IMAGENET_CHECKPOINT"


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """``--runs`` and ``--imagenet-checkpoint``: what the experiment checks read (``verify`` and ``report``)."""
    parser.add_argument("--runs", default="runs", help="experiments store the experiment checks read (default: runs/)")
    parser.add_argument("--imagenet-checkpoint", metavar="PATH", default=os.environ.get(IMAGENET_ENV) or None,
                        help=f"torchvision ImageNet state dict for the Fig. 9 checks (default: ${IMAGENET_ENV})")


def check_inputs(args: argparse.Namespace) -> "CheckInputs":
    """The :class:`~lpm_verify.check_inputs.CheckInputs` of ``--runs`` / ``--imagenet-checkpoint``, checked."""
    from lpm_verify.check_inputs import CheckInputs
    require(not Path(args.runs).is_file(), "--runs", "a folder (the experiments store)", args.runs)
    ckpt = args.imagenet_checkpoint
    require(ckpt is None or Path(ckpt).is_file(), "--imagenet-checkpoint", "an existing state-dict file", ckpt)
    if ckpt:  # a bad file is bad input, refused before any check runs (not a Fig. 9 finding)
        from experiments.imagenet_angles import checked_checkpoint  # torch: imported only when a file is given
        checked_checkpoint(Path(ckpt))
    return CheckInputs(runs=Path(args.runs), imagenet_checkpoint=Path(ckpt) if ckpt else None)
