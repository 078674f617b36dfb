"""`python -m lpm_verify train`: train networks on imbalanced FashionMNIST / CIFAR10 (Section 4.C).

Runs a preset grid (``cpu-smoke``, ``cpu-report``, ``paper``) with optional overrides, stores each
run under ``--out`` (one folder per config, see ``experiments/store.py``) and prints one line per
run: minority cosine of the network next to the LPM's prediction for its fitted (E_W, E_H).

Executors (``--executor``): ``pool`` (default; local processes), ``local`` (submitit subprocesses,
preemptible) and ``slurm`` (one SLURM job per run, or a job array; submits and returns).  ``--dry-run``
lists the configs and estimates device-hours from ``experiments/throughput.json``.  This module
imports neither torch nor submitit: they are imported when the command runs.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Callable

from lpm_verify.commands.args import missing_dependency_message
from lpm_verify.errors import LPMInputError

PRESET_NAMES = "cpu-smoke, cpu-report, paper (experiments/presets.py)"


def _list_of(kind: Callable[[str], object], name: str) -> Callable[[str], list]:
    def parse(text: str) -> list:
        values = []
        for v in (v.strip() for v in text.split(",")):
            if not v:
                continue
            try:
                values.append(kind(v))
            except ValueError:
                raise argparse.ArgumentTypeError(f"{name}: {v!r} is not a valid value in the comma-separated "
                                                 f"list {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{name}: expected a comma-separated list, got {text!r}")
        return values
    return parse


def _ratio(text: str) -> float:
    value = float(text)  # accepts "inf"; "nan" is refused by the caller's message
    if math.isnan(value):
        raise ValueError(text)
    return value if math.isinf(value) else (int(value) if value == int(value) else value)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--slurm-extra: expected KEY=VALUE (an sbatch option), got {text!r}")
    return key.strip(), value.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", required=True, help=f"the grid to run: {PRESET_NAMES}")
    parser.add_argument("--dataset", help="override the preset's dataset (fashion-mnist, cifar10)")
    parser.add_argument("--arch", help="override the preset's network (mlp, cnn, vgg11, vgg13, resnet18)")
    parser.add_argument("--KA", type=_list_of(int, "--KA"), help="majority class counts, e.g. 3,5,7")
    parser.add_argument("--R", type=_list_of(_ratio, "--R"), help="imbalance ratios n_A/n_B, e.g. 1,10,100,inf")
    parser.add_argument("--n-majority", type=int, help="n_A, training examples per majority class")
    parser.add_argument("--epochs", type=int, help="training epochs (paper: 350)")
    parser.add_argument("--wd", type=_list_of(float, "--wd"), help="weight decay(s) lambda (paper: 5e-4)")
    parser.add_argument("--oversample", type=_list_of(int, "--oversample"), help="oversampling rate(s) w_r, Eq. 17")
    parser.add_argument("--seed", type=_list_of(int, "--seed"), help="seed(s), integers >= 0")
    parser.add_argument("--classifier-penalty", type=_list_of(float, "--classifier-penalty"),
                        help="lambda_W: add (lambda_W/2)||W_L||_F^2 of the last layer to the loss (default 0)")
    parser.add_argument("--feature-penalty", type=_list_of(float, "--feature-penalty"),
                        help="lambda_H: add (lambda_H/2) mean_i ||h_i||^2 of the features to the loss (default 0)")
    parser.add_argument("--device", help="cpu or cuda (default: the preset's)")
    parser.add_argument("--compile", action="store_true", default=None, help="torch.compile the model")
    parser.add_argument("--bf16", action="store_true", default=None,
                        help="bf16 autocast on CUDA (default: float32, as the authors trained); recorded in the run's "
                             "config, so bf16 runs are stored apart from fp32 ones")
    parser.add_argument("--out", default="runs", help="results store folder (default: runs/)")
    parser.add_argument("--data-root", help="folder with the dataset files (see experiments/data.py)")
    parser.add_argument("--resume", action="store_true", help="continue interrupted runs from their checkpoints")
    parser.add_argument("--workers", type=int, help="parallel processes, >= 1 (default: the preset's)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--dry-run", action="store_true",
                        help="list the configs and estimate device-hours; train nothing")
    cluster = parser.add_argument_group("executors (submitit: pip install 'lpm-verify[cluster]')")
    cluster.add_argument("--executor", choices=("pool", "local", "slurm"), default="pool",
                         help="pool: local process pool (default); local: submitit subprocesses; "
                              "slurm: submit one SLURM job per run (logs in OUT/.submitit/) and return")
    cluster.add_argument("--slurm-partition", help="sbatch --partition")
    cluster.add_argument("--slurm-time", type=int, default=24 * 60,
                         help="minutes per job (default 1440); a job that reaches it is requeued and resumes")
    cluster.add_argument("--slurm-gpus-per-task", type=int, default=1, help="GPUs per job (default 1)")
    cluster.add_argument("--slurm-cpus-per-task", type=int, help="sbatch --cpus-per-task")
    cluster.add_argument("--slurm-mem", help="sbatch --mem, e.g. 32G")
    cluster.add_argument("--slurm-account", help="sbatch --account")
    cluster.add_argument("--slurm-extra", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                         help="any other sbatch option, repeatable (e.g. qos=high)")
    cluster.add_argument("--array-parallelism", type=int,
                         help="submit one job array running at most N runs at once")


def _fmt(x: object) -> str:
    return "-" if x is None else (f"{x:.4f}" if isinstance(x, float) else str(x))


def _check_out(out: str) -> None:
    """``--out`` is (or can be made) a folder this process can write to; checked before any work."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise LPMInputError(f"--out must be a folder; {out!r} is an existing file")
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        raise LPMInputError(f"--out {out!r} is not a writable folder ({exc.strerror or type(exc).__name__})") from None


