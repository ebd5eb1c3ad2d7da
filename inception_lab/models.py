"""The model registry: every network of the book by name, built with ``build_model(name, **options)``.

``PRESETS`` is a plain dict of builder functions; each builder documents its options and deviations.
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from inception_lab import bn_inception, googlenet

PRESETS: dict[str, Callable[..., nn.Module]] = {
    "googlenet": googlenet.googlenet,  # [GoogLeNet, Table 1], faithful to the paper
    "googlenet_tv": googlenet.googlenet_tv,  # torchvision-compatible state_dict and deviations
    "mini_googlenet": googlenet.mini_googlenet,  # same modules, sized for 32-64 px inputs and CPU training
    "bn_inception": bn_inception.bn_inception,  # [BN, Fig. 5]
    "mini_bn_inception": bn_inception.mini_bn_inception,  # small BN-Inception, BN switchable for ablations
}


def build_model(name: str, **options: Any) -> nn.Module:
    """Build the preset ``name`` with the builder's keyword ``options`` (see each builder's docstring)."""
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; available presets: {sorted(PRESETS)}.")
    return PRESETS[name](**options)
