"""The cost explorers' charts (one function, :func:`plot_view`, for the explorer and its static twin) and chapter 4's
sweep carry alt text built from their data and draw what the view says."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from inception_lab.cost import factorization as fc  # noqa: E402
from inception_lab.cost import grid_reduction as gr  # noqa: E402
from inception_lab.cost import inception  # noqa: E402
from inception_lab.viz.cost_charts import plot_sweep, plot_view, view_colours  # noqa: E402
from inception_lab.viz.display import alt_text  # noqa: E402


def _hex(colour) -> str:
    return matplotlib.colors.to_hex(colour).upper()


def test_chapter1_static_twin_stacks_the_branches():
    fig = plot_view(inception.explorer_view(inception.INCEPTION_3A))
    widths = [sum(p.get_width() for p in fig.axes[1].patches if p.get_y() < y < p.get_y() + p.get_height())
              for y in (0, 1)]
    assert widths == pytest.approx([303.464448, 128.049152])  # MACs panel, in millions: naive, reduced
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["1x1", "1x1 -> 3x3", "1x1 -> 5x5",
                                                                  "3x3 max-pool -> 1x1"]  # the reduced module's
    assert sorted({p.get_gid() for p in fig.axes[0].patches}) == ["branch1", "branch2", "branch3", "branch4"]
    plt.close(fig)


def test_chapter4_static_twin_and_sweep_name_every_variant_with_its_numbers():
    view = fc.explorer_view()
    fig = plot_view(view)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("-71.4 %" in t for t in texts) and any("-44.9 %" in t for t in texts)
    text = alt_text(fig)
    assert all(r["name"] in text and f"{r['params']:,}" in text and f"{r['macs']:,}" in text for r in view["rows"])
    sweep = fc.sweep_n(range(2, 10), in_channels=192, out_channels=192, grid=17)
    fig = plot_sweep(sweep)
    assert len(fig.axes[0].lines) == 3
    text = alt_text(fig)
    assert "at n = 2" in text and "at n = 9" in text and "1 - 2/n" in text
    # the sweep's lines take the explorer's colour of their variant
    lines = {line.get_gid(): _hex(line.get_color()) for line in fig.axes[0].lines if line.get_gid()}
    assert lines == {k: _hex(c) for k, c in view_colours(view).items() if k in ("asymmetric", "stacked")}
    plt.close("all")


def test_chapter5_static_twin_names_every_strategy_and_the_output_size():
    view = gr.explorer_view(gr.MIXED_6A_SETTING)
    fig = plot_view(view)
    assert len(fig.axes) == 3
    text = alt_text(fig)
    assert all(r["label"] in text and f"{r['macs']:,}" in text for r in view["rows"])
    c, h, w = view["rows"][0]["output"]
    assert f"{c * h * w:,}" in text
    assert [line.get_xdata()[0] for line in fig.axes[2].lines] == [c * h * w / 1e3]  # the output-size marker
    plt.close(fig)


def test_every_view_chart_carries_the_views_alt_text_and_its_segment_colours():
    for view in (inception.explorer_view({}), fc.explorer_view({}), gr.explorer_view({})):
        fig = plot_view(view)
        assert alt_text(fig) == " ".join(view["alt"].split())
        drawn = {p.get_gid(): _hex(p.get_facecolor()) for ax in fig.axes for p in ax.patches if p.get_gid()}
        assert drawn == {k: _hex(c) for k, c in view_colours(view).items()}
        plt.close(fig)


def test_a_view_without_charts_is_refused_with_its_reason():
    with pytest.raises(ValueError, match="out_channels must exceed in_channels"):
        plot_view(gr.explorer_view(dict(out_channels=288)))
