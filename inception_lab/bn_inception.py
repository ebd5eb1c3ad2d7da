"""BN-Inception: the Inception network of the Batch Normalization paper [BN, Fig. 5, §4.2].

The paper's appendix table ("Inception architecture", Figure 5) is :data:`FIGURE5`, one :class:`Figure5Row` per
printed row with the printed columns; :class:`BNInception` is built from those rows, so the table and the network
cannot drift apart. Differences from GoogLeNet, as listed under the figure [BN, Fig. 5]: each 5x5 convolution is
replaced by two consecutive 3x3 convolutions ("double 3x3"), there are three 28x28 modules instead of two,
average or max pooling inside the modules, and no pooling layers between modules: modules 3c and 4e reduce the
grid themselves with stride-2 convolutions and a stride-2 max-pool whose output is passed through unprojected.
BatchNorm goes before every nonlinearity [BN, §3.2] and there is no Local Response Normalization [BN, §4.2.1].

Two things in the printed table do not add up, and this module implements what the filter columns say:

* Output sizes: the channel counts of 4c and 4d sum to 160+160+160+128 = 608 and 96+192+192+128 = 608 (printed
  576), 4e to 0+192+256+608 = 1056 (printed 1024), and the stride-2 modules 3c and 4e print their *input* grid
  (28x28, 14x14) instead of the 14x14 and 7x7 they produce. :func:`output_size_table` lists computed next to
  printed sizes. The Caffe model ported to PyTorch by Cadene's ``pretrainedmodels`` has the same 608/1056 flow.
* Size: the paper says the network "contains 13.6*10^6 parameters" [BN, §4.2]; the table gives about 11.3 M.
  :func:`compare_with_googlenet` returns the computed numbers next to the paper's claims.

Introduced in chapter 3 (``notebooks/03_bn_inception.ipynb``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from inception_lab.cost import CostReport, check_positive_int, conv_output_size, count, pool_output_size
from inception_lab.layers import ConvBlockFactory, ConvBNReLU, ConvReLU, MultiBranch, SeparableConv, check_input

POOL_TYPES = ("avg", "max")
FIRST_CONVS = ("plain", "separable")
STEMS = ("imagenet", "small")


# ---------------------------------------------------------------------------------------------------------
# Figure 5 as data
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure5Row:
    """One printed row of [BN, Fig. 5] ("Inception architecture"), columns as printed.

    Attributes:
        name: our name for the row ("conv1", "pool1", ..., "3a", ..., "5b", "avgpool").
        type: the "type" column as printed ("convolution*", "max pool", "inception", ...).
        patch_size: kernel size from the "patch size/stride" column (``None`` for inception rows).
        stride: stride from the same column ("stride 2" for modules 3c and 4e, else 1 for inception rows).
        printed_output: the "output size" column as (height, width, channels), *as printed* (see
            :func:`output_size_table` for where it disagrees with the filter columns).
        depth: the "depth" column (weight layers on the longest path through the row).
        ch1x1: "#1x1" (0: no 1x1 branch, as in 3c and 4e).
        ch3x3red: "#3x3 reduce".
        ch3x3: "#3x3".
        dbl3x3red: "double #3x3 reduce".
        dbl3x3: "double #3x3" (both 3x3 layers of the branch have this width).
        pool: "avg" or "max" from the "Pool +proj" column (``None`` outside inception rows).
        pool_proj: the "+proj" width; ``None`` for "pass through" (pooled input concatenated unprojected).
    """

    name: str
    type: str
    patch_size: int | None
    stride: int
    printed_output: tuple[int, int, int]
    depth: int
    ch1x1: int = 0
    ch3x3red: int = 0
    ch3x3: int = 0
    dbl3x3red: int = 0
    dbl3x3: int = 0
    pool: str | None = None
    pool_proj: int | None = None

    @property
    def is_inception(self) -> bool:
        return self.type == "inception"

    @property
    def pool_column(self) -> str:
        """The "Pool +proj" cell as printed, e.g. ``"avg + 32"`` or ``"max + pass through"``."""
        if self.pool is None:
            return ""
        return f"{self.pool} + {'pass through' if self.pool_proj is None else self.pool_proj}"


# [BN, Fig. 5], transcribed row by row. The stem's 3x3 convolution row also prints a "#3x3 reduce" of 64: a 1x1
# convolution to 64 channels before it, as in GoogLeNet's Table 1.
FIGURE5: tuple[Figure5Row, ...] = (
    Figure5Row("conv1", "convolution*", 7, 2, (112, 112, 64), 1),
    Figure5Row("pool1", "max pool", 3, 2, (56, 56, 64), 0),
    Figure5Row("conv2", "convolution", 3, 1, (56, 56, 192), 1, ch3x3red=64, ch3x3=192),
    Figure5Row("pool2", "max pool", 3, 2, (28, 28, 192), 0),
    #          name  type         patch stride printed output   depth #1x1 #3x3r #3x3 d#3x3r d#3x3 pool  proj
    Figure5Row("3a", "inception", None, 1, (28, 28, 256), 3, 64, 64, 64, 64, 96, "avg", 32),
    Figure5Row("3b", "inception", None, 1, (28, 28, 320), 3, 64, 64, 96, 64, 96, "avg", 64),
    Figure5Row("3c", "inception", None, 2, (28, 28, 576), 3, 0, 128, 160, 64, 96, "max", None),
    Figure5Row("4a", "inception", None, 1, (14, 14, 576), 3, 224, 64, 96, 96, 128, "avg", 128),
    Figure5Row("4b", "inception", None, 1, (14, 14, 576), 3, 192, 96, 128, 96, 128, "avg", 128),
    Figure5Row("4c", "inception", None, 1, (14, 14, 576), 3, 160, 128, 160, 128, 160, "avg", 128),
    Figure5Row("4d", "inception", None, 1, (14, 14, 576), 3, 96, 128, 192, 160, 192, "avg", 128),
    Figure5Row("4e", "inception", None, 2, (14, 14, 1024), 3, 0, 128, 192, 192, 256, "max", None),
    Figure5Row("5a", "inception", None, 1, (7, 7, 1024), 3, 352, 192, 320, 160, 224, "avg", 128),
    Figure5Row("5b", "inception", None, 1, (7, 7, 1024), 3, 352, 192, 320, 192, 224, "max", 128),
    Figure5Row("avgpool", "avg pool", 7, 1, (1, 1, 1024), 0),
)
FIGURE5_MODULES: tuple[Figure5Row, ...] = tuple(row for row in FIGURE5 if row.is_inception)
_ROW = {row.name: row for row in FIGURE5}

# Paper-faithful GoogLeNet [GoogLeNet, Table 1]: conv biases, 5x5 branches, no auxiliary heads; counted at
# 1x3x224x224 (``inception_lab.cost.count``), keyed by its first convolution. GoogLeNet's own Table 1 prints
# 2.7K params / 34M ops for that layer, which a separable 7x7 (depth multiplier 8, 2,712 weights) reproduces.
GOOGLENET_COST: dict[str, tuple[int, int]] = {  # first_conv -> (params, MACs)
    "plain": (6_998_552, 1_582_671_872),  # plain 7x7x3x64 first conv
    "separable": (6_991_856, 1_498_677_248),  # 7x7 depthwise 3->24 (no bias) + 1x1 24->64 (bias)
}

# What the BN paper says about the size of this network [BN, §4.2 and the text under Fig. 5].
PAPER_PARAMS = 13_600_000  # "The network contains 13.6*10^6 parameters" [BN, §4.2]
PAPER_PARAMS_INCREASE = 0.25  # "it increases the number of parameters by 25%" [BN, Fig. 5 text]
PAPER_MACS_INCREASE = 0.30  # "the computational cost is increased by about 30%" [BN, Fig. 5 text]


# ---------------------------------------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------------------------------------
class BNInceptionModule(MultiBranch):
    """Inception module of BN-Inception [BN, Fig. 5]; arguments are the figure's columns.

    Branches (concatenated in this order):
        branch1: 1x1 conv (``ch1x1``); absent when ``ch1x1 == 0`` (modules 3c and 4e).
        branch2: 1x1 reduce (``ch3x3red``) -> 3x3 conv (``ch3x3``).
        branch3: 1x1 reduce (``dbl3x3red``) -> 3x3 conv (``dbl3x3``) -> 3x3 conv (``dbl3x3``): the "double 3x3"
            that replaces GoogLeNet's 5x5 -- same 5x5 receptive field, 18/25 of the weights per filter pair
            [BN, Fig. 5 text].
        branch4: 3x3 average or max pooling -> 1x1 projection (``pool_proj``), or, with ``pool_proj=None``, the
            pooled input itself ("pass through", ``in_channels`` channels).

    With ``stride=2`` (modules 3c and 4e) the last 3x3 of branches 2 and 3 and the max-pool have stride 2, so the
    module halves the grid while widening it: "stride-2 convolution/pooling layers are employed before the filter
    concatenation" [BN, Fig. 5 text].

    Args:
        conv_block: :class:`~inception_lab.layers.ConvBNReLU` (conv, BN before the ReLU: the paper) or
            :class:`~inception_lab.layers.ConvReLU` (conv with bias, no BN: the same module without BN).

    Shape:
        (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + dbl3x3 + (pool_proj or in_channels), H', W') with
        H' = H for stride 1 and H' = ceil(H / 2) for stride 2.

    Deviations:
        The paper does not give paddings. All 3x3 convolutions and poolings are padded by 1, so stride-1 modules
        keep the grid and every branch of a stride-2 module samples the same positions (H' = ceil(H/2) for odd H
        too). Average pooling counts the zero padding (``count_include_pad=True``, PyTorch's default and Caffe's
        behaviour). Cadene's port of the Caffe model uses an unpadded ``ceil_mode`` max-pool in 3c/4e instead: the
        same 14x14 and 7x7 outputs, windows shifted by one pixel.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, dbl3x3red: int, dbl3x3: int,
                 pool: str, pool_proj: int | None, stride: int = 1, conv_block: ConvBlockFactory = ConvBNReLU) -> None:
        check_positive_int("in_channels", in_channels)
        if isinstance(ch1x1, bool) or not isinstance(ch1x1, int) or ch1x1 < 0:
            raise ValueError(f"ch1x1 must be a non-negative integer (0: no 1x1 branch), got {ch1x1!r}.")
        for name, value in dict(ch3x3red=ch3x3red, ch3x3=ch3x3, dbl3x3red=dbl3x3red, dbl3x3=dbl3x3).items():
            check_positive_int(name, value)
        if pool_proj is not None:
            check_positive_int("pool_proj", pool_proj)
        if pool not in POOL_TYPES:
            raise ValueError(f"pool must be one of {POOL_TYPES}, got {pool!r}.")
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}.")
        if stride == 2 and ch1x1:
            raise ValueError(f"a stride-2 module has no 1x1 branch in [BN, Fig. 5] (modules 3c, 4e); got "
                             f"ch1x1={ch1x1}. Use ch1x1=0.")
        if stride == 2 and pool != "max":
            raise ValueError(f"the stride-2 modules of [BN, Fig. 5] use max pooling, got pool={pool!r}.")
        branches: dict[str, tuple[nn.Module, int]] = {}
        if ch1x1:
            branches["branch1"] = (conv_block(in_channels, ch1x1, kernel_size=1), ch1x1)
        branches["branch2"] = (nn.Sequential(
            conv_block(in_channels, ch3x3red, kernel_size=1),
            conv_block(ch3x3red, ch3x3, kernel_size=3, stride=stride, padding=1),
        ), ch3x3)
        branches["branch3"] = (nn.Sequential(
            conv_block(in_channels, dbl3x3red, kernel_size=1),
            conv_block(dbl3x3red, dbl3x3, kernel_size=3, padding=1),
            conv_block(dbl3x3, dbl3x3, kernel_size=3, stride=stride, padding=1),
        ), dbl3x3)
        pooling = (nn.AvgPool2d(kernel_size=3, stride=stride, padding=1) if pool == "avg"
                   else nn.MaxPool2d(kernel_size=3, stride=stride, padding=1))
        if pool_proj is None:  # "pass through": the pooled input joins the concatenation as it is
            branches["branch4"] = (pooling, in_channels)
        else:
            branches["branch4"] = (nn.Sequential(pooling, conv_block(in_channels, pool_proj, kernel_size=1)),
                                   pool_proj)
        super().__init__(in_channels, branches)
        self.stride = stride

    @classmethod
    def from_row(cls, row: Figure5Row, in_channels: int, conv_block: ConvBlockFactory = ConvBNReLU,
                 width_divisor: int = 1) -> "BNInceptionModule":
        """The module of one inception row of :data:`FIGURE5`, every width divided by ``width_divisor``."""
        if not row.is_inception:
            raise ValueError(f"row {row.name!r} is a {row.type!r} row, not an inception module.")
        w = lambda c: scale_width(c, width_divisor)  # noqa: E731 - local shorthand
        return cls(in_channels, w(row.ch1x1), w(row.ch3x3red), w(row.ch3x3), w(row.dbl3x3red), w(row.dbl3x3),
                   pool=row.pool, pool_proj=None if row.pool_proj is None else w(row.pool_proj),
                   stride=row.stride, conv_block=conv_block)


