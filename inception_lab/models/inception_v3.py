"""Inception-v3 [Rethinking, Table 1, Figs. 5-8, 10]: its modules, the network, its presets.

How to read ``add_branch`` (the branch contract, :class:`~inception_lab.nn.branches.MultiBranch`)::

    self.add_branch("branch3x3",                                        # the branch, in concatenation order
                    ("branch3x3_1", conv_block(c_in, 384, kernel_size=1)),  # step 1: (attribute, layer) on x
                    Split(("branch3x3_2a", conv_1xn(conv_block, 384, 384, 3)),  # step 2: both read step 1's
                          ("branch3x3_2b", conv_nx1(conv_block, 384, 384, 3))))  # output; outputs concatenated
    # module.describe() prints it back: "branch3x3: 1x1(384) -> [1x3(384) | 3x1(384)]"

Three namings meet here -- the study note's ("v3 module B"), the paper's figures (Fig. 6) and torchvision's classes
(``InceptionC``); :data:`NAMES` keeps them as data and chapter 6 sets them side by side
(:data:`inception_lab.experiments.family.CROSSWALK`).

Attribute names are torchvision's (``Conv2d_1a_3x3`` ... ``Mixed_7c``, ``AuxLogits``, ``fc``; inside the modules
``branch7x7dbl_3``, ``branch_pool``, ...), so a torchvision ``inception_v3`` ``state_dict`` loads strictly; our class
is :class:`InceptionV3` (torchvision's ``Inception3``). Pooling inside the modules is a module (torchvision calls
``F.avg_pool2d``), so every layer is visible to the shape walk; it holds no parameters, so the ``state_dict`` is
unchanged. Every convolution is a :func:`~inception_lab.nn.layers.conv_bn_relu_tv` atom. The widths inside the
modules are the released model's (:data:`RELEASED_WIDTHS`); a network passes them divided by its ``width_divisor``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from inception_lab.checks import check_bool, check_choice, check_positive_int, check_probability
from inception_lab.models.base import InceptionNet, imagenet_to_unit_scaling
from inception_lab.nn.branches import MultiBranch, Split, check_block_input
from inception_lab.nn.initialization import INIT_SCHEMES, init_weights_
from inception_lab.nn.layers import ConvBlockFactory, conv_1xn, conv_bn_relu_tv, conv_nx1

#: The three namings of each module: the study note's, the paper's figure, torchvision's class (and TF-slim's
#: scopes).
NAMES = {
    "InceptionA": dict(study_note="Inception v2, module A", paper="Fig. 5", torchvision="InceptionA",
                       attributes=("Mixed_5b", "Mixed_5c", "Mixed_5d"), tf_slim="Mixed_5b .. Mixed_5d"),
    "InceptionB": dict(study_note="grid reduction module", paper="Fig. 10", torchvision="InceptionB",
                       attributes=("Mixed_6a",), tf_slim="Mixed_6a"),
    "InceptionC": dict(study_note="Inception v3, module B", paper="Fig. 6", torchvision="InceptionC",
                       attributes=("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"), tf_slim="Mixed_6b .. Mixed_6e"),
    "InceptionD": dict(study_note="grid reduction module", paper="Fig. 10", torchvision="InceptionD",
                       attributes=("Mixed_7a",), tf_slim="Mixed_7a"),
    "InceptionE": dict(study_note="Inception v3, module C", paper="Fig. 7", torchvision="InceptionE",
                       attributes=("Mixed_7b", "Mixed_7c"), tf_slim="Mixed_7b, Mixed_7c"),
}

#: Filters of each layer inside the modules, as released (torchvision's literals, from TF-slim's model); keyed by
#: the layer they size. Layers of one branch that share a width share a key (``branch3x3_1`` also sizes
#: ``branch3x3_2a`` and ``_2b``). ``pool_features`` and ``channels_7x7`` are the modules' own arguments.
RELEASED_WIDTHS: dict[str, dict[str, int]] = {
    "InceptionA": dict(branch1x1=64, branch5x5_1=48, branch5x5_2=64, branch3x3dbl_1=64, branch3x3dbl_2=96),
    "InceptionB": dict(branch3x3=384, branch3x3dbl_1=64, branch3x3dbl_2=96),
    "InceptionC": dict(branch1x1=192, branch7x7_3=192, branch7x7dbl_5=192, branch_pool=192),
    "InceptionD": dict(branch3x3_1=192, branch3x3_2=320, branch7x7x3=192),
    "InceptionE": dict(branch1x1=320, branch3x3_1=384, branch3x3dbl_1=448, branch3x3dbl_2=384, branch_pool=192),
    "InceptionAux": dict(conv0=128, conv1=768),
}

#: Branch 2 of :class:`InceptionA`: the released 1x1 -> 5x5, or Fig. 5's 1x1 -> 3x3.
FIVE_BY_FIVE = ("5x5", "3x3")
#: The first factor of :class:`InceptionC`'s double branch: 7x1 as released, 1x7 as Fig. 6 draws it (same counts).
DOUBLE_FIRST = ("7x1", "1x7")
#: The stem: ``"imagenet"`` (the released 299x299 stem: 299 -> 35) or ``"small"`` (the mini presets' stem for
#: 32-64 px images: stride 1 convolutions, one 3x3/2 max-pool, so 32 -> 16).
STEMS = ("imagenet", "small")


def _widths(block: str, widths: Mapping[str, int] | None) -> dict[str, int]:
    """:data:`RELEASED_WIDTHS` of ``block``, with the given ones instead (a network passes them scaled)."""
    merged = dict(RELEASED_WIDTHS[block])
    for layer, channels in (widths or {}).items():
        if layer not in merged:
            raise ValueError(f"{block} has no width {layer!r}; its widths are {sorted(merged)}.")
        merged[layer] = check_positive_int(f"{block} width {layer}", channels)
    return merged


def _avg_pool() -> nn.AvgPool2d:
    return nn.AvgPool2d(kernel_size=3, stride=1, padding=1)  # torchvision: F.avg_pool2d(x, 3, stride=1, padding=1)


class InceptionA(MultiBranch):
    """Module A: the 35x35 module [Rethinking, Fig. 5]; torchvision's ``InceptionA`` (Mixed_5b-5d).

    Released: 1x1 (64); 1x1 (48) -> 5x5 (64); 1x1 (64) -> 3x3 (96) -> 3x3 (96); 3x3 avg pool -> 1x1
    (``pool_features``). Fig. 5 has 1x1 -> 3x3 as branch 2: BN-Inception's module [BN, Fig. 5].

    Args:
        five_by_five: ``"5x5"`` (released; torchvision's ``state_dict`` loads) or ``"3x3"``: Fig. 5, branch 2 as
            1x1 (48) -> 3x3 (64, padding 1), the fix pytorch/vision#798 and tensorflow/tensorflow#36262 describe.
            Its keys differ from torchvision's in that branch only, ``branch3x3_1/_2`` for ``branch5x5_1/_2`` (a 3x3
            is not the released 5x5: released weights fail on the names, not on a kernel shape).
        widths: filters per layer (default :data:`RELEASED_WIDTHS`; ``branch5x5_*`` size branch 2 either way).

    Deviations:
        Released: branch 2 is a 5x5 (:data:`~inception_lab.papers.rethinking.RELEASED_DIFFERENCES`).
    """

    def __init__(self, in_channels: int, pool_features: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 five_by_five: str = "5x5", widths: Mapping[str, int] | None = None) -> None:
        _check_five_by_five(five_by_five)
        check_positive_int("pool_features", pool_features)
        w = _widths("InceptionA", widths)
        super().__init__(in_channels)
        self.add_branch("branch1x1", conv_block(in_channels, w["branch1x1"], kernel_size=1))
        reduce, out = w["branch5x5_1"], w["branch5x5_2"]
        if five_by_five == "5x5":
            self.add_branch("branch5x5", ("branch5x5_1", conv_block(in_channels, reduce, kernel_size=1)),
                            ("branch5x5_2", conv_block(reduce, out, kernel_size=5, padding=2)))
        else:
            self.add_branch("branch3x3", ("branch3x3_1", conv_block(in_channels, reduce, kernel_size=1)),
                            ("branch3x3_2", conv_block(reduce, out, kernel_size=3, padding=1)))
        self.add_branch("branch3x3dbl",
                        ("branch3x3dbl_1", conv_block(in_channels, w["branch3x3dbl_1"], kernel_size=1)),
                        ("branch3x3dbl_2", conv_block(w["branch3x3dbl_1"], w["branch3x3dbl_2"], kernel_size=3,
                                                      padding=1)),
                        ("branch3x3dbl_3", conv_block(w["branch3x3dbl_2"], w["branch3x3dbl_2"], kernel_size=3,
                                                      padding=1)))
        self.add_branch("branch_pool", ("avg_pool", _avg_pool()),
                        ("branch_pool", conv_block(in_channels, pool_features, kernel_size=1)))


def _check_five_by_five(value: str) -> str:
    if value == "two_3x3":  # the old option: two double-3x3 branches
        raise ValueError("five_by_five='two_3x3' is gone: it built a module in neither the paper nor the release. "
                         "Fig. 5 is five_by_five='3x3' (1x1 -> 3x3); the released model is '5x5'.")
    return check_choice("five_by_five", value, FIVE_BY_FIVE)


class InceptionB(MultiBranch):
    """Grid reduction 35 -> 17 [Rethinking, §5, Fig. 10]; torchvision's ``InceptionB`` (Mixed_6a).

    Stride-2 convolutions beside a stride-2 max-pool, concatenated: 3x3/2 (384); 1x1 (64) -> 3x3 (96) -> 3x3/2 (96);
    3x3/2 max-pool (the input, passed through). 288 + 384 + 96 = 768 channels on 17x17.
    """

    def __init__(self, in_channels: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 widths: Mapping[str, int] | None = None) -> None:
        w = _widths("InceptionB", widths)
        super().__init__(in_channels)
        self.add_branch("branch3x3", conv_block(in_channels, w["branch3x3"], kernel_size=3, stride=2))
        self.add_branch("branch3x3dbl",
                        ("branch3x3dbl_1", conv_block(in_channels, w["branch3x3dbl_1"], kernel_size=1)),
                        ("branch3x3dbl_2", conv_block(w["branch3x3dbl_1"], w["branch3x3dbl_2"], kernel_size=3,
                                                      padding=1)),
                        ("branch3x3dbl_3", conv_block(w["branch3x3dbl_2"], w["branch3x3dbl_2"], kernel_size=3,
                                                      stride=2)))
        self.add_branch("branch_pool", ("max_pool", nn.MaxPool2d(kernel_size=3, stride=2)))


class InceptionC(MultiBranch):
    """Module B: the 17x17 module with n x 1 / 1 x n factorization, n = 7 [Rethinking, §3.2, Fig. 6].

    torchvision's ``InceptionC`` (Mixed_6b-6e), ``channels_7x7`` = 128, 160, 160, 192. Branches: 1x1 (192);
    1x1 (c7) -> 1x7 (c7) -> 7x1 (192); 1x1 (c7) -> 7x1 -> 1x7 -> 7x1 -> 1x7 (c7, ..., 192); 3x3 average pool -> 1x1
    (192). Each 1x7 + 7x1 pair is chapter 4's factorized 7x7 (:func:`~inception_lab.nn.layers.conv_1xn`,
    :func:`~inception_lab.nn.layers.conv_nx1`).

    Args:
        double_first: ``"7x1"`` (released: 7x1, 1x7, 7x1, 1x7; a deviation from Fig. 6) or ``"1x7"`` (Fig. 6 draws
            1 x n first in both branches; same keys and counts, ``branch7x7dbl_2`` ... ``_5`` swap kernel shapes).
    """

    def __init__(self, in_channels: int, channels_7x7: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 widths: Mapping[str, int] | None = None, double_first: str = "7x1") -> None:
        c7, w = check_positive_int("channels_7x7", channels_7x7), _widths("InceptionC", widths)
        first, second = {"7x1": (conv_nx1, conv_1xn), "1x7": (conv_1xn, conv_nx1)}[
            check_choice("double_first", double_first, DOUBLE_FIRST)]
        super().__init__(in_channels)
        self.add_branch("branch1x1", conv_block(in_channels, w["branch1x1"], kernel_size=1))
        self.add_branch("branch7x7", ("branch7x7_1", conv_block(in_channels, c7, kernel_size=1)),
                        ("branch7x7_2", conv_1xn(conv_block, c7, c7, 7)),
                        ("branch7x7_3", conv_nx1(conv_block, c7, w["branch7x7_3"], 7)))
        self.add_branch("branch7x7dbl", ("branch7x7dbl_1", conv_block(in_channels, c7, kernel_size=1)),
                        ("branch7x7dbl_2", first(conv_block, c7, c7, 7)),
                        ("branch7x7dbl_3", second(conv_block, c7, c7, 7)),
                        ("branch7x7dbl_4", first(conv_block, c7, c7, 7)),
                        ("branch7x7dbl_5", second(conv_block, c7, w["branch7x7dbl_5"], 7)))
        self.add_branch("branch_pool", ("avg_pool", _avg_pool()),
                        ("branch_pool", conv_block(in_channels, w["branch_pool"], kernel_size=1)))


class InceptionD(MultiBranch):
    """Grid reduction 17 -> 8 [Rethinking, §5, Fig. 10]; torchvision's ``InceptionD`` (Mixed_7a).

    1x1 (192) -> 3x3/2 (320); 1x1 (192) -> 1x7 -> 7x1 -> 3x3/2 (192); 3x3/2 max-pool (the input, passed through).
    320 + 192 + 768 = 1280 channels on 8x8.
    """

    def __init__(self, in_channels: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 widths: Mapping[str, int] | None = None) -> None:
        w = _widths("InceptionD", widths)
        c = w["branch7x7x3"]
        super().__init__(in_channels)
        self.add_branch("branch3x3", ("branch3x3_1", conv_block(in_channels, w["branch3x3_1"], kernel_size=1)),
                        ("branch3x3_2", conv_block(w["branch3x3_1"], w["branch3x3_2"], kernel_size=3, stride=2)))
        self.add_branch("branch7x7x3", ("branch7x7x3_1", conv_block(in_channels, c, kernel_size=1)),
                        ("branch7x7x3_2", conv_1xn(conv_block, c, c, 7)),
                        ("branch7x7x3_3", conv_nx1(conv_block, c, c, 7)),
                        ("branch7x7x3_4", conv_block(c, c, kernel_size=3, stride=2)))
        self.add_branch("branch_pool", ("max_pool", nn.MaxPool2d(kernel_size=3, stride=2)))


class InceptionE(MultiBranch):
    """Module C: the 8x8 module "with expanded the filter bank outputs" [Rethinking, §2 principle 2, Fig. 7].

    torchvision's ``InceptionE`` (Mixed_7b, 7c). Branches: 1x1 (320); 1x1 (384) -> [1x3 | 3x1] (384 + 384);
    1x1 (448) -> 3x3 (384) -> [1x3 | 3x1] (384 + 384); 3x3 average pool -> 1x1 (192). The :class:`Split` steps run
    both factors on the same input and concatenate them: wider, not deeper, "to promote high dimensional
    representations" on the coarsest grid. 320 + 768 + 768 + 192 = 2048 channels.
    """

    def __init__(self, in_channels: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 widths: Mapping[str, int] | None = None) -> None:
        w = _widths("InceptionE", widths)
        c3, dbl = w["branch3x3_1"], w["branch3x3dbl_2"]
        super().__init__(in_channels)
        self.add_branch("branch1x1", conv_block(in_channels, w["branch1x1"], kernel_size=1))
        self.add_branch("branch3x3", ("branch3x3_1", conv_block(in_channels, c3, kernel_size=1)),
                        Split(("branch3x3_2a", conv_1xn(conv_block, c3, c3, 3)),
                              ("branch3x3_2b", conv_nx1(conv_block, c3, c3, 3))))
        self.add_branch("branch3x3dbl",
                        ("branch3x3dbl_1", conv_block(in_channels, w["branch3x3dbl_1"], kernel_size=1)),
                        ("branch3x3dbl_2", conv_block(w["branch3x3dbl_1"], dbl, kernel_size=3, padding=1)),
                        Split(("branch3x3dbl_3a", conv_1xn(conv_block, dbl, dbl, 3)),
                              ("branch3x3dbl_3b", conv_nx1(conv_block, dbl, dbl, 3))))
        self.add_branch("branch_pool", ("avg_pool", _avg_pool()),
                        ("branch_pool", conv_block(in_channels, w["branch_pool"], kernel_size=1)))


class InceptionAux(nn.Module):
    """The auxiliary classifier "on top of the last 17x17 layer" [Rethinking, §4, Fig. 8]; torchvision's AuxLogits.

    5x5/3 average pool (17x17 -> 5x5) -> 1x1 (128) -> 5x5 (768) -> global average pool -> linear.

    Args:
        bn_fc: ``False`` (torchvision: a plain linear layer; ``bn`` is an ``nn.Identity``) or ``True``: the paper's
            "BN-auxiliary", "in which the fully connected layer of the auxiliary classifier is also
            batch-normalized, not just the convolutions" [Rethinking, §10, Fig. 8: +0.4 % top-1]; the BatchNorm1d
            sits before the linear layer.
        adaptive: pool adaptively to 5x5 instead of 5x5/3 (the mini presets: any map of at least 5x5 works; on a
            17x17 map both give the same 5x5 grid but average different windows).
        widths: filters of ``conv0`` and ``conv1`` (default :data:`RELEASED_WIDTHS`: 128, 768).

    The 5x5 convolution and the linear layer carry torchvision's ``stddev`` marks (0.01, 0.001) for the
    ``"tv_inception_v3"`` initialisation.
    """

    def __init__(self, in_channels: int, num_classes: int, conv_block: ConvBlockFactory = conv_bn_relu_tv,
                 bn_fc: bool = False, adaptive: bool = False, widths: Mapping[str, int] | None = None) -> None:
        super().__init__()
        w = _widths("InceptionAux", widths)
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.pool = nn.AdaptiveAvgPool2d(5) if check_bool("adaptive", adaptive) else nn.AvgPool2d(5, stride=3)
        self.conv0 = conv_block(in_channels, w["conv0"], kernel_size=1)
        self.conv1 = conv_block(w["conv0"], w["conv1"], kernel_size=5)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.bn = nn.BatchNorm1d(w["conv1"], eps=1e-3) if check_bool("bn_fc", bn_fc) else nn.Identity()
        self.fc = nn.Linear(w["conv1"], check_positive_int("num_classes", num_classes))
        self.conv1.conv.stddev, self.fc.stddev = 0.01, 0.001  # torchvision's init of the head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_block_input(x, self.in_channels, "InceptionAux")
        if min(x.shape[-2:]) < 5:
            raise ValueError(f"InceptionAux needs maps of at least 5x5, got {tuple(x.shape[-2:])}.")
        x = self.pool(x)  # N x 768 x 5 x 5
        if min(x.shape[-2:]) < 5:
            raise ValueError(f"InceptionAux needs maps of at least 17x17 (its 5x5 convolution runs on the 5x5/3 "
                             f"pooled map), got {tuple(x.shape[-2:])} after pooling; train with inputs of at least "
                             f"267x267 pixels (299 as the paper), or build the model with aux_logits=False.")
        x = self.conv1(self.conv0(x))  # N x 128 x 5 x 5 -> N x 768 x 1 x 1
        x = torch.flatten(self.avgpool(x), 1)  # N x 768
        return self.fc(self.bn(x))  # N x num_classes


# ---------------------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InceptionV3Config:
    """Everything that distinguishes one Inception-v3 preset from another [Rethinking, Table 1, §6, §10].

    The widths always come from the released model (:data:`RELEASED_WIDTHS` and the stem's); ``width_divisor``
    scales them all at once.
    """

    num_classes: int = 1000  # ILSVRC 2012 [Rethinking, §8]
    in_channels: int = 3  # RGB
    stem: str = "imagenet"  # "imagenet": the released 299 -> 35x35 stem; "small": stride-1 stem for 32-64 px (ours)
    width_divisor: int = 1  # 1 = the released widths; every width (stem, modules, aux head) divided by it
    min_channels: int = 1  # no divided width below it: TF-slim's min_depth (16 there); 1 = no floor
    aux_logits: bool = True  # the auxiliary classifier on the last 17x17 layer [§4]; runs in train mode only
    bn_aux_fc: bool = False  # the "BN-auxiliary" head [§10, Fig. 8]; torchvision: False
    five_by_five: str = "5x5"  # module A's branch 2: "5x5" as released, "3x3" as Fig. 5 (1x1 -> 3x3)
    double_first: str = "7x1"  # module B's double branch: "7x1" first as released, "1x7" first as Fig. 6 draws it
    dropout: float = 0.5  # before the classifier (torchvision's; Table 1 has no dropout row)
    transform_input: bool = False  # map ImageNet mean/std inputs to the [-1, 1] scaling of the released weights
    init_weights: str = "tv_inception_v3"  # INIT_SCHEMES; torchvision's truncated normals (the paper gives none)

    def __post_init__(self) -> None:
        for name in ("num_classes", "in_channels", "width_divisor", "min_channels"):
            check_positive_int(name, getattr(self, name))
        check_choice("stem", self.stem, STEMS)
        for name in ("aux_logits", "bn_aux_fc", "transform_input"):
            check_bool(name, getattr(self, name))
        _check_five_by_five(self.five_by_five)
        check_choice("double_first", self.double_first, DOUBLE_FIRST)
        check_probability("dropout", self.dropout)
        check_choice("init_weights", self.init_weights, INIT_SCHEMES)


class InceptionV3(InceptionNet):
    """Inception-v3 [Rethinking, Table 1, §6]: the stem, 3 x module A, 5 x (grid reduction + module B ...), 2 x C.

    Built from an :class:`InceptionV3Config`; torchvision calls the class ``Inception3``. Without the auxiliary
    classifier, ``AuxLogits`` is an ``nn.Identity``; ``transform_input`` starts as the config says and
    :func:`~inception_lab.pretrained.load_torchvision_weights` switches it on.

    Shape:
        (N, 3, 299, 299) -> (N, num_classes); :class:`~inception_lab.nn.losses.AuxOutputs` ``(logits, (aux,))`` in
        train mode with the auxiliary classifier (torchvision: ``InceptionOutputs(logits, aux_logits)``). Any input
        of at least 75x75 works.

    Deviations:
        From the paper, all inherited from the released model (as data, each checked against this model:
        :data:`inception_lab.papers.rethinking.RELEASED_DIFFERENCES`): the stem's last rows, module A's 5x5, the
        order in module B, the two reductions, the plain auxiliary FC; 5.71 G multiply-adds, not "5 billion".
    """

    AUX_HEADS = ("AuxLogits",)
    DROPOUT_BEFORE_FLATTEN = True  # torchvision's head order (torchinfo then shows N x 2048 x 1 x 1)

    def __init__(self, config: InceptionV3Config = InceptionV3Config()) -> None:
        if not isinstance(config, InceptionV3Config):
            raise ValueError(f"InceptionV3 needs an InceptionV3Config, got {type(config).__name__}.")
        super().__init__(config)
        self.transform_input = config.transform_input
        # The one place the widths scale: every released width divided by width_divisor.
        widths = {block: {layer: self.scaled(c) for layer, c in layers.items()}
                  for block, layers in RELEASED_WIDTHS.items()}
        self._build_stem()
        self._build_modules(widths)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=config.dropout)
        self.fc = nn.Linear(self.num_features, config.num_classes)
        init_weights_(self, config.init_weights)

    def _build_stem(self) -> None:
        """The released stem (299 -> 35x35), or the small one (every convolution stride 1 and padded: 32 -> 16)."""
        small, s, atom = self.config.stem == "small", self.scaled, conv_bn_relu_tv
        self.Conv2d_1a_3x3 = atom(self.config.in_channels, s(32), kernel_size=3, stride=1 if small else 2,
                                  padding=int(small))
        self.Conv2d_2a_3x3 = atom(s(32), s(32), kernel_size=3, padding=int(small))
        self.Conv2d_2b_3x3 = atom(s(32), s(64), kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2, padding=int(small))
        self.Conv2d_3b_1x1 = atom(s(64), s(80), kernel_size=1)
        self.Conv2d_4a_3x3 = atom(s(80), s(192), kernel_size=3, padding=int(small))
        self.maxpool2 = nn.Identity() if small else nn.MaxPool2d(kernel_size=3, stride=2)

    def _build_modules(self, widths: dict[str, dict[str, int]]) -> None:
        """Modules A (x3), B, C (x4), the auxiliary head, D and E (x2), each reading what the previous outputs."""
        config, s, five = self.config, self.scaled, self.config.five_by_five
        a = dict(five_by_five=five, widths=widths["InceptionA"])
        self.Mixed_5b = InceptionA(s(192), pool_features=s(32), **a)
        self.Mixed_5c = InceptionA(self.Mixed_5b.out_channels, pool_features=s(64), **a)
        self.Mixed_5d = InceptionA(self.Mixed_5c.out_channels, pool_features=s(64), **a)
        self.Mixed_6a = InceptionB(self.Mixed_5d.out_channels, widths=widths["InceptionB"])
        c = self.Mixed_6a.out_channels
        for name, c7 in zip(("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"), (128, 160, 160, 192), strict=True):
            self.add_module(name, InceptionC(c, channels_7x7=s(c7), widths=widths["InceptionC"],
                                             double_first=config.double_first))
            c = self.get_submodule(name).out_channels  # 4 x s(192): differs from s(768) for some divisors
        self.AuxLogits = (InceptionAux(c, config.num_classes, bn_fc=config.bn_aux_fc, adaptive=config.stem == "small",
                                       widths=widths["InceptionAux"]) if config.aux_logits else nn.Identity())
        self.Mixed_7a = InceptionD(c, widths=widths["InceptionD"])
        self.Mixed_7b = InceptionE(self.Mixed_7a.out_channels, widths=widths["InceptionE"])
        self.Mixed_7c = InceptionE(self.Mixed_7b.out_channels, widths=widths["InceptionE"])
        self.num_features = self.Mixed_7c.out_channels  # 2048 released

    def _trunk(self, x: torch.Tensor, aux: list[torch.Tensor] | None) -> torch.Tensor:
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
        if aux is not None:
            aux.append(self.AuxLogits(x))  # N x num_classes
        x = self.Mixed_7a(x)  # N x 1280 x 8 x 8
        x = self.Mixed_7b(x)  # N x 2048 x 8 x 8
        return self.Mixed_7c(x)  # N x 2048 x 8 x 8


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------
def inception_v3(num_classes: int = 1000, aux_logits: bool = True, *, transform_input: bool = False,
                 dropout: float = 0.5, init_weights: str = "tv_inception_v3") -> InceptionV3:
    """Inception-v3 as released (TF-slim, ported by torchvision): torchvision's ``state_dict`` loads strictly.

    27,161,264 parameters with the auxiliary classifier, 23,834,568 without; 5,713,216,096 MACs at 1x3x299x299
    (torchvision's published "5.713 GFLOPS" are these MACs). See :class:`InceptionV3` for the deviations.
    ``init_weights`` is one of :data:`~inception_lab.nn.initialization.INIT_SCHEMES` (``"pytorch"``: PyTorch's
    defaults, the quickest to build).
    """
    return InceptionV3(InceptionV3Config(num_classes=num_classes, aux_logits=aux_logits,
                                         transform_input=transform_input, dropout=dropout, init_weights=init_weights))


def inception_v3_paper(num_classes: int = 1000, aux_logits: bool = True, *, dropout: float = 0.5,
                       init_weights: str = "tv_inception_v3") -> InceptionV3:
    """Inception-v3 with modules A and B as Figs. 5 and 6 draw them and the BN-auxiliary head [Rethinking, §10].

    Deviations:
        From :func:`inception_v3`: ``five_by_five="3x3"``, ``double_first="1x7"`` and a batch-normalized auxiliary
        FC (Table 3's last row); released weights do not load. From the paper: the released stem (``inception_v2``
        builds Table 1's) and reductions (variations of Fig. 10, as Table 1's caption allows).
    """
    return InceptionV3(InceptionV3Config(num_classes=num_classes, aux_logits=aux_logits, bn_aux_fc=True,
                                         five_by_five="3x3", double_first="1x7", dropout=dropout,
                                         init_weights=init_weights))


def mini_inception_v3(num_classes: int = 10, aux_logits: bool = False, *, width_divisor: int = 8,
                      min_channels: int = 1, five_by_five: str = "5x5", dropout: float = 0.0,
                      init_weights: str = "tv_inception_v3") -> InceptionV3:
    """A small Inception-v3 for 32-64 px images: the same :class:`InceptionV3` and modules A-E, narrower.

    Every width of the released model (stem, modules, aux head) is divided by ``width_divisor``
    (:func:`~inception_lab.shapes.scale_width`); the chapter-7 lab chooses the divisor for a fair budget. The
    ``"small"`` stem keeps the grid: a 32x32 image reaches module A at 16x16, module B (Fig. 6) at 7x7 and
    module C (Fig. 7) at 3x3 (64 px: 32, 15, 7).

    Mini-preset defaults: no auxiliary classifier and dropout 0, as in every preset of chapter 7's lab (at this
    scale and training length both only slow learning); ``mini_googlenet`` keeps its heads for chapter 2.

    The options are :class:`InceptionV3Config` fields (``width_divisor=8``: 2048 -> 256 features; the auxiliary
    head on Mixed_6e pools adaptively to 5x5).

    Deviations:
        From :func:`inception_v3`: widths divided; the small stem (stride-1 padded convolutions, one padded
        3x3/2 max-pool); an adaptive auxiliary pool; dropout 0 by default.
    """
    return InceptionV3(InceptionV3Config(num_classes=num_classes, stem="small", width_divisor=width_divisor,
                                         min_channels=min_channels, aux_logits=aux_logits,
                                         five_by_five=five_by_five, dropout=dropout,
                                         init_weights=init_weights))
