"""Fig. 9 / Appendix D: between-class angles of the classifier of an ImageNet network.

The classifier matrix ``W  # (K, p)`` is read straight from a torchvision state dict with
``torch.load(weights_only=True)`` (no torchvision needed).  A simplex ETF (Definition 1) would put
every pair of rows at ``arccos(-1/(K-1))`` (90.06° for K = 1000); Appendix D reports for PyTorch's
pretrained VGG19 a minimum of 43°, a maximum of 103° and a standard deviation of 4.1°, for ResNet152
37°, 102° and 3.6°.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lpm_verify.errors import LPMInputError, require

#: Appendix D's numbers in degrees: (min, max, std) of the between-class angles.
PAPER_ANGLES: dict[str, tuple[float, float, float]] = {"vgg19": (43.0, 103.0, 4.1), "resnet152": (37.0, 102.0, 3.6)}
#: Classifier weight keys of the torchvision architectures (VGG: classifier.6; ResNet: fc).
CLASSIFIER_KEYS: tuple[str, ...] = ("classifier.6.weight", "fc.weight", "classifier.1.weight", "classifier.weight",
                                    "heads.head.weight", "head.weight")


def etf_angle(K: int) -> float:
    """The angle between any two rows of a K-class simplex ETF, ``arccos(-1/(K-1))`` in degrees."""
    require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
    return math.degrees(math.acos(-1.0 / (K - 1)))


@dataclass(frozen=True)
class AngleStats:
    """Between-class angles (degrees) over the ``K(K-1)/2`` pairs of rows of a classifier."""

    K: int
    p: int
    min: float
    max: float
    mean: float
    std: float  # population standard deviation over pairs
    etf: float  # arccos(-1/(K-1))


def angle_stats(W: np.ndarray) -> AngleStats:
    """Min / max / mean / std of the angles between the rows of ``W  # (K, p)``, in degrees."""
    W = np.asarray(W, dtype=np.float64)
    require(W.ndim == 2 and W.shape[0] >= 2 and bool(np.all(np.isfinite(W))), "W", "a finite (K, p) matrix, K >= 2",
            W.shape)
    norms = np.linalg.norm(W, axis=1)
    require(bool(np.all(norms > 0)), "W", "rows with nonzero norm", int(np.sum(norms == 0)))
    U = W / norms[:, None]
    C = np.clip(U @ U.T, -1.0, 1.0)
    iu = np.triu_indices(W.shape[0], k=1)
    ang = np.degrees(np.arccos(C[iu]))
    return AngleStats(W.shape[0], W.shape[1], float(ang.min()), float(ang.max()), float(ang.mean()),
                      float(ang.std()), etf_angle(W.shape[0]))


#: Largest memory :func:`angle_stats` may ask for.  An ImageNet classifier (K = 1000, p <= 4096) needs
#: about 0.1 GiB; a tensor's shape, not the file's size, sets the need (an expanded tensor of a 320 KB
#: file can claim K = 40000, 12 GiB for the Gram matrix alone), so the shape is checked before any copy.
MAX_ANGLE_BYTES = 2 * 2 ** 30


def angle_memory_bytes(K: int, p: int) -> int:
    """Peak float64 memory of :func:`angle_stats` on ``W  # (K, p)``: ``W`` and its normalised copy
    (``2 K p``), the Gram matrix, its upper-triangle indices and angles (about ``3 K^2``), 8 bytes each."""
    return 8 * (2 * K * p + 3 * K * K)


def _as_classifier(key: str, tensor: Any) -> tuple[str, np.ndarray]:
    """``(key, W)`` in float64 once ``tensor`` is real floating point and its angles fit the memory limit."""
    require(tensor.is_floating_point(), "checkpoint", f"a real floating-point classifier {key!r} (the angles of "
            f"complex or integer weights are not the paper's)", str(tensor.dtype))
    K, p = tensor.shape
    need = angle_memory_bytes(int(K), int(p))
    require(need <= MAX_ANGLE_BYTES, "checkpoint", f"a classifier whose angles fit in {MAX_ANGLE_BYTES / 2 ** 30:.0f} "
            f"GiB; {key!r} has shape ({K}, {p}), which needs {need / 2 ** 30:.3g} GiB", (int(K), int(p)))
    return key, tensor.detach().double().cpu().numpy()


