"""GPU readiness in one prepared run: under 8 minutes on one CUDA device.

1. Trains VGG11 on imbalanced FashionMNIST (K_A = 5, R = 10) for a few epochs through the real
   pipeline (``experiments.runner.run_experiment``: bf16 autocast, channels_last, checkpoints,
   analysis with the LPM prediction), once eager and once with ``torch.compile``; checks that the
   loss falls and that the analysis produced finite metrics.
2. Measures training images/s of the trainer's loop against the authors-style loop (per-sample
   DataLoader, float32) and against the compute limit (forward + backward + step on pre-made
   batches, same model, same precision and layout), eager and compiled.
3. Measures the throughput table's architectures on this device (``experiments/throughput.py``).
4. Writes everything to one JSON file and exits 0 if every check passed, 1 otherwise.

    python benchmarks/gpu_check.py --out gpu_check.json             # on a CUDA machine
    python benchmarks/gpu_check.py --device cpu --smoke --out x.json  # logic only, tens of seconds

``--smoke`` shrinks everything (a small CNN, a few dozen images per class, no compile) so that the
script's logic runs on a CPU in a test.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import torch  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from experiments.data import load_dataset  # noqa: E402
from experiments.models import build_model  # noqa: E402
from experiments.runner import run_experiment  # noqa: E402
from experiments.subsets import imbalanced_subset  # noqa: E402
from experiments.throughput import ARCH_SHAPES, measure  # noqa: E402
from experiments.trainer import NORMALIZATION, TrainConfig, to_device, train_epoch  # noqa: E402
from lpm_verify.io import write_json_atomic  # noqa: E402
from training_loops import PerSampleDataset, compute_limit_epoch, per_sample_epoch  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _seconds(fn: Callable[[], Any], device: torch.device, repeats: int) -> float:
    """Best wall time of ``repeats`` calls (after the caller's warm-up), synchronised."""
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return min(times)


def train_check(cfg: TrainConfig, out: Path, data: Any) -> dict[str, Any]:
    """One short run through the real pipeline; the loss must fall and the analysis must run."""
    t0 = time.perf_counter()
    run = run_experiment(cfg, out, data=data, progress=False, lpm=True)
    log = run.log
    losses = [row["loss"] for row in log]
    epoch_seconds = [b["seconds"] - a["seconds"] for a, b in zip(log, log[1:])] or [log[0]["seconds"]]
    n_prime = cfg.n_majority * cfg.K_A + cfg.oversample * cfg.n_minority * (len(cfg.class_order) - cfg.K_A)
    metrics = run.metrics
    finite = all(isinstance(metrics.get(k), (int, float)) and math.isfinite(metrics[k])
                 for k in ("cos_minority", "fitted_E_W", "fitted_E_H", "train_acc", "test_acc"))
    return {"compile": cfg.compile, "epochs": cfg.epochs, "losses": losses,
            "loss_falls": len(losses) >= 2 and losses[-1] < losses[0],
            "analysis_ran": finite, "lpm_status": metrics.get("lpm_status"),
            "cos_minority": metrics.get("cos_minority"), "lpm_cos_minority": metrics.get("lpm_cos_minority"),
            "train_acc": metrics.get("train_acc"), "test_acc": metrics.get("test_acc"),
            "first_epoch_seconds": log[0]["seconds"],  # includes compilation when compiled
            "steady_images_per_second": n_prime / min(epoch_seconds),
            "wall_seconds": time.perf_counter() - t0, "run": str(run.path)}


def loop_comparison(cfg: TrainConfig, data: Any, device: torch.device, compile: bool, batches: int,
                    repeats: int, authors: bool) -> dict[str, Any]:
    """Images/s of the trainer's loop, the compute limit and (``authors``) the authors-style loop,
    each on its own fresh copy of the same model."""
    subset = imbalanced_subset(data.y_train, cfg.K_A, cfg.n_majority, cfg.R, cfg.seed)
    dd = to_device(data, subset, cfg, device)
    n = min(len(dd.sample_index), batches * cfg.batch_size)
    perm = dd.sample_index[torch.randperm(len(dd.sample_index), generator=torch.Generator().manual_seed(0))
                           .to(device)][:n]
    layout = torch.channels_last if cfg.arch != "mlp" else torch.contiguous_format
    premade = [(dd.X_train[perm[s:s + cfg.batch_size]].contiguous(memory_format=layout),
                dd.y_train[perm[s:s + cfg.batch_size]]) for s in range(0, n, cfg.batch_size)]
    bf16 = device.type == "cuda" and cfg.bf16
    C, H = data.X_train.shape[1], data.X_train.shape[2]

    def fresh() -> tuple[torch.nn.Module, torch.nn.Module, torch.optim.Optimizer]:
        torch.manual_seed(0)
        model = build_model(cfg.arch, C, H, 10, width=cfg.width).to(device)
        if cfg.arch != "mlp":
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4, foreach=True)
        return model, (torch.compile(model) if compile else model), opt
    _, step_t, opt_t = fresh()
    _, step_l, opt_l = fresh()

    def ours() -> None:
        train_epoch(step_t, opt_t, dd.X_train, dd.y_train, perm, cfg.batch_size, bf16=bf16)[0].item()

    def limit() -> None:
        compute_limit_epoch(step_l, opt_l, premade, bf16=bf16)
    ours(), limit()  # warm-up (and compilation)
    t_ours, t_limit = [], []
    for _ in range(repeats):  # interleaved: both see the same conditions
        t_limit.append(_seconds(limit, device, 1))
        t_ours.append(_seconds(ours, device, 1))
    result = {"compile": compile, "bf16": bf16, "channels_last": cfg.arch != "mlp", "images": n,
              "trainer_images_per_second": n / min(t_ours), "compute_limit_images_per_second": n / min(t_limit),
              "fraction_of_compute_limit": min(t_limit) / min(t_ours)}
    if authors:
        model_a, _, opt_a = fresh()  # float32, eager, as the authors' code
        mean, std = NORMALIZATION[cfg.dataset][0][0], NORMALIZATION[cfg.dataset][1][0]
        rows = subset.indices[:n]
        samples = [torch.from_numpy(img[0].copy()) for img in data.X_train[rows]]
        loader = DataLoader(PerSampleDataset(samples, [int(v) for v in subset.labels[:n]], mean, std, pil=True),
                            batch_size=cfg.batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))
        t_auth = _seconds(lambda: per_sample_epoch(model_a, opt_a, loader, device), device, max(1, repeats // 2))
        result.update({"authors_images_per_second": n / t_auth, "speedup_vs_authors": t_auth / min(t_ours)})
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (with --smoke)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script's logic on a CPU")
    parser.add_argument("--out", default="gpu_check.json", help="the JSON file written")
    parser.add_argument("--data-root", help="folder with the FashionMNIST files (see experiments/data.py)")
    parser.add_argument("--epochs", type=int, help="training epochs per run (default 4; smoke 2)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: CUDA is not available on this machine; use --device cpu --smoke to check the logic",
              file=sys.stderr)
        return 2
    t_start = time.perf_counter()
    smoke = args.smoke
    data = load_dataset("fashion-mnist", args.data_root)
    base = dict(dataset="fashion-mnist", K_A=5, R=10, device=args.device, bias=True, checkpoint_every=2,
                preset="gpu-check", lr=0.05)
    if smoke:
        base.update(arch="cnn", width=8, n_majority=40, epochs=args.epochs or 2)
    else:
        base.update(arch="vgg11", n_majority=6000, epochs=args.epochs or 4)
    compiles = (False,) if smoke else (False, True)
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__, "cuda": torch.version.cuda, "smoke": smoke, "arch": base["arch"],
        "config": {k: v for k, v in base.items()}, "training": [], "loops": [], "throughput_table": {}, "checks": {}}
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        for compile in compiles:
            cfg = TrainConfig(**base, compile=compile)
            report["training"].append(train_check(cfg, Path(tmp) / f"compile_{compile}", data))
            losses = [round(x, 3) for x in report["training"][-1]["losses"]]
            print(f"train compile={compile}: losses {losses}", flush=True)
    for compile in compiles:
        cfg = TrainConfig(**base, compile=compile)
        report["loops"].append(loop_comparison(cfg, data, device, compile, batches=4 if smoke else 40,
                                               repeats=2 if smoke else 5, authors=not compile))
        row = report["loops"][-1]
        print(f"loops compile={compile}: trainer {row['trainer_images_per_second']:,.0f} img/s = "
              f"{row['fraction_of_compute_limit']:.1%} of the compute limit "
              f"{row['compute_limit_images_per_second']:,.0f} img/s"
              + (f"; authors-style {row['authors_images_per_second']:,.0f} img/s ({row['speedup_vs_authors']:.1f}x)"
                 if "authors_images_per_second" in row else ""), flush=True)
    for arch in (("cnn",) if smoke else tuple(a for a in ARCH_SHAPES if a != "mlp")):
        report["throughput_table"][arch] = {
            "images_per_second": measure(arch, args.device, batches=2 if smoke else 20, width=8 if smoke else 64),
            "source": "measured"}
    report["checks"] = {
        "loss_falls": all(t["loss_falls"] for t in report["training"]),
        "analysis_ran": all(t["analysis_ran"] for t in report["training"]),
        "under_8_minutes": time.perf_counter() - t_start < 480,
    }
    report["wall_seconds"] = time.perf_counter() - t_start
    write_json_atomic(args.out, report)
    ok = all(report["checks"].values())
    print(f"{'all checks passed' if ok else 'FAILED: ' + str(report['checks'])}; "
          f"{report['wall_seconds']:.0f} s; written to {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
