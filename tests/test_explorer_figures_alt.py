"""The explorers' static figures (chapters 4, 5) and the widgets' charts carry alt text built from their data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from inception_lab.cost import factorization as fc  # noqa: E402
from inception_lab.cost import grid_reduction as gr  # noqa: E402
from inception_lab.viz.display import alt_text  # noqa: E402
from inception_lab.widgets import plot_view  # noqa: E402
from inception_lab.widgets.factorization import plot_sweep, plot_variants  # noqa: E402
from inception_lab.widgets.grid_reduction import MIXED_6A_SETTING, plot_strategies  # noqa: E402


def test_factorization_figures_name_every_variant_with_its_numbers():
    rows = fc.explore()
    text = alt_text(plot_variants(rows))
    assert all(r["name"] in text and f"{r['params']:,}" in text and f"{r['macs']:,}" in text for r in rows)
    sweep = fc.sweep_n(range(2, 10), in_channels=192, out_channels=192, grid=17)
    text = alt_text(plot_sweep(sweep))
    assert "at n = 2" in text and "at n = 9" in text and "1 - 2/n" in text
    plt.close("all")


def test_grid_reduction_figure_names_every_strategy_and_the_output_size():
    s = MIXED_6A_SETTING
    rows = gr.compare_strategies(s["size"], s["in_channels"], s["out_channels"], split=s["split"],
                                 kernel=s["kernel"], pool_kind=s["pool"])
    text = alt_text(plot_strategies(rows))
    assert all(r["label"] in text and f"{r['macs']:,}" in text for r in rows)
    c, h, w = rows[0]["output"]
    assert f"{c * h * w:,}" in text
    plt.close("all")


def test_widget_charts_carry_the_views_alt_text():
    for view in (fc.explorer_view({}), gr.explorer_view({})):
        assert alt_text(plot_view(view)) == " ".join(view["alt"].split())
    plt.close("all")
