"""Feature-map capture, the sample image and the plotting helpers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from inception_lab.experiments.features import (  # noqa: E402
    capture_branches,
    capture_features,
    multi_branch,
    record_outputs,
    strongest_channels_first,
)
from inception_lab.images import denormalize_image, load_sample_image, normalize_image  # noqa: E402
from inception_lab.models import googlenet  # noqa: E402
from inception_lab.nn import layers
from inception_lab.viz import plotting


@pytest.fixture
def model():
    torch.manual_seed(0)
    return nn.Sequential(layers.ConvReLU(3, 16, 3, padding=1), googlenet.Inception(16, 4, 4, 8, 2, 4, 4)).eval()


def test_capture_branches_equal_the_concatenated_output(model):
    x = torch.randn(2, 3, 12, 12)
    maps = capture_branches(model, x, "1")
    assert list(maps) == ["branch1", "branch2", "branch3", "branch4"]
    assert torch.allclose(torch.cat(list(maps.values()), 1), model(x))
    assert multi_branch(model, "1") is model[1]
    assert model[1]._recorded is None  # recording ends with the capture


def test_capture_features_and_hooks_are_removed(model):
    x = torch.randn(1, 3, 8, 8)
    maps = capture_features(model, x, ["0", "1.branch2"])
    assert maps["0"].shape == (1, 16, 8, 8) and maps["1.branch2"].shape == (1, 8, 8, 8)
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(RuntimeError):
        with record_outputs(model, ["0"]):
            raise RuntimeError("boom")
    assert all(not m._forward_hooks for m in model.modules())


def test_strongest_channels_first():
    maps = {"a": torch.stack([torch.full((2, 2), v) for v in (1.0, 3.0, 2.0)])[None]}
    ordered = strongest_channels_first(maps)["a"]
    assert ordered.shape == (1, 3, 2, 2) and ordered[0, :, 0, 0].tolist() == [3.0, 2.0, 1.0]


def test_capture_errors(model):
    with pytest.raises(ValueError, match="unknown module name"):
        capture_features(model, torch.randn(1, 3, 8, 8), ["nope"])
    with pytest.raises(ValueError, match="not a multi-branch"):
        multi_branch(model, "0")


def test_sample_image():
    img = load_sample_image(64)
    assert img.shape == (3, 64, 64) and img.dtype == torch.float32
    raw = load_sample_image(64, normalize=False)
    assert 0 <= raw.min() and raw.max() <= 1 and raw.std() > 0.1
    assert torch.allclose(denormalize_image(normalize_image(raw)), raw, atol=1e-6)
    assert torch.equal(load_sample_image(64), img)  # deterministic
    with pytest.raises(ValueError, match="size must be a positive integer"):
        load_sample_image(0)
    with pytest.raises(ValueError, match="RGB image"):
        normalize_image(torch.zeros(1, 8, 8))


def test_plots_draw_what_they_are_given():
    maps = torch.arange(5 * 4 * 4, dtype=torch.float32).view(1, 5, 4, 4)
    fig = plotting.plot_branches({"a": maps[0, :2], "b": maps[0, 2:]}, channels=2)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["a\n(2 ch)", "b\n(3 ch)"]
    plt.close("all")


def test_plot_errors():
    with pytest.raises(ValueError, match="shape \\(C, H, W\\)"):
        plotting.plot_branches({"a": np.zeros((4, 4))})
    with pytest.raises(ValueError, match="image must have shape"):
        plotting.plot_image(np.zeros((4, 4)))
    plt.close("all")
