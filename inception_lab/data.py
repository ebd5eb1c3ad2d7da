"""Data for the training chapters: seeded synthetic "shapes at many scales" images, and CIFAR-10 for Colab/GPU.

Why a synthetic set? Inception's parallel 1x1 / 3x3 / 5x5 branches exist because "salient parts of the image
can have extremely large variation in size" [GoogLeNet, §4 and Fig. 2]. :func:`make_shapes_dataset` builds a
small problem with exactly that property: ten classes of shapes and textures whose class never depends on their
size, each drawn at a random scale (radius 15-45 % of the image, log-uniform), position, slight rotation and
light colour, on a darker, cluttered background (a colour gradient, distractor lines and blobs, some drawn over
the object, and pixel noise). A network must recognise the same pattern at several sizes, and ignore clutter of the same
colours and sizes. It is generated in about a second on a laptop CPU, with no downloads, and is bit-identical for
the same seed. Chapter 2 introduces it.

CIFAR-10 (:func:`cifar10`) is for readers with a GPU (Colab): the real download code through torchvision, with
clear messages when torchvision is missing or the machine is offline.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from inception_lab.checks import check_choice, check_non_negative_int, check_number, check_positive_int
from inception_lab.runtime import effective_seed

#: The classes of :func:`make_shapes_dataset`, in label order. Each is a pattern, never a size:
#: ``disk`` a filled circle; ``ring`` an annulus; ``square`` a filled square; ``frame`` a hollow square;
#: ``plus`` an upright cross; ``x`` a diagonal cross; ``triangle`` an equilateral triangle pointing up;
#: ``stripes`` a disc of three vertical stripes; ``checker`` a square 3x3 checkerboard; ``dots`` a 3x3 grid of
#: dots. Rotations stay within +/- 15 degrees, so ``plus`` and ``x`` (45 degrees apart) remain distinct.
CLASS_NAMES: tuple[str, ...] = (
    "disk", "ring", "square", "frame", "plus", "x", "triangle", "stripes", "checker", "dots",
)

#: Allowed image sizes (pixels, square images): the difficulty was calibrated on 32 and checked on 64.
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 32, 64

#: Per-channel mean and std of the raw [0, 1] pixels, measured on ``make_shapes_dataset(20000, seed=0,
#: normalize=False)`` (32 px, default settings) and rounded; used so that inputs are roughly zero-mean, unit-std.
SHAPES_MEAN = (0.33, 0.33, 0.33)
SHAPES_STD = (0.23, 0.23, 0.23)

#: CIFAR-10 training-set channel statistics (mean and std of the 50,000 training images, pixels in [0, 1]).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

_MAX_ROTATION = math.radians(15.0)  # < 22.5 degrees, so a rotated "plus" never looks like an "x"
_MIN_CONTRAST = 0.3  # least difference in mean intensity between the object and the background colour
_CHUNK_PIXELS = 2**17  # pixels per channel rendered at a time (128 images of 32x32), to stay in the CPU's cache


class ShapesDataset(TensorDataset):
    """The synthetic shapes set: a ``TensorDataset`` of ``(image, label)`` pairs with its metadata attached.

    Attributes:
        images: (N, 3, S, S) float32; normalised with :data:`SHAPES_MEAN` / :data:`SHAPES_STD` unless the set
            was made with ``normalize=False`` (then pixels lie in [0, 1]).
        labels: (N,) int64 class indices into ``class_names``.
        radii: (N,) float32 radius of each object in pixels (the scale it was drawn at), for per-size analyses.
        class_names: the names of the classes present, ``CLASS_NAMES[:num_classes]``.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, radii: torch.Tensor,
                 class_names: tuple[str, ...]) -> None:
        super().__init__(images, labels)
        self.images = images
        self.labels = labels
        self.radii = radii
        self.class_names = class_names


