"""The explorer driven programmatically, and the exercise checkers with right and wrong answers."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from inception_lab import cost  # noqa: E402
from inception_lab.exercises import inception_module as e1  # noqa: E402
from inception_lab.widgets.inception_module import INCEPTION_3A, InceptionExplorer, comparison_rows, comparison_text  # noqa: E402


def bar_totals(explorer):
    """Lengths of the stacked bars in the MACs panel of the explorer's current figure."""
    ax = explorer.figure.axes[1]
    return [sum(p.get_width() for p in ax.patches if p.get_y() < y < p.get_y() + p.get_height()) for y in (0, 1)]


def test_explorer_defaults_show_inception_3a():
    explorer = InceptionExplorer()
    assert explorer.values() == INCEPTION_3A
    assert "128,049,152" in explorer.table.value and "303,464,448" in explorer.table.value
    assert bar_totals(explorer) == pytest.approx([303.464448, 128.049152])  # MACs panel, in millions


def test_explorer_updates_when_a_slider_moves():
    explorer = InceptionExplorer()
    explorer.sliders["in_channels"].value = 384
    expected = cost.compare_inception_modules(**{**INCEPTION_3A, "in_channels": 384})
    assert explorer.modules == expected
    assert f"{expected['naive'].total.macs:,}" in explorer.table.value
    assert "<td>608</td>" in explorer.table.value  # naive: 384 + 64 + 128 + 32 channels
    explorer.sliders["pool_proj"].value = 64
    assert explorer.modules["reduced"].out_channels == 64 + 128 + 32 + 64
    both = cost.compare_inception_modules(**{**INCEPTION_3A, "in_channels": 384, "pool_proj": 64})
    assert bar_totals(explorer) == pytest.approx([m.total.macs / 1e6 for m in both.values()])


def test_explorer_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown explorer setting"):
        InceptionExplorer(channels=3)
    with pytest.raises(ValueError, match="outside the explorer's range"):
        InceptionExplorer(in_channels=100000)


def test_static_twin_text_matches_rows_and_its_figure_is_the_explorers():
    modules = cost.compare_inception_modules(**INCEPTION_3A)
    rows = comparison_rows(modules)
    assert rows[1]["macs_ratio"] == pytest.approx(128049152 / 303464448)
    text = comparison_text(modules)
    assert "naive" in text and "416" in text and "0.42x" in text
    from inception_lab.cost.inception import explorer_view
    from inception_lab.viz.cost_charts import plot_view
    from inception_lab.viz.display import alt_text

    twin, explorer = plot_view(explorer_view(INCEPTION_3A)), InceptionExplorer()
    assert alt_text(twin) == alt_text(explorer.figure)
    assert [(p.get_gid(), p.get_width(), p.get_facecolor()) for ax in twin.axes for p in ax.patches] == [
        (p.get_gid(), p.get_width(), p.get_facecolor()) for ax in explorer.figure.axes for p in ax.patches]


def test_pointwise_checker():
    def right(x, w, b):
        return torch.einsum("nchw,oc->nohw", x, w[:, :, 0, 0]) + b[None, :, None, None]

    def no_bias(x, w, b):
        return torch.einsum("nchw,oc->nohw", x, w[:, :, 0, 0])

    def crashes(x, w, b):
        raise RuntimeError("oops")

    assert e1.pointwise_as_linear(right).correct
    assert "forget the bias" in str(e1.pointwise_as_linear(no_bias))
    assert "raised RuntimeError" in str(e1.pointwise_as_linear(crashes))
    assert "must have shape" in str(e1.pointwise_as_linear(lambda x, w, b: None))
    assert not e1.pointwise_as_linear(42).correct


def test_explorers_display_on_ipywidgets_7_and_8(capsys):
    # ipywidgets 7 (Colab) widgets have no _repr_mimebundle_: an explorer must display through
    # _ipython_display_, which hands the widget to IPython's display() on both major versions.
    from inception_lab.widgets import Explorer
    from inception_lab.widgets.feature_maps import FeatureMapExplorer

    for cls in (InceptionExplorer, FeatureMapExplorer):
        assert issubclass(cls, Explorer) and "_repr_mimebundle_" not in vars(cls)
    explorer = InceptionExplorer()
    explorer._ipython_display_()
    assert "VBox" in capsys.readouterr().out  # outside a kernel, display() prints the widget's repr
