"""Cost of one layer and of a chain of layers: parameters and MACs (units: see :mod:`inception_lab.cost`).

Pure Python: imports only :mod:`inception_lab.checks` and :mod:`inception_lab.shapes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from inception_lab.checks import IntPair, check_positive_int, pair
from inception_lab.shapes import Node, Op, Parallel, Shape, apply, chain_label, start_shape


@dataclass(frozen=True)
class Cost:
    """Parameters and MACs of a layer, a branch, a module or a model. ``FLOPs = 2 * MACs``."""

    params: int = 0
    macs: int = 0

    @property
    def flops(self) -> int:
        """Floating point operations, counting a multiply-accumulate as two (``FlopCounterMode``'s unit)."""
        return 2 * self.macs

    def __add__(self, other: Cost) -> Cost:
        if not isinstance(other, Cost):
            return NotImplemented
        return Cost(self.params + other.params, self.macs + other.macs)

    def __radd__(self, other: Any) -> Cost:  # lets sum() start from 0
        if other == 0:
            return self
        return NotImplemented


def total(costs: Iterable[Cost]) -> Cost:
    """Sum of several costs."""
    return sum(costs, Cost())


def conv2d_cost(
    in_channels: int,
    out_channels: int,
    kernel_size: IntPair,
    output_size: IntPair,
    *,
    groups: int = 1,
    bias: bool = True,
    batch: int = 1,
) -> Cost:
    """Cost of a 2-D convolution that produces an ``output_size`` feature map.

    params = C_out * (C_in / groups) * k_h * k_w (+ C_out biases);
    MACs = N * C_out * H_out * W_out * (C_in / groups) * k_h * k_w -- every output value is one dot product
    over a (C_in/groups) x k_h x k_w window [GoogLeNet, §5: "ops" of Table 1].
    """
    check_positive_int("in_channels", in_channels)
    check_positive_int("out_channels", out_channels)
    check_positive_int("groups", groups)
    check_positive_int("batch", batch)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                         f"divisible by groups ({groups}).")
    kh, kw = pair("kernel_size", kernel_size)
    oh, ow = pair("output_size", output_size)
    weights = out_channels * (in_channels // groups) * kh * kw
    params = weights + (out_channels if bias else 0)
    return Cost(params=params, macs=batch * oh * ow * weights)


def linear_cost(in_features: int, out_features: int, *, bias: bool = True, batch: int = 1) -> Cost:
    """Cost of a fully connected layer applied to ``batch`` vectors: MACs = N * in * out."""
    check_positive_int("in_features", in_features)
    check_positive_int("out_features", out_features)
    check_positive_int("batch", batch)
    weights = in_features * out_features
    return Cost(params=weights + (out_features if bias else 0), macs=batch * weights)


def batchnorm_cost(num_features: int, *, affine: bool = True) -> Cost:
    """Cost of BatchNorm [BN, Alg. 1]: gamma and beta per channel, 0 MACs (it folds into the conv at inference)."""
    check_positive_int("num_features", num_features)
    return Cost(params=2 * num_features if affine else 0, macs=0)


def separable_conv_cost(in_channels: int = 3, out_channels: int = 64, kernel_size: int = 7,
                        output_size: int = 112, depth_multiplier: int = 8, bias: bool = False) -> Cost:
    """Cost of a depthwise-separable convolution (:class:`~inception_lab.nn.layers.SeparableConv`).

    depthwise: ``in_channels * depth_multiplier`` filters of ``k x k`` over one channel each; pointwise: a 1x1
    convolution to ``out_channels``. The defaults are GoogLeNet's Table 1 first line (3 -> 24 -> 64, 7x7, 112x112
    output): 2,712 weights and 34,019,328 MACs -- the printed "2.7K" and "34M" [BN, Fig. 5: "separable
    convolution with depth multiplier 8 on the first convolutional layer"].
    """
    mid = in_channels * check_positive_int("depth_multiplier", depth_multiplier)
    return (conv2d_cost(in_channels, mid, kernel_size, output_size, groups=in_channels, bias=False)
            + conv2d_cost(mid, out_channels, 1, output_size, bias=bias))


def op_cost(op: Op, before: Shape, after: Shape, *, batch: int = 1) -> Cost:
    """Cost of one :class:`~inception_lab.shapes.Op` that turned ``before`` into ``after``: pooling is free."""
    if op.kind != "conv":
        return Cost()
    cost = conv2d_cost(before.channels, after.channels, op.kernel, (after.height, after.width), groups=op.groups,
                       bias=op.bias, batch=batch)
    return cost + batchnorm_cost(after.channels) if op.batchnorm else cost


@dataclass(frozen=True)
class ModuleCost:
    """Per-branch costs of a multi-branch module and the size of what it outputs.

    Attributes:
        branches: branch name -> Cost, in concatenation order.
        branch_channels: branch name -> output channels of that branch.
        output_size: (height, width) of every branch's output (they must agree to be concatenated).
        labels: branch name -> a short description derived from its layers (``"1x1 → 3x3"``).
    """

    branches: dict[str, Cost]
    branch_channels: dict[str, int]
    output_size: tuple[int, int]
    labels: dict[str, str]

    @property
    def out_channels(self) -> int:
        """Channels after the filter concatenation: the sum over branches."""
        return sum(self.branch_channels.values())

    @property
    def total(self) -> Cost:
        return total(self.branches.values())


def chain_cost(chain: Sequence[Node], start: Shape, *, batch: int = 1) -> tuple[Cost, Shape]:
    """Cost of a chain of :mod:`~inception_lab.shapes` nodes on an input of shape ``start``, and its output shape."""
    cost, shape = Cost(), start
    for node in chain:
        if isinstance(node, Parallel):
            cost += module_cost(node, shape, batch=batch).total
            shape = apply(node, shape)
        else:
            after = apply(node, shape)
            cost += op_cost(node, shape, after, batch=batch)
            shape = after
    return cost, shape


def module_cost(module: Parallel, start: Shape, *, batch: int = 1) -> ModuleCost:
    """Branch-by-branch cost of a :class:`~inception_lab.shapes.Parallel` node on an input of shape ``start``."""
    branches, channels, labels, grids = {}, {}, {}, set()
    for branch in module.branches:
        cost, out = chain_cost(branch.chain, start, batch=batch)
        branches[branch.name], channels[branch.name], labels[branch.name] = cost, out.channels, branch.text
        grids.add((out.height, out.width))
    if len(grids) != 1:
        raise ValueError(f"branch outputs have different grid sizes {sorted(grids)}; they cannot be concatenated.")
    return ModuleCost(branches, channels, grids.pop(), labels)


def parallel_cost(module: Parallel, in_channels: int, size: IntPair, *, batch: int = 1) -> ModuleCost:
    """:func:`module_cost` on an ``in_channels x size`` input (``size`` an int or a (height, width) pair)."""
    h, w = pair("size", size)
    return module_cost(module, start_shape(in_channels, h, w), batch=batch)


__all__ = ["Cost", "total", "conv2d_cost", "linear_cost", "batchnorm_cost", "separable_conv_cost", "op_cost",
           "ModuleCost", "chain_cost", "module_cost", "parallel_cost", "chain_label"]
