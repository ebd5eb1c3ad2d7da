"""What every network of the book shares: the config, the main path, the shape walk, one input check, features -> head.

A network is ``Net(config)``: a frozen dataclass config (``GoogLeNetConfig``, ``BNInceptionConfig``, ...) validated
in its ``__post_init__``, and a subclass of :class:`InceptionNet` whose ``__init__`` takes only that config. The
subclass registers its stages as attributes in forward order (so ``named_children`` *is* the main path, apart from
the classifier head and the auxiliary classifiers it names in :attr:`InceptionNet.AUX_HEADS`), and writes one
method, ``_trunk(x, aux)``: the stem and the Inception modules with a shape comment per stage, appending auxiliary
logits to ``aux`` when it is a list. Everything else -- ``forward`` (logits, or
:class:`~inception_lab.nn.losses.AuxOutputs` in train mode), ``forward_features``, ``forward_head``,
``stage_shapes``, ``min_input_size``, the one width rule :meth:`InceptionNet.scaled` and one input check per forward
pass with a clear error for inputs that are too small -- is here once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from inception_lab.checks import check_image_batch
from inception_lab.nn import shape_walk
from inception_lab.nn.branches import network_input_checked
from inception_lab.nn.losses import AuxOutputs
from inception_lab.shapes import scale_width

#: ImageNet's per-channel mean and std (torchvision's normalisation).
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def imagenet_to_unit_scaling(x: torch.Tensor) -> torch.Tensor:
    """Map ImageNet-mean/std-normalised images to the (x - 0.5) / 0.5 scaling of the TF-ported weights.

    torchvision's ``transform_input`` for GoogLeNet and Inception-v3: per channel, ``x * std / 0.5 + (mean - 0.5)
    / 0.5``, so the usual torchvision preprocessing can feed weights trained on [-1, 1] inputs.
    """
    return torch.cat([x[:, i:i + 1] * (IMAGENET_STD[i] / 0.5) + (IMAGENET_MEAN[i] - 0.5) / 0.5 for i in range(3)],
                     dim=1)


class InceptionNet(nn.Module):
    """Base of every network of the book (see the module docstring). Subclasses define ``_trunk``.

    Attributes:
        config: the network's frozen config; ``in_channels``, ``num_classes`` and ``aux_logits`` read it.
    """

    #: The network's auxiliary classifiers: children off the main path (each network names its own).
    AUX_HEADS: tuple[str, ...] = ()
    #: The classifier head after the global average pool, also off the main path (the same in every network).
    HEAD: tuple[str, ...] = ("dropout", "fc")
    #: The head's order: torchvision's GoogLeNet flattens before the dropout, its Inception-v3 after (same numbers,
    #: other shapes in a torchinfo summary).
    DROPOUT_BEFORE_FLATTEN: bool = False

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config
        self._sizes_checked: set[tuple[int, int]] = set()  # input sizes the shape walk has accepted

    @property
    def in_channels(self) -> int:
        return self.config.in_channels

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def aux_logits(self) -> bool:
        """Whether the network has auxiliary classifiers (they run in train mode only)."""
        return bool(getattr(self.config, "aux_logits", False))

    def scaled(self, channels: int) -> int:
        """A printed width divided by ``config.width_divisor``, at least ``config.min_channels``
        (:func:`~inception_lab.shapes.scale_width`)."""
        return scale_width(channels, self.config.width_divisor, self.config.min_channels)

    def main_path(self) -> Iterator[tuple[str, nn.Module]]:
        """The stages in forward order, up to the global average pool (what the shape walk follows)."""
        off_path = self.AUX_HEADS + self.HEAD
        for name, child in self.named_children():
            if name not in off_path:
                yield name, child

    def stage_shapes(self, height: int, width: int) -> dict[str, tuple[int, int, int]]:
        """(channels, height, width) after every stage for an input of ``height x width``, without running it.

        Raises:
            ValueError: if the input is too small, naming the first stage whose output would be empty.
        """
        return {name: shape.chw for name, shape in shape_walk.stage_shapes(self, height, width).items()}

    @property
    def min_input_size(self) -> int:
        """Smallest square input side the network accepts (every stage keeps an output position)."""
        return shape_walk.min_input_size(self)

    def check_input(self, x: torch.Tensor) -> None:
        """A clear ``ValueError`` for a wrong shape or an input too small (the shape walk, once per input size)."""
        check_image_batch(x, self.in_channels, type(self).__name__)
        size = (int(x.shape[-2]), int(x.shape[-1]))
        if size not in self._sizes_checked:
            self.stage_shapes(*size)
            self._sizes_checked.add(size)

    @contextmanager
    def _checked(self, x: torch.Tensor) -> Iterator[None]:
        """Check ``x`` once; inside the block the modules skip their own checks (:func:`network_input_checked`)."""
        self.check_input(x)
        with network_input_checked():
            yield

    def _trunk(self, x: torch.Tensor, aux: list[torch.Tensor] | None) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define _trunk(x, aux)")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and Inception modules: the last feature map before pooling (auxiliary heads not run)."""
        with self._checked(x):
            return self._trunk(x, None)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Global average pooling, dropout and the classifier: features -> (N, num_classes) logits."""
        x = self.avgpool(features)  # N x C x 1 x 1
        if self.DROPOUT_BEFORE_FLATTEN:
            return self.fc(torch.flatten(self.dropout(x), 1))  # N x num_classes
        return self.fc(self.dropout(torch.flatten(x, 1)))  # N x num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor | AuxOutputs:
        """Logits in eval mode; :class:`~inception_lab.nn.losses.AuxOutputs` in train mode with auxiliary heads.

        The auxiliary heads run only in train mode: "At inference time, these auxiliary networks are discarded"
        [GoogLeNet, §5].
        """
        aux: list[torch.Tensor] | None = [] if self.training and self.aux_logits else None
        with self._checked(x):
            features = self._trunk(x, aux)
        logits = self.forward_head(features)
        return AuxOutputs(logits, tuple(aux)) if aux else logits
