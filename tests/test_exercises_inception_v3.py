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
