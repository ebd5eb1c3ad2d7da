"""Building blocks shared by every Inception network: conv atoms and the multi-branch concatenation.

* :class:`ConvReLU` -- convolution + ReLU with a bias, as in the 2014 paper [GoogLeNet, §5: "All the
  convolutions, including those inside the Inception modules, use rectified linear activation"].
* :class:`ConvBNReLU` -- convolution (no bias) + BatchNorm + ReLU, the atom of BN-Inception [BN, §4.2] and of
  Inception-v3; attribute names ``conv``/``bn`` match torchvision's ``BasicConv2d`` so its weights load.
* :class:`SeparableConv` -- depthwise-separable convolution (BN-Inception's first layer).
* :class:`MultiBranch` -- the **branch contract**: parallel branches whose outputs are concatenated along
  channels (the "filter concatenation" of [GoogLeNet, Fig. 2]). Every Inception module of the book derives from
  it and declares its branches with :meth:`MultiBranch.add_branch`; cost counting, feature capture, the
  explorers and the diagrams work from that contract alone.

The networks themselves (and the Inception modules specific to one paper) live in :mod:`inception_lab.models`.

Introduced in chapter 1 (``notebooks/01_inception_module.ipynb``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol, Union

import torch
from torch import nn

from inception_lab.checks import IntPair, check_choice, check_image_batch, check_positive_int, pair
from inception_lab.nn.batchnorm import ScratchBatchNorm2d
from inception_lab.shapes import BranchSpec, Node, Op, Parallel, chain_channels


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



#: One step of a branch: one ``(attribute, module)``, or several run on the same input and concatenated.
StepSpec = Union[tuple[str, nn.Module], Sequence[tuple[str, nn.Module]]]


@dataclass(frozen=True)
class Branch:
    """One branch of a :class:`MultiBranch` module, as declared by :meth:`MultiBranch.add_branch`.

    Attributes:
        name: the branch's key (``"branch2"``, ``"branch7x7dbl"``): used in feature capture, costs and legends.
        steps: attribute names of the module's layers, in order; a step with several names runs those layers on
            the same input and concatenates their outputs (Inception-v3's expanded filter bank).
        label: a fixed label, or ``""`` to derive one from the layers (``"1x1 → 3x3"``).
    """

    name: str
    steps: tuple[tuple[str, ...], ...]
    label: str = ""


class MultiBranch(nn.Module):
    """Parallel branches on the same input, outputs concatenated along channels [GoogLeNet, Fig. 2].

    The branch contract: a subclass calls :meth:`add_branch` once per branch, in concatenation order, giving each
    layer the attribute name that ``state_dict`` keys should have (torchvision's names, so its weights load).
    From the declared branches the module knows its branches' labels and output channels, its
    :meth:`spec` for the shape walk, and how to compute :meth:`branch_outputs`; nothing else needs to know how a
    particular module is wired.

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H', W') with ``out_channels = sum(branch_channels)``.
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self._branches: list[Branch] = []
        self._recorded: dict[str, torch.Tensor] | None = None

    def add_branch(self, name: str, *steps: StepSpec, label: str = "") -> None:
        """Register a branch: its layers as ``(attribute, module)`` steps (a list of them = a split step)."""
        if any(b.name == name for b in self._branches):
            raise ValueError(f"{type(self).__name__} already has a branch named {name!r}.")
        names: list[tuple[str, ...]] = []
        for step in steps:
            parts = [step] if isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str) else list(step)
            if not parts:
                raise ValueError(f"branch {name!r}: a step needs at least one (attribute, module) pair.")
            for attribute, module in parts:
                if not isinstance(module, nn.Module):
                    raise ValueError(f"branch {name!r}: {attribute!r} must be an nn.Module, got "
                                     f"{type(module).__name__}.")
                self.add_module(attribute, module)
            names.append(tuple(attribute for attribute, _ in parts))
        self._branches.append(Branch(name, tuple(names), label))

    @property
    def branches(self) -> tuple[Branch, ...]:
        """The declared branches, in concatenation order."""
        return tuple(self._branches)

    def spec(self) -> Parallel:
        """This module as a :class:`~inception_lab.shapes.Parallel` node (for the shape walk, costs, diagrams)."""
        def step_chain(step: tuple[str, ...]) -> tuple:
            if len(step) == 1:
                return to_spec(getattr(self, step[0]))
            return (Parallel(tuple(BranchSpec(n, to_spec(getattr(self, n))) for n in step)),)

        return Parallel(tuple(BranchSpec(b.name, tuple(node for step in b.steps for node in step_chain(step)),
                                         b.label) for b in self._branches))

    @property
    def branch_labels(self) -> dict[str, str]:
        """Branch name -> label (declared, or derived from the layers: ``"1x1 → 3x3"``)."""
        return {b.name: b.text for b in self.spec().branches}

    @property
    def branch_channels(self) -> dict[str, int]:
        """Branch name -> channels that branch contributes to the concatenation."""
        return {b.name: chain_channels(b.chain, self.in_channels) for b in self.spec().branches}

    @property
    def out_channels(self) -> int:
        """Channels after the filter concatenation."""
        return sum(self.branch_channels.values())

    def _run(self, step: tuple[str, ...], x: torch.Tensor) -> torch.Tensor:
        if len(step) == 1:
            return getattr(self, step[0])(x)
        return torch.cat([getattr(self, name)(x) for name in step], dim=1)

    def branch_outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every branch's output before the concatenation (for inspection and feature maps)."""
        check_image_batch(x, self.in_channels, type(self).__name__)
        outputs = {}
        for branch in self._branches:
            y = x
            for step in branch.steps:
                y = self._run(step, y)
            outputs[branch.name] = y
        sizes = {name: tuple(out.shape[2:]) for name, out in outputs.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"{type(self).__name__}: branch outputs have different grid sizes {sizes}; "
                             f"the input {tuple(x.shape[2:])} is too small for this module.")
        return outputs

    @contextmanager
    def recording_branches(self) -> Iterator[dict[str, torch.Tensor]]:
        """Inside the ``with`` block, each forward pass stores its branch outputs in the yielded dict."""
        self._recorded = recorded = {}
        try:
            yield recorded
        finally:
            self._recorded = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x H x W -> N x out_channels x H' x W'
        outputs = self.branch_outputs(x)
        if self._recorded is not None:
            self._recorded.update(outputs)
        return torch.cat(list(outputs.values()), dim=1)


