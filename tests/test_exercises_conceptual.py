"""The conceptual exercises of chapters 1-3: the checker computes its answer with torch, and each typical
misconception gets its own hint."""

import pytest

from inception_lab.exercises import batchnorm as e3
from inception_lab.exercises import googlenet as e2
from inception_lab.exercises import inception_module as e1


def test_a_reduction_bounds_the_rank_of_the_merged_convolution():
    assert e1.merged_kernel_rank() == e1.REDUCTION_RANK["reduce"] == 16  # measured with torch, bound by the width
    assert e1.reduction_rank(16).correct
    for wrong, hint in ((32, "narrowest point"), (192, "only through the reduction"), (800, "smaller side"),
                        (176, "null"), (17, "product W2 . W1")):
        feedback = e1.reduction_rank(wrong)
        assert not feedback.correct and hint in str(feedback), wrong
    assert not e1.reduction_rank("16").correct


def test_heads_do_not_change_the_eval_function():
    assert e2.heads_change_inference() is False  # measured on a seeded mini GoogLeNet
    assert e2.same_outputs_without_heads(True).correct
    wrong = e2.same_outputs_without_heads(False)
    assert not wrong.correct and "call aux1 and aux2" in str(wrong)
    assert "True (the same outputs)" in str(e2.same_outputs_without_heads("yes"))


def test_bn_scale_invariance_needs_a_positive_scale_well_above_eps():
    assert e3.invariant_scalings() == {10.0, 0.5}
    assert e3.scale_invariance({10, 0.5}).correct and e3.scale_invariance([0.5, 10.0]).correct
    for wrong, hint in (({10, 0.5, -2}, "|a|"), ({10, 0.5, 0.001}, "eps"), ({10}, "a = 0.5"),
                        ({10, 3}, "not a candidate"), ("10", "a set of numbers"), ({True}, "a set of numbers")):
        feedback = e3.scale_invariance(wrong)
        assert not feedback.correct and hint in str(feedback), wrong


@pytest.mark.parametrize("checker", [e1.reduction_rank, e2.same_outputs_without_heads, e3.scale_invariance])
def test_unanswered_conceptual_exercises_say_not_yet(checker):
    assert str(checker(None)).startswith("Not yet.")
