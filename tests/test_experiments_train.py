"""Training on real FashionMNIST: cpu-smoke preset, kill-and-resume, the store, the CLI."""
from __future__ import annotations

import math
import json
from dataclasses import replace

import pytest
import torch

from experiments.data import load_dataset
from experiments.presets import PRESETS, preset_configs, run_preset
from experiments.runner import run_experiment
from experiments.store import config_hash, list_runs, load_run
from experiments.trainer import TrainConfig, lr_at
from lpm_verify.errors import LPMInputError

API_METRICS = ("cos_minority", "cos_majority", "cos_all", "cos_minority_std", "norm_variation_minority",
               "nc1", "nc2", "nc3", "nc4", "train_acc", "train_acc_majority", "train_acc_minority", "test_acc",
               "test_acc_majority", "test_acc_minority", "fitted_E_W", "fitted_E_H", "fitted_centring",
               "lpm_cos_minority", "lpm_R0", "wall_seconds")
API_CONFIG = ("dataset", "arch", "preset", "epochs", "seed", "device", "K_A", "R", "n_majority", "n_minority",
              "wd", "oversample", "bias", "lr", "batch_size")


@pytest.fixture(scope="module")
def fashion():
    return load_dataset("fashion-mnist")


class Killed(Exception):
    pass


def small(**kw) -> TrainConfig:
    base = dict(dataset="fashion-mnist", arch="mlp", width=16, n_majority=40, K_A=5, R=4, epochs=5, wd=5e-4,
                bias=False, checkpoint_every=2, preset="test", oversample=2)
    return TrainConfig(**{**base, **kw})


def test_cpu_smoke_on_real_data(tmp_path):
    runs = run_preset("cpu-smoke", out=tmp_path, progress=False)
    assert len(runs) == len(preset_configs("cpu-smoke")) == 2
    for run in runs:
        assert run.finished and run.config["preset"] == "cpu-smoke"
        assert set(API_CONFIG) <= set(run.config) and set(API_METRICS) <= set(run.metrics)
        assert run.config["data_source"] == "/usr/share/datasets/fashion-mnist"
        assert 0.0 <= run.metrics["test_acc"] <= 1.0 and run.metrics["fitted_E_W"] > 0
        assert (run.path / "subset.npz").is_file() and len(run.log) == run.config["epochs"]
    assert [r.path for r in list_runs(tmp_path)] == sorted(r.path for r in runs)
    assert runs[1].config["n_minority"] == 10 and runs[0].config["R"] == 1
    # A second call finds the finished runs in the store and trains nothing.
    again = run_preset("cpu-smoke", out=tmp_path, progress=False)
    assert [r.metrics["wall_seconds"] for r in again] == [r.metrics["wall_seconds"] for r in runs]


def test_kill_and_resume_gives_identical_weights(tmp_path, fashion):
    cfg = small()
    whole = run_experiment(cfg, tmp_path / "whole", data=fashion, progress=False)

    def kill_after_3(epoch):  # checkpoint_every = 2: epoch 3 is lost and must be recomputed
        if epoch == 3:
            raise Killed
    with pytest.raises(Killed):
        run_experiment(cfg, tmp_path / "killed", data=fashion, progress=False, on_epoch_end=kill_after_3)
    partial = load_run(next((tmp_path / "killed").iterdir()))
    assert not partial.finished and torch.load(partial.path / "checkpoint.pt", weights_only=True)["epoch"] == 2
    with pytest.raises(LPMInputError, match="pass --resume"):
        run_experiment(cfg, tmp_path / "killed", data=fashion, progress=False)
    resumed = run_experiment(cfg, tmp_path / "killed", data=fashion, progress=False, resume=True)
    assert resumed.metrics["resumed_from_epoch"] == 2
    a = torch.load(whole.path / "checkpoint.pt", weights_only=True)
    b = torch.load(resumed.path / "checkpoint.pt", weights_only=True)
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]
    assert resumed.metrics["cos_minority"] == whole.metrics["cos_minority"]