def classifier_weight(state: dict) -> tuple[str, np.ndarray]:
    """``(key, W)``: the last layer of a torchvision state dict (a known key, else the last 2-D ``*.weight``),
    refused unless real floating point and within :data:`MAX_ANGLE_BYTES` (checked before any copy)."""
    require(isinstance(state, dict) and state, "checkpoint", "a non-empty state dict (name -> tensor)", type(state))
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    for key in CLASSIFIER_KEYS:
        if key in state and getattr(state[key], "ndim", 0) == 2:
            return _as_classifier(key, state[key])
    two_d = [k for k, v in state.items() if k.endswith(".weight") and getattr(v, "ndim", 0) == 2]
    require(bool(two_d), "checkpoint", "a state dict with a 2-D '*.weight' (the classifier)", sorted(state)[:5])
    return _as_classifier(two_d[-1], state[two_d[-1]])


def architecture(state: dict) -> str | None:
    """'vgg19' / 'resnet152' when the state dict has that torchvision layout, else None."""
    state = state.get("state_dict", state)
    keys = list(state)
    convs = {int(m.group(1)) for k in keys if (m := re.fullmatch(r"features\.(\d+)\.weight", k))
             and getattr(state.get(k), "ndim", 0) == 4}
    if convs and "classifier.6.weight" in keys and len(convs) == 16:
        return "vgg19"
    blocks = {(m.group(1), m.group(2)) for k in keys if (m := re.match(r"layer(\d)\.(\d+)\.conv3\.weight", k))}
    per_layer = tuple(sum(1 for layer, _ in blocks if layer == str(i)) for i in range(1, 5))
    return "resnet152" if per_layer == (3, 8, 36, 3) else None


def load_classifier(path: Path) -> tuple[str, np.ndarray, str | None]:
    """``(key, W, architecture)`` from the state dict at ``path`` (``torch.load(weights_only=True)``)."""
    import torch
    require(Path(path).is_file(), "--imagenet-checkpoint", "an existing state-dict file", str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    key, W = classifier_weight(state)
    return key, W, architecture(state)


def checked_checkpoint(path: Path, flag: str = "--imagenet-checkpoint") -> None:
    """Raise :class:`~lpm_verify.errors.LPMInputError` naming ``flag`` and the reason, in one line, unless
    ``path`` holds what the Fig. 9 checks read: a readable state dict with a real floating-point classifier
    ``W  # (K, p)``, K >= 2, finite, no zero row, within :data:`MAX_ANGLE_BYTES`.  The command line calls it
    before any check runs: a bad file is bad input, not a finding about the paper."""
    import torch
    path = Path(path)
    require(path.is_file(), flag, "an existing state-dict file", str(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        raise LPMInputError(f"{flag} must be a readable file; got {str(path)!r} ({exc.strerror or exc})") from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 -- torch.load of a foreign file raises anything (struct.error, EOFError,
        # UnpicklingError, RuntimeError of the zip reader...): each means "not a state dict", the user's file
        reason = " ".join(str(exc).split())[:160]
        raise LPMInputError(f"{flag} must be a torch state dict (torch.load with weights_only=True); {str(path)!r} "
                            f"is not ({type(exc).__name__}: {reason})") from None
    try:
        _, W = classifier_weight(state)
        require(W.shape[0] >= 2, "checkpoint", "a classifier with K >= 2 rows", W.shape)
        require(bool(np.all(np.isfinite(W))), "checkpoint", "a classifier of finite numbers",
                f"{int(np.sum(~np.isfinite(W)))} NaN or infinite entries")
        require(bool(np.all(np.linalg.norm(W, axis=1) > 0)), "checkpoint", "a classifier with no zero row",
                f"{int(np.sum(np.linalg.norm(W, axis=1) == 0))} zero rows")
    except LPMInputError as exc:
        raise LPMInputError(f"{flag} {str(exc).removeprefix('checkpoint ')} (in {str(path)!r})") from None
