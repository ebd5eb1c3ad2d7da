"""GoogLeNet (Inception v1) [GoogLeNet, Table 1, Fig. 3], assembled from the rows of the paper's Table 1.

The module is organised in the order of the chapter (``notebooks/02_googlenet.ipynb``):

1. **Table 1 as data.** :data:`TABLE1_ROWS` holds the six filter columns of the nine Inception rows,
   :data:`TABLE1` every line of the table as printed (output size, depth, the "params" and "ops" cells). The
   model (:class:`GoogLeNet`) and the cost comparison (:func:`table1_comparison`) both read these rows, so the
   network and the arithmetic cannot drift apart.
2. **The network.** :class:`GoogLeNet` with its auxiliary classifiers (:class:`InceptionAux`, [GoogLeNet, §5]).
   Every choice the paper leaves open, and every torchvision deviation, is a named option.
3. **Presets.** :func:`googlenet` (faithful to the paper), :func:`googlenet_tv` (loads torchvision's
   ``state_dict`` unchanged, deviations listed) and :func:`mini_googlenet` (the same code, sized for 32-64 px
   inputs and CPU training); :func:`load_torchvision_weights` fetches torchvision's ImageNet weights.
4. **Table 1 reproduced.** :func:`table1_comparison` puts the printed "params"/"ops" next to what the filter
   counts give, and explains every line that disagrees.

Units follow :mod:`inception_lab.cost`: params, MACs (multiply-accumulates, the paper's "ops"), FLOPs = 2 MACs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import nn

from inception_lab.cost import (Cost, check_positive_int, conv2d_cost, conv_output_size, inception_reduced_cost,
                                linear_cost, pool_output_size)
from inception_lab.layers import ConvBlockFactory, ConvReLU, Inception, SeparableConv, check_input, conv_bn_relu_tv
from inception_lab.losses import AuxOutputs

# ---------------------------------------------------------------------------------------------------------
# 1. Table 1 as data
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InceptionRow:
    """One Inception line of [GoogLeNet, Table 1]: the six filter columns, in the table's order.

    Attributes:
        name: the row's label without "inception", e.g. ``"3a"``; the model attribute is ``inception3a``.
        ch1x1: "#1x1" -- filters of the 1x1 branch.
        ch3x3red: "#3x3 reduce" -- 1x1 filters before the 3x3 convolution.
        ch3x3: "#3x3" -- filters of the 3x3 convolution.
        ch5x5red: "#5x5 reduce" -- 1x1 filters before the 5x5 convolution.
        ch5x5: "#5x5" -- filters of the 5x5 convolution.
        pool_proj: "pool proj" -- 1x1 filters after the 3x3 max-pooling.
    """

    name: str
    ch1x1: int
    ch3x3red: int
    ch3x3: int
    ch5x5red: int
    ch5x5: int
    pool_proj: int

    def __post_init__(self) -> None:
        for column, value in zip(("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj"), self.widths):
            check_positive_int(f"inception ({self.name}) {column}", value)

    @property
    def widths(self) -> tuple[int, int, int, int, int, int]:
        """The six filter columns, in Table 1's order (the arguments of :class:`~inception_lab.layers.Inception`)."""
        return (self.ch1x1, self.ch3x3red, self.ch3x3, self.ch5x5red, self.ch5x5, self.pool_proj)

    @property
    def out_channels(self) -> int:
        """Channels after the filter concatenation: #1x1 + #3x3 + #5x5 + pool proj."""
        return self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj

    def scaled(self, divisor: int) -> "InceptionRow":
        """This row with every width divided by ``divisor`` (rounded, at least 1): a narrower module."""
        check_positive_int("divisor", divisor)
        return InceptionRow(self.name, *(max(1, round(w / divisor)) for w in self.widths))


#: The nine Inception rows of [GoogLeNet, Table 1], (3a) to (5b).
TABLE1_ROWS: tuple[InceptionRow, ...] = (
    #            name  #1x1 #3x3red #3x3 #5x5red #5x5 poolproj
    InceptionRow("3a", 64, 96, 128, 16, 32, 32),
    InceptionRow("3b", 128, 128, 192, 32, 96, 64),
    InceptionRow("4a", 192, 96, 208, 16, 48, 64),
    InceptionRow("4b", 160, 112, 224, 24, 64, 64),
    InceptionRow("4c", 128, 128, 256, 24, 64, 64),
    InceptionRow("4d", 112, 144, 288, 32, 64, 64),
    InceptionRow("4e", 256, 160, 320, 32, 128, 128),
    InceptionRow("5a", 256, 160, 320, 32, 128, 128),
    InceptionRow("5b", 384, 192, 384, 48, 128, 128),
)

#: Row names in network order; ``GoogLeNet`` has one attribute ``inception<name>`` per name.
ROW_NAMES: tuple[str, ...] = tuple(row.name for row in TABLE1_ROWS)


@dataclass(frozen=True)
class Table1Line:
    """One line of [GoogLeNet, Table 1] as printed, and the :class:`GoogLeNet` attributes that implement it.

    Attributes:
        type: the "type" column, e.g. ``"convolution"``, ``"inception (3a)"``.
        patch: "patch size/stride", e.g. ``"7x7/2"`` (``""`` where the cell is empty).
        output: "output size" as (height, width, channels).
        depth: the "depth" column (layers with parameters).
        params: the "params" cell exactly as printed, e.g. ``"2.7K"`` (``""`` where empty). The paper's K
            appears to be 1024 (:data:`PRINTED_K`).
        ops: the "ops" cell as printed, e.g. ``"34M"``; M = 10**6 multiply-accumulates (:data:`PRINTED_M`).
        modules: attribute names of :class:`GoogLeNet` that implement the line (empty for softmax, which lives
            in the loss).
    """

    type: str
    patch: str
    output: tuple[int, int, int]
    depth: int
    params: str
    ops: str
    modules: tuple[str, ...]

    @property
    def label(self) -> str:
        """The line as the chapter names it, e.g. ``"convolution 7x7/2"`` or ``"inception (4a)"``."""
        return f"{self.type} {self.patch}".strip()


