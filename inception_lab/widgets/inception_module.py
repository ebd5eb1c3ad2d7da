"""The chapter-1 explorer: naive [GoogLeNet, Fig. 2a] vs reduced [Fig. 2b] Inception module, parameters and MACs.

Thin ipywidgets wiring over :func:`inception_lab.cost.inception.explorer_view`, the explorer's one entry point (the
book's live explorer draws the same view in the browser). Its chart is
:func:`~inception_lab.viz.cost_charts.plot_view` of that view; the static twin is the same call with the defaults,
``plot_view(explorer_view(INCEPTION_3A))``, beside the text table :func:`comparison_text`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display

from inception_lab.cost import ModuleCost, compare_inception_modules
from inception_lab.cost.inception import EXPLORER_CONTROLS, INCEPTION_3A, comparison_rows, explorer_view
from inception_lab.cost.view import check_settings
from inception_lab.viz.cost_charts import plot_view
from inception_lab.widgets import Explorer, table_html


def comparison_text(modules: Mapping[str, ModuleCost]) -> str:
    """The comparison as a fixed-width text table (the static twin of the explorer's read-out)."""
    lines = [f"{'variant':<10} {'out ch':>7} {'params':>12} {'MACs':>15} {'MACs vs first':>14}"]
    for r in comparison_rows(modules):
        lines.append(f"{r['variant']:<10} {r['out_channels']:>7} {r['params']:>12,} {r['macs']:>15,} "
                     f"{r['macs_ratio']:>13.2f}x")
    return "\n".join(lines)


class InceptionExplorer(Explorer):
    """Sliders for the input and every branch width; shows naive [Fig. 2a] vs reduced [Fig. 2b] module cost.

    Attributes:
        sliders: name -> ``IntSlider`` (names and ranges: :data:`~inception_lab.cost.inception.EXPLORER_CONTROLS`,
            the arguments of :func:`~inception_lab.cost.compare_inception_modules`).
        table: ``HTML`` widget with the comparison table.
        plot: ``Output`` widget with the stacked bar chart.
        widget: the whole explorer (display it, or just put the explorer last in a cell).
        view: the plain data shown now (:func:`~inception_lab.cost.inception.explorer_view`).
        figure: the matplotlib figure currently shown in ``plot``.
    """

    def __init__(self, **defaults: int) -> None:
        values = check_settings(EXPLORER_CONTROLS, defaults)
        self.sliders: dict[str, W.IntSlider] = {
            c.name: W.IntSlider(value=values[c.name], min=c.minimum, max=c.maximum, step=c.step, description=c.label,
                                continuous_update=False, style={"description_width": "90px"})
            for c in EXPLORER_CONTROLS}
        self.table = W.HTML()
        self.plot = W.Output()
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([W.VBox(list(self.sliders.values())[:4]),
                                      W.VBox(list(self.sliders.values())[4:])]), self.table, self.plot])
        self.view: dict[str, Any] = {}
        self.update()

    @property
    def modules(self) -> dict[str, ModuleCost]:
        """The :class:`~inception_lab.cost.ModuleCost` of each variant behind the view (for notebooks and tests)."""
        return compare_inception_modules(**self.view["settings"])

    def values(self) -> dict[str, int]:
        """Current slider values."""
        return {name: s.value for name, s in self.sliders.items()}

    def update(self) -> None:
        """Recompute the view and redraw the read-outs from it."""
        self.view = explorer_view(self.values())
        self.table.value = table_html(self.view["table"])
        with self.plot:
            self.plot.clear_output(wait=True)
            self.figure = plot_view(self.view)
            display(self.figure)
            plt.close(self.figure)  # shown once in the Output widget, not again by the inline backend

    def _on_change(self, change: dict) -> None:
        self.update()


__all__ = ["INCEPTION_3A", "comparison_rows", "comparison_text", "InceptionExplorer"]
