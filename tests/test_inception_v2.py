"""Inception-v2 as [Rethinking, Table 1] outlines it, and the mini presets of v2 and v3: exact counts, shapes, errors.

CPU only, no network. One 299x299 forward pass (the count) per stem; the rest is the shape walk.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from inception_lab.cost import count
from inception_lab.experiments.family import cost_of
from inception_lab.models import PRESETS, build_model
from inception_lab.models import inception_v2 as v2
from inception_lab.nn.losses import AuxOutputs
from inception_lab.papers import rethinking
from inception_lab.shapes import scale_width

#: stem -> (params without aux, params with aux, MACs at 1x3x299x299), with the paper's Fig. 5 module A (1x1 -> 3x3)
#: at the released widths: our count, regression only (the paper gives no widths inside the modules; Table 3's
#: "Bn ops" are compared in test_gap_to_table3_is_the_widths_not_the_stem)
EXACT = {"3x3": (25_954_248, 29_280_944, 6_352_562_784), "7x7": (25_935_016, 29_261_712, 5_939_232_960)}


@pytest.mark.parametrize("stem", ["3x3", "7x7"])
def test_exact_counts(stem):
    params, params_aux, macs = EXACT[stem]
    with_aux = v2.inception_v2(stem=stem, init_weights="pytorch")
    assert sum(p.numel() for p in with_aux.parameters()) == params_aux
    model = v2.inception_v2(stem=stem, aux_logits=False, init_weights="pytorch").eval()
    report = count(model, (1, 3, 299, 299))
    assert (report.params, report.macs) == (params, macs)
    assert cost_of(model, 299).params == params and cost_of(model, 299).macs == macs  # the spec agrees
    if stem == "3x3":
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, 3, 299, 299))
        assert counter.get_total_flops() == 2 * macs


def test_stem_follows_table1_row_by_row():
    model = v2.inception_v2(init_weights="pytorch")
    shapes = model.stage_shapes(299, 299)
    stem = [shapes[n] for n in ("conv0", "conv1", "conv2", "pool0", "conv3", "conv4", "conv5")]
    # Table 1 lists each row's *input*: the output of row i is the input of row i + 1.
    inputs = [(c, h, w) for (h, w, c) in (row.input_size for row in rethinking.TABLE1[1:8])]
    assert stem == inputs
    assert [shapes[n] for n in ("Mixed_5d", "Mixed_6a", "Mixed_6f", "Mixed_7a", "Mixed_7c")] == [
        (288, 35, 35), (768, 17, 17), (768, 17, 17), (1280, 8, 8), (2048, 8, 8)]
    counts = {s["grid"]: s["modules"] for s in rethinking.STAGES.values()}
    assert counts == {35: 3, 17: len(model.grid17), 8: 2} == {35: 3, 17: 5, 8: 2}
    # the unfactorized stem lands on the same 147x147x64 map
    assert v2.inception_v2(stem="7x7", init_weights="pytorch").stage_shapes(299, 299)["conv0"] == (64, 147, 147)


def test_gap_to_table3_is_the_widths_not_the_stem():
    """Table 3: 3.8 Bn ops without, 4.8 with the factorized stem; at the released widths the stem adds 0.41 Bn."""
    rows = {r.network: r.cost_bn_ops for r in rethinking.TABLE3}
    stem_delta = EXACT["3x3"][2] - EXACT["7x7"][2]
    assert stem_delta == 413_329_824
    assert rows["Inception-v2 + Factorized 7x7"] - rows["Inception-v2"] == pytest.approx(1.0)
    assert EXACT["7x7"][2] / 1e9 > rows["Inception-v2"] + 2  # 5.94 vs 3.8: the paper's widths were narrower


def test_forward_train_mode_gives_aux_logits_and_errors_are_clear():
    model = v2.mini_inception_v2(aux_logits=True, width_divisor=16)
    out = model.train()(torch.randn(2, 3, 32, 32))
    assert isinstance(out, AuxOutputs) and out.logits.shape == (2, 10) and out.aux_logits[0].shape == (2, 10)
    with pytest.raises(ValueError, match="stem must be one of"):
        v2.InceptionV2Config(stem="5x5")
    with pytest.raises(ValueError, match="channels_7x7 needs at least one width"):
        v2.InceptionV2Config(channels_7x7=())
    with pytest.raises(ValueError, match="needs an InceptionV2Config"):
        v2.InceptionV2(v2.InceptionV2Config)
    with pytest.raises(ValueError, match="width_divisor must be a positive integer"):
        v2.mini_inception_v2(width_divisor=0)


@pytest.mark.parametrize("name", ["mini_inception_v2", "mini_inception_v3"])
@pytest.mark.parametrize("divisor", [4, 8, 16])
def test_mini_presets_scale_every_width_and_run_on_32_and_64_px(name, divisor):
    model = build_model(name, width_divisor=divisor).eval()
    assert model.num_features == scale_width(320, divisor) + 4 * scale_width(384, divisor) \
        + scale_width(192, divisor)  # module C: 320 + 768 + 768 + 192 = 2048, divided
    for size, grids in ((32, (16, 7, 3)), (64, (32, 15, 7))):
        shapes = model.stage_shapes(size, size)
        assert (shapes["Mixed_5b"][1], shapes["Mixed_6b"][1], shapes["Mixed_7c"][1]) == grids
        with torch.no_grad():
            assert model(torch.randn(1, 3, size, size)).shape == (1, 10)
    report = count(model, (1, 3, 32, 32))
    assert report.params == sum(p.numel() for p in model.parameters())
    assert cost_of(model, 32).macs == report.macs


def test_presets_are_registered():
    assert {"inception_v2", "mini_inception_v2", "mini_inception_v3"} <= set(PRESETS)
