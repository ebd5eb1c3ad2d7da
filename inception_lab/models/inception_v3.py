"""Inception-v3 [Rethinking, Table 1, Figs. 5-8, 10]: its modules, the network, its presets.

Three namings meet here (chapter 6 sets them side by side; :data:`NAMES` keeps them as data):

==================  ====================  ===========================  ===================
module              the seed's name       Rethinking                   torchvision
==================  ====================  ===========================  ===================
:class:`InceptionA`  v2 module A          Fig. 5 (35x35)               ``InceptionA``
:class:`InceptionB`  grid reduction       Fig. 10 (35 -> 17)           ``InceptionB``
:class:`InceptionC`  v3 module B          Fig. 6, n = 7 (17x17)        ``InceptionC``
:class:`InceptionD`  grid reduction       Fig. 10 (17 -> 8)            ``InceptionD``
:class:`InceptionE`  v3 module C          Fig. 7 (8x8)                 ``InceptionE``
==================  ====================  ===========================  ===================

Attribute names are torchvision's (``Conv2d_1a_3x3`` ... ``Mixed_7c``, ``AuxLogits``, ``fc``; inside the modules
``branch7x7dbl_3``, ``branch_pool``, ...), so a torchvision ``inception_v3`` ``state_dict`` loads strictly. Pooling
inside the modules is a module (torchvision calls ``F.avg_pool2d``), so every layer is visible to the shape walk;
it holds no parameters, so the ``state_dict`` is unchanged. Every convolution is a :func:`conv_bn_relu_tv` atom.
"""

from __future__ import annotations

import torch
from torch import nn

from inception_lab.checks import check_bool, check_choice, check_image_batch, check_positive_int, check_probability
from inception_lab.models.base import InceptionNet, imagenet_to_unit_scaling
from inception_lab.nn.layers import ConvBlockFactory, MultiBranch, StackedConv, conv_1xn, conv_bn_relu_tv, conv_nx1
from inception_lab.shapes import scale_width

#: The three namings of each module: the seed's, the paper's figure, torchvision's class (and TF-slim's scopes).
NAMES = {
    "InceptionA": dict(seed="Inception v2, module A", paper="Fig. 5", torchvision="InceptionA",
                       attributes=("Mixed_5b", "Mixed_5c", "Mixed_5d"), tf_slim="Mixed_5b .. Mixed_5d"),
    "InceptionB": dict(seed="grid reduction module", paper="Fig. 10", torchvision="InceptionB",
                       attributes=("Mixed_6a",), tf_slim="Mixed_6a"),
    "InceptionC": dict(seed="Inception v3, module B", paper="Fig. 6", torchvision="InceptionC",
                       attributes=("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"), tf_slim="Mixed_6b .. Mixed_6e"),
    "InceptionD": dict(seed="grid reduction module", paper="Fig. 10", torchvision="InceptionD",
                       attributes=("Mixed_7a",), tf_slim="Mixed_7a"),
    "InceptionE": dict(seed="Inception v3, module C", paper="Fig. 7", torchvision="InceptionE",
                       attributes=("Mixed_7b", "Mixed_7c"), tf_slim="Mixed_7b, Mixed_7c"),
}

#: Branch 2 of :class:`InceptionA`: torchvision's 1x1 -> 5x5, or the paper's "each 5 x 5 ... replaced by two 3 x 3".
FIVE_BY_FIVE = ("5x5", "two_3x3")
#: The stem: ``"imagenet"`` (the released 299x299 stem: 299 -> 35) or ``"small"`` (the mini presets' stem for
#: 32-64 px images: stride 1 convolutions, one 3x3/2 max-pool, so 32 -> 16).
STEMS = ("imagenet", "small")


def _widths(width_divisor: int):
    """The one width rule of the mini presets: every printed width divided by ``width_divisor`` (1 = as printed)."""
    check_positive_int("width_divisor", width_divisor)
    return lambda channels: scale_width(channels, width_divisor)


def _avg_pool() -> nn.AvgPool2d:
    return nn.AvgPool2d(kernel_size=3, stride=1, padding=1)  # torchvision: F.avg_pool2d(x, 3, stride=1, padding=1)


