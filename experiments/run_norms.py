"""Re-measure ``||W||_F^2``, the per-example ``mean_i ||h_i||^2`` and the mean logit margin of a stored run
from its checkpoint (for runs analysed before :func:`experiments.predictions.feature_norms` and
:func:`experiments.predictions.logit_margin` were stored with the metrics).

The training subset is rebuilt from ``subset.npz`` and the network from ``config.json`` and
``checkpoint.pt`` (final epoch); features are computed as in :mod:`experiments.analysis` (eval mode, float64).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from experiments.analysis import features_and_logits
from experiments.data import ImageData
from experiments.models import build_model
from experiments.predictions import feature_norms, logit_margin
from experiments.store import Run
from experiments.subsets import imbalanced_subset
from experiments.trainer import TrainConfig, to_device
from lpm_verify.errors import LPMInputError


def config_of(run: Run) -> TrainConfig:
    """The run's :class:`TrainConfig` (stored keys that are not fields, e.g. ``n_minority``, dropped)."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = {k: v for k, v in run.config.items() if k in names}
    for key in ("class_order", "milestones"):
        if key in cfg:
            cfg[key] = tuple(cfg[key])
    cfg["R"] = float(cfg["R"]) if cfg["R"] != "inf" else float("inf")
    return TrainConfig(**cfg)


def measure(run: Run, data: ImageData) -> dict[str, float]:
    """``feature_norms`` and ``logit_margin`` of the run's final network on its own training subset (CPU)."""
    cfg = dataclasses.replace(config_of(run), device="cpu")
    ckpt = Path(run.path) / "checkpoint.pt"
    if not ckpt.is_file():
        raise LPMInputError(f"run {run.path} has no checkpoint.pt; its norms cannot be re-measured")
    subset = imbalanced_subset(data.y_train, cfg.K_A, cfg.n_majority, cfg.R, cfg.seed, cfg.class_order)
    stored = np.load(Path(run.path) / "subset.npz")["indices"]
    if not np.array_equal(stored, subset.indices):
        raise LPMInputError(f"run {run.path}: the rebuilt training subset differs from subset.npz")
    dd = to_device(data, subset, cfg, torch.device("cpu"))
    model = build_model(cfg.arch, data.X_train.shape[1], data.X_train.shape[2], subset.K, bias=cfg.bias,
                        width=cfg.width)
    model.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=True)["model"])
    H, Z = features_and_logits(model, dd.X_train)
    W = model.classifier.weight.detach().double().numpy()
    return {**feature_norms(W, H), "logit_margin": logit_margin(Z, dd.y_train.cpu().numpy())}
