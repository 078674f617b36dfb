"""Run claims in a shared store: before training, a job claims the run's folder atomically.

``<run>/claim.json`` holds who trains the run (host, pid, job id, start time, a random token).  It is
created with ``os.link`` of a complete temporary file, which is atomic and fails if the claim exists
(also on NFS), so two jobs never both hold a run.  While the run trains, a heartbeat thread touches
the file every :data:`HEARTBEAT_SECONDS`.  A claim is *stale*, and may be taken over, when

* it belongs to this very job (a SLURM / submitit job requeued after preemption keeps its job id),
* its process is gone (same host, pid no longer alive), or
* its heartbeat is older than ``stale_after`` seconds (a job on another host that died).

A takeover happens once per stale claim: the taker must first create ``.takeover-<token>`` with
``O_EXCL``; a second taker of the same stale claim finds that file and backs off.  Nothing here needs
torch (``status`` reads claims without it).
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from experiments.store import StoreError, read_store_json
from lpm_verify.errors import LPMInputError

CLAIM_FILE = "claim.json"
#: The host of a claim whose file cannot be read: only its heartbeat age can make it stale.
UNREADABLE_HOST = "?"
HEARTBEAT_SECONDS = 30.0
STALE_AFTER = 600.0  # 20 missed heartbeats: a job this silent is gone (or its host is)


@dataclass(frozen=True)
class Claim:
    """Who holds a run; ``heartbeat`` is the claim file's modification time (unix seconds)."""

    token: str
    host: str
    pid: int
    job_id: str | None
    started: float
    heartbeat: float = 0.0

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if self.host == UNREADABLE_HOST:
            return (f"an unknown job (its {CLAIM_FILE} is unreadable), last written "
                    f"{max(0.0, now - self.heartbeat):.0f} s ago")
        job = f", job {self.job_id}" if self.job_id else ""
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return (f"host {self.host}, pid {self.pid}{job}, started {started}, "
                f"last heartbeat {max(0.0, now - self.heartbeat):.0f} s ago")


class RunClaimedError(LPMInputError):
    """The run is being trained by another live job."""

    def __init__(self, path: Path, claim: Claim, detail: str = "") -> None:
        self.path, self.claim = path, claim
        super().__init__(f"run {path} is being trained now by {claim.describe()}{detail}; wait for it to finish "
                         f"(see `python -m lpm_verify status --out {path.parent}`), do not delete the folder")


def current_job_id() -> str | None:
    """The scheduler's id of this job, stable across requeues (SLURM array task or job, submitit local)."""
    env = os.environ
    if env.get("SLURM_ARRAY_JOB_ID") and env.get("SLURM_ARRAY_TASK_ID"):
        return f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    return env.get("SLURM_JOB_ID") or env.get("SUBMITIT_LOCAL_JOB_ID") or None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


#: Largest process id a claim may name: Linux's PID_MAX_LIMIT (2^22); a larger one is not a process.
MAX_PID = 2 ** 22
#: Latest start time a claim may name (unix seconds, the year 2106); later is not a time this job wrote,
#: and time.localtime refuses far larger values.
MAX_STARTED = 2.0 ** 32


def _claim_fields(d: object) -> tuple[str, str, int, str | None, float]:
    """(token, host, pid, job id, start time) of a parsed claim file, or ValueError naming what is wrong."""
    if not isinstance(d, dict):
        raise ValueError("not a JSON object")
    token, host, pid, job_id, started = (d.get(k) for k in ("token", "host", "pid", "job_id", "started"))
    if not (isinstance(token, str) and isinstance(host, str)):
        raise ValueError("token and host must be text")
    if not (isinstance(pid, int) and not isinstance(pid, bool) and 1 <= pid <= MAX_PID):
        raise ValueError(f"pid must be an integer in [1, {MAX_PID}]")
    if not (job_id is None or isinstance(job_id, str)):
        raise ValueError("job_id must be text or null")
    if not (isinstance(started, (int, float)) and not isinstance(started, bool) and 0 <= started <= MAX_STARTED):
        raise ValueError(f"started must be a time in [0, {MAX_STARTED:.0f}] (unix seconds)")
    return token, host, pid, job_id or None, float(started)