class InceptionA(MultiBranch):
    """Module A: the 35x35 module [Rethinking, Fig. 5]; torchvision's ``InceptionA`` (Mixed_5b-5d).

    Branches: 1x1 (64); 1x1 (48) -> 5x5 (64); 1x1 (64) -> 3x3 (96) -> 3x3 (96) (the "double 3x3" that replaces
    Fig. 4's 5x5); 3x3 average pool -> 1x1 (``pool_features``).

    Args:
        five_by_five: ``"5x5"`` (torchvision, the released model) or ``"two_3x3"``: the paper's Fig. 5, where "each
            5 x 5 convolution is replaced by two 3 x 3 convolution" -- branch 2 becomes 1x1 (48) -> 3x3 (64) -> 3x3 (64).

    Deviations:
        The released model (TF-slim, ported by torchvision) keeps a 5x5 convolution in branch 2 although Fig. 5
        replaces every 5x5 (pytorch/vision#798); ``five_by_five="two_3x3"`` builds the figure.
    """

    def __init__(self, in_channels: int, pool_features: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 five_by_five: str = "5x5", width_divisor: int = 1) -> None:
        check_choice("five_by_five", five_by_five, FIVE_BY_FIVE)
        check_positive_int("pool_features", pool_features)
        w = _widths(width_divisor)  # every width below / width_divisor (the mini presets); 1 = as released
        super().__init__(in_channels)
        self.add_branch("branch1x1", ("branch1x1", conv_block(in_channels, w(64), kernel_size=1)))
        if five_by_five == "5x5":
            second: tuple = ("branch5x5_2", conv_block(w(48), w(64), kernel_size=5, padding=2))
        else:
            second = ("branch5x5_2", StackedConv(w(48), w(64), 5, conv_block=conv_block))
        self.add_branch("branch5x5", ("branch5x5_1", conv_block(in_channels, w(48), kernel_size=1)), second)
        self.add_branch("branch3x3dbl", ("branch3x3dbl_1", conv_block(in_channels, w(64), kernel_size=1)),
                        ("branch3x3dbl_2", conv_block(w(64), w(96), kernel_size=3, padding=1)),
                        ("branch3x3dbl_3", conv_block(w(96), w(96), kernel_size=3, padding=1)))
        self.add_branch("branch_pool", ("avg_pool", _avg_pool()),
                        ("branch_pool", conv_block(in_channels, w(pool_features), kernel_size=1)))


class InceptionB(MultiBranch):
    """Grid reduction 35 -> 17 [Rethinking, §5, Fig. 10]; torchvision's ``InceptionB`` (Mixed_6a).

    Stride-2 convolutions beside a stride-2 max-pool, concatenated: 3x3/2 (384); 1x1 (64) -> 3x3 (96) -> 3x3/2 (96);
    3x3/2 max-pool (the input, passed through). 288 + 384 + 96 = 768 channels on 17x17.
    """

    def __init__(self, in_channels: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 width_divisor: int = 1) -> None:
        w = _widths(width_divisor)
        super().__init__(in_channels)
        self.add_branch("branch3x3", ("branch3x3", conv_block(in_channels, w(384), kernel_size=3, stride=2)))
        self.add_branch("branch3x3dbl", ("branch3x3dbl_1", conv_block(in_channels, w(64), kernel_size=1)),
                        ("branch3x3dbl_2", conv_block(w(64), w(96), kernel_size=3, padding=1)),
                        ("branch3x3dbl_3", conv_block(w(96), w(96), kernel_size=3, stride=2)))
        self.add_branch("branch_pool", ("max_pool", nn.MaxPool2d(kernel_size=3, stride=2)))