def _seeded_generator(seed: int, split: str) -> torch.Generator:
    """A generator for one (seed, split) stream; the train and test streams of a seed never coincide.

    ``seed`` goes through :func:`~inception_lab.runtime.effective_seed`, so ``INCEPTION_LAB_SEED`` changes the data.
    """
    seed = effective_seed(seed)
    stream = {"train": 0, "test": 1}[split]
    # SeedSequence mixes (seed, stream) into an unrelated 63-bit state, so seed 1's train set is not seed 0's test.
    state = int(np.random.SeedSequence([seed, stream]).generate_state(1, dtype=np.uint64)[0]) >> 1
    return torch.Generator().manual_seed(state)


def _uniform(gen: torch.Generator, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=gen)


def _box(u: torch.Tensor, v: torch.Tensor, half: float) -> torch.Tensor:
    """Signed (Chebyshev) distance to an axis-aligned square of half-width ``half``; negative inside."""
    return torch.maximum(u.abs(), v.abs()) - half


def _shape_distance(name: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Approximate signed distance to the shape ``name`` in object coordinates (unit = the object's radius).

    ``u`` points right and ``v`` points down; every shape fits in the unit disc, so the object's extent is its
    radius whatever the class.
    """
    if name == "disk":
        return torch.hypot(u, v) - 0.85
    if name == "ring":
        return (torch.hypot(u, v) - 0.7).abs() - 0.2
    if name == "square":
        return _box(u, v, 0.7)
    if name == "frame":
        return (torch.maximum(u.abs(), v.abs()) - 0.6).abs() - 0.15
    if name in ("plus", "x"):
        if name == "x":  # the same cross, turned by 45 degrees
            u, v = (u + v) / math.sqrt(2.0), (v - u) / math.sqrt(2.0)
        vertical = torch.maximum(u.abs() - 0.2, v.abs() - 0.9)
        horizontal = torch.maximum(u.abs() - 0.9, v.abs() - 0.2)
        return torch.minimum(vertical, horizontal)
    if name == "triangle":  # inradius 0.45, circumradius 0.9; edge normals point down, up-right and up-left
        s = math.sqrt(3.0) / 2.0
        return torch.stack([v, s * u - 0.5 * v, -s * u - 0.5 * v]).amax(0) - 0.45
    if name == "stripes":  # three bright stripes of period 0.6 inside a disc of radius 0.9
        period = 0.6
        stripe = -torch.cos(2 * math.pi * u / period) * period / (2 * math.pi)  # ~distance to a stripe edge
        return torch.maximum(torch.hypot(u, v) - 0.9, stripe)
    if name == "checker":  # 3x3 cells inside a square of half-width 0.75; the centre cell is bright
        cell = 0.5
        pattern = -torch.cos(math.pi * u / cell) * torch.cos(math.pi * v / cell) * cell / math.pi
        return torch.maximum(_box(u, v, 0.75), pattern)
    if name == "dots":  # 3x3 dots of radius 0.2 on a grid of pitch 0.6
        pitch = 0.6
        qu = u - pitch * torch.round(u / pitch).clamp(-1, 1)
        qv = v - pitch * torch.round(v / pitch).clamp(-1, 1)
        return torch.hypot(qu, qv) - 0.2
    raise ValueError(f"unknown shape {name!r}; choose one of {CLASS_NAMES}.")


def _coverage(signed_distance_px: torch.Tensor) -> torch.Tensor:
    """Anti-aliased coverage in [0, 1] from a signed distance in pixels (a one-pixel linear ramp at the edge)."""
    return (0.5 - signed_distance_px).clamp(0.0, 1.0)


def _segment_distance(x: torch.Tensor, y: torch.Tensor, ax: torch.Tensor, ay: torch.Tensor,
                      bx: torch.Tensor, by: torch.Tensor) -> torch.Tensor:
    """Distance in pixels from each pixel centre (x, y) to the segment a-b (one segment per image, broadcast)."""
    dx, dy = bx - ax, by - ay
    t = (((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy).clamp_min(1e-6)).clamp(0.0, 1.0)
    return torch.hypot(x - ax - t * dx, y - ay - t * dy)


def _paint_(canvas: torch.Tensor, alpha: torch.Tensor, colour: torch.Tensor) -> None:
    """Alpha-composite in place a flat colour (N, 3) over ``canvas`` (N, 3, S, S) with coverage ``alpha`` (N, S, S)."""
    canvas.add_(alpha[:, None] * (colour[:, :, None, None] - canvas))  # = canvas (1 - a) + colour a


class _Scene(NamedTuple):
    """Every random choice of a set of shape images (one row per image), drawn before any pixel is rendered."""

    labels: torch.Tensor  # (N,) class indices
    radius: torch.Tensor  # (N,) object radius in pixels
    cx: torch.Tensor  # (N,) object centre
    cy: torch.Tensor
    angle: torch.Tensor  # (N,) rotation in radians
    background: torch.Tensor  # (N, 3) background colour
    foreground: torch.Tensor  # (N, 3) object colour
    gradient: torch.Tensor  # (N, 3, 2) background colour change across the image in x and y
    ends: torch.Tensor  # (N, clutter, 4) distractor segment end points (a blob: both ends equal)
    half_thickness: torch.Tensor  # (N, clutter) half the line width, or the blob radius
    distractor_colour: torch.Tensor  # (N, clutter, 3)
    on_top: torch.Tensor  # (N, clutter) drawn over the object
    image_size: float


def _draw_scene(gen: torch.Generator, n: int, s: float, num_classes: int, scale_range: tuple[float, float],
                clutter: int) -> _Scene:
    """All random draws of :func:`make_shapes_dataset`, once for all N images and in a fixed order.

    Drawing everything first keeps the result independent of how the rendering is chunked.
    """
    low, high = scale_range
    labels = (torch.arange(n) % num_classes)[torch.randperm(n, generator=gen)]
    radius = s * torch.exp(_uniform(gen, (n,), math.log(low), math.log(high)))  # log-uniform: every octave alike
    margin = radius * 0.9
    cx = margin + (s - 2 * margin) * torch.rand(n, generator=gen)
    cy = margin + (s - 2 * margin) * torch.rand(n, generator=gen)
    angle = _uniform(gen, (n,), -_MAX_ROTATION, _MAX_ROTATION)
    # Fixed polarity: the object is lighter than the background. With random polarity a small network spends its
    # first epochs learning colour-inverted copies of every edge detector instead of shapes and scales.
    background = 0.5 * torch.rand((n, 3), generator=gen)  # channels in [0, 0.5]
    foreground = 0.5 + 0.5 * torch.rand((n, 3), generator=gen)  # channels in [0.5, 1]
    gradient = _uniform(gen, (n, 3, 2), -0.15, 0.15)  # per-channel change across the image, in x and y
    # Distractors: a thin line (2 endpoints) or a blob (centre and radius), a colour, and whether drawn on top.
    is_line = torch.rand((n, clutter), generator=gen) < 0.5
    ends = torch.rand((n, clutter, 4), generator=gen) * s
    blob_radius = _uniform(gen, (n, clutter), 1.0, 2.5) * (s / 32.0)
    line_width = _uniform(gen, (n, clutter), 0.8, 1.6) * (s / 32.0)
    distractor_colour = torch.rand((n, clutter, 3), generator=gen)
    on_top = torch.rand((n, clutter), generator=gen) < 1 / 3

    # Keep the object visible: lift its colour when its mean intensity is within 0.3 of the background's.
    lift = (_MIN_CONTRAST - (foreground.mean(1) - background.mean(1))).clamp_min(0)
    foreground = (foreground + lift[:, None]).clamp(0, 1)

    ends[..., 2:] = torch.where(is_line[..., None], ends[..., 2:], ends[..., :2])  # a blob ends where it starts
    half_thickness = torch.where(is_line, line_width / 2, blob_radius)
    return _Scene(labels, radius, cx, cy, angle, background, foreground, gradient, ends, half_thickness,
                  distractor_colour, on_top, s)


def _render_chunk(scene: _Scene, sl: slice, x: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The noise-free images ``sl`` of ``scene``: background, distractors behind, object, distractors on top.

    Returns:
        (M, 3, S, S) pixels in [0, 1] before noise, M = the slice's length.
    """
    s, m = scene.image_size, sl.stop - sl.start
    clutter = scene.on_top.shape[1]
    # Background: flat colour plus a linear gradient. M x 3 x S x S
    xr, yr = (x / s - 0.5)[None, None], (y / s - 0.5)[None, None]
    canvas = (scene.background[sl, :, None, None] + scene.gradient[sl, :, 0, None, None] * xr
              + scene.gradient[sl, :, 1, None, None] * yr).contiguous()

    # Distractors: a line is a thick segment, a blob a segment of length 0. clutter x M x S x S
    e = scene.ends[sl, :, :, None, None]
    clutter_alpha = _coverage(_segment_distance(x, y, e[:, :, 0], e[:, :, 1], e[:, :, 2], e[:, :, 3])
                              - scene.half_thickness[sl, :, None, None]).transpose(0, 1)
    on_top, colour = scene.on_top[sl], scene.distractor_colour[sl]
    for k in range(clutter):  # distractors behind the object
        _paint_(canvas, clutter_alpha[k] * ~on_top[:, k, None, None], colour[:, k])

    # The object, in its own rotated, radius-scaled frame: u, v = R(-angle) (p - centre) / radius.
    r = scene.radius[sl, None, None]
    dx, dy = (x - scene.cx[sl, None, None]) / r, (y - scene.cy[sl, None, None]) / r
    cos, sin = torch.cos(scene.angle[sl])[:, None, None], torch.sin(scene.angle[sl])[:, None, None]
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy
    size = x.shape[0]
    distance = torch.empty((m, size, size))
    chunk_labels = scene.labels[sl]
    for c in range(num_classes):
        idx = (chunk_labels == c).nonzero().squeeze(1)
        if idx.numel():
            distance[idx] = _shape_distance(CLASS_NAMES[c], u[idx], v[idx])
    _paint_(canvas, _coverage(distance * r), scene.foreground[sl])  # distance * radius = pixels

    for k in range(clutter):  # distractors occluding the object
        _paint_(canvas, clutter_alpha[k] * on_top[:, k, None, None], colour[:, k])
    return canvas


def make_shapes_dataset(n: int, image_size: int = 32, seed: int = 0, *, split: str = "train",
                        num_classes: int = 10, scale_range: tuple[float, float] = (0.15, 0.45),
                        clutter: int = 6, noise: float = 0.08, normalize: bool = True) -> ShapesDataset:
    """Seeded synthetic images of shapes and textures at many scales, the motivation of Inception's branches.

    Each image holds one object of class ``labels[i]`` (see :data:`CLASS_NAMES`), drawn with a random radius
    (log-uniform in ``scale_range`` times ``image_size``), position (the object stays inside the frame), rotation
    (+/- 15 degrees) and colour (always lighter than the background, by at least 0.3 in mean intensity), over a
    background of a random dark colour gradient and ``clutter`` distractors (thin lines and small blobs of any
    colour, one in three drawn over the object), plus Gaussian pixel noise. Labels are balanced (each class
    appears ``n // num_classes`` or one more times) and shuffled.

    Difficulty: ``clutter`` and ``noise`` are the knobs. The defaults were calibrated so that small networks
    differ clearly (Adam, 4000 training images, 3 epochs): a 19k-parameter plain CNN reaches roughly 40-55 % test
    accuracy, a 75k-parameter CNN with BatchNorm roughly 75 %, and none reaches 100 % after 10 epochs.
    ``clutter=3, noise=0.05`` is easier; ``clutter=0, noise=0`` leaves only the shapes.

    Args:
        n: number of images.
        image_size: height and width S in pixels, 32 to 64.
        seed: the random seed; the same (seed, split, settings) give bit-identical tensors. The environment
            variable ``INCEPTION_LAB_SEED=K`` shifts it by ``K`` (:func:`~inception_lab.runtime.effective_seed`).
        split: ``"train"`` or ``"test"``, two independent random streams, so a seed's test images are never
            its training images.
        num_classes: use the first ``num_classes`` entries of :data:`CLASS_NAMES` (2 to 10).
        scale_range: (smallest, largest) object radius as a fraction of ``image_size``, within (0, 0.5].
        clutter: number of distractors per image (0 = clean background).
        noise: standard deviation of the Gaussian pixel noise, on the [0, 1] pixel scale.
        normalize: standardise with :data:`SHAPES_MEAN` / :data:`SHAPES_STD` (else pixels lie in [0, 1]).

    Returns:
        A :class:`ShapesDataset` (a ``TensorDataset`` of ``(image, label)``) with ``images`` (N, 3, S, S) float32,
        ``labels`` (N,) int64, ``radii`` (N,) in pixels and ``class_names``.
    """
    check_positive_int("n", n)
    check_positive_int("image_size", image_size)
    if not MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE:
        raise ValueError(f"image_size must be between {MIN_IMAGE_SIZE} and {MAX_IMAGE_SIZE} pixels, got {image_size}.")
    check_non_negative_int("seed", seed)
    check_choice("split", split, ("train", "test"))
    check_positive_int("num_classes", num_classes)
    if not 2 <= num_classes <= len(CLASS_NAMES):
        raise ValueError(f"num_classes must be between 2 and {len(CLASS_NAMES)}, got {num_classes}.")
    low, high = scale_range
    if not 0 < low <= high <= 0.5:
        raise ValueError(f"scale_range must satisfy 0 < smallest <= largest <= 0.5 (a fraction of image_size), "
                         f"got {scale_range}.")
    check_non_negative_int("clutter", clutter)
    check_number("noise (a standard deviation)", noise, minimum=0, maximum=1)

    gen = _seeded_generator(seed, split)
    scene = _draw_scene(gen, n, float(image_size), num_classes, (low, high), clutter)
    coords = torch.arange(image_size, dtype=torch.float32) + 0.5  # pixel centres
    y, x = torch.meshgrid(coords, coords, indexing="ij")  # S x S each
    images = torch.randn((n, 3, image_size, image_size), generator=gen)  # pixel noise, drawn last, scaled below
    chunk = max(1, _CHUNK_PIXELS // (image_size * image_size))
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        images[sl] = (_render_chunk(scene, sl, x, y, num_classes) + noise * images[sl]).clamp(0.0, 1.0)

    if normalize:
        images = normalize_shapes(images)
    return ShapesDataset(images, scene.labels, scene.radius.float(), CLASS_NAMES[:num_classes])


def normalize_shapes(images: torch.Tensor) -> torch.Tensor:
    """(x - mean) / std per channel with :data:`SHAPES_MEAN` / :data:`SHAPES_STD`; ``images`` is (N, 3, H, W)."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"expected images of shape (N, 3, H, W), got {tuple(images.shape)}.")
    mean = torch.tensor(SHAPES_MEAN, dtype=images.dtype).view(1, 3, 1, 1)
    std = torch.tensor(SHAPES_STD, dtype=images.dtype).view(1, 3, 1, 1)
    return (images - mean) / std


def denormalize_shapes(images: torch.Tensor) -> torch.Tensor:
    """Undo :func:`normalize_shapes` and clip to [0, 1], for display; ``images`` is (3, H, W) or (N, 3, H, W)."""
    if images.dim() not in (3, 4) or images.shape[-3] != 3:
        raise ValueError(f"expected images of shape (3, H, W) or (N, 3, H, W), got {tuple(images.shape)}.")
    mean = torch.tensor(SHAPES_MEAN, dtype=images.dtype, device=images.device).view(3, 1, 1)
    std = torch.tensor(SHAPES_STD, dtype=images.dtype, device=images.device).view(3, 1, 1)
    return (images * std + mean).clamp(0.0, 1.0)


def make_splits(n_train: int = 4000, n_test: int = 1000, image_size: int = 32,
                seed: int = 0) -> tuple[ShapesDataset, ShapesDataset]:
    """The book's standard train and test sets: :func:`make_shapes_dataset` with default settings.

    The two sets come from independent streams of the same seed (``split="train"`` and ``"test"``), so changing
    ``n_test`` never changes the training images.
    """
    train = make_shapes_dataset(n_train, image_size, seed, split="train")
    test = make_shapes_dataset(n_test, image_size, seed, split="test")
    return train, test


def loaders(train: Dataset, test: Dataset, batch_size: int = 64,
            seed: int = 0) -> tuple[DataLoader, DataLoader]:
    """Seeded data loaders: the training loader shuffles with its own generator, the test loader keeps order.

    ``num_workers=0`` (the data are already tensors in memory, and workers would only add start-up time and
    non-determinism). :func:`inception_lab.train.fit` reseeds the training loader's generator with its own seed,
    so two runs with the same seed see the same batches even when they reuse one loader. ``INCEPTION_LAB_SEED``
    shifts ``seed`` (:func:`~inception_lab.runtime.effective_seed`).
    """
    check_positive_int("batch_size", batch_size)
    check_non_negative_int("seed", seed)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, num_workers=0,
                              generator=torch.Generator().manual_seed(effective_seed(seed)))
    test_loader = DataLoader(test, batch_size=batch_size, shuffle=False, num_workers=0)
    return train_loader, test_loader


def cifar10_transform(augment: bool = False) -> Callable[[Any], torch.Tensor]:
    """The usual CIFAR-10 transform: to a float tensor, normalised with :data:`CIFAR10_MEAN` / :data:`CIFAR10_STD`.

    Args:
        augment: prepend the standard light augmentation (random 32x32 crop of the image padded by 4 pixels,
            random horizontal flip), for training sets only.

    Raises:
        ImportError: if torchvision is not installed.
    """
    transforms = _import_torchvision().transforms
    steps: list[Callable[[Any], Any]] = []
    if augment:
        steps += [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()]
    steps += [transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)]
    return transforms.Compose(steps)


def _import_torchvision() -> Any:
    try:
        import torchvision
        import torchvision.transforms  # noqa: F401  (submodule used by cifar10_transform)
    except ImportError as error:
        raise ImportError("CIFAR-10 needs torchvision, which is not installed: pip install torchvision") from error
    return torchvision


def cifar10(root: str | os.PathLike[str], train: bool = True, download: bool = True,
            transform: Callable[[Any], Any] | None = None) -> Dataset:
    """CIFAR-10 through ``torchvision.datasets.CIFAR10``, for chapters run on Colab or another GPU machine.

    Args:
        root: folder that holds (or will receive) ``cifar-10-batches-py``.
        train: the 50,000 training images (else the 10,000 test images).
        download: download the archive (about 170 MB) when it is not under ``root`` yet; needs internet.
        transform: applied to each PIL image; ``None`` means :func:`cifar10_transform` without augmentation
            (a normalised (3, 32, 32) float tensor).

    Raises:
        ImportError: if torchvision is not installed ("pip install torchvision").
        RuntimeError: if the download fails (typically: no internet), or the data are missing with
            ``download=False``; the message says where to put the files.
    """
    torchvision = _import_torchvision()
    root = os.fspath(root)
    if transform is None:
        transform = cifar10_transform()
    folder = os.path.join(root, "cifar-10-batches-py")
    try:
        return torchvision.datasets.CIFAR10(root, train=train, transform=transform, download=download)
    except (OSError, RuntimeError) as error:  # urllib's URLError and socket errors are OSErrors
        if download:
            raise RuntimeError(f"could not download CIFAR-10 ({type(error).__name__}: {error}). No internet: "
                               f"download on Colab, or place cifar-10-batches-py (from "
                               f"https://www.cs.toronto.edu/~kriz/cifar.html) under {root}.") from error
        if isinstance(error, RuntimeError):  # torchvision's "Dataset not found or corrupted"
            raise RuntimeError(f"CIFAR-10 was not found (or is corrupted) in {folder}: pass download=True on a "
                               f"machine with internet (e.g. Colab), or place cifar-10-batches-py under "
                               f"{root}.") from error
        raise

