"""BN-Inception, the Inception network of the Batch Normalization paper [BN, Fig. 5, §4.2]: module, network, presets.

Built from the rows of :data:`inception_lab.papers.batch_normalization.FIGURE5` (where the printed table's
inconsistencies are documented). Differences from GoogLeNet, as listed under the figure [BN, Fig. 5]: each 5x5
convolution is replaced by two consecutive 3x3 convolutions ("double 3x3"), there are three 28x28 modules instead
of two, average or max pooling inside the modules, and no pooling layers between modules: modules 3c and 4e reduce
the grid themselves with stride-2 convolutions and a stride-2 max-pool whose output is passed through unprojected.
BatchNorm goes before every nonlinearity [BN, §3.2] and there is no Local Response Normalization [BN, §4.2.1].

Introduced in chapter 3 (``notebooks/03_bn_inception.ipynb``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from inception_lab.checks import check_bool, check_choice, check_non_negative_int, check_positive_int, check_probability
from inception_lab.models.base import InceptionNet
from inception_lab.nn.branches import MultiBranch
from inception_lab.nn.initialization import INIT_SCHEMES, init_weights_
from inception_lab.nn.layers import ConvBlockFactory, ConvBNReLU, ConvReLU, SeparableConv
from inception_lab.papers import batch_normalization as paper
from inception_lab.papers.going_deeper import FIRST_CONVS

POOL_TYPES = ("avg", "max")
STEMS = ("imagenet", "small")


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
        conv_block: :class:`~inception_lab.nn.layers.ConvBNReLU` (conv, BN before the ReLU: the paper) or
            :class:`~inception_lab.nn.layers.ConvReLU` (conv with bias, no BN: the same module without BN).

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
        check_non_negative_int("ch1x1 (0: no 1x1 branch)", ch1x1)
        for name, value in dict(ch3x3red=ch3x3red, ch3x3=ch3x3, dbl3x3red=dbl3x3red, dbl3x3=dbl3x3).items():
            check_positive_int(name, value)
        if pool_proj is not None:
            check_positive_int("pool_proj", pool_proj)
        check_choice("pool", pool, POOL_TYPES)
        check_choice("stride", stride, (1, 2))
        if stride == 2 and ch1x1:
            raise ValueError(f"a stride-2 module has no 1x1 branch in [BN, Fig. 5] (modules 3c, 4e); got "
                             f"ch1x1={ch1x1}. Use ch1x1=0.")
        if stride == 2 and pool != "max":
            raise ValueError(f"the stride-2 modules of [BN, Fig. 5] use max pooling, got pool={pool!r}.")
        super().__init__(in_channels)
        if ch1x1:
            self.add_branch("branch1", conv_block(in_channels, ch1x1, kernel_size=1))
        self.add_branch("branch2", nn.Sequential(
            conv_block(in_channels, ch3x3red, kernel_size=1),
            conv_block(ch3x3red, ch3x3, kernel_size=3, stride=stride, padding=1)))
        self.add_branch("branch3", nn.Sequential(
            conv_block(in_channels, dbl3x3red, kernel_size=1),
            conv_block(dbl3x3red, dbl3x3, kernel_size=3, padding=1),
            conv_block(dbl3x3, dbl3x3, kernel_size=3, stride=stride, padding=1)))
        pooling = (nn.AvgPool2d(kernel_size=3, stride=stride, padding=1) if pool == "avg"
                   else nn.MaxPool2d(kernel_size=3, stride=stride, padding=1))
        if pool_proj is None:  # "pass through": the pooled input joins the concatenation as it is
            self.add_branch("branch4", pooling)
        else:
            self.add_branch("branch4", nn.Sequential(pooling, conv_block(in_channels, pool_proj, kernel_size=1)))
        self.stride = stride

    @classmethod
    def from_row(cls, row: paper.Figure5Row, in_channels: int,
                 conv_block: ConvBlockFactory = ConvBNReLU) -> BNInceptionModule:
        """The module of one inception row of :data:`~inception_lab.papers.batch_normalization.FIGURE5`."""
        if not row.is_inception:
            raise ValueError(f"row {row.name!r} is a {row.type!r} row, not an inception module.")
        return cls(in_channels, row.ch1x1, row.ch3x3red, row.ch3x3, row.dbl3x3red, row.dbl3x3, pool=row.pool,
                   pool_proj=row.pool_proj, stride=row.stride, conv_block=conv_block)


# ---------------------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BNInceptionConfig:
    """Everything that distinguishes one BN-Inception preset from another [BN, Fig. 5, §4.2].

    The module widths always come from :data:`~inception_lab.papers.batch_normalization.FIGURE5`;
    ``width_divisor`` scales them all at once.
    """

    num_classes: int = 1000  # ImageNet classes [BN, §4.2]
    in_channels: int = 3  # RGB
    stem: str = "imagenet"  # "imagenet": Fig. 5 rows conv1..pool2 (224 px -> 28x28); "small": 32-48 px inputs
    width_divisor: int = 1  # 1 = the printed widths; every width divided by it
    min_channels: int = 1  # no divided width below it: TF-slim's min_depth (16 there); 1 = no floor
    first_conv: str = "plain"  # "plain" 7x7 (as the ported Caffe model); "separable": the paper's "*"
    depth_multiplier: int = 8  # of the separable first conv: "depth multiplier 8" [BN, Fig. 5 text]
    use_bn: bool = True  # BN "to the input of each nonlinearity" [BN, §3.2]; False: conv with bias + ReLU
    dropout: float = 0.0  # before the classifier; BN-x5/x30 "Remove Dropout" [BN, §4.2.1]; GoogLeNet used 0.4
    init_weights: str = "kaiming_conv"  # INIT_SCHEMES; He-normal convs, N(0, 0.01) classifier, same with/without BN

    def __post_init__(self) -> None:
        check_positive_int("num_classes", self.num_classes)
        check_positive_int("in_channels", self.in_channels)
        check_positive_int("depth_multiplier", self.depth_multiplier)
        check_positive_int("width_divisor", self.width_divisor)
        check_positive_int("min_channels", self.min_channels)
        check_choice("stem", self.stem, STEMS)
        check_choice("first_conv", self.first_conv, FIRST_CONVS)
        check_bool("use_bn", self.use_bn)
        check_probability("dropout", self.dropout)
        check_choice("init_weights", self.init_weights, INIT_SCHEMES)


#: The stages of :class:`BNInception` that implement Fig. 5's rows other than the Inception modules (those are
#: ``inception<row>``). The "convolution" row conv2 is a 1x1 reduce (``conv2``) and a 3x3 (``conv3``).
_STAGE_OF_ROW = {"conv1": "conv1", "pool1": "maxpool1", "conv2": "conv3", "pool2": "maxpool2", "avgpool": "avgpool"}


class BNInception(InceptionNet):
    """The Inception network of the Batch Normalization paper [BN, Fig. 5]; build it with :func:`bn_inception`.

    Stem (rows conv1..pool2 of Fig. 5): 7x7/2 conv (64) -> 3x3/2 max-pool -> 1x1 conv (64) -> 3x3 conv (192)
    -> 3x3/2 max-pool; then modules 3a, 3b, 3c (stride 2), 4a-4d, 4e (stride 2), 5a, 5b built from the rows of
    :data:`~inception_lab.papers.batch_normalization.FIGURE5`; global average pooling, dropout (optional), a fully
    connected classifier. Every conv is a ``conv_block``: conv (no bias) -> BN -> ReLU with ``use_bn=True``, conv
    (bias) -> ReLU without.

    The "small" stem (for the mini preset) has a 3x3/2 first conv instead of the 7x7/2 and no first max-pool
    (``maxpool1`` is an ``nn.Identity``), so it downsamples by 4 instead of 8: a 32x32 input reaches the modules at
    8x8 (3a-3c), 4x4 (4a-4e) and 2x2 (5a, 5b); a 48x48 input at 12x12, 6x6 and 3x3.

    The attribute ``module_channels`` gives the channel count after each Inception module;
    :meth:`stage_of_row` names the stage that implements a row of Fig. 5.

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
        if not isinstance(config, BNInceptionConfig):
            raise ValueError(f"BNInception needs a BNInceptionConfig, got {type(config).__name__}.")
        super().__init__(config)
        if config.init_weights != "pytorch":
            # Build without touching the global RNG (PyTorch's default init would draw a different number of
            # values with and without conv biases), then draw every weight with the scheme.
            with torch.random.fork_rng(devices=[]):
                self._build(config)
            init_weights_(self, config.init_weights)
        else:
            self._build(config)

    @staticmethod
    def stage_of_row(row: str) -> str:
        """The stage (attribute) that implements the row ``row`` of Fig. 5 (``"pool1"`` -> ``"maxpool1"``)."""
        if row not in paper.ROW:
            raise ValueError(f"Fig. 5 has no row {row!r}; its rows are {list(paper.ROW)}.")
        return _STAGE_OF_ROW.get(row, f"inception{row}")

    def _build(self, config: BNInceptionConfig) -> None:
        block: ConvBlockFactory = ConvBNReLU if config.use_bn else ConvReLU  # the one line BN switches
        conv1, conv2 = paper.ROW["conv1"], paper.ROW["conv2"]
        c1, c2red, c2 = self.scaled(conv1.printed_output[2]), self.scaled(conv2.ch3x3red), self.scaled(conv2.ch3x3)
        if config.stem == "imagenet":
            kernel, stride, padding = conv1.patch_size, conv1.stride, 3  # 7x7/2, padded: 224 -> 112
        else:
            kernel, stride, padding = 3, 2, 1  # small inputs: a 3x3/2 conv (32 -> 16), and no pool1 below
        if config.first_conv == "plain":
            self.conv1 = block(config.in_channels, c1, kernel_size=kernel, stride=stride, padding=padding)
        else:
            self.conv1 = SeparableConv(config.in_channels, c1, kernel_size=kernel, stride=stride, padding=padding,
                                       depth_multiplier=config.depth_multiplier, conv_block=block)
        self.maxpool1 = (nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True) if config.stem == "imagenet"
                         else nn.Identity())
        self.conv2 = block(c1, c2red, kernel_size=1)  # the row's "#3x3 reduce" (names as in GoogLeNet)
        self.conv3 = block(c2red, c2, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)

        channels, self.module_channels = c2, {}
        for row in paper.FIGURE5_MODULES:
            module = BNInceptionModule.from_row(self._scaled_row(row), channels, conv_block=block)
            self.add_module(f"inception{row.name}", module)
            channels = self.module_channels[row.name] = module.out_channels
        self.num_features = channels

        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(p=config.dropout)
        self.fc = nn.Linear(channels, config.num_classes)

    def _scaled_row(self, row: paper.Figure5Row) -> paper.Figure5Row:
        """``row`` with every filter column divided by ``width_divisor`` (0 stays 0, "pass through" stays)."""
        columns = ("ch1x1", "ch3x3red", "ch3x3", "dbl3x3red", "dbl3x3")
        proj = None if row.pool_proj is None else self.scaled(row.pool_proj)
        return replace(row, pool_proj=proj, **{c: self.scaled(getattr(row, c)) for c in columns})

    def _trunk(self, x: torch.Tensor, aux: list[torch.Tensor] | None) -> torch.Tensor:
        """Stem and Inception modules: the last feature map before pooling (BN-Inception has no auxiliary heads)."""
        # Shapes for bn_inception() on N x 3 x 224 x 224 (the mini preset: see the class docstring).
        x = self.conv1(x)  # N x 64 x 112 x 112
        x = self.maxpool1(x)  # N x 64 x 56 x 56
        x = self.conv2(x)  # N x 64 x 56 x 56
        x = self.conv3(x)  # N x 192 x 56 x 56
        x = self.maxpool2(x)  # N x 192 x 28 x 28
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


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------
def bn_inception(num_classes: int = 1000, *, first_conv: str = "plain", use_bn: bool = True, dropout: float = 0.0,
                 init_weights: str = "kaiming_conv") -> BNInception:
    """BN-Inception as in [BN, Fig. 5], for 224x224 inputs.

    Args:
        num_classes: classifier outputs.
        first_conv: ``"plain"`` 7x7 conv (as in the Caffe model later ported to PyTorch) or ``"separable"``,
            the paper's "*": depthwise 7x7 with depth multiplier 8, then 1x1 [BN, Fig. 5 text].
        use_bn: ``False`` builds the same network with conv+bias+ReLU atoms (no BN).
        dropout: dropout before the classifier (0: "Remove Dropout" [BN, §4.2.1]; GoogLeNet used 0.4).
        init_weights: a scheme of :data:`~inception_lab.nn.initialization.INIT_SCHEMES` (default: He-normal
            convolutions, N(0, 0.01) classifier, identical draws with and without BN).

    Deviations:
        ``first_conv`` defaults to ``"plain"``, a full 7x7 convolution as in the Caffe model that was released and
        ported; the paper's own model used the separable one ("*"). Module widths are the printed filter columns,
        so 4c/4d output 608 channels and 4e 1056, not the printed 576/1024. See also :class:`BNInception` and
        :class:`BNInceptionModule`.
    """
    return BNInception(BNInceptionConfig(num_classes=num_classes, first_conv=first_conv, use_bn=use_bn,
                                         dropout=dropout, init_weights=init_weights))


