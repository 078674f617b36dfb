"""Networks of Section 4.C (VGG11/13 with batch norm in place of dropout, CIFAR-style ResNet18) and
small CPU models (MLP, CNN).

Every model is ``features`` (the last-layer features ``h(x; W_{-L})`` of Eq. 3, ``# (B, p)``) followed
by ``classifier`` (``W_L``, a ``Linear(p, K)`` whose bias is configurable: the LPM has none, the
paper's networks had one).
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from lpm_verify.errors import require

ARCHS = ("mlp", "cnn", "vgg11", "vgg13", "resnet18")
_VGG_CFG = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg13": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
}


class Classifier(nn.Module):
    """``logits = W_L h(x) (+ b)``; ``features(x)`` exposes ``h(x)``."""

    def __init__(self, features: nn.Module, p: int, K: int, bias: bool) -> None:
        super().__init__()
        self.features = features
        self.classifier = nn.Linear(p, K, bias=bias)
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class ResizeTo(nn.Module):
    """Resize images to ``size x size`` by bilinear interpolation (FashionMNIST 28x28 -> 32x32 for the
    five-pool VGG/ResNet), as the authors' data pipeline resizes them (torchvision ``Resize(32)``, bilinear);
    done on the device per batch, so the stored subset keeps the dataset's own images."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] == (self.size, self.size):
            return x
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)


def mlp_features(in_dim: int, width: int, depth: int) -> nn.Sequential:
    """``depth`` hidden layers Linear-BN-ReLU; the last one's output is ``h  # (B, width)``."""
    layers: list[nn.Module] = [nn.Flatten()]
    for i in range(depth):
        layers += [nn.Linear(in_dim if i == 0 else width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def cnn_features(in_channels: int, width: int) -> nn.Sequential:
    """Three conv-BN-ReLU-pool stages, global average pool: ``h  # (B, 4 width)``."""
    layers: list[nn.Module] = []
    c = in_channels
    for out in (width, 2 * width, 4 * width):
        layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True),
                   nn.MaxPool2d(2)]
        c = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


#: Width of VGG's classifier head: the two hidden layers of the original VGG (Simonyan and Zisserman) and of
#: the authors' code are 4096 wide, so the last-layer features have p = 4096.
VGG_HEAD_WIDTH = 4096


def vgg_features(cfg: tuple, in_channels: int, head_width: int = VGG_HEAD_WIDTH) -> nn.Sequential:
    """VGG convolutional stack with BatchNorm; the paper replaces the dropout of the original
    classifier head with BN (Section 4.C): Linear-BN-ReLU twice, ``head_width`` wide, before the last layer."""
    layers: list[nn.Module] = [ResizeTo(32)]
    c = in_channels
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            c = v
    layers += [nn.Flatten()]
    for width_in in (512, head_width):
        layers += [nn.Linear(width_in, head_width), nn.BatchNorm1d(head_width), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """ResNet basic block (He et al. 2016): two 3x3 conv-BN, identity or 1x1 projection shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


def resnet18_features(in_channels: int) -> nn.Sequential:
    """CIFAR-style ResNet18: 3x3 stem, no max-pool, stages (64, 128, 256, 512) x 2 blocks, global
    average pool: ``h  # (B, 512)``."""
    layers: list[nn.Module] = [ResizeTo(32), nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64),
                               nn.ReLU(inplace=True)]
    c = 64
    for out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [BasicBlock(c, out, stride), BasicBlock(out, out, 1)]
        c = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


#: Architectures whose features end in a linear map (Linear-BN-ReLU), which a frozen backbone keeps trainable.
FREEZABLE = ("mlp", "vgg11", "vgg13")


def freeze_backbone(model: Classifier) -> list[nn.Parameter]:
    """Freeze the random backbone: every parameter of ``model.features`` stops training except the weight and
    bias of its last ``Linear`` (the features' final linear map); the last layer ``W_L`` trains.  BatchNorm
    layers keep normalizing with batch statistics in training (their affine parameters are frozen at their
    initial values), so the frozen part is a fixed random map up to that normalization.  Returns the
    parameters that still train (for the optimizer): this separates the last-layer geometry (Eq. 7's
    variables) from feature learning."""
    linears = [m for m in model.features.modules() if isinstance(m, nn.Linear)]
    require(bool(linears), "frozen_backbone", f"an architecture whose features end in a linear map {FREEZABLE}",
            type(model.features).__name__)
    keep = {id(p) for p in linears[-1].parameters()}
    for p in model.features.parameters():
        p.requires_grad_(id(p) in keep)
    return [p for p in model.parameters() if p.requires_grad]


def build_model(arch: str, in_channels: int, image_size: int, K: int, bias: bool = True,
                width: int = 64) -> Classifier:
    """Build ``arch`` for ``in_channels x image_size x image_size`` inputs and ``K`` classes.

    ``width`` sets the MLP hidden width (``p = width``) and the CNN base width (``p = 4 width``);
    VGG has ``p = VGG_HEAD_WIDTH = 4096`` (its classifier head, as the authors' code) and ResNet18 ``p = 512``
    (its last stage, global-average-pooled).
    """
    require(arch in ARCHS, "arch", f"one of {ARCHS}", arch)
    require(isinstance(width, int) and width >= 1, "width", "an integer >= 1", width)
    if arch == "mlp":
        return Classifier(mlp_features(in_channels * image_size * image_size, width, depth=2), width, K, bias)
    if arch == "cnn":
        return Classifier(cnn_features(in_channels, width), 4 * width, K, bias)
    if arch in _VGG_CFG:
        return Classifier(vgg_features(_VGG_CFG[arch], in_channels), VGG_HEAD_WIDTH, K, bias)
    return Classifier(resnet18_features(in_channels), 512, K, bias)
