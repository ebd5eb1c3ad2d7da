"""Figures carry alternative text written by the code that draws them; charts use the colour-blind-safe palette."""

import base64
import hashlib
import json
import sys

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from inception_lab import cost, diagrams, notebook, palette, plotting  # noqa: E402
from inception_lab.models import googlenet as gn  # noqa: E402


def test_palette_is_okabe_ito_and_used_by_diagrams_and_charts():
    assert len(palette.OKABE_ITO) == 8 and set(palette.CYCLE) == set(palette.OKABE_ITO.values())
    assert palette.series_colour(0) == palette.OKABE_ITO["blue"] and palette.series_colour(8) == palette.CYCLE[0]
    assert {c for k, c in diagrams.COLOURS.items() if k != "io"} <= set(palette.OKABE_ITO.values())


def test_module_comparison_bars_take_palette_colours():
    from inception_lab.widgets.inception_module import INCEPTION_3A

    fig = plotting.plot_module_comparison(cost.compare_inception_modules(**INCEPTION_3A))
    faces = {matplotlib.colors.to_hex(p.get_facecolor()).upper() for ax in fig.axes for p in ax.patches}
    assert faces and faces <= {c.upper() for c in palette.CYCLE}


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_series_colour_rejects_bad_index(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        palette.series_colour(bad)


def test_drawing_functions_attach_alt_text():
    fig = diagrams.draw_module(cost.reduced_spec(64, 96, 128, 16, 32, 32), (192, 28, 28), title="Fig. 2b")
    assert notebook.alt_text(fig).startswith("Block diagram of the Fig. 2b: 4 parallel branches")
    assert "256 x 28 x 28" in notebook.alt_text(fig)
    fig = diagrams.draw_network(gn.googlenet(), 224, 224)
    assert "inception3a" in notebook.alt_text(fig) and "1024 x 7 x 7" in notebook.alt_text(fig)
    fig = plotting.plot_branches({"b1": np.zeros((4, 8, 8)), "b2": np.zeros((1, 2, 5, 5))}, channels=2)
    assert notebook.alt_text(fig).endswith("b1 (4 channels of 8 x 8); b2 (2 channels of 5 x 5).")
    ax = plotting.plot_image(np.zeros((3, 6, 7)), title="a photo")
    assert notebook.alt_text(ax.figure) == "The input image: a photo (6 x 7 pixels)."


def test_show_needs_alt_text_and_rejects_empty_text():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    with pytest.raises(ValueError, match="no alternative text"):
        notebook.show(fig)
    with pytest.raises(ValueError, match="non-empty string"):
        notebook.set_alt_text(fig, "  ")
    plt.close(fig)


def test_show_puts_alt_text_in_the_image_output_metadata(monkeypatch):
    import matplotlib.pyplot as plt

    published = []

    def fake_display(obj, metadata=None):
        published.append(metadata)

    monkeypatch.setattr("IPython.display.display", fake_display)
    fig = notebook.set_alt_text(plt.figure(), "An empty   figure.")
    notebook.show(fig)
    assert published == [{"image/png": {"alt": "An empty figure."}}]
    assert fig.number not in plt.get_fignums(), "show closes the figure"


def test_build_hook_maps_output_metadata_to_image_names(tmp_path):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "book" / "_theme"))
    import figure_alt

    png = b"\x89PNG fake bytes"
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(png).decode()},
         "metadata": {"image/png": {"alt": "A chart."}}},
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(b"other").decode()}, "metadata": {}}]}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    assert figure_alt.notebook_alt_texts(path) == {hashlib.sha256(png).hexdigest(): "A chart."}
