"""Device-hours of a grid, from a stored per-architecture table of training throughput.

``throughput.json`` (beside this file) holds, per device kind (``cpu``, ``cuda``) and architecture,
the training images per second of one run (forward + backward + SGD step at batch 128, the data on
the device) and where the figure comes from: ``"measured"`` (by :func:`measure` on the machine named
in the entry) or ``"estimated"`` (not yet measured on such a device; the entry says how it was
derived).  An epoch visits ``N' = n_A K_A + w_r n_B K_B`` examples (Eq. 17), so a run costs
``epochs N' / (images per second)`` seconds plus its analysis, which is small next to training.

``python -m experiments.throughput --device cpu`` measures the table's entries for this device and
rewrites them as measured (the GPU check, ``benchmarks/gpu_check.py``, does the same on CUDA).
Nothing here imports torch at module level.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from lpm_verify.errors import LPMInputError
from lpm_verify.io import write_json_atomic

TABLE_PATH = Path(__file__).with_name("throughput.json")
# The input shape each architecture is measured on: its dataset in the paper's grid (Section 4.C).
ARCH_SHAPES = {"mlp": (1, 28), "cnn": (1, 28), "vgg11": (1, 28), "vgg13": (3, 32), "resnet18": (3, 32)}


def device_kind(device: str) -> str:
    return "cuda" if device.startswith("cuda") else "cpu"


def load_table(path: Path = TABLE_PATH) -> dict[str, dict[str, dict[str, Any]]]:
    """``{device kind: {arch: {"images_per_second": float, "source": "measured" | "estimated", ...}}}``."""
    try:
        data = json.loads(path.read_text())
        return data["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        raise LPMInputError(f"throughput table {path}: missing or corrupt; regenerate it with "
                            "`python -m experiments.throughput --device cpu`") from None


def images_per_run(cfg: Any) -> int:
    """``epochs N'`` with ``N' = n_A K_A + w_r n_B K_B`` (Eq. 17), ``K_B = 10 - K_A`` classes."""
    K_B = len(cfg.class_order) - cfg.K_A
    return cfg.epochs * (cfg.n_majority * cfg.K_A + cfg.oversample * cfg.n_minority * K_B)


@dataclass(frozen=True)
class Estimate:
    """Device-hours of a set of configs, per (device kind, arch), with each figure's source."""

    rows: list[tuple[str, str, int, float, str]]  # (device kind, arch, runs, hours, source)

    @property
    def hours(self) -> float:
        return sum(r[3] for r in self.rows)

    @property
    def all_measured(self) -> bool:
        return all(r[4] == "measured" for r in self.rows)


def estimate(configs: Sequence[Any], table: dict[str, dict[str, dict[str, Any]]] | None = None) -> Estimate:
    """Device-hours of ``configs`` (TrainConfig-like) from the throughput ``table``."""
    table = load_table() if table is None else table
    acc: dict[tuple[str, str], list[float]] = {}
    for cfg in configs:
        kind = device_kind(cfg.device)
        entry = table.get(kind, {}).get(cfg.arch)
        if entry is None:
            raise LPMInputError(f"throughput table has no entry for {cfg.arch} on {kind}; measure it with "
                                f"`python -m experiments.throughput --device {kind}`")
        row = acc.setdefault((kind, cfg.arch), [0, 0.0])
        row[0] += 1
        row[1] += images_per_run(cfg) / entry["images_per_second"] / 3600
    return Estimate([(k, a, int(n), h, table[k][a]["source"]) for (k, a), (n, h) in sorted(acc.items())])


def gpu_estimate(macs_per_image: float, batch_size: int = 128, effective_tflops: float = 40.0,
                 step_overhead_s: float = 2e-3) -> float:
    """Images/s a GPU would reach (used only for the table's "estimated" entries): training costs ~3x
    the forward pass's ``2 * macs_per_image`` FLOPs, done at ``effective_tflops`` (bf16; ~13% of an
    A100's dense peak, typical of 32x32 images at batch 128), plus ``step_overhead_s`` of kernel
    launches and optimizer per step."""
    return batch_size / (batch_size * 6 * macs_per_image / (effective_tflops * 1e12) + step_overhead_s)


def measure(arch: str, device: str = "cpu", batches: int = 5, batch_size: int = 128, width: int = 64,
            bf16: bool = True, channels_last: bool = True, compile: bool = False) -> float:
    """Training images per second of ``arch`` on ``device``: :func:`experiments.trainer.train_epoch`
    over ``batches`` batches of synthetic images on the device (after one warm-up pass)."""
    import torch

    from experiments.models import build_model
    from experiments.trainer import train_epoch
    dev = torch.device(device)
    C, H = ARCH_SHAPES[arch]
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(batches * batch_size, C, H, H, generator=gen).to(dev)
    y = torch.randint(0, 10, (len(X),), generator=gen).to(dev)
    model = build_model(arch, C, H, 10, width=width).to(dev)
    if channels_last and arch != "mlp":  # as the trainer does
        model, X = model.to(memory_format=torch.channels_last), X.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4, foreach=True)
    step = torch.compile(model) if compile else model
    perm = torch.arange(len(X), device=dev)
    cuda_bf16 = dev.type == "cuda" and bf16
    train_epoch(step, opt, X, y, perm[:batch_size], batch_size, bf16=cuda_bf16)  # warm-up (one batch)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    loss, _ = train_epoch(step, opt, X, y, perm, batch_size, bf16=cuda_bf16)
    loss.item()  # synchronises
    return len(X) / (time.perf_counter() - t0)


def main(argv: Sequence[str] | None = None) -> int:
    import torch
    parser = argparse.ArgumentParser(description="measure the throughput table's entries for one device")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--archs", default=",".join(ARCH_SHAPES))
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads on CPU (default 1: each worker of the CPU presets runs one)")
    args = parser.parse_args(argv)
    if not args.device.startswith("cuda"):
        torch.set_num_threads(args.threads)
    data = json.loads(TABLE_PATH.read_text()) if TABLE_PATH.is_file() else {"entries": {}}
    kind = device_kind(args.device)
    where = (torch.cuda.get_device_name(args.device) if kind == "cuda" else
             f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
             f"load average {os.getloadavg()[0]:.1f} at the start")
    for arch in args.archs.split(","):
        ips = measure(arch, args.device, batches=args.batches)
        data["entries"].setdefault(kind, {})[arch] = {
            "images_per_second": round(ips, 1), "source": "measured",
            "where": f"{where}; torch {torch.__version__}; {time.strftime('%Y-%m-%d')}"}
        print(f"{kind} {arch}: {ips:,.0f} images/s", flush=True)
    write_json_atomic(TABLE_PATH, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

