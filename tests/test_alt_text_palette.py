"""Figures carry alternative text written by the code that draws them; charts use the colour-blind-safe palette."""

import base64
import dataclasses
import hashlib
import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import load_module  # noqa: E402

from inception_lab import cost, palette  # noqa: E402
from inception_lab.models import googlenet as gn  # noqa: E402
from inception_lab.viz import diagrams, display, experiment_charts, plotting  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_palette_is_okabe_ito_and_used_by_diagrams_and_charts():
    assert len(palette.OKABE_ITO) == 8 and set(palette.CYCLE) == set(palette.OKABE_ITO.values())
    assert palette.series_colour(0) == palette.OKABE_ITO["blue"] and palette.series_colour(8) == palette.CYCLE[0]
    assert {c for k, c in diagrams.COLOURS.items() if k != "io"} <= set(palette.OKABE_ITO.values())


def test_the_palette_is_written_once():
    """Its one home imports nothing (the browser loads it); no other library, book-script or style file spells an
    Okabe-Ito colour."""
    import ast

    home = ROOT / "inception_lab" / "palette.py"
    assert not [n for n in ast.walk(ast.parse(home.read_text())) if isinstance(n, (ast.Import, ast.ImportFrom))]
    hexes = {c.lower() for c in palette.OKABE_ITO.values() if c != "#000000"}
    files = [*(ROOT / "inception_lab").rglob("*.py"), *(ROOT / "book" / "_live").glob("*.*")]
    spelled = {f.relative_to(ROOT).as_posix() for f in files if f != home
               for c in hexes if c in f.read_text(errors="ignore").lower()}
    assert spelled == set()


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_series_colour_rejects_bad_index(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        palette.series_colour(bad)


def test_drawing_functions_attach_alt_text():
    fig = diagrams.draw_module(cost.reduced_spec(64, 96, 128, 16, 32, 32), (192, 28, 28), title="Fig. 2b")
    assert display.alt_text(fig).startswith("Block diagram of the Fig. 2b: 4 parallel branches")
    assert "256 x 28 x 28" in display.alt_text(fig)
    fig = diagrams.draw_network(gn.googlenet(), 224, 224)
    assert "inception3a" in display.alt_text(fig) and "1024 x 7 x 7" in display.alt_text(fig)
    fig = plotting.plot_branches({"b1": np.zeros((4, 8, 8)), "b2": np.zeros((1, 2, 5, 5))}, channels=2)
    assert display.alt_text(fig).endswith("b1 (4 channels of 8 x 8); b2 (2 channels of 5 x 5).")
    ax = plotting.plot_image(np.zeros((3, 6, 7)), title="a photo")
    assert display.alt_text(ax.figure) == "The input image: a photo (6 x 7 pixels)."


def test_show_needs_alt_text_and_rejects_empty_text():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    with pytest.raises(ValueError, match="no alternative text"):
        display.show(fig)
    with pytest.raises(ValueError, match="non-empty string"):
        display.set_alt_text(fig, "  ")
    plt.close(fig)


def test_show_puts_alt_text_in_the_image_output_metadata(monkeypatch):
    import matplotlib.pyplot as plt

    published = []

    def fake_display(obj, metadata=None):
        published.append(metadata)

    monkeypatch.setattr("IPython.display.display", fake_display)
    fig = display.set_alt_text(plt.figure(), "An empty   figure.")
    display.show(fig)
    assert published == [{"image/png": {"alt": "An empty figure."}}]
    assert fig.number not in plt.get_fignums(), "show closes the figure"


def test_build_hook_maps_output_metadata_to_image_names(tmp_path):
    figure_alt = load_module("book/_theme/figure_alt.py")

    png = b"\x89PNG fake bytes"
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(png).decode()},
         "metadata": {"image/png": {"alt": "A chart."}}},
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(b"other").decode()}, "metadata": {}}]}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    assert figure_alt.notebook_alt_texts(path) == {hashlib.sha256(png).hexdigest(): "A chart."}
    assert figure_alt.notebook_alt_list(path) == ["A chart.", None]