#: Every line of [GoogLeNet, Table 1], top to bottom, as printed.
TABLE1: tuple[Table1Line, ...] = (
    Table1Line("convolution", "7x7/2", (112, 112, 64), 1, "2.7K", "34M", ("conv1",)),
    Table1Line("max pool", "3x3/2", (56, 56, 64), 0, "", "", ("maxpool1",)),
    # "depth 2": the 1x1 reduction (#3x3 reduce = 64) and the 3x3 convolution (#3x3 = 192).
    Table1Line("convolution", "3x3/1", (56, 56, 192), 2, "112K", "360M", ("conv2", "conv3")),
    Table1Line("max pool", "3x3/2", (28, 28, 192), 0, "", "", ("maxpool2",)),
    Table1Line("inception (3a)", "", (28, 28, 256), 2, "159K", "128M", ("inception3a",)),
    Table1Line("inception (3b)", "", (28, 28, 480), 2, "380K", "304M", ("inception3b",)),
    Table1Line("max pool", "3x3/2", (14, 14, 480), 0, "", "", ("maxpool3",)),
    Table1Line("inception (4a)", "", (14, 14, 512), 2, "364K", "73M", ("inception4a",)),
    Table1Line("inception (4b)", "", (14, 14, 512), 2, "437K", "88M", ("inception4b",)),
    Table1Line("inception (4c)", "", (14, 14, 512), 2, "463K", "100M", ("inception4c",)),
    Table1Line("inception (4d)", "", (14, 14, 528), 2, "580K", "119M", ("inception4d",)),
    Table1Line("inception (4e)", "", (14, 14, 832), 2, "840K", "170M", ("inception4e",)),
    Table1Line("max pool", "3x3/2", (7, 7, 832), 0, "", "", ("maxpool4",)),
    Table1Line("inception (5a)", "", (7, 7, 832), 2, "1072K", "54M", ("inception5a",)),
    Table1Line("inception (5b)", "", (7, 7, 1024), 2, "1388K", "71M", ("inception5b",)),
    Table1Line("avg pool", "7x7/1", (1, 1, 1024), 0, "", "", ("avgpool",)),
    Table1Line("dropout (40%)", "", (1, 1, 1024), 0, "", "", ("dropout",)),
    Table1Line("linear", "", (1, 1, 1000), 1, "1000K", "1M", ("fc",)),
    Table1Line("softmax", "", (1, 1, 1000), 0, "", "", ()),
)

#: The paper's "K" in the params column: 1024. The conv 3x3 line (64*192*9 + 64*64 = 114,688 = 112*1024
#: weights) and the linear line (1024*1000 = 1000*1024) are exact only with K = 1024.
PRINTED_K = 1024
#: The paper's "M" in the ops column: 10**6 multiply-accumulates.
PRINTED_M = 10**6

#: Input of the network: "The size of the receptive field in our network is 224x224 taking RGB color channels
#: with mean subtraction" [GoogLeNet, §5]. (height, width, channels).
TABLE1_INPUT: tuple[int, int, int] = (224, 224, 3)


@dataclass(frozen=True)
class StemSpec:
    """The layers before inception (3a): Table 1's first four lines [GoogLeNet, Table 1, Fig. 3].

    Attributes:
        conv1: filters of the first convolution (Table 1: 64).
        conv1_kernel_size: its kernel (Table 1: 7x7), padded to keep ``size / stride``.
        conv1_stride: its stride (Table 1: 2).
        maxpool1: whether the 3x3/2 max-pool follows it (Table 1: yes).
        conv2: the 1x1 reduction of the second convolution line ("#3x3 reduce", Table 1: 64).
        conv3: the 3x3 convolution of that line ("#3x3", Table 1: 192).
    """

    conv1: int = 64
    conv1_kernel_size: int = 7
    conv1_stride: int = 2
    maxpool1: bool = True
    conv2: int = 64
    conv3: int = 192

    def __post_init__(self) -> None:
        for name in ("conv1", "conv1_kernel_size", "conv1_stride", "conv2", "conv3"):
            check_positive_int(f"StemSpec.{name}", getattr(self, name))
        if self.conv1_kernel_size % 2 == 0:
            raise ValueError(f"StemSpec.conv1_kernel_size must be odd (it is padded symmetrically), got "
                             f"{self.conv1_kernel_size}.")


#: The stem of Table 1: conv 7x7/2 (64), max pool 3x3/2, conv 1x1 (64) + 3x3 (192).
TABLE1_STEM = StemSpec()


@dataclass(frozen=True)
class AuxSpec:
    """An auxiliary classifier's widths and pooling [GoogLeNet, §5].

    Attributes:
        conv: "A 1x1 convolution with 128 filters for dimension reduction".
        fc: "A fully connected layer with 1024 units".
        grid: side of the pooled map the convolution sees: "4x4x512 output for the (4a) ... stage".
        adaptive: ``False``: "An average pooling layer with 5x5 filter size and stride 3", which gives
            ``grid x grid`` only for a matching input (14x14 -> 4x4, i.e. 224 px images). ``True``:
            ``AdaptiveAvgPool2d(grid)`` as torchvision does, the same result on 14x14 and any input size
            accepted.
    """

    conv: int = 128
    fc: int = 1024
    grid: int = 4
    adaptive: bool = False

    def __post_init__(self) -> None:
        for name in ("conv", "fc", "grid"):
            check_positive_int(f"AuxSpec.{name}", getattr(self, name))


# ---------------------------------------------------------------------------------------------------------
# 2. The network
# ---------------------------------------------------------------------------------------------------------

#: Weight-initialisation schemes accepted by :func:`init_weights_` (and ``init_weights=`` of the builders).
INIT_SCHEMES: tuple[str, ...] = ("caffe", "trunc_normal", "kaiming", "pytorch")


