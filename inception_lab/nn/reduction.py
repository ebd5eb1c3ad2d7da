"""The three ways to shrink a grid while widening it [Rethinking, §5, Figs. 9 and 10], as torch modules.

* :class:`PoolFirst` -- stride-2 pooling, then a convolution ``k -> out`` on the small grid [Fig. 9, left];
* :class:`ConvFirst` -- a convolution ``k -> out`` on the full grid, then the stride-2 pooling [Fig. 9, right];
* :class:`GridReduction` -- stride-2 convolution branches beside a stride-2 pooling branch, concatenated [Fig. 10],
  declared through the branch contract (:class:`~inception_lab.nn.branches.MultiBranch`).

Each describes itself with the chains of :mod:`inception_lab.cost.grid_reduction` (same kernels, strides, paddings),
so their costs, diagrams and shapes come from the one shape walk. The study note this book follows calls Fig. 10 the
"Grid Reduction module"; torchvision's Inception-v3 uses two variants of it, ``InceptionB`` (Mixed_6a, 35 -> 17) and
``InceptionD`` (Mixed_7a, 17 -> 8), which live in :mod:`inception_lab.models.inception_v3`.

Introduced in chapter 5 (``notebooks/05_grid_reduction.ipynb``).
"""

from __future__ import annotations

import torch
from torch import nn

from inception_lab.checks import check_choice, check_non_negative_int, check_positive_int
from inception_lab.cost.grid_reduction import CONV_KERNELS, PADDINGS, POOLS
from inception_lab.nn.branches import MultiBranch
from inception_lab.nn.layers import ConvBlockFactory, ConvBNReLU


def stride2_pool(pool: str = "max", padding: str = "valid") -> nn.Module:
    """A 3x3/2 max or average pooling; ``padding="same"`` pads by 1 so an even grid is halved exactly.

    Average pooling counts the zero padding in its mean (PyTorch's default ``count_include_pad=True``).
    """
    check_choice("pool", pool, POOLS)
    pad = 1 if check_choice("padding", padding, PADDINGS) == "same" else 0
    return nn.MaxPool2d(3, stride=2, padding=pad) if pool == "max" else nn.AvgPool2d(3, stride=2, padding=pad)


