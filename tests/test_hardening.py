"""Inputs a careless or hostile user can hand the suite: content-keyed caches, a store checked for meaning
and identity, a bad checkpoint at the command line's edge, and named failures instead of internal errors."""
from __future__ import annotations

import errno
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


# -- a store validated for meaning ---------------------------------------------------------------
from experiments.store import METRIC_BOUNDS, METRIC_NUMBERS, scan_runs  # noqa: E402
from tests.test_store import CONFIG, METRICS, make_run  # noqa: E402

OUT_OF_RANGE = {
    "cosine 5": ({"metrics": {**METRICS, "cos_minority": 5.0}}, "'cos_minority' must be in [-1"),
    "accuracy 7": ({"metrics": {**METRICS, "train_acc": 7.0}}, "'train_acc' must be in [0, 1"),
    "metric NaN": ({"metrics": '{"cos_minority": NaN, "train_acc": 0.9, "test_acc": 0.5}'}, "'cos_minority' is NaN"),
    "metric inf": ({"metrics": {**METRICS, "test_acc": "inf"}}, "'test_acc' must be finite"),
    "metric Infinity": ({"metrics": '{"cos_minority": 0.1, "train_acc": Infinity, "test_acc": 0.5}'},
                        "'train_acc' must be finite"),
    "exposure negative": ({"metrics": {**METRICS, "wd_exposure": -3.0}}, "'wd_exposure' must be in [0"),
    "R NaN": ({"config": {**CONFIG, "R": float("nan")}}, "'R' is NaN"),
    "R -10": ({"config": {**CONFIG, "R": -10}}, "'R' must be in [1, inf]"),
    "R 0.5": ({"config": {**CONFIG, "R": 0.5}}, "'R' must be in [1, inf]"),
    "K_A -7": ({"config": {**CONFIG, "K_A": -7}}, "'K_A' must be in [1"),
    "K_A huge": ({"config": {**CONFIG, "K_A": 10 ** 300}}, "'K_A' must be in [1, 100000]"),
    "wd -1": ({"config": {**CONFIG, "wd": -1}}, "'wd' must be in [0"),
    "wd inf": ({"config": {**CONFIG, "wd": 1e400}}, "'wd' must be finite"),
    "lr 0": ({"config": {**CONFIG, "lr": 0}}, "'lr' must be > 0"),
    "seed negative": ({"config": {**CONFIG, "seed": -1}}, "'seed' must be in [0"),
    "epochs 0": ({"config": {**CONFIG, "epochs": 0}}, "'epochs' must be in [1"),
    "probe cosine 3": ({"metrics": {**METRICS, "late_probes": [{"epoch": 1, "cos_minority": 3.0, "W_norm": 1.0,
                                                                "mean_h_norm": 1.0}]}}, "'cos_minority' must be in"),
    "log loss negative": ({"log": '{"epoch": 1, "loss": -1.0}\n'}, "line 1: 'loss' must be in [0"),
    "nested JSON": ({"metrics": "[" * 100000 + "]" * 100000}, "nested too deeply"),
}


@pytest.mark.parametrize("case", list(OUT_OF_RANGE))
def test_a_run_outside_the_meaningful_range_is_skipped_and_named(tmp_path, case):
    kwargs, reason = OUT_OF_RANGE[case]
    make_run(tmp_path, "good")
    make_run(tmp_path, "bad", **kwargs)
    scan = scan_runs(tmp_path, finished_only=False)
    assert [r.path.name for r in scan.runs] == ["good"]
    assert len(scan.skipped) == 1 and reason in scan.skipped[0][1], scan.skipped


def test_values_at_the_edges_of_their_ranges_load(tmp_path):
    """Negative control: the boundaries themselves (and nulls, R = inf, a diverged run's NaN loss) are data."""
    make_run(tmp_path, "edge", config={**CONFIG, "R": 1, "wd": 0, "seed": 2 ** 63 - 1},
             metrics={**METRICS, "cos_minority": -1.0, "train_acc": 1.0, "test_acc": 0.0, "cos_all": None,
                      "late_drift_W_norm": -0.5},
             log='{"epoch": 1, "loss": NaN}\n')
    scan = scan_runs(tmp_path)
    assert scan.skipped == [] and [r.path.name for r in scan.runs] == ["edge"]


def test_every_stored_metric_has_a_range():
    assert set(METRIC_NUMBERS) <= set(METRIC_BOUNDS)


# -- one run, one seed ---------------------------------------------------------------------------
import shutil  # noqa: E402

from experiments.claims_data import load_groups, regime_split  # noqa: E402
from experiments.store import run_dir  # noqa: E402
from experiments.store_status import format_status, store_status  # noqa: E402

REPORT_CONFIG = {**CONFIG, "preset": "cpu-report", "R": 10.0, "n_minority": 10}