def init_weights_(model: nn.Module, scheme: str) -> nn.Module:
    """Initialise the conv, linear and BatchNorm layers of ``model`` in place; returns ``model``.

    The paper does not say how GoogLeNet was initialised (it was trained with DistBelief). Schemes:

    * ``"caffe"`` -- the BVLC Caffe replication of GoogLeNet (``models/bvlc_googlenet/train_val.prototxt``):
      "xavier" fillers, i.e. uniform on +-sqrt(3 / fan_in), and every convolution bias set to 0.2 so that the
      ReLUs start active in a network without BatchNorm. Linear biases start at 0 (our choice).
    * ``"trunc_normal"`` -- torchvision's ``init_weights=True``: conv/linear weights from a normal with std 0.01
      truncated to [-2, 2]; linear biases keep PyTorch's default, conv biases (torchvision has none) 0;
      BatchNorm gamma = 1, beta = 0.
    * ``"kaiming"`` -- He et al.'s normal init for ReLU networks (std sqrt(2 / fan_in)), biases 0: it keeps
      the activations' scale through the ReLU layers of a network without BatchNorm (the mini preset's default).
    * ``"pytorch"`` -- leave PyTorch's default initialisation untouched.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"init_weights must be one of {INIT_SCHEMES}, got {scheme!r}.")
    if scheme == "pytorch":
        return model
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if scheme == "caffe":
                fan_in = m.weight[0].numel()
                bound = math.sqrt(3.0 / fan_in)
                nn.init.uniform_(m.weight, -bound, bound)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.2 if isinstance(m, nn.Conv2d) else 0.0)
            elif scheme == "trunc_normal":
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                if m.bias is not None and isinstance(m, nn.Conv2d):
                    nn.init.zeros_(m.bias)
            else:  # kaiming
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


class InceptionAux(nn.Module):
    """Auxiliary classifier on an intermediate Inception output [GoogLeNet, §5].

    "An average pooling layer with 5x5 filter size and stride 3 ... A 1x1 convolution with 128 filters for
    dimension reduction and rectified linear activation. A fully connected layer with 1024 units and rectified
    linear activation. A dropout layer with 70% ratio of dropped outputs. A linear layer with softmax loss as
    the classifier." Attribute names (``conv``, ``fc1``, ``fc2``) match torchvision's ``InceptionAux``.

    Args:
        in_channels: channels of the module it sits on (512 for 4a, 528 for 4d).
        num_classes: classes it predicts ("the same 1000 classes as the main classifier").
        conv_block: the conv atom (:class:`~inception_lab.layers.ConvReLU` in the paper).
        conv_channels: filters of the 1x1 convolution (128).
        fc_features: units of the hidden fully connected layer (1024).
        grid: side of the pooled map (4); ``fc1`` sees ``conv_channels * grid * grid`` features.
        adaptive_pool: ``False``: the paper's 5x5/3 average pooling, which must produce ``grid x grid``;
            ``True``: torchvision's ``adaptive_avg_pool2d(x, (grid, grid))``.
        dropout: probability of dropping a hidden unit (0.7).

    Shape:
        (N, in_channels, 14, 14) -> (N, num_classes) for the paper's head; any H, W with ``adaptive_pool``.
    """

    def __init__(self, in_channels: int, num_classes: int, conv_block: ConvBlockFactory = ConvReLU,
                 conv_channels: int = 128, fc_features: int = 1024, grid: int = 4, adaptive_pool: bool = False,
                 dropout: float = 0.7) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        check_positive_int("num_classes", num_classes)
        self.grid = check_positive_int("grid", grid)
        _check_probability("dropout", dropout)
        self.pool = nn.AdaptiveAvgPool2d(grid) if adaptive_pool else nn.AvgPool2d(kernel_size=5, stride=3)
        self.conv = conv_block(in_channels, conv_channels, kernel_size=1)
        self.fc1 = nn.Linear(conv_channels * grid * grid, fc_features)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(p=dropout)
        self.fc2 = nn.Linear(fc_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, "InceptionAux")
        # aux1: N x 512 x 14 x 14, aux2: N x 528 x 14 x 14
        pooled = self.pool(x)
        if pooled.shape[-2:] != (self.grid, self.grid):
            raise ValueError(
                f"InceptionAux: 5x5/3 average pooling of a {x.shape[-2]}x{x.shape[-1]} map gives "
                f"{pooled.shape[-2]}x{pooled.shape[-1]}, but fc1 expects {self.grid}x{self.grid} (the paper's head "
                f"needs 14x14 maps, i.e. 224x224 images). Use such inputs, or build the model with "
                f"AuxSpec(adaptive=True) (torchvision's adaptive pooling).")
        # N x C x 4 x 4
        x = self.conv(pooled)
        # N x 128 x 4 x 4
        x = torch.flatten(x, 1)
        # N x 2048
        x = self.dropout(self.relu(self.fc1(x)))
        # N x 1024
        return self.fc2(x)  # N x num_classes


def _check_probability(name: str, p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1), got {p!r}.")
    return float(p)


class GoogLeNet(nn.Module):
    """GoogLeNet, "the incarnation of the Inception architecture" of [GoogLeNet, Table 1, Fig. 3].

    The stem (:class:`StemSpec`) and the nine Inception modules (:class:`InceptionRow`, built with
    :class:`~inception_lab.layers.Inception`) come from data; 3x3/2 max-pools follow the first convolution, the
    3x3 convolution, (3b) and (4e); a global average pool, dropout and a linear layer close the network. Attribute names are those
    of ``torchvision.models.GoogLeNet`` so that its ``state_dict`` loads into :func:`googlenet_tv`.

    Args:
        num_classes: outputs of the classifier (and of each auxiliary classifier).
        rows: the nine Inception rows, named 3a, 3b, 4a-4e, 5a, 5b (default: :data:`TABLE1_ROWS`).
        stem: the layers before (3a) (default: :data:`TABLE1_STEM`).
        aux_logits: build the two auxiliary classifiers on (4a) and (4d) [§5]. They run only in train mode.
        aux: widths and pooling of the auxiliary classifiers (:class:`AuxSpec`).
        conv_block: conv atom of every convolution: :class:`~inception_lab.layers.ConvReLU` (the paper: "All the
            convolutions ... use rectified linear activation", with biases, no BatchNorm) or
            :func:`~inception_lab.layers.conv_bn_relu_tv` (torchvision: conv without bias, BN eps 1e-3, ReLU).
        branch3_kernel_size: kernel of the "#5x5" branch: 5 (the paper) or 3 (torchvision, pytorch/vision#906).
        dropout: dropout before the classifier; "dropout (40%)" in Table 1.
        dropout_aux: dropout in the auxiliary classifiers; "70% ratio of dropped outputs" [§5].
        lrn: insert the two local response normalisations drawn in the paper's Fig. 3, after the first max-pool
            and after the 3x3 convolution (size 5, alpha 1e-4, beta 0.75, k 1, as in the BVLC Caffe
            replication). Table 1 omits them; they have no parameters and no MACs.
        first_conv: ``"plain"`` -- a 7x7 convolution, as Table 1's patch column and Fig. 3 say;
            ``"separable"`` -- a 7x7 depthwise-separable convolution with depth multiplier 8
            (:class:`SeparableConv`), whose cost is the 2.7K / 34M that Table 1 prints for the line.
        maxpool4_kernel_size: the max-pool between (4e) and (5a): 3 (Table 1, 3x3/2) or 2 (torchvision, 2x2/2);
            both give 7x7 from 14x14.
        ceil_mode: round the stride-2 max-pools' output size up, as Caffe does. Table 1's sizes (112 -> 56 ->
            28 -> 14 -> 7) need it; with ``False`` a 224x224 input gives 55, 27, 13 and 6.
        transform_input: re-normalise inputs given with ImageNet mean/std to the (x - 0.5) / 0.5 scaling the
            ported ImageNet weights expect (torchvision's ``transform_input``; needed with those weights only).
        init_weights: initialisation scheme, one of :data:`INIT_SCHEMES` (see :func:`init_weights_`).

    Shape:
        (N, 3, H, W) -> (N, num_classes) in eval mode, or without auxiliary classifiers. In train mode with
        auxiliary classifiers: :class:`~inception_lab.losses.AuxOutputs` ``(logits, (aux1, aux2))`` with
        ``aux1`` from the head on (4a) -- the reverse of torchvision's ``(logits, aux2, aux1)``. Inputs smaller
        than :attr:`min_input_size` raise a ``ValueError``.

    Deviations:
        Table 1's "avg pool 7x7/1" is a global average pool (``AdaptiveAvgPool2d(1)``): identical on the 7x7 map
        of a 224x224 input, and other input sizes work. Every other deviation is one of the options above; the
        presets list the ones they use.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        rows: Sequence[InceptionRow] = TABLE1_ROWS,
        stem: StemSpec = TABLE1_STEM,
        aux_logits: bool = True,
        aux: AuxSpec = AuxSpec(),
        conv_block: ConvBlockFactory = ConvReLU,
        branch3_kernel_size: int = 5,
        dropout: float = 0.4,
        dropout_aux: float = 0.7,
        lrn: bool = True,
        first_conv: str = "plain",
        maxpool4_kernel_size: int = 3,
        ceil_mode: bool = True,
        transform_input: bool = False,
        init_weights: str = "caffe",
    ) -> None:
        super().__init__()
        check_positive_int("num_classes", num_classes)
        rows = tuple(rows)
        if tuple(getattr(r, "name", None) for r in rows) != ROW_NAMES:
            raise ValueError(f"rows must be nine InceptionRow named {ROW_NAMES} in that order, got "
                             f"{[getattr(r, 'name', r) for r in rows]}.")
        if not isinstance(stem, StemSpec):
            raise ValueError(f"stem must be a StemSpec, got {type(stem).__name__}.")
        if not isinstance(aux, AuxSpec):
            raise ValueError(f"aux must be an AuxSpec, got {type(aux).__name__}.")
        if first_conv not in ("plain", "separable"):
            raise ValueError(f"first_conv must be 'plain' (Table 1, Fig. 3) or 'separable' (the cost Table 1 "
                             f"prints), got {first_conv!r}.")
        if maxpool4_kernel_size not in (2, 3):
            raise ValueError(f"maxpool4_kernel_size must be 3 (Table 1) or 2 (torchvision), got "
                             f"{maxpool4_kernel_size!r}.")
        if init_weights not in INIT_SCHEMES:
            raise ValueError(f"init_weights must be one of {INIT_SCHEMES}, got {init_weights!r}.")
        _check_probability("dropout", dropout)
        _check_probability("dropout_aux", dropout_aux)
        self.in_channels = 3
        self.num_classes = num_classes
        self.rows = rows
        self.aux_logits = bool(aux_logits)
        self.transform_input = bool(transform_input)

        def pool() -> nn.MaxPool2d:  # the stride-2 max-pools of Table 1
            return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=ceil_mode)

        def lrn_layer() -> Optional[nn.LocalResponseNorm]:
            # Caffe's LRN divides alpha by the window size, as nn.LocalResponseNorm does.
            return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=1.0) if lrn else None

        # Stem: Table 1 lines 1-4.
        k = stem.conv1_kernel_size
        if first_conv == "plain":
            self.conv1 = conv_block(3, stem.conv1, kernel_size=k, stride=stem.conv1_stride, padding=k // 2)
        else:
            self.conv1 = SeparableConv(3, stem.conv1, k, stem.conv1_stride, k // 2, depth_multiplier=8,
                                       conv_block=conv_block)
        self.maxpool1 = pool() if stem.maxpool1 else None
        self.lrn1 = lrn_layer()
        self.conv2 = conv_block(stem.conv1, stem.conv2, kernel_size=1)
        self.conv3 = conv_block(stem.conv2, stem.conv3, kernel_size=3, padding=1)
        self.lrn2 = lrn_layer()
        self.maxpool2 = pool()

        # Inception modules: one per row, each fed by the concatenation of the previous one.
        channels = {}
        in_ch = stem.conv3
        for row in rows:
            module = Inception(in_ch, *row.widths, conv_block=conv_block, branch3_kernel_size=branch3_kernel_size)
            setattr(self, f"inception{row.name}", module)
            channels[row.name] = in_ch = row.out_channels
            if row.name == "3b":
                self.maxpool3 = pool()
            elif row.name == "4e":
                self.maxpool4 = nn.MaxPool2d(kernel_size=maxpool4_kernel_size, stride=2, ceil_mode=ceil_mode)

        # Auxiliary classifiers "on top of the output of the Inception (4a) and (4d) modules" [§5].
        self.aux1: Optional[InceptionAux]
        self.aux2: Optional[InceptionAux]
        if self.aux_logits:
            self.aux1, self.aux2 = (
                InceptionAux(channels[name], num_classes, conv_block=conv_block, conv_channels=aux.conv,
                             fc_features=aux.fc, grid=aux.grid, adaptive_pool=aux.adaptive, dropout=dropout_aux)
                for name in ("4a", "4d"))
        else:
            self.aux1 = self.aux2 = None

        # Head: avg pool, dropout (40%), linear; softmax lives in the loss.
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(in_ch, num_classes)
        self.num_features = in_ch

        init_weights_(self, init_weights)

    # -- sizes --------------------------------------------------------------------------------------------
    def stage_shapes(self, height: int, width: int) -> dict[str, tuple[int, int, int]]:
        """(channels, height, width) after every stage for an input of ``height x width``, without running it.

        Pure arithmetic on the layers' own kernel sizes, strides and paddings (PyTorch's rules). Stages are the
        attribute names (``conv1``, ``maxpool1``, ..., ``inception5b``, ``avgpool``); absent layers are skipped.

        Raises:
            ValueError: if the input is too small, naming the first stage whose output would be empty.
        """
        check_positive_int("height", height)
        check_positive_int("width", width)
        shapes, empty_after = self._plan(height, width)
        if empty_after is not None:
            raise ValueError(
                f"{type(self).__name__}: a {height}x{width} input is too small; the feature map would be empty "
                f"after {empty_after}. The smallest input this network accepts is "
                f"{self.min_input_size}x{self.min_input_size}.")
        return shapes

    @property
    def min_input_size(self) -> int:
        """Smallest square input side the network accepts (torchvision's preset: 15, as its weights' meta says)."""
        size = 1
        while self._plan(size, size)[1] is not None:
            size += 1
        return size

    def _plan(self, height: int, width: int) -> tuple[dict[str, tuple[int, int, int]], Optional[str]]:
        """Shapes after each stage, and the first stage whose output would be empty (``None`` if none)."""
        shapes: dict[str, tuple[int, int, int]] = {}
        c, hw = self.in_channels, (height, width)
        for name in self._stage_names():
            module = getattr(self, name)
            if module is None:
                continue
            conv = None
            if isinstance(module, SeparableConv):
                conv, c = module.depthwise, module.pointwise.conv.out_channels
            elif isinstance(module, Inception):
                c = module.out_channels
            elif isinstance(getattr(module, "conv", None), nn.Conv2d):
                conv, c = module.conv, module.conv.out_channels
            try:
                if conv is not None:
                    hw = tuple(conv_output_size(s, conv.kernel_size[i], conv.stride[i], conv.padding[i])
                               for i, s in enumerate(hw))
                elif isinstance(module, nn.MaxPool2d):
                    hw = tuple(pool_output_size(s, module.kernel_size, module.stride, module.padding,
                                                module.ceil_mode) for s in hw)
                elif isinstance(module, nn.AdaptiveAvgPool2d):
                    hw = (1, 1)
            except ValueError:  # the input is too small for this stage
                return shapes, name
            shapes[name] = (c, hw[0], hw[1])
        return shapes, None

    def _stage_names(self) -> tuple[str, ...]:
        names = ["conv1", "maxpool1", "lrn1", "conv2", "conv3", "lrn2", "maxpool2"]
        for row in self.rows:
            names.append(f"inception{row.name}")
            if row.name == "3b":
                names.append("maxpool3")
            elif row.name == "4e":
                names.append("maxpool4")
        return tuple(names) + ("avgpool",)

    def _check_input(self, x: torch.Tensor) -> None:
        check_input(x, self.in_channels, type(self).__name__)
        self.stage_shapes(int(x.shape[-2]), int(x.shape[-1]))  # raises a ValueError if too small

    # -- forward ------------------------------------------------------------------------------------------
    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        """Map ImageNet-mean/std-normalised input to (x - 0.5) / 0.5 scaling, per channel (torchvision)."""
        if not self.transform_input:
            return x
        mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
        return torch.cat([x[:, i:i + 1] * (std[i] / 0.5) + (mean[i] - 0.5) / 0.5 for i in range(3)], dim=1)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Stem and Inception modules: the (N, 1024, 7, 7) features and the auxiliary logits met on the way.

        The auxiliary logits (aux1 on 4a, aux2 on 4d) are computed only in train mode with auxiliary
        classifiers, as in the paper ("At inference time, these auxiliary networks are discarded"); otherwise
        the tuple is empty. Shape comments are for a 224x224 input (Table 1's "output size" column).
        """
        self._check_input(x)
        x = self._transform_input(x)
        run_aux = self.training and self.aux1 is not None and self.aux2 is not None
        aux: list[torch.Tensor] = []
        # N x 3 x 224 x 224
        x = self.conv1(x)
        # N x 64 x 112 x 112
        if self.maxpool1 is not None:
            x = self.maxpool1(x)
        # N x 64 x 56 x 56
        if self.lrn1 is not None:
            x = self.lrn1(x)
        x = self.conv2(x)
        # N x 64 x 56 x 56
        x = self.conv3(x)
        # N x 192 x 56 x 56
        if self.lrn2 is not None:
            x = self.lrn2(x)
        x = self.maxpool2(x)
        # N x 192 x 28 x 28
        x = self.inception3a(x)
        # N x 256 x 28 x 28
        x = self.inception3b(x)
        # N x 480 x 28 x 28
        x = self.maxpool3(x)
        # N x 480 x 14 x 14
        x = self.inception4a(x)
        # N x 512 x 14 x 14
        if run_aux:
            aux.append(self.aux1(x))  # N x num_classes
        x = self.inception4b(x)
        # N x 512 x 14 x 14
        x = self.inception4c(x)
        # N x 512 x 14 x 14
        x = self.inception4d(x)
        # N x 528 x 14 x 14
        if run_aux:
            aux.append(self.aux2(x))  # N x num_classes
        x = self.inception4e(x)
        # N x 832 x 14 x 14
        x = self.maxpool4(x)
        # N x 832 x 7 x 7
        x = self.inception5a(x)
        # N x 832 x 7 x 7
        x = self.inception5b(x)
        # N x 1024 x 7 x 7
        return x, tuple(aux)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Average pool, dropout, linear: (N, 1024, H, W) features -> (N, num_classes) logits."""
        x = self.avgpool(features)
        # N x 1024 x 1 x 1
        x = torch.flatten(x, 1)
        # N x 1024
        x = self.dropout(x)
        return self.fc(x)  # N x num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor | AuxOutputs:
        """Logits in eval mode; :class:`~inception_lab.losses.AuxOutputs` in train mode with auxiliary heads."""
        features, aux = self.forward_features(x)
        logits = self.forward_head(features)
        if aux:
            return AuxOutputs(logits, aux)
        return logits


# ---------------------------------------------------------------------------------------------------------
# 3. Presets
# ---------------------------------------------------------------------------------------------------------


def googlenet(num_classes: int = 1000, aux_logits: bool = True, *, dropout: float = 0.4,
              dropout_aux: float = 0.7, lrn: bool = True, first_conv: str = "plain", ceil_mode: bool = True,
              init_weights: str = "caffe") -> GoogLeNet:
    """GoogLeNet as the paper describes it [GoogLeNet, Table 1, Fig. 3, §5].

    ReLU convolutions with biases and no BatchNorm, 5x5 kernels in the "#5x5" branch, a 3x3/1 max-pool + 1x1
    projection branch, 3x3/2 max-pools, dropout 40 % before the linear classifier, and two auxiliary classifiers
    on (4a) and (4d) with 5x5/3 average pooling, 1x1 conv (128), FC 1024 + ReLU, dropout 70 % and a linear layer.
    6,998,552 parameters and 1,582,671,872 MACs at 1x3x224x224 without the auxiliary classifiers; 13,378,280
    parameters with them. The chapter explains why this is not the "6.8M" column sum of Table 1.

    Args:
        num_classes: classes of the main and auxiliary classifiers.
        aux_logits: build the auxiliary classifiers (they run in train mode only).
        dropout, dropout_aux: dropout probabilities (paper: 0.4 and 0.7).
        lrn: the two local response normalisations of Fig. 3 (our default: on, as in the Caffe replication).
        first_conv: ``"plain"`` 7x7 (default, Table 1's patch column) or ``"separable"`` (Table 1's cost column).
        ceil_mode: Caffe-style rounding of the stride-2 max-pools (default: on; gives Table 1's sizes).
        init_weights: one of :data:`INIT_SCHEMES`; the default follows the Caffe replication.

    Deviations:
        The paper trains on 224x224 crops only; the auxiliary classifiers' 5x5/3 pooling therefore accepts
        224x224 inputs (14x14 maps at 4a/4d) in train mode. The final 7x7/1 average pool is a global average pool.
        The choices the paper leaves open (LRN, ceil mode, first layer, initialisation) are the options above.
    """
    return GoogLeNet(num_classes, aux_logits=aux_logits, conv_block=ConvReLU, branch3_kernel_size=5,
                     dropout=dropout, dropout_aux=dropout_aux, lrn=lrn, first_conv=first_conv,
                     maxpool4_kernel_size=3, ceil_mode=ceil_mode, transform_input=False, init_weights=init_weights)


def googlenet_tv(num_classes: int = 1000, aux_logits: bool = True, *, transform_input: bool = False,
                 dropout: float = 0.2, dropout_aux: float = 0.7, init_weights: str = "trunc_normal") -> GoogLeNet:
    """GoogLeNet as ``torchvision.models.googlenet`` builds it: same attribute names, shapes and outputs.

    A torchvision GoogLeNet's ``state_dict`` loads into this model with ``strict=True`` (same ``aux_logits``),
    and the eval outputs are identical. 6,624,904 parameters and 1,498,376,192 MACs at 1x3x224x224 without the
    auxiliary classifiers (torchvision's published "1.498 GFLOPS" are these MACs); 13,004,888 with them.

    Args:
        num_classes: classes of the main and auxiliary classifiers.
        aux_logits: build the auxiliary classifiers (torchvision's default without weights: yes).
        transform_input: torchvision's input re-normalisation; ``True`` when its ImageNet weights are loaded.
        dropout, dropout_aux: torchvision's defaults 0.2 and 0.7.
        init_weights: one of :data:`INIT_SCHEMES`; ``"trunc_normal"`` is torchvision's ``init_weights=True``.

    Deviations:
        From the paper, all inherited from torchvision (which ported TensorFlow's model):

        * every convolution is conv (no bias) -> BatchNorm (eps 1e-3) -> ReLU (:func:`conv_bn_relu_tv`), also
          in the auxiliary classifiers: a BN-GoogLeNet, not the 2014 network;
        * a 3x3 kernel in the "#5x5" branch (``branch3_kernel_size=3``), a known bug kept for weight
          compatibility (pytorch/vision#906);
        * dropout 0.2 before the classifier instead of 0.4;
        * a 2x2/2 max-pool before (5a) instead of 3x3/2 (``maxpool4_kernel_size=2``; the same 7x7 output);
        * no local response normalisation (``lrn=False``);
        * the auxiliary classifiers pool with ``adaptive_avg_pool2d(x, (4, 4))`` instead of 5x5/3 (the same on
          14x14 maps);
        * ``transform_input`` and ``init_weights="trunc_normal"`` are torchvision's, not the paper's.

        Shared with :func:`googlenet`: ceil-mode max-pools and a global average pool.
        In train mode with auxiliary classifiers the output is ``AuxOutputs(logits, (aux1, aux2))`` where
        torchvision returns ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``.
    """
    return GoogLeNet(num_classes, aux_logits=aux_logits, aux=AuxSpec(adaptive=True), conv_block=conv_bn_relu_tv,
                     branch3_kernel_size=3, dropout=dropout, dropout_aux=dropout_aux, lrn=False,
                     first_conv="plain", maxpool4_kernel_size=2, ceil_mode=True, transform_input=transform_input,
                     init_weights=init_weights)


def mini_googlenet(num_classes: int = 10, aux_logits: bool = True, *, width_divisor: int = 8,
                   conv_block: ConvBlockFactory = ConvReLU, dropout: float = 0.4, dropout_aux: float = 0.7,
                   lrn: bool = False, init_weights: str = "kaiming") -> GoogLeNet:
    """A small GoogLeNet for 32-64 px images: the same :class:`GoogLeNet` and Inception modules, narrower.

    Every width of Table 1 (stem, the nine rows, the auxiliary classifiers' 128 and 1024) is divided by
    ``width_divisor`` (rounded, at least 1), so the channel proportions between branches and modules are the
    paper's; the nine modules, the four max-pools and the two auxiliary classifiers on (4a) and (4d) are all
    there. With the default divisor 8, inception (3a) outputs 8 + 16 + 4 + 4 = 32 channels and (5b) 128;
    about 95 K parameters (117 K with the auxiliary classifiers) and 2.1 M MACs per 32x32 image. A training
    step on a batch of 128 32x32 images (forward, backward, update) takes roughly 0.1 s on two CPU cores,
    and about half that in ``channels_last`` memory format, where PyTorch's CPU max-pooling is much faster.

    Args:
        num_classes: classes of the main and auxiliary classifiers.
        aux_logits: build the auxiliary classifiers on (4a) and (4d).
        width_divisor: divide every width of Table 1 by this.
        conv_block: :class:`~inception_lab.layers.ConvReLU` (the paper, default) or a BN atom such as
            :class:`~inception_lab.layers.ConvBNReLU`.
        dropout, dropout_aux: as in the paper (0.4, 0.7). On a few thousand images and a few epochs lower
            values learn faster; the defaults stay the paper's.
        lrn: the two local response normalisations (default off: no parameters, only CPU time).
        init_weights: one of :data:`INIT_SCHEMES` (default ``"kaiming"``, see :func:`init_weights_`).

    Shape:
        (N, 3, H, W) -> (N, num_classes) for H, W >= :attr:`GoogLeNet.min_input_size` (16); 32-64 intended.
        A 32x32 image is 16x16 after the first max-pool, 8x8 at (3a)-(3b), 4x4 at (4a)-(4e), 2x2 at (5a)-(5b).
        :class:`~inception_lab.losses.AuxOutputs` in train mode with auxiliary classifiers.

    Deviations:
        From :func:`googlenet`: widths divided by ``width_divisor``; a 3x3/1 first convolution instead of 7x7/2
        (the stem halves the grid twice instead of three times: a 7x7/2 would leave a 32 px image at 4x4 by
        (3a)); no LRN by default; He initialisation; the auxiliary classifiers pool adaptively to 2x2 (instead
        of 5x5/3 to 4x4, which does not fit a 4x4 map) so any input size works.
    """
    check_positive_int("width_divisor", width_divisor)

    def narrow(width: int) -> int:
        return max(1, round(width / width_divisor))

    # Table 1's stem with a 3x3/1 first convolution.
    stem = StemSpec(conv1=narrow(TABLE1_STEM.conv1), conv1_kernel_size=3, conv1_stride=1, maxpool1=True,
                    conv2=narrow(TABLE1_STEM.conv2), conv3=narrow(TABLE1_STEM.conv3))
    paper_aux = AuxSpec()
    aux = AuxSpec(conv=narrow(paper_aux.conv), fc=narrow(paper_aux.fc), grid=2, adaptive=True)
    return GoogLeNet(num_classes, rows=tuple(r.scaled(width_divisor) for r in TABLE1_ROWS), stem=stem,
                     aux_logits=aux_logits, aux=aux, conv_block=conv_block, branch3_kernel_size=5, dropout=dropout,
                     dropout_aux=dropout_aux, lrn=lrn, first_conv="plain", maxpool4_kernel_size=3, ceil_mode=True,
                     transform_input=False, init_weights=init_weights)


#: torchvision's ImageNet GoogLeNet weights (``GoogLeNet_Weights.IMAGENET1K_V1``): URL and file name.
TORCHVISION_WEIGHTS_URL = "https://download.pytorch.org/models/googlenet-1378be20.pth"


def _download_torchvision_state_dict(progress: bool) -> dict[str, torch.Tensor]:
    """Download (or read from torch's hub cache) torchvision's ImageNet GoogLeNet weights."""
    from torchvision.models import GoogLeNet_Weights  # ImportError when torchvision is missing

    return GoogLeNet_Weights.IMAGENET1K_V1.get_state_dict(progress=progress, check_hash=True)


def load_torchvision_weights(model: GoogLeNet, path: str | os.PathLike[str] | None = None,
                             progress: bool = True) -> GoogLeNet:
    """Load torchvision's ImageNet GoogLeNet weights (69.8 % top-1) into a :func:`googlenet_tv` model.

    Args:
        model: a ``googlenet_tv(num_classes=1000)`` model, with or without auxiliary classifiers. Its
            ``transform_input`` is switched on, as torchvision does when it loads these weights: they expect
            inputs scaled to [-1, 1], and the switch lets you feed the usual ImageNet-normalised images.
        path: a local copy of ``googlenet-1378be20.pth`` (for offline use). ``None`` downloads it through
            torchvision (or reads torch's hub cache).
        progress: show a download progress bar.

    The auxiliary classifiers in that file were never trained ("NOT pretrained", torchvision warns); they are
    loaded only when ``model`` has them.

    Raises:
        ValueError: if ``model`` is not a torchvision-compatible 1000-class GoogLeNet, or the file does not fit.
        RuntimeError: if the weights cannot be obtained (no torchvision, or offline); the message says what to do.
    """
    if not isinstance(model, GoogLeNet) or model.num_classes != 1000 or model.lrn1 is not None:
        raise ValueError("load_torchvision_weights needs a googlenet_tv(num_classes=1000) model.")
    if path is not None:
        if not os.path.isfile(path):
            raise ValueError(f"no weights file at {os.fspath(path)!r}; download {TORCHVISION_WEIGHTS_URL} there.")
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    else:
        cache = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(TORCHVISION_WEIGHTS_URL))
        advice = (f"Either run this where the internet is reachable (e.g. Google Colab), or download "
                  f"{TORCHVISION_WEIGHTS_URL} on another machine and pass its location as "
                  f"load_torchvision_weights(model, path=...) (or put it at {cache}).")
        try:
            state_dict = _download_torchvision_state_dict(progress)
        except ImportError as err:
            raise RuntimeError(f"torchvision is not installed, so its GoogLeNet weights cannot be downloaded. "
                               f"Install it (pip install torchvision), or pass path=. {advice}") from err
        except Exception as err:  # URLError, HTTPError, hash mismatch, ... : all mean "could not get the file"
            raise RuntimeError(f"could not download torchvision's GoogLeNet weights ({type(err).__name__}: {err}). "
                               f"{advice}") from err
    if not model.aux_logits:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith(("aux1.", "aux2."))}
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:
        raise ValueError(f"the weights do not fit this model (build it with googlenet_tv()): {err}") from err
    model.transform_input = True
    return model


