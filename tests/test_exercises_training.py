"""Chapter 8's exercise checkers: the right answer is confirmed, each typical mistake gets its own hint."""

import math

import pytest

from inception_lab.exercises import training as ex

LR, G = 0.045, 0.1
CASES = [  # (checker, right answer, a typical wrong answer, words its hint must contain)
    (ex.rate_after_epochs, LR * 0.94**4, LR * 0.94**4.5, "staircase"),
    (ex.rate_after_epochs, LR * 0.94**4, LR * 0.94**9, "every epoch"),
    (ex.rate_after_epochs, LR * 0.94**4, LR * 0.94**5, "One decay too many"),
    (ex.first_rmsprop_step, LR * G / math.sqrt(0.9 + 0.1 * G * G + 1), LR * G / (math.sqrt(0.1) * G + 1),
     "torch.optim.RMSprop"),
    (ex.first_rmsprop_step, LR * G / math.sqrt(0.9 + 0.1 * G * G + 1), LR * G / math.sqrt(0.1 * G * G + 1),
     "starts at 1"),
    (ex.first_rmsprop_step, LR * G / math.sqrt(0.9 + 0.1 * G * G + 1), LR * G, "plain SGD"),
    (ex.updates_for_100_epochs, 1_281_167 * 100 / 32, 1_281_167 * 100 / 1600, "asynchronous"),
    (ex.updates_for_100_epochs, 1_281_167 * 100 / 32, 1_281_167 / 32, "one epoch"),
]


@pytest.mark.parametrize("checker, right, wrong, hint", CASES)
def test_checker(checker, right, wrong, hint):
    assert checker(right).correct
    feedback = checker(wrong)
    assert not feedback.correct and hint in feedback.message
    assert not checker("0.1").correct


def test_conceptual_exercise():
    assert ex.why_two_processes_differ("b").correct and ex.why_two_processes_differ(" B ").correct
    for wrong in "acd":
        feedback = ex.why_two_processes_differ(wrong)
        assert not feedback.correct and len(feedback.message) > 40
    assert "one letter" in ex.why_two_processes_differ("e").message
