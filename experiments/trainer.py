"""Training with the protocol of Section 4.C, in the spirit of airbench: one straight loop.

Setup -> data -> network -> training.  Cross-entropy, SGD with momentum 0.9 and weight decay
``wd`` (the ``lambda`` of Eq. 1; paper 5e-4), learning rate 0.1 divided by 10 at 1/3 and 2/3 of
the epochs, batch 128.  Oversampling (Eq. 17) repeats every minority example ``w_r`` times in each
epoch.  The whole training subset lives on the device as one float tensor; a batch is a slice of a
seeded permutation, gathered with one indexing op (no per-sample Python objects).  Convolutional
networks run channels_last on every device; the forward pass runs in float32 as the authors' did, under
bf16 autocast on CUDA only when ``bf16=True`` is asked for (recorded in the run's config), optionally compiled.

A checkpoint (model, optimizer, permutation RNG, epoch log) is written atomically every
``checkpoint_every`` epochs and at the end; ``resume=True`` continues from it and reproduces, on a
deterministic device, exactly the weights an uninterrupted run would have reached.  A checkpoint
holds only tensors and plain types and is read with ``torch.load(weights_only=True)``: a crafted file
cannot run code, it is refused (:class:`CheckpointError`).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from experiments.data import ImageData
from experiments.models import ARCHS, FREEZABLE, Classifier, build_model, freeze_backbone
from experiments.subsets import PAPER_CLASS_ORDER, Subset, minority_size, relabel
from lpm_verify.errors import LPMInputError, require
from lpm_verify.io import write_text_atomic

# Per-channel mean and std of the training images (scaled to [0, 1]) used to standardise inputs.
NORMALIZATION = {
    "fashion-mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one run (the store hashes these to name its folder)."""

    dataset: str = "fashion-mnist"
    arch: str = "vgg11"
    preset: str = "custom"
    K_A: int = 5                    # number of majority classes
    R: float = 10.0                 # imbalance ratio n_A / n_B (math.inf: no minority examples)
    n_majority: int = 6000          # n_A, examples per majority class
    epochs: int = 350
    lr: float = 0.1                 # initial learning rate (per batch of batch_size)
    momentum: float = 0.9
    wd: float = 5e-4                # weight decay lambda of Eq. 1
    batch_size: int = 128
    oversample: int = 1             # w_r of Eq. 17 (1: no oversampling)
    bias: bool = True               # bias of the last layer (the LPM has none; the paper's nets had one)
    width: int = 64                 # MLP width / CNN base width (VGG and ResNet ignore it)
    seed: int = 0
    device: str = "cpu"
    class_order: tuple[int, ...] = PAPER_CLASS_ORDER
    milestones: tuple[float, ...] = (1 / 3, 2 / 3)  # fractions of the epochs where lr is divided by 10
    checkpoint_every: int = 10      # epochs between checkpoints
    compile: bool = False           # torch.compile the model (CUDA)
    bf16: bool = False              # opt-in bf16 autocast on CUDA (ignored on CPU); the authors trained in fp32
    classifier_penalty: float = 0.0  # lambda_W: adds (lambda_W / 2) ||W_L||_F^2 of the last layer to the loss
    feature_penalty: float = 0.0    # lambda_H: adds (lambda_H / 2) mean_i ||h_i||^2 of the batch's features
    frozen_backbone: bool = False   # train only W_L and the features' final linear map (models.freeze_backbone)

    def __post_init__(self) -> None:
        require(self.arch in ARCHS, "arch", f"one of {ARCHS}", self.arch)
        require(self.dataset in NORMALIZATION, "dataset", f"one of {tuple(NORMALIZATION)}", self.dataset)
        require(isinstance(self.epochs, int) and self.epochs >= 1, "epochs", "an integer >= 1", self.epochs)
        require(isinstance(self.K_A, int) and 1 <= self.K_A < len(self.class_order), "K_A",
                f"an integer in [1, {len(self.class_order) - 1}]", self.K_A)
        require(isinstance(self.n_majority, int) and self.n_majority >= 1, "n_majority",
                "an integer >= 1 (examples per majority class)", self.n_majority)
        require(isinstance(self.seed, int) and 0 <= self.seed < 2 ** 63, "seed", "an integer in [0, 2^63)", self.seed)
        require(self.lr > 0, "lr", "> 0", self.lr)
        require(self.wd >= 0, "wd", ">= 0", self.wd)
        for name in ("classifier_penalty", "feature_penalty"):
            value = getattr(self, name)
            require(isinstance(value, (int, float)) and math.isfinite(value) and value >= 0, name,
                    "a finite number >= 0", value)
        require(isinstance(self.frozen_backbone, bool) and (not self.frozen_backbone or self.arch in FREEZABLE),
                "frozen_backbone", f"false, or true with an arch in {FREEZABLE} (features ending in a linear map)",
                (self.frozen_backbone, self.arch))
        require(isinstance(self.batch_size, int) and self.batch_size >= 2, "batch_size", "an integer >= 2",
                self.batch_size)
        require(isinstance(self.oversample, int) and self.oversample >= 1, "oversample",
                "an integer >= 1 (w_r of Eq. 17)", self.oversample)
        require(isinstance(self.checkpoint_every, int) and self.checkpoint_every >= 1, "checkpoint_every",
                "an integer >= 1", self.checkpoint_every)
        require(self.device == "cpu" or self.device.startswith("cuda"), "device", "'cpu' or 'cuda[:i]'",
                self.device)
        minority_size(self.n_majority, self.R)  # validates R against n_A

    @property
    def n_minority(self) -> int:
        return minority_size(self.n_majority, self.R)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["class_order"] = list(self.class_order)
        d["milestones"] = list(self.milestones)
        d["n_minority"] = self.n_minority
        return d


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    """Learning rate of (0-based) ``epoch``: ``lr / 10^m`` after ``m`` milestones ``round(f E)``."""
    passed = sum(epoch >= round(f * cfg.epochs) for f in cfg.milestones)
    return cfg.lr * 0.1 ** passed


