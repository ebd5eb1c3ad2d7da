"""Conv atoms and Inception modules: shapes, channel sums, equivalence proofs, bad inputs."""

import pytest
import torch
from torch import nn

from inception_lab.models import googlenet
from inception_lab.nn import layers
from inception_lab.nn.equivalence import compare_modules, copy_parameters_in_order


def test_naive_module_shapes_and_channel_sum():
    m = googlenet.NaiveInception(192, 64, 128, 32)
    y = m(torch.randn(2, 192, 28, 28))
    assert y.shape == (2, 192 + 64 + 128 + 32, 28, 28) and m.out_channels == 416
    assert m.branch_channels == {"branch1": 64, "branch2": 128, "branch3": 32, "branch4": 192}


@pytest.mark.parametrize("block", [layers.ConvReLU, layers.ConvBNReLU, layers.conv_bn_relu_tv])
@pytest.mark.parametrize("k", [3, 5])
def test_reduced_module_shapes(block, k):
    m = googlenet.Inception(192, 64, 96, 128, 16, 32, 32, conv_block=block, branch3_kernel_size=k)
    outs = m.branch_outputs(torch.randn(2, 192, 28, 28))
    assert [o.shape[1] for o in outs.values()] == [64, 128, 32, 32]
    assert m(torch.randn(2, 192, 28, 28)).shape == (2, 256, 28, 28)
    assert m.branch3[1].conv.kernel_size == (k, k)


def test_atoms():
    plain, bn = layers.ConvReLU(3, 8, 3, padding=1), layers.ConvBNReLU(3, 8, 3, padding=1)
    assert plain.conv.bias is not None and bn.conv.bias is None
    assert layers.conv_bn_relu_tv(3, 8, 1).bn.eps == 1e-3 and bn.bn.eps == 1e-5
    assert (plain(torch.randn(1, 3, 5, 5)) >= 0).all()
    asym = layers.ConvReLU(4, 4, (1, 7), padding=(0, 3))
    assert asym(torch.randn(1, 4, 9, 9)).shape == (1, 4, 9, 9)


def test_hand_built_module_equals_library_module():
    """The check chapter 1 runs: a module from plain nn layers equals googlenet.Inception."""
    class Mine(nn.Module):
        def __init__(self):
            super().__init__()
            self.b1 = nn.Sequential(nn.Conv2d(16, 4, 1), nn.ReLU())
            self.b2 = nn.Sequential(nn.Conv2d(16, 6, 1), nn.ReLU(), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU())
            self.b3 = nn.Sequential(nn.Conv2d(16, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 5, padding=2), nn.ReLU())
            self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(16, 4, 1), nn.ReLU())

        def forward(self, x):
            return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)

    result = compare_modules(Mine(), googlenet.Inception(16, 4, 6, 8, 2, 4, 4), torch.randn(2, 16, 9, 9))
    assert result.same and "the same network" in str(result)


def test_comparison_detects_a_different_network():
    a = googlenet.Inception(16, 4, 6, 8, 2, 4, 4)
    b = googlenet.Inception(16, 4, 6, 8, 2, 4, 4, branch3_kernel_size=5)
    copy_parameters_in_order(a, b)
    with torch.no_grad():
        b.branch1.conv.bias += 1.0
    result = compare_modules(a, b, torch.randn(1, 16, 7, 7), copy_weights=False)
    assert not result.same and "DIFFERENT" in str(result)
    with pytest.raises(ValueError, match="shape mismatch"):
        copy_parameters_in_order(a, googlenet.Inception(16, 4, 6, 8, 2, 4, 4, branch3_kernel_size=3))
    with pytest.raises(ValueError, match="not the same architecture"):
        copy_parameters_in_order(a, googlenet.NaiveInception(16, 4, 8, 4))


@pytest.mark.parametrize("build, message", [
    (lambda: googlenet.Inception(192, 64, 0, 128, 16, 32, 32), "in_channels|out_channels"),
    (lambda: googlenet.Inception(-3, 64, 96, 128, 16, 32, 32), "in_channels must be a positive integer"),
    (lambda: googlenet.Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel_size=7), "branch3_kernel_size"),
    (lambda: googlenet.NaiveInception(192, 64, 2.5, 32), "positive integer"),
    (lambda: layers.ConvReLU(3, 8, (1, 2, 3)), "kernel_size must be an int or a"),
])
def test_bad_construction_raises_value_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_wrong_input_shape_raises_value_error():
    m = googlenet.Inception(192, 64, 96, 128, 16, 32, 32)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 192, H, W\); got \(1, 3, 28, 28\)"):
        m(torch.randn(1, 3, 28, 28))
    with pytest.raises(ValueError, match="expects input of shape"):
        m(torch.randn(192, 28, 28))
