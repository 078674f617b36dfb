"""``python -m lpm_verify [--debug] {report, verify, solve, sweep, threshold, train}``.

Each subcommand lives in ``lpm_verify/commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int``.  Only the module of the subcommand being run is imported (and that module
imports its heavy dependencies, torch, matplotlib, cvxpy, only where it uses them), so ``solve`` and
``threshold`` start in well under a second and everything but ``train`` works without torch.

Exit status: 0 success; 1 a failure (a check failed, a solver did not converge, an unexpected
error, including a project module that fails to import); 2 bad input
(:class:`~lpm_verify.errors.LPMInputError`, a missing dataset or optional third-party dependency, an
unavailable solver, an unwritable output path), with a one-line message on stderr.
A traceback is shown only with ``--debug``.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import re
import signal
import sys
from contextlib import contextmanager
from typing import Any, Iterator, NoReturn, Sequence

from lpm_verify.commands.args import INSTALL_HINTS, missing_dependency_message
from lpm_verify.errors import DataNotFoundError, LPMInputError, NamedFailure, SolverError, SolverNotInstalledError

COMMANDS: dict[str, str] = {
    "report": "write the agreement report (Markdown + HTML + figures) to reports/",
    "verify": "run the registered checks of the paper's results and print their verdicts",
    "solve": "solve one imbalanced LPM instance (Eq. 7 / 15 / 91)",
    "sweep": "minority cosine against the imbalance ratio R (Fig. 3 data)",
    "threshold": "every regime change in R, to the requested digits",
    "train": "train the paper's networks on imbalanced FashionMNIST / CIFAR10 (needs torch)",
    "status": "finished / running / failed / pending runs of a (shared) run store",
}

_BAD_INPUT = (LPMInputError, DataNotFoundError, SolverNotInstalledError)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``error: --R must be ...``) and exit status 2,
    raised as :class:`LPMInputError` instead of printing the usage and exiting."""

    def error(self, message: str) -> NoReturn:
        match = re.match(r"argument (\S+?)(?:/\S+)?: (must be .*)", message, re.S)
        raise LPMInputError(f"{match.group(1)} {match.group(2)}" if match else f"{self.prog}: {message}")


class _MissingDependency(Exception):
    """A subcommand's module could not import an optional dependency."""


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first token not starting with '-'), if it is one."""
    for token in argv:
        if not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def _attach_negative_values(argv: list[str]) -> list[str]:
    """``--R -1:100:5`` -> ``--R=-1:100:5``: argparse takes a value starting with '-' that is not a
    plain number for an option and says "expected one argument"; attached, the value reaches its check."""
    out: list[str] = []
    for token in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and re.match(r"-[0-9.]", token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


#: Top-level packages of this project: an import of one of them that fails is a bug, never a missing install.
PROJECT_PACKAGES = frozenset({"lpm_verify", "theorems", "experiments"})


def missing_optional_package(exc: ImportError) -> str | None:
    """The optional third-party distribution whose absence ``exc`` reports (one of
    :data:`~lpm_verify.commands.args.INSTALL_HINTS`), or None when ``exc`` is anything else: a project
    module that failed to import, a name missing from a module, or a broken installed package."""
    top = (exc.name or "").split(".")[0] if isinstance(exc, ModuleNotFoundError) else ""
    return top if top in INSTALL_HINTS and top not in PROJECT_PACKAGES else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the arguments of ``command`` only (of every subcommand when it is None)."""
    parser = _Parser(prog="python -m lpm_verify",
                     description="Verify the Layer-Peeled Model paper (Fang et al., PNAS 2021): checks, solvers, report.")
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, help_text in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help="show the Python traceback of an error")
        if command is not None and name != command:
            continue
        try:
            module = importlib.import_module(f"lpm_verify.commands.{name}")
            module.add_arguments(cmd)
        except ImportError as exc:
            missing = missing_optional_package(exc)
            if missing is None:
                raise  # a project module that does not import: an internal error (main)
            raise _MissingDependency(missing_dependency_message(missing, name)) from exc
        cmd.set_defaults(_run=module.run)
    return parser


@contextmanager
def _noting_interrupts() -> Iterator[list[int]]:
    """SIGINT raises KeyboardInterrupt as usual, and is also noted in the yielded list: a Ctrl-C inside an
    extension module's import surfaces as that module's ImportError (numpy: "cannot import module datetime"),
    which is the user's interrupt, not a bug.  (Outside the main thread no handler can be set: a no-op.)"""
    noted: list[int] = []

    def note(signum: int, frame: Any) -> None:
        noted.append(signum)
        raise KeyboardInterrupt
    try:
        previous = signal.signal(signal.SIGINT, note)
    except ValueError:  # not the main thread
        yield noted
        return
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: Sequence[str] | None = None) -> int:
    with _noting_interrupts() as interrupted:
        status = _main(argv, interrupted)
    return status


def _main(argv: Sequence[str] | None, interrupted: list[int]) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    command = _command_of(argv)
    try:
        args = build_parser(command or "").parse_args(_attach_negative_values(argv))  # "": no subcommand's arguments (top-level help)
        return int(args._run(args))
    except SystemExit as exc:  # --help / --version
        return exc.code if isinstance(exc.code, int) else 0
    except _MissingDependency as exc:
        return _fail(str(exc), 2, debug)
    except _BAD_INPUT as exc:
        return _fail(str(exc), 2, debug)
    except ImportError as exc:
        if interrupted:  # the import failed because Ctrl-C interrupted it
            return _fail("interrupted", 130, debug)
        missing = missing_optional_package(exc)
        if missing is not None:
            return _fail(missing_dependency_message(missing, command or "lpm_verify"), 2, debug)
        return _fail(f"internal error: a module failed to import ({type(exc).__name__}: {exc}); this is a bug in "
                     f"lpm-verify, please report it (rerun with --debug for the traceback)", 1, debug)
    except SolverError as exc:
        return _fail(f"solver failure: {exc}", 1, debug)
    except NamedFailure as exc:
        return _fail(str(exc), 1, debug)
    except MemoryError:
        return _fail("out of memory; use a smaller instance (see the limits in --help)", 1, debug)
    except KeyboardInterrupt:
        return _fail("interrupted", 130, debug)
    except OSError as exc:
        return _fail(os_error_line(exc), 1, debug)
    except Exception as exc:  # noqa: BLE001 -- the last line of defence: one line, never a traceback
        if interrupted:  # whatever Ctrl-C broke on its way out (an extension module's init, a pool)
            return _fail("interrupted", 130, debug)
        from concurrent.futures.process import BrokenProcessPool  # imported here: only this path needs it
        if isinstance(exc, BrokenProcessPool):
            return _fail("a worker process died before it finished (killed by a signal, e.g. the out-of-memory "
                         "killer); the work it held is lost: rerun (finished runs and cached results are kept)",
                         1, debug)
        return _fail(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug for the traceback "
                     f"and report it", 1, debug)


def os_error_line(exc: OSError) -> str:
    """One line for a failed file operation; a full disk says so, and that files are written atomically
    (a file being replaced keeps its previous content)."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return (f"no space left on the device{where}: nothing was replaced (every file is written whole or not at "
                "all, so the previous files are unchanged); free space and rerun")
    return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)


def _fail(message: str, status: int, debug: bool) -> int:
    if debug:
        import traceback
        traceback.print_exc()
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return status