def read_claim(run_path: Path) -> Claim | None:
    """The claim on ``run_path`` (``None`` if unclaimed), read by the store's guarded reader.  A claim file
    that cannot be read or whose fields are out of range (a NaN start, a pid beyond any process) is
    returned as a claim of host ``"?"`` so that only its heartbeat age can make it stale."""
    path = run_path / CLAIM_FILE
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    try:
        return Claim(*_claim_fields(read_store_json(path)), mtime)
    except (StoreError, ValueError) as exc:
        if "missing" in str(exc) and not path.exists():  # released between the two looks
            return None
        return Claim(f"unreadable-{_content_tag(path)}-{mtime:.0f}", UNREADABLE_HOST, -1, None, mtime, mtime)


def _content_tag(path: Path) -> str:
    """A tag of an unreadable claim file's first bytes, the same in every process (two jobs that find the
    same stale file race for the same ``.takeover-<token>`` marker)."""
    try:
        with path.open("rb") as fh:
            return hashlib.sha256(fh.read(4096)).hexdigest()[:16]
    except OSError:
        return "gone"


def stale_reason(claim: Claim, stale_after: float = STALE_AFTER, now: float | None = None) -> str | None:
    """Why ``claim`` may be taken over, or ``None`` if it is live."""
    now = time.time() if now is None else now
    job = current_job_id()
    if claim.job_id is not None and claim.job_id == job:
        return f"held by this job ({job}) before it was requeued"
    if claim.host == socket.gethostname() and not _pid_alive(claim.pid):
        return f"its process {claim.pid} on this host is gone"
    if now - claim.heartbeat > stale_after:
        return f"no heartbeat for {now - claim.heartbeat:.0f} s (> {stale_after:.0f} s)"
    return None


def _write_new(path: Path, claim: Claim, replace: bool) -> None:
    tmp = path.with_name(f".{CLAIM_FILE}.{claim.token}.tmp")
    data = {k: v for k, v in asdict(claim).items() if k != "heartbeat"}
    tmp.write_text(json.dumps(data))
    try:
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # atomic; FileExistsError if someone holds the run
    finally:
        tmp.unlink(missing_ok=True)


def acquire(run_path: Path, stale_after: float = STALE_AFTER) -> Claim:
    """Claim ``run_path`` for this process or raise :class:`RunClaimedError` naming the live holder."""
    run_path.mkdir(parents=True, exist_ok=True)
    path = run_path / CLAIM_FILE
    mine = Claim(secrets.token_hex(8), socket.gethostname(), os.getpid(), current_job_id(), time.time())
    for _ in range(5):  # the holder may release between our two looks
        try:
            _write_new(path, mine, replace=False)
            return _with_heartbeat(path, mine)
        except FileExistsError:
            pass
        held = read_claim(run_path)
        if held is None:
            continue
        if stale_reason(held, stale_after) is None:
            raise RunClaimedError(run_path, held)
        try:
            os.close(os.open(run_path / f".takeover-{held.token}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            raise RunClaimedError(run_path, held, " (another job is taking over its stale claim)") from None
        _write_new(path, mine, replace=True)
        return _with_heartbeat(path, mine)
    raise RunClaimedError(run_path, read_claim(run_path) or mine, " (the claim kept changing)")


def _with_heartbeat(path: Path, claim: Claim) -> Claim:
    return Claim(claim.token, claim.host, claim.pid, claim.job_id, claim.started, path.stat().st_mtime)


def holds(run_path: Path, claim: Claim) -> bool:
    """Whether ``claim`` is still the claim on ``run_path``."""
    held = read_claim(run_path)
    return held is not None and held.token == claim.token


def release(run_path: Path, claim: Claim) -> None:
    """Remove our claim (and the takeover markers of earlier ones); someone else's is left alone."""
    if holds(run_path, claim):
        (run_path / CLAIM_FILE).unlink(missing_ok=True)
    for marker in run_path.glob(".takeover-*"):
        marker.unlink(missing_ok=True)


@contextmanager
def claimed(run_path: Path, stale_after: float = STALE_AFTER,
            heartbeat_seconds: float = HEARTBEAT_SECONDS) -> Iterator[Claim]:
    """Hold the claim on ``run_path`` for the body, with a heartbeat thread; released on any exit
    (an exception, or ``SystemExit`` from submitit's preemption handler)."""
    claim = acquire(run_path, stale_after)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(heartbeat_seconds):
            try:
                if holds(run_path, claim):
                    os.utime(run_path / CLAIM_FILE)
            except OSError:  # the claim vanished between the two calls (taken over): nothing to renew
                pass

    thread = threading.Thread(target=beat, name=f"heartbeat {run_path.name}", daemon=True)
    thread.start()
    try:
        yield claim
    finally:
        stop.set()
        thread.join()
        release(run_path, claim)
