"""Cluster execution: run claims, submitit's local executor with preemption and requeue,
re-submission and concurrent submission into one store, SLURM parameters, ``status``, ``--dry-run``."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from experiments import run_locks
from experiments.run_locks import CLAIM_FILE, RunClaimedError, acquire, claimed, read_claim, release
from experiments.executors import FINISHED_BEFORE, RUNNING_ELSEWHERE, TRAINED, RunJob, SlurmOptions
from experiments.presets import PRESETS, preset_configs, run_preset
from experiments.runner import run_experiment
from experiments.store import load_run, run_dir
from experiments.trainer import TrainConfig
from lpm_verify.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fashion_data():
    from experiments.data import load_dataset
    return load_dataset("fashion-mnist")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def write_claim(run: Path, pid: int, host: str | None = None, job_id: str | None = None, age: float = 0.0) -> None:
    run.mkdir(parents=True, exist_ok=True)
    (run / CLAIM_FILE).write_text(json.dumps({"token": f"t{pid}", "host": host or socket.gethostname(), "pid": pid,
                                              "job_id": job_id, "started": time.time() - age}))
    if age:
        os.utime(run / CLAIM_FILE, (time.time() - age, time.time() - age))


# ---- claims ------------------------------------------------------------------------------------
def test_a_claim_is_exclusive_and_released(tmp_path):
    run = tmp_path / "r"
    mine = acquire(run)
    with pytest.raises(RunClaimedError, match=f"being trained now by host {socket.gethostname()}, pid {os.getpid()}"):
        acquire(run)
    release(run, mine)
    assert not (run / CLAIM_FILE).exists()
    release(run, acquire(run))  # free again


@pytest.mark.parametrize("how", ["dead process", "old heartbeat", "same job requeued", "unreadable and old"])
def test_a_stale_claim_is_taken_over(tmp_path, monkeypatch, how):
    run = tmp_path / "r"
    if how == "dead process":
        write_claim(run, dead_pid())
    elif how == "old heartbeat":
        write_claim(run, 1, host="another-node", age=run_locks.STALE_AFTER + 5)
    elif how == "same job requeued":
        monkeypatch.setenv("SLURM_JOB_ID", "4242")
        write_claim(run, 1, host="another-node", job_id="4242")
    else:
        run.mkdir()
        (run / CLAIM_FILE).write_bytes(b"\x00garbage")
        old = time.time() - run_locks.STALE_AFTER - 5
        os.utime(run / CLAIM_FILE, (old, old))
    mine = acquire(run)
    assert read_claim(run).token == mine.token


@pytest.mark.parametrize("how", ["live process here", "fresh heartbeat elsewhere", "other job", "unreadable fresh"])
def test_a_live_claim_is_not_taken_over(tmp_path, monkeypatch, how):
    """Negative control for the takeovers above."""
    run = tmp_path / "r"
    if how == "live process here":
        write_claim(run, os.getpid())
    elif how == "fresh heartbeat elsewhere":
        write_claim(run, 1, host="another-node", age=run_locks.STALE_AFTER - 60)
    elif how == "other job":
        monkeypatch.setenv("SLURM_JOB_ID", "4243")
        write_claim(run, 1, host="another-node", job_id="4242")
    else:
        run.mkdir()
        (run / CLAIM_FILE).write_bytes(b"\x00garbage")
    before = (run / CLAIM_FILE).read_bytes()
    with pytest.raises(RunClaimedError):
        acquire(run)
    assert (run / CLAIM_FILE).read_bytes() == before


def test_a_stale_claim_is_taken_over_once(tmp_path):
    run = tmp_path / "r"
    write_claim(run, dead_pid())
    first = acquire(run)
    write_claim(run, dead_pid())  # a second stale generation can be taken over again ...
    (run / CLAIM_FILE).write_text((run / CLAIM_FILE).read_text().replace('"token": "t', '"token": "u'))
    second = acquire(run)
    assert first.token != second.token
    stale = json.loads((run / CLAIM_FILE).read_text())
    stale.update(pid=dead_pid())
    (run / CLAIM_FILE).write_text(json.dumps(stale))
    os.close(os.open(run / f".takeover-{stale['token']}", os.O_CREAT | os.O_EXCL))  # ... but each only once
    with pytest.raises(RunClaimedError, match="another job is taking over"):
        acquire(run)


def test_heartbeat_keeps_a_claim_fresh(tmp_path):
    run = tmp_path / "r"
    with claimed(run, heartbeat_seconds=0.05):
        old = time.time() - 100
        os.utime(run / CLAIM_FILE, (old, old))
        time.sleep(0.3)
        assert time.time() - (run / CLAIM_FILE).stat().st_mtime < 5
    assert not (run / CLAIM_FILE).exists()


def small(**kw) -> TrainConfig:
    base = dict(dataset="fashion-mnist", arch="mlp", width=16, n_majority=40, K_A=5, R=4, epochs=3, wd=5e-4,
                bias=False, checkpoint_every=1, preset="test")
    return TrainConfig(**{**base, **kw})


def test_second_train_on_a_live_run_says_so(tmp_path, capsys):
    """A live run is reported as live, never with advice to delete its folder."""
    cfg = preset_configs("cpu-smoke", R=[5], epochs=[2])[0]
    path = run_dir(tmp_path, cfg.to_dict())
    write_claim(path, os.getpid())  # this very process: alive
    with pytest.raises(RunClaimedError) as info:
        run_experiment(cfg, tmp_path, progress=False, resume=True)
    assert "do not delete" in str(info.value) and "being trained now" in str(info.value)
    for extra in ([], ["--resume"]):
        assert main(["train", "--preset", "cpu-smoke", "--R", "5", "--epochs", "2", "--out", str(tmp_path),
                     "--no-progress", *extra]) == 0
        err = capsys.readouterr().err
        assert f"note: run {path} is being trained now by host" in err and "delete the folder" not in err
    assert not (path / "metrics.json").exists()


# ---- submitit local executor (item 5) ------------------------------------------------------------
def interruptible(**kw) -> dict:
    """cpu-smoke-sized runs long enough (tens of epochs) to be signalled in the middle."""
    return dict(n_majority=[400], epochs=[24], **kw)


@pytest.mark.slow  # ~1-2 minutes: four process starts and a requeue on 2 loaded cores
def test_submitit_local_three_runs_resubmit_and_preempt(tmp_path):
    """Three runs as separate submitit processes; one is sent SIGUSR2 (what SLURM sends before a time
    limit or preemption) mid-run, checkpoints and requeues, and ends with the weights of an
    uninterrupted run; re-submitting trains nothing."""
    pytest.importorskip("submitit")
    out = tmp_path / "store"
    overrides = interruptible(R=[1, 5, 10])
    configs = preset_configs("cpu-smoke", **overrides)
    target = run_dir(out, configs[2].to_dict())
    outcomes: list = []
    signalled: list[int] = []

    def preempt():  # SIGUSR2 to the job's process once it has a checkpoint and epochs still to go
        deadline = time.time() + 240
        while time.time() < deadline and not signalled:
            try:
                log = (target / "log.jsonl").read_text().splitlines()
                claim = read_claim(target)
            except OSError:
                log, claim = [], None
            if claim is not None and 4 <= len(log) <= 16:
                os.kill(claim.pid, signal.SIGUSR2)
                signalled.append(len(log))
            time.sleep(0.02)
    watcher = threading.Thread(target=preempt)
    watcher.start()
    runs = run_preset("cpu-smoke", out=out, progress=False, workers=3, executor="local", on_done=outcomes.append,
                      **overrides)
    watcher.join()
    assert signalled, "the run finished before it could be signalled"
    assert sorted(o.status for o in outcomes) == [TRAINED] * 3 and all(r.finished for r in runs)
    jobs = lambda: [p for p in (out / ".submitit").iterdir() if p.name.isdigit()]  # noqa: E731
    assert len(jobs()) == 3  # three jobs, three processes
    preempted = load_run(target)
    assert preempted.metrics["resumed_from_epoch"] > 0  # it really was requeued and resumed
    err = "\n".join(p.read_text() for p in (out / ".submitit").rglob("*_log.*"))
    assert "Requeued job" in err
    # The uninterrupted run, by the same job body in this process (same torch thread count, as float
    # reductions depend on it): bit-identical weights.
    threads = torch.get_num_threads()
    try:
        job = RunJob(str(tmp_path / "whole"), lpm=False, threads=PRESETS["cpu-smoke"].threads)
        whole = load_run(job(configs[2]).path)
    finally:
        torch.set_num_threads(threads)
    a = torch.load(whole.path / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(preempted.path / "checkpoint.pt", weights_only=True)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # Re-submitting the grid trains nothing new (and submits no job).
    again: list = []
    run_preset("cpu-smoke", out=out, progress=False, workers=3, executor="local", on_done=again.append, **overrides)
    assert [o.status for o in again] == [FINISHED_BEFORE] * 3
    assert len(jobs()) == 3
    walls = [r.metrics["wall_seconds"] for r in runs]
    assert [load_run(r.path).metrics["wall_seconds"] for r in runs] == walls


@pytest.mark.slow  # ~1 minute: four job processes on 2 loaded cores
def test_two_concurrent_submissions_train_each_run_once(tmp_path):
    pytest.importorskip("submitit")
    out = tmp_path / "store"
    outcomes: list = []
    lock = threading.Lock()

    def submission():
        got: list = []
        run_preset("cpu-smoke", out=out, progress=False, workers=2, executor="local", on_done=got.append,
                   epochs=[12])
        with lock:
            outcomes.extend(got)
    threads = [threading.Thread(target=submission) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trained = [o.path for o in outcomes if o.status == TRAINED]
    assert len(outcomes) == 4 and sorted(trained) == sorted(set(trained)) and len(trained) == 2
    assert {o.status for o in outcomes} <= {TRAINED, FINISHED_BEFORE, RUNNING_ELSEWHERE}


def test_cli_train_with_submitit_local_then_status(tmp_path, capsys):
    """The documented commands: `train --executor local` (a submitit subprocess), then `status`."""
    pytest.importorskip("submitit")
    assert main(["train", "--preset", "cpu-smoke", "--R", "5", "--epochs", "2", "--executor", "local",
                 "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("5\t5\t")
    assert [p for p in (tmp_path / ".submitit").iterdir() if p.name.isdigit()]  # it ran as a submitit job
    assert main(["status", "--out", str(tmp_path)]) == 0
    assert "preset cpu-smoke: 1 runs: 1 finished" in capsys.readouterr().out


def test_the_pool_runs_the_same_job_body(tmp_path, fashion_data):
    """RunJob is what every executor runs: called here directly, it trains, then finds the run finished."""
    job = RunJob(str(tmp_path), lpm=False)
    cfg = small(epochs=1)
    assert job(cfg).status == TRAINED and job(cfg).status == FINISHED_BEFORE
    resumed = job.checkpoint(cfg)  # submitit's protocol: the requeued job resumes
    assert resumed.function.resume is True and resumed.args == (cfg,)


# ---- SLURM parameters -----------------------------------------------------------------------------
def test_slurm_options_reach_sbatch(tmp_path):
    submitit = pytest.importorskip("submitit")
    from submitit.slurm.slurm import _make_sbatch_string
    opts = SlurmOptions(partition="gpu", time=600, gpus_per_task=1, cpus_per_task=8, mem="32G", account="lab",
                        extra={"qos": "high"}, array_parallelism=8)
    params = opts.parameters()
    assert set(params) <= submitit.SlurmExecutor._valid_parameters()  # submitit accepts every key
    text = _make_sbatch_string(command="python job.py", folder=tmp_path, map_count=70, **params)
    for line in ("#SBATCH --partition=gpu", "#SBATCH --time=600", "#SBATCH --gpus-per-task=1",
                 "#SBATCH --cpus-per-task=8", "#SBATCH --mem=32G", "#SBATCH --account=lab", "#SBATCH --qos=high",
                 "#SBATCH --array=0-69%8", "#SBATCH --signal=USR2@120"):
        assert line in text, line
    with pytest.raises(Exception, match="--slurm-time must be an integer >= 1"):
        SlurmOptions(time=0).parameters()


def test_slurm_without_slurm_is_one_line(tmp_path, capsys):
    pytest.importorskip("submitit")
    if subprocess.run(["which", "srun"], capture_output=True).returncode == 0:
        pytest.skip("this machine has SLURM")
    assert main(["train", "--preset", "cpu-smoke", "--executor", "slurm", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no SLURM on this machine" in err[0]


def test_cli_slurm_submits_only_unfinished_runs(tmp_path, monkeypatch, capsys):
    """--executor slurm with a stand-in for sbatch: one job per unfinished run, none for finished ones."""
    import experiments.presets as presets

    class FakeJob:
        def __init__(self, i):
            self.job_id = str(1000 + i)

    class FakeExecutor:
        submitted: list = []

        def submit(self, fn, cfg):
            self.submitted.append((fn, cfg))
            return FakeJob(len(self.submitted))
    fake = FakeExecutor()
    monkeypatch.setattr(presets, "submitit_executor", lambda kind, out, slurm=None: fake)
    first = preset_configs("cpu-smoke")[0]
    done = run_dir(tmp_path, first.to_dict())
    done.mkdir(parents=True)
    (done / "metrics.json").write_text("{}")
    assert main(["train", "--preset", "cpu-smoke", "--executor", "slurm", "--out", str(tmp_path),
                 "--slurm-partition", "gpu"]) == 0
    out = capsys.readouterr().out
    assert out.count("submitted\t") == 1 and "1 jobs submitted" in out
    fn, cfg = fake.submitted[0]
    assert isinstance(fn, RunJob) and fn.resume and cfg != first


def test_submitit_missing_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "submitit", None)
    assert main(["train", "--preset", "cpu-smoke", "--executor", "local", "--out", str(tmp_path),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'lpm-verify[cluster]'" in err[0]


# ---- status and dry-run ---------------------------------------------------------------------------
def _fake_run(root: Path, cfg: TrainConfig, metrics: dict | None = None, log_epochs: int = 0) -> Path:
    path = run_dir(root, cfg.to_dict())
    path.mkdir(parents=True)
    config = {k: ("inf" if v == float("inf") else v) for k, v in cfg.to_dict().items()}
    (path / "config.json").write_text(json.dumps(config))
    lines = [json.dumps({"epoch": e + 1, "loss": 1.0}) + "\n" for e in range(log_epochs)]
    (path / "log.jsonl").write_text("".join(lines))
    if metrics is not None:
        (path / "metrics.json").write_text(json.dumps(metrics))
    return path


def test_status_reports_every_state(tmp_path, capsys):
    from experiments.store import record_submission
    configs = preset_configs("cpu-smoke", R=[1, 2, 4, 5, 10], seed=[0, 1])
    record_submission(tmp_path, "cpu-smoke", [run_dir(tmp_path, c.to_dict()) for c in configs])
    _fake_run(tmp_path, configs[0], {"cos_minority": 0.1, "train_acc": 1.0, "test_acc": 0.8})
    running = _fake_run(tmp_path, configs[1], log_epochs=3)
    write_claim(running, os.getpid())
    failed = _fake_run(tmp_path, configs[2], log_epochs=2)
    (failed / "failed.json").write_text(json.dumps({"error": "RuntimeError: out of memory", "traceback": ["x"]}))
    interrupted = _fake_run(tmp_path, configs[3], log_epochs=4)
    (interrupted / "checkpoint.pt").write_bytes(b"")
    write_claim(interrupted, dead_pid())
    invalid = _fake_run(tmp_path, configs[4], {})
    assert main(["status", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "preset cpu-smoke: 10 runs: 1 finished, 1 running, 1 failed, 1 interrupted, 1 invalid, 5 pending" in out
    assert f"running     {running.name}  epoch 3/6 on host {socket.gethostname()}, pid {os.getpid()}" in out
    assert f"failed      {failed.name}  RuntimeError: out of memory at epoch 2" in out
    assert '| {"epoch": 2, "loss": 1.0}' in out
    assert f"interrupted {interrupted.name}  at epoch 4/6 (stale claim: its process" in out
    assert f"invalid     {invalid.name}" in out and "metrics.json: empty object" in out


def test_status_and_train_import_no_torch(tmp_path):
    """`status` reads the store without torch; `train` without torch says how to install it, in one line."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "from lpm_verify.commands import status, train\n"
            "import argparse\n"
            f"rc = status.run(argparse.Namespace(out={str(tmp_path)!r}, lines=3))\n"
            "assert rc == 0 and 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
            "from lpm_verify.cli import main\n"
            f"sys.exit(main(['train', '--preset', 'cpu-smoke', '--out', {str(tmp_path)!r}]))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "`train` needs the Python package 'torch'" in lines[0] and "pip install" in lines[0]