# ---------------------------------------------------------------------------------------------------------
# 4. Table 1 reproduced
# ---------------------------------------------------------------------------------------------------------


def separable_conv_cost(in_channels: int = 3, out_channels: int = 64, kernel_size: int = 7,
                        output_size: int = 112, depth_multiplier: int = 8, bias: bool = False) -> Cost:
    """Cost of a depthwise-separable convolution (:class:`SeparableConv`); defaults: Table 1's first line.

    depthwise: ``in_channels * depth_multiplier`` filters of ``k x k`` over one channel each;
    pointwise: a 1x1 convolution to ``out_channels``. With the defaults (3 -> 24 -> 64, 7x7, 112x112 output):
    2,712 weights and 34,019,328 MACs -- Table 1's "2.7K" and "34M" [BN, Fig. 5: "separable convolution with
    depth multiplier 8 on the first convolutional layer"].
    """
    mid = in_channels * depth_multiplier
    return (conv2d_cost(in_channels, mid, kernel_size, output_size, groups=in_channels, bias=False)
            + conv2d_cost(mid, out_channels, 1, output_size, bias=bias))


def _printed(cell: str) -> tuple[float, float]:
    """A printed cell such as ``"2.7K"`` -> (2.7, 0.1): the number and the unit of its last digit."""
    number = cell.rstrip("KM")
    decimals = len(number.split(".")[1]) if "." in number else 0
    return float(number), 10.0 ** -decimals