def _store_with_a_copied_run(root: Path) -> Path:
    original = run_dir(root, REPORT_CONFIG)
    make_run(root, original.name, config=REPORT_CONFIG, metrics={**METRICS, "cos_minority": 0.3})
    for seed in (1, 2):
        make_run(root, f"other{seed}", config={**REPORT_CONFIG, "seed": seed}, metrics={**METRICS, "cos_minority": 0.3})
    shutil.copytree(original, root / "R10 (copy)")
    return original


def test_a_copied_run_folder_is_one_run_named_as_a_duplicate(tmp_path):
    original = _store_with_a_copied_run(tmp_path)
    scan = scan_runs(tmp_path)
    assert sorted(r.path.name for r in scan.runs) == sorted([original.name, "other1", "other2"])
    assert scan.duplicates == [(tmp_path / "R10 (copy)", original)]  # the copy, not the canonical folder
    groups = load_groups(tmp_path)
    assert len(groups) == 1 and sorted(groups[0].seeds) == [0, 1, 2]  # not 0, 0, 1, 2
    assert "R10 (copy)" in regime_split(groups, "Figure 4/minority-collapse").summary()["duplicate_run_folders"][0]
    statuses, skipped = store_status(tmp_path)
    text = format_status(tmp_path, statuses, skipped)
    assert "duplicate   R10 (copy)" in text and "counted once" in text


def test_runs_differing_only_in_their_seed_are_not_duplicates(tmp_path):
    """Negative control: three seeds of one configuration stay three runs."""
    for seed in (0, 1, 2):
        make_run(tmp_path, f"s{seed}", config={**REPORT_CONFIG, "seed": seed})
    scan = scan_runs(tmp_path)
    assert len(scan.runs) == 3 and scan.duplicates == []


# -- "internal error" only for bugs --------------------------------------------------------------
import signal  # noqa: E402
import socket  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

from lpm_verify.cli import main  # noqa: E402

HOST = socket.gethostname()
STORE_FILES = {
    "claim started NaN": ("claim.json", '{"token": "t", "host": "%s", "pid": 1, "job_id": null, "started": NaN}'
                          % HOST),
    "claim started 1e300": ("claim.json", '{"token": "t", "host": "%s", "pid": 1, "job_id": null, "started": 1e300}'
                            % HOST),
    "claim pid 10**30": ("claim.json", '{"token": "t", "host": "%s", "pid": %d, "job_id": null, "started": 1}'
                         % (HOST, 10 ** 30)),
    "claim nested": ("claim.json", "[" * 100000),
    "failed traceback an int": ("failed.json", '{"error": "boom", "traceback": 5}'),
    "failed error a list": ("failed.json", '{"error": ["boom"], "traceback": []}'),
    "failed nested": ("failed.json", "[" * 100000 + "]" * 100000),
    "failed not UTF-8": ("failed.json", b'{"error": "\xff"}'),
    "config nested": ("config.json", '{"a": ' * 100000),
}


def _status(root: Path, capsys) -> tuple[int, str, str]:
    rc = main(["status", "--out", str(root)])
    got = capsys.readouterr()
    return rc, got.out, got.err


