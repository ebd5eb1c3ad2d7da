"""The networks of the book, one file per network, and the registry that builds any of them by name.

* :mod:`~inception_lab.models.googlenet` -- GoogLeNet / Inception v1 [GoogLeNet]: chapters 1 and 2.
* :mod:`~inception_lab.models.bn_inception` -- BN-Inception [BN]: chapter 3.
* :mod:`~inception_lab.models.inception_v3` -- Inception-v3 [Rethinking] and its modules A-E: chapters 4-6.
* :mod:`~inception_lab.models.inception_v2` -- Inception-v2 as [Rethinking, Table 1] outlines it: chapter 6.

Each file holds the network's modules, its config and the network -- one idiom, ``Net(Config(...))``:
``GoogLeNet(GoogLeNetConfig)``, ``BNInception(BNInceptionConfig)``, ``InceptionV3(InceptionV3Config)``,
``InceptionV2(InceptionV2Config)``, frozen dataclasses validated when they are made -- and its presets.
``PRESETS`` is a plain dict of builder functions that take keyword options and return ``Net(Config(...))``; each
builder documents its options and deviations, and every one takes ``init_weights`` from
:data:`~inception_lab.nn.initialization.INIT_SCHEMES`. Build any preset with ``build_model(name, ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from inception_lab.models import bn_inception, googlenet, inception_v2, inception_v3

PRESETS: dict[str, Callable[..., nn.Module]] = {
    "googlenet": googlenet.googlenet,  # [GoogLeNet, Table 1], faithful to the paper
    "googlenet_tv": googlenet.googlenet_tv,  # torchvision-compatible state_dict and deviations
    "mini_googlenet": googlenet.mini_googlenet,  # same modules, sized for 32-64 px inputs and CPU training
    "bn_inception": bn_inception.bn_inception,  # [BN, Fig. 5]
    "mini_bn_inception": bn_inception.mini_bn_inception,  # small BN-Inception, BN switchable for ablations
    "inception_v3": inception_v3.inception_v3,  # [Rethinking] as released: torchvision-compatible state_dict
    "inception_v3_paper": inception_v3.inception_v3_paper,  # Fig. 5's module A, Fig. 8's BN-auxiliary head
    "mini_inception_v3": inception_v3.mini_inception_v3,  # same modules, widths / width_divisor, 32-64 px inputs
    "inception_v2": inception_v2.inception_v2,  # [Rethinking, Table 1]; module widths from the released model
    "mini_inception_v2": inception_v2.mini_inception_v2,  # same modules, widths / width_divisor, 32-64 px inputs
}


def build_model(name: str, **options: Any) -> nn.Module:
    """Build the preset ``name`` with the builder's keyword ``options`` (see each builder's docstring)."""
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; available presets: {sorted(PRESETS)}.")
    return PRESETS[name](**options)