def test_build_hook_falls_back_to_position_when_a_figure_was_redrawn(tmp_path):
    """`make book` re-executes: a measured figure's bytes (so its file name) differ from the committed output's."""
    from docutils import nodes
    from docutils.utils import new_document

    figure_alt = load_module("book/_theme/figure_alt.py")

    outputs = [{"output_type": "display_data", "data": {"image/png": base64.b64encode(b).decode()},
                "metadata": {"image/png": {"alt": alt}}} for b, alt in ((b"one", "First."), (b"two", "Second."))]
    removed = {"cell_type": "code", "metadata": {"tags": ["remove-output"]}, "outputs": [outputs[0]]}
    path = tmp_path / "chapter.ipynb"
    path.write_text(json.dumps({"cells": [removed, {"cell_type": "code", "metadata": {}, "outputs": outputs}]}))
    doctree = new_document("chapter")
    redrawn = [nodes.image(uri=f"../_images/{hashlib.sha256(b).hexdigest()}.png") for b in (b"1ne", b"two")]
    for image in [nodes.image(uri="diagram.png"), *redrawn]:  # a markdown image is not an output
        doctree += image

    class Env:
        def doc2path(self, docname):
            return str(path)

    figure_alt._copy_alt_texts(type("App", (), {"env": Env()})(), doctree, "chapter")
    assert [image.get("alt") for image in doctree.findall(nodes.image)] == [None, "First.", "Second."]


def _hex(colour) -> str:
    return matplotlib.colors.to_hex(colour).upper()


def test_knockout_heat_map_describes_its_largest_drops():
    from test_knockout import _result

    ax = experiment_charts.plot_knockout(_result())
    text = display.alt_text(ax.figure)
    assert text == experiment_charts.describe_knockout(_result())
    assert "toy" in text and "baseline 90.0 % on 100 test images" in text and "(m1, m2)" in text
    # drops: m1/a 40, m2/a 20, m1/b 2, m2/b 1, m1/c -1 points; largest three in order, two at 1 point or less
    assert "Largest drops: m1 1x1 (40.0 points); m2 1x1 (20.0 points); m1 3x3 (2.0 points)." in text
    assert "2 of the 5 knock-outs cost 1 point or less" in text


def test_lab_chart_describes_each_preset_and_uses_the_palette():
    from test_lab import _results

    results = _results({"a": [0.80, 0.90, 0.85], "b": [0.50, 0.55, 0.52]})
    axes = experiment_charts.plot_lab_results(results)
    text = display.alt_text(axes[0].figure)
    assert "a: mean 85.0 % (seeds 80.0 to 90.0 %)" in text and "b: mean 52.3 % (seeds 50.0 to 55.0 %)" in text
    assert "3 seeds" in text and "(CPU)" in text
    colours = {_hex(c) for ax in axes for coll in ax.collections for c in coll.get_facecolors()}
    assert colours == {_hex(palette.series_colour(0)), _hex(palette.series_colour(1))}
    with pytest.raises(ValueError, match="time_key"):
        experiment_charts.describe_lab_results(results, "gpu_time_s")