def scale_width(channels: int, width_divisor: int) -> int:
    """``channels / width_divisor`` rounded half up, at least 1; 0 (an absent branch) stays 0."""
    check_positive_int("width_divisor", width_divisor)
    if channels == 0:
        return 0
    return max(1, (channels + width_divisor // 2) // width_divisor)


# ---------------------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BNInceptionConfig:
    """Everything that distinguishes one BN-Inception preset from another.

    The module widths always come from :data:`FIGURE5`; ``width_divisor`` scales them all at once.
    """

    num_classes: int = 1000  # ImageNet classes [BN, §4.2]
    in_channels: int = 3  # RGB
    stem: str = "imagenet"  # "imagenet": Fig. 5 rows conv1..pool2 (224 px -> 28x28); "small": 32-48 px inputs
    first_conv: str = "plain"  # "plain" 7x7 (as the ported Caffe model); "separable": the paper's "*"
    depth_multiplier: int = 8  # of the separable first conv: "depth multiplier 8" [BN, Fig. 5 text]
    width_divisor: int = 1  # 1 = the printed widths
    use_bn: bool = True  # BN "to the input of each nonlinearity" [BN, §3.2]; False: conv with bias + ReLU
    dropout: float = 0.0  # before the classifier; BN-x5/x30 "Remove Dropout" [BN, §4.2.1]; GoogLeNet used 0.4
    init_weights: bool = True  # He-normal convs, N(0, 0.01) classifier; identical for use_bn True and False

    def __post_init__(self) -> None:
        check_positive_int("num_classes", self.num_classes)
        check_positive_int("in_channels", self.in_channels)
        check_positive_int("depth_multiplier", self.depth_multiplier)
        check_positive_int("width_divisor", self.width_divisor)
        if self.stem not in STEMS:
            raise ValueError(f"stem must be one of {STEMS}, got {self.stem!r}.")
        if self.first_conv not in FIRST_CONVS:
            raise ValueError(f"first_conv must be one of {FIRST_CONVS}, got {self.first_conv!r}.")
        if not isinstance(self.use_bn, bool):
            raise ValueError(f"use_bn must be True or False, got {self.use_bn!r}.")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {self.dropout!r}.")


class BNInception(nn.Module):
    """The Inception network of the Batch Normalization paper [BN, Fig. 5]; build it with :func:`bn_inception`.

    Stem (rows conv1..pool2 of Fig. 5): 7x7/2 conv (64) -> 3x3/2 max-pool -> 1x1 conv (64) -> 3x3 conv (192)
    -> 3x3/2 max-pool; then modules 3a, 3b, 3c (stride 2), 4a-4d, 4e (stride 2), 5a, 5b built from the rows of
    :data:`FIGURE5`; global average pooling, dropout (optional), a fully connected classifier. Every conv is a
    ``conv_block``: conv (no bias) -> BN -> ReLU with ``use_bn=True``, conv (bias) -> ReLU without.

    The "small" stem (for the mini preset) has a 3x3/2 first conv instead of the 7x7/2 and no first max-pool
    (``pool1`` is an ``nn.Identity``), so it downsamples by 4 instead of 8: a 32x32 input reaches the modules at
    8x8 (3a-3c), 4x4 (4a-4e) and 2x2 (5a, 5b); a 48x48 input at 12x12, 6x6 and 3x3.

    Attributes ``stem_channels`` and ``module_channels`` give the channel count after each stage.

    Shape:
        (N, in_channels, H, W) -> (N, num_classes) logits, in train and eval mode alike (no auxiliary heads).

    Deviations:
        No auxiliary classifiers (Fig. 5 lists none). Global average pooling is adaptive, so inputs other than
        224x224 work; at 224 it is the printed 7x7/1 average pool. Stem max-pools use ``ceil_mode=True`` as
        GoogLeNet's Caffe model and torchvision do (112 -> 56 -> 28). Initialisation (He-normal convolutions, zero
        biases, N(0, 0.01) classifier) is ours: the paper does not give one. Paddings: see
        :class:`BNInceptionModule`.
    """

    def __init__(self, config: BNInceptionConfig = BNInceptionConfig()) -> None:
        super().__init__()
        if not isinstance(config, BNInceptionConfig):
            raise ValueError(f"BNInception needs a BNInceptionConfig, got {type(config).__name__}.")
        self.config = config
        if config.init_weights:
            # Build without touching the global RNG (PyTorch's default init would draw a different number of
            # values with and without conv biases), then draw every weight in reset_parameters().
            with torch.random.fork_rng(devices=[]):
                self._build(config)
            self.reset_parameters()
        else:
            self._build(config)

    def _build(self, config: BNInceptionConfig) -> None:
        block: ConvBlockFactory = ConvBNReLU if config.use_bn else ConvReLU  # the one line BN switches
        w = lambda c: scale_width(c, config.width_divisor)  # noqa: E731 - local shorthand
        c1, c2red, c2 = w(_ROW["conv1"].printed_output[2]), w(_ROW["conv2"].ch3x3red), w(_ROW["conv2"].ch3x3)

        if config.stem == "imagenet":
            k, s, p = _ROW["conv1"].patch_size, _ROW["conv1"].stride, 3  # 7x7/2, padded: 224 -> 112
        else:
            k, s, p = 3, 2, 1  # small inputs: a 3x3/2 conv (32 -> 16), and no pool1 below
        if config.first_conv == "plain":
            self.conv1 = block(config.in_channels, c1, kernel_size=k, stride=s, padding=p)
        else:
            self.conv1 = SeparableConv(config.in_channels, c1, kernel_size=k, stride=s, padding=p,
                                       depth_multiplier=config.depth_multiplier, conv_block=block)
        self.pool1 = (nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True) if config.stem == "imagenet"
                      else nn.Identity())
        self.conv2_reduce = block(c1, c2red, kernel_size=1)
        self.conv2 = block(c2red, c2, kernel_size=3, padding=1)
        self.pool2 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        self.stem_channels = c2

        channels, self.module_channels = c2, {}
        for row in FIGURE5_MODULES:
            module = BNInceptionModule.from_row(row, channels, conv_block=block, width_divisor=config.width_divisor)
            self.add_module(f"inception{row.name}", module)
            channels = self.module_channels[row.name] = module.out_channels
        self.num_features = channels

        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(p=config.dropout)
        self.fc = nn.Linear(channels, config.num_classes)

    def reset_parameters(self) -> None:
        """He-normal (fan-in, ReLU gain) conv weights, zero biases, N(0, 0.01) classifier, BN gamma=1, beta=0.

        The random draws happen in the same order with and without BN (BN draws nothing), so the two variants
        built after the same ``torch.manual_seed`` start from identical convolution weights.
        """
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and Inception modules: the last feature map before pooling."""
        check_input(x, self.config.in_channels, type(self).__name__)
        # Shapes for bn_inception() on N x 3 x 224 x 224 (the mini preset: see the class docstring).
        x = self.conv1(x)  # N x 64 x 112 x 112
        x = self.pool1(x)  # N x 64 x 56 x 56
        x = self.conv2_reduce(x)  # N x 64 x 56 x 56
        x = self.conv2(x)  # N x 192 x 56 x 56
        x = self.pool2(x)  # N x 192 x 28 x 28
        x = self.inception3a(x)  # N x 256 x 28 x 28
        x = self.inception3b(x)  # N x 320 x 28 x 28
        x = self.inception3c(x)  # N x 576 x 14 x 14  (printed: 28x28x576)
        x = self.inception4a(x)  # N x 576 x 14 x 14
        x = self.inception4b(x)  # N x 576 x 14 x 14
        x = self.inception4c(x)  # N x 608 x 14 x 14  (printed: 576)
        x = self.inception4d(x)  # N x 608 x 14 x 14  (printed: 576)
        x = self.inception4e(x)  # N x 1056 x 7 x 7  (printed: 14x14x1024)
        x = self.inception5a(x)  # N x 1024 x 7 x 7
        x = self.inception5b(x)  # N x 1024 x 7 x 7
        return x

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """Global average pooling, dropout and the classifier: features -> logits."""
        x = self.avgpool(x)  # N x 1024 x 1 x 1
        x = torch.flatten(x, 1)  # N x 1024
        x = self.dropout(x)
        return self.fc(x)  # N x num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------
def bn_inception(num_classes: int = 1000, *, first_conv: str = "plain", use_bn: bool = True, dropout: float = 0.0,
                 init_weights: bool = True) -> BNInception:
    """BN-Inception as in [BN, Fig. 5], for 224x224 inputs.

    Args:
        num_classes: classifier outputs.
        first_conv: ``"plain"`` 7x7 conv (as in the Caffe model later ported to PyTorch) or ``"separable"``,
            the paper's "*": depthwise 7x7 with depth multiplier 8, then 1x1 [BN, Fig. 5 text].
        use_bn: ``False`` builds the same network with conv+bias+ReLU atoms (no BN).
        dropout: dropout before the classifier (0: "Remove Dropout" [BN, §4.2.1]; GoogLeNet used 0.4).
        init_weights: apply :meth:`BNInception.reset_parameters`.

    Deviations:
        ``first_conv`` defaults to ``"plain"``, a full 7x7 convolution as in the Caffe model that was released and
        ported; the paper's own model used the separable one ("*"). Module widths are the printed filter columns,
        so 4c/4d output 608 channels and 4e 1056, not the printed 576/1024. See also :class:`BNInception` and
        :class:`BNInceptionModule`.
    """
    return BNInception(BNInceptionConfig(num_classes=num_classes, first_conv=first_conv, use_bn=use_bn,
                                         dropout=dropout, init_weights=init_weights))


def mini_bn_inception(num_classes: int = 10, *, use_bn: bool = True, width_divisor: int = 8, in_channels: int = 3,
                      first_conv: str = "plain", dropout: float = 0.0, init_weights: bool = True) -> BNInception:
    """A small BN-Inception for 32-48 px inputs and CPU training, built by the same code as :func:`bn_inception`.

    Same ten modules, every Figure 5 width divided by ``width_divisor``; the "small" stem (3x3/2 first conv, no
    first max-pool; see :class:`BNInception`) so a 32x32 image reaches the modules at 8x8, 4x4 and 2x2
    (48x48: 12, 6, 3).

    ``use_bn=False`` builds the *same* network with conv (with bias) + ReLU atoms instead of conv + BN + ReLU:
    same layers, widths, initialisation (identical conv weights after the same ``torch.manual_seed``) -- the
    only differences are the BN layers and the conv biases that BN makes redundant. That is the fair ablation.

    Args:
        num_classes: classifier outputs.
        use_bn: BN before every nonlinearity (True) or none at all (False).
        width_divisor: divides every channel count of Figure 5 (8: 3a outputs 32 channels, 5b 128).
        in_channels: image channels.
        first_conv: ``"plain"`` or ``"separable"`` (depth multiplier 8), as in :func:`bn_inception`.
        dropout: dropout before the classifier.
        init_weights: apply :meth:`BNInception.reset_parameters`.

    Deviations:
        Not in the paper: the small stem (3x3/2 first conv, no first max-pool) and the divided widths. With the
        defaults: 163,866 parameters and 2,497,344 MACs per 32x32 image.
    """
    return BNInception(BNInceptionConfig(num_classes=num_classes, in_channels=in_channels, stem="small",
                                         first_conv=first_conv, width_divisor=width_divisor, use_bn=use_bn,
                                         dropout=dropout, init_weights=init_weights))


# ---------------------------------------------------------------------------------------------------------
# Checking the printed table
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutputSize:
    """Computed vs printed output size of one row of [BN, Fig. 5], as (height, width, channels)."""

    name: str
    type: str
    printed: tuple[int, int, int]
    computed: tuple[int, int, int]

    @property
    def matches(self) -> bool:
        return self.printed == self.computed

    @property
    def difference(self) -> str:
        """Which of grid and channels disagree, e.g. ``"channels 608 (printed 576)"``; ``""`` when they match."""
        parts = []
        if self.printed[:2] != self.computed[:2]:
            parts.append(f"grid {self.computed[0]}x{self.computed[1]} (printed {self.printed[0]}x{self.printed[1]})")
        if self.printed[2] != self.computed[2]:
            parts.append(f"channels {self.computed[2]} (printed {self.printed[2]})")
        return "; ".join(parts)


def output_size_table(image_size: int = 224) -> list[OutputSize]:
    """Every row of [BN, Fig. 5] with its printed output size and the size its columns actually give.

    Computed with the convolution/pooling arithmetic of :mod:`inception_lab.cost` and the paddings of
    :class:`BNInception` (the tests check it against a forward pass). At 224 the rows that disagree are 3c, 4c,
    4d and 4e.
    """
    check_positive_int("image_size", image_size)
    h = image_size
    c = 3
    rows = []
    for row in FIGURE5:
        if row.name == "conv1":
            h, c = conv_output_size(h, 7, 2, 3), row.printed_output[2]
        elif row.name in ("pool1", "pool2"):
            h = pool_output_size(h, 3, 2, 0, ceil_mode=True)
        elif row.name == "conv2":
            h, c = conv_output_size(h, 3, 1, 1), row.ch3x3
        elif row.is_inception:
            h = conv_output_size(h, 3, row.stride, 1)
            c = row.ch1x1 + row.ch3x3 + row.dbl3x3 + (c if row.pool_proj is None else row.pool_proj)
        else:  # the global average pool
            h = 1
        rows.append(OutputSize(row.name, row.type, row.printed_output, (h, h, c)))
    return rows


@dataclass(frozen=True)
class CostComparison:
    """Params and MACs of BN-Inception vs paper-faithful GoogLeNet, next to what the BN paper claims.

    Attributes:
        params, macs: of :func:`bn_inception` (eval mode, 1x3x224x224), counted by :func:`inception_lab.cost.count`.
        bn_params: the part of ``params`` that is BatchNorm gamma and beta.
        first_conv: ``"plain"`` or ``"separable"``, for both networks.
        googlenet_params, googlenet_macs: paper-faithful GoogLeNet [GoogLeNet, Table 1] with the same kind of
            first convolution, no auxiliary heads (:data:`GOOGLENET_COST`).
        paper_params: the 13.6 M of [BN, §4.2].
        paper_params_increase, paper_macs_increase: +25 % and +30 % over GoogLeNet [BN, Fig. 5 text].
        report: the full per-layer :class:`~inception_lab.cost.CostReport`.
    """

    first_conv: str
    params: int
    macs: int
    bn_params: int
    googlenet_params: int
    googlenet_macs: int
    paper_params: int
    paper_params_increase: float
    paper_macs_increase: float
    report: CostReport

    @property
    def params_increase(self) -> float:
        """Computed relative increase in parameters over GoogLeNet (0.61 means +61 %)."""
        return self.params / self.googlenet_params - 1

    @property
    def macs_increase(self) -> float:
        """Computed relative increase in MACs over GoogLeNet."""
        return self.macs / self.googlenet_macs - 1


def compare_with_googlenet(first_conv: str = "plain") -> CostComparison:
    """Count :func:`bn_inception` at 1x3x224x224 and set it next to GoogLeNet and the paper's claims.

    Args:
        first_conv: ``"plain"`` or ``"separable"`` (the paper's "*"), used for both networks so that like is
            compared with like (GoogLeNet's Table 1 numbers also imply a separable first layer).
    """
    if first_conv not in FIRST_CONVS:
        raise ValueError(f"first_conv must be one of {FIRST_CONVS}, got {first_conv!r}.")
    model = bn_inception(first_conv=first_conv, init_weights=False).eval()
    report = count(model, (1, 3, 224, 224))
    bn_params = sum(l.params for l in report.layers if l.kind in ("BatchNorm2d", "ScratchBatchNorm2d"))
    googlenet_params, googlenet_macs = GOOGLENET_COST[first_conv]
    return CostComparison(first_conv=first_conv, params=report.params, macs=report.macs, bn_params=bn_params,
                          googlenet_params=googlenet_params, googlenet_macs=googlenet_macs,
                          paper_params=PAPER_PARAMS, paper_params_increase=PAPER_PARAMS_INCREASE,
                          paper_macs_increase=PAPER_MACS_INCREASE, report=report)