def _overrides(args: argparse.Namespace) -> dict:
    return {"dataset": args.dataset, "arch": args.arch, "K_A": args.KA, "R": args.R, "n_majority": args.n_majority,
            "epochs": args.epochs, "wd": args.wd, "oversample": args.oversample, "seed": args.seed,
            "device": args.device, "compile": args.compile, "bf16": args.bf16, "classifier_penalty": args.classifier_penalty,
            "feature_penalty": args.feature_penalty}


def _note_left_out(args: argparse.Namespace) -> None:
    """One stderr line per sub-grid of the preset that the overrides do not apply to (its runs are left out)."""
    from experiments.presets import inapplicable_grids, preset_configs
    preset_configs(args.preset, **_overrides(args))  # no sub-grid left: its error, before any note
    for line in inapplicable_grids(args.preset, **_overrides(args)):
        print(f"note: the overrides do not apply to {line}; its runs are left out", file=sys.stderr)


def _dry_run(args: argparse.Namespace) -> int:
    from experiments.run_locks import read_claim, stale_reason
    from experiments.presets import preset_configs
    from experiments.store import run_dir
    from experiments.throughput import estimate, images_per_run
    from experiments.trainer import weight_decay_exposure
    configs = preset_configs(args.preset, **_overrides(args))
    todo = []
    print("# X: weight-decay exposure sum_t lr_t wd / (1 - momentum) of each run (the paper's runs: ~17 at wd 5e-4)")
    print("status\timages\tX\trun")
    for cfg in configs:
        path = run_dir(args.out, cfg.to_dict())
        claim = read_claim(path)
        if (path / "metrics.json").is_file():
            state = "finished"
        else:
            todo.append(cfg)
            state = "running" if claim is not None and stale_reason(claim) is None else "to run"
        print(f"{state}\t{images_per_run(cfg)}\t{weight_decay_exposure(cfg):.3g}\t{path}")
    est = estimate(todo)
    for kind, arch, n, hours, source in est.rows:
        print(f"{kind} {arch}: {n} runs, {hours:.2f} device-hours ({source} throughput)")
    flag = "" if est.all_measured else " (includes estimated throughput: measure on the device to firm it up)"
    print(f"{len(todo)} of {len(configs)} runs to train (running ones included): {est.hours:.2f} device-hours{flag}")
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401  (checked here so that a missing torch is one line, not a traceback)
    except ImportError:
        raise LPMInputError(missing_dependency_message("torch", "train")) from None
    from experiments.presets import PRESETS
    if args.preset not in PRESETS:
        raise LPMInputError(f"--preset must be one of {sorted(PRESETS)}; got {args.preset!r}")
    if args.device is not None and not (args.device == "cpu" or args.device.startswith("cuda")):
        raise LPMInputError(f"--device must be 'cpu' or 'cuda[:i]'; got {args.device!r}")
    if args.workers is not None and args.workers < 1:
        raise LPMInputError(f"--workers must be an integer >= 1 (parallel processes); got {args.workers}")
    _note_left_out(args)
    if args.dry_run:  # reads the store only
        return _dry_run(args)
    _check_out(args.out)
    if args.executor == "slurm":
        return _submit_slurm(args)
    from experiments.executors import RUNNING_ELSEWHERE
    from experiments.presets import GridFailedError, run_preset

    def note(outcome) -> None:
        if outcome.status == RUNNING_ELSEWHERE:
            print(f"note: run {outcome.path} is being trained now by {outcome.detail}; not started here "
                  f"(see `python -m lpm_verify status --out {args.out}`)", file=sys.stderr)
    try:
        runs = run_preset(args.preset, out=args.out, data_root=args.data_root, resume=args.resume,
                          progress=not args.no_progress, workers=args.workers, executor=args.executor,
                          on_done=note, **_overrides(args))
    except GridFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    cols = ("K_A", "R", "wd", "oversample")
    mets = ("cos_minority", "lpm_cos_minority", "lpm_R0", "fitted_E_W", "fitted_E_H", "train_acc",
            "test_acc", "test_acc_minority")
    print("\t".join(cols + mets + ("run",)))
    for r in runs:
        print("\t".join([_fmt(r.config.get(c)) for c in cols] + [_fmt(r.metrics.get(m)) for m in mets] + [str(r.path)]))
    return 0


def _submit_slurm(args: argparse.Namespace) -> int:
    from experiments.executors import SlurmOptions
    from experiments.presets import submit_preset
    slurm = SlurmOptions(partition=args.slurm_partition, time=args.slurm_time, gpus_per_task=args.slurm_gpus_per_task,
                         cpus_per_task=args.slurm_cpus_per_task, mem=args.slurm_mem, account=args.slurm_account,
                         extra=dict(args.slurm_extra), array_parallelism=args.array_parallelism)
    jobs = submit_preset(args.preset, out=args.out, data_root=args.data_root, resume=True, slurm=slurm,
                         **_overrides(args))
    for job in jobs:
        print(f"submitted\t{job.job_id}")
    print(f"{len(jobs)} jobs submitted (logs in {Path(args.out) / '.submitit'}); follow them with "
          f"`python -m lpm_verify status --out {args.out}`")
    return 0
