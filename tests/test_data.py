"""inception_lab.data: the synthetic shapes set (shapes, determinism, balance, validation), loaders, CIFAR-10."""

from __future__ import annotations

import pickle
import sys
import urllib.error

import numpy as np
import pytest
import torch

from inception_lab import data


@pytest.fixture(scope="module")
def small() -> data.ShapesDataset:
    return data.make_shapes_dataset(100, seed=3)


def test_shapes_types_and_metadata(small: data.ShapesDataset) -> None:
    assert small.images.shape == (100, 3, 32, 32) and small.images.dtype == torch.float32
    assert small.labels.shape == (100,) and small.labels.dtype == torch.int64
    assert small.radii.shape == (100,)
    assert small.class_names == data.CLASS_NAMES and len(data.CLASS_NAMES) == 10
    image, label = small[5]  # a TensorDataset of (image, label) pairs
    assert torch.equal(image, small.images[5]) and label == small.labels[5]


def test_labels_are_balanced(small: data.ShapesDataset) -> None:
    assert torch.bincount(small.labels, minlength=10).tolist() == [10] * 10
    assert not torch.equal(small.labels[:10], torch.arange(10))  # shuffled, not in class order


def test_same_seed_bit_identical_and_other_seeds_differ(small: data.ShapesDataset) -> None:
    again = data.make_shapes_dataset(100, seed=3)
    assert torch.equal(small.images, again.images) and torch.equal(small.labels, again.labels)
    assert torch.equal(small.radii, again.radii)
    assert not torch.equal(small.images, data.make_shapes_dataset(100, seed=4).images)
    assert not torch.equal(small.images, data.make_shapes_dataset(100, seed=3, split="test").images)


def test_output_does_not_depend_on_render_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    reference = data.make_shapes_dataset(50, image_size=40, seed=1).images
    monkeypatch.setattr(data, "_CHUNK_PIXELS", 7 * 40 * 40)  # 7 images at a time: uneven chunks
    assert torch.equal(data.make_shapes_dataset(50, image_size=40, seed=1).images, reference)


def test_normalised_roughly_zero_mean_unit_std(small: data.ShapesDataset) -> None:
    assert abs(small.images.mean().item()) < 0.1
    assert 0.85 < small.images.std().item() < 1.15
    raw = data.make_shapes_dataset(100, seed=3, normalize=False).images
    assert raw.min() >= 0 and raw.max() <= 1
    torch.testing.assert_close(data.denormalize_shapes(small.images), raw)


def test_radii_follow_scale_range_and_image_size() -> None:
    ds = data.make_shapes_dataset(40, image_size=64, scale_range=(0.2, 0.3), num_classes=4)
    assert ds.images.shape == (40, 3, 64, 64)
    assert ds.radii.min() >= 0.2 * 64 - 1e-4 and ds.radii.max() <= 0.3 * 64 + 1e-4
    assert ds.class_names == data.CLASS_NAMES[:4] and set(ds.labels.tolist()) == {0, 1, 2, 3}


def test_clean_images_show_the_object_lighter_than_the_background() -> None:
    ds = data.make_shapes_dataset(20, clutter=0, noise=0.0, normalize=False, scale_range=(0.4, 0.45))
    centre = ds.images[:, :, 12:20, 12:20].mean((1, 2, 3))
    corners = ds.images[:, :, :2, :2].mean((1, 2, 3))
    assert ds.images.std() > 0.05
    disk = ds.labels == data.CLASS_NAMES.index("disk")
    assert (centre[disk] > corners[disk]).all()  # lighter-than-background polarity


