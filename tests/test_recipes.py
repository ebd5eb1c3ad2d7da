"""The papers' recipes as data and as code: sources, schedules, TensorFlow's RMSProp, averaging, clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from inception_lab.papers.training import PAPER_RECIPES, SETTINGS
from inception_lab.train import RECIPES, RMSpropTF, TrainingRecipe, fit
from inception_lab.train.averaging import ParameterAverage, tf_ema_decay


@pytest.mark.parametrize("name", sorted(PAPER_RECIPES))
def test_every_setting_of_every_paper_recipe_is_stated_or_chosen_with_a_source(name):
    recipe = PAPER_RECIPES[name]
    assert list(recipe) == list(SETTINGS) or set(recipe) == set(SETTINGS)  # nothing is a silent default
    for key, setting in recipe.items():
        assert len(setting.source) > 10, (name, key)
        if setting.stated:
            assert "§" in setting.source and "'" in setting.source, (name, key)  # section and the paper's words
    assert set(RECIPES[name].sources) == set(SETTINGS)


# The papers' formulas, written out here: the rate after k whole epochs.
PAPER_FORMULAS = {
    "googlenet": lambda k: 0.0015 * 0.96 ** (k // 8),  # "decreasing the learning rate by 4% every 8 epochs"
    "bn_baseline": lambda k: 0.0015 * 0.96 ** (k // 8),  # Inception's rate, "decayed exponentially"
    "bn_x5": lambda k: 0.0075 * 0.96 ** math.floor(k * 6 / 8),  # 5x the rate, decayed "6 times faster"
    "bn_x30": lambda k: 0.045 * 0.96 ** math.floor(k * 6 / 8),  # 30x the rate
    "rethinking": lambda k: 0.045 * 0.94 ** (k // 2),  # "0.045, decayed every two epoch ... rate of 0.94"
    "lab_adam": lambda k: 2e-3,  # constant
}


@pytest.mark.parametrize("name", sorted(PAPER_FORMULAS))
@pytest.mark.parametrize("steps_per_epoch", [3, 7])
def test_each_recipe_rate_after_k_epochs_is_the_papers_formula(name, steps_per_epoch):
    recipe = RECIPES[name]
    optimizer = recipe.make_optimizer([nn.Parameter(torch.zeros(2))])
    scheduler = recipe.make_scheduler(optimizer, steps_per_epoch)
    for step in range(40 * steps_per_epoch + 1):
        if step % steps_per_epoch == 0:
            k = step // steps_per_epoch
            assert optimizer.param_groups[0]["lr"] == pytest.approx(PAPER_FORMULAS[name](k), rel=1e-12), (name, k)
            assert recipe.lr_after_epochs(k) == pytest.approx(PAPER_FORMULAS[name](k), rel=1e-12)
        optimizer.step()
        scheduler.step()


def tf_rmsprop_reference(theta, grads, lrs, decay, momentum, eps):
    """TensorFlow 1.x ApplyRMSProp, written out in float64: ms starts at 1, eps inside the root, lr in momentum."""
    ms, mom = np.ones_like(theta), np.zeros_like(theta)
    path = []
    for g, lr in zip(grads, lrs, strict=True):
        ms = ms + (1 - decay) * (g * g - ms)
        mom = momentum * mom + lr * g / np.sqrt(ms + eps)
        theta = theta - mom
        path.append(theta.copy())
    return path


def test_rmsprop_tf_matches_tensorflows_update_step_by_step_with_a_changing_rate():
    rng = np.random.default_rng(0)
    theta0 = rng.normal(size=5)
    grads = [rng.normal(scale=s, size=5) for s in np.geomspace(0.01, 10, 30)]  # small and large gradients
    lrs = [0.045 * 0.94 ** (t // 5) for t in range(30)]
    expected = tf_rmsprop_reference(theta0, grads, lrs, decay=0.9, momentum=0.9, eps=1.0)
    p = nn.Parameter(torch.tensor(theta0))
    opt = RMSpropTF([p], lr=lrs[0], decay=0.9, momentum=0.9, eps=1.0)
    for g, lr, want in zip(grads, lrs, expected, strict=True):
        opt.param_groups[0]["lr"] = lr
        p.grad = torch.tensor(g)
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-13, atol=1e-15)


def test_epsilon_inside_the_root_is_another_optimizer_than_torchs_rmsprop():
    g = torch.tensor([1e-3, 1.0, 30.0], dtype=torch.float64)  # a small, a unit and a large gradient
    steps = {}
    for name, make in (("tf", lambda p: RMSpropTF([p], lr=0.045, decay=0.9, momentum=0.0, eps=1.0)),
                       ("torch", lambda p: torch.optim.RMSprop([p], lr=0.045, alpha=0.9, eps=1.0))):
        p = nn.Parameter(torch.zeros(3, dtype=torch.float64))
        opt = make(p)
        p.grad = g.clone()
        opt.step()
        steps[name] = -p.detach()
    # First step from a fresh state, in closed form: TF's ms = 1 + 0.1 (g^2 - 1); torch's ms = 0.1 g^2.
    tf = 0.045 * g / torch.sqrt(0.9 + 0.1 * g**2 + 1.0)
    pt = 0.045 * g / (torch.sqrt(0.1 * g**2) + 1.0)
    torch.testing.assert_close(steps["tf"], tf)
    torch.testing.assert_close(steps["torch"], pt)
    assert steps["tf"][0] == pytest.approx(0.045 * 1e-3 / math.sqrt(1.9), rel=1e-6)  # small g: plain SGD scale
    # After many steps of the same gradient, ms -> g^2: TF steps lr g / sqrt(g^2 + 1), torch lr g / (|g| + 1).
    for name, make in (("tf", lambda p: RMSpropTF([p], lr=0.045, decay=0.9, momentum=0.0, eps=1.0)),
                       ("torch", lambda p: torch.optim.RMSprop([p], lr=0.045, alpha=0.9, eps=1.0))):
        p = nn.Parameter(torch.zeros(3, dtype=torch.float64))
        opt = make(p)
        for _ in range(400):
            before = p.detach().clone()
            p.grad = g.clone()
            opt.step()
        steps[name] = before - p.detach()
    torch.testing.assert_close(steps["tf"], 0.045 * g / torch.sqrt(g**2 + 1.0))
    torch.testing.assert_close(steps["torch"], 0.045 * g / (g.abs() + 1.0))
    assert steps["tf"][1] / steps["torch"][1] == pytest.approx(math.sqrt(2))  # g = 1: 41 % larger steps in TF


def test_ema_follows_tensorflows_decay_schedule_and_averages_batchnorm_buffers():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    average = ParameterAverage(model, "ema", decay=0.9999)
    weights = [model[0].weight.detach().clone()]
    expected = weights[0].clone()
    for n in range(5):
        with torch.no_grad():
            model[0].weight.add_(1.0)
            model[1].running_mean.add_(2.0)
        average.maybe_update(model, n + 1)
        current = model[0].weight.detach()
        if n == 0:
            expected = current.clone()  # the first update copies
        else:
            d = tf_ema_decay(0.9999, n)  # n updates before this one
            assert d == pytest.approx((1 + n) / (10 + n))
            expected = d * expected + (1 - d) * current
    torch.testing.assert_close(average.module[0].weight, expected)
    assert average.updates == 5
    assert average.module[1].running_mean.abs().sum() > 0  # buffers are averaged too (use_buffers=True)


def test_polyak_average_is_the_uniform_mean_after_its_start():
    model = nn.Linear(1, 1, bias=False)
    average = ParameterAverage(model, "polyak", start_step=2)
    values = []
    for step in range(1, 7):
        with torch.no_grad():
            model.weight.fill_(float(step))
        values.append(float(step))
        average.maybe_update(model, step)
    assert average.module.weight.item() == pytest.approx(np.mean(values[2:]))  # steps 3..6


def tiny_run(recipe, epochs=4, **options):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, 8, 8, generator=gen)
    y = (x.mean((1, 2, 3)) > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=torch.Generator())
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 2))
    return fit(model, loader, epochs=epochs, recipe=recipe, val_loader=loader, device="cpu", progress=False,
               **options)


def test_fit_with_the_rethinking_recipe_follows_its_schedule_clips_and_averages():
    recipe = RECIPES["rethinking"].replace(grad_clip_norm=0.05)  # a low threshold, so clipping happens
    history, receipt = tiny_run(recipe)
    assert history.lr == [0.045] * 8 + [0.045 * 0.94] * 8  # 4 steps per epoch, decay every 2 epochs
    assert len(history.total_grad_norm) == 16 and max(history.total_grad_norm) > 0.05
    assert len(history.val_acc_averaged) == 4 and "val_acc_averaged" in receipt.metrics
    assert receipt.recipe == "rethinking+grad_clip_norm" and receipt.optimizer == "rmsprop_tf"
    unclipped, _ = tiny_run(RECIPES["rethinking"].replace(grad_clip_norm=None))
    assert unclipped.step_loss[1] != history.step_loss[1]  # clipping changed the first update
    assert unclipped.total_grad_norm == []


def test_recipe_variants_and_errors():
    x5 = RECIPES["bn_x5"]
    assert x5.model_options() == {"dropout": 0.0} and RECIPES["rethinking"].model_options() == {}
    variant = RECIPES["rethinking"].replace(label_smoothing=0.0)
    assert variant.name == "rethinking+label_smoothing" and variant.sources["label_smoothing"].startswith("changed")
    assert TrainingRecipe.from_dict(variant.to_dict()) == variant
    with pytest.raises(ValueError, match=r"unknown recipe setting\(s\) \['lr_decay_rate'\]"):
        variant.replace(lr_decay_rate=0.9)
    with pytest.raises(ValueError, match="RMSProp needs rmsprop_decay and epsilon"):
        TrainingRecipe(name="x", optimizer="rmsprop_tf", lr=0.1)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainingRecipe(name="x", optimizer="lamb", lr=0.1)


def test_the_lab_trains_with_the_same_machinery_and_a_papers_recipe():
    from inception_lab.experiments import runner

    tiny = runner.Recipe(n_train=32, n_test=16, epochs=1, batch_size=16)
    assert tiny.training_recipe() == TrainingRecipe.constant("adam", 2e-3)  # the lab's own: Adam, constant
    results = runner.run_lab(["mini_bn_inception"], tiny, seeds=[0], device="cpu", training="bn_x5")
    run = results.runs[0]
    assert run.training == "bn_x5" and run.options["dropout"] == 0.0 and run.steps == 2  # "Remove Dropout"
    assert runner.run_lab(["mini_bn_inception"], tiny, seeds=[0], device="cpu").runs[0].training == ""
