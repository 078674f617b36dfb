"""experiments.models: every architecture exposes features h (B, p) and a classifier W (K, p)."""
from __future__ import annotations

import pytest
import torch

from experiments.models import build_model
from lpm_verify.errors import LPMInputError


@pytest.mark.parametrize("arch, p", [("mlp", 32), ("cnn", 128), ("vgg11", 4096), ("vgg13", 4096), ("resnet18", 512)])
@pytest.mark.parametrize("channels, size", [(1, 28), (3, 32)])
def test_shapes(arch, p, channels, size):
    torch.manual_seed(0)
    model = build_model(arch, channels, size, K=10, bias=False, width=32).eval()
    x = torch.randn(2, channels, size, size)
    with torch.no_grad():
        h = model.features(x)
        z = model(x)
    assert h.shape == (2, p) and model.p == p
    assert z.shape == (2, 10)
    assert model.classifier.weight.shape == (10, p) and model.classifier.bias is None
    torch.testing.assert_close(z, h @ model.classifier.weight.T)   # logits = W h, no bias (Eq. 7)


def test_bias_is_configurable():
    assert build_model("mlp", 1, 28, K=10, bias=True, width=8).classifier.bias.shape == (10,)


def test_unknown_arch():
    with pytest.raises(LPMInputError, match="arch must be one of"):
        build_model("vgg19", 1, 28, K=10)


def test_small_images_are_resized_not_padded():
    """FashionMNIST's 28x28 images reach VGG/ResNet resized to 32x32 (bilinear, as the authors' pipeline),
    not zero-padded: a constant image stays constant (padding would put zeros at its border)."""
    from experiments.models import ResizeTo
    x = torch.full((1, 1, 28, 28), 0.7)
    y = ResizeTo(32)(x)
    assert y.shape == (1, 1, 32, 32) and torch.allclose(y, torch.full_like(y, 0.7))
    same = torch.ones(1, 3, 32, 32)
    assert ResizeTo(32)(same) is same  # already 32x32: unchanged
