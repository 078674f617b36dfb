"""Inputs a careless or hostile user can hand the suite: content-keyed caches, a store checked for meaning
and identity, a bad checkpoint at the command line's edge, and named failures instead of internal errors."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from experiments.claims_data import inputs_digest
from lpm_verify.check_inputs import CheckInputs


def _same_size_same_mtime(path: Path, data: bytes) -> None:
    """Replace ``path``'s content by ``data`` (same length) and give it back its old modification time."""
    st = path.stat()
    assert len(data) == st.st_size
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_size == st.st_size


def test_a_checkpoint_replaced_by_one_of_the_same_size_and_mtime_changes_the_key(tmp_path):
    ckpt = tmp_path / "imagenet.pt"
    ckpt.write_bytes(b"A" * 4096)
    before = inputs_digest(CheckInputs(imagenet_checkpoint=ckpt))
    _same_size_same_mtime(ckpt, b"B" * 4096)
    assert inputs_digest(CheckInputs(imagenet_checkpoint=ckpt)) != before


def test_a_run_checkpoint_replaced_by_one_of_the_same_size_and_mtime_changes_the_key(tmp_path):
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "checkpoint.pt").write_bytes(b"A" * 100)
    before = inputs_digest(CheckInputs(runs=tmp_path / "runs"))
    _same_size_same_mtime(run / "checkpoint.pt", b"C" * 100)
    assert inputs_digest(CheckInputs(runs=tmp_path / "runs")) != before


def test_the_content_key_does_not_depend_on_where_the_checkpoint_lives(tmp_path):
    """Negative control: the key is the content's, so a copy elsewhere gives the same key."""
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    assert inputs_digest(CheckInputs(imagenet_checkpoint=a)) == inputs_digest(CheckInputs(imagenet_checkpoint=b))
