"""Overrides of ``train`` apply to the sub-grids of a preset where they make sense; the others are left out
and named, and an override no sub-grid accepts is one line naming the sub-grid."""
from __future__ import annotations

import pytest

from experiments.presets import BINARY_CLASSES, inapplicable_grids, preset_configs
from lpm_verify.cli import main
from lpm_verify.errors import LPMInputError


def test_an_override_skips_the_sub_grid_it_cannot_apply_to():
    configs = preset_configs("cpu-report", K_A=[7], R=[1, 100])
    assert configs and {c.K_A for c in configs} == {7} and {c.R for c in configs} == {1, 100}
    assert all(c.class_order != BINARY_CLASSES for c in configs)
    lines = inapplicable_grids("cpu-report", K_A=[7], R=[1, 100])
    # the two-class grid cannot take K_A = 7; Fig. 5's fixed-n_B grid (n_A = n_B = 1) cannot take R = 100
    binary = [ln for ln in lines if "(K_A in [1]" in ln]
    assert len(binary) == 1 and "K_A must be an integer in [1, 1]" in binary[0]
    assert any("R must be <= n_A = 1" in ln for ln in lines) and len(lines) == 2
    assert inapplicable_grids("cpu-report", R=[1]) == []  # control: R = 1 applies to every sub-grid


def test_an_override_no_sub_grid_accepts_is_refused_with_the_grid():
    with pytest.raises(LPMInputError, match=r"K_A must be an integer in \[1, 9\]; got 12 \(in sub-grid 1 of preset"):
        preset_configs("cpu-smoke", K_A=[12])


def test_train_dry_run_notes_the_left_out_grid(tmp_path, capsys):
    assert main(["train", "--preset", "cpu-report", "--KA", "7", "--R", "1,100", "--dry-run",
                 "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "note: the overrides do not apply to sub-grid 4 of preset cpu-report (K_A in [1]" in captured.err
    assert "runs to train" in captured.out
