"""Trained weights: the small ones shipped with the library, and torchvision's ImageNet weights where reachable.

* :func:`load_preset`, :func:`preset_metadata`, :func:`preset_test_set`, :func:`shipped_presets` -- the mini
  presets whose weights ship with the library, the mini GoogLeNet of chapters 1-2 and the lab's of chapter 7: each
  is ``inception_lab/weights/<preset>.pt`` (the ``state_dict``: plain tensors, loaded with
  ``torch.load(..., weights_only=True)``) and ``<preset>.json`` beside it, the record of how it was made (preset and
  options, data settings, seed, schedule, test accuracy, torch version, date, the file's SHA-256, the command).
* :func:`load_torchvision_weights` -- torchvision's ImageNet weights for a ``googlenet_tv()`` or an
  ``inception_v3()`` model: downloaded where the internet is reachable (Colab), read from a local file otherwise,
  a clear error if neither.

The shipped files are trained on :func:`~inception_lab.data.make_shapes_dataset` images (CPU, fixed seed) by
``python scripts/train_weights.py --preset NAME``, which holds each preset's settings.
"""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass
from typing import Any

import torch

from inception_lab.data import ShapesDataset, make_shapes_dataset
from inception_lab.models import build_model
from inception_lab.models.googlenet import GoogLeNet
from inception_lab.runtime import pick_device

#: Folder of the shipped weights (package data, see ``pyproject.toml``).
WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / "weights"


def shipped_presets() -> list[str]:
    """Presets whose trained weights ship with the library (a ``.pt`` with its ``.json`` beside it), sorted."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt") if p.with_suffix(".json").is_file())


def _regenerate(name: str) -> str:
    return f"Regenerate it from the repository root with: python scripts/train_weights.py --preset {name}"


def preset_metadata(name: str) -> dict[str, Any]:
    """The record of how the shipped weights of preset ``name`` were trained (the parsed ``<name>.json``).

    Keys: ``model`` (preset name and builder ``options``), ``data`` (the
    :func:`~inception_lab.data.make_shapes_dataset` settings and the train/test sizes), ``training`` (seed,
    optimiser, schedule, batch size), ``results`` (test accuracy and loss, training time), ``parameters``,
    ``file`` (size, SHA-256), ``torch_version``, ``date``, ``command``.

    Raises:
        FileNotFoundError: if the file is missing (the message lists the shipped presets and how to regenerate).
    """
    path = WEIGHTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no shipped weights metadata for {name!r} ({path}); shipped presets: "
                                f"{shipped_presets()}. {_regenerate(name)}")
    return json.loads(path.read_text())


def load_preset(name: str, device: str | torch.device | None = None) -> torch.nn.Module:
    """The preset ``name`` with its shipped trained weights, in eval mode.

    The model is built with the preset and options recorded in :func:`preset_metadata` and its ``state_dict`` is
    loaded strictly with ``torch.load(..., weights_only=True)`` (plain tensors only, no pickled code). It expects
    images normalised like :func:`~inception_lab.data.make_shapes_dataset` makes them
    (:data:`~inception_lab.data.SHAPES_MEAN` / :data:`~inception_lab.data.SHAPES_STD`); the recorded
    ``data.image_size`` is what it was trained on.

    Args:
        name: a preset of :func:`shipped_presets` (``"mini_googlenet"`` for chapters 1-2).
        device: where to put the model; ``None`` picks one with :func:`~inception_lab.runtime.pick_device`.

    Raises:
        FileNotFoundError: if the weights or their metadata are missing (the message says how to regenerate them).
    """
    meta = preset_metadata(name)
    weights = WEIGHTS_DIR / f"{name}.pt"
    if not weights.is_file():
        raise FileNotFoundError(f"the weights file {weights} is missing. {_regenerate(name)}")
    model = build_model(meta["model"]["name"], **meta["model"]["options"])
    state_dict = torch.load(weights, map_location="cpu", weights_only=True)
    model.load_state_dict(state_dict, strict=True)
    device = pick_device() if device is None else torch.device(device)
    return model.to(device).eval()


def preset_test_set(name: str, n: int | None = None) -> ShapesDataset:
    """``n`` synthetic test images made with the data settings recorded for preset ``name``'s weights.

    ``n=None`` (or the recorded ``n_test``) gives exactly the images the shipped weights were scored on; other
    ``n`` give other images of the same distribution. The test split never overlaps the training images.
    """
    settings = preset_metadata(name)["data"]
    return make_shapes_dataset(settings["n_test"] if n is None else n, settings["image_size"], settings["seed"],
                               split="test", clutter=settings["clutter"], noise=settings["noise"])


# ---------------------------------------------------------------------------------------------------------
# torchvision's ImageNet weights
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TorchvisionWeights:
    """Where torchvision keeps one network's ImageNet weights, and what our compatible model needs."""

    network: str  # key of TORCHVISION_WEIGHTS
    url: str  # torchvision's IMAGENET1K_V1 file
    enum: str  # the torchvision.models Weights enum that downloads it
    builder: str  # our torchvision-compatible builder
    aux_prefixes: tuple[str, ...]  # state_dict keys of the auxiliary heads
    top1: float  # torchvision's published ImageNet top-1 (%), single crop


