"""`python -m lpm_verify train`: train networks on imbalanced FashionMNIST / CIFAR10 (Section 4.C).

Runs a preset grid (``cpu-smoke``, ``cpu-report``, ``paper``) with optional overrides, stores each
run under ``--out`` (one folder per config, see ``experiments/store.py``) and prints one line per
run: minority cosine of the network next to the LPM's prediction for its fitted (E_W, E_H).
"""
from __future__ import annotations

import argparse
import math
from typing import Callable

from lpm_verify.errors import LPMInputError


def _list_of(kind: Callable[[str], object], name: str) -> Callable[[str], list]:
    def parse(text: str) -> list:
        try:
            return [kind(v.strip()) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: expected a comma-separated list, got {text!r}") from None
    return parse


def _ratio(text: str) -> float:
    value = float(text)  # accepts "inf"
    return value if math.isinf(value) else (int(value) if value == int(value) else value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from experiments.data import DATASETS
    from experiments.models import ARCHS
    from experiments.presets import PRESETS
    parser.add_argument("--preset", required=True, choices=sorted(PRESETS),
                        help="; ".join(f"{k}: {v.description}" for k, v in PRESETS.items()))
    parser.add_argument("--dataset", choices=DATASETS, help="override the preset's dataset")
    parser.add_argument("--arch", choices=ARCHS, help="override the preset's network")
    parser.add_argument("--KA", type=_list_of(int, "--KA"), help="majority class counts, e.g. 3,5,7")
    parser.add_argument("--R", type=_list_of(_ratio, "--R"), help="imbalance ratios n_A/n_B, e.g. 1,10,100,inf")
    parser.add_argument("--n-majority", type=int, help="n_A, training examples per majority class")
    parser.add_argument("--epochs", type=int, help="training epochs (paper: 350)")
    parser.add_argument("--wd", type=_list_of(float, "--wd"), help="weight decay(s) lambda (paper: 5e-4)")
    parser.add_argument("--oversample", type=_list_of(int, "--oversample"), help="oversampling rate(s) w_r, Eq. 17")
    parser.add_argument("--seed", type=_list_of(int, "--seed"), help="seed(s)")
    parser.add_argument("--classifier-penalty", type=_list_of(float, "--classifier-penalty"),
                        help="lambda_W: add (lambda_W/2)||W_L||_F^2 of the last layer to the loss (default 0)")
    parser.add_argument("--feature-penalty", type=_list_of(float, "--feature-penalty"),
                        help="lambda_H: add (lambda_H/2) mean_i ||h_i||^2 of the features to the loss (default 0)")
    parser.add_argument("--device", help="cpu or cuda (default: the preset's)")
    parser.add_argument("--compile", action="store_true", default=None, help="torch.compile the model")
    parser.add_argument("--out", default="runs", help="results store folder (default: runs/)")
    parser.add_argument("--data-root", help="folder with the dataset files (see experiments/data.py)")
    parser.add_argument("--resume", action="store_true", help="continue interrupted runs from their checkpoints")
    parser.add_argument("--workers", type=int, help="parallel processes (default: the preset's)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _fmt(x: object) -> str:
    return "-" if x is None else (f"{x:.4f}" if isinstance(x, float) else str(x))


def run(args: argparse.Namespace) -> int:
    from experiments.presets import run_preset
    if args.device is not None and not (args.device == "cpu" or args.device.startswith("cuda")):
        raise LPMInputError(f"--device must be 'cpu' or 'cuda[:i]'; got {args.device!r}")
    overrides = {"dataset": args.dataset, "arch": args.arch, "K_A": args.KA, "R": args.R,
                 "n_majority": args.n_majority, "epochs": args.epochs, "wd": args.wd,
                 "oversample": args.oversample, "seed": args.seed, "device": args.device, "compile": args.compile,
                 "classifier_penalty": args.classifier_penalty, "feature_penalty": args.feature_penalty}
    runs = run_preset(args.preset, out=args.out, data_root=args.data_root, resume=args.resume,
                      progress=not args.no_progress, workers=args.workers, **overrides)
    cols = ("K_A", "R", "wd", "oversample")
    mets = ("cos_minority", "lpm_cos_minority", "lpm_R0", "fitted_E_W", "fitted_E_H", "train_acc",
            "test_acc", "test_acc_minority")
    print("\t".join(cols + mets + ("run",)))
    for r in runs:
        print("\t".join([_fmt(r.config[c]) for c in cols] + [_fmt(r.metrics.get(m)) for m in mets] + [str(r.path)]))
    return 0
