"""Executors for a grid of runs: a local process pool (default), or submitit (subprocesses or SLURM).

Every executor runs the same job body, :class:`RunJob` (one config -> one run in the store), so a run
trained on a laptop, in the pool, or on a cluster node is the same computation.  With submitit
(``local``: real subprocesses on this machine; ``slurm``: one job per run, or one job array), a job
that is preempted or reaches its time limit receives SIGUSR2; submitit's checkpointing protocol then
calls :meth:`RunJob.checkpoint`, which requeues the same job with ``resume=True``, and the requeued
job continues from the run's last ``checkpoint.pt``: its final weights equal an uninterrupted run's.
Runs are claimed in the store (:mod:`experiments.run_locks`), so many jobs can share one ``--out``.

submitit is an optional dependency (extra ``cluster``), imported only by the submitit executors.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from experiments.run_locks import STALE_AFTER, RunClaimedError
from lpm_verify.errors import LPMInputError, require

if TYPE_CHECKING:
    from experiments.data import ImageData
    from experiments.trainer import TrainConfig

EXECUTORS = ("pool", "local", "slurm")
SUBMITIT_HOW = "pip install 'lpm-verify[cluster]' (or: pip install submitit)"
# Outcomes of a job.
TRAINED, FINISHED_BEFORE, RUNNING_ELSEWHERE = "trained", "already finished", "running elsewhere"


@dataclass(frozen=True)
class JobOutcome:
    """What one job did with its run (picklable: it travels back from the job's process)."""

    path: str
    status: str       # TRAINED | FINISHED_BEFORE | RUNNING_ELSEWHERE
    detail: str = ""  # for RUNNING_ELSEWHERE: who holds the claim


_DATA: dict[tuple[str, str | None], ImageData] = {}  # datasets loaded in this process (one per worker)


def load_data(dataset: str, data_root: str | None = None) -> ImageData:
    """``dataset`` loaded once per process (a job process trains several runs on the same data)."""
    from experiments.data import load_dataset
    key = (dataset, data_root)
    if key not in _DATA:
        _DATA[key] = load_dataset(dataset, data_root)
    return _DATA[key]


@dataclass(frozen=True)
class RunJob:
    """The job body of every executor: train and analyse one config into the store at ``out``."""

    out: str
    data_root: str | None = None
    resume: bool = False
    lpm: bool = True
    threads: int | None = None  # torch threads of the job's process (None: torch's default)
    stale_after: float = STALE_AFTER
    progress: bool = False

    def __call__(self, cfg: TrainConfig) -> JobOutcome:
        import torch

        from experiments.runner import run_experiment
        from experiments.store import run_dir
        if self.threads:
            torch.set_num_threads(self.threads)
        data = load_data(cfg.dataset, self.data_root)
        done_before = (run_dir(self.out, cfg.to_dict()) / "metrics.json").is_file()
        try:
            run = run_experiment(cfg, self.out, resume=self.resume, progress=self.progress, data=data,
                                 lpm=self.lpm, stale_after=self.stale_after)
        except RunClaimedError as exc:
            return JobOutcome(str(exc.path), RUNNING_ELSEWHERE, exc.claim.describe())
        return JobOutcome(str(run.path), FINISHED_BEFORE if done_before else TRAINED)

    def checkpoint(self, cfg: TrainConfig) -> Any:
        """submitit's checkpointing protocol (called on preemption / timeout): requeue this job with
        ``resume=True``; the run's own ``checkpoint.pt`` (written every ``checkpoint_every`` epochs,
        atomically) carries the state, so nothing else needs saving here."""
        from submitit.helpers import DelayedSubmission
        return DelayedSubmission(replace(self, resume=True), cfg)


@dataclass(frozen=True)
class SlurmOptions:
    """sbatch settings passed through to submitit's SlurmExecutor (``None``: the cluster's default)."""

    partition: str | None = None
    time: int = 24 * 60                  # minutes per job; a job that reaches it is requeued and resumes
    gpus_per_task: int | None = 1
    cpus_per_task: int | None = None
    mem: str | None = None
    account: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # any other sbatch option, e.g. {"qos": "high"}
    array_parallelism: int | None = None  # submit one job array running at most this many tasks at once

    def parameters(self) -> dict[str, Any]:
        """Keyword arguments of ``SlurmExecutor.update_parameters``."""
        require(isinstance(self.time, int) and self.time >= 1, "--slurm-time", "an integer >= 1 (minutes)", self.time)
        for name in ("gpus_per_task", "cpus_per_task", "array_parallelism"):
            value = getattr(self, name)
            require(value is None or (isinstance(value, int) and value >= 1), f"--slurm-{name.replace('_', '-')}",
                    "an integer >= 1", value)
        params: dict[str, Any] = {"time": self.time, "signal_delay_s": 120, "job_name": "lpm-verify"}
        for name in ("partition", "gpus_per_task", "cpus_per_task", "mem", "account", "array_parallelism"):
            if getattr(self, name) is not None:
                params[name] = getattr(self, name)
        if self.extra:
            params["additional_parameters"] = dict(self.extra)
        return params


def _import_submitit() -> Any:
    try:
        import submitit
    except ImportError:
        raise LPMInputError(f"the submitit executors need submitit: {SUBMITIT_HOW}") from None
    return submitit


def submitit_executor(kind: str, out: str | Path, slurm: SlurmOptions | None = None,
                      timeout_min: int = 24 * 60) -> Any:
    """A submitit executor logging to ``<out>/.submitit/``: ``local`` (subprocesses on this machine,
    ``timeout_min`` per job) or ``slurm``."""
    require(kind in ("local", "slurm"), "executor", "'local' or 'slurm' for submitit", kind)
    submitit = _import_submitit()
    folder = Path(out) / ".submitit" / "%j"
    if kind == "local":
        ex = submitit.LocalExecutor(folder=folder)
        ex.update_parameters(timeout_min=timeout_min)
    else:
        params = (slurm or SlurmOptions()).parameters()
        try:
            ex = submitit.SlurmExecutor(folder=folder)
        except RuntimeError as exc:  # submitit's check for srun
            raise LPMInputError(f"--executor slurm: no SLURM on this machine ({exc}); submit from a login node "
                                "of the cluster") from None
        ex.update_parameters(**params)
    return ex


def submit(configs: Sequence[TrainConfig], job: RunJob, executor: Any,
           array: bool = False) -> list[Any]:
    """Submit one job per config (or one job array if ``array``); returns the submitit jobs."""
    if array:
        return list(executor.map_array(job, list(configs)))
    return [executor.submit(job, cfg) for cfg in configs]


def run_local_submitit(configs: Sequence[TrainConfig], job: RunJob, out: str | Path, workers: int,
                       on_done: Callable[[JobOutcome], None] | None = None,
                       timeout_min: int = 24 * 60) -> list[JobOutcome | BaseException]:
    """Run the configs as submitit local jobs, at most ``workers`` at a time, and wait for them.

    Returns, in config order, each job's outcome or the exception its job raised."""
    ex = submitit_executor("local", out, timeout_min=timeout_min)
    results: dict[int, JobOutcome | BaseException] = {}
    pending = list(enumerate(configs))
    running: dict[int, Any] = {}
    while pending or running:
        while pending and len(running) < workers:
            i, cfg = pending.pop(0)
            running[i] = ex.submit(job, cfg)
        for i, sj in list(running.items()):
            if sj.done():
                del running[i]
                try:
                    results[i] = sj.result()
                except Exception as exc:  # submitit's FailedJobError / UncompletedJobError
                    results[i] = exc
                if on_done is not None and isinstance(results[i], JobOutcome):
                    on_done(results[i])  # type: ignore[arg-type]
        time.sleep(0.05)
    return [results[i] for i in range(len(configs))]


class PoolStopped(KeyboardInterrupt):
    """The pool's process received SIGTERM or SIGINT; its workers were stopped, their claims released and
    their runs left to ``--resume`` (a KeyboardInterrupt, so the CLI reports it as an interruption)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}; continue the runs with train --resume")


class _WorkerStopped(BaseException):
    """Raised in a pool worker by SIGTERM while it trains, so that the run's claim is released on the way
    out (a BaseException: the run is interrupted, not failed, so no failed.json is written)."""


#: Seconds a stopped worker gets to release its claim (it leaves the training step it is in: well under
#: a second for the CPU presets) before it is killed (its claim then reads as stale: its pid is gone).
STOP_GRACE_SECONDS = 30.0
_IN_JOB = False  # in a pool worker: whether it is running a job now


def _worker_signal(signum: int, frame: Any) -> None:
    if _IN_JOB:
        raise _WorkerStopped(signum)
    os._exit(128 + signum)  # idle between jobs: nothing to release


def _worker_init() -> None:
    """In each pool worker: SIGTERM stops the worker (releasing its run's claim); SIGINT is left to the parent,
    which forwards it as SIGTERM; and on Linux the worker gets SIGTERM when the parent dies, even by SIGKILL."""
    signal.signal(signal.SIGTERM, _worker_signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() == 1:  # the parent died before the call above
            os._exit(128 + signal.SIGTERM)


def _pool_task(job: RunJob, cfg: TrainConfig) -> JobOutcome:
    """``job(cfg)`` in a pool worker; a worker stopped by SIGTERM exits once its claim is released (staying
    alive, it would wait forever for work from a parent that is gone)."""
    global _IN_JOB
    _IN_JOB = True
    try:
        return job(cfg)
    except _WorkerStopped:
        os._exit(128 + signal.SIGTERM)
    finally:
        _IN_JOB = False


@contextmanager
def _stopping_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise :class:`PoolStopped` in this (main) thread for the body; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise PoolStopped(signum)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM to every live worker, then wait up to :data:`STOP_GRACE_SECONDS` and kill what is left."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # the executor's own table of workers
    for proc in processes:
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for proc in processes:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(5.0)


def run_pool(configs: Sequence[TrainConfig], job: RunJob, workers: int,
             on_done: Callable[[JobOutcome], None] | None = None) -> list[JobOutcome]:
    """Run the configs in ``workers`` spawned processes (in this process if ``workers == 1``).

    SIGTERM or SIGINT stops the pool: each worker releases its run's claim and exits (a worker whose parent
    dies gets SIGTERM too), and :class:`PoolStopped` is raised here; the runs continue with ``--resume``."""
    with _stopping_on_signals():
        if workers <= 1:
            outcomes = []
            for cfg in configs:
                outcomes.append(job(cfg))
                if on_done is not None:
                    on_done(outcomes[-1])
            return outcomes
        results: dict[int, JobOutcome] = {}
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_init)
        try:
            futures = {pool.submit(_pool_task, job, c): i for i, c in enumerate(configs)}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                if on_done is not None:
                    on_done(results[futures[fut]])
        except BaseException:
            _stop_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [results[i] for i in range(len(configs))]


def default_workers(requested: int | None, preset_workers: int, n_configs: int, cuda: bool) -> int:
    """``requested`` (or the preset's) capped at the CPU count and the number of configs; 1 on CUDA."""
    require(requested is None or (isinstance(requested, int) and requested >= 1), "--workers",
            "an integer >= 1 (parallel processes)", requested)
    return 1 if cuda else max(1, min(requested or preset_workers, os.cpu_count() or 1, n_configs))