class InceptionC(MultiBranch):
    """Module B: the 17x17 module with n x 1 / 1 x n factorization, n = 7 [Rethinking, §3.2, Fig. 6].

    torchvision's ``InceptionC`` (Mixed_6b-6e), ``channels_7x7`` = 128, 160, 160, 192. Branches: 1x1 (192);
    1x1 (c7) -> 1x7 (c7) -> 7x1 (192); 1x1 (c7) -> 7x1 -> 1x7 -> 7x1 -> 1x7 (c7, ..., 192); 3x3 average pool -> 1x1
    (192). Each 1x7 + 7x1 pair is chapter 4's factorized 7x7 (:func:`~inception_lab.nn.layers.conv_1xn`,
    :func:`~inception_lab.nn.layers.conv_nx1`).
    """

    def __init__(self, in_channels: int, channels_7x7: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 width_divisor: int = 1) -> None:
        w = _widths(width_divisor)
        c7, out = w(check_positive_int("channels_7x7", channels_7x7)), w(192)
        super().__init__(in_channels)
        self.add_branch("branch1x1", ("branch1x1", conv_block(in_channels, out, kernel_size=1)))
        self.add_branch("branch7x7", ("branch7x7_1", conv_block(in_channels, c7, kernel_size=1)),
                        ("branch7x7_2", conv_1xn(conv_block, c7, c7, 7)),
                        ("branch7x7_3", conv_nx1(conv_block, c7, out, 7)))
        self.add_branch("branch7x7dbl", ("branch7x7dbl_1", conv_block(in_channels, c7, kernel_size=1)),
                        ("branch7x7dbl_2", conv_nx1(conv_block, c7, c7, 7)),
                        ("branch7x7dbl_3", conv_1xn(conv_block, c7, c7, 7)),
                        ("branch7x7dbl_4", conv_nx1(conv_block, c7, c7, 7)),
                        ("branch7x7dbl_5", conv_1xn(conv_block, c7, out, 7)))
        self.add_branch("branch_pool", ("avg_pool", _avg_pool()),
                        ("branch_pool", conv_block(in_channels, out, kernel_size=1)))


class InceptionD(MultiBranch):
    """Grid reduction 17 -> 8 [Rethinking, §5, Fig. 10]; torchvision's ``InceptionD`` (Mixed_7a).

    1x1 (192) -> 3x3/2 (320); 1x1 (192) -> 1x7 -> 7x1 -> 3x3/2 (192); 3x3/2 max-pool (the input, passed through).
    320 + 192 + 768 = 1280 channels on 8x8.
    """

    def __init__(self, in_channels: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 width_divisor: int = 1) -> None:
        w = _widths(width_divisor)
        super().__init__(in_channels)
        self.add_branch("branch3x3", ("branch3x3_1", conv_block(in_channels, w(192), kernel_size=1)),
                        ("branch3x3_2", conv_block(w(192), w(320), kernel_size=3, stride=2)))
        self.add_branch("branch7x7x3", ("branch7x7x3_1", conv_block(in_channels, w(192), kernel_size=1)),
                        ("branch7x7x3_2", conv_1xn(conv_block, w(192), w(192), 7)),
                        ("branch7x7x3_3", conv_nx1(conv_block, w(192), w(192), 7)),
                        ("branch7x7x3_4", conv_block(w(192), w(192), kernel_size=3, stride=2)))
        self.add_branch("branch_pool", ("max_pool", nn.MaxPool2d(kernel_size=3, stride=2)))


class InceptionE(MultiBranch):
    """Module C: the 8x8 module "with expanded the filter bank outputs" [Rethinking, §2 principle 2, Fig. 7].

    torchvision's ``InceptionE`` (Mixed_7b, 7c). Branches: 1x1 (320); 1x1 (384) -> [1x3 | 3x1] (384 + 384);
    1x1 (448) -> 3x3 (384) -> [1x3 | 3x1] (384 + 384); 3x3 average pool -> 1x1 (192). The split steps run both
    factors on the same input and concatenate them: wider, not deeper, "to promote high dimensional
    representations" on the coarsest grid. 320 + 768 + 768 + 192 = 2048 channels.
    """

    def __init__(self, in_channels: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 width_divisor: int = 1) -> None:
        w = _widths(width_divisor)
        super().__init__(in_channels)
        self.add_branch("branch1x1", ("branch1x1", conv_block(in_channels, w(320), kernel_size=1)))
        self.add_branch("branch3x3", ("branch3x3_1", conv_block(in_channels, w(384), kernel_size=1)),
                        [("branch3x3_2a", conv_1xn(conv_block, w(384), w(384), 3)),
                         ("branch3x3_2b", conv_nx1(conv_block, w(384), w(384), 3))])
        self.add_branch("branch3x3dbl", ("branch3x3dbl_1", conv_block(in_channels, w(448), kernel_size=1)),
                        ("branch3x3dbl_2", conv_block(w(448), w(384), kernel_size=3, padding=1)),
                        [("branch3x3dbl_3a", conv_1xn(conv_block, w(384), w(384), 3)),
                         ("branch3x3dbl_3b", conv_nx1(conv_block, w(384), w(384), 3))])
        self.add_branch("branch_pool", ("avg_pool", _avg_pool()),
                        ("branch_pool", conv_block(in_channels, w(192), kernel_size=1)))


