"""Chapter 6's paper charts (Table 3 as a dot chart, the auxiliary head drawn from the built module) and the data they
read: alt text from the data, the steps of Table 3, the new rows of papers/rethinking.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from inception_lab.models import inception_v3 as v3  # noqa: E402
from inception_lab.papers import rethinking  # noqa: E402
from inception_lab.viz import paper_charts  # noqa: E402
from inception_lab.viz.display import alt_text  # noqa: E402


def test_table3_steps_and_chart():
    steps = dict(paper_charts.table3_steps())
    # Table 3 (typed from the paper): 23.4 -> 23.1 -> 22.8 -> 21.6 -> 21.2
    assert steps == {"Inception-v2 + RMSProp": 0.3, "Inception-v2 + Label Smoothing": 0.3,
                     "Inception-v2 + Factorized 7x7": 1.2, "Inception-v2 + BN-auxiliary": 0.4}
    assert [row for row, _, _ in rethinking.TABLE3_STEPS] == list(steps)
    fig = paper_charts.plot_table3(title="Table 3")
    text = alt_text(fig)
    assert "Inception-v2 + Factorized 7x7: 21.6 % at 4.8 Bn ops (-1.2 points)" in text
    assert text.count(" Bn ops") == len(rethinking.TABLE3)
    assert len(fig.axes[0].get_yticklabels()) == len(rethinking.TABLE3)
    with pytest.raises(ValueError, match="Inception-v2"):
        paper_charts.table3_steps(rethinking.TABLE3[:3])
    with pytest.raises(ValueError, match="at least one row"):
        paper_charts.plot_table3(())


@pytest.mark.parametrize("builder, has_bn", [(v3.inception_v3_paper, True), (v3.inception_v3, False)])
def test_draw_head_follows_the_built_head(builder, has_bn):
    head = builder(init_weights="pytorch").AuxLogits
    head.train()
    fig = paper_charts.draw_head(head, (768, 17, 17), title="head")
    text = alt_text(fig)
    assert "5x5/3 avg-pool (output 768 x 5 x 5)" in text and "5x5 conv, 768" in text
    assert ("BatchNorm of the FC's 768 inputs" in text) == has_bn
    assert text.endswith("fully connected 768 -> 1000 (output 1000).")
    assert head.training  # the drawing runs the head in eval mode and restores its mode


def test_resolution_and_beyond_single_crop_data():
    fields = [row.receptive_field for row in rethinking.TABLE2]
    assert fields == [79, 151, 299]
    accuracies = [row.top1_accuracy for row in rethinking.TABLE2]
    assert accuracies == sorted(accuracies) and accuracies[-1] - accuracies[0] < 2  # "quite close" (§9)
    single, *more = rethinking.BEYOND_SINGLE_CROP
    assert (single.top1, single.top5) == rethinking.STATED_TOP1_TOP5
    pairs = zip(rethinking.BEYOND_SINGLE_CROP[:-1], more, strict=True)
    assert all(a.top1 > b.top1 and a.top5 > b.top5 for a, b in pairs)  # more crops, more models: fewer errors
    assert more[-1].models == 4 and (more[-1].top1, more[-1].top5) == (17.3, 3.5)  # the abstract
    assert round(rethinking.ENSEMBLE_TOP5_CAPTION, 1) == more[-1].top5
    assert rethinking.COST_VS_BN_INCEPTION.value == rethinking.COST_VS_GOOGLENET.value == 2.5
    assert set(rethinking.AUX_FINDINGS) == {"early", "late", "lower head", "argued"}