@dataclass(frozen=True)
class Table1Comparison:
    """One line of Table 1 next to what its filter counts give (:func:`table1_comparison`).

    Attributes:
        line: the line's label, e.g. ``"inception (4a)"``.
        printed_params, printed_ops: the cells as printed (``"364K"``, ``"73M"``).
        weights: conv/linear weights computed from the filter counts (paper-faithful: 5x5 kernels).
        biases: their biases (the paper's convolutions have them).
        macs: multiply-accumulates at Table 1's output size.
        params_match, ops_match: computed value within one unit of the printed cell's last digit (the table
            rounds, and may or may not count biases: either weights or weights + biases may match).
        note: why the line disagrees ("" when it matches).
    """

    line: str
    printed_params: str
    printed_ops: str
    weights: int
    biases: int
    macs: int
    params_match: bool
    ops_match: bool
    note: str

    @property
    def params_k(self) -> float:
        """Computed weights in the paper's K (1024)."""
        return self.weights / PRINTED_K

    @property
    def ops_m(self) -> float:
        """Computed MACs in the paper's M (10**6)."""
        return self.macs / PRINTED_M

    @property
    def matches(self) -> bool:
        return self.params_match and self.ops_match


def _line_cost(line: Table1Line, previous: tuple[int, int, int], stem: StemSpec, rows: dict[str, InceptionRow],
               bias: bool) -> Cost:
    """Cost of one Table 1 line with the pure formulas of :mod:`inception_lab.cost` (5x5 kernels, no BN)."""
    h, w, c_out = line.output
    c_in = previous[2]
    if line.modules == ("conv1",):
        return conv2d_cost(c_in, c_out, stem.conv1_kernel_size, (h, w), bias=bias)
    if line.modules == ("conv2", "conv3"):
        return (conv2d_cost(c_in, stem.conv2, 1, (h, w), bias=bias)
                + conv2d_cost(stem.conv2, c_out, 3, (h, w), bias=bias))
    if line.modules == ("fc",):
        return linear_cost(previous[2], c_out, bias=bias)
    row = rows[line.modules[0].removeprefix("inception")]
    return inception_reduced_cost(c_in, (h, w), *row.widths, bias=bias).total


