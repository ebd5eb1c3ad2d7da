"""Grid-size reduction [Rethinking, §5, Figs. 9-10]: the paper's statements from the cost model, the torch modules
against the cost model and PyTorch's counters, and the bottleneck experiment's pieces."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from inception_lab import cost
from inception_lab.cost import grid_reduction as gr
from inception_lab.experiments import representation
from inception_lab.nn.branches import to_spec
from inception_lab.nn.equivalence import compare_modules
from inception_lab.nn.layers import ConvReLU, conv_bn_relu_tv
from inception_lab.nn.reduction import ConvFirst, GridReduction, PoolFirst
from inception_lab.papers import rethinking as paper

EVEN = [(8, 4), (28, 64), (36, 16), (70, 320)]


# ---------------------------------------------------------------------------------------------------------
# §5 and Fig. 9, asserted from the cost model
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("d, k", EVEN)
def test_section5_operation_counts_are_1x1_macs(d, k):
    costs, stated = gr.section5_costs(d, k), gr.paper_formulas(d, k)
    # "2d^2k^2 operations" = d^2 positions x (k x 2k) weights of a 1x1 convolution
    assert costs["conv_first"].macs == stated["conv_first_ops"] == paper.CONV_FIRST_OPS.value * d ** 2 * k ** 2
    assert costs["pool_first"].macs == stated["pool_first_ops"]
    assert costs["pool_first"].macs == paper.POOL_FIRST_OPS.value * costs["conv_first"].macs  # "by a quarter"
    assert costs["pool_first"].after_first == (k, d // 2, d // 2)
    assert costs["pool_first"].after_first_numel == stated["pool_first_dimension"]
    assert costs["pool_first"].after_first_numel == paper.POOL_FIRST_BOTTLENECK.value * d * d * k
    for r in costs.values():
        assert r.output == (2 * k, d // 2, d // 2)
    assert costs["conv_first"].narrowest_numel == costs["parallel"].narrowest_numel == 2 * k * (d // 2) ** 2
    assert costs["pool_first"].narrowest_numel * 2 == costs["conv_first"].narrowest_numel


@pytest.mark.parametrize("d, k", EVEN)
def test_a_3x3_kernel_multiplies_every_count_by_9(d, k):
    one, three = gr.section5_costs(d, k), gr.section5_costs(d, k, kernel=3)
    for s in ("pool_first", "conv_first"):
        assert three[s].macs == 9 * one[s].macs and three[s].params == 9 * one[s].params
    assert three["conv_first"].macs == 4 * three["pool_first"].macs


def test_fig9_three_times_more_means_four_times_as_much_on_an_even_grid():
    for d in (8, 28, 36, 70):
        ratio = gr.fig9_ratio(d, padding="same")
        assert ratio == {"as_much": 4.0, "more": paper.FIG9_RATIO.value}
    assert gr.fig9_ratio(35)["as_much"] == pytest.approx(35 ** 2 / 17 ** 2)
    assert gr.fig9_ratio(17)["as_much"] == pytest.approx(17 ** 2 / 8 ** 2)
    # "3 times as expensive" holds for no grid: conv first always costs at least 4x pool first
    assert all(gr.fig9_ratio(d)["as_much"] >= 4 for d in range(3, 80))


def test_mixed_6a_costs_match_torchvision():
    rows = {r["strategy"]: r for r in gr.compare_strategies(35, 288, 768)}
    assert rows["parallel"]["widths"] == gr.MIXED_6A
    # torchvision's Mixed_6a, counted (test_inception_v3_reductions_are_fig10_modules counts torchvision's own block)
    assert (rows["parallel"]["params"], rows["parallel"]["macs"]) == (1_153_280, 401_937_408)
    assert rows["parallel"]["output"] == rows["pool_first"]["output"] == rows["conv_first"]["output"] == (768, 17, 17)
    assert rows["pool_first"]["after_first"] == (288, 17, 17)
    assert rows["conv_first"]["macs"] > 4 * rows["pool_first"]["macs"]


def test_formula_layer_errors():
    with pytest.raises(ValueError, match="d must be even"):
        gr.section5_costs(35, 4)
    with pytest.raises(ValueError, match="at least one convolution branch"):
        gr.parallel_spec(0)
    with pytest.raises(ValueError, match="out_channels must exceed in_channels"):
        gr.split_widths(64, 64, 0.5)
    with pytest.raises(ValueError, match="pool must be one of"):
        gr.pool_first_spec(8, pool_kind="min")
    with pytest.raises(ValueError, match="kernel must be one of"):
        gr.conv_first_spec(8, kernel=5)
    with pytest.raises(ValueError, match="strategy must be one of"):
        gr.strategy_cost("stride", gr.pool_first_spec(8), 4, 8)


# ---------------------------------------------------------------------------------------------------------
# Torch modules = cost model = PyTorch's counters
# ---------------------------------------------------------------------------------------------------------
def _modules(k, out, pool, padding, kernel):
    return {
        "pool_first": (PoolFirst(k, out, kernel=kernel, pool=pool, padding=padding),
                       gr.pool_first_spec(out, kernel=kernel, pool_kind=pool, padding=padding, batchnorm=True)),
        "conv_first": (ConvFirst(k, out, kernel=kernel, pool=pool, padding=padding),
                       gr.conv_first_spec(out, kernel=kernel, pool_kind=pool, padding=padding, batchnorm=True)),
        "parallel": (GridReduction(k, out // 3, ch3x3red=5, ch3x3dbl_red=6, ch3x3dbl=out - k - out // 3, pool=pool,
                                   padding=padding),
                     (gr.parallel_spec(out // 3, ch3x3red=5, ch3x3dbl_red=6, ch3x3dbl=out - k - out // 3,
                                       pool_kind=pool, padding=padding, batchnorm=True),)),
    }


@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("padding, size", [("valid", 35), ("valid", 17), ("same", 16), ("same", 15)])
@pytest.mark.parametrize("kernel", [1, 3])
def test_modules_describe_themselves_and_count_exactly(pool, padding, size, kernel):
    k, out = 12, 40
    for strategy, (module, spec) in _modules(k, out, pool, padding, kernel).items():
        module.eval()
        assert to_spec(module) == tuple(spec), strategy
        predicted = gr.strategy_cost(strategy, spec, k, size)
        x = torch.randn(2, k, size, size)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            y = module(x)
        assert tuple(y.shape[1:]) == predicted.output, strategy
        assert counter.get_total_flops() // 2 == 2 * predicted.macs  # batch of 2
        assert sum(p.numel() for p in module.parameters()) == predicted.params
        assert cost.count(module, (1, k, size, size)).macs == predicted.macs


def test_grid_reduction_branches_and_names():
    module = GridReduction(288, 384, ch3x3dbl_red=64, ch3x3dbl=96)
    assert module.branch_channels == {"branch3x3": 384, "branch3x3dbl": 96, "branch_pool": 288}
    assert module.branch_labels["branch_pool"] == "3x3/2 max-pool"
    assert list(module.state_dict())[0] == "branch3x3.conv.weight"  # torchvision's InceptionB names
    assert "branch3x3dbl_3.bn.running_var" in module.state_dict()
    fig10 = GridReduction(32, 16, ch3x3red=8)
    assert "branch3x3_1.conv.weight" in fig10.state_dict() and fig10.out_channels == 48
    with pytest.raises(ValueError, match="at least one convolution branch"):
        GridReduction(8, 0)
    with pytest.raises(ValueError, match="pool must be one of"):
        PoolFirst(8, 16, pool="min")
    with pytest.raises(ValueError, match="padding must be one of"):
        ConvFirst(8, 16, padding="full")


def test_inception_v3_reductions_are_fig10_modules():
    from inception_lab.models.inception_v3 import InceptionB, InceptionD

    mixed_6a = InceptionB(288).eval()
    assert mixed_6a.spec() == gr.parallel_spec(**gr.MIXED_6A, batchnorm=True)  # the cost layer's Fig. 10 chain
    ours = GridReduction(288, 384, ch3x3dbl_red=64, ch3x3dbl=96, conv_block=conv_bn_relu_tv)  # BN eps 1e-3
    assert list(ours.state_dict()) == list(mixed_6a.state_dict())
    x = torch.randn(1, 288, 35, 35)
    assert compare_modules(ours, mixed_6a, x, atol=1e-4).same
    report = cost.count(mixed_6a, (1, 288, 35, 35))
    mixed_7a = cost.count(InceptionD(768).eval(), (1, 768, 17, 17))
    # Anchor: torchvision's own Mixed_6a and Mixed_7a blocks, counted by sum(numel) and FlopCounterMode.
    tv = pytest.importorskip("torchvision.models.inception")
    for ours_report, block, shape in ((report, tv.InceptionB(288), (1, 288, 35, 35)),
                                      (mixed_7a, tv.InceptionD(768), (1, 768, 17, 17))):
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            block.eval()(torch.zeros(shape))
        assert (ours_report.params, ours_report.macs) == (sum(p.numel() for p in block.parameters()),
                                                          counter.get_total_flops() // 2)
    assert (report.params, report.macs) == (1_153_280, 401_937_408)  # the same numbers, as a regression check
    assert (mixed_7a.params, mixed_7a.macs) == (1_698_304, 291_004_416)


# ---------------------------------------------------------------------------------------------------------
# The bottleneck experiment's pieces
# ---------------------------------------------------------------------------------------------------------
def test_feature_maps_are_standardised_and_reproducible():
    maps = representation.feature_maps(16, channels=4)
    assert maps.shape == (16, 4, 32, 32)
    torch.testing.assert_close(maps.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(maps.std(dim=(0, 2, 3)), torch.ones(4), atol=1e-4, rtol=0)
    torch.testing.assert_close(maps, representation.feature_maps(16, channels=4))


@pytest.mark.parametrize("strategy", gr.STRATEGIES)
def test_every_reduction_halves_the_grid_and_doubles_the_channels(strategy):
    module = representation.build_reduction(strategy, 8, pool="avg")
    assert module(torch.zeros(1, 8, 32, 32)).shape == (1, 16, 16, 16)
    x = torch.randn(2, 8, 32, 32)
    assert representation.Reconstructor(module, 8)(x).shape == x.shape


def test_r_squared_and_a_short_training_run():
    x = torch.randn(4, 3, 8, 8)
    assert representation.r_squared(x, x) == 1.0
    assert representation.r_squared(x.mean(dim=(0, 2, 3), keepdim=True).expand_as(x), x) == pytest.approx(0.0, abs=1e-6)
    maps = representation.feature_maps(32, channels=4)
    result = representation.train_recovery("parallel", maps, maps, steps=3, batch_size=8)
    assert result.steps == 3 and result.r2 < 1.0
    assert result.macs == gr.strategy_cost("parallel", to_spec(representation.build_reduction("parallel", 4)),
                                           4, 32).macs
    with pytest.raises(ValueError, match="strategy must be one of"):
        representation.build_reduction("stride", 8)
    assert isinstance(representation.build_reduction("conv_first", 8).conv, ConvReLU)


def test_the_cost_module_imports_without_torch():
    import subprocess
    import sys

    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'torch' or name.startswith('torch.'):\n"
            "            raise ImportError('torch is blocked')\n"
            "sys.meta_path.insert(0, Block())\n"
            "from inception_lab.cost import grid_reduction as gr\n"
            "assert gr.compare_strategies(35, 288, 768)[2]['macs'] == 401937408\n"
            "assert 'torch' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
