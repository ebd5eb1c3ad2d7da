"""Interactive explorers, one file per topic, and the base every explorer shares.

* :mod:`~inception_lab.widgets.inception_module` -- naive vs reduced Inception module cost (chapter 1).
* :mod:`~inception_lab.widgets.feature_maps` -- what a trained network's branches respond to (chapter 2).
* :mod:`~inception_lab.widgets.factorization` -- n x n against its factorizations (chapter 4).
* :mod:`~inception_lab.widgets.grid_reduction` -- pool first vs conv first vs the parallel module (chapter 5).

Every explorer computes with pure functions that are tested without a kernel, exposes its controls and read-outs as
attributes (so tests can set a slider and read what it shows), and has a static twin -- the same figure and table
drawn with default values -- for the rendered book, where no kernel runs.
"""

from __future__ import annotations

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
