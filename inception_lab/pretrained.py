"""Small trained weights shipped with the library: the mini GoogLeNet trained on the synthetic shapes.

``inception_lab/weights/mini_googlenet.pt`` holds the ``state_dict`` of a :func:`~inception_lab.googlenet.mini_googlenet`
trained on :func:`~inception_lab.data.make_shapes_dataset` images by ``scripts/train_mini_weights.py`` (CPU, fixed seed);
``mini_googlenet.json`` next to it records how: the builder and its options, the data settings, the seed, the
epochs, the test accuracy, the torch version and the date. Chapters 1 and 2 use them to show learned feature maps
without training first.

Regenerate both files with ``python scripts/train_mini_weights.py`` (a few minutes on a laptop CPU).
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import torch

from inception_lab.data import ShapesDataset, make_shapes_dataset
from inception_lab.googlenet import GoogLeNet
from inception_lab.models import build_model
from inception_lab.runtime import pick_device

#: Folder of the shipped weights (package data, see ``pyproject.toml``).
WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / "weights"
#: The mini GoogLeNet's ``state_dict`` (load with ``torch.load(..., weights_only=True)``).
MINI_GOOGLENET_WEIGHTS = WEIGHTS_DIR / "mini_googlenet.pt"
#: How those weights were made (JSON, written by ``scripts/train_mini_weights.py``).
MINI_GOOGLENET_METADATA = WEIGHTS_DIR / "mini_googlenet.json"

_REGENERATE = "Regenerate it from the repository root with: python scripts/train_mini_weights.py"


def mini_googlenet_metadata() -> dict[str, Any]:
    """The record of how the shipped mini GoogLeNet was trained (the parsed ``mini_googlenet.json``).

    Keys: ``model`` (preset name and builder ``options``), ``data`` (the
    :func:`~inception_lab.data.make_shapes_dataset` settings and the train/test sizes), ``training`` (seed,
    optimiser, learning rate, epochs, batch size), ``results`` (test accuracy and loss, training time),
    ``torch_version``, ``date``, ``command``.

    Raises:
        FileNotFoundError: if the file is missing (the message says how to regenerate it).
    """
    if not MINI_GOOGLENET_METADATA.is_file():
        raise FileNotFoundError(f"the mini GoogLeNet metadata file {MINI_GOOGLENET_METADATA} is missing. "
                                f"{_REGENERATE}")
    return json.loads(MINI_GOOGLENET_METADATA.read_text())


def load_mini_googlenet(device: str | torch.device | None = None) -> GoogLeNet:
    """The mini GoogLeNet with the shipped trained weights, in eval mode.

    The model is built with the preset and options recorded in :func:`mini_googlenet_metadata` and its
    ``state_dict`` is loaded strictly with ``torch.load(..., weights_only=True)`` (plain tensors only, no pickled
    code). It expects 32x32 images normalised like :func:`~inception_lab.data.make_shapes_dataset` makes them
    (:data:`~inception_lab.data.SHAPES_MEAN` / :data:`~inception_lab.data.SHAPES_STD`); any size from 16 px up runs.

    Args:
        device: where to put the model; ``None`` picks one with :func:`~inception_lab.runtime.pick_device`.

    Raises:
        FileNotFoundError: if the weights or their metadata are missing (the message says how to regenerate them).
    """
    meta = mini_googlenet_metadata()
    if not MINI_GOOGLENET_WEIGHTS.is_file():
        raise FileNotFoundError(f"the mini GoogLeNet weights file {MINI_GOOGLENET_WEIGHTS} is missing. {_REGENERATE}")
    model = build_model(meta["model"]["name"], **meta["model"]["options"])
    state_dict = torch.load(MINI_GOOGLENET_WEIGHTS, map_location="cpu", weights_only=True)
    model.load_state_dict(state_dict, strict=True)
    device = pick_device() if device is None else torch.device(device)
    return model.to(device).eval()


def mini_googlenet_test_set(n: int = 1000) -> ShapesDataset:
    """``n`` synthetic test images made with the recorded data settings (seed, size, clutter, noise).

    With ``n`` equal to the recorded test size (``mini_googlenet_metadata()["data"]["n_test"]``) these are exactly
    the images the shipped weights were scored on; other ``n`` give other images of the same distribution. The
    test split never overlaps the training images.
    """
    settings = mini_googlenet_metadata()["data"]
    return make_shapes_dataset(n, settings["image_size"], settings["seed"], split="test",
                               clutter=settings["clutter"], noise=settings["noise"])