def mini_bn_inception(num_classes: int = 10, *, use_bn: bool = True, width_divisor: int = 8, min_channels: int = 1,
                      in_channels: int = 3, first_conv: str = "plain", dropout: float = 0.0,
                      init_weights: str = "kaiming_conv") -> BNInception:
    """A small BN-Inception for 32-48 px inputs and CPU training, built by the same code as :func:`bn_inception`.

    Same ten modules, every Figure 5 width divided by ``width_divisor``; the "small" stem (3x3/2 first conv, no
    first max-pool; see :class:`BNInception`) so a 32x32 image reaches the modules at 8x8, 4x4 and 2x2
    (48x48: 12, 6, 3).

    ``use_bn=False`` builds the *same* network with conv (with bias) + ReLU atoms instead of conv + BN + ReLU:
    same layers, widths, initialisation (identical conv weights after the same ``torch.manual_seed``) -- the
    only differences are the BN layers and the conv biases that BN makes redundant. That is the fair ablation.

    Mini-preset defaults: no auxiliary classifiers (Fig. 5 has none) and dropout 0, as BN-x5 "Remove Dropout"
    [BN, §4.2.1] and as every preset of chapter 7's lab.

    Args:
        num_classes: classifier outputs.
        use_bn: BN before every nonlinearity (True) or none at all (False).
        width_divisor: divides every channel count of Figure 5 (8: 3a outputs 32 channels, 5b 128).
        min_channels: no divided width below it (TF-slim's ``min_depth``; 1: no floor).
        in_channels: image channels.
        first_conv: ``"plain"`` or ``"separable"`` (depth multiplier 8), as in :func:`bn_inception`.
        dropout: dropout before the classifier.
        init_weights: a scheme of :data:`~inception_lab.nn.initialization.INIT_SCHEMES` (default: He-normal
            convolutions, N(0, 0.01) classifier, identical draws with and without BN).

    Deviations:
        Not in the paper: the small stem (3x3/2 first conv, no first max-pool) and the divided widths. With the
        defaults: 163,866 parameters and 2,497,344 MACs per 32x32 image.
    """
    return BNInception(BNInceptionConfig(num_classes=num_classes, in_channels=in_channels, stem="small",
                                         first_conv=first_conv, width_divisor=width_divisor,
                                         min_channels=min_channels, use_bn=use_bn,
                                         dropout=dropout, init_weights=init_weights))


