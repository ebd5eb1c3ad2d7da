"""Chapter 4's explorer (driven by setting its sliders) and exercise checkers (right answers, typical mistakes)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from inception_lab.cost import factorization as fc  # noqa: E402
from inception_lab.exercises import factorization as e4  # noqa: E402
from inception_lab.viz.cost_charts import plot_view  # noqa: E402
from inception_lab.viz.display import alt_text  # noqa: E402
from inception_lab.widgets import table_html  # noqa: E402
from inception_lab.widgets.factorization import FactorizationExplorer  # noqa: E402


def drawn(fig):
    """Every bar of a figure: its segment key, length and colour."""
    return [(p.get_gid(), p.get_width(), matplotlib.colors.to_hex(p.get_facecolor())) for ax in fig.axes
            for p in ax.patches]


def test_explorer_reads_out_what_the_compute_function_returns():
    explorer = FactorizationExplorer()
    assert explorer.values() == dict(n=7, in_channels=192, out_channels=192, grid=17, mid_channels=192)
    assert explorer.rows == fc.explore(7, 192, 192, 17, 192)
    assert "1x7 -&gt; 7x1" in explorer.table.value and "71.4 %" in explorer.table.value
    explorer.sliders["n"].value = 5
    assert [r["variant"] for r in explorer.rows] == ["square", "asymmetric", "stacked"]
    assert "28.0 %" in explorer.table.value and "60.0 %" in explorer.table.value
    explorer.sliders["mid_channels"].value = 96
    assert explorer.rows[1]["macs"] == 5 * (192 * 96 + 96 * 192) * 17 * 17
    explorer.sliders["n"].value = 4
    assert len(explorer.rows) == 2 and "75.0 %" in explorer.table.value  # 1 - 4 * 2 * 96 / (16 * 192)


def test_measure_button_times_the_variants():
    explorer = FactorizationExplorer(n=5, in_channels=16, out_channels=16, mid_channels=16, grid=9)
    explorer.measure_button.click()
    assert explorer.timings is not None and set(explorer.timings.seconds) == {r["name"] for r in explorer.rows}
    assert "MACs x0.40" in explorer.measured.value and "MACs x0.72" in explorer.measured.value
    explorer.sliders["grid"].value = 8
    assert explorer.measured.value == ""  # a stale measurement is cleared


def test_explorer_rejects_unknown_or_out_of_range_settings():
    with pytest.raises(ValueError, match="unknown explorer setting"):
        FactorizationExplorer(kernel=3)
    with pytest.raises(ValueError, match="outside the explorer's range"):
        FactorizationExplorer(n=11)


def test_static_twin_is_the_explorers_figure_with_the_defaults():
    explorer = FactorizationExplorer()
    twin = plot_view(fc.explorer_view(fc.EXPLORER_DEFAULTS))
    assert drawn(twin) == drawn(explorer.figure) and len(drawn(twin)) == 6  # 3 variants x (params, MACs)
    assert alt_text(twin) == alt_text(explorer.figure)
    explorer.sliders["n"].value = 5
    assert drawn(plot_view(fc.explorer_view(dict(fc.EXPLORER_DEFAULTS, n=5)))) == drawn(explorer.figure)
    assert table_html(fc.explorer_view()["table"]).count("<tr>") == 4
    plt.close("all")


CASES = [  # (checker, right answer, a typical wrong answer, words its hint must contain)
    (e4.macs_saved_n7, 372_879_360, 149_151_744, "*saves*"),
    (e4.macs_saved_n7, 372_879_360, 522_031_104, "cost of the 7x7"),
    (e4.macs_saved_n7, 372_879_360, 745_758_720, "FLOPs"),
    (e4.macs_saved_n7, 372_879_360, 1_290_240, "one output position"),
    (e4.macs_saved_n7, 372_879_360, 186_439_680, "Both factors"),
    (e4.stack_params, 110_784, 110_592, "bias"),
    (e4.stack_params, 110_784, 36_928, "one 3x3 layer"),
    (e4.stack_params, 110_784, 200_768, "7x7 convolution being replaced"),
    (e4.stack_params, 110_784, 73_856, "5x5 window"),
    (e4.stack_field, 21, 15, "2 input pixels apart"),
    (e4.stack_field, 21, 9, "after the pooling"),
]


@pytest.mark.parametrize("checker, right, wrong, hint", CASES)
def test_checkers_confirm_right_and_hint_wrong_answers(checker, right, wrong, hint):
    good, bad = checker(right), checker(wrong)
    assert good.correct and str(good).startswith("Correct!")
    assert not bad.correct and hint in str(bad)


@pytest.mark.parametrize("checker", [e4.macs_saved_n7, e4.stack_params, e4.stack_field])
def test_checkers_reject_non_numbers_and_near_misses(checker):
    right = next(case[1] for case in CASES if case[0] is checker)
    for answer in (None, "42", True):
        assert "should be a number" in str(checker(answer))
    assert not checker(right + 1).correct
