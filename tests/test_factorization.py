"""Factorized convolutions [Rethinking, §3]: the cost formulas against the paper and against torch's own counters,
the torch blocks, receptive fields (exact and measured), the kernel fits and the timing helper."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from inception_lab.cost import chain_cost, count
from inception_lab.cost import factorization as fc
from inception_lab.experiments import kernel_fit as ff
from inception_lab.experiments import receptive_field as rf
from inception_lab.experiments.timing import time_modules
from inception_lab.nn.branches import to_spec
from inception_lab.nn.layers import ConvBNReLU, ConvReLU, FactorizedConv, StackedConv, conv_bn_relu_tv
from inception_lab.papers import rethinking as paper
from inception_lab.shapes import start_shape


def linear(in_channels, out_channels, kernel_size, stride=1, padding=0):
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)


# ---------------------------------------------------------------------------------------------------------
# The paper's statements, from the cost model
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels, grid", [(64, 17), (1, 1), (192, 35), (7, 8)])
def test_paper_savings_are_reproduced_for_any_width_and_grid(channels, grid):
    s = fc.paper_savings(channels, grid)
    assert round(s["5x5 / 3x3"], 2) == round(paper.FIVE_BY_FIVE_VS_THREE.value, 2) == 2.78
    assert round(s["5x5 -> two 3x3"], 2) == paper.TWO_3X3_SAVING.value  # 1 - (9 + 9) / 25
    assert round(s["3x3 -> 3x1 + 1x3"], 2) == paper.ASYMMETRIC_3X3_SAVING.value  # 1 - 6 / 9
    assert round(s["3x3 -> two 2x2"], 2) == paper.TWO_2X2_SAVING.value  # 1 - 8 / 9
    params = fc.paper_savings_params(channels)  # "the exact same saving holds for the parameter count"
    for key, value in params.items():
        assert value == pytest.approx(s[key])


@pytest.mark.parametrize("n", range(2, 10))
def test_seed_n_squared_to_2n_per_channel_pair(n):
    chains = fc.variant_chains(n, 32)
    assert fc.weights_per_channel_pair(chains["square"]) == n * n
    assert fc.weights_per_channel_pair(chains["asymmetric"]) == 2 * n
    row = fc.explore(n, 32, 32, 9, 32)[1]
    assert row["macs_saving"] == pytest.approx(1 - 2 / n) and row["params_saving"] == pytest.approx(1 - 2 / n)


def test_middle_width_and_unequal_channels_follow_the_general_formula():
    n, cin, mid, cout, grid = 7, 160, 128, 192, 17
    rows = {r["variant"]: r for r in fc.explore(n, cin, cout, grid, mid)}
    assert rows["square"]["macs"] == n * n * cin * cout * grid * grid
    assert rows["asymmetric"]["macs"] == n * (cin * mid + mid * cout) * grid * grid
    assert rows["stacked"]["macs"] == 9 * (cin * mid + mid * mid + mid * cout) * grid * grid
    assert {r["receptive_field"] for r in rows.values()} == {7}


@pytest.mark.parametrize("n", [3, 5, 7, 9])
@pytest.mark.parametrize("bias", [False, True])
def test_same_grid_cost_equals_the_shape_walk_and_torch_counters(n, bias):
    cin, cout, mid, grid = 24, 40, 16, 11

    def atom(i, o, kernel_size, stride=1, padding=0):
        return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias)

    modules = {"square": atom(cin, cout, n, padding=n // 2),
               "asymmetric": FactorizedConv(cin, cout, n, mid_channels=mid, between="block", conv_block=atom)}
    if n >= 5:
        modules["stacked"] = StackedConv(cin, cout, n, mid_channels=mid, conv_block=atom)
    chains = fc.variant_chains(n, cout, mid, bias=bias)
    assert set(chains) == set(modules)
    for name, module in modules.items():
        analytic = fc.chain_cost_same_grid(chains[name], cin, grid)
        walked, out = chain_cost(chains[name], start_shape(cin, grid, grid))
        assert analytic == walked and out.chw == (cout, grid, grid)
        assert to_spec(module) == chains[name]
        report = count(module.eval(), (1, cin, grid, grid))
        x = torch.zeros(1, cin, grid, grid)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            module(x)
        assert (report.params, report.macs) == (analytic.params, analytic.macs)
        assert counter.get_total_flops() == 2 * analytic.macs


def test_two_2x2_keep_the_grid_and_see_a_3x3_window():
    chain = fc.stacked_chain(3, 8, small=2)
    assert [op.padding for op in chain] == [(1, 1), (0, 0)]
    walked, out = chain_cost(chain, start_shape(8, 10, 10))
    assert out.chw == (8, 10, 10)  # the intermediate map is 11x11 in PyTorch; "same" padding keeps it at 10x10
    assert fc.chain_cost_same_grid(chain, 8, 10).macs == 2 * 4 * 8 * 8 * 100 < walked.macs
    assert fc.receptive_field_size(chain) == (3, 3)


def test_sweep_and_text_table():
    rows = fc.sweep_n(range(2, 10))
    assert [r["n"] for r in rows if r["variant"] == "stacked"] == [5, 7, 9]
    assert len(rows) == 8 * 2 + 3
    text = fc.sweep_text(rows)
    assert "1x7 -> 7x1" in text and "71.4%" in text and "28.0%" in text


def test_cost_errors_say_what_is_allowed():
    with pytest.raises(ValueError, match="at least 2"):
        fc.asymmetric_chain(1, 8)
    with pytest.raises(ValueError, match="not covered exactly"):
        fc.stacked_chain(6, 8)
    with pytest.raises(ValueError, match="first must be one of"):
        fc.asymmetric_chain(3, 8, first="diagonal")
    with pytest.raises(ValueError, match="grid must be a positive integer"):
        fc.chain_cost_same_grid(fc.square_chain(3, 8), 8, 0)


# ---------------------------------------------------------------------------------------------------------
# The torch blocks
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("between, first_type", [("none", nn.Conv2d), ("relu", ConvReLU), ("bn_relu", ConvBNReLU),
                                                 ("block", ConvBNReLU)])
@pytest.mark.parametrize("first", ["1xn", "nx1"])
def test_factorized_conv_options(between, first_type, first):
    block = FactorizedConv(6, 10, 5, mid_channels=4, first=first, between=between, conv_block=conv_bn_relu_tv)
    head, tail = block
    assert isinstance(head, first_type) and isinstance(tail, ConvBNReLU)
    kernels = [(1, 5), (5, 1)] if first == "1xn" else [(5, 1), (1, 5)]
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == kernels and convs[0].out_channels == 4
    assert block(torch.randn(2, 6, 9, 9)).shape == (2, 10, 9, 9)
    if between == "block":
        assert block[0].bn.eps == 1e-3


def test_a_linear_pair_is_one_rank_1_kernel_and_stacks_compose():
    torch.manual_seed(0)
    pair = FactorizedConv(1, 1, 5, mid_channels=1, between="none", conv_block=linear).double()
    column = pair[0].weight[0, 0, 0].detach().numpy()  # 1 x 5 kernel (a row of weights)
    row = pair[1].weight[0, 0, :, 0].detach().numpy()  # 5 x 1 kernel (a column)
    kernel = np.outer(row, column)
    assert np.linalg.matrix_rank(kernel) == 1
    x = torch.randn(2, 1, 12, 12, dtype=torch.float64)
    direct = nn.functional.conv2d(x, torch.from_numpy(kernel)[None, None], padding=2)
    torch.testing.assert_close(pair(x), direct)
    stack = StackedConv(1, 1, 5, conv_block=linear).double()
    a, b = (m.weight[0, 0].detach().numpy() for m in stack)
    composed = nn.functional.conv2d(x, torch.from_numpy(ff.compose(a, b))[None, None])
    torch.testing.assert_close(stack(x)[:, :, 2:-2, 2:-2], composed)  # interior: borders differ by padding


def test_block_errors():
    with pytest.raises(ValueError, match="odd kernel side"):
        FactorizedConv(4, 4, 4)
    with pytest.raises(ValueError, match="between must be one of"):
        FactorizedConv(4, 4, 3, between="tanh")
    with pytest.raises(ValueError, match="odd kernel side >= 3"):
        StackedConv(4, 4, 1)
    assert len(StackedConv(4, 8, 7, mid_channels=5)) == 3


# ---------------------------------------------------------------------------------------------------------
# Receptive fields
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build, size", [
    (lambda: nn.Conv2d(2, 3, 5, padding=2), 5),
    (lambda: StackedConv(2, 3, 5), 5),
    (lambda: StackedConv(2, 3, 7), 7),
    (lambda: FactorizedConv(2, 3, 7), 7),
    (lambda: FactorizedConv(2, 3, 3, first="nx1", between="bn_relu"), 3),
])
def test_exact_and_measured_receptive_fields_agree(build, size):
    torch.manual_seed(0)
    module = build().eval()
    field = rf.exact_field(module, 2, 21)
    assert field.size == (size, size) and field.jump == (1, 1)
    gmap = rf.gradient_map(module, 2, 21, generator=torch.Generator().manual_seed(1))
    assert gmap.size == (size, size)
    top, bottom, left, right = rf.field_box(field, *gmap.position)
    assert gmap.box == (top, bottom, left, right)


def test_gradient_map_of_a_stack_is_centre_weighted_and_errors():
    module = StackedConv(1, 1, 5, conv_block=linear)
    with torch.no_grad():
        for conv in module:
            conv.weight.fill_(1.0)
    gmap = rf.gradient_map(module, 1, 11, samples=1)
    r, c = gmap.position
    assert gmap.magnitude[r, c] == 1.0 and gmap.magnitude[r - 2, c - 2] == pytest.approx(1 / 9)
    with pytest.raises(ValueError, match="outside the"):
        rf.gradient_map(module, 1, 11, position=(11, 0))
    chain_field = rf.exact_field(to_spec(module), 1, 11)
    assert chain_field.size == (5, 5)


# ---------------------------------------------------------------------------------------------------------
# Kernel fits
# ---------------------------------------------------------------------------------------------------------
def test_rank_1_is_exact_for_separable_kernels_and_svd_is_optimal():
    kernels = ff.sample_kernels(5)
    assert {name: round(float(np.linalg.norm(k)), 6) for name, k in kernels.items()} == dict.fromkeys(kernels, 1.0)
    for name in ("edge 0°", "blob"):
        assert ff.rank_fit(kernels[name])[1] < 1e-12, name
    for name in ("edge 45°", "centre-surround", "Gabor 30°", "random"):
        assert ff.rank_fit(kernels[name])[1] > 0.3, name
    k = kernels["random"]
    s = np.linalg.svd(k, compute_uv=False)
    assert ff.rank_fit(k)[1] == pytest.approx(np.sqrt((s[1:] ** 2).sum()))  # Eckart-Young: the dropped part
    rng = np.random.default_rng(0)  # no random rank-1 kernel does better
    for _ in range(50):
        u, v = rng.standard_normal(5), rng.standard_normal(5)
        scale = u @ k @ v / ((u @ u) * (v @ v))
        assert ff.relative_error(k, scale * np.outer(u, v)) >= ff.rank_fit(k)[1] - 1e-12
    assert ff.rank_fit(k, 5)[1] < 1e-12


def test_two_3x3_fit_beats_rank_1_and_reaches_exactness_with_two_channels():
    rows = {r["kernel"]: r for r in ff.fit_table(ff.sample_kernels(5))}
    for name, r in rows.items():
        assert r["two_3x3"] <= r["rank1"] + 0.01, name
    assert rows["blob"]["two_3x3"] < 1e-6 and rows["edge 0°"]["two_3x3"] < 0.01
    assert rows["random"]["two_3x3"] > 0.05  # 17 effective parameters cannot match 25 free ones
    assert ff.stack_fit(ff.sample_kernels(5)["random"], mid=2)[1] < 1e-3
    text = ff.fit_text(list(rows.values()))
    assert "edge 45°" in text and "< 1 %" in text
    with pytest.raises(ValueError, match="make a 5x5 kernel"):
        ff.stack_fit(np.zeros((7, 7)))


def test_relu_between_makes_the_pair_more_than_one_kernel():
    torch.manual_seed(0)
    lin = FactorizedConv(1, 1, 5, mid_channels=4, between="none", conv_block=linear)
    relu = nn.Sequential(nn.Conv2d(1, 4, (1, 5), padding=(0, 2)), nn.ReLU(), nn.Conv2d(4, 1, (5, 1), padding=(2, 0)))
    gen = torch.Generator().manual_seed(0)
    assert ff.linear_map_residual(lin, 5, generator=gen) < 1e-8
    assert ff.linear_map_residual(relu, 5, generator=gen) > 0.05


# ---------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------
def test_time_modules_interleaves_and_restores_modes():
    modules = {"a": nn.Conv2d(2, 2, 3, padding=1), "b": nn.Conv2d(2, 2, 1).eval()}
    timings = time_modules(modules, torch.randn(1, 2, 6, 6), reps=3, warmup=1)
    assert set(timings.seconds) == {"a", "b"} and timings.device == "cpu"
    assert all(len(timings.seconds[v][m][c]) == 3 for v in "ab" for m in ("forward", "forward_backward")
               for c in ("wall", "cpu"))
    assert timings.ratio("a", "a") == 1.0 and timings.median_ms("b") > 0
    assert modules["a"].training and not modules["b"].training
    assert modules["a"].weight.grad is None
    assert "forward_backward ms" in timings.table("a")
    with pytest.raises(ValueError, match="mode must be one of"):
        time_modules(modules, torch.randn(1, 2, 6, 6), modes=("sideways",))
