"""Chapter 2's library pieces: the feature-map explorer (the shipped weights: tests/test_pretrained.py)."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from inception_lab import data  # noqa: E402
from inception_lab.experiments.features import branch_offsets, capture_layer_maps, feature_map_layers  # noqa: E402
from inception_lab.models.googlenet import mini_googlenet  # noqa: E402
from inception_lab.viz.feature_maps import describe_selection, plot_feature_map_selection  # noqa: E402
from inception_lab.widgets.feature_maps import FeatureMapExplorer, branch_options  # noqa: E402

# ---------------------------------------------------------------------------------------------------------
# Feature-map explorer
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return mini_googlenet(aux_logits=True).eval()


@pytest.fixture(scope="module")
def images():
    return data.make_shapes_dataset(4, seed=0, split="test")


def test_layers_and_branches(small_model):
    layers = feature_map_layers(small_model)
    assert layers[:3] == ["conv1", "conv2", "conv3"] and layers[3] == "inception3a" and layers[-1] == "inception5b"
    assert not any(name.startswith("aux") for name in layers)
    offsets = branch_offsets(small_model, "inception3a")
    widths = small_model.inception3a.branch_channels
    assert offsets["output"] == (0, sum(widths.values()))
    assert offsets["branch2"] == (widths["branch1"], widths["branch2"])
    assert branch_offsets(small_model, "conv1") == {"output": (0, small_model.conv1.conv.out_channels)}
    labels = [label for label, _ in branch_options(small_model, "inception4a")]
    assert labels[2] == f"1x1 -> 3x3 ({small_model.inception4a.branch_channels['branch2']} ch)"


def test_captured_maps_match_the_modules(small_model, images):
    maps = capture_layer_maps(small_model, images.images[0])
    x = images.images[:1]
    with torch.no_grad():
        stem = small_model.maxpool1(small_model.conv1(x))
        expected = small_model.conv3(small_model.conv2(stem))
    torch.testing.assert_close(maps["conv3"]["output"], expected[0])
    branches = maps["inception3a"]
    torch.testing.assert_close(torch.cat([branches[f"branch{i}"] for i in range(1, 5)]), branches["output"])
    assert maps["inception5b"]["output"].shape == (128, 2, 2)
    assert not small_model.training  # mode restored
    with pytest.raises(ValueError, match="shape"):
        capture_layer_maps(small_model, images.images)


def test_explorer_driven_programmatically(small_model, images):
    explorer = FeatureMapExplorer(small_model, images.images, images.labels, images.class_names)
    assert explorer.values() == dict(image=0, layer="inception3a", branch="output", channel=0)
    assert explorer.channel.max == small_model.inception3a.out_channels - 1
    explorer.layer.value = "inception4a"
    explorer.branch.value = "branch3"
    start, channels = branch_offsets(small_model, "inception4a")["branch3"]
    assert explorer.channel.max == channels - 1
    explorer.channel.value = 2
    assert f"channel {start + 2} of the concatenated output" in explorer.readout.value
    selected = capture_layer_maps(small_model, images.images[0])["inception4a"]["branch3"][2]
    shown = explorer.figure.axes[1].images[0].get_array()
    assert shown.shape == (4, 4) and torch.allclose(torch.as_tensor(shown.data), selected)
    # a layer without branches falls back to the whole output, and the channel is clamped to its range
    explorer.layer.value = "conv1"
    assert explorer.values()["branch"] == "output" and explorer.channel.max == small_model.conv1.conv.out_channels - 1
    explorer.layer.value = "inception4a"
    explorer.branch.value = "branch3"
    explorer.channel.value = channels - 1
    explorer.layer.value = "inception5b"  # keeps branch3; its width differs
    assert explorer.values()["branch"] == "branch3"
    assert explorer.channel.value <= explorer.channel.max
    explorer.image.value = 3
    assert set(explorer._cache) == {0, 3}
    assert images.class_names[images.labels[3]] in explorer.image.label


def test_explorer_rejects_bad_settings(small_model, images):
    with pytest.raises(ValueError, match="unknown layer"):
        FeatureMapExplorer(small_model, images.images, layer="inception9z")
    with pytest.raises(ValueError, match="channel must be between"):
        FeatureMapExplorer(small_model, images.images, branch="branch3", channel=500)
    with pytest.raises(ValueError, match="images must be"):
        FeatureMapExplorer(small_model, images.images[0])
    with pytest.raises(ValueError, match="one class index per image"):
        FeatureMapExplorer(small_model, images.images, images.labels[:2], images.class_names)


def test_static_twin(small_model, images):
    maps = capture_layer_maps(small_model, images.images[1])
    fig = plot_feature_map_selection(data.denormalize_shapes(images.images[1]), maps, "inception3a", "branch2", 1)
    n = maps["inception3a"]["branch2"].shape[0]
    tiles = [ax for ax in fig.axes[3:] if ax.images]
    assert len(tiles) == n
    framed = [ax for ax in tiles if ax.spines["top"].get_visible()]
    assert framed == [tiles[1]]
    text = describe_selection(small_model, maps, "inception3a", "branch2", 1)
    assert "1x1 -> 3x3" in text and f"of {n}" in text
    with pytest.raises(ValueError, match="no branch"):
        describe_selection(small_model, maps, "conv1", "branch2", 0)
    with pytest.raises(ValueError, match="channel must be between"):
        plot_feature_map_selection(images.images[1], maps, "inception3a", "branch2", n)
