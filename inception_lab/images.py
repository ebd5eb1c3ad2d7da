"""The book's sample photo (no downloads): matplotlib ships ``grace_hopper.jpg`` in its sample data.

Images are normalised with the ImageNet channel statistics that torchvision's pretrained models expect, so
the same tensor can be fed to our models and, on Colab, to pretrained weights.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import cbook
from matplotlib import image as mpimg

from inception_lab.checks import check_positive_int

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_sample_image(size: int = 224, normalize: bool = True) -> torch.Tensor:
    """Grace Hopper's portrait as a (3, size, size) float tensor: centre-cropped square, resized, normalised.

    Args:
        size: output height and width in pixels.
        normalize: subtract ImageNet's mean and divide by its std per channel (else values lie in [0, 1]).
    """
    check_positive_int("size", size)
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        pixels = np.asarray(mpimg.imread(f, format="jpg"))
    image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255.0  # 3 x H x W in [0, 1]
    _, h, w = image.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    image = image[:, top:top + side, left:left + side]
    image = F.interpolate(image[None], size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False)[0].clamp(0, 1)
    return normalize_image(image) if normalize else image


def normalize_image(image: torch.Tensor) -> torch.Tensor:
    """(x - mean) / std per channel with ImageNet statistics; ``image`` is (3, H, W) or (N, 3, H, W) in [0, 1]."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=image.dtype, device=image.device).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=image.dtype, device=image.device).view(3, 1, 1)
    if image.dim() not in (3, 4) or image.shape[-3] != 3:
        raise ValueError(f"expected an RGB image of shape (3, H, W) or (N, 3, H, W), got {tuple(image.shape)}.")
    return (image - mean) / std


def denormalize_image(image: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`normalize_image`, clipped to [0, 1] for display."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=image.dtype, device=image.device).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=image.dtype, device=image.device).view(3, 1, 1)
    return (image * std + mean).clamp(0, 1)
