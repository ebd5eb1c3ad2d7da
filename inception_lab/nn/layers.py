"""Building blocks shared by every Inception network: conv atoms and the multi-branch concatenation.

* :class:`ConvReLU` -- convolution + ReLU with a bias, as in the 2014 paper [GoogLeNet, §5: "All the
  convolutions, including those inside the Inception modules, use rectified linear activation"].
* :class:`ConvBNReLU` -- convolution (no bias) + BatchNorm + ReLU, the atom of BN-Inception [BN, §4.2] and of
  Inception-v3; attribute names ``conv``/``bn`` match torchvision's ``BasicConv2d`` so its weights load.
* :class:`SeparableConv` -- depthwise-separable convolution (BN-Inception's first layer).
* :data:`CONV_ATOMS` -- the atoms by name, the vocabulary of a network config's ``atom`` field.
* :class:`FactorizedConv`, :class:`StackedConv` -- the factorized convolutions of [Rethinking, §3].

The branch contract (:class:`~inception_lab.nn.branches.MultiBranch`, :class:`~inception_lab.nn.branches.Split`,
:func:`~inception_lab.nn.branches.to_spec`) is in :mod:`inception_lab.nn.branches`; the networks themselves (and the
Inception modules specific to one paper) live in :mod:`inception_lab.models`.

Introduced in chapter 1 (``notebooks/01_inception_module.ipynb``).
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn

from inception_lab.checks import IntPair, check_choice, check_positive_int, pair


class ConvBlockFactory(Protocol):
    """Signature shared by :class:`ConvReLU` and :class:`ConvBNReLU`, so a model can switch atoms in one line."""

    def __call__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0) -> nn.Module: ...


def _conv(in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair, padding: IntPair,
          bias: bool) -> nn.Conv2d:
    check_positive_int("in_channels", in_channels)
    check_positive_int("out_channels", out_channels)
    return nn.Conv2d(in_channels, out_channels, pair("kernel_size", kernel_size), stride=pair("stride", stride),
                     padding=pair("padding", padding, allow_zero=True), bias=bias)


class ConvReLU(nn.Module):
    """Convolution + ReLU, with bias [GoogLeNet, §5].

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H', W') with H' from the usual convolution arithmetic.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0) -> None:
        super().__init__()
        self.conv = _conv(in_channels, out_channels, kernel_size, stride, padding, bias=True)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x))


class ConvBNReLU(nn.Module):
    """Convolution (no bias) + BatchNorm + ReLU: BN goes "to the input of each nonlinearity" [BN, §3.2].

    The convolution has no bias because BN subtracts the per-channel mean right after it, which would cancel
    any bias; BN's own shift beta takes its role [BN, §3.2].

    Args:
        eps: BatchNorm epsilon. PyTorch's default is 1e-5; torchvision's Inception models use 1e-3 (the value of
            the TensorFlow models they were ported from), which :func:`conv_bn_relu_tv` sets.

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H', W').
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0, eps: float = 1e-5) -> None:
        super().__init__()
        self.conv = _conv(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=eps)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def conv_bn_relu_tv(in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                    padding: IntPair = 0) -> ConvBNReLU:
    """:class:`ConvBNReLU` with torchvision's BatchNorm epsilon (1e-3)."""
    return ConvBNReLU(in_channels, out_channels, kernel_size, stride, padding, eps=1e-3)


#: The conv atoms by name: ``"relu"`` (conv with bias + ReLU, the 2014 paper), ``"bn_relu"`` (conv + BN + ReLU,
#: PyTorch's BN epsilon 1e-5) and ``"bn_relu_tv"`` (the same with torchvision's epsilon 1e-3).
CONV_ATOMS: dict[str, ConvBlockFactory] = {"relu": ConvReLU, "bn_relu": ConvBNReLU, "bn_relu_tv": conv_bn_relu_tv}


