"""Inception-v2 as [Rethinking, Table 1, §6] outlines it: the stem, 3 x Fig. 5, 5 x Fig. 6, 2 x Fig. 7.

Rethinking calls the network of its Table 1 "Inception-v2" (§6) and the best of its Table 3 ablations, with
RMSProp, label smoothing, the factorized 7x7 stem and the BN-auxiliary head, "Inception-v3". Table 1 gives the
stem layer by layer, the number of modules on each grid and the grid sizes and depths between them -- but no
filter counts inside the modules. This file builds what the paper specifies and fills the rest from the released
model (:mod:`~inception_lab.models.inception_v3`), with every choice named:

====================================  =========================================================================
from the paper                        the stem (Table 1 rows 1-7, "factorized the traditional 7 x 7 convolution
                                      into three 3 x 3", §6); 3 modules as Fig. 5 on 35x35x288; 5 as Fig. 6
                                      (n = 7) on 17x17x768; 2 as Fig. 7 on 8x8x1280 -> 2048; grid reductions,
                                      "variations of" Fig. 10 (Table 1's caption, §5); 8x8 average pool,
                                      linear, softmax; the auxiliary classifier "on top of the last 17 x 17
                                      layer" (§4)
our choices (the paper is silent)     which variations of Fig. 10: the released two (Mixed_6a, Mixed_7a);
                                      every width inside a module (the released model's: module A 64 / 48-64 /
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
from dataclasses import dataclass

import torch
from torch import nn

from inception_lab.checks import check_bool, check_choice, check_positive_int, check_probability
from inception_lab.models.base import InceptionNet
from inception_lab.models.inception_v3 import (
    RELEASED_WIDTHS,
    InceptionA,
    InceptionAux,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
)
from inception_lab.nn.initialization import INIT_SCHEMES, init_weights_
from inception_lab.nn.layers import conv_bn_relu_tv

#: ``"3x3"``: Table 1's stem, the 7x7 "factorized into three 3 x 3" (§6; Table 3's "Factorized 7 x 7" row, 4.8 Bn
#: ops); ``"7x7"``: one 7x7/2 convolution in place of the first three rows (the "Inception-v2" row of Table 3 before
#: that change, 3.8 Bn ops; the paper does not print its widths: 64 filters, valid, so it lands on Table 1's
#: 147x147x64 too); ``"small"``: the mini preset's stem for 32-64 px images.
STEMS = ("3x3", "7x7", "small")
#: Our choice: the 17x17 modules' ``c7`` widths. The released model has four modules with 128, 160, 160, 192;
#: Table 1 has five, so the middle width appears three times.
CHANNELS_7X7 = (128, 160, 160, 160, 192)


@dataclass(frozen=True)
class InceptionV2Config:
    """Everything that distinguishes one Inception-v2 preset from another [Rethinking, Table 1, §6].

    The widths inside the modules are the released model's (the module docstring lists our choices);
    ``width_divisor`` scales every width at once.
    """

    num_classes: int = 1000  # ILSVRC 2012 [Rethinking, §8]
    in_channels: int = 3  # RGB
    stem: str = "3x3"  # one of STEMS: Table 1's factorized stem, Table 3's single 7x7, or the small one (ours)
    width_divisor: int = 1  # 1 = the released widths; every width (stem, modules, aux head) divided by it
    min_channels: int = 1  # no divided width below it: TF-slim's min_depth (16 there); 1 = no floor
    aux_logits: bool = True  # the auxiliary classifier "on top of the last 17 x 17 layer" [§4]; train mode only
    bn_aux_fc: bool = False  # the BN-auxiliary head (Table 3's last row)
    channels_7x7: tuple[int, ...] = CHANNELS_7X7  # one c7 width per 17x17 module; their number is Table 1's 5
    dropout: float = 0.5  # before the classifier (Table 1 has no dropout row; 0.5 as the released model)
    init_weights: str = "tv_inception_v3"  # INIT_SCHEMES; torchvision's Inception-v3 init (the paper gives none)

    def __post_init__(self) -> None:
        for name in ("num_classes", "in_channels", "width_divisor", "min_channels"):
            check_positive_int(name, getattr(self, name))
        check_choice("stem", self.stem, STEMS)
        check_bool("aux_logits", self.aux_logits)
        check_bool("bn_aux_fc", self.bn_aux_fc)
        if isinstance(self.channels_7x7, (str, bytes)) or not isinstance(self.channels_7x7, Sequence) \
                or not self.channels_7x7:
            raise ValueError(f"channels_7x7 needs at least one width (one per 17x17 module; Table 1: five), got "
                             f"{self.channels_7x7!r}.")
        object.__setattr__(self, "channels_7x7", tuple(check_positive_int("channels_7x7", c)
                                                       for c in self.channels_7x7))
        check_probability("dropout", self.dropout)
        check_choice("init_weights", self.init_weights, INIT_SCHEMES)


class InceptionV2(InceptionNet):
    """Inception-v2 [Rethinking, Table 1, §6]: Table 1's stem, 3 x module A, reduction, 5 x B, reduction, 2 x C.

    Built from an :class:`InceptionV2Config`. With the ``"7x7"`` stem, ``conv1`` and ``conv2`` are
    ``nn.Identity``; without the auxiliary classifier, so is ``AuxLogits``.

    Shape:
        (N, 3, 299, 299) -> (N, num_classes); :class:`~inception_lab.nn.losses.AuxOutputs` in train mode with the
        auxiliary head. Stage by stage (299x299): 149x149x32, 147x147x32, 147x147x64, 73x73x64, 71x71x80,
        35x35x192, 35x35x288 -- Table 1's input column, row by row -- then 35x35x288 (x3), 17x17x768, 17x17x768 (x5),
        8x8x1280, 8x8x2048 (x2), 1x1x2048.

    Deviations:
        The module widths and the other choices listed in the module docstring. The modules are the paper's
        figures, not the released modules (:data:`inception_lab.papers.rethinking.RELEASED_DIFFERENCES`): module A
        is Fig. 5 (its second branch 1x1 -> 3x3, where the release has 1x1 -> 5x5) and the 17x17 modules' double
        branch runs 1x7 before 7x1 as Fig. 6 draws it (the release starts with 7x1; the same counts). The grid
        reductions are the released variations of Fig. 10 (Table 1's caption: "variations of reduction technique
        depicted Figure 10").
    """

    AUX_HEADS = ("AuxLogits",)
    DROPOUT_BEFORE_FLATTEN = True  # torchvision's head order (torchinfo then shows N x 2048 x 1 x 1)

    def __init__(self, config: InceptionV2Config = InceptionV2Config()) -> None:
        if not isinstance(config, InceptionV2Config):
            raise ValueError(f"InceptionV2 needs an InceptionV2Config, got {type(config).__name__}.")
        super().__init__(config)
        # The one place the widths scale: every released width divided by width_divisor.
        widths = {block: {layer: self.scaled(c) for layer, c in layers.items()}
                  for block, layers in RELEASED_WIDTHS.items()}
        self._build_stem()
        self._build_modules(widths)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # Table 1: "pool 8 x 8"
        self.dropout = nn.Dropout(p=config.dropout)
        self.fc = nn.Linear(self.num_features, config.num_classes)  # "linear, logits"
        init_weights_(self, config.init_weights)

    def _build_stem(self) -> None:
        """Table 1, rows 1-7 ("patch size/stride"; "all other layers do not use padding")."""
        stem, s, atom, c_in = self.config.stem, self.scaled, conv_bn_relu_tv, self.config.in_channels
        small = stem == "small"
        if stem == "7x7":
            self.conv0 = atom(c_in, s(64), kernel_size=7, stride=2)  # 299 -> 147: the unfactorized 7x7
            self.conv1, self.conv2 = nn.Identity(), nn.Identity()
        else:
            self.conv0 = atom(c_in, s(32), kernel_size=3, stride=1 if small else 2, padding=int(small))  # -> 149
            self.conv1 = atom(s(32), s(32), kernel_size=3, padding=int(small))  # -> 147
            self.conv2 = atom(s(32), s(64), kernel_size=3, padding=1)  # "conv padded" -> 147
        self.pool0 = nn.MaxPool2d(kernel_size=3, stride=2, padding=int(small))  # -> 73
        self.conv3 = atom(s(64), s(80), kernel_size=3, padding=int(small))  # -> 71
        self.conv4 = atom(s(80), s(192), kernel_size=3, stride=1 if small else 2, padding=int(small))  # -> 35
        self.conv5 = atom(s(192), s(288), kernel_size=3, padding=1)  # -> 35: padded (our choice)

    def _build_modules(self, widths: dict[str, dict[str, int]]) -> None:
        """3 x Fig. 5 on 35x35, Fig. 10, one Fig. 6 per ``c7`` width on 17x17, the aux head, Fig. 10, 2 x Fig. 7."""
        config, s = self.config, self.scaled
        channels = s(288)  # released widths: 64 + 64 + 96 + 64 = 288
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
            self.add_module(name, InceptionA(channels, pool_features=s(64), five_by_five="3x3",
                                             widths=widths["InceptionA"]))  # Fig. 5: 1x1 -> 3x3, not the 5x5
            channels = self.get_submodule(name).out_channels
        self.Mixed_6a = InceptionB(channels, widths=widths["InceptionB"])  # Fig. 10: 35 -> 17, 288 -> 768
        channels = self.Mixed_6a.out_channels
        self.grid17 = tuple(f"Mixed_6{chr(ord('b') + i)}" for i in range(len(config.channels_7x7)))
        for name, c7 in zip(self.grid17, config.channels_7x7, strict=True):
            self.add_module(name, InceptionC(channels, channels_7x7=s(c7), widths=widths["InceptionC"],
                                             double_first="1x7"))  # Fig. 6, n = 7: 1x7 before 7x1
            channels = self.get_submodule(name).out_channels  # 4 x s(192): differs from s(768) for some divisors
        self.AuxLogits = (InceptionAux(channels, config.num_classes, bn_fc=config.bn_aux_fc,
                                       adaptive=config.stem == "small", widths=widths["InceptionAux"])
                          if config.aux_logits else nn.Identity())
        self.Mixed_7a = InceptionD(channels, widths=widths["InceptionD"])  # Fig. 10: 17 -> 8, 768 -> 1280
        self.Mixed_7b = InceptionE(self.Mixed_7a.out_channels, widths=widths["InceptionE"])  # Fig. 7: 1280 -> 2048
        self.Mixed_7c = InceptionE(self.Mixed_7b.out_channels, widths=widths["InceptionE"])  # Fig. 7: 2048 -> 2048
        self.num_features = self.Mixed_7c.out_channels

    def _trunk(self, x: torch.Tensor, aux: list[torch.Tensor] | None) -> torch.Tensor:
        """Stem and Inception modules: the (N, 2048, 8, 8) features; the aux head's logits go into ``aux``."""
        # Shapes for inception_v2() on N x 3 x 299 x 299 (Table 1's input column, row by row).
        x = self.conv0(x)  # N x 32 x 149 x 149 (stem "7x7": N x 64 x 147 x 147)
        x = self.conv1(x)  # N x 32 x 147 x 147 (stem "7x7": nn.Identity)
        x = self.conv2(x)  # N x 64 x 147 x 147 (stem "7x7": nn.Identity)
        x = self.pool0(x)  # N x 64 x 73 x 73
        x = self.conv3(x)  # N x 80 x 71 x 71
        x = self.conv4(x)  # N x 192 x 35 x 35
        x = self.conv5(x)  # N x 288 x 35 x 35
        x = self.Mixed_5b(x)  # N x 288 x 35 x 35
        x = self.Mixed_5c(x)  # N x 288 x 35 x 35
        x = self.Mixed_5d(x)  # N x 288 x 35 x 35
        x = self.Mixed_6a(x)  # N x 768 x 17 x 17
        for name in self.grid17:  # Mixed_6b .. Mixed_6f: Table 1's five 17x17 modules
            x = self.get_submodule(name)(x)  # N x 768 x 17 x 17
        if aux is not None:
            aux.append(self.AuxLogits(x))  # N x num_classes, from the last 17x17 layer
        x = self.Mixed_7a(x)  # N x 1280 x 8 x 8
        x = self.Mixed_7b(x)  # N x 2048 x 8 x 8
        return self.Mixed_7c(x)  # N x 2048 x 8 x 8


def inception_v2(num_classes: int = 1000, aux_logits: bool = True, *, stem: str = "3x3", dropout: float = 0.5,
                 init_weights: str = "tv_inception_v3") -> InceptionV2:
    """Inception-v2 as Table 1 outlines it [Rethinking, Table 1, §6], widths filled from the released model.

    The module docstring lists what the paper fixes and what we chose. Counts at 1x3x299x299 are in chapter 6
    and ``tests/test_inception_v2.py``; ``stem="7x7"`` gives the Table 3 "Inception-v2" before its "Factorized
    7 x 7" row. ``init_weights`` is one of :data:`~inception_lab.nn.initialization.INIT_SCHEMES`.
    """
    return InceptionV2(InceptionV2Config(num_classes=num_classes, stem=stem, aux_logits=aux_logits, dropout=dropout,
                                         init_weights=init_weights))


def mini_inception_v2(num_classes: int = 10, aux_logits: bool = False, *, width_divisor: int = 8,
                      min_channels: int = 1, channels_7x7: Sequence[int] = CHANNELS_7X7, dropout: float = 0.0,
                      init_weights: str = "tv_inception_v3") -> InceptionV2:
    """A small Inception-v2 for 32-64 px images: the same :class:`InceptionV2` and modules, narrower.

    Every width divided by ``width_divisor``; the ``"small"`` stem (all stem convolutions stride 1 and padded, one
    padded 3x3/2 max-pool), so a 32x32 image reaches module A at 16x16, the 17x17 modules at 7x7 and the 8x8
    modules at 3x3 (64 px: 32, 15, 7). The chapter-7 lab chooses the divisor.

    Mini-preset defaults: no auxiliary classifier and dropout 0, as in every preset of chapter 7's lab.

    Deviations:
        From :func:`inception_v2`: widths divided, the small stem, an adaptive auxiliary pool, dropout 0.
    """
    return InceptionV2(InceptionV2Config(num_classes=num_classes, stem="small", width_divisor=width_divisor,
                                         min_channels=min_channels, aux_logits=aux_logits,
                                         channels_7x7=tuple(channels_7x7), dropout=dropout,
                                         init_weights=init_weights))
