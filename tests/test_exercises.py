"""Every numeric exercise checker: the right answer is confirmed, each typical mistake gets its own hint."""

import pytest

from inception_lab.exercises import batchnorm as e3
from inception_lab.exercises import googlenet as e2
from inception_lab.exercises import inception_module as e1

# (checker, right answer, a typical wrong answer, words its hint must contain). The right answers are our count,
# worked out by hand from the papers' widths and typed in (regression only); the checkers compute them from the library.
CASES = [
    # chapter 1
    (e1.naive_out_channels, 672, 416, "pooling branch"),
    (e1.naive_out_channels, 672, 256, "only the pooling branch"),
    (e1.branch3_macs, 12_443_648, 10_035_200, "5x5 convolution alone"),
    (e1.branch3_macs, 12_443_648, 120_422_400, "without"),
    (e1.branch3_macs, 12_443_648, 24_887_296, "FLOPs"),
    (e1.pool_proj, 32, 48, "outputs 272 channels"),
    (e1.large_kernel_share, 0.667, 288 / 528, "3x3 branch alone"),
    (e1.large_kernel_share, 0.667, 66.7, "not a percentage"),
    (e1.large_kernel_share, 0.667, (288 + 64 + 144 + 32) / 528, "do not reach the concatenation"),
    # chapter 2
    (e2.out_channels, 832, 1024, "all six columns"),
    (e2.out_channels, 832, 704, "pooling branch"),
    (e2.out_channels, 832, 576, "branch *outputs*"),
    (e2.aux_head_macs, 4_169_728, 3_145_728, "last linear layer"),
    (e2.aux_head_macs, 4_169_728, 15_966_208, "after the 5x5/3 average pooling"),
    (e2.aux_head_macs, 4_169_728, 8_339_456, "FLOPs"),
    (e2.training_only_params, 6_379_728, 3_188_840, "(4a) alone"),
    (e2.training_only_params, 6_379_728, 6_377_680, "528 channels"),
    (e2.kernel_saving, 12_845_056, 20_070_400, "whole 5x5 convolution"),
    (e2.kernel_saving, 12_845_056, 25_690_112, "FLOPs"),
    # chapter 3
    (e3.bn_params_3a, 960, 480, "one per normalised channel"),
    (e3.bn_params_3a, 960, 1920, "buffers"),
    (e3.bn_params_3a, 960, 512, "only the 256 output channels"),
    (e3.bn_params_3a, 960, 900, "reductions included"),
    (e3.running_mean, 0.58, 3.78, "Keras"),
    (e3.running_mean, 0.58, 3.0, "plain average"),
    (e3.running_mean, 0.58, 0.4, "last batch alone"),
    (e3.running_mean, 0.58, 0.6, "forgot to decay"),
    (e3.running_mean, 0.58, 0.7, "once per batch"),
    (e3.output_channels_4e, 1056, 1024, "printed value"),
    (e3.output_channels_4e, 1056, 448, "pass through"),
    (e3.output_channels_4e, 1056, 768, "Reductions are not concatenated"),
    (e3.output_channels_4e, 1056, 1000, "4d's own columns"),
]


@pytest.mark.parametrize("checker, right, wrong, hint", CASES)
def test_checkers_confirm_right_and_hint_wrong_answers(checker, right, wrong, hint):
    good, bad = checker(right), checker(wrong)
    assert good.correct and str(good).startswith("Correct!")
    assert not bad.correct and hint in str(bad)
    assert "fdecea" in bad._repr_html_() and "e6f4ea" in good._repr_html_()


@pytest.mark.parametrize("checker", sorted({case[0] for case in CASES}, key=lambda f: f.__name__))
def test_checkers_reject_non_numbers_and_near_misses(checker):
    right = next(case[1] for case in CASES if case[0] is checker)
    for answer in (None, "42", True):
        feedback = checker(answer)
        assert not feedback.correct and "should be a number" in str(feedback)
    assert not checker(right + 1).correct
