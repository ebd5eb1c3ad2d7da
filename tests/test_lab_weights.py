"""The lab's shipped weights: small files, metadata beside them, strict loading, and the recorded accuracy."""

import hashlib
import json

import pytest
import torch

from inception_lab import data, pretrained, train
from inception_lab.experiments import budget

LAB_SHIPPED = [name for name in pretrained.shipped_presets() if name in budget.LAB_PRESETS]


def test_the_lab_ships_trained_weights_beyond_googlenet():
    assert "mini_googlenet" in LAB_SHIPPED and "mini_bn_inception" in LAB_SHIPPED


@pytest.mark.parametrize("name", LAB_SHIPPED)
def test_weights_are_small_and_described(name):
    meta = pretrained.preset_metadata(name)
    weights = pretrained.WEIGHTS_DIR / f"{name}.pt"
    assert weights.stat().st_size < 1_000_000 and meta["file"]["bytes"] == weights.stat().st_size
    assert meta["model"]["name"] == name and meta["file"]["name"] == weights.name
    assert meta["data"]["n_test"] > 0 and meta["command"].startswith("python scripts/")
    if name != "mini_googlenet":  # the lab's own: the budget options, and the file's hash
        assert meta["model"]["options"] == dict(num_classes=10, **budget.LAB_PRESETS[name])
        assert meta["file"]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert json.loads((pretrained.WEIGHTS_DIR / f"{name}.json").read_text()) == meta


@pytest.mark.parametrize("name", [n for n in LAB_SHIPPED if n != "mini_googlenet"])
def test_loaded_preset_scores_what_its_metadata_says(name):
    torch.set_num_threads(1)
    model = pretrained.load_preset(name, "cpu")
    assert not model.training
    test = pretrained.preset_test_set(name, 300)
    _, loader = data.loaders(test, test, batch_size=150)
    accuracy = train.evaluate(model, loader, device="cpu")["accuracy"]
    recorded = pretrained.preset_metadata(name)["results"]["test_accuracy"]
    assert accuracy > 0.6 and abs(accuracy - recorded) < 0.1  # 300 images: within sampling noise


def test_unknown_preset_gives_a_clear_error():
    with pytest.raises(FileNotFoundError, match="shipped presets.*train_lab_weights.py --preset mini_alexnet"):
        pretrained.load_preset("mini_alexnet", "cpu")
