"""Workers die with their parent: SIGTERM (or SIGINT) to ``train --workers 2`` stops the pool's workers,
releases their runs' claims and leaves the runs resumable.  A cpu-smoke grid with a huge epoch count, killed
within seconds of starting (bounded in time: about 30 s)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments.run_locks import CLAIM_FILE

ROOT = Path(__file__).resolve().parents[1]


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie nobody reaped has finished)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def claims(store: Path) -> list[Path]:
    return sorted(store.glob(f"*/{CLAIM_FILE}"))


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_pool_stops_its_workers_and_releases_their_claims(tmp_path, sig):
    store = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    parent = subprocess.Popen([sys.executable, "-m", "lpm_verify", "train", "--preset", "cpu-smoke", "--workers", "2",
                               "--epochs", "100000", "--no-progress", "--out", str(store)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers: list[int] = []
    try:
        # both workers hold a claim and have written a checkpoint (cpu-smoke: every 2 epochs)
        assert wait_for(lambda: len(claims(store)) == 2 and len(list(store.glob("*/checkpoint.pt"))) == 2, 120), \
            parent.stderr.read() if parent.poll() is not None else "no claims"
        workers += [json.loads(c.read_text())["pid"] for c in claims(store)]
        assert parent.pid not in workers and all(running(pid) for pid in workers)
        parent.send_signal(sig)
        _, err = parent.communicate(timeout=60)
        assert parent.returncode == 130 and "interrupted" in err, err
        assert wait_for(lambda: not any(running(pid) for pid in workers), 10), "a worker outlived its parent"
        assert claims(store) == []  # released, not left behind
        assert not list(store.glob("*/failed.json"))  # interrupted, not failed
    finally:  # whatever failed above, no process of this test outlives it
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in workers:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
    status = subprocess.run([sys.executable, "-m", "lpm_verify", "status", "--out", str(store)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert status.stdout.count("continue with train --resume") == 2, status.stdout
