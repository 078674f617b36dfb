"""Reference training loops the trainer is measured against (benchmarks and ``gpu_check.py``).

* :class:`PerSampleDataset` + :func:`per_sample_epoch`: the authors-style pipeline, a torchvision-like
  ``Dataset`` of per-sample uint8 images converted one by one (PIL round trip, ``ToTensor``,
  ``Normalize``) and stacked by a ``DataLoader``, float32, as in the paper's code base.
* :func:`compute_limit_epoch`: forward, cross-entropy, backward and the optimizer step only, on
  batches made beforehand and already on the device: what the model itself costs on this device.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset


class PerSampleDataset(Dataset):
    """A list of per-sample uint8 tensors; ``__getitem__`` converts one image the way torchvision's
    FashionMNIST + ``ToTensor`` + ``Normalize`` do (``pil=True`` includes the PIL round trip)."""

    def __init__(self, samples: list[torch.Tensor], labels: list[int], mean: float, std: float, pil: bool):
        self.samples, self.labels, self.mean, self.std, self.pil = samples, labels, mean, std, pil

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img = self.samples[i]  # (28, 28) uint8
        if self.pil:
            pic = Image.fromarray(img.numpy(), mode="L")
            img = torch.from_numpy(np.array(pic, np.uint8, copy=True)).view(pic.size[1], pic.size[0], 1)
            x = img.permute(2, 0, 1).contiguous().float().div(255)           # ToTensor
        else:
            x = img.unsqueeze(0).float().div(255)
        mean = torch.as_tensor((self.mean,), dtype=x.dtype)[:, None, None]  # Normalize
        std = torch.as_tensor((self.std,), dtype=x.dtype)[:, None, None]
        return x.sub_(mean).div_(std), self.labels[i]


def per_sample_epoch(model, opt, loader: DataLoader, device: torch.device | None = None) -> None:
    """The same SGD step on batches that the DataLoader stacks from per-sample tensors."""
    for xb, yb in loader:
        if len(yb) < 2:
            continue
        device = device or next(model.parameters()).device
        xb, yb = xb.to(device), yb.to(device)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def compute_limit_epoch(model, opt, batches: list[tuple[torch.Tensor, torch.Tensor]], bf16: bool = False) -> None:
    """Forward + backward + step only, on pre-made batches: nothing else runs (``bf16``: under bf16
    autocast on CUDA, as the trainer)."""
    precision = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    for xb, yb in batches:
        with precision:
            loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