def epoch_size(cfg: TrainConfig) -> int:
    """``N' = n_A K_A + w_r n_B K_B`` examples visited per epoch (Eq. 17)."""
    return cfg.n_majority * cfg.K_A + cfg.oversample * cfg.n_minority * (len(cfg.class_order) - cfg.K_A)


def steps_per_epoch(n_prime: int, batch_size: int) -> int:
    """SGD steps of one epoch of ``n_prime`` examples: every slice of ``batch_size`` except a last one of
    a single example (BatchNorm needs two; :func:`train_epoch` skips it)."""
    full, rest = divmod(n_prime, batch_size)
    return full + (rest >= 2)


def weight_decay_exposure(cfg: TrainConfig, steps: int | None = None) -> float:
    """``X = sum_t eta_t lambda / (1 - beta)`` over every SGD step of the schedule of ``cfg``.

    SGD with momentum ``beta`` and weight decay ``lambda`` shrinks a weight that gets no gradient by
    ``(1 - eta_t lambda)`` per step, amplified ``1 / (1 - beta)`` by the momentum once the step size
    changes slowly, so such a weight keeps ``exp(-X)`` of its initial scale: ``X`` measures how far
    training has gone towards the weight-decay equilibrium that the LPM's constraints stand for
    (Section 2, Eq. 3).  The paper's runs (350 epochs, batch 128, lr 0.1 / 10 at 1/3 and 2/3) have
    ``X`` about 17 at ``lambda = 5e-4``.  ``steps``: per epoch (default: from :func:`epoch_size`).
    """
    steps = steps_per_epoch(epoch_size(cfg), cfg.batch_size) if steps is None else steps
    return sum(lr_at(cfg, e) for e in range(cfg.epochs)) * steps * cfg.wd / (1.0 - cfg.momentum)


#: Fraction of the epochs at the end of training over which the late drift of the claim quantities is read.
LATE_FRACTION = 0.1
#: Number of probes of (minority cosine, ||W||_F, mean ||h||) over that last fraction, the last at the end.
LATE_PROBES = 5


def probe_epochs(epochs: int) -> list[int]:
    """The (1-based) epochs after which the late-drift probes are taken: ``LATE_PROBES`` evenly spread over
    the last ``LATE_FRACTION`` of training, the first at its start and the last at the final epoch."""
    start = max(1, epochs - math.ceil(LATE_FRACTION * epochs))
    return sorted({round(start + i * (epochs - start) / (LATE_PROBES - 1)) for i in range(LATE_PROBES)})


@torch.no_grad()
def late_probe(model: Classifier, X: torch.Tensor, K_A: int, batch: int = 1024) -> dict[str, float | None]:
    """The claim quantities a regime diagnostic follows: minority cosine of the last layer (Figs. 2, 4),
    ``||W_L||_F`` and the mean feature norm ``mean_i ||h_i||`` over the training examples (eval mode)."""
    W = model.classifier.weight.detach().double()  # (K, p)
    K = W.shape[0]
    cos = None
    if K - K_A >= 2:
        Wm = W[K_A:] / W[K_A:].norm(dim=1, keepdim=True)
        C = Wm @ Wm.T
        cos = float((C.sum() - C.diagonal().sum()) / (len(Wm) * (len(Wm) - 1)))
    was_training = model.training
    model.eval()
    total = sum(float(model.features(X[s:s + batch]).double().norm(dim=1).sum()) for s in range(0, len(X), batch))
    model.train(was_training)
    return {"cos_minority": cos, "W_norm": float(W.norm()), "mean_h_norm": total / len(X)}