def test_different_seed_changes_the_weights(tmp_path, fashion):
    """Negative control for the resume test: its equality is not automatic."""
    a = run_experiment(small(epochs=2), tmp_path, data=fashion, progress=False)
    b = run_experiment(small(epochs=2, seed=1), tmp_path, data=fashion, progress=False)
    wa = torch.load(a.path / "checkpoint.pt", weights_only=True)["model"]["classifier.weight"]
    wb = torch.load(b.path / "checkpoint.pt", weights_only=True)["model"]["classifier.weight"]
    assert not torch.equal(wa, wb)


def test_training_flushes_subnormal_floats_to_zero_and_restores_the_mode(tmp_path, fashion, monkeypatch):
    """Weights decayed below float32's normal range cost far more per operation on a CPU: a run flushes them
    to zero while it trains (the control: torch's default keeps a subnormal through a multiplication), and
    leaves the process's mode as it found it (a test after it, or hypothesis, sees IEEE floats)."""
    from experiments import trainer
    tiny = torch.tensor([1e-39])
    torch.set_flush_denormal(False)
    assert (tiny * 1.0).item() != 0.0
    seen = []
    monkeypatch.setattr(trainer, "_train", lambda *a: seen.append((tiny * 1.0).item()))
    trainer.train(small(epochs=1), fashion, None, tmp_path)
    assert seen == [0.0] and (tiny * 1.0).item() != 0.0


def test_oversampling_repeats_minority_examples(tmp_path, fashion):
    """Eq. 17: one epoch visits N' = n_A K_A + w_r n_B K_B examples."""
    from experiments.subsets import imbalanced_subset
    from experiments.trainer import to_device
    cfg = small(oversample=3)
    s = imbalanced_subset(fashion.y_train, cfg.K_A, cfg.n_majority, cfg.R, cfg.seed)
    dd = to_device(fashion, s, cfg, torch.device("cpu"))
    assert len(dd.sample_index) == 40 * 5 + 3 * 10 * 5
    counts = torch.bincount(dd.y_train[dd.sample_index], minlength=10)
    assert counts.tolist() == [40] * 5 + [30] * 5


