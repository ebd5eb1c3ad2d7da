"""Interactive explorers, one file per topic, and the base every explorer shares.

* :mod:`~inception_lab.widgets.inception_module` -- naive vs reduced Inception module cost (chapter 1).
* :mod:`~inception_lab.widgets.feature_maps` -- what a trained network's branches respond to (chapter 2).
* :mod:`~inception_lab.widgets.factorization` -- n x n against its factorizations (chapter 4).
* :mod:`~inception_lab.widgets.grid_reduction` -- pool first vs conv first vs the parallel module (chapter 5).

Every explorer is thin wiring over pure functions that are tested without a kernel (the computation in
:mod:`inception_lab.cost` or :mod:`inception_lab.experiments`, the drawing in :mod:`inception_lab.viz`), exposes its
controls and read-outs as attributes (so tests can set a slider and read what it shows), and has a static twin for
the rendered book, where no kernel runs: the same drawing function called with the default values. The cost
explorers draw the plain-data *view* of their entry point (:mod:`inception_lab.cost.view`) with :func:`table_html`
and :func:`inception_lab.viz.cost_charts.plot_view`; a chapter's static twin is
``show(plot_view(explorer_view(defaults)))``, and the book's live explorers draw the same view in the browser.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any


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
