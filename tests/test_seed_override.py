"""INCEPTION_LAB_SEED: one variable runs a whole notebook with another seed, and changes nothing when unset."""

import pytest
import torch

from inception_lab import data, runtime, train


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv(runtime.SEED_ENV, raising=False)


def tiny_run():
    """What a chapter does: data, loaders, a seeded model, fit; returns everything that depends on the seed."""
    train_set = data.make_shapes_dataset(64, seed=0, split="train", num_classes=4, clutter=0)
    test_set = data.make_shapes_dataset(32, seed=0, split="test", num_classes=4, clutter=0)
    train_loader, _ = data.loaders(train_set, test_set, batch_size=16, seed=0)
    runtime.seed_everything(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(3 * 32 * 32, 4))
    initial = model[2].weight.detach().clone()
    first_batch = next(iter(train_loader))[1]
    history, receipt = train.fit(model, train_loader, epochs=1, lr=0.01, seed=0, device="cpu", progress=False)
    return dict(images=train_set.images, test_images=test_set.images, initial=initial, first_batch=first_batch,
                losses=torch.tensor(history.step_loss), seed=receipt.seed)


def test_unset_empty_and_zero_change_nothing(monkeypatch):
    reference = tiny_run()
    assert reference["seed"] == 0
    for value in ("", "0"):
        monkeypatch.setenv(runtime.SEED_ENV, value)
        again = tiny_run()
        assert all(torch.equal(reference[k], again[k]) for k in ("images", "initial", "first_batch", "losses"))


def test_override_changes_data_weights_batches_and_training(monkeypatch):
    reference = tiny_run()
    monkeypatch.setenv(runtime.SEED_ENV, "1")
    other = tiny_run()
    for key in ("images", "test_images", "initial", "first_batch", "losses"):
        assert not torch.equal(reference[key], other[key]), key
    assert other["seed"] == 1  # the receipt records the seed actually used
    assert torch.equal(other["losses"], tiny_run()["losses"])  # and the other seed is reproducible too


def test_override_shifts_every_seed_and_keeps_them_distinct(monkeypatch):
    monkeypatch.setenv(runtime.SEED_ENV, "5")
    assert [runtime.effective_seed(s) for s in (0, 1, 2)] == [5, 6, 7]
    a = runtime.seed_everything(0).initial_seed()
    monkeypatch.delenv(runtime.SEED_ENV)
    assert a == runtime.seed_everything(5).initial_seed()


@pytest.mark.parametrize("value", ["-1", "one", "1.5"])
def test_invalid_override_is_rejected(monkeypatch, value):
    monkeypatch.setenv(runtime.SEED_ENV, value)
    with pytest.raises(ValueError, match="INCEPTION_LAB_SEED must be a non-negative integer"):
        runtime.seed_everything(0)
