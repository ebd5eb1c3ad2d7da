"""Grid-size reduction [Rethinking, §5, Figs. 9-10]: the paper's statements from the cost model, the torch modules
against the cost model and PyTorch's counters, and the bottleneck experiment's pieces."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from inception_lab import cost, shapes
from inception_lab.cost import grid_reduction as gr
from inception_lab.experiments import representation
from inception_lab.experiments.cuts import narrowest_cut
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


def test_non_negative_maps_keep_their_sign_and_the_seeds_reach_data_and_conv():
    sets = representation.map_set(16, channels=4, kind="nonnegative")
    assert sets.maps.min() >= 0 and sets.labels.shape == (16,) and sets.num_classes == 10 and len(sets) == 16
    torch.testing.assert_close(sets.maps.std(dim=(0, 2, 3)), torch.ones(4), atol=1e-4, rtol=0)
    standard = representation.feature_maps(16, channels=4)
    # the same maps up to the per-channel shift: standardised = non-negative - its mean
    torch.testing.assert_close(standard, sets.maps - sets.maps.mean(dim=(0, 2, 3), keepdim=True), atol=1e-5, rtol=0)
    assert not torch.equal(standard, representation.feature_maps(16, channels=4, conv_seed=1235))  # another conv
    assert not torch.equal(standard, representation.feature_maps(16, channels=4, seed=1))  # other images
    first_edition = representation.feature_maps(16, channels=4, conv_seed=representation.FEATURE_CONV_SEED)
    assert torch.equal(standard, first_edition)
    with pytest.raises(ValueError, match="kind must be one of"):
        representation.map_set(4, kind="positive")


@pytest.mark.parametrize("strategy", representation.ARMS)
def test_every_reduction_halves_the_grid_and_doubles_the_channels(strategy):
    module = representation.build_reduction(strategy, 8, pool="avg")
    assert module(torch.zeros(1, 8, 32, 32)).shape == (1, 16, 16, 16)
    x = torch.randn(2, 8, 32, 32)
    assert representation.Reconstructor(module, 8)(x).shape == x.shape


def test_the_controls_are_what_they_claim():
    k, d = 8, 32
    cuts = {arm: narrowest_cut(to_spec(representation.build_reduction(arm, k)), k, d).numel
            for arm in representation.ARMS}
    # only pool first has a cut narrower than its output (2k x d/2 x d/2)
    assert cuts == dict(pool_first=k * (d // 2) ** 2, conv_first=2 * k * (d // 2) ** 2, strided=2 * k * (d // 2) ** 2,
                        parallel=2 * k * (d // 2) ** 2, parallel_relu=2 * k * (d // 2) ** 2)
    strided = representation.build_reduction("strided", k)
    assert not any(isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)) for m in strided.modules())
    costs = {arm: cost.count(representation.build_reduction(arm, k), (1, k, d, d)) for arm in representation.ARMS}
    assert costs["strided"].macs == costs["pool_first"].macs == costs["conv_first"].macs // 4
    assert costs["parallel_relu"].params == costs["parallel"].params
    # the ReLU acts on the pooled branch only: on a negative input it zeroes exactly the pooled channels' negatives
    plain, relu = representation.build_reduction("parallel", k), representation.build_reduction("parallel_relu", k)
    relu.reduction.load_state_dict(plain.state_dict())
    x = torch.randn(2, k, d, d)
    a, b = plain(x), relu(x)
    torch.testing.assert_close(b, a.clamp_min(0))
    assert (a[:, -k:] < 0).any() and (a[:, :-k] >= 0).all()


def test_relu_on_the_pooled_branch_changes_nothing_on_non_negative_maps():
    kw = dict(channels=4, kind="nonnegative")
    train, test = representation.map_set(32, **kw), representation.map_set(32, split="test", **kw)
    for pool in ("max", "avg"):
        a = representation.train_recovery("parallel", train, test, pool=pool, seed=3, steps=4, batch_size=8)
        b = representation.train_recovery("parallel_relu", train, test, pool=pool, seed=3, steps=4, batch_size=8)
        assert (a.r2, a.probe_accuracy) == (b.r2, b.probe_accuracy)
    train, test = representation.map_set(32, channels=4), representation.map_set(32, channels=4, split="test")
    a = representation.train_recovery("parallel", train, test, seed=3, steps=4, batch_size=8)
    b = representation.train_recovery("parallel_relu", train, test, seed=3, steps=4, batch_size=8)
    assert a.r2 != b.r2  # on standardised maps the ReLU removes the pooled negatives


def test_r_squared_and_a_short_training_run():
    x = torch.randn(4, 3, 8, 8)
    assert representation.r_squared(x, x) == 1.0
    assert representation.r_squared(x.mean(dim=(0, 2, 3), keepdim=True).expand_as(x), x) == pytest.approx(0.0, abs=1e-6)
    maps = representation.feature_maps(32, channels=4)
    result = representation.train_recovery("parallel", maps, maps, steps=3, batch_size=8)
    assert result.steps == 3 and result.r2 < 1.0 and result.probe_accuracy is None and result.inputs is None
    assert result.macs == gr.strategy_cost("parallel", to_spec(representation.build_reduction("parallel", 4)),
                                           4, 32).macs
    labelled = representation.map_set(40, channels=4, kind="nonnegative")
    strided = representation.train_recovery("strided", labelled, labelled, pool="avg", steps=2, batch_size=8)
    assert strided.pool == "none" and strided.inputs == "nonnegative" and 0 <= strided.probe_accuracy <= 1
    assert set(strided.as_dict()) >= {"strategy", "pool", "seed", "r2", "narrowest", "probe_accuracy"}
    with pytest.raises(ValueError, match="strategy must be one of"):
        representation.build_reduction("stride", 8)
    assert isinstance(representation.build_reduction("conv_first", 8).conv, ConvReLU)


def test_linear_probe_reads_a_linear_label_and_not_noise():
    gen = torch.Generator().manual_seed(0)
    x, test_x = torch.randn(300, 20, generator=gen), torch.randn(300, 20, generator=gen)
    y, test_y = (x[:, 0] + 0.5 * x[:, 1] > 0).long(), (test_x[:, 0] + 0.5 * test_x[:, 1] > 0).long()
    assert representation.linear_probe(x, y, test_x, test_y, num_classes=2).accuracy > 0.9
    noise, test_noise = torch.randint(0, 2, (300,), generator=gen), torch.randint(0, 2, (300,), generator=gen)
    assert abs(representation.linear_probe(x, noise, test_x, test_noise, num_classes=2).accuracy - 0.5) < 0.1
    result = representation.linear_probe(x, y, test_x, test_y, num_classes=2)
    assert result.strength in representation.PROBE_STRENGTHS and 0 <= result.cv_accuracy <= 1
    with pytest.raises(ValueError, match="each row needs one label"):
        representation.linear_probe(x, y[:-1], test_x, test_y, num_classes=2)
    with pytest.raises(ValueError, match="folds >= 2"):
        representation.linear_probe(x[:5], y[:5], test_x, test_y, num_classes=2)


def test_compare_arms_pairs_by_seed_and_skips_the_identical_pair():
    seeds = [0, 1, 2, 3, 4]
    runs = []
    for kind in representation.INPUT_KINDS:
        for pool in gr.POOLS + ("none",):
            for arm in representation.ARMS:
                if (pool == "none") != (arm in representation.UNPOOLED_ARMS):
                    continue
                for seed in seeds:  # conv first beats pool first by 0.01 in every seed; everything else ties
                    bonus = 0.01 if arm == "conv_first" else 0.0
                    runs.append(dict(inputs=kind, pool=pool, strategy=arm, seed=seed, r2=0.5 + bonus + seed / 100,
                                     probe_accuracy=0.2))
    rows = representation.compare_arms(runs, seeds)
    assert len(rows) == 36  # 5 questions on standardised maps, 4 on non-negative ones; 2 pools; 2 scores
    bottleneck = [r for r in rows if r["a"] == "conv_first" and r["b"] == "pool_first" and r["metric"] == "r2"]
    assert len(bottleneck) == 4 and all(r["finding"] and r["p_value"] == 2 / 2 ** 5 for r in bottleneck)
    assert all(r["mean"] == pytest.approx(0.01) for r in bottleneck)
    assert not any(r["finding"] for r in rows if r["metric"] == "probe_accuracy")
    assert {r["a"] for r in rows if r["input"] == "nonnegative"} >= {"parallel"}
    assert "parallel_relu" not in {r["a"] for r in rows if r["input"] == "nonnegative"} | {
        r["b"] for r in rows if r["input"] == "nonnegative"}
    with pytest.raises(KeyError):
        representation.compare_arms(runs[1:], seeds)


# ---------------------------------------------------------------------------------------------------------
# Narrowest cuts [Rethinking, §2, principle 1]
# ---------------------------------------------------------------------------------------------------------
def test_narrowest_cut_of_chains_and_modules():
    # a chain: the smallest tensor, or the input when nothing is smaller
    assert narrowest_cut(gr.pool_first_spec(768, kernel=3), 288, 35).numel == 288 * 17 * 17
    assert narrowest_cut(gr.conv_first_spec(768, kernel=3), 288, 35).numel == 768 * 17 * 17
    assert narrowest_cut((shapes.conv(64, 3),), 8, 16).where == "input (8x16x16)"
    # Mixed_6a: every branch's narrowest tensor is its output, so the cut is the output
    assert narrowest_cut(gr.parallel_spec(**gr.MIXED_6A), 288, 35).numel == 768 * 17 * 17
    # Fig. 10, 35x35x320 -> 640: wide 1x1 reductions leave the output narrowest; narrow ones cut inside the module
    wide = narrowest_cut(gr.parallel_spec(160, ch3x3red=64, ch3x3dbl_red=64, ch3x3dbl=160), 320, 35)
    narrow = narrowest_cut(gr.parallel_spec(160, ch3x3red=32, ch3x3dbl_red=32, ch3x3dbl=160), 320, 35)
    assert wide.numel == 640 * 17 * 17
    assert narrow.numel == 2 * 32 * 35 * 35 + 320 * 17 * 17 < wide.numel
    assert [place for place, _ in narrow.tensors] == ["branch3x3: 1x1", "branch3x3dbl: 1x1",
                                                      "branch_pool: 3x3/2 max-pool"]
    # an identity branch passes the input on: no cut inside the module can avoid it
    identity = shapes.Parallel((shapes.BranchSpec("skip", ()), shapes.BranchSpec("conv", (shapes.conv(1, 1),))))
    assert narrowest_cut((identity,), 8, 4).numel == 8 * 4 * 4
    # nested modules are cut recursively
    inner = shapes.Parallel((shapes.BranchSpec("a", (shapes.conv(2, 1),)),
                             shapes.BranchSpec("b", (shapes.conv(3, 1),))))
    outer = shapes.Parallel((shapes.BranchSpec("x", (shapes.conv(50, 1), inner)),
                             shapes.BranchSpec("y", (shapes.conv(1, 1), shapes.conv(40, 1)))))
    assert narrowest_cut((outer, shapes.conv(100, 1)), 30, 2).numel == (2 + 3 + 1) * 4


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
