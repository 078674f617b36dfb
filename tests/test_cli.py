"""Command-line behaviour shared by every subcommand: bad input is one line and exit status 2."""
from __future__ import annotations

import json
import subprocess
import sys

from lpm_verify.cli import main


def test_verify_writes_json_records(tmp_path, capsys):
    out = tmp_path / "out.json"
    rc = main(["verify", "--only", "Definition 1", "--json", str(out)])
    records = json.loads(out.read_text())["records"]
    assert rc in (0, 1)
    assert records and all(r["result"] == "Definition 1" for r in records)
    assert rc == (1 if any(r["verdict"] == "fail" for r in records) else 0)
    assert "verdict" in capsys.readouterr().out


def test_unknown_result_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "lpm_verify", "verify", "--only", "Theorem 99"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --only must name a result")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
