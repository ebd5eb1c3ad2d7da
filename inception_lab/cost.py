"""Analytic cost model: parameters, MACs and FLOPs of the layers the Inception family is made of.

Units, defined once for the whole book:

* **params** -- number of learnable scalars (weights and biases; BatchNorm's gamma and beta).
* **MACs** -- multiply-accumulates of convolutions and linear layers: one multiplication of a weight by an
  input value, added to a running sum. This is what GoogLeNet's "1.5 billion multiply-adds" [GoogLeNet, §1]
  and the "ops" column of its Table 1 count, and what torchvision publishes as "GFLOPS".
* **FLOPs** -- floating point operations, ``FLOPs = 2 * MACs`` (one multiply plus one add), the convention of
  ``torch.utils.flop_counter.FlopCounterMode``.

Bias additions, BatchNorm, ReLU, pooling and concatenation count **0 MACs**, as in ``FlopCounterMode``: they
are cheap element-wise work (and an inference-time BatchNorm folds into the preceding convolution). torchinfo's
"mult-adds" differ by exactly these small terms; :meth:`CostReport.torchinfo_mult_adds` reproduces its number.

The formula layer (everything above :func:`count`) is pure Python -- it imports no torch -- so the cost
explorers can run without PyTorch. :func:`count` walks a real ``torch.nn.Module`` and applies the same formulas.
Introduced in chapter 1 (``notebooks/01_inception_module.ipynb``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence, Union

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    import torch

IntPair = Union[int, Sequence[int]]


# ---------------------------------------------------------------------------------------------------------
# Validation helpers (shared by the formulas and, via ``inception_lab.layers``, by the torch modules)
# ---------------------------------------------------------------------------------------------------------
def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` if it is an integer >= 1, else raise a ``ValueError`` that says what is allowed."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a positive integer, got {value!r} ({type(value).__name__}).")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value}.")
    return value


def check_non_negative_int(name: str, value: Any) -> int:
    """Return ``value`` if it is an integer >= 0, else raise a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r} ({type(value).__name__}).")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer (>= 0), got {value}.")
    return value


def pair(name: str, value: IntPair, *, allow_zero: bool = False) -> tuple[int, int]:
    """Normalise an int or a (height, width) pair, validating both entries."""
    check = check_non_negative_int if allow_zero else check_positive_int
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}.")
        return check(f"{name}[0]", value[0]), check(f"{name}[1]", value[1])
    v = check(name, value)
    return v, v


