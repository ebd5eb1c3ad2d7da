"""inception_lab.train: a model-agnostic fit/evaluate loop; determinism, aux heads, history, receipt, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from inception_lab import train
from inception_lab.nn.losses import AuxOutputs


class TinyCNN(nn.Module):
    """Plain logits in every mode."""

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(self.drop(x.mean((2, 3))))


class TinyAux(TinyCNN):
    """AuxOutputs (main + one auxiliary head on conv1) in train mode, plain logits in eval mode."""

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__(num_classes)
        self.aux = nn.Linear(4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | AuxOutputs:
        h = torch.relu(self.conv1(x))
        logits = self.fc(self.drop(torch.relu(self.conv2(h)).mean((2, 3))))
        if self.training:
            return AuxOutputs(logits, (self.aux(h.mean((2, 3))),))
        return logits


def make_model(cls: type[nn.Module] = TinyCNN, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return cls()


@pytest.fixture(scope="module")
def datasets() -> tuple[TensorDataset, TensorDataset]:
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (48,), generator=g)
    images = torch.randn(48, 3, 12, 12, generator=g) + labels.view(-1, 1, 1, 1) * 0.5  # learnable
    return TensorDataset(images[:32], labels[:32]), TensorDataset(images[32:], labels[32:])


@pytest.fixture
def loaders(datasets) -> tuple[DataLoader, DataLoader]:
    train_set, val_set = datasets
    return (DataLoader(train_set, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0)),
            DataLoader(val_set, batch_size=8))


def quick_fit(model: nn.Module, loader: DataLoader, **overrides) -> train.FitResult:
    options = dict(epochs=1, lr=0.05, device="cpu", progress=False, seed=0)
    options.update(overrides)
    return train.fit(model, loader, **options)


@pytest.mark.parametrize("cls", [TinyCNN, TinyAux])
def test_same_seed_gives_bit_identical_history(cls, loaders) -> None:
    train_loader, val_loader = loaders
    first, _ = quick_fit(make_model(cls), train_loader, val_loader=val_loader, epochs=2)
    second, _ = quick_fit(make_model(cls), train_loader, val_loader=val_loader, epochs=2)  # loader reused
    assert first == second  # every list, exactly: fit reseeds the loader's shuffling generator
    other, _ = quick_fit(make_model(cls), train_loader, val_loader=val_loader, epochs=2, seed=1)
    assert other.step_loss != first.step_loss


def test_deterministic_with_a_loader_without_generator(datasets) -> None:
    loader = DataLoader(datasets[0], batch_size=8, shuffle=True)  # shuffles from the global RNG fit seeds
    first, _ = quick_fit(make_model(), loader)
    second, _ = quick_fit(make_model(), loader)
    assert first.step_loss == second.step_loss


def test_history_lengths_and_learning(loaders) -> None:
    train_loader, val_loader = loaders
    history, receipt = quick_fit(make_model(), train_loader, val_loader=val_loader, epochs=3, optimizer="adam",
                                 lr=0.02)
    assert len(history.train_loss) == len(history.train_acc) == len(history.val_loss) == len(history.val_acc) == 3
    assert len(history.step_loss) == 3 * len(train_loader) == receipt.steps
    assert history.train_loss == history.train_main_loss  # plain logits: no auxiliary term
    assert all(0 <= a <= 1 for a in history.train_acc + history.val_acc)
    assert history.step_loss[-1] < history.step_loss[0]
    no_val, _ = quick_fit(make_model(), train_loader)
    assert no_val.val_loss == [] and no_val.val_acc == []


def test_aux_outputs_are_weighted_into_the_loss(loaders) -> None:
    train_loader, _ = loaders
    with_aux, _ = quick_fit(make_model(TinyAux), train_loader, aux_weight=0.3)
    assert with_aux.train_loss[0] > with_aux.train_main_loss[0]  # main + 0.3 x aux
    without, _ = quick_fit(make_model(TinyAux), train_loader, aux_weight=0.0)
    assert without.train_loss == pytest.approx(without.train_main_loss)


def test_max_steps_stops_early(loaders) -> None:
    train_loader, _ = loaders  # 4 batches per epoch
    history, receipt = quick_fit(make_model(), train_loader, epochs=5, max_steps=6)
    assert receipt.steps == 6 and len(history.step_loss) == 6
    assert receipt.epochs == 2 and len(history.train_loss) == 2 and receipt.examples == 6 * 8


def test_receipt_fields_and_text(loaders) -> None:
    train_loader, val_loader = loaders
    _, receipt = quick_fit(make_model(), train_loader, val_loader=val_loader, seed=7)
    assert receipt.seed == 7 and receipt.device.startswith("cpu") and receipt.torch_version == torch.__version__
    assert receipt.amp == "off" and receipt.optimizer == "sgd" and receipt.lr == 0.05
    assert receipt.epochs == 1 and receipt.steps == 4 and receipt.examples == 32 and receipt.wall_time_s > 0
    assert set(receipt.metrics) == {"train_loss", "train_acc", "val_loss", "val_acc"}
    text = str(receipt)
    assert text.splitlines()[-1].startswith("wall time") and "seed 7" in text and "val accuracy" in text
    assert "wall time" not in receipt.format(timing=False)
    assert "device" not in receipt.format(timing=False, environment=False)


def test_amp_is_a_no_op_on_cpu(loaders) -> None:
    train_loader, _ = loaders
    plain, _ = quick_fit(make_model(), train_loader, amp=False)
    mixed, receipt = quick_fit(make_model(), train_loader, amp=True)
    assert receipt.amp == "off" and mixed == plain


def test_grad_norms_are_recorded_per_step(loaders) -> None:
    train_loader, _ = loaders
    history, receipt = quick_fit(make_model(), train_loader, grad_norm_layers=["conv1", "fc"])
    assert set(history.grad_norms) == {"conv1", "fc"}
    assert all(len(v) == receipt.steps for v in history.grad_norms.values())
    assert all(n > 0 for n in history.grad_norms["conv1"])
    with pytest.raises(ValueError, match=r"match no parameter name; top-level names: \['conv1', 'conv2', 'fc'\]"):
        quick_fit(make_model(), train_loader, grad_norm_layers=["stem"])


def test_main_loss_grad_norms_leave_out_the_aux_terms_and_change_nothing_else(loaders) -> None:
    train_loader, _ = loaders
    options = dict(grad_norm_layers=["conv1", "fc"], aux_weight=0.3)
    plain, _ = quick_fit(make_model(TinyAux), train_loader, **options)
    control, _ = quick_fit(make_model(TinyAux), train_loader, main_loss_grad_norms=True, **options)
    assert control.step_loss == plain.step_loss and control.grad_norms == plain.grad_norms  # training unchanged
    assert plain.main_grad_norms == {}
    # fc is reached by the main loss only, so both norms agree there; conv1 also gets the aux head's term.
    assert control.main_grad_norms["fc"] == pytest.approx(control.grad_norms["fc"], rel=1e-5)
    assert control.main_grad_norms["conv1"] != pytest.approx(control.grad_norms["conv1"], rel=1e-3)
    # Step 0 by hand: the main head's cross-entropy alone, from the same weights and the same first batch.
    model = make_model(TinyAux).train()
    torch.manual_seed(0)
    train_loader.generator.manual_seed(0)
    images, targets = next(iter(train_loader))
    torch.manual_seed(0)  # fit seeds everything before the first forward (dropout mask)
    main = nn.functional.cross_entropy(model(images).logits, targets)
    expected = torch.autograd.grad(main, [model.conv1.weight, model.conv1.bias])
    by_hand = torch.cat([g.flatten() for g in expected]).norm().item()
    assert control.main_grad_norms["conv1"][0] == pytest.approx(by_hand, rel=1e-5)
    # Without auxiliary heads the main loss is the whole objective.
    no_heads, _ = quick_fit(make_model(), train_loader, main_loss_grad_norms=True, grad_norm_layers=["conv1"])
    assert no_heads.main_grad_norms["conv1"] == pytest.approx(no_heads.grad_norms["conv1"], rel=1e-6)


def test_optimizer_factory(loaders) -> None:
    train_loader, _ = loaders
    _, receipt = quick_fit(make_model(), train_loader, optimizer=lambda params: torch.optim.RMSprop(params, lr=1e-3))
    assert receipt.optimizer == "RMSprop"


def test_progress_bar_writes_to_stderr(loaders, capsys) -> None:
    train_loader, _ = loaders
    quick_fit(make_model(), train_loader, progress=True)
    captured = capsys.readouterr()
    assert "training" in captured.err and captured.out == ""


@pytest.mark.parametrize("overrides, match", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(lr=0.0), "lr must be a number > 0"),
    (dict(lr=-1e-3), "lr must be a number > 0"),
    (dict(lr=None), "fit needs lr= .* or recipe="),
    (dict(optimizer="rmsprop"), r"optimizer must be one of \('momentum', 'sgd', 'rmsprop_tf'"),
    (dict(recipe="rethinking"), r"pass either recipe= or \['lr'\], not both"),
    (dict(lr=None, recipe="adamw"), "unknown recipe 'adamw'"),
    (dict(optimizer=lambda params: "not an optimizer"), "must return a torch.optim.Optimizer"),
    (dict(weight_decay=-1.0), "weight_decay"),
    (dict(aux_weight=-0.3), "aux_weight"),
    (dict(amp="yes"), "amp must be True, False or None"),
    (dict(max_steps=0), "max_steps"),
    (dict(seed=-1), "seed"),
    (dict(grad_norm_layers="conv1"), "not a string"),
    (dict(device=3), "device must be"),
    (dict(main_loss_grad_norms=True), "needs grad_norm_layers"),
    (dict(main_loss_grad_norms="yes", grad_norm_layers=["conv1"]), "main_loss_grad_norms must be True or False"),
])
def test_invalid_arguments(overrides, match, loaders) -> None:
    with pytest.raises(ValueError, match=match):
        quick_fit(make_model(), loaders[0], **overrides)


def test_evaluate_restores_each_module_mode(loaders) -> None:
    _, val_loader = loaders
    model = make_model(TinyAux)
    model.train()
    model.conv1.eval()  # a mixed state, e.g. a frozen part
    result = train.evaluate(model, val_loader, device="cpu")
    assert set(result) == {"loss", "accuracy"} and 0 <= result["accuracy"] <= 1 and result["loss"] > 0
    assert model.training and model.fc.training and not model.conv1.training
    assert all(p.grad is None for p in model.parameters())  # no gradients computed
    model.eval()
    train.evaluate(model, val_loader)
    assert not any(m.training for m in model.modules())


def test_predict_returns_main_head_logits_and_targets(loaders) -> None:
    _, val_loader = loaders
    logits, targets = train.predict(make_model(), val_loader)
    assert logits.shape == (16, 4) and targets.shape == (16,)
    assert logits.dtype == torch.float32 and logits.device.type == "cpu"