# ---------------------------------------------------------------------------------------------------------
# Any module as a chain of shape-walk nodes (the branch contract's other half)
# ---------------------------------------------------------------------------------------------------------
#: Layers that change neither the grid nor the channels.
POINTWISE = (nn.ReLU, nn.modules.batchnorm._BatchNorm, nn.LocalResponseNorm, nn.Dropout, nn.Identity, nn.Sigmoid,
             nn.Flatten, ScratchBatchNorm2d)


def _ints(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def to_spec(module: nn.Module) -> tuple[Node, ...]:
    """``module`` as a chain of :class:`~inception_lab.shapes.Op` and :class:`~inception_lab.shapes.Parallel` nodes.

    Understands convolutions, max/avg pooling, global average pooling, :class:`~inception_lab.nn.layers.MultiBranch`
    modules (through their branch contract), ``nn.Sequential`` and any container whose children run in
    registration order (the conv atoms), networks with a ``main_path()``, and layers that keep the shape (ReLU,
    BatchNorm, LRN, dropout).

    Raises:
        ValueError: for a layer whose effect on the shape it does not know.
    """
    if isinstance(module, MultiBranch):
        return (module.spec(),)
    if hasattr(module, "main_path"):
        return tuple(node for _, child in module.main_path() for node in to_spec(child))
    if isinstance(module, nn.Conv2d):
        if module.padding_mode != "zeros" or isinstance(module.padding, str):
            raise ValueError("to_spec supports convolutions with integer zero padding only.")
        return (Op("conv", kernel=_ints(module.kernel_size), stride=_ints(module.stride),
                   padding=_ints(module.padding), dilation=_ints(module.dilation), out_channels=module.out_channels,
                   groups=module.groups, bias=module.bias is not None),)
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        kind = "max_pool" if isinstance(module, nn.MaxPool2d) else "avg_pool"
        stride = module.stride if module.stride is not None else module.kernel_size
        return (Op(kind, kernel=_ints(module.kernel_size), stride=_ints(stride), padding=_ints(module.padding),
                   ceil_mode=bool(module.ceil_mode)),)
    if isinstance(module, nn.AdaptiveAvgPool2d):
        if _ints(module.output_size) != (1, 1):
            raise ValueError("to_spec supports adaptive average pooling to 1x1 (global pooling) only.")
        return (Op("global_avg_pool"),)
    if isinstance(module, POINTWISE):
        return ()
    children = list(module.children())
    if children:
        nodes: list[Node] = []
        for child in children:
            if isinstance(child, (nn.modules.batchnorm._BatchNorm, ScratchBatchNorm2d)) and nodes and isinstance(nodes[-1], Op) \
                    and nodes[-1].kind == "conv":
                nodes[-1] = replace(nodes[-1], batchnorm=True)  # conv -> BN: the cost model counts gamma, beta
            nodes += to_spec(child)
        return tuple(nodes)
    raise ValueError(f"to_spec does not know what {type(module).__name__} does to a feature map's shape.")



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
