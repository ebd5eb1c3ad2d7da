"""Data for the command line beyond chapter 2's shapes: folders of class folders, and synthetic images.

:func:`imagefolder` reads ``PATH/<class>/<image>`` (ImageNet as it is usually unpacked) through torchvision;
:func:`synthetic_images` makes random 299-px batches for throughput measurements. The shapes and CIFAR-10 are in
:mod:`inception_lab.data`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import Dataset, TensorDataset

from inception_lab.checks import check_positive_int
from inception_lab.runtime import effective_seed

#: ImageNet's channel statistics (pixels in [0, 1]), the usual normalisation for photographs in folders.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagefolder(root: str | os.PathLike[str], image_size: int, augment: bool = False) -> Dataset:
    """Images in one sub-folder per class (``root/<class>/<image>``), through ``torchvision.datasets.ImageFolder``.

    Each image is resized to ``image_size`` x ``image_size``; with ``augment``, flipped left-right at random (from
    torch's global generator, whose state a checkpoint keeps). Pixels are normalised with ImageNet's statistics.

    Raises:
        FileNotFoundError: ``root`` is not a folder, or holds no class folder with images (the message says which).
        ImportError: torchvision is not installed.
    """
    check_positive_int("image_size", image_size)
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"data folder {root!r} does not exist; --data imagefolder:PATH needs PATH/<class>/"
                                f"<image> files (one sub-folder per class).")
    try:
        import torchvision
        import torchvision.transforms
    except ImportError as error:
        raise ImportError("--data imagefolder:PATH needs torchvision, which is not installed: "
                          "pip install torchvision") from error
    transforms = torchvision.transforms
    steps: list[Callable[[Any], Any]] = [transforms.Resize((image_size, image_size))]
    if augment:
        steps.append(transforms.RandomHorizontalFlip())
    steps += [transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    try:
        return torchvision.datasets.ImageFolder(root, transform=transforms.Compose(steps))
    except FileNotFoundError as error:  # "Couldn't find any class folder" / "Found no valid file"
        raise FileNotFoundError(f"no images found under {root!r} ({error}); expected one sub-folder per class, "
                                f"each holding .png/.jpg files.") from error


def synthetic_images(n: int, image_size: int, num_classes: int = 1000, seed: int = 0) -> TensorDataset:
    """``n`` seeded random images with random labels: a stand-in for ImageNet when only throughput matters.

    Standard-normal pixels, (n, 3, S, S) float32; labels uniform in ``range(num_classes)``. Nothing here can be
    learned; it measures how fast a network trains, not how well.
    """
    check_positive_int("n", n)
    check_positive_int("image_size", image_size)
    check_positive_int("num_classes", num_classes)
    gen = torch.Generator().manual_seed(effective_seed(seed))
    images = torch.randn((n, 3, image_size, image_size), generator=gen)
    return TensorDataset(images, torch.randint(0, num_classes, (n,), generator=gen))