def regime_diagnostics(cfg: TrainConfig, history: list[dict]) -> dict[str, object]:
    """The run's regime diagnostics (stored in ``metrics.json``): the weight-decay exposure ``X`` summed
    over the steps actually taken (:func:`weight_decay_exposure`), the final epoch's training loss, and the
    drift ``last - first`` of each probed quantity over the last ``LATE_FRACTION`` of training (with the
    probes themselves).  A stepwise learning rate makes late drift small even far from equilibrium, so
    drift alone never decides a regime (experiments/regime.py combines it with ``X``)."""
    default_steps = steps_per_epoch(epoch_size(cfg), cfg.batch_size)  # rows logged before "steps" was
    steps = sum(h.get("steps", default_steps) * h["lr"] for h in history)
    out: dict[str, object] = {"wd_exposure": steps * cfg.wd / (1.0 - cfg.momentum),
                              "final_loss": history[-1]["loss"] if history else None}
    probes = [{"epoch": h["epoch"], **h["probe"]} for h in history if "probe" in h]
    out["late_probes"] = probes
    for key in ("cos_minority", "W_norm", "mean_h_norm"):
        values = [p[key] for p in probes if p.get(key) is not None]
        out[f"late_drift_{key}"] = values[-1] - values[0] if len(values) >= 2 else None
    return out


@dataclass
class DeviceData:
    """The training subset and test set as standardised float tensors on the device."""

    X_train: torch.Tensor  # (N, C, H, W) float32
    y_train: torch.Tensor  # (N,) int64, labels relabelled (0..K_A-1 majority)
    X_test: torch.Tensor   # (N_test, C, H, W)
    y_test: torch.Tensor   # (N_test,)
    sample_index: torch.Tensor  # (N',) rows of X_train visited per epoch, minority rows w_r times (Eq. 17)

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.X_train, self.y_train, self.X_test, self.y_test,
                                                         self.sample_index))


def to_device(data: ImageData, subset: Subset, cfg: TrainConfig, device: torch.device) -> DeviceData:
    """Standardise once, relabel, move to ``device``; build the Eq. 17 epoch index (minority x w_r)."""
    mean, std = (torch.tensor(v, device=device).view(1, -1, 1, 1) for v in NORMALIZATION[cfg.dataset])
    in_test = np.isin(data.y_test, subset.class_order)

    def prep(X: np.ndarray) -> torch.Tensor:
        x = (torch.from_numpy(np.ascontiguousarray(X)).to(device).float().div_(255) - mean) / std
        return x.contiguous(memory_format=torch.channels_last) if cfg.arch != "mlp" else x

    y_test = relabel(data.y_test[in_test], subset.class_order)
    labels = torch.from_numpy(subset.labels).to(device)
    rows = torch.arange(len(labels), device=device)
    minority = labels >= cfg.K_A
    sample_index = torch.cat([rows[~minority], rows[minority].repeat(cfg.oversample)])
    return DeviceData(prep(data.X_train[subset.indices]), labels, prep(data.X_test[in_test]),
                      torch.from_numpy(y_test).to(device), sample_index)


class CheckpointError(LPMInputError):
    """A checkpoint file is not a plain-tensor checkpoint of this run; it is refused, never executed."""


CHECKPOINT_KEYS = {"epoch": int, "model": dict, "optimizer": dict, "generator": torch.Tensor, "seconds": float,
                   "history": list}


