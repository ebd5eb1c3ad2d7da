"""Weight initialisation schemes, one vocabulary for every network of the book (``init_weights="..."``).

None of the three papers says how its network was initialised; each scheme names where it comes from.
"""

from __future__ import annotations

import math

from torch import nn

from inception_lab.checks import check_choice

#: The schemes :func:`init_weights_` accepts (and the ``init_weights=`` argument of every builder).
INIT_SCHEMES: tuple[str, ...] = ("caffe", "trunc_normal", "kaiming", "kaiming_conv", "pytorch")


def init_weights_(model: nn.Module, scheme: str) -> nn.Module:
    """Initialise the conv, linear and BatchNorm layers of ``model`` in place; returns ``model``.

    * ``"caffe"`` -- the BVLC Caffe replication of GoogLeNet (``models/bvlc_googlenet/train_val.prototxt``):
      "xavier" fillers, i.e. uniform on +-sqrt(3 / fan_in), and every convolution bias set to 0.2 so that the
      ReLUs start active in a network without BatchNorm. Linear biases start at 0 (our choice).
    * ``"trunc_normal"`` -- torchvision's ``init_weights=True``: conv/linear weights from a normal with std 0.01
      truncated to [-2, 2]; linear biases keep PyTorch's default, conv biases (torchvision has none) 0.
    * ``"kaiming"`` -- He et al.'s normal init for ReLU networks (std sqrt(2 / fan_in)) for convolutions and linear
      layers, biases 0: it keeps the activations' scale through a ReLU network without BatchNorm.
    * ``"kaiming_conv"`` -- He-normal convolutions, a N(0, 0.01) classifier, biases 0 (BN-Inception's presets:
      identical convolution weights with and without BN after the same seed).
    * ``"pytorch"`` -- leave PyTorch's default initialisation untouched.

    Every scheme but ``"pytorch"`` sets BatchNorm's gamma to 1 and beta to 0.
    """
    check_choice("init_weights", scheme, INIT_SCHEMES)
    if scheme == "pytorch":
        return model
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if scheme == "caffe":
                bound = math.sqrt(3.0 / m.weight[0].numel())
                nn.init.uniform_(m.weight, -bound, bound)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.2 if isinstance(m, nn.Conv2d) else 0.0)
            elif scheme == "trunc_normal":
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                if m.bias is not None and isinstance(m, nn.Conv2d):
                    nn.init.zeros_(m.bias)
            elif scheme == "kaiming_conv" and isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)
            else:  # kaiming, and the convolutions of kaiming_conv
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model