def table1_comparison() -> list[Table1Comparison]:
    """[GoogLeNet, Table 1]'s "params" and "ops" columns next to what the table's own filter counts give.

    One entry per line with printed costs (the two convolution lines, the nine Inception lines, the linear
    layer), computed from :data:`TABLE1`, :data:`TABLE1_ROWS` and :data:`TABLE1_STEM` -- the data the model
    is built from -- with the formulas of :mod:`inception_lab.cost`. Params are compared in K = 1024
    (:data:`PRINTED_K`), ops in M = 10**6 MACs. Every disagreeing line carries a note; the notes' numbers are
    computed here, not typed.
    """
    rows = {row.name: row for row in TABLE1_ROWS}
    out: list[Table1Comparison] = []
    previous = TABLE1_INPUT
    for line in TABLE1:
        if line.params:
            cost = _line_cost(line, previous, TABLE1_STEM, rows, bias=False)
            with_bias = _line_cost(line, previous, TABLE1_STEM, rows, bias=True)
            biases = with_bias.params - cost.params
            p_value, p_unit = _printed(line.params)
            o_value, o_unit = _printed(line.ops)
            params_match = min(abs(cost.params / PRINTED_K - p_value),
                               abs(with_bias.params / PRINTED_K - p_value)) <= p_unit + 1e-9
            ops_match = abs(cost.macs / PRINTED_M - o_value) <= o_unit + 1e-9
            note = ""
            if not (params_match and ops_match):
                note = _disagreement_note(line, cost, biases, p_value, o_value, params_match, ops_match)
            out.append(Table1Comparison(line.label, line.params, line.ops, cost.params, biases, cost.macs,
                                        params_match, ops_match, note))
        previous = line.output
    return out


