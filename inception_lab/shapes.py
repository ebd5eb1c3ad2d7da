"""The one shape walk of the book: output sizes, stage shapes, the smallest input, and receptive fields.

A network is described here as a *chain* of nodes, in pure Python (no torch):

* :class:`Op` -- one spatial operation: a convolution, a max or average pooling, or a global average pooling;
* :class:`Parallel` -- branches that read the same input and are concatenated along channels (the "filter
  concatenation" of [GoogLeNet, Fig. 2]); each :class:`BranchSpec` is itself a chain, so a branch may split again
  (Inception-v3's expanded filter bank [Rethinking, Fig. 7]).

:func:`walk` follows a chain from an input of ``(channels, height, width)`` and returns, after every node, the
shape and the exact receptive field. Everything that asks "what size comes out?" uses it: the torch modules
describe themselves as chains (:func:`inception_lab.nn.branches.to_spec`), and the cost formulas build chains
directly (:mod:`inception_lab.cost`), so there is one implementation of the arithmetic.

Receptive fields follow the usual recurrence (Araujo et al., "Computing receptive fields of convolutional neural
networks", Distill 2019): for a layer with kernel k (dilated: d(k-1)+1), stride s and padding p,
``size' = size + (k-1) * jump``, ``start' = start + ((k-1)/2 - p) * jump`` and ``jump' = jump * s``, where *start* is
the input coordinate of the centre of the first output position. Parallel branches see the union of their fields.

Pure Python, importing only :mod:`inception_lab.checks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from inception_lab.checks import IntPair, check_non_negative_int, check_positive_int, pair

OP_KINDS = ("conv", "max_pool", "avg_pool", "global_avg_pool")


# ---------------------------------------------------------------------------------------------------------
# One axis
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


def scale_width(channels: int, width_divisor: int, min_channels: int = 1) -> int:
    """The book's one width-scaling rule: ``channels / width_divisor`` rounded half up, at least ``min_channels``.

    0 (an absent branch, as in BN-Inception's modules 3c and 4e) stays 0. The mini presets divide every width of
    a paper's table by the same divisor, so the proportions between branches and modules stay the paper's.
    ``min_channels`` is TF-slim's ``min_depth`` (16 in its Inception-v3, "enforced when depth_multiplier < 1"): no
    scaled width falls below it (nor above the printed width), so a large divisor cannot leave a layer one or two
    channels wide, where a single ReLU that stops firing blocks the whole network.
    """
    check_non_negative_int("channels", channels)
    check_positive_int("width_divisor", width_divisor)
    check_positive_int("min_channels", min_channels)
    if channels == 0:
        return 0
    return max(min(min_channels, channels), (channels + width_divisor // 2) // width_divisor)


# ---------------------------------------------------------------------------------------------------------
# Chains
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    """One spatial operation of a chain.

    Attributes:
        kind: ``"conv"``, ``"max_pool"``, ``"avg_pool"`` or ``"global_avg_pool"``.
        kernel, stride, padding, dilation: (height, width) pairs, as in ``nn.Conv2d`` / ``nn.MaxPool2d``.
        ceil_mode: pooling rounds its output size up (PyTorch's ``ceil_mode``).
        out_channels: filters of a convolution (``None`` for pooling, which keeps the channels).
        groups: convolution groups (a depthwise convolution has ``groups == in_channels``).
        bias: the convolution has a bias (for the cost model).
        batchnorm: a BatchNorm follows the convolution (for the cost model: 2 parameters per channel).
    """

    kind: str
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    ceil_mode: bool = False
    out_channels: int | None = None
    groups: int = 1
    bias: bool = False
    batchnorm: bool = False

    def __post_init__(self) -> None:
        if self.kind not in OP_KINDS:
            raise ValueError(f"Op kind must be one of {OP_KINDS}, got {self.kind!r}.")
        if (self.kind == "conv") != (self.out_channels is not None):
            raise ValueError("a convolution needs out_channels; a pooling must not have them.")

    @property
    def kernel_text(self) -> str:
        """``"3x3"``, ``"1x7"``; with ``"/2"`` appended for stride 2."""
        text = f"{self.kernel[0]}x{self.kernel[1]}"
        if self.stride != (1, 1):
            text += f"/{self.stride[0]}" if self.stride[0] == self.stride[1] else f"/{self.stride[0]}x{self.stride[1]}"
        return text

    @property
    def short_label(self) -> str:
        """What a branch label shows: ``"3x3"`` for a convolution, ``"3x3 max-pool"`` for a pooling."""
        if self.kind == "conv":
            return self.kernel_text + (" dw" if self.groups > 1 else "")
        if self.kind == "global_avg_pool":
            return "global avg-pool"
        return f"{self.kernel_text} {self.kind.replace('_pool', '')}-pool"

    @property
    def label(self) -> str:
        """What a diagram box shows: ``"3x3 conv, 96"``, ``"3x3/2 max-pool"``, ``"global avg-pool"``."""
        if self.kind == "conv":
            kind = "depthwise conv" if self.groups > 1 else "conv"
            return f"{self.kernel_text} {kind}, {self.out_channels}"
        return self.short_label


def conv(out_channels: int, kernel: IntPair, stride: IntPair = 1, padding: IntPair | None = None, *,
         groups: int = 1, bias: bool = False, batchnorm: bool = False) -> Op:
    """A convolution :class:`Op`; ``padding=None`` pads "same" (half the kernel) so stride 1 keeps the grid."""
    k = pair("kernel", kernel)
    p = (k[0] // 2, k[1] // 2) if padding is None else pair("padding", padding, allow_zero=True)
    return Op("conv", kernel=k, stride=pair("stride", stride), padding=p,
              out_channels=check_positive_int("out_channels", out_channels),
              groups=check_positive_int("groups", groups),
              bias=bias, batchnorm=batchnorm)


def pool(kind: str, kernel: IntPair, stride: IntPair, padding: IntPair = 0, *, ceil_mode: bool = False) -> Op:
    """A ``"max"`` or ``"avg"`` pooling :class:`Op`."""
    if kind not in ("max", "avg"):
        raise ValueError(f"pool kind must be 'max' or 'avg', got {kind!r}.")
    return Op(f"{kind}_pool", kernel=pair("kernel", kernel), stride=pair("stride", stride),
              padding=pair("padding", padding, allow_zero=True), ceil_mode=ceil_mode)


@dataclass(frozen=True)
class BranchSpec:
    """One branch of a :class:`Parallel` node: a name (the attribute or key) and its chain."""

    name: str
    chain: tuple[Node, ...]
    label: str = ""  # empty: derived from the chain by :func:`chain_label`

    @property
    def text(self) -> str:
        """The label, derived from the chain when none was given (``"1x1 -> 3x3"``)."""
        return self.label or chain_label(self.chain)


@dataclass(frozen=True)
class Parallel:
    """Branches that read the same input and are concatenated along channels, in order."""

    branches: tuple[BranchSpec, ...]

    def __post_init__(self) -> None:
        if not self.branches:
            raise ValueError("a Parallel node needs at least one branch.")


Node = Op | Parallel


def chain_label(chain: Sequence[Node]) -> str:
    """A short text for a chain: its operations joined by arrows, e.g. ``"1x1 -> 3x3 -> 3x3"``.

    A chain that does nothing spatial (an identity) reads ``"identity"``; a nested split reads ``"[1x3 | 3x1]"``.
    """
    parts = []
    for node in chain:
        if isinstance(node, Op):
            parts.append(node.short_label)
        else:
            parts.append("[" + " | ".join(b.text for b in node.branches) + "]")
    return " -> ".join(parts) if parts else "identity"


def chain_channels(chain: Sequence[Node], in_channels: int) -> int:
    """Channels at the end of ``chain`` for ``in_channels`` in: no grid needed (pooling keeps the channels)."""
    channels = check_positive_int("in_channels", in_channels)
    for node in chain:
        if isinstance(node, Op):
            channels = node.out_channels if node.kind == "conv" else channels  # type: ignore[assignment]
        else:
            channels = sum(chain_channels(b.chain, channels) for b in node.branches)
    return channels


# ---------------------------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of one output position, per axis (height, width), in input pixels.

    Attributes:
        size: how many input pixels one output value can see (padding included).
        jump: distance in input pixels between two neighbouring output positions (the product of the strides).
        start: input coordinate of the centre of the first output position's field (may be negative or
            fractional: padding shifts it, even kernels put it between pixels).
    """

    size: tuple[int, int] = (1, 1)
    jump: tuple[int, int] = (1, 1)
    start: tuple[float, float] = (0.0, 0.0)

    def through(self, op: Op, in_size: tuple[int, int]) -> ReceptiveField:
        """The field after ``op``, applied to a map of ``in_size`` (needed for global pooling only)."""
        size, jump, start = [], [], []
        for axis in range(2):
            if op.kind == "global_avg_pool":
                k, s, p, d = in_size[axis], in_size[axis], 0, 1
            else:
                k, s, p, d = op.kernel[axis], op.stride[axis], op.padding[axis], op.dilation[axis]
            span = d * (k - 1) + 1
            size.append(self.size[axis] + (span - 1) * self.jump[axis])
            start.append(self.start[axis] + ((span - 1) / 2 - p) * self.jump[axis])
            jump.append(self.jump[axis] * s)
        return ReceptiveField(tuple(size), tuple(jump), tuple(start))  # type: ignore[arg-type]

    @staticmethod
    def union(fields: Sequence[ReceptiveField]) -> ReceptiveField:
        """The field of a concatenation: every branch's field, covered at once (the jumps must agree)."""
        jumps = {f.jump for f in fields}
        if len(jumps) != 1:
            raise ValueError(f"branches with different strides cannot be concatenated (jumps {sorted(jumps)}).")
        size, start = [], []
        for axis in range(2):
            lo = min(f.start[axis] - (f.size[axis] - 1) / 2 for f in fields)
            hi = max(f.start[axis] + (f.size[axis] - 1) / 2 for f in fields)
            size.append(int(round(hi - lo)) + 1)
            start.append((lo + hi) / 2)
        return ReceptiveField(tuple(size), fields[0].jump, tuple(start))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Shape:
    """What comes out of a node: ``channels x height x width``, and the receptive field of one output value."""

    channels: int
    height: int
    width: int
    field: ReceptiveField = field(default_factory=ReceptiveField)

    @property
    def chw(self) -> tuple[int, int, int]:
        return (self.channels, self.height, self.width)

    @property
    def numel(self) -> int:
        """Values in the map for one image: the "dimensionality of the representation" [Rethinking, §2, §5]."""
        return self.channels * self.height * self.width


class InputTooSmall(ValueError):
    """A chain was walked on an input too small for one of its nodes; ``index`` is that node's position."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def _step(op: Op, shape: Shape) -> Shape:
    h, w = shape.height, shape.width
    if op.kind == "conv":
        if shape.channels % op.groups or op.out_channels % op.groups:  # type: ignore[operator]
            raise ValueError(f"a convolution with {op.groups} groups needs in and out channels divisible by it; "
                             f"got {shape.channels} -> {op.out_channels}.")
        out = tuple(conv_output_size(s, op.kernel[i], op.stride[i], op.padding[i], op.dilation[i])
                    for i, s in enumerate((h, w)))
        channels = op.out_channels
    elif op.kind == "global_avg_pool":
        out, channels = (1, 1), shape.channels
    else:
        out = tuple(pool_output_size(s, op.kernel[i], op.stride[i], op.padding[i], op.ceil_mode)
                    for i, s in enumerate((h, w)))
        channels = shape.channels
    return Shape(channels, out[0], out[1], shape.field.through(op, (h, w)))  # type: ignore[arg-type]


def apply(node: Node, shape: Shape) -> Shape:
    """The shape after one node (a :class:`Parallel` concatenates its branches' channels)."""
    if isinstance(node, Op):
        return _step(node, shape)
    outs = [walk(branch.chain, shape)[-1] if branch.chain else shape for branch in node.branches]
    grids = {(o.height, o.width) for o in outs}
    if len(grids) != 1:
        sizes = {b.name: (o.height, o.width) for b, o in zip(node.branches, outs, strict=True)}
        raise ValueError(f"branch outputs have different grid sizes {sizes}; they cannot be concatenated.")
    return Shape(sum(o.channels for o in outs), outs[0].height, outs[0].width,
                 ReceptiveField.union([o.field for o in outs]))


def start_shape(channels: int, height: int, width: int) -> Shape:
    """An input of ``channels x height x width``, whose every value sees exactly itself."""
    return Shape(check_positive_int("channels", channels), check_positive_int("height", height),
                 check_positive_int("width", width))


def walk(chain: Sequence[Node], start: Shape) -> list[Shape]:
    """The shape after every node of ``chain``, starting from ``start``.

    Raises:
        InputTooSmall: if a node has no output position (its ``index`` says which).
    """
    shapes, shape = [], start
    for index, node in enumerate(chain):
        try:
            shape = apply(node, shape)
        except InputTooSmall:
            raise
        except ValueError as err:
            if "different strides" in str(err) or "groups" in str(err):
                raise
            raise InputTooSmall(str(err), index) from err
        shapes.append(shape)
    return shapes


def output_shape(chain: Sequence[Node], channels: int, height: int, width: int) -> Shape:
    """The shape at the end of ``chain`` for a ``channels x height x width`` input."""
    start = start_shape(channels, height, width)
    shapes = walk(chain, start)
    return shapes[-1] if shapes else start


def min_input_size(chain: Sequence[Node], channels: int, limit: int = 4096) -> int:
    """Smallest square input side for which every node of ``chain`` has an output position."""
    for size in range(1, limit + 1):
        try:
            walk(chain, start_shape(channels, size, size))
            return size
        except InputTooSmall:
            continue
    raise ValueError(f"no input up to {limit}x{limit} fits this chain.")