def load_checkpoint(path: Path, device: torch.device) -> dict:
    """Read ``path`` with ``weights_only=True`` (tensors and plain containers only: any other object
    in the pickle, e.g. one whose ``__reduce__`` calls a function, is refused before it is built)."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # UnpicklingError, EOFError, RuntimeError (zip), ...: all mean "refused"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f"checkpoint {path} refused: not a plain-tensor checkpoint "
                              f"({type(exc).__name__}: {first[:160]})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} refused: expected a dict, got {type(state).__name__}")
    for key, kind in CHECKPOINT_KEYS.items():
        ok = isinstance(state.get(key), kind) and not (kind is int and isinstance(state.get(key), bool))
        if not ok:
            raise CheckpointError(f"checkpoint {path} refused: {key!r} missing or not {kind.__name__}")
    return state


def _save_atomic(obj: dict, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_log(path: Path, history: list[dict]) -> None:
    write_text_atomic(path / "log.jsonl", "".join(json.dumps(h) + "\n" for h in history))


def resolve_device(cfg: TrainConfig) -> torch.device:
    """``cfg.device`` as a torch device; a CUDA request on a machine without CUDA is an input error."""
    device = torch.device(cfg.device)
    require(device.type != "cuda" or torch.cuda.is_available(), "device", "'cpu' (CUDA is not available here)",
            cfg.device)
    return device


def penalized_loss(model: Classifier, xb: torch.Tensor, yb: torch.Tensor, classifier_penalty: float = 0.0,
                   feature_penalty: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of a batch plus the optional layer-peeled penalties; returns ``(loss, logits)``.

    ``loss = CE + (lambda_W / 2) ||W_L||_F^2 + (lambda_H / 2) (1/B) sum_i ||h_i||^2`` with
    ``lambda_W = classifier_penalty`` on the last layer ``W_L  # (K, p)`` and ``lambda_H =
    feature_penalty`` on the features ``h_i  # (p,)`` of Eq. 3 (the penalized form of the LPM's two
    constraints, Eq. 7; both 0: plain cross-entropy, the weight decay ``wd`` acts in the optimizer).
    """
    if feature_penalty:
        h = model.features(xb)  # (B, p)
        logits = model.classifier(h)
    else:
        logits = model(xb)
    loss = F.cross_entropy(logits, yb)
    if classifier_penalty:
        loss = loss + 0.5 * classifier_penalty * model.classifier.weight.pow(2).sum()
    if feature_penalty:
        loss = loss + 0.5 * feature_penalty * h.pow(2).sum(1).mean()  # pow, sum: float32 under autocast
    return loss, logits


