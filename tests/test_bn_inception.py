"""BN-Inception [BN, Fig. 5]: the table as data, the network built from it, the mini preset and its BN switch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inception_lab.cost import count
from inception_lab.models import bn_inception as bi
from inception_lab.nn.layers import ConvBNReLU, ConvReLU
from inception_lab.papers import batch_normalization as bp


@pytest.fixture(scope="module")
def full():
    torch.manual_seed(0)
    return bi.bn_inception().eval()


@pytest.fixture(scope="module")
def comparison(full):
    return bp.compare_with_googlenet(full)


def test_figure5_rows_hold_the_printed_columns():
    rows = {r.name: r for r in bp.FIGURE5}
    assert [r.name for r in bp.FIGURE5_MODULES] == ["3a", "3b", "3c", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
    assert (rows["3a"].ch1x1, rows["3a"].ch3x3red, rows["3a"].ch3x3, rows["3a"].dbl3x3red, rows["3a"].dbl3x3,
            rows["3a"].pool_column) == (64, 64, 64, 64, 96, "avg + 32")
    assert rows["3c"].pool_column == "max + pass through" and rows["3c"].stride == 2 and rows["3c"].ch1x1 == 0
    assert rows["4e"].pool_column == "max + pass through" and rows["4e"].stride == 2
    assert rows["5b"].pool_column == "max + 128"
    assert rows["4d"].printed_output == (14, 14, 576) and rows["4e"].printed_output == (14, 14, 1024)


def test_output_size_table_flags_exactly_the_inconsistent_rows(full):
    table = bp.output_size_table(full)
    computed = {r.name: r.computed for r in table}
    assert [r.name for r in table if not r.matches] == ["3c", "4c", "4d", "4e"]
    assert computed["3c"] == (14, 14, 576)
    assert computed["4c"] == computed["4d"] == (14, 14, 608)
    assert computed["4e"] == (7, 7, 1056)
    assert computed["5b"] == (7, 7, 1024)
    assert {r.name: r.difference for r in table}["4e"] == "grid 7x7 (printed 14x14); channels 1056 (printed 1024)"


def test_output_size_table_agrees_with_a_forward_pass(full):
    table = {r.name: r.computed for r in bp.output_size_table(full)}
    x = torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        for name, row in [("conv1", "conv1"), ("maxpool1", "pool1"), ("conv2", None), ("conv3", "conv2"),
                          ("maxpool2", "pool2")]:
            x = getattr(full, name)(x)
            if row is not None:
                h, w, c = table[row]
                assert tuple(x.shape[1:]) == (c, h, w), row
        for row in bp.FIGURE5_MODULES:
            x = getattr(full, f"inception{row.name}")(x)
            h, w, c = table[row.name]
            assert tuple(x.shape[1:]) == (c, h, w) and full.module_channels[row.name] == c, row.name
        assert full.forward_head(x).shape == (1, 1000)


def test_params_and_macs_of_bn_inception(comparison, full):
    # Our count, regression only: the paper states 13.6M parameters [BN, §4.2], which Fig. 5's columns do not give
    # (papers/batch_normalization.py explains why); the MACs have no printed anchor.
    report = comparison.report
    bn = sum(layer.params for layer in report.layers if layer.kind == "BatchNorm2d")
    assert bn == comparison.bn_params == 20_032
    assert report.params - bn == 11_265_192  # conv + FC
    assert report.params == sum(p.numel() for p in full.parameters())
    assert report.macs == 2_032_600_064


def test_separable_first_conv_is_the_papers_star():
    model = bi.bn_inception(first_conv="separable", init_weights="pytorch").eval()
    report = count(model, (1, 3, 224, 224))
    conv1 = {layer.name: layer for layer in report.layers if layer.name.startswith("conv1")}
    assert conv1["conv1.depthwise"].params == 7 * 7 * 24  # depth multiplier 8: 3 -> 24 maps
    assert conv1["conv1.pointwise.conv"].params == 24 * 64
    assert report.params - 20_032 == 11_258_496  # our count, regression only
    assert report.macs == 1_948_605_440  # our count, regression only


def test_compare_with_googlenet(comparison, full):
    c = comparison
    assert isinstance(c, bp.CostDelta) and c.first_conv == "plain"
    assert (c.params, c.macs, c.bn_params) == (11_285_224, 2_032_600_064, 20_032)  # our count, regression only
    assert (c.googlenet_params, c.googlenet_macs) == (6_998_552, 1_582_671_872)  # our count, regression only
    # the paper (§4.2 and Fig. 5's text): 13.6M parameters, +25 % parameters and +30 % computation over GoogLeNet
    assert c.paper_params == 13_600_000 and c.paper_params_increase == 0.25 and c.paper_macs_increase == 0.30
    assert c.macs_increase == pytest.approx(2_032_600_064 / 1_582_671_872 - 1)
    assert not full.training  # counted in eval mode, returned in the mode it came in
    with pytest.raises(ValueError, match="needs the BN-Inception network"):
        bp.compare_with_googlenet("dw")
    with pytest.raises(ValueError, match="needs the BN-Inception network"):
        bp.output_size_table(nn.Linear(2, 2))


def test_compare_with_googlenet_leaves_the_mode_and_compares_like_with_like():
    model = bi.mini_bn_inception(first_conv="separable", init_weights="pytorch").train()
    c = bp.compare_with_googlenet(model)
    assert model.training and c.first_conv == "separable"
    assert c.googlenet_macs == 1_498_677_248  # Table 1's GoogLeNet with the separable first conv: our count


@pytest.mark.parametrize("first_conv", ["plain", "separable"])
def test_googlenet_cost_from_table1_matches_the_googlenet_model(first_conv):
    from inception_lab.models import googlenet
    from inception_lab.papers.going_deeper import googlenet_cost

    model = googlenet.googlenet(aux_logits=False, first_conv=first_conv, init_weights="pytorch").eval()
    report = count(model, (1, 3, 224, 224))
    assert (report.params, report.macs) == (googlenet_cost(first_conv).params, googlenet_cost(first_conv).macs)


def test_bn_before_every_nonlinearity_and_no_lrn(full):
    atoms = [m for m in full.modules() if isinstance(m, (ConvBNReLU, ConvReLU))]
    convs = [m for m in full.modules() if isinstance(m, nn.Conv2d)]
    assert all(isinstance(a, ConvBNReLU) for a in atoms) and len(atoms) == len(convs)
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in full.modules())
    assert all(m.conv.bias is None for m in atoms)  # BN's beta makes a conv bias redundant


def test_stride2_modules_have_no_1x1_branch_and_pass_pooled_input_through(full):
    for name, in_ch in [("inception3c", 320), ("inception4e", 608)]:
        module = getattr(full, name)
        assert "branch1" not in module.branch_channels
        assert isinstance(module.branch4, nn.MaxPool2d) and module.branch4.stride == 2
        assert module.branch_channels["branch4"] == in_ch
    assert isinstance(full.inception3a.branch4[0], nn.AvgPool2d)
    assert isinstance(full.inception5b.branch4[0], nn.MaxPool2d)
    assert len(full.inception3a.branch3) == 3  # 1x1 -> 3x3 -> 3x3: the "double 3x3"


def test_stage_of_row_names_the_model_stage():
    assert [bi.BNInception.stage_of_row(r) for r in ("conv1", "pool1", "conv2", "pool2", "3c", "avgpool")] == [
        "conv1", "maxpool1", "conv3", "maxpool2", "inception3c", "avgpool"]
    with pytest.raises(ValueError, match="Fig. 5 has no row '6a'"):
        bi.BNInception.stage_of_row("6a")


def test_module_checks():
    with pytest.raises(ValueError, match="no 1x1 branch"):
        bi.BNInceptionModule(64, 32, 16, 16, 16, 16, "max", None, stride=2)
    with pytest.raises(ValueError, match="pool"):
        bi.BNInceptionModule(64, 32, 16, 16, 16, 16, "median", 8)
    with pytest.raises(ValueError, match="stride"):
        bi.BNInceptionModule(64, 32, 16, 16, 16, 16, "avg", 8, stride=3)
    with pytest.raises(ValueError, match="not an inception module"):
        bi.BNInceptionModule.from_row(bp.FIGURE5[0], 3)


@pytest.mark.parametrize("kwargs", [dict(num_classes=0), dict(first_conv="dw"), dict(dropout=1.0),
                                    dict(width_divisor=0), dict(use_bn="yes")])
def test_builder_checks(kwargs):
    with pytest.raises(ValueError):
        bi.mini_bn_inception(**kwargs)


def test_input_check(full):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        full(torch.zeros(1, 1, 224, 224))


# ----- the mini preset and its BN switch ------------------------------------------------------------------
@pytest.mark.parametrize("use_bn", [True, False], ids=["bn", "no_bn"])
@pytest.mark.parametrize("size", [32, 48])
def test_mini_shapes(use_bn, size):
    model = bi.mini_bn_inception(use_bn=use_bn).eval()
    with torch.no_grad():
        assert model.forward_features(torch.zeros(2, 3, size, size)).shape == (2, 128, size // 16, size // 16)
        assert model(torch.zeros(2, 3, size, size)).shape == (2, 10)


def test_forward_is_features_then_head():
    model = bi.mini_bn_inception().eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.forward_head(model.forward_features(x)))


def test_mini_with_and_without_bn_is_the_same_network():
    torch.manual_seed(0)
    with_bn = bi.mini_bn_inception(use_bn=True)
    torch.manual_seed(0)
    without = bi.mini_bn_inception(use_bn=False)
    convs_bn = dict((n, m) for n, m in with_bn.named_modules() if isinstance(m, nn.Conv2d))
    convs_plain = dict((n, m) for n, m in without.named_modules() if isinstance(m, nn.Conv2d))
    assert list(convs_bn) == list(convs_plain)  # same layers, same names, same order
    for name, conv in convs_bn.items():
        assert conv.bias is None and convs_plain[name].bias is not None
        torch.testing.assert_close(conv.weight, convs_plain[name].weight, rtol=0, atol=0)  # identical init
    torch.testing.assert_close(with_bn.fc.weight, without.fc.weight, rtol=0, atol=0)
    bns = [m for m in with_bn.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == len(convs_bn) and not any(isinstance(m, nn.BatchNorm2d) for m in without.modules())
    p_bn = sum(p.numel() for p in with_bn.parameters())
    p_plain = sum(p.numel() for p in without.parameters())
    assert p_bn - p_plain == sum(b.num_features for b in bns)  # gamma + beta (2C) vs a conv bias (C)
    assert count(with_bn.eval(), (1, 3, 32, 32)).macs == count(without.eval(), (1, 3, 32, 32)).macs


def test_mini_cost():
    report = count(bi.mini_bn_inception().eval(), (1, 3, 32, 32))
    assert (report.params, report.macs) == (163_866, 2_497_344)  # our count, regression only
    assert bi.mini_bn_inception(width_divisor=8).module_channels["4e"] == 132  # 1056 / 8


def test_mini_trains_one_step():
    torch.manual_seed(0)
    model = bi.mini_bn_inception(dropout=0.2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(16, 3, 32, 32), torch.randint(0, 10, (16,))
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]


def test_registry_names_the_builders():
    models = pytest.importorskip("inception_lab.models")  # needs the GoogLeNet module of chapter 2
    assert models.PRESETS["bn_inception"] is bi.bn_inception
    assert models.build_model("mini_bn_inception", use_bn=False).config.use_bn is False


def test_training_runs_give_the_papers_ratios():
    """[BN, §4.2.2]: "BN-x5 needs 14 times fewer steps"; BN-x30 "5 times fewer"; BN alone about 2.3x."""
    from inception_lab.papers.batch_normalization import BN_X5_CHANGES, BN_X30_STEPS_TO_MAX, RUN

    inception = RUN["Inception"].steps_to_match
    assert int(inception / RUN["BN-x5"].steps_to_match) == 14
    assert round(inception / RUN["BN-Baseline"].steps_to_match, 1) == 2.3
    assert round(inception / BN_X30_STEPS_TO_MAX) == 5
    assert RUN["BN-x5-Sigmoid"].steps_to_match is None and RUN["BN-x5-Sigmoid"].max_accuracy < 72.2
    assert max(RUN.values(), key=lambda run: run.max_accuracy).name == "BN-x30"
    assert len(BN_X5_CHANGES) == 7 and any("local response" in change for change in BN_X5_CHANGES)


def test_figure4_results_and_the_test_error():
    from inception_lab.papers.batch_normalization import ENSEMBLE_TEST_TOP5_ERROR, FIGURE4_RESULTS

    assert [r.top5_error for r in FIGURE4_RESULTS] == sorted((r.top5_error for r in FIGURE4_RESULTS), reverse=True)
    assert FIGURE4_RESULTS[-1].top5_error == 4.9 and ENSEMBLE_TEST_TOP5_ERROR == 4.82