#: torchvision's ImageNet weights for the book's torchvision-compatible presets.
TORCHVISION_WEIGHTS = {
    "googlenet": TorchvisionWeights("googlenet", "https://download.pytorch.org/models/googlenet-1378be20.pth",
                                    "GoogLeNet_Weights", "googlenet_tv", ("aux1.", "aux2."), 69.778),
    "inception_v3": TorchvisionWeights("inception_v3",
                                       "https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
                                       "Inception_V3_Weights", "inception_v3", ("AuxLogits.",), 77.294),
}
TORCHVISION_WEIGHTS_URL = TORCHVISION_WEIGHTS["googlenet"].url


def _download_torchvision_state_dict(progress: bool, network: str = "googlenet") -> dict[str, torch.Tensor]:
    """Download (or read from torch's hub cache) torchvision's ImageNet weights of ``network``."""
    import torchvision.models  # ImportError when torchvision is missing

    weights = getattr(torchvision.models, TORCHVISION_WEIGHTS[network].enum).IMAGENET1K_V1
    return weights.get_state_dict(progress=progress, check_hash=True)


def _network_of(model: torch.nn.Module) -> str | None:
    """Which torchvision network ``model`` can take the weights of (``None``: none of them)."""
    from inception_lab.models.inception_v3 import InceptionV3

    if isinstance(model, GoogLeNet) and model.num_classes == 1000 and not model.config.lrn:
        return "googlenet"
    if isinstance(model, InceptionV3) and model.num_classes == 1000 and model.config.stem == "imagenet" \
            and model.num_features == 2048:
        return "inception_v3"
    return None


def load_torchvision_weights(model: torch.nn.Module, path: str | os.PathLike[str] | None = None,
                             progress: bool = True) -> torch.nn.Module:
    """Load torchvision's ImageNet weights into a ``googlenet_tv()`` or ``inception_v3()`` model.

    GoogLeNet: 69.8 % top-1, ``googlenet-1378be20.pth``; Inception-v3: 77.3 % top-1 at 299x299,
    ``inception_v3_google-0cc3c7bd.pth`` (both single crop, torchvision's published numbers).

    Args:
        model: ``googlenet_tv(num_classes=1000)`` or ``inception_v3(num_classes=1000)`` (the released widths),
            with or without auxiliary classifiers. Its ``transform_input`` is switched on, as torchvision does
            when it loads these weights: they expect inputs scaled to [-1, 1], and the switch lets you feed the
            usual ImageNet-normalised images.
        path: a local copy of the file (for offline use). ``None`` downloads it through torchvision (or reads
            torch's hub cache).
        progress: show a download progress bar.

    GoogLeNet's auxiliary classifiers in that file were never trained ("NOT pretrained", torchvision warns);
    Inception-v3's were. Either is loaded only when ``model`` has them.

    Raises:
        ValueError: if ``model`` is neither of the two, or the file does not fit it.
        RuntimeError: if the weights cannot be obtained (no torchvision, or offline); the message says what to do.
    """
    network = _network_of(model)
    if network is None:
        raise ValueError("load_torchvision_weights needs a googlenet_tv(num_classes=1000) or an "
                         "inception_v3(num_classes=1000) model.")
    spec = TORCHVISION_WEIGHTS[network]
    if path is not None:
        if not os.path.isfile(path):
            raise ValueError(f"no weights file at {os.fspath(path)!r}; download {spec.url} there.")
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    else:
        cache = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(spec.url))
        advice = (f"Either run this where the internet is reachable (e.g. Google Colab), or download "
                  f"{spec.url} on another machine and pass its location as "
                  f"load_torchvision_weights(model, path=...) (or put it at {cache}).")
        try:
            state_dict = (_download_torchvision_state_dict(progress) if network == "googlenet" else
                          _download_torchvision_state_dict(progress, network))
        except ImportError as err:
            raise RuntimeError(f"torchvision is not installed, so its {network} weights cannot be downloaded. "
                               f"Install it (pip install torchvision), or pass path=. {advice}") from err
        except Exception as err:  # URLError, HTTPError, hash mismatch, ... : all mean "could not get the file"
            raise RuntimeError(f"could not download torchvision's {network} weights ({type(err).__name__}: "
                               f"{err}). {advice}") from err
    if not model.aux_logits:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith(spec.aux_prefixes)}
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:
        raise ValueError(f"the weights do not fit this model (build it with {spec.builder}()): {err}") from err
    model.transform_input = True
    return model
