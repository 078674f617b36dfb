"""The CLI without torch (torch is an optional dependency): every subcommand but ``train`` works, ``train`` says in one
line how to install torch, and ``solve``/``threshold`` import none of torch, matplotlib, cvxpy."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Runs the CLI in a fresh interpreter where ``import torch`` fails as if torch were not installed
#: (a meta-path finder raising ModuleNotFoundError; ``sys.modules['torch'] = None`` would instead
#: break scipy, which looks torch up in ``sys.modules``).
NO_TORCH = """
import sys
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoTorch())
from lpm_verify.cli import main
sys.exit(main(sys.argv[1:]))
"""


def cli_without_torch(*argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NO_TORCH, *argv], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def test_help_solve_threshold_verify_work_without_torch(tmp_path):
    proc = cli_without_torch("--help")
    assert proc.returncode == 0 and "train" in proc.stdout, proc.stderr
    proc = cli_without_torch("solve", "--K", "6", "--KA", "3", "--R", "10", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "optimal"
    proc = cli_without_torch("threshold", "--K", "6", "--KA", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["certified"] is True
    out = tmp_path / "records.json"
    proc = cli_without_torch("verify", "--only", "Definition 1", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) and "Traceback" not in proc.stderr


def test_train_without_torch_says_how_to_install_it():
    proc = cli_without_torch("train", "--preset", "cpu-smoke")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("error: `train` needs the Python package 'torch'") and "pip install torch" in lines[0]
    helped = cli_without_torch("train", "--help")  # the options can be read before torch is installed
    assert helped.returncode == 0 and "--preset" in helped.stdout and "Traceback" not in helped.stderr


def test_solve_and_threshold_import_no_heavy_module():
    code = ("import sys; from lpm_verify.cli import main; assert main(sys.argv[1:]) == 0; "
            "heavy = sorted(m for m in ('torch', 'matplotlib', 'cvxpy', 'experiments') if m in sys.modules); "
            "print('HEAVY', heavy)")
    for argv in (["solve", "--K", "6", "--KA", "3"], ["threshold", "--K", "6", "--KA", "3"]):
        proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "HEAVY []" in proc.stdout, proc.stdout
