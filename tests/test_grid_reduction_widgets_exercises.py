"""Chapter 5's explorer driven by setting values, its static twin, and the exercise checkers."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from inception_lab import shapes  # noqa: E402
from inception_lab.cost.grid_reduction import compare_strategies, explorer_view  # noqa: E402
from inception_lab.exercises import grid_reduction as ex  # noqa: E402
from inception_lab.viz.cost_charts import plot_view  # noqa: E402
from inception_lab.viz.display import alt_text  # noqa: E402
from inception_lab.widgets import Explorer  # noqa: E402
from inception_lab.widgets.grid_reduction import MIXED_6A_SETTING, GridReductionExplorer, comparison_text  # noqa: E402


def bars(explorer, panel):
    return [p.get_width() for p in explorer.figure.axes[panel].patches]


def test_explorer_defaults_show_mixed_6a():
    explorer = GridReductionExplorer()
    assert isinstance(explorer, Explorer) and "_repr_mimebundle_" not in vars(GridReductionExplorer)
    assert "401,937,408" in explorer.table.value and "1,153,280" in explorer.table.value
    assert bars(explorer, 1) == pytest.approx([r["macs"] / 1e6 for r in compare_strategies(35, 288, 768)])


def test_explorer_updates_on_every_control():
    explorer = GridReductionExplorer()
    explorer.sliders["size"].value = 36
    explorer.sliders["in_channels"].value = 64
    explorer.sliders["out_channels"].value = 128
    explorer.kernel.value = 1
    explorer.pool.value = "avg"
    explorer.sliders["split"].value = 0.5
    expected = compare_strategies(36, 64, 128, split=0.5, kernel=1, pool_kind="avg")
    assert explorer.rows == expected
    assert bars(explorer, 2) == pytest.approx([r["narrowest_numel"] / 1e3 for r in expected])
    assert f"{expected[1]['macs']:,}" in explorer.table.value
    assert "avg-pool" not in explorer.table.value  # the table names strategies, not layers


def test_explorer_explains_settings_it_cannot_build():
    explorer = GridReductionExplorer()
    explorer.sliders["out_channels"].value = 288  # the pooling branch alone already gives 288
    assert "out_channels must exceed in_channels" in explorer.message.value and explorer.rows == []
    explorer.sliders["out_channels"].value = 768
    assert explorer.message.value == "" and len(explorer.rows) == 3
    with pytest.raises(ValueError, match="outside the explorer's range"):
        GridReductionExplorer(size=500)
    with pytest.raises(ValueError, match="split"):
        GridReductionExplorer(split=2.0)


def test_static_twin():
    rows = compare_strategies(**{k: v for k, v in MIXED_6A_SETTING.items() if k != "pool"})
    text = comparison_text(rows)
    assert "pool first" in text and "4.24x" in text and "288x17x17" in text
    explorer = GridReductionExplorer()
    twin = plot_view(explorer_view(MIXED_6A_SETTING))
    assert len(twin.axes) == 3 and alt_text(twin) == alt_text(explorer.figure)
    for panel in range(3):
        assert [(p.get_gid(), p.get_width(), p.get_facecolor()) for p in twin.axes[panel].patches] == [
            (p.get_gid(), p.get_width(), p.get_facecolor()) for p in explorer.figure.axes[panel].patches]


CASES = [  # (checker, right answer, a typical wrong answer, words its hint must contain)
    (ex.conv_first_macs, 6_422_528, 12_845_056, "FLOPs"),
    (ex.conv_first_macs, 6_422_528, 1_605_632, "pooled 14x14 grid"),
    (ex.conv_first_macs, 6_422_528, 57_802_752, "3x3 convolution"),
    (ex.conv_first_macs, 6_422_528, 3_211_264, "2k = 128"),
    (ex.pool_first_size, 12_544, 25_088, "output after the convolution"),
    (ex.pool_first_size, 12_544, 50_176, "That is the input"),
    (ex.pool_first_size, 12_544, 802_816, "misreading"),
    (ex.mixed_6a_out_channels, 768, 480, "pooling branch passes all 288"),
    (ex.mixed_6a_out_channels, 768, 832, "reduction (64)"),
    (ex.mixed_6a_out_channels, 768, 288, "pooling branch alone"),
    (ex.fig9_cost_ratio, 4.515625, 4, "exact halving"),
    (ex.fig9_cost_ratio, 4.515625, 3, "three times more"),
    (ex.fig9_cost_ratio, 4.515625, 3.515625, "*more*"),
    (ex.fig10_narrowest_cut, 170_880, 184_960, "That is the output"),  # 2 x 35x35x32 + 17x17x320
    (ex.fig10_narrowest_cut, 170_880, 39_200, "One tensor is not a cut"),
    (ex.fig10_narrowest_cut, 170_880, 78_400, "pooling branch still carries"),
    (ex.fig10_narrowest_cut, 170_880, 92_480, "pooling branch alone"),
    (ex.fig10_narrowest_cut, 170_880, 392_000, "The input is a cut"),
    (ex.fig10_narrowest_cut, 170_880, 177_920, "double-3x3 branch"),
]


def test_fig10_design_is_the_papers_setting_and_its_cut_moves_with_the_reduction():
    d = ex.FIG10_DESIGN
    out = shapes.output_shape((ex.fig10_design(d["reduction"]),), d["in_channels"], d["size"], d["size"])
    assert out.chw == (640, 17, 17)  # Fig. 10: 35x35x320 -> 17x17x640, half of it pooled
    assert ex.fig10_cut(d["wide_reduction"]).numel == out.numel  # wide 1x1 reductions: the output is narrowest
    narrow = ex.fig10_cut(d["reduction"])
    assert narrow.numel < out.numel and "branch3x3dbl: 1x1 (32x35x35)" in narrow.where


@pytest.mark.parametrize("checker, right, wrong, hint", CASES)
def test_checkers_confirm_right_and_hint_wrong_answers(checker, right, wrong, hint):
    good, bad = checker(right), checker(wrong)
    assert good.correct and str(good).startswith("Correct!")
    assert not bad.correct and hint in str(bad)


@pytest.mark.parametrize("checker", sorted({c[0] for c in CASES}, key=lambda f: f.__name__))
def test_checkers_reject_non_numbers(checker):
    for answer in (None, "768", True):
        assert "should be a number" in str(checker(answer))
    assert not checker(next(c[1] for c in CASES if c[0] is checker) + 1).correct
