"""Inception-v2 as [Rethinking, Table 1, §6] outlines it: the stem, 3 x Fig. 5, 5 x Fig. 6, 2 x Fig. 7.

Rethinking calls the network of its Table 1 "Inception-v2" (§6) and the best of its Table 3 ablations, with
RMSProp, label smoothing, the factorized 7x7 stem and the BN-auxiliary head, "Inception-v3". Table 1 gives the
stem layer by layer, the number of modules on each grid and the grid sizes and depths between them -- but no
filter counts inside the modules. This file builds what the paper specifies and fills the rest from the released
model (:mod:`~inception_lab.models.inception_v3`), with every choice named:

====================================  =========================================================================
from the paper                        the stem (Table 1 rows 1-7, "factorized the traditional 7 x 7 convolution
                                      into three 3 x 3", §6); 3 modules as Fig. 5 on 35x35x288; 5 as Fig. 6
                                      (n = 7) on 17x17x768; 2 as Fig. 7 on 8x8x1280 -> 2048; grid reductions
                                      as Fig. 10 (§5, §6); 8x8 average pool, linear, softmax; the auxiliary
                                      classifier "on top of the last 17 x 17 layer" (§4)
our choices (the paper is silent)     every width inside a module (the released model's: module A 64 / 48-64 /
                                      64-96-96 / pool 64; the reductions 384 / 64-96-96 and 192-320 /
                                      192-192-192-192; module C 320 / 384 / 448-384 / 192); the five ``c7``
                                      widths of the 17x17 modules ``CHANNELS_7X7``; zero padding on the last stem
                                      convolution (Table 1's caption says only "conv padded" pads, yet 35x35
                                      stays 35x35); max pooling in the stem; dropout 0.5 before the classifier
====================================  =========================================================================

Every layer is conv (no bias) -> BatchNorm -> ReLU (:func:`~inception_lab.nn.layers.conv_bn_relu_tv`), as in all of
Rethinking's networks. Attribute names follow the TF-slim scopes of the released model where a layer has a
released twin (``Mixed_5b`` ...), with one more 17x17 module (``Mixed_6f``) and Table 1's stem rows as ``conv0`` ...
``conv5``. Introduced in chapter 6.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from inception_lab.checks import check_bool, check_choice, check_positive_int, check_probability
from inception_lab.models.base import InceptionNet
from inception_lab.models.inception_v3 import (
    InceptionA,
    InceptionAux,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
    _widths,
    init_like_torchvision,
)
from inception_lab.nn.layers import ConvBlockFactory, conv_bn_relu_tv

#: ``"3x3"``: Table 1's stem, the 7x7 "factorized into three 3 x 3" (§6; Table 3's "Factorized 7 x 7" row, 4.8 Bn
#: ops); ``"7x7"``: one 7x7/2 convolution in place of the first three rows (the "Inception-v2" row of Table 3 before
#: that change, 3.8 Bn ops; the paper does not print its widths: 64 filters, valid, so it lands on Table 1's
#: 147x147x64 too); ``"small"``: the mini preset's stem for 32-64 px images.
STEMS = ("3x3", "7x7", "small")
#: Our choice: the 17x17 modules' ``c7`` widths. The released model has four modules with 128, 160, 160, 192;
#: Table 1 has five, so the middle width appears three times.
CHANNELS_7X7 = (128, 160, 160, 160, 192)


class InceptionV2(InceptionNet):
    """Inception-v2 [Rethinking, Table 1, §6]: Table 1's stem, 3 x module A, reduction, 5 x B, reduction, 2 x C.

    Args:
        num_classes: classifier outputs.
        aux_logits: the auxiliary classifier on the last 17x17 layer (§4); runs in train mode only.
        stem: one of :data:`STEMS`.
        channels_7x7: the ``c7`` width of each 17x17 module (their number is the number of modules: Table 1's 5).
        dropout: before the classifier (Table 1 has no dropout row; 0.5 as the released model in torchvision).
        bn_aux_fc: the BN-auxiliary head (Table 3's last row).
        width_divisor: divides every width (:func:`~inception_lab.shapes.scale_width`; the mini preset).
        init_weights: torchvision's truncated normals (``False``: PyTorch's defaults).

    Shape:
        (N, 3, 299, 299) -> (N, num_classes); :class:`~inception_lab.nn.losses.AuxOutputs` in train mode with the
        auxiliary head. Stage by stage (299x299): 149x149x32, 147x147x32, 147x147x64, 73x73x64, 71x71x80,
        35x35x192, 35x35x288 -- Table 1's input column, row by row -- then 35x35x288 (x3), 17x17x768, 17x17x768 (x5),
        8x8x1280, 8x8x2048 (x2), 1x1x2048.

    Deviations:
        The module widths and the other choices listed in the module docstring. Module A is Fig. 5 (two 3x3, not
        the released 5x5). The 17x17 modules' double branch runs 7x1 before 1x7 (the released order; Fig. 6 draws
        1xn first): the same parameters and MACs.
    """

    DROPOUT_BEFORE_FLATTEN = True  # torchvision's head order (torchinfo then shows N x 2048 x 1 x 1)

    def __init__(self, num_classes: int = 1000, *, aux_logits: bool = True, stem: str = "3x3",
                 channels_7x7: Sequence[int] = CHANNELS_7X7, dropout: float = 0.5, bn_aux_fc: bool = False,
                 width_divisor: int = 1, init_weights: bool = True,
                 conv_block: ConvBlockFactory = conv_bn_relu_tv) -> None:
        super().__init__()
        self.in_channels, self.num_classes = 3, check_positive_int("num_classes", num_classes)
        self.aux_logits = check_bool("aux_logits", aux_logits)
        self.stem = check_choice("stem", stem, STEMS)
        check_probability("dropout", dropout)
        if not channels_7x7:
            raise ValueError("channels_7x7 needs at least one width (one per 17x17 module; Table 1: five).")
        w, small = _widths(width_divisor), stem == "small"
        m = dict(conv_block=conv_block, width_divisor=width_divisor)
        # Table 1, rows 1-7 ("patch size/stride"; "all other layers do not use padding").
        if stem == "7x7":
            self.conv0 = conv_block(3, w(64), kernel_size=7, stride=2)  # 299 -> 147: the unfactorized 7x7
        else:
            self.conv0 = conv_block(3, w(32), kernel_size=3, stride=1 if small else 2, padding=int(small))  # -> 149
            self.conv1 = conv_block(w(32), w(32), kernel_size=3, padding=int(small))  # -> 147
            self.conv2 = conv_block(w(32), w(64), kernel_size=3, padding=1)  # "conv padded" -> 147
        self.pool0 = nn.MaxPool2d(kernel_size=3, stride=2, padding=int(small))  # -> 73
        self.conv3 = conv_block(w(64), w(80), kernel_size=3, padding=int(small))  # -> 71
        self.conv4 = conv_block(w(80), w(192), kernel_size=3, stride=1 if small else 2, padding=int(small))  # -> 35
        self.conv5 = conv_block(w(192), w(288), kernel_size=3, padding=1)  # -> 35: padded (our choice)
        # 3 x Fig. 5 on 35x35x288 (released widths: 64 + 64 + 96 + 64 = 288).
        channels = w(288)
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
            setattr(self, name, InceptionA(channels, pool_features=64, five_by_five="two_3x3", **m))
            channels = getattr(self, name).out_channels
        self.Mixed_6a = InceptionB(channels, **m)  # Fig. 10: 35 -> 17, 288 -> 768
        channels = self.Mixed_6a.out_channels
        self.grid17 = tuple(f"Mixed_6{chr(ord('b') + i)}" for i in range(len(channels_7x7)))
        for name, c7 in zip(self.grid17, channels_7x7):
            setattr(self, name, InceptionC(channels, channels_7x7=c7, **m))  # Fig. 6, n = 7
            channels = getattr(self, name).out_channels  # 4 x w(192): differs from w(768) for some divisors
        self.AuxLogits = (InceptionAux(channels, num_classes, conv_block=conv_block, bn_fc=bn_aux_fc,
                                       width_divisor=width_divisor, adaptive=small) if aux_logits else None)
        self.Mixed_7a = InceptionD(channels, **m)  # Fig. 10: 17 -> 8, 768 -> 1280
        self.Mixed_7b = InceptionE(self.Mixed_7a.out_channels, **m)  # Fig. 7: 1280 -> 2048
        self.Mixed_7c = InceptionE(self.Mixed_7b.out_channels, **m)  # Fig. 7: 2048 -> 2048
        self.num_features = self.Mixed_7c.out_channels
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # Table 1: "pool 8 x 8"
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(self.num_features, num_classes)  # "linear, logits"
        if check_bool("init_weights (True: torchvision's init; False: PyTorch's defaults)", init_weights):
            init_like_torchvision(self)

    def _trunk(self, x: torch.Tensor, aux: list[torch.Tensor] | None) -> torch.Tensor:
        """Stem and Inception modules: the (N, 2048, 8, 8) features; the aux head's logits go into ``aux``."""
        self.check_input(x)  # a clear ValueError for a wrong shape or an input too small
        for name, child in self.main_path():
            if name == "avgpool":
                break
            x = child(x)  # shapes after each stage: see the class docstring (Shape)
            if name == self.grid17[-1] and aux is not None and self.AuxLogits is not None:
                aux.append(self.AuxLogits(x))  # N x num_classes, from the last 17x17 layer
        return x  # N x 2048 x 8 x 8