class SeparableConv(nn.Module):
    """Depthwise-separable convolution: a per-channel k x k convolution, then a 1x1 ``conv_block``.

    BN-Inception's first layer is such a convolution: "Our model employed separable convolution with depth
    multiplier 8 on the first convolutional layer" [BN, Fig. 5]. For 3 -> 64 channels with a 7x7 kernel it has
    7*7*24 + 24*64 = 2,712 weights instead of 7*7*3*64 = 9,408 -- and 2.7K / 34M is exactly what GoogLeNet's
    Table 1 prints for its first line (chapter 2).

    Args:
        depth_multiplier: depthwise filters per input channel (BN-Inception: 8).
        conv_block: the pointwise atom (:class:`ConvReLU` or :class:`ConvBNReLU`).

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H', W'), H' = floor((H + 2 padding - k) / stride) + 1.

    Deviations:
        The depthwise convolution is linear (no bias, BN or ReLU), as in TensorFlow's ``separable_conv2d``;
        neither paper says. A bias there would fold into the pointwise convolution's bias.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int,
                 depth_multiplier: int = 8, conv_block: ConvBlockFactory = ConvReLU) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_positive_int("depth_multiplier", depth_multiplier)
        mid = in_channels * depth_multiplier
        self.depthwise = nn.Conv2d(in_channels, mid, kernel_size, stride=stride, padding=padding,
                                   groups=in_channels, bias=False)
        self.pointwise = conv_block(mid, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x C x H x W -> N x (C * depth_multiplier) x H' x W' -> N x out_channels x H' x W'
        return self.pointwise(self.depthwise(x))



# ---------------------------------------------------------------------------------------------------------
# Factorized convolutions [Rethinking, §3]
# ---------------------------------------------------------------------------------------------------------
#: What sits between the two factors of :class:`FactorizedConv`: nothing (a linear factorization), a ReLU, BatchNorm
#: + ReLU, or the same atom as the second factor (``"block"``). "Linear activation was always inferior to using
#: rectified linear units in all stages of the factorization" [Rethinking, §3.1, Fig. 2].
BETWEEN = ("none", "relu", "bn_relu", "block")


def conv_1xn(conv_block: ConvBlockFactory, in_channels: int, out_channels: int, n: int) -> nn.Module:
    """A ``1 x n`` convolution atom, padded to keep the grid [Rethinking, §3.2, Fig. 3]."""
    return conv_block(in_channels, out_channels, kernel_size=(1, n), padding=(0, n // 2))


def conv_nx1(conv_block: ConvBlockFactory, in_channels: int, out_channels: int, n: int) -> nn.Module:
    """An ``n x 1`` convolution atom, padded to keep the grid [Rethinking, §3.2, Fig. 3]."""
    return conv_block(in_channels, out_channels, kernel_size=(n, 1), padding=(n // 2, 0))


def _odd_side(name: str, n: int, minimum: int) -> int:
    check_positive_int(name, n)
    if n < minimum or n % 2 == 0:
        raise ValueError(f"{name} must be an odd kernel side >= {minimum} (so that padding keeps the grid), got {n}.")
    return n


class FactorizedConv(nn.Sequential):
    """An ``n x n`` convolution factorized into ``1 x n`` followed by ``n x 1`` (or the reverse) [Rethinking, §3.2].

    "Using a 3 x 1 convolution followed by a 1 x 3 convolution is equivalent to sliding a two layer network with
    the same receptive field as in a 3 x 3 convolution" [Rethinking, §3.2, Fig. 3]: per pair of input and output
    channels, 2n weights instead of n^2. Both factors are built by :func:`conv_1xn` / :func:`conv_nx1` (or a bare
    ``nn.Conv2d`` for a linear first factor), so the atoms are the ones every module of the book uses.

    Args:
        in_channels, out_channels: channels in and out of the pair.
        n: the kernel side being factorized (odd, so both factors are padded symmetrically).
        mid_channels: output channels of the first factor (default ``out_channels``).
        first: ``"1xn"`` (default) or ``"nx1"``: which factor comes first.
        between: what follows the first factor: ``"none"`` (a bare convolution without bias: the pair is linear up
            to the second atom, and computes one rank-1 ``n x n`` kernel per channel pair when ``mid_channels`` is 1,
            a sum of ``mid_channels`` rank-1 kernels otherwise), ``"relu"`` (:class:`ConvReLU`), ``"bn_relu"``
            (:class:`ConvBNReLU`) or ``"block"`` (``conv_block``, the same atom as the second factor).
        conv_block: the atom of the second factor (and of the first when ``between="block"``).

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H, W).

    Deviations:
        The paper's factorized modules use BN + ReLU after both factors (``between="block"`` with a BN atom);
        ``"none"`` exists for chapter 4's "what is given up" experiment, as does the Fig. 2 ablation it mirrors.
    """

    def __init__(self, in_channels: int, out_channels: int, n: int, *, mid_channels: int | None = None,
                 first: str = "1xn", between: str = "relu", conv_block: ConvBlockFactory = ConvReLU) -> None:
        _odd_side("n", n, 3)
        check_choice("first", first, ("1xn", "nx1"))
        check_choice("between", between, BETWEEN)
        mid = out_channels if mid_channels is None else check_positive_int("mid_channels", mid_channels)
        factors = (conv_1xn, conv_nx1) if first == "1xn" else (conv_nx1, conv_1xn)
        if between == "none":
            kernel = (1, n) if first == "1xn" else (n, 1)
            head: nn.Module = _conv(in_channels, mid, kernel, 1, (kernel[0] // 2, kernel[1] // 2), bias=False)
        else:
            atom = {"relu": ConvReLU, "bn_relu": ConvBNReLU, "block": conv_block}[between]
            head = factors[0](atom, in_channels, mid, n)
        super().__init__(head, factors[1](conv_block, mid, out_channels, n))
        self.n, self.first, self.between, self.mid_channels = n, first, between, mid


class StackedConv(nn.Sequential):
    """A ``k x k`` convolution replaced by a stack of 3x3 convolutions with the same receptive field.

    "Replacing the 5 x 5 convolution by two layers of 3 x 3" [Rethinking, §3.1, Fig. 1]: ``(k - 1) / 2`` stacked
    3x3 atoms see a ``k x k`` window (5x5 -> two, 7x7 -> three), with 9 weights per channel pair and layer instead of
    k^2. All layers but the last have ``mid_channels`` filters (default ``out_channels``).

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int, k: int, *, mid_channels: int | None = None,
                 conv_block: ConvBlockFactory = ConvReLU) -> None:
        _odd_side("k", k, 3)
        mid = out_channels if mid_channels is None else check_positive_int("mid_channels", mid_channels)
        depth = (k - 1) // 2
        layers, channels = [], check_positive_int("in_channels", in_channels)
        for i in range(depth):
            width = out_channels if i == depth - 1 else mid
            layers.append(conv_block(channels, width, kernel_size=3, padding=1))
            channels = width
        super().__init__(*layers)
        self.k, self.mid_channels = k, mid
