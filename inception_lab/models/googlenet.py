"""GoogLeNet (Inception v1) [GoogLeNet, Table 1, Fig. 2, Fig. 3]: its modules, the network, its presets.

* :class:`NaiveInception` [Fig. 2a] and :class:`Inception` [Fig. 2b], chapter 1's modules;
* :class:`InceptionAux`, the auxiliary classifier of §5, with its widths in :class:`AuxSpec`;
* :class:`GoogLeNet`, built from its :class:`GoogLeNetConfig`: the stem (:class:`StemSpec`), the rows of
  :data:`inception_lab.papers.going_deeper.TABLE1_ROWS`, and the max-pools where Table 1 puts them;
* presets: :func:`googlenet` (the paper), :func:`googlenet_tv` (torchvision's ``state_dict`` and deviations) and
  :func:`mini_googlenet` (the same code for 32-64 px images and CPU training).

Introduced in chapters 1 and 2. Units follow :mod:`inception_lab.cost`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from inception_lab.checks import check_bool, check_choice, check_positive_int, check_probability
from inception_lab.cost.inception import BRANCH3_KERNELS
from inception_lab.models.base import InceptionNet, imagenet_to_unit_scaling
from inception_lab.nn.branches import MultiBranch, check_block_input
from inception_lab.nn.initialization import INIT_SCHEMES, init_weights_
from inception_lab.nn.layers import CONV_ATOMS, ConvBlockFactory, ConvReLU, SeparableConv
from inception_lab.papers import going_deeper as paper


# ---------------------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------------------
class NaiveInception(MultiBranch):
    """Naive Inception module [GoogLeNet, Fig. 2a]: 1x1, 3x3, 5x5 convolutions and 3x3 max-pooling in parallel.

    The pooling branch has no projection, so it passes all ``in_channels`` through and the output has
    ``in_channels + ch1x1 + ch3x3 + ch5x5`` channels: stacked naive modules can only grow [GoogLeNet, §4].
    Its spec is :func:`inception_lab.cost.inception.naive_spec`.

    Shape:
        (N, in_channels, H, W) -> (N, in_channels + ch1x1 + ch3x3 + ch5x5, H, W).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int,
                 conv_block: ConvBlockFactory = ConvReLU) -> None:
        super().__init__(in_channels)
        self.add_branch("branch1", conv_block(in_channels, ch1x1, kernel_size=1))
        self.add_branch("branch2", conv_block(in_channels, ch3x3, kernel_size=3, padding=1))
        self.add_branch("branch3", conv_block(in_channels, ch5x5, kernel_size=5, padding=2))
        self.add_branch("branch4", nn.MaxPool2d(kernel_size=3, stride=1, padding=1))