def test_make_splits_and_loaders() -> None:
    train, test = data.make_splits(60, 20, seed=5)
    assert len(train) == 60 and len(test) == 20
    train_again, _ = data.make_splits(60, 30, seed=5)
    assert torch.equal(train.images, train_again.images)  # n_test does not touch the training images
    train_loader, test_loader = data.loaders(train, test, batch_size=16, seed=2)
    assert train_loader.num_workers == 0 and len(train_loader) == 4 and len(test_loader) == 2
    first = [y.tolist() for _, y in train_loader]
    again = [y.tolist() for _, y in data.loaders(train, test, batch_size=16, seed=2)[0]]
    assert first == again
    assert torch.cat([y for _, y in test_loader]).tolist() == test.labels.tolist()  # test order kept


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n must be a positive integer"),
    (dict(n=10, image_size=16), "image_size must be between 32 and 64"),
    (dict(n=10, image_size=65), "image_size must be between 32 and 64"),
    (dict(n=10, seed=-1), "seed"),
    (dict(n=10, split="val"), r"split must be one of \('train', 'test'\)"),
    (dict(n=10, num_classes=1), "num_classes must be between 2 and 10"),
    (dict(n=10, num_classes=11), "num_classes must be between 2 and 10"),
    (dict(n=10, scale_range=(0.3, 0.2)), "scale_range"),
    (dict(n=10, scale_range=(0.1, 0.6)), "scale_range"),
    (dict(n=10, clutter=-1), "clutter"),
    (dict(n=10, noise=-0.1), "noise"),
])
def test_invalid_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        data.make_shapes_dataset(**kwargs)


def test_loaders_validate_batch_size() -> None:
    train, test = data.make_splits(10, 10)
    with pytest.raises(ValueError, match="batch_size"):
        data.loaders(train, test, batch_size=0)


# --- CIFAR-10, offline -------------------------------------------------------------------------------------------

def _write_fake_cifar(root, per_batch: int = 2) -> np.ndarray:
    """A tiny cifar-10-batches-py in the real pickle format; returns the first training image (32, 32, 3)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    first = None
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        pixels = rng.integers(0, 256, size=(per_batch, 3 * 32 * 32), dtype=np.uint8)  # rows: R plane, G, B
        first = pixels[0] if first is None else first
        batch = {"batch_label": name, "data": pixels, "labels": list(range(per_batch)),
                 "filenames": [f"{name}_{i}.png" for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
            "num_cases_per_batch": per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))
    return first.reshape(3, 32, 32).transpose(1, 2, 0)


def test_cifar10_loads_a_local_copy(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cifar = pytest.importorskip("torchvision.datasets.cifar")
    first = _write_fake_cifar(tmp_path)
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)  # our fake files' MD5s differ
    train = data.cifar10(tmp_path, train=True, download=False)
    test = data.cifar10(str(tmp_path), train=False, download=False)
    assert len(train) == 10 and len(test) == 2
    assert train.classes[0] == "airplane"
    image, label = train[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32 and label == 0
    mean = torch.tensor(data.CIFAR10_MEAN).view(3, 1, 1)
    std = torch.tensor(data.CIFAR10_STD).view(3, 1, 1)
    expected = (torch.from_numpy(first.copy()).permute(2, 0, 1).float() / 255 - mean) / std
    torch.testing.assert_close(image, expected)
    augmented = data.cifar10(tmp_path, download=False, transform=data.cifar10_transform(augment=True))
    assert augmented[0][0].shape == (3, 32, 32)


def test_cifar10_download_offline_says_what_to_do(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cifar = pytest.importorskip("torchvision.datasets.cifar")

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(cifar, "download_and_extract_archive", offline)
    with pytest.raises(RuntimeError, match="No internet: download on Colab, or place cifar-10-batches-py"):
        data.cifar10(tmp_path, download=True)


def test_cifar10_missing_without_download(tmp_path) -> None:
    pytest.importorskip("torchvision")
    with pytest.raises(RuntimeError, match="not found.*download=True.*place cifar-10-batches-py"):
        data.cifar10(tmp_path, download=False)


def test_cifar10_without_torchvision(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torchvision", None)  # makes `import torchvision` fail
    with pytest.raises(ImportError, match="pip install torchvision"):
        data.cifar10(tmp_path)