# ---------------------------------------------------------------------------------------------------------
# Spatial sizes
# ---------------------------------------------------------------------------------------------------------
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution along one axis: ``floor((size + 2p - d(k-1) - 1) / s) + 1``.

    Raises:
        ValueError: if the (dilated) kernel is larger than the padded input, so no output position exists.
    """
    check_positive_int("size", size)
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("stride", stride)
    check_non_negative_int("padding", padding)
    check_positive_int("dilation", dilation)
    span = dilation * (kernel_size - 1) + 1
    if span > size + 2 * padding:
        raise ValueError(
            f"kernel of size {kernel_size} (dilation {dilation}) does not fit an input of size {size} with "
            f"padding {padding}: the padded input must be at least {span} long."
        )
    return (size + 2 * padding - span) // stride + 1


def pool_output_size(size: int, kernel_size: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> int:
    """Output length of a max/avg pooling window along one axis, exactly PyTorch's rule (``ceil_mode`` included).

    In ``ceil_mode`` a window may hang over the edge: a 3x3/2 pooling of a 2x2 map gives one output.

    Raises:
        ValueError: if the padding exceeds half the window, or no output position exists.
    """
    check_positive_int("size", size)
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("stride", stride)
    check_non_negative_int("padding", padding)
    if 2 * padding > kernel_size:
        raise ValueError(f"pool padding must be at most half the kernel size, got padding {padding} for "
                         f"kernel {kernel_size}.")
    span = size + 2 * padding - kernel_size
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    # PyTorch drops a last window that would start inside the right padding.
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise ValueError(f"pooling window {kernel_size} (stride {stride}, padding {padding}) does not fit an input "
                         f"of size {size}.")
    return out


# ---------------------------------------------------------------------------------------------------------
# Cost of one layer
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cost:
    """Parameters and MACs of a layer, a branch, a module or a model. ``FLOPs = 2 * MACs``."""

    params: int = 0
    macs: int = 0

    @property
    def flops(self) -> int:
        """Floating point operations, counting a multiply-accumulate as two (``FlopCounterMode``'s unit)."""
        return 2 * self.macs

    def __add__(self, other: "Cost") -> "Cost":
        if not isinstance(other, Cost):
            return NotImplemented
        return Cost(self.params + other.params, self.macs + other.macs)

    def __radd__(self, other: Any) -> "Cost":  # lets sum() start from 0
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


# ---------------------------------------------------------------------------------------------------------
# Cost of an Inception module, branch by branch (pure Python, used by the explorers)
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModuleCost:
    """Per-branch costs of a multi-branch module and the size of what it outputs.

    Attributes:
        branches: branch name -> Cost, in concatenation order.
        branch_channels: branch name -> output channels of that branch.
        output_size: (height, width) of every branch's output (they must agree to be concatenated).
    """

    branches: dict[str, Cost]
    branch_channels: dict[str, int]
    output_size: tuple[int, int]

    @property
    def out_channels(self) -> int:
        """Channels after the filter concatenation: the sum over branches."""
        return sum(self.branch_channels.values())

    @property
    def total(self) -> Cost:
        return total(self.branches.values())


def _conv_chain_cost(
    in_channels: int, size: tuple[int, int], layers: Sequence[tuple[int, int, int]], *, bias: bool,
    batchnorm: bool, batch: int,
) -> tuple[Cost, int, tuple[int, int]]:
    """Cost of stacked 'same'-padded convolutions given as (out_channels, kernel, padding) with stride 1."""
    cost, c, (h, w) = Cost(), in_channels, size
    for out_channels, k, p in layers:
        h, w = conv_output_size(h, k, 1, p), conv_output_size(w, k, 1, p)
        cost += conv2d_cost(c, out_channels, k, (h, w), bias=bias, batch=batch)
        if batchnorm:
            cost += batchnorm_cost(out_channels)
        c = out_channels
    return cost, c, (h, w)


def inception_naive_cost(
    in_channels: int, size: IntPair, ch1x1: int, ch3x3: int, ch5x5: int, *, bias: bool = True,
    batchnorm: bool = False, batch: int = 1,
) -> ModuleCost:
    """Naive Inception module [GoogLeNet, Fig. 2a]: 1x1, 3x3, 5x5 convolutions and 3x3 max-pool in parallel.

    The pooling branch has no parameters and passes all ``in_channels`` through, which is why stacking naive
    modules makes the channel count grow from module to module [GoogLeNet, §4].
    """
    check_positive_int("in_channels", in_channels)
    hw = pair("size", size)
    branches, channels = {}, {}
    for name, (width, k) in {"branch1": (ch1x1, 1), "branch2": (ch3x3, 3), "branch3": (ch5x5, 5)}.items():
        check_positive_int(f"{name} width", width)
        cost, c, out_hw = _conv_chain_cost(in_channels, hw, [(width, k, k // 2)], bias=bias,
                                           batchnorm=batchnorm, batch=batch)
        branches[name], channels[name] = cost, c
    branches["branch4"], channels["branch4"] = Cost(), in_channels
    return ModuleCost(branches, channels, out_hw)


def inception_reduced_cost(
    in_channels: int, size: IntPair, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
    pool_proj: int, *, bias: bool = True, batchnorm: bool = False, branch3_kernel_size: int = 5, batch: int = 1,
) -> ModuleCost:
    """Inception module with dimension reductions [GoogLeNet, Fig. 2b]; arguments are Table 1's columns.

    ``branch3_kernel_size=3`` gives torchvision's variant (pytorch/vision#906); ``batchnorm=True, bias=False``
    gives its conv-BN-ReLU atoms.
    """
    check_positive_int("in_channels", in_channels)
    hw = pair("size", size)
    for name, value in dict(ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3, ch5x5red=ch5x5red, ch5x5=ch5x5,
                            pool_proj=pool_proj).items():
        check_positive_int(name, value)
    if branch3_kernel_size not in (3, 5):
        raise ValueError(f"branch3_kernel_size must be 5 (the paper) or 3 (torchvision), got {branch3_kernel_size}.")
    k5 = branch3_kernel_size
    chains = {
        "branch1": [(ch1x1, 1, 0)],
        "branch2": [(ch3x3red, 1, 0), (ch3x3, 3, 1)],
        "branch3": [(ch5x5red, 1, 0), (ch5x5, k5, k5 // 2)],
        "branch4": [(pool_proj, 1, 0)],  # after a 3x3/1 max-pool with padding 1 (no parameters, 0 MACs)
    }
    branches, channels = {}, {}
    for name, layers in chains.items():
        cost, c, out_hw = _conv_chain_cost(in_channels, hw, layers, bias=bias, batchnorm=batchnorm, batch=batch)
        branches[name], channels[name] = cost, c
    return ModuleCost(branches, channels, out_hw)


def compare_inception_modules(
    in_channels: int, size: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int,
) -> dict[str, ModuleCost]:
    """The naive module [Fig. 2a] and the reduced one [Fig. 2b] with the same 1x1/3x3/5x5 output widths.

    This is the comparison behind the chapter-1 explorer: same input, same number of 3x3 and 5x5 filters,
    with and without the 1x1 reductions (and with the pool projection instead of passing pooled channels on).
    """
    return {
        "naive": inception_naive_cost(in_channels, size, ch1x1, ch3x3, ch5x5),
        "reduced": inception_reduced_cost(in_channels, size, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj),
    }


# ---------------------------------------------------------------------------------------------------------
# Counting a real model (torch is imported only inside count())
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerCost:
    """One row of a :class:`CostReport`: a module that owns parameters or does multiply-accumulates."""

    name: str
    kind: str
    params: int
    macs: int
    input_shape: tuple[int, ...] | None  # None when the layer did not run (e.g. an aux head in eval mode)
    output_shape: tuple[int, ...] | None
    torchinfo_extra: int = 0  # what torchinfo adds on top of MACs for this layer (see torchinfo_mult_adds)

    @property
    def flops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True)
class CostReport:
    """Result of :func:`count`: totals plus a per-layer breakdown.

    Attributes:
        params: all parameters of the model (``sum(p.numel() for p in model.parameters())``).
        macs: multiply-accumulates of the forward pass on ``input_shape`` (whole batch).
        input_shape: the shape that was run.
        layers: one :class:`LayerCost` per module that has parameters or MACs, in registration order.
    """

    params: int
    macs: int
    input_shape: tuple[int, ...]
    layers: tuple[LayerCost, ...] = field(repr=False)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def torchinfo_mult_adds(self) -> int:
        """torchinfo's ``total_mult_adds`` for the same forward pass.

        torchinfo also counts every bias once per output value (conv: C_out * H_out * W_out per sample;
        linear: out_features per sample) and each BatchNorm as 2 * C per sample (gamma and beta, not scaled by
        H * W). Those terms are the whole difference from MACs.
        """
        return self.macs + sum(layer.torchinfo_extra for layer in self.layers)

    def group(self, depth: int = 1) -> dict[str, Cost]:
        """Costs summed by the first ``depth`` components of the layer names (e.g. per module, per branch)."""
        check_positive_int("depth", depth)
        out: dict[str, Cost] = {}
        for layer in self.layers:
            key = ".".join(layer.name.split(".")[:depth])
            out[key] = out.get(key, Cost()) + Cost(layer.params, layer.macs)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """The per-layer breakdown as plain dicts (ready for a table or ``pandas.DataFrame``)."""
        return [
            dict(name=l.name, kind=l.kind, input=l.input_shape, output=l.output_shape, params=l.params,
                 macs=l.macs)
            for l in self.layers
        ]

    def table(self, depth: int | None = None) -> str:
        """A fixed-width text table: per layer, or per group of names when ``depth`` is given."""
        if depth is None:
            lines = [f"{'layer':<32} {'kind':<12} {'output':<20} {'params':>12} {'MACs':>15}"]
            for l in self.layers:
                shape = "x".join(map(str, l.output_shape)) if l.output_shape else "(not run)"
                lines.append(f"{l.name:<32} {l.kind:<12} {shape:<20} {l.params:>12,} {l.macs:>15,}")
        else:
            lines = [f"{'group':<32} {'params':>12} {'MACs':>15}"]
            lines += [f"{k:<32} {c.params:>12,} {c.macs:>15,}" for k, c in self.group(depth).items()]
        lines.append(f"{'total':<32} {self.params:>12,} {self.macs:>15,}" if depth is not None else
                     f"{'total':<32} {'':<12} {'':<20} {self.params:>12,} {self.macs:>15,}")
        return "\n".join(lines)

    def __iter__(self) -> Iterator[LayerCost]:
        return iter(self.layers)


def count(model: "torch.nn.Module", input_shape: Sequence[int]) -> CostReport:
    """Count parameters and MACs of ``model`` on an input of ``input_shape`` (batch dimension included).

    Runs one forward pass of zeros under ``torch.no_grad()`` in the model's current mode (eval mode is what
    you usually want: in train mode GoogLeNet-style auxiliary heads run too) and records, with forward hooks,
    the input and output shape of every ``nn.Conv2d`` and ``nn.Linear``; their MACs come from
    :func:`conv2d_cost` and :func:`linear_cost`. Every other layer counts 0 MACs, as in ``FlopCounterMode``.
    Parameters are counted for every module, whether or not it ran.

    Example:
        >>> report = count(model.eval(), (1, 3, 224, 224))
        >>> report.params, report.macs, report.flops
    """
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise ValueError(f"count() needs a torch.nn.Module, got {type(model).__name__}.")
    if isinstance(input_shape, int) or len(input_shape) < 2:
        raise ValueError(f"input_shape must include the batch dimension, e.g. (1, 3, 224, 224); got {input_shape!r}.")
    shape = tuple(check_positive_int(f"input_shape[{i}]", s) for i, s in enumerate(input_shape))

    seen: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def record(name: str):
        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            if name in seen:
                raise ValueError(f"module {name!r} ran twice in one forward pass; count() needs each layer to "
                                 "run once (shared layers are not supported).")
            seen[name] = (tuple(inputs[0].shape), tuple(output.shape))
        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in model.named_modules()
               if isinstance(m, (nn.Conv2d, nn.Linear, nn.modules.batchnorm._BatchNorm))]
    try:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else torch.device("cpu")
        dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
        with torch.no_grad():
            model(torch.zeros(shape, device=device, dtype=dtype))
    finally:
        for h in handles:
            h.remove()

    layers = []
    for name, module in model.named_modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        ran = seen.get(name)
        macs = extra = 0
        if ran is not None and isinstance(module, nn.Conv2d):
            (n, _, _, _), (_, _, oh, ow) = ran[0], ran[1]
            kh, kw = module.kernel_size
            cost = conv2d_cost(module.in_channels, module.out_channels, (kh, kw), (oh, ow),
                               groups=module.groups, bias=module.bias is not None, batch=n)
            macs, extra = cost.macs, (n * module.out_channels * oh * ow if module.bias is not None else 0)
        elif ran is not None and isinstance(module, nn.Linear):
            rows = math.prod(ran[0][:-1])
            macs = linear_cost(module.in_features, module.out_features, bias=module.bias is not None,
                               batch=rows).macs
            extra = rows * module.out_features if module.bias is not None else 0
        elif ran is not None and isinstance(module, nn.modules.batchnorm._BatchNorm):
            extra = ran[0][0] * own
        if own or macs:
            layers.append(LayerCost(name, type(module).__name__, own, macs, ran[0] if ran else None,
                                    ran[1] if ran else None, extra))
    params = sum(p.numel() for p in model.parameters())
    return CostReport(params=params, macs=sum(l.macs for l in layers), input_shape=shape, layers=tuple(layers))