def test_learning_rate_schedule():
    cfg = small(epochs=350)
    assert [lr_at(cfg, e) for e in (0, 116, 117, 232, 233, 349)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_store_hash_and_inf(tmp_path, fashion):
    cfg = small(R=math.inf, epochs=1)
    run = run_experiment(cfg, tmp_path, data=fashion, progress=False)
    assert run.config["R"] == math.inf and run.path.name.endswith(config_hash(cfg.to_dict()))
    assert json.loads((run.path / "config.json").read_text())["R"] == "inf"
    assert run.metrics["train_acc_minority"] is None       # no minority training examples
    assert run.metrics["nc_classes"] == 5
    assert config_hash(small().to_dict()) != config_hash(small(wd=1e-3).to_dict())


def test_cli_train(tmp_path, capsys):
    from lpm_verify.cli import main
    assert main(["train", "--preset", "cpu-smoke", "--R", "5", "--epochs", "2", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("K_A\tR\twd") and len(out) == 2 and out[1].startswith("5\t5\t")
    assert main(["train", "--preset", "cpu-smoke", "--R", "1000", "--out", str(tmp_path)]) == 2
    assert "R must be <= n_A = 100" in capsys.readouterr().err


def test_presets_are_well_formed():
    paper = preset_configs("paper")
    assert {c.epochs for c in paper} == {350} and {c.wd for c in paper} == {5e-4, 5e-3}
    fig4 = [c for c in paper if c.n_majority in (6000, 5000) and c.oversample == 1]
    assert {(c.dataset, c.arch) for c in fig4} == {("fashion-mnist", "vgg11"), ("fashion-mnist", "resnet18"),
                                                   ("cifar10", "vgg13"), ("cifar10", "resnet18")}
    assert {c.R for c in fig4} == {1, 10, 100, 1000, math.inf, 3000, 5000, 30, 300, 2500}
    # Fig. 2: R points between the decades (CIFAR10, VGG13, K_A = 7) at both weight decays.
    assert {(c.R, c.wd) for c in fig4 if c.R in (30, 300, 2500)} == {(R, wd) for R in (30, 300, 2500) for wd in (5e-4, 5e-3)}
    # Fig. 4's caption: ResNet18, K_A = 7, collapses at R = 3000 (FashionMNIST) / 5000 (CIFAR10).
    assert {(c.dataset, c.arch, c.K_A) for c in fig4 if c.R in (3000, 5000)} == {
        ("fashion-mnist", "resnet18", 7), ("cifar10", "resnet18", 7)}
    # The authors trained in float32 with a last-layer bias; bf16 is an opt-in recorded in the config.
    assert not any(c.bf16 for c in paper) and all(c.bias for c in paper) and TrainConfig().bf16 is False
    fig5 = [c for c in paper if c.n_minority in (5, 6) and c.oversample == 1]
    assert {(c.R, c.n_majority) for c in fig5} == {(1, 6), (1000, 6000), (1, 5), (1000, 5000)}
    assert {c.oversample for c in paper if c.oversample > 1} == {10, 100, 1000}
    report = preset_configs("cpu-report")
    assert {c.K_A for c in report} == {1, 3, 5, 7} and len({c.wd for c in report}) == 2
    assert max(c.R for c in report if math.isfinite(c.R)) == PRESETS["cpu-report"].base["n_majority"]
    # Fig. 5 at fixed n_B: the R = 1 run with the n_B of the largest-R run (n_B = 1, n_A = 1).
    assert {(c.K_A, c.n_majority) for c in report if c.R == 1 and c.n_minority == 1 and c.K_A > 1} == {
        (3, 1), (5, 1), (7, 1)}


def test_cpu_regime_preset_reaches_the_papers_exposure_within_an_hour():
    """Every run the claims decide on has the paper's weight-decay exposure (X ~ 17 at 5e-4, 10x at 5e-3);
    the grid fits 60 minutes on 2 cores by the measured throughput table; >= 2 seeds everywhere."""
    from experiments.throughput import estimate
    from experiments.trainer import weight_decay_exposure
    configs = preset_configs("cpu-regime")
    fig5_baseline = [c for c in configs if c.n_majority == 1]
    assert {(c.K_A, c.R, c.n_minority) for c in fig5_baseline} == {(7, 1, 1)}
    for c in configs:
        if c not in fig5_baseline:
            assert 16 <= weight_decay_exposure(c) * 5e-4 / c.wd <= 25, c
    cos_curves = {(c.wd, c.R) for c in configs if c.K_A == 7 and c.n_majority == 500}
    assert {R for wd, R in cos_curves if wd == 5e-4} >= {1, 500, math.inf}
    assert {wd for wd, _ in cos_curves} == {5e-4, 5e-3}
    assert any(c.K_A == 1 and tuple(c.class_order) == (0, 1) for c in configs)  # Fig. 7
    seeds: dict = {}
    for c in configs:
        seeds.setdefault((c.K_A, c.R, c.wd, c.n_majority), set()).add(c.seed)
    assert min(len(s) for s in seeds.values()) >= 2
    assert estimate(configs).hours * 60 / PRESETS["cpu-regime"].workers <= 55  # + analysis: <= 60 minutes


def test_lpm_prediction_for_a_fit():
    """The prediction comes from the solver stack and is self-consistent: below R_0 not collapsed."""
    from experiments.analysis import lpm_prediction
    got = lpm_prediction(10, 5, 1.9, 8.2, 100.0)
    assert got["lpm_status"] == "ok", got["lpm_status"]
    assert got["lpm_R0"] > 100 and got["lpm_regime"].startswith("distinct")
    assert -1 / 9 < got["lpm_cos_minority"] < 1 - 1e-3


def test_lpm_prediction_uses_only_a_certified_R0(monkeypatch):
    """An uncertified root of the threshold equation may be another root: recorded, never used as R_0."""
    import lpm_verify.regimes as regimes
    from experiments.analysis import lpm_prediction
    real = regimes.find_thresholds

    def uncertified(*args, **kwargs):
        out = real(*args, **kwargs)
        for t in out:
            t.certificate["certified"] = False
        return out
    monkeypatch.setattr(regimes, "find_thresholds", uncertified)
    got = lpm_prediction(10, 5, 1.9, 8.2, 100.0)
    assert got["lpm_R0"] is None and "not certified" in got["lpm_status"]
    assert got["lpm_transitions"] and not any(t["certified"] for t in got["lpm_transitions"])


def test_lpm_prediction_missing_is_recorded_not_faked(monkeypatch):
    import sys
    from experiments.analysis import lpm_prediction
    monkeypatch.setitem(sys.modules, "lpm_verify.sweep", None)  # import fails as if absent
    got = lpm_prediction(10, 5, 1.9, 8.2, 100.0)
    assert got["lpm_cos_minority"] is None and got["lpm_R0"] is None
    assert got["lpm_status"].startswith("missing: solver stack not importable")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_request_without_cuda_is_refused(tmp_path, fashion):
    with pytest.raises(LPMInputError, match="CUDA is not available here"):
        run_experiment(small(device="cuda"), tmp_path, data=fashion, progress=False)


def test_unresolved_sdp_cosine_is_not_used(monkeypatch):
    """An SDP optimum whose loss is below the solver's resolution gives no prediction, with the reason."""
    import lpm_verify.sweep as sweep_mod
    from experiments.analysis import SDP_RESOLVED_OBJECTIVE, lpm_prediction
    from lpm_verify.errors import SolverError

    def fake_sweep(K, K_A, E_W, E_H, R_values, method="symmetric"):
        if method == "symmetric":
            raise SolverError("no regime passed the KKT certificate")
        return [{"cos_minority": 0.087, "regime": "distinct", "objective": SDP_RESOLVED_OBJECTIVE / 10}]
    monkeypatch.setattr(sweep_mod, "sweep", fake_sweep)
    got = lpm_prediction(10, 3, 6.4, 30.0, math.inf)
    assert got["lpm_cos_minority"] is None
    assert "symmetric: SolverError" in got["lpm_status"] and "is not used" in got["lpm_status"]


@pytest.mark.slow
def test_compile_option_runs_on_cpu(tmp_path, fashion):
    """``compile=True`` (meant for CUDA) trains on CPU too (inductor needs a C compiler; ~1 min)."""
    run = run_experiment(small(compile=True, epochs=1), tmp_path, data=fashion, progress=False, lpm=False)
    assert run.finished and run.config["compile"] is True and math.isfinite(run.metrics["final_loss"])


@pytest.mark.parametrize("lam_W,lam_H", [(0.3, 0.0), (0.0, 0.7), (0.3, 0.7)])
def test_penalty_gradients_match_the_formula(lam_W, lam_H):
    """d/dW of (lambda_W/2)||W||_F^2 is lambda_W W; d/dh_i of (lambda_H/2)(1/B) sum ||h_i||^2 is
    lambda_H h_i / B.  The features are made a leaf (identity feature map) so both are read off exactly."""
    from torch import nn
    from experiments.models import Classifier
    from experiments.trainer import penalized_loss
    torch.manual_seed(0)
    model = Classifier(nn.Identity(), p=6, K=4, bias=False).double()
    h = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)  # (B, p)
    y = torch.tensor([0, 1, 2, 3, 0])
    W = model.classifier.weight

    def grads(a, b):
        loss, _ = penalized_loss(model, h, y, a, b)
        return torch.autograd.grad(loss, (W, h))
    (gW, gh), (gW0, gh0) = grads(lam_W, lam_H), grads(0.0, 0.0)
    # float64 throughout: the differences agree to rounding (1e-12 is ~1e4 ulps of O(1) gradients).
    torch.testing.assert_close(gW - gW0, lam_W * W.detach(), rtol=0, atol=1e-12)
    torch.testing.assert_close(gh - gh0, lam_H * h.detach() / len(h), rtol=0, atol=1e-12)
    # Negative control: the printed formula is not satisfied by a factor-2 variant (no 1/2).
    if lam_W:
        assert not torch.allclose(gW - gW0, 2 * lam_W * W.detach(), atol=1e-6)


def test_penalties_hash_only_when_nonzero(tmp_path, fashion):
    plain = small().to_dict()
    legacy = {k: v for k, v in plain.items() if k not in ("classifier_penalty", "feature_penalty")}
    assert config_hash(plain) == config_hash(legacy)  # stored runs keep their folders
    assert config_hash(small(classifier_penalty=1e-3).to_dict()) != config_hash(plain)
    assert config_hash(small(feature_penalty=1e-3).to_dict()) != config_hash(small(classifier_penalty=1e-3).to_dict())
    with pytest.raises(LPMInputError, match="feature_penalty must be a finite number >= 0"):
        small(feature_penalty=float("nan"))
    a = run_experiment(small(epochs=1), tmp_path, data=fashion, progress=False, lpm=False)
    b = run_experiment(small(epochs=1, classifier_penalty=0.5, feature_penalty=0.5), tmp_path, data=fashion,
                       progress=False, lpm=False)
    assert a.path != b.path and b.config["classifier_penalty"] == 0.5
    assert b.metrics["final_loss"] != a.metrics["final_loss"]


def test_cli_train_penalties(tmp_path, capsys):
    from lpm_verify.cli import main
    assert main(["train", "--preset", "cpu-smoke", "--R", "5", "--epochs", "1", "--out", str(tmp_path),
                 "--classifier-penalty", "0.01", "--feature-penalty", "0.02", "--no-progress"]) == 0
    (run,) = list_runs(tmp_path)
    assert run.config["classifier_penalty"] == 0.01 and run.config["feature_penalty"] == 0.02


class _RunsCode:
    """Pickles as a call of os.system: loading it with weights_only=False would run the command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        import os
        return os.system, (self.command,)


def _smoke_run_folder(out):
    from experiments.store import run_dir
    return run_dir(out, preset_configs("cpu-smoke", R=[5], epochs=[2])[0].to_dict())


def test_crafted_checkpoint_never_runs_code(tmp_path, capsys):
    """A checkpoint whose pickle calls os.system is refused (weights_only load); the command never runs."""
    marker = tmp_path / "marker"
    folder = _smoke_run_folder(tmp_path / "store")
    folder.mkdir(parents=True)
    torch.save({"epoch": 1, "model": _RunsCode(f"touch {marker}")}, folder / "checkpoint.pt")
    # The payload is live: unpickled without restriction, it does create the marker (then removed).
    with open(folder / "checkpoint.pt", "rb") as fh:
        torch.load(fh, weights_only=False)
    assert marker.exists()
    marker.unlink()
    from lpm_verify.cli import main
    assert main(["train", "--preset", "cpu-smoke", "--R", "5", "--epochs", "2", "--out", str(tmp_path / "store"),
                 "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refused: not a plain-tensor checkpoint" in err[0] and str(folder) in err[0]
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage" * 10, "truncated"], ids=["empty", "random", "truncated"])
def test_corrupt_checkpoint_on_resume_is_one_line(tmp_path, capsys, content):
    from lpm_verify.cli import main
    store = tmp_path / "store"
    args = ["train", "--preset", "cpu-smoke", "--R", "5", "--epochs", "2", "--out", str(store), "--no-progress"]
    folder = _smoke_run_folder(store)
    if content == "truncated":  # a real checkpoint cut in half
        assert main(args) == 0
        raw = (folder / "checkpoint.pt").read_bytes()
        (folder / "metrics.json").unlink()
        content = raw[: len(raw) // 2]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "checkpoint.pt").write_bytes(content)
    capsys.readouterr()
    assert main(args + ["--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: checkpoint {folder / 'checkpoint.pt'} refused")


def test_checkpoint_of_another_model_is_refused(tmp_path, fashion):
    """A well-formed checkpoint that does not fit the run (other width) is refused, not half-loaded."""
    from experiments.trainer import CheckpointError
    a = run_experiment(small(epochs=1), tmp_path / "a", data=fashion, progress=False, lpm=False)
    b_cfg = small(epochs=2, width=8)
    killed = tmp_path / "b"
    with pytest.raises(Killed):
        run_experiment(b_cfg, killed, data=fashion, progress=False, lpm=False,
                       on_epoch_end=lambda e: (_ for _ in ()).throw(Killed()))
    b_path = next(killed.iterdir())
    (b_path / "checkpoint.pt").write_bytes((a.path / "checkpoint.pt").read_bytes())
    with pytest.raises(CheckpointError, match="does not fit this run's model"):
        run_experiment(b_cfg, killed, data=fashion, progress=False, lpm=False, resume=True)


@pytest.mark.parametrize("args,message", [
    (["--workers", "-2"], "--workers must be an integer >= 1"),
    (["--workers", "0"], "--workers must be an integer >= 1"),  # was silently the preset's default
    (["--seed", "-1"], "seed must be an integer in [0, 2^63)"),
    (["--n-majority", "0"], "n_majority must be an integer >= 1"),  # was a complaint about R
    (["--KA", "10"], "K_A must be an integer in [1, 9]"),
    (["--classifier-penalty", "-1"], "classifier_penalty must be a finite number >= 0"),
    (["--out", "/proc/no/such/folder"], "is not a writable folder"),
])
def test_train_bad_input_is_one_line(tmp_path, capsys, args, message):
    """Bad input: one line on stderr, exit 2, nothing trained."""
    from lpm_verify.cli import main
    argv = ["train", "--preset", "cpu-smoke", "--out", str(tmp_path / "store"), "--no-progress", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").glob("fashion-mnist_*"))


def test_train_out_is_a_file(tmp_path, capsys):
    from lpm_verify.cli import main
    (tmp_path / "file").write_text("mine")
    assert main(["train", "--preset", "cpu-smoke", "--out", str(tmp_path / "file")]) == 2
    assert "--out must be a folder" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "mine"


def test_train_R_nan_names_the_value(capsys):
    from lpm_verify.cli import main
    assert main(["train", "--preset", "cpu-smoke", "--R", "nan"]) == 2  # one line, no usage dump
    assert "--R: 'nan' is not a valid value" in capsys.readouterr().err  # was "expected a comma-separated list"


def test_train_into_a_log_prints_one_line_per_finished_run(tmp_path, capsys):
    """stderr is not a terminal here (captured): no progress bar, one line per run (a log stays readable)."""
    from lpm_verify.cli import main
    assert main(["train", "--preset", "cpu-smoke", "--epochs", "1", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "runs done" in ln]
    assert [ln.split(": ")[1].split(" ")[0] for ln in lines] == ["1/2", "2/2"]
    assert "\r" not in err and "epoch/s" not in err  # neither the preset's nor a run's bar


def test_weight_decay_exposure_matches_the_schedule_and_the_papers_value():
    """X = sum_t eta_t lambda / (1 - beta): the paper's FashionMNIST run (K_A = 5, R = 10, n_A = 6000:
    N' = 33000, 258 steps of 128 per epoch, 350 epochs) gives about 17; the steps are counted as trained."""
    from experiments.trainer import epoch_size, steps_per_epoch, weight_decay_exposure
    paper = TrainConfig(n_majority=6000, K_A=5, R=10, epochs=350)
    assert epoch_size(paper) == 33000 and steps_per_epoch(33000, 128) == 258
    assert weight_decay_exposure(paper) == pytest.approx(258 * (117 * 0.1 + 116 * 0.01 + 117 * 0.001) * 5e-4 / 0.1,
                                                         rel=1e-12)  # milestones at epochs 117, 233
    assert 16 < weight_decay_exposure(paper) < 18
    assert steps_per_epoch(129, 128) == 1 and steps_per_epoch(130, 128) == 2  # a lone last example is skipped


def test_every_run_stores_its_regime_diagnostics(tmp_path, fashion):
    from experiments.trainer import probe_epochs, weight_decay_exposure
    cfg = small(epochs=20)
    run = run_experiment(cfg, tmp_path, data=fashion, progress=False, lpm=False)
    m = run.metrics
    assert m["wd_exposure"] == pytest.approx(weight_decay_exposure(cfg), rel=1e-12)
    assert m["final_loss"] == run.log[-1]["loss"] and 0 <= m["train_acc_minority"] <= 1
    assert [p["epoch"] for p in m["late_probes"]] == probe_epochs(20) == [18, 19, 20]
    probes = m["late_probes"]
    assert m["late_drift_W_norm"] == pytest.approx(probes[-1]["W_norm"] - probes[0]["W_norm"])
    assert probes[-1]["cos_minority"] == pytest.approx(m["cos_minority"], abs=1e-6)  # same W at the end
    assert probe_epochs(350)[0] == 315 and probe_epochs(350)[-1] == 350 and len(probe_epochs(350)) == 5


@pytest.mark.parametrize("workers", [1, 2])
def test_free_features_grid_logs_one_line_per_run_and_uses_the_workers(tmp_path, capsys, workers):
    """Into a log (stderr not a terminal): one line per finished run, no progress bar; with two workers the
    rows still come back in the grid's order."""
    from experiments.free_features import FreeConfig, run_grid
    configs = [FreeConfig(K_A=2, R=4, wd=5e-3, K=4, n_majority=8, p=6, epochs=2, batch_size=4, seed=s)
               for s in (0, 1)]
    rows = run_grid(configs, tmp_path, progress=True, workers=workers)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and all(f"free features ({workers} worker" in ln for ln in lines) and "\r" not in err
    assert [r["seed"] for r in rows] == [0, 1]
    assert json.loads((tmp_path / "free_features.json").read_text())["rows"][1]["seed"] == 1


def test_convergence_study_writes_quantity_against_exposure(tmp_path, capsys):
    """The study's code path on tiny exposures (an epoch or a few per run): one log line per finished run,
    a CSV row per run with its stored exposure, a PNG; the epochs are the fewest that reach each X."""
    import csv

    from experiments.convergence import EXPOSURES, epochs_for_exposure, main, study_configs
    from experiments.trainer import weight_decay_exposure
    for _, cfg in study_configs():
        assert weight_decay_exposure(cfg) >= min(EXPOSURES) and cfg.preset == "convergence"
        e = epochs_for_exposure(cfg, 17.0)
        assert weight_decay_exposure(replace(cfg, epochs=e)) >= 17.0 > weight_decay_exposure(replace(cfg, epochs=e - 1))
    assert main(["--out", str(tmp_path), "--exposures", "0.01,0.02"]) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("convergence:")]
    assert len(lines) == 6 and lines[-1].startswith("convergence: 6/6 runs done")
    rows = list(csv.DictReader((tmp_path / "convergence.csv").open()))
    assert [r["family"] for r in rows] == ["collapse"] * 4 + ["binary"] * 2
    assert all(float(r["X"]) >= 0.01 for r in rows) and rows[0]["cos_minority"] and rows[4]["cos_all"]
    assert (tmp_path / "convergence.png").read_bytes()[:4] == b"\x89PNG"
