"""The analytic cost model against PyTorch's own counters, over many random configurations.

The configurations come from hypothesis: the ``ci`` profile (tests/conftest.py) bounds how many, and a failure is
shrunk to the smallest configuration that still fails.
"""

import random
import subprocess
import sys

import pytest
import torch
import torchinfo
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from inception_lab import cost, shapes
from inception_lab.models import googlenet
from inception_lab.nn import layers


def measured(model: nn.Module, shape: tuple[int, ...]) -> tuple[int, int]:
    """(params, MACs) measured by PyTorch: sum of numel, FlopCounterMode FLOPs / 2."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(shape))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return sum(p.numel() for p in model.parameters()), flops // 2


@st.composite
def convolutions(draw) -> tuple[nn.Module, tuple[int, ...]]:
    """Any 2-D convolution (groups, rectangular kernels, strides, padding, dilation, bias) and an input it fits."""
    groups = draw(st.sampled_from([1, 2, 4]))
    c_in, c_out = groups * draw(st.integers(1, 12)), groups * draw(st.integers(1, 12))
    kh, kw = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    dilation = draw(st.sampled_from([1, 2]))
    h, w = draw(st.integers(dilation * (kh - 1) + 1, 20)), draw(st.integers(dilation * (kw - 1) + 1, 20))
    conv = nn.Conv2d(c_in, c_out, (kh, kw), stride=stride, padding=padding, dilation=dilation, groups=groups,
                     bias=draw(st.booleans()))
    return conv, (draw(st.integers(1, 3)), c_in, h, w)


@given(convolutions())
def test_count_equals_measurement_for_random_convolutions(conv_and_shape):
    conv, shape = conv_and_shape
    report = cost.count(conv, shape)
    assert (report.params, report.macs) == measured(conv, shape)
    assert report.flops == 2 * report.macs


@st.composite
def stacks(draw) -> tuple[nn.Module, tuple[int, ...]]:
    """Conv + BN + ReLU (+ max-pool) blocks, then global pooling and a linear layer, with and without biases."""
    c = first = draw(st.integers(1, 8))
    side = size = draw(st.integers(8, 24))
    mods: list[nn.Module] = []
    for _ in range(draw(st.integers(1, 3))):
        out, k = draw(st.integers(1, 16)), draw(st.sampled_from([1, 3, 5]))
        mods += [nn.Conv2d(c, out, k, padding=k // 2, bias=draw(st.booleans())), nn.BatchNorm2d(out), nn.ReLU()]
        if draw(st.booleans()):  # three halvings of 8 px still leave 1 px
            mods.append(nn.MaxPool2d(2))
            size //= 2
        c = out
    mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, draw(st.integers(1, 10)), bias=draw(st.booleans()))]
    return nn.Sequential(*mods).eval(), (draw(st.integers(1, 4)), first, side, side)


@given(stacks())
def test_count_equals_measurement_for_random_stacks(model_and_shape):
    model, shape = model_and_shape
    report = cost.count(model, shape)
    assert (report.params, report.macs) == measured(model, shape)


WIDTH = st.integers(1, 48)
WIDTHS = st.fixed_dictionaries({k: WIDTH for k in ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")})


@given(c_in=st.integers(1, 64), size=st.integers(5, 20), w=WIDTHS, bn=st.booleans(), k=st.sampled_from([3, 5]))
def test_reduced_module_formula_equals_count_and_measurement(c_in, size, w, bn, k):
    block = layers.ConvBNReLU if bn else layers.ConvReLU
    module = googlenet.Inception(c_in, **w, conv_block=block, branch3_kernel_size=k).eval()
    shape = (1, c_in, size, size)
    analytic = cost.inception_reduced_cost(c_in, size, **w, bias=not bn, batchnorm=bn, branch3_kernel_size=k)
    report = cost.count(module, shape)
    assert analytic.total == cost.Cost(report.params, report.macs)
    assert (report.params, report.macs) == measured(module, shape)
    assert analytic.out_channels == module.out_channels == module(torch.zeros(shape)).shape[1]
    assert {k: v for k, v in report.group(1).items()} == analytic.branches


@given(c_in=st.integers(1, 64), size=st.integers(5, 20), widths=st.tuples(WIDTH, WIDTH, WIDTH))
def test_naive_module_formula_equals_count_and_measurement(c_in, size, widths):
    module = googlenet.NaiveInception(c_in, *widths).eval()
    shape = (2, c_in, size, size)
    analytic = cost.inception_naive_cost(c_in, size, *widths, batch=2)
    assert analytic.total == cost.Cost(*measured(module, shape))
    assert analytic.out_channels == c_in + sum(widths) == module(torch.zeros(shape)).shape[1]


@pytest.mark.parametrize("bn", [False, True])
@pytest.mark.parametrize("batch", [1, 3])
def test_torchinfo_mult_adds_are_reproduced(bn, batch):
    """torchinfo adds bias terms and 2C per BatchNorm; CostReport.torchinfo_mult_adds predicts its total."""
    block = layers.ConvBNReLU if bn else layers.ConvReLU
    model = nn.Sequential(googlenet.Inception(32, 8, 8, 16, 4, 8, 8, conv_block=block), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(40, 10)).eval()
    shape = (batch, 32, 14, 14)
    summary = torchinfo.summary(model, input_size=shape, verbose=0)
    report = cost.count(model, shape)
    assert summary.total_params == report.params
    assert summary.total_mult_adds == report.torchinfo_mult_adds
    assert summary.total_mult_adds > report.macs


def test_googlenet_3a_matches_table1_ops():
    """[GoogLeNet, Table 1]: inception (3a) costs 128M ops and 159K params (K = 1024, weights only)."""
    c = cost.inception_reduced_cost(192, 28, 64, 96, 128, 16, 32, 32)
    assert round(c.total.macs / 1e6) == 128
    weights = cost.inception_reduced_cost(192, 28, 64, 96, 128, 16, 32, 32, bias=False).total.params
    assert int(weights / 1024) == 159


def test_conv_output_size_matches_torch():
    rng = random.Random(7)
    for _ in range(200):
        size, k, s, d = rng.randint(1, 30), rng.randint(1, 7), rng.randint(1, 4), rng.randint(1, 2)
        p = rng.randint(0, 3)
        if d * (k - 1) + 1 > size + 2 * p:
            with pytest.raises(ValueError, match="does not fit"):
                shapes.conv_output_size(size, k, s, p, d)
            continue
        out = nn.Conv2d(1, 1, k, s, p, d)(torch.zeros(1, 1, size, size)).shape[-1]
        assert shapes.conv_output_size(size, k, s, p, d) == out


def test_pool_output_size_matches_torch():
    rng = random.Random(8)
    for _ in range(400):
        size, k, s = rng.randint(1, 30), rng.randint(1, 5), rng.randint(1, 4)
        p, ceil = rng.randint(0, k // 2), rng.random() < 0.5
        try:
            out = nn.MaxPool2d(k, s, p, ceil_mode=ceil)(torch.zeros(1, 1, size, size)).shape[-1]
        except RuntimeError:
            with pytest.raises(ValueError, match="does not fit"):
                shapes.pool_output_size(size, k, s, p, ceil)
            continue
        assert shapes.pool_output_size(size, k, s, p, ceil) == out
    assert shapes.pool_output_size(2, 3, 2, 0, ceil_mode=True) == 1  # the window hangs over the edge


@pytest.mark.parametrize("call, message", [
    (lambda: cost.conv2d_cost(0, 8, 3, 5), "in_channels must be a positive integer"),
    (lambda: cost.conv2d_cost(8, -1, 3, 5), "out_channels must be a positive integer"),
    (lambda: cost.conv2d_cost(6, 8, 3, 5, groups=4), "divisible by groups"),
    (lambda: cost.conv2d_cost(8, 8, 3.0, 5), "kernel_size must be a positive integer"),
    (lambda: shapes.conv_output_size(4, 7), "does not fit"),
    (lambda: cost.inception_reduced_cost(192, 28, 64, 0, 128, 16, 32, 32), "ch3x3red"),
    (lambda: cost.inception_naive_cost(192, 0, 64, 128, 32), "size must be a positive integer"),
    (lambda: cost.linear_cost(10, True), "out_features"),
])
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_count_rejects_bad_shapes_and_non_modules():
    with pytest.raises(ValueError, match="batch dimension"):
        cost.count(nn.Conv2d(3, 4, 3), (3,))
    with pytest.raises(ValueError, match="positive integer"):
        cost.count(nn.Conv2d(3, 4, 3), (1, 3, 0, 8))
    with pytest.raises(ValueError, match="nn.Module"):
        cost.count("not a model", (1, 3, 8, 8))


def test_count_includes_parameters_of_layers_that_did_not_run():
    class Partly(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Conv2d(3, 4, 1), nn.Linear(5, 6)

        def forward(self, x):
            return self.used(x)

    report = cost.count(Partly(), (1, 3, 4, 4))
    assert report.params == 16 + 36
    unused = next(layer for layer in report.layers if layer.name == "unused")
    assert unused.macs == 0 and unused.output_shape is None
    assert "(not run)" in report.table()


def test_formula_layer_imports_without_torch():
    """The explorers' cost model is pure Python: importing it must not import torch."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "from inception_lab import cost\n"
            "m = cost.compare_inception_modules(192, 28, 64, 96, 128, 16, 32, 32)\n"
            "print(m['reduced'].total.macs, m['naive'].out_channels)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # The same numbers as with torch: the reduced (3a)'s MACs (FlopCounterMode-checked above; [GoogLeNet, Table 1]
    # rounds them to 128M) and the naive module's 192 + 64 + 128 + 32 output channels.
    expected = cost.compare_inception_modules(192, 28, 64, 96, 128, 16, 32, 32)
    assert out.split() == [str(expected["reduced"].total.macs), str(expected["naive"].out_channels)] == ["128049152",
                                                                                                          "416"]
