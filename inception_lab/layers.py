"""Building blocks shared by every Inception network: conv atoms and the multi-branch concatenation.

* :class:`ConvReLU` -- convolution + ReLU with a bias, as in the 2014 paper [GoogLeNet, §5: "All the
  convolutions, including those inside the Inception modules, use rectified linear activation"].
* :class:`ConvBNReLU` -- convolution (no bias) + BatchNorm + ReLU, the atom of BN-Inception [BN, §4.2] and of
  Inception-v3; attribute names ``conv``/``bn`` match torchvision's ``BasicConv2d`` so its weights load.
* :class:`MultiBranch` -- parallel branches whose outputs are concatenated along channels (the "filter
  concatenation" of [GoogLeNet, Fig. 2]); every Inception module in the book derives from it.
* :class:`NaiveInception` [GoogLeNet, Fig. 2a] and :class:`Inception` [GoogLeNet, Fig. 2b].

Introduced in chapter 1 (``notebooks/01_inception_module.ipynb``).
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn

from inception_lab.cost import IntPair, check_positive_int, pair


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


def check_input(x: torch.Tensor, in_channels: int, who: str) -> None:
    """Raise a ``ValueError`` unless ``x`` is a 4-D (N, in_channels, H, W) tensor."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{who} expects a torch.Tensor, got {type(x).__name__}.")
    if x.dim() != 4 or x.shape[1] != in_channels:
        raise ValueError(f"{who} expects input of shape (N, {in_channels}, H, W); got {tuple(x.shape)}.")


class MultiBranch(nn.Module):
    """Parallel branches on the same input, outputs concatenated along channels [GoogLeNet, Fig. 2].

    Subclasses build their branches and pass them as ``name -> (module, out_channels)``; the names become
    attributes (``branch1``, ``branch2``, ...) so that ``state_dict`` keys read like the paper's figure.

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H', W') with ``out_channels = sum(branch_channels)``.
    """

    def __init__(self, in_channels: int, branches: dict[str, tuple[nn.Module, int]]) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.branch_channels: dict[str, int] = {}
        for name, (module, channels) in branches.items():
            self.add_module(name, module)
            self.branch_channels[name] = channels

    @property
    def out_channels(self) -> int:
        """Channels after the filter concatenation."""
        return sum(self.branch_channels.values())

    def branch_outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every branch's output before the concatenation (for inspection and feature maps)."""
        check_input(x, self.in_channels, type(self).__name__)
        outputs = {name: getattr(self, name)(x) for name in self.branch_channels}
        sizes = {name: tuple(out.shape[2:]) for name, out in outputs.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"{type(self).__name__}: branch outputs have different grid sizes {sizes}; "
                             f"the input {tuple(x.shape[2:])} is too small for this module.")
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x H x W -> N x out_channels x H' x W'
        return torch.cat(list(self.branch_outputs(x).values()), dim=1)


class NaiveInception(MultiBranch):
    """Naive Inception module [GoogLeNet, Fig. 2a]: 1x1, 3x3, 5x5 convolutions and 3x3 max-pooling in parallel.

    The pooling branch has no projection, so it passes all ``in_channels`` through and the output has
    ``in_channels + ch1x1 + ch3x3 + ch5x5`` channels: stacked naive modules can only grow [GoogLeNet, §4].

    Shape:
        (N, in_channels, H, W) -> (N, in_channels + ch1x1 + ch3x3 + ch5x5, H, W).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int,
                 conv_block: ConvBlockFactory = ConvReLU) -> None:
        super().__init__(in_channels, {
            "branch1": (conv_block(in_channels, ch1x1, kernel_size=1), ch1x1),
            "branch2": (conv_block(in_channels, ch3x3, kernel_size=3, padding=1), ch3x3),
            "branch3": (conv_block(in_channels, ch5x5, kernel_size=5, padding=2), ch5x5),
            "branch4": (nn.MaxPool2d(kernel_size=3, stride=1, padding=1), in_channels),
        })


class Inception(MultiBranch):
    """Inception module with dimension reductions [GoogLeNet, Fig. 2b]; arguments are Table 1's columns.

    Branches (``state_dict`` names as in torchvision's ``googlenet.Inception``):
        branch1: 1x1 conv (``ch1x1``)
        branch2: 1x1 reduce (``ch3x3red``) -> 3x3 conv (``ch3x3``)
        branch3: 1x1 reduce (``ch5x5red``) -> 5x5 conv (``ch5x5``)
        branch4: 3x3/1 max-pool -> 1x1 projection (``pool_proj``)

    Args:
        conv_block: :class:`ConvReLU` (the paper) or :class:`ConvBNReLU` / :func:`conv_bn_relu_tv`.
        branch3_kernel_size: 5 as in the paper.

    Deviations:
        ``branch3_kernel_size=3`` reproduces torchvision, whose "5x5" branch uses a 3x3 kernel, a port bug kept
        for weight compatibility (pytorch/vision#906). The pooling branch uses ``ceil_mode=True`` like torchvision;
        with stride 1 and padding 1 this changes nothing.

    Shape:
        (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int, conv_block: ConvBlockFactory = ConvReLU, branch3_kernel_size: int = 5) -> None:
        if branch3_kernel_size not in (3, 5):
            raise ValueError(f"branch3_kernel_size must be 5 (the paper) or 3 (torchvision), got "
                             f"{branch3_kernel_size!r}.")
        k = branch3_kernel_size
        super().__init__(in_channels, {
            "branch1": (conv_block(in_channels, ch1x1, kernel_size=1), ch1x1),
            "branch2": (nn.Sequential(conv_block(in_channels, ch3x3red, kernel_size=1),
                                      conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1)), ch3x3),
            "branch3": (nn.Sequential(conv_block(in_channels, ch5x5red, kernel_size=1),
                                      conv_block(ch5x5red, ch5x5, kernel_size=k, padding=k // 2)), ch5x5),
            "branch4": (nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                      conv_block(in_channels, pool_proj, kernel_size=1)), pool_proj),
        })
