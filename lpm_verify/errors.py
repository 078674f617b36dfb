"""Named exceptions of lpm-verify (one per kind of failure)."""
from __future__ import annotations


class LPMInputError(ValueError):
    """A parameter is outside its accepted range; the message names both."""


class SolverError(RuntimeError):
    """A numeric solver did not reach an optimal status; the message names the solver and the fix."""


class SolverNotInstalledError(SolverError):
    """The requested solver is not installed; the message lists the installed ones."""


class NamedFailure(RuntimeError):
    """A failure that is no bug and whose message says what happened and what is left (a full disk
    while writing the report); the command line prints it as one line, exit status 1."""


class DataNotFoundError(FileNotFoundError):
    """A dataset file is missing; the message names the file and how to obtain it."""


def require(condition: bool, parameter: str, accepted: str, got: object) -> None:
    """Raise :class:`LPMInputError` naming ``parameter`` and its accepted range unless ``condition``."""
    if not condition:
        raise LPMInputError(f"{parameter} must be {accepted}; got {got!r}")