class PoolFirst(nn.Sequential):
    """Pool first, then convolve [Rethinking, Fig. 9 left]: cheap, but a representational bottleneck.

    "switch to pooling first and then convolution, resulting in 2(d/2)^2k^2 ... this creates a representational
    bottlenecks as the overall dimensionality of the representation drops to (d/2)^2k" [Rethinking, §5].

    Args:
        in_channels, out_channels: ``k`` and the output width (``2k`` in the paper).
        kernel: side of the convolution (1: the paper's operation count; 3: a typical Inception layer).
        pool: ``"max"`` or ``"avg"``.
        padding: ``"valid"`` (Inception-v3: 35 -> 17) or ``"same"`` (``d -> d/2`` for even ``d``).
        conv_block: the conv atom (default conv-BN-ReLU, Inception-v3's).

    Shape:
        (N, k, d, d) -> (N, k, d', d') -> (N, out_channels, d', d'), d' = floor((d + 2p - 3) / 2) + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel: int = 3, pool: str = "max",
                 padding: str = "valid", conv_block: ConvBlockFactory = ConvBNReLU) -> None:
        check_positive_int("in_channels", in_channels)
        k = check_choice("kernel", kernel, CONV_KERNELS)
        super().__init__()
        self.pool = stride2_pool(pool, padding)
        self.conv = conv_block(in_channels, out_channels, kernel_size=k, padding=k // 2)
        self.in_channels, self.out_channels = in_channels, out_channels


class ConvFirst(nn.Sequential):
    """Convolve on the full grid, then pool [Rethinking, Fig. 9 right]: no bottleneck, four times the cost.

    "the computational cost is dominated by the expensive convolution on the larger grid using 2d^2k^2 operations"
    [Rethinking, §5]. Arguments as :class:`PoolFirst`.

    Shape:
        (N, k, d, d) -> (N, out_channels, d, d) -> (N, out_channels, d', d').
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel: int = 3, pool: str = "max",
                 padding: str = "valid", conv_block: ConvBlockFactory = ConvBNReLU) -> None:
        check_positive_int("in_channels", in_channels)
        k = check_choice("kernel", kernel, CONV_KERNELS)
        super().__init__()
        self.conv = conv_block(in_channels, out_channels, kernel_size=k, padding=k // 2)
        self.pool = stride2_pool(pool, padding)
        self.in_channels, self.out_channels = in_channels, out_channels


class GridReduction(MultiBranch):
    """Inception module that reduces the grid while it expands the filter banks [Rethinking, Fig. 10].

    "two parallel stride 2 blocks: P and C. P is a pooling layer (either average or maximum pooling) ... the filter
    banks of which are concatenated" [Rethinking, §5]. Every branch reaches the reduced grid in its last layer, so
    no representation is ever narrower than the output.

    Branches (``state_dict`` names as torchvision's ``InceptionB``, so Mixed_6a's weights load):
        branch3x3: [1x1 ``ch3x3red`` ->] 3x3/2 ``ch3x3``    (``branch3x3`` or ``branch3x3_1``, ``branch3x3_2``)
        branch3x3dbl: 1x1 ``ch3x3dbl_red`` -> 3x3 ``ch3x3dbl`` -> 3x3/2 ``ch3x3dbl``   (``branch3x3dbl_1`` ... ``_3``)
        branch_pool: 3x3/2 max or average pooling (``max_pool`` / ``avg_pool``), all ``in_channels`` passed on

    Args:
        in_channels: ``k``.
        ch3x3: filters of the single stride-2 3x3 branch (0: no such branch).
        ch3x3red: its 1x1 reduction (0: none, as in Mixed_6a; Fig. 10 draws one).
        ch3x3dbl_red, ch3x3dbl: the double-3x3 branch (``ch3x3dbl`` 0: no such branch).
        pool, padding: as :class:`PoolFirst`.
        conv_block: the conv atom.

    Deviations:
        torchvision calls ``F.max_pool2d`` in ``forward``; here the pooling is a module (``max_pool``, as in
        :class:`inception_lab.models.inception_v3.InceptionB`) so the branch contract sees it. It has no parameters,
        so ``state_dict`` keys are unchanged.

    Shape:
        (N, in_channels, d, d) -> (N, ch3x3 + ch3x3dbl + in_channels, d', d').
    """

    def __init__(self, in_channels: int, ch3x3: int, *, ch3x3red: int = 0, ch3x3dbl_red: int = 0, ch3x3dbl: int = 0,
                 pool: str = "max", padding: str = "valid", conv_block: ConvBlockFactory = ConvBNReLU) -> None:
        super().__init__(in_channels)
        for name, value in dict(ch3x3=ch3x3, ch3x3red=ch3x3red, ch3x3dbl_red=ch3x3dbl_red, ch3x3dbl=ch3x3dbl).items():
            check_non_negative_int(name, value)
        if ch3x3 == 0 and ch3x3dbl == 0:
            raise ValueError("GridReduction needs at least one convolution branch: ch3x3 or ch3x3dbl >= 1.")
        pad = 1 if check_choice("padding", padding, PADDINGS) == "same" else 0
        if ch3x3 and ch3x3red:
            self.add_branch("branch3x3", ("branch3x3_1", conv_block(in_channels, ch3x3red, kernel_size=1)),
                            ("branch3x3_2", conv_block(ch3x3red, ch3x3, kernel_size=3, stride=2, padding=pad)))
        elif ch3x3:
            self.add_branch("branch3x3", ("branch3x3", conv_block(in_channels, ch3x3, kernel_size=3, stride=2,
                                                                   padding=pad)))
        if ch3x3dbl:
            red = check_positive_int("ch3x3dbl_red (needed with a double branch)", ch3x3dbl_red)
            self.add_branch("branch3x3dbl", ("branch3x3dbl_1", conv_block(in_channels, red, kernel_size=1)),
                            ("branch3x3dbl_2", conv_block(red, ch3x3dbl, kernel_size=3, padding=1)),
                            ("branch3x3dbl_3", conv_block(ch3x3dbl, ch3x3dbl, kernel_size=3, stride=2, padding=pad)))
        self.add_branch("branch_pool", (f"{pool}_pool", stride2_pool(pool, padding)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x k x d x d -> N x (ch3x3 + ch3x3dbl + k) x d' x d'
        return super().forward(x)


__all__ = ["stride2_pool", "PoolFirst", "ConvFirst", "GridReduction"]
