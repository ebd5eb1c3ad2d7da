"""Chapter 6's exercise checkers: right answers pass, typical mistakes get their hint."""

from __future__ import annotations

import pytest

from inception_lab.exercises import inception_v3 as ex


# Right answers: our count by hand from the released widths (regression only; 3,326,696 for the aux head is also
# torchvision's InceptionAux), typed in so that the checkers are tested against an independent value.
@pytest.mark.parametrize("checker, right, wrong_hints", [
    (ex.module_c_channels, 2048, {1280: "side by side", 1728: "448 filters", 1856: "pooling branch",
                                  3136: "does not pass"}),
    (ex.branch_7x7_macs, 149_447_680, {298_895_360: "FLOPs", 113_935_360: "1x1 reduction"}),
    (ex.aux_head_params, 3_326_696, {3_324_904: "BatchNorm", 3_325_696: "bias", 3_328_232: "BN-auxiliary",
                                     769_000: "linear layer alone"}),
    (ex.smoothed_target_of_true_class, 0.91, {0.9: "uniform part", 0.01: "other", 1.0: "one-hot"}),
])
def test_checkers(checker, right, wrong_hints):
    assert checker(right).correct
    for wrong, hint in wrong_hints.items():
        feedback = checker(wrong)
        assert not feedback.correct
        if hint:
            assert hint in feedback.message, (wrong, feedback.message)
    assert not checker(None).correct and "number" in checker(None).message


def test_optimal_logit_gap():
    import math

    assert ex.optimal_logit_gap(9.105).correct and ex.optimal_logit_gap(math.log(9001)).correct  # log(0.9001/0.0001)
    assert ex.best_logit_gap(0.1, 10) == pytest.approx(math.log(91))  # the chapter's 4.51
    for wrong, hint in {math.log(91): "K = 10", 9001: "logarithm", math.log10(9001): "log10",
                        math.log(9): "shared by all K", 12.0: "too large"}.items():
        feedback = ex.optimal_logit_gap(wrong)
        assert not feedback.correct and hint in feedback.message, (wrong, feedback.message)
    for bad in (0, 1, 1.5):
        with pytest.raises(ValueError, match="epsilon"):
            ex.best_logit_gap(bad, 10)
    with pytest.raises(ValueError, match="num_classes"):
        ex.best_logit_gap(0.1, 1)


def test_biggest_table3_step():
    # Table 3 (typed here from the paper, independently of papers/rethinking.py): 23.4 -> 23.1 -> 22.8 -> 21.6 -> 21.2
    gains = {"a": 0.3, "b": 0.3, "c": 1.2, "d": 0.4}
    for letter, gain in gains.items():
        feedback = ex.biggest_table3_step(letter)
        assert feedback.correct == (letter == "c") and f"{gain:.1f} points" in feedback.message
    assert "+1.0 Bn ops" in ex.biggest_table3_step(" C ").message
    for bad in (None, "e", 3):
        assert not ex.biggest_table3_step(bad).correct and "one letter" in ex.biggest_table3_step(bad).message