@pytest.mark.parametrize("case", list(STORE_FILES))
def test_a_hostile_store_file_is_named_by_status_not_an_internal_error(tmp_path, capsys, case):
    name, content = STORE_FILES[case]
    run = make_run(tmp_path, "r", metrics=None)
    (run / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    rc, out, err = _status(tmp_path, capsys)
    assert rc == 0 and "internal error" not in err and "Traceback" not in err, err
    assert " r " in out  # the run is listed, with what could be read
    if name == "claim.json":
        assert "its claim.json is unreadable" in out


def test_an_unreadable_failure_record_is_named_with_its_reason(tmp_path, capsys):
    run = make_run(tmp_path, "r", metrics=None)
    (run / "failed.json").write_text('{"error": "boom", "traceback": 5}')
    assert "'traceback' must be a list of text lines" in _status(tmp_path, capsys)[1]


def test_a_non_utf8_run_folder_name_is_listed_and_written(tmp_path, capsys):
    from lpm_verify.io import write_text_atomic
    odd = os.fsdecode(b"run-\xff")
    make_run(tmp_path, odd, metrics=None)
    rc, out, err = _status(tmp_path, capsys)
    assert rc == 0 and "run-" in out and not err
    write_text_atomic(tmp_path / "index.md", f"| {odd} |")  # a report names the folder: written escaped
    assert (tmp_path / "index.md").read_text(encoding="utf-8") == "| run-\\udcff |"


def test_a_full_disk_while_writing_verify_json_is_one_named_line(tmp_path, monkeypatch, capsys):
    import lpm_verify.commands.verify as verify_cmd

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(verify_cmd, "write_json_atomic", full)
    rc = main(["verify", "--only", "Figure 9", "--json", str(tmp_path / "v.json")])
    err = capsys.readouterr().err
    assert rc == 1 and "no space left on the device" in err and "internal error" not in err
    assert err.strip().splitlines()[-1].startswith("error: ")


def _die(_: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_pool_worker_killed_by_a_signal_is_a_named_failure(monkeypatch, capsys):
    import lpm_verify.commands.verify as verify_cmd

    def killed(checks, inputs, jobs, progress):
        with ProcessPoolExecutor(1) as pool:
            return list(pool.map(_die, [0]))  # the worker dies by SIGKILL: BrokenProcessPool
    monkeypatch.setattr(verify_cmd, "run_checks", killed)
    rc = main(["verify", "--only", "Figure 9"])
    err = capsys.readouterr().err
    assert rc == 1 and "worker process died" in err and "internal error" not in err, err


# -- bad input is not a finding ------------------------------------------------------------------
torch = pytest.importorskip("torch")


def _ckpt(tmp_path: Path, state) -> Path:
    path = tmp_path / "imagenet.pt"
    torch.save(state, path)
    return path


BAD_CHECKPOINTS = {
    "garbage bytes": (lambda p: (p / "imagenet.pt").write_bytes(b"\x00not a checkpoint" * 10) and p / "imagenet.pt",
                      "must be a torch state dict"),
    "empty file": (lambda p: (p / "imagenet.pt").write_bytes(b"") or p / "imagenet.pt", "must be a torch state dict"),
    "a list": (lambda p: _ckpt(p, [1, 2, 3]), "must be a non-empty state dict"),
    "no 2-D weight": (lambda p: _ckpt(p, {"fc.bias": torch.zeros(3)}), "2-D '*.weight'"),
    "NaN classifier": (lambda p: _ckpt(p, {"fc.weight": torch.full((4, 3), float("nan"))}), "finite numbers"),
    "one class": (lambda p: _ckpt(p, {"fc.weight": torch.ones(1, 3)}), "K >= 2"),
    "zero row": (lambda p: _ckpt(p, {"fc.weight": torch.tensor([[1.0, 0.0], [0.0, 0.0]])}), "no zero row"),
    "complex": (lambda p: _ckpt(p, {"fc.weight": torch.ones(3, 2, dtype=torch.complex64)}), "real floating-point"),
    "integer": (lambda p: _ckpt(p, {"fc.weight": torch.ones(3, 2, dtype=torch.int64)}), "real floating-point"),
}


@pytest.mark.parametrize("case", list(BAD_CHECKPOINTS))
def test_a_bad_imagenet_checkpoint_is_bad_input_exit_2(tmp_path, capsys, case):
    make, reason = BAD_CHECKPOINTS[case]
    path = make(tmp_path)
    rc = main(["verify", "--only", "Figure 9", "--imagenet-checkpoint", str(path)])
    err = capsys.readouterr().err
    assert rc == 2 and reason in err and err.startswith("error: --imagenet-checkpoint"), err
    assert len(err.strip().splitlines()) == 1 and "Figure 9" not in err


def test_an_unreadable_checkpoint_is_bad_input(tmp_path, capsys, monkeypatch):
    path = _ckpt(tmp_path, {"fc.weight": torch.eye(3)})
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads any file: the refusal the OS would give, injected
        def refused(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        monkeypatch.setattr(torch, "load", refused)
    assert main(["verify", "--only", "Figure 9", "--imagenet-checkpoint", str(path)]) == 2
    assert "must be a readable file" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["missing", "folder", "garbage"])
def test_the_flag_and_the_environment_variable_give_the_same_answer(tmp_path, monkeypatch, capsys, kind):
    path = {"missing": tmp_path / "absent.pt", "folder": tmp_path, "garbage": tmp_path / "g.pt"}[kind]
    if kind == "garbage":
        path.write_bytes(b"junk")
    assert main(["verify", "--only", "Figure 9", "--imagenet-checkpoint", str(path)]) == 2
    by_flag = capsys.readouterr().err
    monkeypatch.setenv("LPM_VERIFY_IMAGENET_CHECKPOINT", str(path))
    assert main(["verify", "--only", "Figure 9"]) == 2
    assert capsys.readouterr().err == by_flag and by_flag.startswith("error: --imagenet-checkpoint")


def test_a_valid_checkpoint_reaches_the_checks(tmp_path, capsys):
    """Negative control: a well-formed classifier is no input error (the checks decide)."""
    W = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    path = _ckpt(tmp_path, {"fc.weight": W})
    assert main(["verify", "--only", "Figure 9", "--imagenet-checkpoint", str(path)]) in (0, 1)
    assert "--imagenet-checkpoint" not in capsys.readouterr().err


def test_report_refuses_a_bad_checkpoint_before_any_work(tmp_path, capsys):
    path = _ckpt(tmp_path, {"fc.weight": torch.full((4, 3), float("inf"))})
    rc = main(["report", "--out", str(tmp_path / "r"), "--runs", str(tmp_path / "none"), "--no-train",
               "--imagenet-checkpoint", str(path)])
    assert rc == 2 and "finite numbers" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_the_report_recomputes_fig9_when_the_checkpoint_is_replaced_by_one_of_the_same_size_and_mtime(tmp_path):
    from lpm_verify.report.cache import Cache
    from lpm_verify.report.gather import gather_checks
    ckpt = tmp_path / "imagenet.pt"
    a = tmp_path / "other" / "imagenet.pt"  # the same stem: torch names the archive's root folder after it
    a.parent.mkdir()
    torch.save({"fc.weight": torch.randn(6, 4, generator=torch.Generator().manual_seed(0))}, a)
    torch.save({"fc.weight": torch.randn(6, 4, generator=torch.Generator().manual_seed(1))}, ckpt)
    cache = Cache.open(tmp_path / "cache")
    inputs = CheckInputs(imagenet_checkpoint=ckpt)
    first = gather_checks(cache, inputs=inputs, only=["Figure 9"])
    assert first.computed and gather_checks(cache, inputs=inputs, only=["Figure 9"]).computed == []  # cached
    _same_size_same_mtime(ckpt, a.read_bytes())
    again = gather_checks(cache, inputs=inputs, only=["Figure 9"])
    assert sorted(again.computed) == sorted(first.computed)
    observed = {r.id: r.observed for r in again.records}
    assert observed != {r.id: r.observed for r in first.records}


def test_the_report_names_duplicate_run_folders(tmp_path):
    from lpm_verify.report.networks import read_store
    _store_with_a_copied_run(tmp_path)
    runs, skipped = read_store(tmp_path)
    assert len(runs) == 3 and [(Path(p).name, "counted once" in why) for p, why in skipped] == [("R10 (copy)", True)]


def test_a_report_hashes_each_file_once(tmp_path, monkeypatch):
    import builtins

    import lpm_verify.io as io_mod
    path = tmp_path / "big.pt"
    path.write_bytes(b"x" * 3000)
    opened = []

    def counting(file, *args, **kwargs):
        opened.append(file)
        return builtins.open(file, *args, **kwargs)
    monkeypatch.setattr(io_mod, "open", counting, raising=False)
    with io_mod.hashed_once():
        assert io_mod.file_sha256(path, chunk=1000) == io_mod.file_sha256(path)
    assert len(opened) == 1
    io_mod.file_sha256(path)
    io_mod.file_sha256(path)
    assert len(opened) == 3  # outside a report every call reads the file


def test_a_full_disk_while_training_is_one_named_line(tmp_path, monkeypatch, capsys):
    presets = pytest.importorskip("experiments.presets")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "store" / "r" / "checkpoint.pt"))
    monkeypatch.setattr(presets, "run_preset", full)
    rc = main(["train", "--preset", "cpu-smoke", "--out", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert rc == 1 and "no space left on the device" in err and "checkpoint.pt" in err and "internal error" not in err


def test_status_escapes_terminal_control_and_bidi_characters_from_the_store(tmp_path, capsys):
    make_run(tmp_path, "run-\x1b[2J", config={**CONFIG, "preset": "p\u202eevil\x07"}, metrics=None)
    rc, out, _ = _status(tmp_path, capsys)
    assert rc == 0 and "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "run-\\x1b[2J" in out and "p\\u202eevil\\x07" in out


@pytest.mark.parametrize("interrupt", [True, False])
def test_ctrl_c_inside_an_extension_import_is_an_interrupt_not_a_bug(monkeypatch, capsys, interrupt):
    """numpy turns a KeyboardInterrupt inside its C module's init into ImportError("cannot import module
    datetime"): after a SIGINT that is the user's interrupt (130); without one it stays a bug (negative control)."""
    import time

    import lpm_verify.commands.status as status_cmd

    def run(args):
        try:
            if interrupt:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
        except KeyboardInterrupt:
            pass
        raise ImportError('cannot import module "datetime"')
    monkeypatch.setattr(status_cmd, "run", run)
    rc = main(["status", "--out", "nowhere"])
    err = capsys.readouterr().err
    assert (rc, "interrupted" in err, "internal error" in err) == ((130, True, False) if interrupt else (1, False, True))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


def test_the_free_features_file_is_read_by_the_guarded_reader(tmp_path):
    """A deeply nested free_features.json is a named store error, not an internal RecursionError."""
    from experiments.store import StoreError
    from experiments.theory_gap import read_free_features
    path = tmp_path / "free_features.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(StoreError, match="free_features.json"):
        read_free_features(path)
    path.write_text('{"families": []}')
    assert read_free_features(path) == {"families": []}  # control: a valid file reads as before