def _disagreement_note(line: Table1Line, cost: Cost, biases: int, p_value: float, o_value: float,
                       params_match: bool, ops_match: bool) -> str:
    h, w, _ = line.output
    computed = f"the filter counts give {cost.params / PRINTED_K:.2f}K weights and {cost.macs / PRINTED_M:.2f}M MACs"
    if line.modules == ("conv1",):
        sep = separable_conv_cost(TABLE1_INPUT[2], line.output[2], TABLE1_STEM.conv1_kernel_size, h)
        return (f"a plain 7x7 convolution has {cost.params:,} weights ({cost.params / PRINTED_K:.2f}K) and "
                f"{cost.macs / PRINTED_M:.2f}M MACs; a 7x7 depthwise-separable convolution with depth multiplier 8 "
                f"(3 -> 24 depthwise, 24 -> 64 pointwise) has {sep.params:,} weights ({sep.params / PRINTED_K:.2f}K) "
                f"and {sep.macs / PRINTED_M:.2f}M MACs, which reproduces the printed line -- BN-Inception's first "
                f"layer is exactly such a convolution [BN, Fig. 5] (first_conv='separable').")
    # A 'same'-padded module's MACs are its weights times the output positions, so the printed ops imply a
    # weight count; the ops are printed to 1M, which leaves +-1M / positions of slack.
    positions = h * w
    low, high = ((o_value - 1) * PRINTED_M / positions / PRINTED_K, (o_value + 1) * PRINTED_M / positions / PRINTED_K)
    implied = f"{line.ops} over {h}x{w} positions implies {low:.0f}K-{high:.0f}K weights"
    if not ops_match:
        return (f"printed {line.params} / {line.ops}, but {computed}. The printed pair is consistent with itself "
                f"({implied}) but does not follow from the row's filter counts.")
    if low <= p_value <= high:
        return (f"printed {line.params}, but {computed} (+{biases} biases). The printed ops fit both "
                f"({implied}).")
    return (f"printed {line.params}, but {computed} (+{biases} biases). The printed ops agree with the filter "
            f"counts ({implied}), so the params cell is what is off.")


def format_table1_comparison(comparison: Sequence[Table1Comparison] | None = None) -> str:
    """:func:`table1_comparison` as a fixed-width text table (the static twin of the chapter's table)."""
    comparison = table1_comparison() if comparison is None else comparison
    lines = [f"{'line':<20} {'printed':>8} {'weights':>10} {'/1024':>8} {'printed':>8} {'MACs (M)':>9}  match"]
    for r in comparison:
        flag = "yes" if r.matches else "NO"
        lines.append(f"{r.line:<20} {r.printed_params:>8} {r.weights:>10,} {r.params_k:>7.1f}K "
                     f"{r.printed_ops:>8} {r.ops_m:>9.2f}  {flag}")
    return "\n".join(lines)