def test_lab_curves_and_paired_differences_describe_their_data():
    from test_lab import _results

    a = [0.40, 0.50, 0.60, 0.70, 0.80]
    results = _results({"a": a, "b": [x + 0.01 for x in a]})
    for run in results.runs:  # four epochs: the final accuracy reached in steps of a quarter
        run.test_acc_curve = [run.test_acc * k / 4 for k in range(1, 5)]
    ax = experiment_charts.plot_lab_curves(results, labels={"a": "arm A"})
    text = display.alt_text(ax.figure)
    assert text == experiment_charts.describe_lab_curves(results, {"a": "arm A"})
    assert "arm A: epoch 1 15.0 %, epoch 2 30.0 %, epoch 4 60.0 %" in text and "5 seeds" in text
    assert [line.get_color() for line in ax.get_lines()] == [palette.series_colour(0), palette.series_colour(1)]
    ax = experiment_charts.plot_paired_differences(results)
    text = display.alt_text(ax.figure)
    assert "b minus a: mean +1.0 points, interval +1.0 to +1.0, 5 of 5 seeds agree, p = 0.062, a finding" in text
    assert {_hex(c) for coll in ax.collections for c in coll.get_facecolors()} == {_hex(palette.OKABE_ITO["blue"])}
    from test_knockout import _result

    mean_ablation = dataclasses.replace(_result(), ablation="mean")
    assert "replaced by its mean" in experiment_charts.describe_knockout(mean_ablation)


def test_gradient_maps_say_their_sizes_and_whether_they_fill_the_window():
    import torch
    from torch import nn

    from inception_lab.experiments import receptive_field as rf

    stacks = {"5x5": nn.Conv2d(1, 1, 5, padding=2), "two 3x3": nn.Sequential(nn.Conv2d(1, 1, 3, padding=1),
                                                                              nn.Conv2d(1, 1, 3, padding=1))}
    maps = {name: rf.gradient_map(m, 1, 11, generator=torch.Generator().manual_seed(0)) for name, m in stacks.items()}
    boxes = {"5x5": maps["5x5"].box, "two 3x3": (0, 10, 0, 10)}
    fig = experiment_charts.plot_gradient_maps(maps, boxes, crop=7)
    text = display.alt_text(fig)
    assert text.startswith("2 heat maps side by side") and "a 7 x 7 crop" in text
    assert "5x5: non-zero gradient on 5 x 5 pixels, exactly the computed window" in text
    assert "two 3x3: non-zero gradient on 5 x 5 pixels, the computed window is 11 x 11" in text
    outlines = [p for ax in fig.axes for p in ax.patches]
    assert outlines and {_hex(p.get_edgecolor()) for p in outlines} == {palette.OKABE_ITO["sky blue"]}
    assert "the whole input" in experiment_charts.describe_gradient_maps(maps)


def test_feature_map_selection_describes_the_selection():
    import torch

    from inception_lab.viz.feature_maps import plot_feature_map_selection

    stack = torch.zeros(6, 4, 4)
    stack[1, 2, 2], stack[4, 0, 0] = 2.5, 1.0
    maps = {"inception3a": {"branch2": stack}}
    fig = plot_feature_map_selection(torch.zeros(3, 32, 32), maps, "inception3a", "branch2", 1, label="1x1 -> 3x3")
    text = display.alt_text(fig)
    assert text.startswith("Feature maps of inception3a / 1x1 -> 3x3: the 32 x 32 input image, channel 1 enlarged")
    assert "channel 1 enlarged (4 x 4 heat map, max 2.50)" in text and "2 of the 6 channels respond" in text
    framed = {_hex(ax.spines["top"].get_edgecolor()) for ax in fig.axes if ax.spines["top"].get_visible()
              and ax.images and not ax.get_title()}
    assert framed == {palette.OKABE_ITO["vermillion"]}


# --- every figure a chapter shows carries its text --------------------------------------------------------------

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))

def _figure_cells(path):
    for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if cell["cell_type"] == "code":
            yield index, "".join(cell["source"]), cell.get("outputs", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_of_the_notebook_has_alt_text(path):
    missing, no_show = [], []
    for index, source, outputs in _figure_cells(path):
        if "plt.show()" in source:
            no_show.append(index)
        for output in outputs:
            if "image/png" in output.get("data", {}) and not output.get("metadata", {}).get("image/png", {}).get("alt"):
                missing.append(index)
    assert no_show == [], f"cells {no_show} use plt.show(): show figures with inception_lab.viz.display.show"
    assert missing == [], f"cells {missing} hold a figure without alternative text"