def train_epoch(model: torch.nn.Module, opt: torch.optim.Optimizer, X: torch.Tensor, y: torch.Tensor,
                perm: torch.Tensor, batch_size: int, bf16: bool = False, classifier_penalty: float = 0.0,
                feature_penalty: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass over ``perm  # (N',)``: batches are slices of it gathered from the device tensors
    ``X  # (N, C, H, W)``, ``y  # (N,)``.  Returns the summed loss (with the penalties of
    :func:`penalized_loss`) and the number correct, as device tensors (no host synchronisation inside
    the loop)."""
    device = X.device
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    # Autocast only when it does something: entering a disabled autocast still costs per batch.
    precision = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    penalized = bool(classifier_penalty or feature_penalty)
    for start in range(0, len(perm), batch_size):
        idx = perm[start:start + batch_size]
        if len(idx) < 2:  # BatchNorm needs two samples; at most one example of N' is skipped
            continue
        xb, yb = X.index_select(0, idx), y.index_select(0, idx)  # one gather each (faster than X[idx])
        with precision:
            if penalized:
                loss, logits = penalized_loss(model, xb, yb, classifier_penalty, feature_penalty)
            else:
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        # Running statistics in place, on detached tensors (fewest ops: they run once per batch).
        loss_sum.add_(loss.detach(), alpha=len(idx))
        correct.add_(logits.detach().argmax(1).eq_(yb).sum())
    return loss_sum, correct


@dataclass
class TrainResult:
    model: Classifier
    data: DeviceData
    train_seconds: float  # summed over resumed segments
    resumed_from: int     # epoch the last segment started at (0: fresh)
    history: list[dict]   # one row per epoch (lr, steps, loss, probes), as in log.jsonl


@contextlib.contextmanager
def subnormals_flushed() -> Iterator[None]:
    """Flush float32 subnormals to zero while the block runs, then restore the previous mode.

    Weight decay shrinks every weight the gradient does not sustain by exp(-X): at the paper's exposure
    (X ~ 17 at 5e-4, ~170 at 5e-3) most first-layer weights reach float32's subnormal range (< 1.2e-38),
    where CPU arithmetic is far slower (measured: 48,622 of 55,552 MLP weights subnormal; 0.65 s an epoch
    against 0.065 s flushed).  Flushing them to zero changes no stored quantity.  The mode is global to the
    process, so it is restored for whatever runs next (torch has no getter: the mode is read off a product).
    """
    was_flushing = bool((torch.tensor([1e-39]) * 1.0).item() == 0.0)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was_flushing)


def train(cfg: TrainConfig, data: ImageData, subset: Subset, run_path: Path, resume: bool = False,
          progress: bool = True, on_epoch_end: Callable[[int], None] | None = None) -> TrainResult:
    """Train one network on ``subset`` of ``data``; checkpoints and log go to ``run_path``.

    ``on_epoch_end(epoch)`` is called after each epoch (1-based) once its checkpoint, if any, is
    written; raising from it stops the run as a kill would (used to test ``resume``).  Subnormal floats
    are flushed to zero meanwhile (:func:`subnormals_flushed`).
    """
    with subnormals_flushed():
        return _train(cfg, data, subset, run_path, resume, progress, on_epoch_end)


def _train(cfg: TrainConfig, data: ImageData, subset: Subset, run_path: Path, resume: bool,
           progress: bool, on_epoch_end: Callable[[int], None] | None) -> TrainResult:
    # ---- Setup ----
    device = resolve_device(cfg)
    cuda = device.type == "cuda"
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)  # permutations, on the CPU on every device
    ckpt_path = run_path / "checkpoint.pt"

    # ---- DataLoader ----
    dd = to_device(data, subset, cfg, device)

    # ---- Network ----
    C, H = data.X_train.shape[1], data.X_train.shape[2]
    model = build_model(cfg.arch, C, H, subset.K, bias=cfg.bias, width=cfg.width).to(device)
    if cfg.arch != "mlp":  # channels_last on every device (CPU, CNN: 1.4x faster than NCHW, measured)
        model = model.to(memory_format=torch.channels_last)
    params = freeze_backbone(model) if cfg.frozen_backbone else list(model.parameters())
    opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.wd,
                          foreach=True)  # one fused update per step on every device
    step_model = torch.compile(model) if cfg.compile else model

    start_epoch, seconds, history = 0, 0.0, []
    if resume and ckpt_path.is_file():
        state = load_checkpoint(ckpt_path, device)
        require(0 <= state["epoch"] <= cfg.epochs, "checkpoint epoch", f"in [0, {cfg.epochs}] ({ckpt_path})",
                state["epoch"])
        try:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            gen.set_state(state["generator"].cpu())
        except (RuntimeError, KeyError, ValueError, TypeError) as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise CheckpointError(f"checkpoint {ckpt_path} refused: it does not fit this run's model "
                                  f"({type(exc).__name__}: {first[:160]})") from None
        start_epoch, seconds, history = state["epoch"], state["seconds"], state["history"]

    # ---- Training ----
    n_prime = len(dd.sample_index)  # N' = n_A K_A + w_r n_B K_B (Eq. 17)
    steps = steps_per_epoch(n_prime, cfg.batch_size)
    probes = set(probe_epochs(cfg.epochs))
    bar = tqdm(initial=start_epoch, total=cfg.epochs, disable=not progress, desc=run_path.name, leave=False,
               dynamic_ncols=True, unit="epoch")
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.perf_counter()
        if cuda:
            ev0, ev1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            ev0.record()
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, epoch)
        model.train()
        perm = dd.sample_index[torch.randperm(n_prime, generator=gen).to(device)]  # (N',)
        loss_sum, correct = train_epoch(step_model, opt, dd.X_train, dd.y_train, perm, cfg.batch_size,
                                        bf16=cuda and cfg.bf16, classifier_penalty=cfg.classifier_penalty,
                                        feature_penalty=cfg.feature_penalty)
        if cuda:
            ev1.record()
            ev1.synchronize()
            seconds += ev0.elapsed_time(ev1) / 1000
        else:
            seconds += time.perf_counter() - t0
        history.append({"epoch": epoch + 1, "lr": lr_at(cfg, epoch), "steps": steps,
                        "loss": loss_sum.item() / n_prime, "train_acc_sampled": correct.item() / n_prime,
                        "seconds": seconds})
        if epoch + 1 in probes:
            history[-1]["probe"] = late_probe(model, dd.X_train, cfg.K_A)
        bar.set_postfix(loss=f"{history[-1]['loss']:.4f}", acc=f"{history[-1]['train_acc_sampled']:.3f}",
                        refresh=False)
        bar.update(1)
        if (epoch + 1) % cfg.checkpoint_every == 0 or epoch + 1 == cfg.epochs:
            # The log is rewritten with each checkpoint, not every epoch: rewriting it per epoch costs
            # time quadratic in the epochs (thousands in the cpu-regime preset).
            _write_log(run_path, history)
            _save_atomic({"epoch": epoch + 1, "model": model.state_dict(), "optimizer": opt.state_dict(),
                          "generator": gen.get_state(), "seconds": seconds, "history": history,
                          "config": cfg.to_dict()}, ckpt_path)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1)
    bar.close()
    return TrainResult(model, dd, seconds, start_epoch, history)
