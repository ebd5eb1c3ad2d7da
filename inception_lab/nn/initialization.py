"""Weight initialisation schemes, one vocabulary for every network of the book (``init_weights="..."``).

Every builder of :data:`inception_lab.models.PRESETS` and every network config takes ``init_weights`` as one of
:data:`INIT_SCHEMES`. None of the three papers says how its network was initialised; each scheme names where it
comes from.
"""

from __future__ import annotations

import math

from torch import nn

from inception_lab.checks import check_choice

#: The schemes :func:`init_weights_` accepts (and the ``init_weights=`` argument of every builder and config).
INIT_SCHEMES: tuple[str, ...] = ("caffe", "tv_googlenet", "tv_inception_v3", "kaiming", "kaiming_conv", "pytorch")

#: Standard deviation of ``"tv_inception_v3"`` for a layer without a ``stddev`` attribute (torchvision's 0.1).
TV_INCEPTION_V3_STD = 0.1


def init_weights_(model: nn.Module, scheme: str) -> nn.Module:
    """Initialise the conv, linear and BatchNorm layers of ``model`` in place; returns ``model``.

    * ``"caffe"`` -- the BVLC Caffe replication of GoogLeNet (``models/bvlc_googlenet/train_val.prototxt``):
      "xavier" fillers, i.e. uniform on +-sqrt(3 / fan_in), and every convolution bias set to 0.2 so that the
      ReLUs start active in a network without BatchNorm. Linear biases start at 0 (our choice).
    * ``"tv_googlenet"`` -- torchvision's GoogLeNet with ``init_weights=True``: conv/linear weights from a normal
      with std 0.01 truncated to [-2, 2]; linear biases keep PyTorch's default, conv biases (torchvision has
      none) 0.
    * ``"tv_inception_v3"`` -- torchvision's Inception-v3 with ``init_weights=True``: conv/linear weights from a
      normal with std 0.1 truncated to [-2, 2], except layers that carry a ``stddev`` attribute (torchvision's
      marker; our Inception-v3 auxiliary head sets 0.01 on its 5x5 convolution and 0.001 on its linear layer).
      Biases keep PyTorch's default.
    * ``"kaiming"`` -- He et al.'s normal init for ReLU networks (std sqrt(2 / fan_in)) for convolutions and linear
      layers, biases 0: it keeps the activations' scale through a ReLU network without BatchNorm.
    * ``"kaiming_conv"`` -- He-normal convolutions, a N(0, 0.01) classifier, biases 0 (BN-Inception's presets:
      identical convolution weights with and without BN after the same random seed).
    * ``"pytorch"`` -- leave PyTorch's default initialisation untouched.

    Every scheme but ``"pytorch"`` sets BatchNorm's gamma to 1 and beta to 0.

    Raises:
        ValueError: if ``scheme`` is not one of :data:`INIT_SCHEMES`.
    """
    check_choice("init_weights", scheme, INIT_SCHEMES)
    if scheme == "pytorch":
        return model
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            _init_layer(m, scheme)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def _init_layer(m: nn.Conv2d | nn.Linear, scheme: str) -> None:
    """One convolution or linear layer under ``scheme`` (see :func:`init_weights_`)."""
    if scheme == "caffe":
        bound = math.sqrt(3.0 / m.weight[0].numel())
        nn.init.uniform_(m.weight, -bound, bound)
        if m.bias is not None:
            nn.init.constant_(m.bias, 0.2 if isinstance(m, nn.Conv2d) else 0.0)
    elif scheme == "tv_googlenet":
        nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
        if m.bias is not None and isinstance(m, nn.Conv2d):
            nn.init.zeros_(m.bias)
    elif scheme == "tv_inception_v3":
        nn.init.trunc_normal_(m.weight, mean=0.0, std=float(getattr(m, "stddev", TV_INCEPTION_V3_STD)), a=-2, b=2)
    elif scheme == "kaiming_conv" and isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.01)
        nn.init.zeros_(m.bias)
    else:  # kaiming, and the convolutions of kaiming_conv
        nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