class Inception(MultiBranch):
    """Inception module with dimension reductions [GoogLeNet, Fig. 2b]; arguments are Table 1's columns.

    Branches (``state_dict`` names as in torchvision's ``googlenet.Inception``: one ``nn.Sequential`` each):
        branch1: 1x1 conv (``ch1x1``)
        branch2: 1x1 reduce (``ch3x3red``) -> 3x3 conv (``ch3x3``)
        branch3: 1x1 reduce (``ch5x5red``) -> 5x5 conv (``ch5x5``)
        branch4: 3x3/1 max-pool -> 1x1 projection (``pool_proj``)

    Its spec is :func:`inception_lab.cost.inception.reduced_spec`.

    Args:
        conv_block: :class:`~inception_lab.nn.layers.ConvReLU` (the paper) or a BN atom.
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
        k = check_choice("branch3_kernel_size", branch3_kernel_size, BRANCH3_KERNELS)
        super().__init__(in_channels)
        self.add_branch("branch1", conv_block(in_channels, ch1x1, kernel_size=1))
        self.add_branch("branch2", nn.Sequential(conv_block(in_channels, ch3x3red, kernel_size=1),
                                                 conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1)))
        self.add_branch("branch3", nn.Sequential(conv_block(in_channels, ch5x5red, kernel_size=1),
                                                 conv_block(ch5x5red, ch5x5, kernel_size=k, padding=k // 2)))
        self.add_branch("branch4", nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                                 conv_block(in_channels, pool_proj, kernel_size=1)))


@dataclass(frozen=True)
class AuxSpec:
    """An auxiliary classifier's widths and pooling [GoogLeNet, §5] (defaults: :data:`~.going_deeper.AUX_HEAD`).

    Attributes:
        conv: "A 1x1 convolution with 128 filters for dimension reduction"; fc: "A fully connected layer with
            1024 units"; grid: side of the pooled map: "4x4x512 output for the (4a) ... stage".
        adaptive: ``False``: "An average pooling layer with 5x5 filter size and stride 3", which gives ``grid x
            grid`` only on 14x14 maps (224 px images); ``True``: ``AdaptiveAvgPool2d(grid)``, as torchvision.
    """

    conv: int = paper.AUX_HEAD["conv"]
    fc: int = paper.AUX_HEAD["fc"]
    grid: int = 4
    adaptive: bool = False

    def __post_init__(self) -> None:
        for name in ("conv", "fc", "grid"):
            check_positive_int(f"AuxSpec.{name}", getattr(self, name))
        check_bool("AuxSpec.adaptive", self.adaptive)


class InceptionAux(nn.Module):
    """Auxiliary classifier on an intermediate Inception output [GoogLeNet, §5].

    "An average pooling layer with 5x5 filter size and stride 3 ... A 1x1 convolution with 128 filters for
    dimension reduction and rectified linear activation. A fully connected layer with 1024 units and rectified
    linear activation. A dropout layer with 70% ratio of dropped outputs. A linear layer with softmax loss as
    the classifier." Attribute names (``conv``, ``fc1``, ``fc2``) match torchvision's ``InceptionAux``.

    Args:
        in_channels: channels of the module it sits on (512 for 4a, 528 for 4d).
        num_classes: classes it predicts ("the same 1000 classes as the main classifier").
        conv_block: the conv atom; spec: widths and pooling (``fc1`` sees ``spec.conv * spec.grid ** 2`` features);
        dropout: probability of dropping a hidden unit (0.7).

    Shape:
        (N, in_channels, 14, 14) -> (N, num_classes) for the paper's head; any H, W with ``spec.adaptive``.
    """

    def __init__(self, in_channels: int, num_classes: int, conv_block: ConvBlockFactory = ConvReLU,
                 spec: AuxSpec = AuxSpec(), dropout: float = paper.AUX_HEAD["dropout"]) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        check_positive_int("num_classes", num_classes)
        self.grid = grid = spec.grid
        check_probability("dropout", dropout)
        self.pool = (nn.AdaptiveAvgPool2d(grid) if spec.adaptive else
                     nn.AvgPool2d(kernel_size=paper.AUX_HEAD["pool_kernel"], stride=paper.AUX_HEAD["pool_stride"]))
        self.conv = conv_block(in_channels, spec.conv, kernel_size=1)
        self.fc1 = nn.Linear(spec.conv * grid * grid, spec.fc)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(p=dropout)
        self.fc2 = nn.Linear(spec.fc, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_block_input(x, self.in_channels, "InceptionAux")
        # aux1: N x 512 x 14 x 14, aux2: N x 528 x 14 x 14
        pooled = self.pool(x)
        if pooled.shape[-2:] != (self.grid, self.grid):
            raise ValueError(
                f"InceptionAux: 5x5/3 average pooling of a {x.shape[-2]}x{x.shape[-1]} map gives "
                f"{pooled.shape[-2]}x{pooled.shape[-1]}, but fc1 expects {self.grid}x{self.grid} (the paper's head "
                f"needs 14x14 maps, i.e. 224x224 images). Use such inputs, or build the model with "
                f"AuxSpec(adaptive=True) (torchvision's adaptive pooling).")
        x = self.conv(pooled)  # N x 128 x 4 x 4
        x = torch.flatten(x, 1)  # N x 2048
        x = self.dropout(self.relu(self.fc1(x)))  # N x 1024
        return self.fc2(x)  # N x num_classes


# ---------------------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StemSpec:
    """The layers before inception (3a): Table 1's first four lines [GoogLeNet, Table 1, Fig. 3].

    ``conv1`` filters of the first convolution, its (odd, padded) kernel and stride, then ``conv2`` (the "#3x3
    reduce" 1x1) and ``conv3`` (the 3x3) of the second convolution line; a 3x3/2 max-pool follows ``conv1`` and
    ``conv3``. Widths default to :data:`~inception_lab.papers.going_deeper.STEM_WIDTHS`.
    """

    conv1: int = paper.STEM_WIDTHS["conv1"]
    conv1_kernel_size: int = 7  # Table 1: "convolution 7x7/2"
    conv1_stride: int = 2
    conv2: int = paper.STEM_WIDTHS["conv2"]
    conv3: int = paper.STEM_WIDTHS["conv3"]

    def __post_init__(self) -> None:
        for name in ("conv1", "conv1_kernel_size", "conv1_stride", "conv2", "conv3"):
            check_positive_int(f"StemSpec.{name}", getattr(self, name))
        if self.conv1_kernel_size % 2 == 0:
            raise ValueError(f"StemSpec.conv1_kernel_size must be odd (it is padded symmetrically), got "
                             f"{self.conv1_kernel_size}.")


#: The stems by name: ``"imagenet"`` is Table 1's (7x7/2 first convolution: 224 -> 28x28 at (3a)); ``"small"``
#: (ours, for 32-64 px images) has a 3x3/1 first convolution, so the stem halves the grid twice, not three times.
STEMS: dict[str, StemSpec] = {"imagenet": StemSpec(), "small": StemSpec(conv1_kernel_size=3, conv1_stride=1)}

#: Table 1's stride-2 max-pools between Inception rows (:data:`~inception_lab.papers.going_deeper.POOLS_AFTER`):
#: the row they follow -> the attribute that holds them.
POOL_AFTER_ROW: dict[str, str] = {"3b": "maxpool3", "4e": "maxpool4"}


@dataclass(frozen=True)
class GoogLeNetConfig:
    """Everything that distinguishes one GoogLeNet preset from another [GoogLeNet, Table 1, Fig. 3, §5].

    The module widths always come from :data:`~inception_lab.papers.going_deeper.TABLE1_ROWS`; ``width_divisor``
    scales them all at once, with the stem's and the auxiliary heads'.
    """

    num_classes: int = 1000  # ILSVRC's 1000 classes [GoogLeNet, §5]
    in_channels: int = 3  # "RGB color channels with mean subtraction" [GoogLeNet, §5]
    stem: str = "imagenet"  # a key of STEMS: "imagenet" (Table 1) or "small" (3x3/1 first conv, 32-64 px inputs)
    width_divisor: int = 1  # 1 = Table 1's widths; every width (stem, modules, aux heads) divided by it
    min_channels: int = 1  # no divided width below it: TF-slim's min_depth (16 there); 1 = no floor
    atom: str = "relu"  # a key of CONV_ATOMS; "relu": "All the convolutions ... use rectified linear activation" [§5]
    first_conv: str = "plain"  # "plain" 7x7 (Table 1's patch column); "separable": its 2.7K / 34M cost cells
    branch3_kernel_size: int = 5  # the "#5x5" branch; 3 in torchvision (pytorch/vision#906)
    lrn: bool = True  # Fig. 3's two LocalResponseNorms (size 5, alpha 1e-4, beta 0.75, k 1: the BVLC Caffe model)
    maxpool4_kernel_size: int = 3  # the max-pool before (5a): Table 1's 3x3/2; torchvision's 2x2/2 (same 7x7)
    ceil_mode: bool = True  # Caffe's rounding of the stride-2 max-pools: Table 1's 112 -> 56 -> 28 -> 14 -> 7
    aux_logits: bool = True  # the auxiliary classifiers on (4a) and (4d) [§5]; they run in train mode only
    aux_head: AuxSpec = AuxSpec()  # their widths and pooling [§5]
    dropout: float = 0.4  # before the classifier: "dropout (40%)" [Table 1]
    dropout_aux: float = 0.7  # in the auxiliary classifiers: "70% ratio of dropped outputs" [§5]
    transform_input: bool = False  # map ImageNet mean/std inputs to the [-1, 1] scaling of torchvision's weights
    init_weights: str = "caffe"  # INIT_SCHEMES; the paper gives none: the BVLC Caffe replication's fillers

    def __post_init__(self) -> None:
        for name in ("num_classes", "in_channels", "width_divisor", "min_channels"):
            check_positive_int(name, getattr(self, name))
        check_choice("stem", self.stem, tuple(STEMS))
        check_choice("atom", self.atom, tuple(CONV_ATOMS))
        check_choice("first_conv", self.first_conv, paper.FIRST_CONVS)
        check_choice("branch3_kernel_size", self.branch3_kernel_size, BRANCH3_KERNELS)
        check_choice("maxpool4_kernel_size", self.maxpool4_kernel_size, (3, 2))
        for name in ("lrn", "ceil_mode", "aux_logits", "transform_input"):
            check_bool(name, getattr(self, name))
        if not isinstance(self.aux_head, AuxSpec):
            raise ValueError(f"aux_head must be an AuxSpec, got {type(self.aux_head).__name__}.")
        check_probability("dropout", self.dropout)
        check_probability("dropout_aux", self.dropout_aux)
        check_choice("init_weights", self.init_weights, INIT_SCHEMES)


class GoogLeNet(InceptionNet):
    """GoogLeNet, "the incarnation of the Inception architecture" of [GoogLeNet, Table 1, Fig. 3].

    Built from a :class:`GoogLeNetConfig`: the stem (:data:`STEMS`), the nine Inception modules (rows of Table
    1), 3x3/2 max-pools after the first convolution, after the 3x3 convolution, and after the Inception rows where
    Table 1 prints one (:data:`POOL_AFTER_ROW`); a global average pool, dropout and a linear layer close the network.
    Attribute names are those of ``torchvision.models.GoogLeNet``, so its ``state_dict`` loads into
    :func:`googlenet_tv`. Without LRN (``lrn1``, ``lrn2``) or auxiliary classifiers (``aux1``, ``aux2``) those
    attributes are ``nn.Identity``.

    ``transform_input`` starts as the config says; :func:`~inception_lab.pretrained.load_torchvision_weights`
    switches it on.

    Shape:
        (N, 3, H, W) -> (N, num_classes) in eval mode, or without auxiliary classifiers. In train mode with
        auxiliary classifiers: :class:`~inception_lab.nn.losses.AuxOutputs` ``(logits, (aux1, aux2))`` with
        ``aux1`` from the head on (4a) -- the reverse of torchvision's ``(logits, aux2, aux1)``. Inputs smaller
        than :attr:`min_input_size` raise a ``ValueError``.

    Deviations:
        Table 1's "avg pool 7x7/1" is a global average pool: identical on the 7x7 map of a 224x224 input, and other
        sizes work. Every other deviation is a config field; the presets list the ones they use.
    """

    AUX_HEADS = ("aux1", "aux2")

    def __init__(self, config: GoogLeNetConfig = GoogLeNetConfig()) -> None:
        if not isinstance(config, GoogLeNetConfig):
            raise ValueError(f"GoogLeNet needs a GoogLeNetConfig, got {type(config).__name__}.")
        super().__init__(config)
        self.transform_input = config.transform_input
        atom = CONV_ATOMS[config.atom]
        channels = self._build_stem(atom)
        channels = self._build_modules(atom, channels)
        self._build_heads(atom, channels)
        init_weights_(self, config.init_weights)

    def _pool(self, kernel_size: int = 3) -> nn.MaxPool2d:
        """One of Table 1's stride-2 max-pools."""
        return nn.MaxPool2d(kernel_size=kernel_size, stride=2, ceil_mode=self.config.ceil_mode)

    def _lrn(self) -> nn.Module:
        """Fig. 3's local response normalisation (Caffe divides alpha by the window, as PyTorch does)."""
        return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=1.0) if self.config.lrn else nn.Identity()

    def _build_stem(self, atom: ConvBlockFactory) -> int:
        """Table 1 lines 1-4: conv 7x7/2, max pool, conv 1x1 + 3x3, max pool; returns the channels out."""
        stem, config = STEMS[self.config.stem], self.config
        c1, c2, c3 = self.scaled(stem.conv1), self.scaled(stem.conv2), self.scaled(stem.conv3)
        k, s = stem.conv1_kernel_size, stem.conv1_stride
        if config.first_conv == "plain":
            self.conv1 = atom(config.in_channels, c1, kernel_size=k, stride=s, padding=k // 2)
        else:
            self.conv1 = SeparableConv(config.in_channels, c1, k, s, k // 2, depth_multiplier=8, conv_block=atom)
        self.maxpool1 = self._pool()
        self.lrn1 = self._lrn()
        self.conv2 = atom(c1, c2, kernel_size=1)
        self.conv3 = atom(c2, c3, kernel_size=3, padding=1)
        self.lrn2 = self._lrn()
        self.maxpool2 = self._pool()
        return c3

    def _build_modules(self, atom: ConvBlockFactory, channels: int) -> int:
        """The nine Inception rows of Table 1, each fed by the previous one, max-pools where Table 1 prints them."""
        self.module_channels: dict[str, int] = {}
        for row in paper.TABLE1_ROWS:
            module = Inception(channels, *(self.scaled(w) for w in row.widths), conv_block=atom,
                               branch3_kernel_size=self.config.branch3_kernel_size)
            self.add_module(f"inception{row.name}", module)
            channels = self.module_channels[row.name] = module.out_channels
            if row.name in POOL_AFTER_ROW:  # maxpool4's kernel is a config field (torchvision: 2x2/2)
                pool = POOL_AFTER_ROW[row.name]
                self.add_module(pool, self._pool(self.config.maxpool4_kernel_size if pool == "maxpool4" else 3))
        return channels

    def _build_heads(self, atom: ConvBlockFactory, channels: int) -> None:
        """Auxiliary classifiers "on top of the output of the Inception (4a) and (4d) modules" [§5]; the head."""
        config = self.config
        if config.aux_logits:
            spec = replace(config.aux_head, conv=self.scaled(config.aux_head.conv),
                           fc=self.scaled(config.aux_head.fc))
            self.aux1, self.aux2 = (InceptionAux(self.module_channels[name], config.num_classes, conv_block=atom,
                                                 spec=spec, dropout=config.dropout_aux)
                                    for name in paper.AUX_HEAD["on"])
        else:
            self.aux1, self.aux2 = nn.Identity(), nn.Identity()
        # Head: avg pool, dropout (40%), linear; softmax lives in the loss.
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=config.dropout)
        self.fc = nn.Linear(channels, config.num_classes)
        self.num_features = channels

    # -- forward (forward, forward_features, forward_head, stage_shapes: InceptionNet) ----------------------
    def _trunk(self, x: torch.Tensor, aux: list[torch.Tensor] | None) -> torch.Tensor:
        """Stem and Inception modules; appends the auxiliary logits to ``aux`` when it is a list."""
        x = imagenet_to_unit_scaling(x) if self.transform_input else x
        # Shapes for a 224x224 input (Table 1's "output size" column). N x 3 x 224 x 224
        x = self.conv1(x)  # N x 64 x 112 x 112
        x = self.maxpool1(x)  # N x 64 x 56 x 56
        x = self.lrn1(x)  # N x 64 x 56 x 56 (nn.Identity without LRN)
        x = self.conv2(x)  # N x 64 x 56 x 56
        x = self.conv3(x)  # N x 192 x 56 x 56
        x = self.lrn2(x)  # N x 192 x 56 x 56
        x = self.maxpool2(x)  # N x 192 x 28 x 28
        x = self.inception3a(x)  # N x 256 x 28 x 28
        x = self.inception3b(x)  # N x 480 x 28 x 28
        x = self.maxpool3(x)  # N x 480 x 14 x 14
        x = self.inception4a(x)  # N x 512 x 14 x 14
        if aux is not None:
            aux.append(self.aux1(x))  # N x num_classes
        x = self.inception4b(x)  # N x 512 x 14 x 14
        x = self.inception4c(x)  # N x 512 x 14 x 14
        x = self.inception4d(x)  # N x 528 x 14 x 14
        if aux is not None:
            aux.append(self.aux2(x))  # N x num_classes
        x = self.inception4e(x)  # N x 832 x 14 x 14
        x = self.maxpool4(x)  # N x 832 x 7 x 7
        x = self.inception5a(x)  # N x 832 x 7 x 7
        return self.inception5b(x)  # N x 1024 x 7 x 7


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------
def googlenet(num_classes: int = 1000, aux_logits: bool = True, *, dropout: float = 0.4,
              dropout_aux: float = 0.7, lrn: bool = True, first_conv: str = "plain", ceil_mode: bool = True,
              init_weights: str = "caffe") -> GoogLeNet:
    """GoogLeNet as the paper describes it [GoogLeNet, Table 1, Fig. 3, §5].

    ReLU convolutions with biases and no BatchNorm, 5x5 kernels in the "#5x5" branch, a 3x3/1 max-pool + 1x1
    projection branch, 3x3/2 max-pools, dropout 40 % before the linear classifier, and two auxiliary classifiers
    on (4a) and (4d) with 5x5/3 average pooling, 1x1 conv (128), FC 1024 + ReLU, dropout 70 % and a linear layer.
    6,998,552 parameters and 1,582,671,872 MACs at 1x3x224x224 without the auxiliary classifiers; 13,378,280
    parameters with them. The chapter explains why this is not the "6.8M" column sum of Table 1. The options are
    the :class:`GoogLeNetConfig` fields of the same names, with the config's (the paper's) defaults.

    Deviations:
        The final 7x7/1 average pool is a global average pool. The auxiliary classifiers' 5x5/3 pooling needs
        224x224 inputs in train mode, as the paper trains. What the paper leaves open is an option above.
    """
    return GoogLeNet(GoogLeNetConfig(num_classes=num_classes, aux_logits=aux_logits, dropout=dropout,
                                     dropout_aux=dropout_aux, lrn=lrn, first_conv=first_conv, ceil_mode=ceil_mode,
                                     init_weights=init_weights))


def googlenet_tv(num_classes: int = 1000, aux_logits: bool = True, *, transform_input: bool = False,
                 dropout: float = 0.2, dropout_aux: float = 0.7, init_weights: str = "tv_googlenet") -> GoogLeNet:
    """GoogLeNet as ``torchvision.models.googlenet`` builds it: same attribute names, shapes and outputs.

    A torchvision GoogLeNet's ``state_dict`` loads into this model with ``strict=True`` (same ``aux_logits``),
    and the eval outputs are identical. 6,624,904 parameters and 1,498,376,192 MACs at 1x3x224x224 without the
    auxiliary classifiers (torchvision's published "1.498 GFLOPS" are these MACs); 13,004,888 with them. The options
    are :class:`GoogLeNetConfig` fields with torchvision's defaults (``init_weights="tv_googlenet"`` is its
    ``init_weights=True``; ``transform_input=True`` when its ImageNet weights are loaded).

    Deviations:
        From the paper, all inherited from torchvision (which ported TensorFlow's model):

        * every convolution is conv (no bias) -> BatchNorm (eps 1e-3) -> ReLU (``atom="bn_relu_tv"``), also in the
          auxiliary classifiers: a BN-GoogLeNet, not the 2014 network;
        * a 3x3 kernel in the "#5x5" branch (``branch3_kernel_size=3``), a known bug kept for weight
          compatibility (pytorch/vision#906);
        * dropout 0.2 before the classifier instead of 0.4;
        * a 2x2/2 max-pool before (5a) instead of 3x3/2 (``maxpool4_kernel_size=2``; the same 7x7 output);
        * no local response normalisation (``lrn=False``);
        * the auxiliary classifiers pool with ``adaptive_avg_pool2d(x, (4, 4))`` instead of 5x5/3 (the same on
          14x14 maps);

        In train mode the output is ``AuxOutputs(logits, (aux1, aux2))``; torchvision returns
        ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``.
    """
    return GoogLeNet(GoogLeNetConfig(num_classes=num_classes, atom="bn_relu_tv", branch3_kernel_size=3, lrn=False,
                                     maxpool4_kernel_size=2, aux_logits=aux_logits, aux_head=AuxSpec(adaptive=True),
                                     dropout=dropout, dropout_aux=dropout_aux, transform_input=transform_input,
                                     init_weights=init_weights))


def mini_googlenet(num_classes: int = 10, aux_logits: bool = True, *, width_divisor: int = 8, min_channels: int = 1,
                   atom: str = "relu", dropout: float = 0.4, dropout_aux: float = 0.7, lrn: bool = False,
                   init_weights: str = "kaiming") -> GoogLeNet:
    """A small GoogLeNet for 32-64 px images: the same :class:`GoogLeNet` and Inception modules, narrower.

    Every width of Table 1 (stem, the nine rows, the auxiliary classifiers' 128 and 1024) is divided by
    ``width_divisor`` (:func:`~inception_lab.shapes.scale_width`), so the proportions between branches and modules
    are the paper's; all nine modules, four max-pools and both auxiliary classifiers are there. With the default
    divisor 8, inception (3a) outputs 8 + 16 + 4 + 4 = 32 channels and (5b) 128.

    Mini-preset defaults: auxiliary classifiers on and the paper's dropout (0.4, 0.7), because chapter 2 studies
    what the heads do (the other mini presets, chapter 7's lab, switch both off); no LRN (no parameters, only CPU
    time); He-normal init. ``atom="bn_relu"`` gives a BN-GoogLeNet. Options are :class:`GoogLeNetConfig` fields.

    Shape:
        (N, 3, H, W) -> (N, num_classes) for H, W >= 16; 32-64 intended. A 32x32 image is 16x16 after the first
        max-pool, 8x8 at (3a)-(3b), 4x4 at (4a)-(4e), 2x2 at (5a)-(5b).

    Deviations:
        From :func:`googlenet`: widths divided by ``width_divisor``; the ``"small"`` stem, a 3x3/1 first
        convolution instead of 7x7/2 (the stem halves the grid twice instead of three times: a 7x7/2 would leave a
        32 px image at 4x4 by (3a)); no LRN by default; He initialisation; the auxiliary classifiers pool
        adaptively to 2x2 (instead of 5x5/3 to 4x4, which does not fit a 4x4 map) so any input size works.
    """
    return GoogLeNet(GoogLeNetConfig(num_classes=num_classes, stem="small", width_divisor=width_divisor,
                                     min_channels=min_channels, atom=atom, lrn=lrn, aux_logits=aux_logits,
                                     aux_head=AuxSpec(grid=2, adaptive=True),
                                     dropout=dropout, dropout_aux=dropout_aux, init_weights=init_weights))