class InceptionAux(nn.Module):
    """The auxiliary classifier "on top of the last 17x17 layer" [Rethinking, §4, Fig. 8]; torchvision's AuxLogits.

    5x5/3 average pool (17x17 -> 5x5) -> 1x1 (128) -> 5x5 (768) -> global average pool -> linear.

    Args:
        bn_fc: ``False`` (torchvision: a plain linear layer) or ``True``: the paper's "BN-auxiliary", "in which the
            fully connected layer of the auxiliary classifier is also batch-normalized, not just the convolutions"
            [Rethinking, §10, Fig. 8: +0.4 % top-1]; the BatchNorm1d sits before the linear layer.
        width_divisor: divides the head's widths 128 and 768 (the mini presets).
        adaptive: pool adaptively to 5x5 instead of 5x5/3 (the mini presets: any map of at least 5x5 works; on a
            17x17 map both give the same 5x5 grid but average different windows).
    """

    def __init__(self, in_channels: int, num_classes: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 bn_fc: bool = False, width_divisor: int = 1, adaptive: bool = False) -> None:
        super().__init__()
        w = _widths(width_divisor)
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.pool = nn.AdaptiveAvgPool2d(5) if check_bool("adaptive", adaptive) else nn.AvgPool2d(5, stride=3)
        self.conv0 = conv_block(in_channels, w(128), kernel_size=1)
        self.conv1 = conv_block(w(128), w(768), kernel_size=5)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.bn = nn.BatchNorm1d(w(768), eps=1e-3) if check_bool("bn_fc", bn_fc) else None
        self.fc = nn.Linear(w(768), check_positive_int("num_classes", num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, "InceptionAux")
        if min(x.shape[-2:]) < 5:
            raise ValueError(f"InceptionAux needs maps of at least 5x5, got {tuple(x.shape[-2:])}.")
        x = self.pool(x)  # N x 768 x 5 x 5
        if min(x.shape[-2:]) < 5:
            raise ValueError(f"InceptionAux needs maps of at least 17x17 (its 5x5 convolution runs on the 5x5/3 "
                             f"pooled map), got {tuple(x.shape[-2:])} after pooling; train with inputs of at least "
                             f"267x267 pixels (299 as the paper), or build the model with aux_logits=False.")
        x = self.conv1(self.conv0(x))  # N x 128 x 5 x 5 -> N x 768 x 1 x 1
        x = torch.flatten(self.avgpool(x), 1)  # N x 768
        return self.fc(x if self.bn is None else self.bn(x))  # N x num_classes


class Inception3(InceptionNet):
    """Inception-v3 [Rethinking, Table 1, §6]: the stem, 3 x module A, 5 x (grid reduction + module B ...), 2 x C.

    Args:
        num_classes: classifier outputs.
        aux_logits: build the auxiliary classifier on Mixed_6e (runs in train mode only).
        transform_input: map ImageNet-mean/std inputs to the (x - 0.5) / 0.5 scaling of the released weights.
        dropout: before the classifier (torchvision: 0.5).
        five_by_five: module A's branch 2, ``"5x5"`` (released) or ``"two_3x3"`` (Fig. 5); see :class:`InceptionA`.
        bn_aux_fc: batch-normalize the auxiliary classifier's FC layer (the paper's BN-auxiliary).
        init_weights: ``True``: torchvision's truncated normals (std 0.1; 0.01 for the aux head's 5x5 conv and 0.001
            for its FC), BN gamma 1 and beta 0; ``False``: PyTorch's defaults.
        stem: ``"imagenet"`` (released: 299 -> 35x35 at module A) or ``"small"`` (the mini preset: every stem
            convolution stride 1 and padded, one 3x3/2 max-pool, no second pool: 32 -> 16x16 at module A).
        width_divisor: divides every width of the network (stem, modules, aux head) with
            :func:`~inception_lab.shapes.scale_width`; 1 = the released widths.

    Shape:
        (N, 3, 299, 299) -> (N, num_classes); :class:`~inception_lab.nn.losses.AuxOutputs` ``(logits, (aux,))`` in
        train mode with the auxiliary classifier (torchvision: ``InceptionOutputs(logits, aux_logits)``). Any input
        of at least 75x75 works.

    Deviations:
        From the paper's Table 1, all inherited from the released model: the stem's last rows are 1x1 (80) ->
        3x3 (192) -> 3x3/2 max-pool, not 3x3 (80) -> 3x3/2 (192) -> 3x3 (288); module A keeps a 5x5 branch; the
        auxiliary FC is not batch-normalized; 5.71 G multiply-adds, not the "5 billion" of the abstract.
    """

    DROPOUT_BEFORE_FLATTEN = True  # torchvision's head order (torchinfo then shows N x 2048 x 1 x 1)

    def __init__(self, num_classes: int = 1000, *, aux_logits: bool = True, transform_input: bool = False,
                 dropout: float = 0.5, five_by_five: str = "5x5", bn_aux_fc: bool = False,
                 init_weights: bool = True, conv_block: ConvBlockFactory = conv_bn_relu_tv, stem: str = "imagenet",
                 width_divisor: int = 1) -> None:
        super().__init__()
        self.in_channels, self.num_classes = 3, check_positive_int("num_classes", num_classes)
        self.aux_logits, self.transform_input = check_bool("aux_logits", aux_logits), transform_input
        check_probability("dropout", dropout)
        self.stem = check_choice("stem", stem, STEMS)
        w, small = _widths(width_divisor), stem == "small"
        m = dict(conv_block=conv_block, width_divisor=width_divisor)
        self.Conv2d_1a_3x3 = conv_block(3, w(32), kernel_size=3, stride=1 if small else 2, padding=int(small))
        self.Conv2d_2a_3x3 = conv_block(w(32), w(32), kernel_size=3, padding=int(small))
        self.Conv2d_2b_3x3 = conv_block(w(32), w(64), kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2, padding=int(small))
        self.Conv2d_3b_1x1 = conv_block(w(64), w(80), kernel_size=1)
        self.Conv2d_4a_3x3 = conv_block(w(80), w(192), kernel_size=3, padding=int(small))
        self.maxpool2 = nn.Identity() if small else nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = InceptionA(w(192), pool_features=32, five_by_five=five_by_five, **m)
        self.Mixed_5c = InceptionA(self.Mixed_5b.out_channels, pool_features=64, five_by_five=five_by_five, **m)
        self.Mixed_5d = InceptionA(self.Mixed_5c.out_channels, pool_features=64, five_by_five=five_by_five, **m)
        self.Mixed_6a = InceptionB(self.Mixed_5d.out_channels, **m)
        self.Mixed_6b = InceptionC(self.Mixed_6a.out_channels, channels_7x7=128, **m)
        # each module B reads what the previous one outputs: 4 x w(192), which differs from w(768) for some divisors
        self.Mixed_6c = InceptionC(self.Mixed_6b.out_channels, channels_7x7=160, **m)
        self.Mixed_6d = InceptionC(self.Mixed_6c.out_channels, channels_7x7=160, **m)
        self.Mixed_6e = InceptionC(self.Mixed_6d.out_channels, channels_7x7=192, **m)
        c = self.Mixed_6e.out_channels
        self.AuxLogits = (InceptionAux(c, num_classes, conv_block=conv_block, bn_fc=bn_aux_fc,
                                       width_divisor=width_divisor, adaptive=small) if aux_logits else None)
        self.Mixed_7a = InceptionD(c, **m)
        self.Mixed_7b = InceptionE(self.Mixed_7a.out_channels, **m)
        self.Mixed_7c = InceptionE(self.Mixed_7b.out_channels, **m)
        self.num_features = self.Mixed_7c.out_channels  # 2048 released
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(self.num_features, num_classes)
        if check_bool("init_weights (True: torchvision's init; False: PyTorch's defaults)", init_weights):
            init_like_torchvision(self)

    def _trunk(self, x: torch.Tensor, aux: list[torch.Tensor] | None) -> torch.Tensor:
        self.check_input(x)  # a clear ValueError for a wrong shape or an input too small
        x = imagenet_to_unit_scaling(x) if self.transform_input else x  # N x 3 x 299 x 299
        x = self.Conv2d_1a_3x3(x)  # N x 32 x 149 x 149
        x = self.Conv2d_2a_3x3(x)  # N x 32 x 147 x 147
        x = self.Conv2d_2b_3x3(x)  # N x 64 x 147 x 147
        x = self.maxpool1(x)  # N x 64 x 73 x 73
        x = self.Conv2d_3b_1x1(x)  # N x 80 x 73 x 73
        x = self.Conv2d_4a_3x3(x)  # N x 192 x 71 x 71
        x = self.maxpool2(x)  # N x 192 x 35 x 35
        x = self.Mixed_5b(x)  # N x 256 x 35 x 35
        x = self.Mixed_5c(x)  # N x 288 x 35 x 35
        x = self.Mixed_5d(x)  # N x 288 x 35 x 35
        x = self.Mixed_6a(x)  # N x 768 x 17 x 17
        x = self.Mixed_6b(x)  # N x 768 x 17 x 17
        x = self.Mixed_6c(x)  # N x 768 x 17 x 17
        x = self.Mixed_6d(x)  # N x 768 x 17 x 17
        x = self.Mixed_6e(x)  # N x 768 x 17 x 17
        if aux is not None and self.AuxLogits is not None:
            aux.append(self.AuxLogits(x))  # N x num_classes
        x = self.Mixed_7a(x)  # N x 1280 x 8 x 8
        x = self.Mixed_7b(x)  # N x 2048 x 8 x 8
        return self.Mixed_7c(x)  # N x 2048 x 8 x 8


def init_like_torchvision(model: nn.Module) -> None:
    """torchvision's Inception-v3 initialisation: truncated normals (std 0.1; aux 5x5 conv 0.01, aux FC 0.001)."""
    aux = getattr(model, "AuxLogits", None)
    stddev = {aux.conv1.conv: 0.01, aux.fc: 0.001} if aux is not None else {}
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=stddev.get(m, 0.1), a=-2, b=2)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def inception_v3(num_classes: int = 1000, aux_logits: bool = True, *, transform_input: bool = False,
                 dropout: float = 0.5, init_weights: bool = True) -> Inception3:
    """Inception-v3 as released (TF-slim, ported by torchvision): torchvision's ``state_dict`` loads strictly.

    27,161,264 parameters with the auxiliary classifier, 23,834,568 without; 5,713,216,096 MACs at 1x3x299x299
    (torchvision's published "5.713 GFLOPS" are these MACs). See :class:`Inception3` for the deviations.
    """
    return Inception3(num_classes, aux_logits=aux_logits, transform_input=transform_input, dropout=dropout,
                      init_weights=init_weights)