def test_dry_run_estimates_device_hours(tmp_path, capsys):
    from experiments.throughput import images_per_run, load_table
    assert main(["train", "--preset", "paper", "--dry-run", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    configs = preset_configs("paper")
    table = load_table()
    expected = sum(images_per_run(c) / table["cuda"][c.arch]["images_per_second"] for c in configs) / 3600
    total = f"{len(configs)} of {len(configs)} runs to train (running ones included): {expected:.2f} device-hours"
    assert out[-1].startswith(total)
    assert all(f"({table['cuda'][a]['source']} throughput)" in "\n".join(out) for a in ("vgg11", "vgg13", "resnet18"))
    # A finished run is not counted (negative control: the estimate depends on the store).
    _fake_run(tmp_path, configs[0], {"cos_minority": 0.1, "train_acc": 1.0, "test_acc": 0.8})
    assert main(["train", "--preset", "paper", "--dry-run", "--out", str(tmp_path)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith(f"{len(configs) - 1} of {len(configs)} runs to train") and not last.startswith(out[-1][:30])
    assert not any(p.name.endswith(".json") for p in tmp_path.iterdir())  # a dry run writes nothing


def test_gpu_check_smoke_runs_on_cpu(tmp_path):
    """benchmarks/gpu_check.py's logic (train, loss falls, analysis, loop comparison, JSON) on a CPU."""
    out = tmp_path / "gpu_check.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--smoke",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["checks"] == {"loss_falls": True, "analysis_ran": True, "under_8_minutes": True}
    (train,) = report["training"]
    assert train["losses"][-1] < train["losses"][0] and train["analysis_ran"]
    (loops,) = report["loops"]
    assert loops["trainer_images_per_second"] > 0 and loops["compute_limit_images_per_second"] > 0
    assert loops["authors_images_per_second"] > 0 and report["throughput_table"]["cnn"]["source"] == "measured"
    # Without CUDA the default (GPU) mode refuses in one line instead of silently using the CPU.
    if not torch.cuda.is_available():
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--out", str(out)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and "CUDA is not available" in proc.stderr
