"""Chapter 3 exercise checkers beyond the common table in test_exercises.py: rounding, settings, code checks."""

from __future__ import annotations

import torch

from inception_lab.exercises import batchnorm as e3


def test_running_mean_accepts_float_rounding():
    assert e3.running_mean(0.1 * 4.0 + 0.9 * (0.1 * 2.0)).correct  # 0.5800000000000001 in float64
    assert e3.running_mean(0.58 + 1e-9).correct


def test_expected_values_come_from_the_library_settings(monkeypatch):
    # Change the exercise's setting: the checker's answer follows (nothing is a typed-in constant).
    monkeypatch.setitem(e3.MOMENTUM, "batch_means", (1.0, 1.0))
    assert e3.running_mean(0.19).correct  # 0.9 * 0.1 + 0.1 * 1
    monkeypatch.setitem(e3.BN_PARAMS, "row", "3b")
    assert e3.bn_params_3a(2 * (64 + 64 + 96 + 64 + 96 + 96 + 64)).correct


def _fold_right(weight, gamma, beta, mean, var, eps):
    scale = gamma / torch.sqrt(var + eps)
    return weight * scale[:, None, None, None], beta - mean * scale


def test_fold_checker():
    assert e3.fold(_fold_right).correct

    def no_eps(weight, gamma, beta, mean, var, eps):
        scale = gamma / torch.sqrt(var)
        return weight * scale[:, None, None, None], beta - mean * scale

    def no_sqrt(weight, gamma, beta, mean, var, eps):
        scale = gamma / (var + eps)
        return weight * scale[:, None, None, None], beta - mean * scale

    def bias_sign(weight, gamma, beta, mean, var, eps):
        scale = gamma / torch.sqrt(var + eps)
        return weight * scale[:, None, None, None], beta + mean * scale

    def weight_unscaled(weight, gamma, beta, mean, var, eps):
        return weight, beta - mean

    def crashes(weight, gamma, beta, mean, var, eps):
        return weight * gamma  # shapes do not broadcast

    assert "ignores eps" in str(e3.fold(no_eps))
    assert "standard deviation" in str(e3.fold(no_sqrt))
    assert "the bias is not" in str(e3.fold(bias_sign))
    assert "folded weight is wrong" in str(e3.fold(weight_unscaled))
    assert "raised RuntimeError" in str(e3.fold(crashes))
    assert "pair of tensors" in str(e3.fold(lambda *args: None))
    assert "Shapes" in str(e3.fold(lambda w, g, b, m, v, e: (w[:, :1], b)))
    assert not e3.fold(42).correct
