"""Chapter 3 exercise checkers: right answers pass, typical wrong answers get the matching hint."""

from __future__ import annotations

import pytest
import torch

from inception_lab import exercises as ex


@pytest.mark.parametrize("checker, right, wrong, hint", [
    (ex.ch3_bn_params_3a, 960, 480, "one per normalised channel"),
    (ex.ch3_bn_params_3a, 960, 1920, "buffers"),
    (ex.ch3_bn_params_3a, 960, 512, "only the 256 output channels"),
    (ex.ch3_bn_params_3a, 960, 900, "reductions included"),
    (ex.ch3_running_mean, 0.58, 3.78, "Keras"),
    (ex.ch3_running_mean, 0.58, 3.0, "plain average"),
    (ex.ch3_running_mean, 0.58, 0.4, "last batch alone"),
    (ex.ch3_running_mean, 0.58, 0.6, "forgot to decay"),
    (ex.ch3_running_mean, 0.58, 0.7, "once per batch"),
    (ex.ch3_output_channels_4e, 1056, 1024, "printed value"),
    (ex.ch3_output_channels_4e, 1056, 448, "pass through"),
    (ex.ch3_output_channels_4e, 1056, 768, "Reductions are not concatenated"),
    (ex.ch3_output_channels_4e, 1056, 1000, "4d's own columns"),
])
def test_checkers_confirm_right_and_hint_wrong_answers(checker, right, wrong, hint):
    assert checker(right).correct
    feedback = checker(wrong)
    assert not feedback.correct
    assert hint in str(feedback)


@pytest.mark.parametrize("checker", [ex.ch3_bn_params_3a, ex.ch3_running_mean, ex.ch3_output_channels_4e])
def test_checkers_reject_non_numbers(checker):
    for answer in (None, "960", True):
        feedback = checker(answer)
        assert not feedback.correct and "should be a number" in str(feedback)


def test_running_mean_accepts_float_rounding():
    assert ex.ch3_running_mean(0.1 * 4.0 + 0.9 * (0.1 * 2.0)).correct  # 0.5800000000000001 in float64
    assert ex.ch3_running_mean(0.58 + 1e-9).correct


def test_expected_values_come_from_the_library_settings(monkeypatch):
    # Change the exercise's setting: the checker's answer follows (nothing is a typed-in constant).
    monkeypatch.setitem(ex.EX3_MOMENTUM, "batch_means", (1.0, 1.0))
    assert ex.ch3_running_mean(0.19).correct  # 0.9 * 0.1 + 0.1 * 1
    monkeypatch.setitem(ex.EX3_BN_PARAMS, "row", "3b")
    assert ex.ch3_bn_params_3a(2 * (64 + 64 + 96 + 64 + 96 + 96 + 64)).correct


def _fold_right(weight, gamma, beta, mean, var, eps):
    scale = gamma / torch.sqrt(var + eps)
    return weight * scale[:, None, None, None], beta - mean * scale


def test_fold_checker():
    assert ex.ch3_fold(_fold_right).correct

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

    assert "ignores eps" in str(ex.ch3_fold(no_eps))
    assert "standard deviation" in str(ex.ch3_fold(no_sqrt))
    assert "the bias is not" in str(ex.ch3_fold(bias_sign))
    assert "folded weight is wrong" in str(ex.ch3_fold(weight_unscaled))
    assert "raised RuntimeError" in str(ex.ch3_fold(crashes))
    assert "pair of tensors" in str(ex.ch3_fold(lambda *args: None))
    assert "Shapes" in str(ex.ch3_fold(lambda w, g, b, m, v, e: (w[:, :1], b)))
    assert not ex.ch3_fold(42).correct
