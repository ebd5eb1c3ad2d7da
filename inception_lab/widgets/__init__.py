"""Interactive explorers, one file per topic, and the base every explorer shares.

* :mod:`~inception_lab.widgets.inception_module` -- naive vs reduced Inception module cost (chapter 1).
* :mod:`~inception_lab.widgets.feature_maps` -- what a trained network's branches respond to (chapter 2).
* :mod:`~inception_lab.widgets.factorization` -- n x n against its factorizations (chapter 4).
* :mod:`~inception_lab.widgets.grid_reduction` -- pool first vs conv first vs the parallel module (chapter 5).

Every explorer computes with pure functions that are tested without a kernel, exposes its controls and read-outs as
attributes (so tests can set a slider and read what it shows), and has a static twin -- the same figure and table
drawn with default values -- for the rendered book, where no kernel runs. The cost explorers draw the plain-data
*view* of their entry point (:mod:`inception_lab.cost.view`) with :func:`table_html` and :func:`plot_view`; the
book's live explorers draw the same view in the reader's browser.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from inception_lab.cost.view import PALETTE


class Explorer:
    """Base of the explorers: shows ``self.widget`` when the explorer is the last expression of a cell.

    ``_ipython_display_`` (not ``_repr_mimebundle_``) because it works with both ipywidgets 8 (Jupyter, local) and
    ipywidgets 7 (Google Colab), whose widgets have no ``_repr_mimebundle_``.
    """

    widget: Any

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def table_html(table: Mapping[str, list]) -> str:
    """A view's table (header labels, rows of preformatted cells) as an HTML table."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table["columns"])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                   for row in table["rows"])
    return f"<table><tr>{head}</tr>{body}</table>"


def plot_view(view: Mapping[str, Any]) -> Figure:
    """A view's bar panels side by side: stacked segments in :data:`~inception_lab.cost.view.PALETTE` colours,
    each bar's text at its end, the marker (if any) as a dashed line, the legend (if several series) on the last."""
    charts = view["charts"]
    n_bars = max(len(panel["bars"]) for panel in charts)
    fig, axes = plt.subplots(1, len(charts), figsize=(5 * len(charts), 0.9 + 0.6 * n_bars), squeeze=False)
    for ax, panel in zip(axes[0], charts):
        scale = panel["scale"]
        labels = [bar["label"] for bar in panel["bars"]]
        for y, bar in enumerate(panel["bars"]):
            left = 0.0
            for seg in bar["segments"]:
                ax.barh(y, seg["value"] / scale, left=left, color=PALETTE[seg["series"]])
                left += seg["value"] / scale
            ax.text(left, y, " " + bar["text"], va="center", fontsize=8)
        extent = max([bar["total"] for bar in panel["bars"]] + [panel["marker"]["value"] if panel["marker"] else 0])
        if panel["marker"]:
            ax.axvline(panel["marker"]["value"] / scale, color="#333333", linestyle="--", linewidth=0.8)
            ax.text(panel["marker"]["value"] / scale, len(labels) - 0.45, " " + panel["marker"]["label"], fontsize=7,
                    va="bottom")
        ax.set_yticks(range(len(labels)), labels if ax is axes[0][0] else [""] * len(labels))
        ax.invert_yaxis()
        ax.set_xlim(0, extent / scale * 1.6 or 1)
        ax.set_xlabel(f"{panel['title']} [{panel['suffix']}]")
    fig.suptitle(view["title"], fontsize=10)
    if any(len(bar["segments"]) > 1 for bar in charts[0]["bars"]):  # stacked bars: say what the pieces are
        handles = [plt.Rectangle((0, 0), 1, 1, color=PALETTE[item["series"]]) for item in view["legend"]]
        fig.legend(handles, [item["label"] for item in view["legend"]], loc="lower center",
                   ncol=len(handles), fontsize=8, frameon=False)
        fig.set_figheight(fig.get_figheight() + 0.4)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
    else:
        fig.tight_layout()
    from inception_lab.viz.display import set_alt_text

    return set_alt_text(fig, view["alt"]) if view.get("alt") else fig