def inception_v2(num_classes: int = 1000, aux_logits: bool = True, *, stem: str = "3x3", dropout: float = 0.5,
                 init_weights: bool = True) -> InceptionV2:
    """Inception-v2 as Table 1 outlines it [Rethinking, Table 1, §6], widths filled from the released model.

    The module docstring lists what the paper fixes and what we chose. Counts at 1x3x299x299 are in chapter 6
    and ``tests/test_inception_v2.py``; ``stem="7x7"`` gives the Table 3 "Inception-v2" before its "Factorized
    7 x 7" row.
    """
    return InceptionV2(num_classes, aux_logits=aux_logits, stem=stem, dropout=dropout, init_weights=init_weights)


def mini_inception_v2(num_classes: int = 10, aux_logits: bool = False, *, width_divisor: int = 8,
                      channels_7x7: Sequence[int] = CHANNELS_7X7, dropout: float = 0.0,
                      init_weights: bool = True) -> InceptionV2:
    """A small Inception-v2 for 32-64 px images: the same :class:`InceptionV2` and modules, narrower.

    Every width divided by ``width_divisor``; the ``"small"`` stem (all stem convolutions stride 1 and padded, one
    padded 3x3/2 max-pool), so a 32x32 image reaches module A at 16x16, the 17x17 modules at 7x7 and the 8x8
    modules at 3x3 (64 px: 32, 15, 7). The chapter-7 lab chooses the divisor.

    Deviations:
        From :func:`inception_v2`: widths divided, the small stem, an adaptive auxiliary pool, dropout 0.
    """
    return InceptionV2(num_classes, aux_logits=aux_logits, stem="small", channels_7x7=channels_7x7,
                       dropout=dropout, width_divisor=width_divisor, init_weights=init_weights)