def inception_v3_paper(num_classes: int = 1000, aux_logits: bool = True, *, dropout: float = 0.5,
                       init_weights: bool = True) -> Inception3:
    """Inception-v3 with the two changes the paper is specific about [Rethinking, Fig. 5, Fig. 8, §10].

    Module A as Fig. 5 draws it (two 3x3 instead of the released 5x5) and the "BN-auxiliary" head (its FC layer
    batch-normalized). The stem stays the released one: Table 1's stem rows do not chain (a 3x3 conv padded at
    147x147 cannot feed a 73x73 row without the pool the released model has). torchvision's weights do not load.
    """
    return Inception3(num_classes, aux_logits=aux_logits, dropout=dropout, five_by_five="two_3x3", bn_aux_fc=True,
                      init_weights=init_weights)


def mini_inception_v3(num_classes: int = 10, aux_logits: bool = False, *, width_divisor: int = 8,
                      five_by_five: str = "5x5", dropout: float = 0.0, init_weights: bool = True) -> Inception3:
    """A small Inception-v3 for 32-64 px images: the same :class:`Inception3` and modules A-E, narrower.

    Every width of the released model (stem, modules, aux head) is divided by ``width_divisor``
    (:func:`~inception_lab.shapes.scale_width`); the chapter-7 lab chooses the divisor for a fair budget. The
    ``"small"`` stem keeps the grid: a 32x32 image reaches module A at 16x16, module B (Fig. 6) at 7x7 and
    module C (Fig. 7) at 3x3 (64 px: 32, 15, 7).

    Args:
        num_classes, aux_logits: classes; the auxiliary head on Mixed_6e (pools adaptively to 5x5).
        width_divisor: divides every width (8: 2048 -> 256 features).
        five_by_five: module A's branch 2 (``"5x5"`` released, ``"two_3x3"`` Fig. 5).
        dropout: before the classifier (0: at this scale it only slows learning).
        init_weights: torchvision's truncated normals (``False``: PyTorch's defaults).

    Deviations:
        From :func:`inception_v3`: widths divided; the small stem (stride-1 padded convolutions, one padded
        3x3/2 max-pool); an adaptive auxiliary pool; dropout 0 by default.
    """
    return Inception3(num_classes, aux_logits=aux_logits, dropout=dropout, five_by_five=five_by_five,
                      init_weights=init_weights, stem="small", width_divisor=width_divisor)
