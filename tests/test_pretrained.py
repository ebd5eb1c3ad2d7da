"""The shipped weights and their one API (load_preset, preset_metadata, preset_test_set, shipped_presets): small
plain-tensor files, a record beside each that matches the training script's settings, strict loading, and the
recorded accuracy reproduced."""

import hashlib
import json

import pytest
import torch
from conftest import load_module

from inception_lab import data, pretrained, train
from inception_lab.models import build_model

SHIPPED = pretrained.shipped_presets()
train_weights = load_module("scripts/train_weights.py")


def test_the_book_ships_the_mini_googlenet_and_the_labs_networks():
    assert {"mini_googlenet", "mini_bn_inception", "mini_inception_v3"} <= set(SHIPPED)


def test_the_training_script_trains_every_shipped_preset_with_the_recorded_settings():
    assert set(train_weights.SHIPPED) == set(SHIPPED)
    for name, preset in train_weights.SHIPPED.items():
        meta = pretrained.preset_metadata(name)
        assert meta["model"] == dict(name=name, options=preset["options"]), name
        assert meta["data"] == dict(train_weights.DATA, n_train=preset["n_train"]), name
        training = {k: v for k, v in meta["training"].items() if k not in ("curve", "threads")}
        lr = train_weights.TRAINING["lr"]
        expected = {k: v for k, v in train_weights.TRAINING.items() if k != "lr"}
        expected["schedule"] = [dict(lr=lr, epochs=preset["epochs"]), dict(lr=lr / 10, epochs=preset["fine_epochs"])]
        assert training == expected, name
        assert meta["training"]["threads"] == 1 and len(meta["training"]["curve"]) == preset["epochs"] + preset[
            "fine_epochs"]


@pytest.mark.parametrize("name", SHIPPED)
def test_weights_are_small_plain_tensors_and_described(name):
    meta = pretrained.preset_metadata(name)
    weights = pretrained.WEIGHTS_DIR / f"{name}.pt"
    assert weights.stat().st_size < 1_000_000 and meta["file"]["bytes"] == weights.stat().st_size
    assert meta["file"]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert meta["model"]["name"] == name and meta["file"]["name"] == weights.name
    state_dict = torch.load(weights, map_location="cpu", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state_dict.values())
    assert sum(v.numel() for k, v in state_dict.items() if "running" not in k and "num_batches" not in k) == \
        meta["parameters"]
    for key in ("model", "data", "training", "results", "torch_version", "date", "command"):
        assert key in meta
    assert json.loads((pretrained.WEIGHTS_DIR / f"{name}.json").read_text()) == meta


@pytest.mark.parametrize("name", SHIPPED)
def test_loaded_preset_is_in_eval_mode_and_scores_what_its_metadata_says(name, one_cpu_thread):
    model = pretrained.load_preset(name, "cpu")
    assert not model.training and next(model.parameters()).device.type == "cpu"
    fresh = build_model(name, **pretrained.preset_metadata(name)["model"]["options"])
    assert type(fresh) is type(model) and list(fresh.state_dict()) == list(model.state_dict())
    test = pretrained.preset_test_set(name, 300)
    _, loader = data.loaders(test, test, batch_size=150)
    accuracy = train.evaluate(model, loader, device="cpu")["accuracy"]
    recorded = pretrained.preset_metadata(name)["results"]["test_accuracy"]
    assert accuracy > 0.6 and abs(accuracy - recorded) < 0.1  # chance is 0.1; 300 images: within sampling noise


def test_the_test_set_has_the_recorded_settings_and_size_by_default(tmp_path, monkeypatch):
    meta = pretrained.preset_metadata("mini_googlenet")
    meta["data"]["n_test"] = 9  # a record of a small run, so the test makes few images
    (tmp_path / "mini_googlenet.json").write_text(json.dumps(meta))
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    default, explicit = pretrained.preset_test_set("mini_googlenet"), pretrained.preset_test_set("mini_googlenet", 9)
    assert len(default) == 9 and torch.equal(default.images, explicit.images)
    assert default.images.shape[-1] == meta["data"]["image_size"]
    assert len(pretrained.preset_test_set("mini_googlenet", 4)) == 4


def test_the_script_writes_files_load_preset_reads(tmp_path, monkeypatch, one_cpu_thread):
    """A short run of scripts/train_weights.py writes a .pt and .json in the shipped format."""
    train_weights.main(["--preset", "mini_bn_inception", "--n-train", "32", "--n-test", "16", "--epochs", "1",
                        "--fine-epochs", "0", "--out-dir", str(tmp_path)])
    written = json.loads((tmp_path / "mini_bn_inception.json").read_text())
    shipped = pretrained.preset_metadata("mini_bn_inception")
    assert set(written) == set(shipped) and written["model"] == shipped["model"]
    assert written["command"].endswith("--n-train 32 --n-test 16 --epochs 1 --fine-epochs 0")
    assert written["data"] == dict(shipped["data"], n_train=32, n_test=16)
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    assert pretrained.shipped_presets() == ["mini_bn_inception"]
    model = pretrained.load_preset("mini_bn_inception", "cpu")
    assert model(pretrained.preset_test_set("mini_bn_inception", 2).images).shape == (2, 10)


def test_unknown_or_missing_weights_give_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="shipped presets.*train_weights.py --preset mini_alexnet"):
        pretrained.load_preset("mini_alexnet", "cpu")
    (tmp_path / "mini_googlenet.json").write_text((pretrained.WEIGHTS_DIR / "mini_googlenet.json").read_text())
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)  # the record without its weights
    with pytest.raises(FileNotFoundError, match="mini_googlenet.pt is missing.*train_weights.py --preset"):
        pretrained.load_preset("mini_googlenet", "cpu")
