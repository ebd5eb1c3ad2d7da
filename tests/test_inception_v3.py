"""Inception-v3 [Rethinking]: exact counts, torchvision parity, the modules' channel arithmetic, the paper variants.

CPU only, no network. 299x299 forward passes are the expensive part; each configuration runs at most once.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from inception_lab.cost import count
from inception_lab.models import build_model
from inception_lab.models import inception_v3 as v3
from inception_lab.nn.losses import AuxOutputs

#: Parameters with / without the auxiliary classifier. With: torchvision metadata (Inception_V3_Weights.IMAGENET1K_V1
#: num_params, checked below when torchvision is installed); without: our count, regression only (the released
#: model minus its auxiliary head).
EXACT = {True: 27_161_264, False: 23_834_568}
MACS_299 = 5_713_216_096  # eval mode, 1x3x299x299: torchvision metadata, its published "5.713 GFLOPS"


@pytest.mark.parametrize("aux", [True, False])
def test_exact_parameter_counts(aux):
    model = v3.inception_v3(aux_logits=aux, init_weights="pytorch")
    assert sum(p.numel() for p in model.parameters()) == EXACT[aux]


def test_exact_macs_by_count_and_by_flop_counter():
    model = v3.inception_v3(aux_logits=False, init_weights="pytorch").eval()
    report = count(model, (1, 3, 299, 299))
    assert (report.params, report.macs) == (EXACT[False], MACS_299)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 299, 299))
    assert counter.get_total_flops() == 2 * MACS_299


@pytest.mark.parametrize("aux", [True, False])
def test_torchvision_state_dict_loads_strictly_and_outputs_match(aux):
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)
    theirs = models.inception_v3(weights=None, aux_logits=aux, init_weights=False, dropout=0.0).eval()
    ours = v3.inception_v3(aux_logits=aux, init_weights="pytorch", dropout=0.0).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = torch.randn(2, 3, 299 if aux else 160, 299 if aux else 160)  # the aux head needs 17x17 maps
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)
        if aux:  # train mode: the auxiliary logits too (BN uses batch statistics in both)
            out_theirs, out_ours = theirs.train()(x), ours.train()(x)
            assert isinstance(out_ours, AuxOutputs) and len(out_ours.aux_logits) == 1
            torch.testing.assert_close(out_ours.logits, out_theirs.logits, rtol=0, atol=0)
            torch.testing.assert_close(out_ours.aux_logits[0], out_theirs.aux_logits, rtol=0, atol=0)


def test_stage_shapes_follow_the_released_model():
    model = v3.inception_v3(init_weights="pytorch")
    shapes = model.stage_shapes(299, 299)
    assert shapes["Conv2d_4a_3x3"] == (192, 71, 71) and shapes["maxpool2"] == (192, 35, 35)
    assert [shapes[f"Mixed_5{c}"][0] for c in "bcd"] == [256, 288, 288]
    assert shapes["Mixed_6a"] == (768, 17, 17) and shapes["Mixed_7a"] == (1280, 8, 8)
    assert shapes["Mixed_7c"] == (2048, 8, 8) and shapes["avgpool"] == (2048, 1, 1)
    assert model.min_input_size == 75  # torchvision's weights' meta
    with pytest.raises(ValueError, match="smallest input this network accepts is 75x75"):
        model(torch.zeros(1, 3, 64, 64))


def test_module_branches_and_channel_arithmetic():
    m = v3.inception_v3(init_weights="pytorch")
    assert m.Mixed_5b.branch_channels == {"branch1x1": 64, "branch5x5": 64, "branch3x3dbl": 96, "branch_pool": 32}
    assert m.Mixed_6a.branch_channels == {"branch3x3": 384, "branch3x3dbl": 96, "branch_pool": 288}
    assert m.Mixed_7a.branch_channels == {"branch3x3": 320, "branch7x7x3": 192, "branch_pool": 768}
    assert m.Mixed_7b.branch_channels == {"branch1x1": 320, "branch3x3": 768, "branch3x3dbl": 768, "branch_pool": 192}
    assert m.Mixed_6b.branch_labels["branch7x7dbl"] == "1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7"
    assert m.Mixed_7c.branch_labels["branch3x3"] == "1x1 -> [1x3 | 3x1]"
    assert set(v3.NAMES) == {"InceptionA", "InceptionB", "InceptionC", "InceptionD", "InceptionE"}
    for cls, names in v3.NAMES.items():
        assert all(type(getattr(m, a)).__name__ == cls for a in names["attributes"])


#: inception_v3_paper() at 1x3x299x299, eval mode: the paper's Fig. 5 module A (1x1 -> 3x3 where the release has
#: 1x1 -> 5x5), Fig. 6's order and the BN-auxiliary head in the released network -- our count, regression only (the
#: arithmetic below derives it from the released counts independently).
PAPER = dict(params=27_015_344, macs=5_532_582_496)


def test_paper_variants_have_their_own_exact_counts():
    a_paper = v3.InceptionA(192, 32, five_by_five="3x3")
    a_released = v3.InceptionA(192, 32)
    # the one difference [Rethinking, Fig. 5]: branch 2's 48 -> 64 convolution is 3x3, not 5x5 (BN unchanged)
    diff = sum(p.numel() for p in a_released.parameters()) - sum(p.numel() for p in a_paper.parameters())
    assert diff == (5 * 5 - 3 * 3) * 48 * 64
    assert count(a_released.eval(), (1, 192, 35, 35)).macs - count(a_paper.eval(), (1, 192, 35, 35)).macs \
        == 35 * 35 * diff
    paper = build_model("inception_v3_paper", init_weights="pytorch").eval()
    report = count(paper, (1, 3, 299, 299))
    # three modules A, BN gamma/beta on the aux FC; Fig. 6's order (1x7 first) changes no count
    assert report.params == EXACT[True] - 3 * diff + 2 * 768 == PAPER["params"]
    assert report.macs == MACS_299 - 3 * 35 * 35 * diff == PAPER["macs"]
    assert isinstance(paper.AuxLogits.bn, torch.nn.BatchNorm1d)
    assert paper.Mixed_5b.branch_labels["branch3x3"] == "1x1 -> 3x3"
    assert paper.Mixed_6b.branch_labels["branch7x7dbl"] == "1x1 -> 1x7 -> 7x1 -> 1x7 -> 7x1"


def test_errors_say_what_is_allowed():
    with pytest.raises(ValueError, match="five_by_five must be one of"):
        v3.InceptionA(192, 32, five_by_five="7x7")
    with pytest.raises(ValueError, match="five_by_five='two_3x3' is gone"):
        v3.InceptionV3Config(five_by_five="two_3x3")
    with pytest.raises(ValueError, match="channels_7x7 must be a positive integer"):
        v3.InceptionC(768, 0)
    with pytest.raises(ValueError, match="expects input of shape \\(N, 768, H, W\\)"):
        v3.InceptionD(768)(torch.zeros(1, 3, 17, 17))
    with pytest.raises(ValueError, match="at least 267x267 pixels"):
        v3.inception_v3(init_weights="pytorch").train()(torch.zeros(2, 3, 160, 160))


def test_torchvision_metadata_anchors_the_counts():
    models = pytest.importorskip("torchvision.models")
    meta = models.Inception_V3_Weights.IMAGENET1K_V1.meta
    assert meta["num_params"] == EXACT[True] and float(meta["_ops"]) == round(MACS_299 / 1e9, 3)


def test_init_weights_takes_the_one_vocabulary():
    # the same strings as every other network; the old booleans say what is allowed
    with pytest.raises(ValueError, match="init_weights must be one of .*'tv_inception_v3'"):
        v3.inception_v3(init_weights=True)
    torch.manual_seed(0)
    model = v3.mini_inception_v3(aux_logits=True, width_divisor=16)  # "tv_inception_v3": torchvision's stds
    assert model.AuxLogits.fc.stddev == 0.001 and model.AuxLogits.conv1.conv.stddev == 0.01
    assert abs(model.Mixed_7c.branch_pool.conv.weight.std().item() - 0.1) < 0.01
    assert model.AuxLogits.fc.weight.std().item() < 0.002
    assert isinstance(v3.mini_inception_v3().AuxLogits, torch.nn.Identity)  # no aux head: an nn.Identity
