"""The chapter-5 explorer: pool first vs conv first vs the parallel module [Rethinking, §5, Figs. 9-10].

Thin ipywidgets wiring over :func:`inception_lab.cost.grid_reduction.explorer_view`, the explorer's one entry point
(pure, torch-free; the book's live explorer draws the same view in the browser), drawn by
:func:`~inception_lab.viz.cost_charts.plot_view`. Its static twin: the text table :func:`comparison_text` and
``plot_view(explorer_view(MIXED_6A_SETTING))``, the explorer's chart with the defaults.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from inception_lab.cost.grid_reduction import EXPLORER_CONTROLS, MIXED_6A_SETTING, explorer_view
from inception_lab.cost.view import check_settings
from inception_lab.viz.cost_charts import plot_view
from inception_lab.widgets import Explorer, table_html


def comparison_text(rows: Sequence[dict]) -> str:
    """The strategies as a fixed-width table: parameters, MACs, MACs vs pool first, sizes after the first step."""
    base = rows[0]["macs"]
    lines = [f"{'strategy':<20} {'params':>11} {'MACs':>15} {'vs pool first':>13} {'after 1st op':>14} "
             f"{'narrowest':>10}"]
    for r in rows:
        c, h, w = r["after_first"]
        lines.append(f"{r['label']:<20} {r['params']:>11,} {r['macs']:>15,} {r['macs'] / base:>12.2f}x "
                     f"{f'{c}x{h}x{w}':>14} {r['narrowest_numel']:>10,}")
    return "\n".join(lines)


class GridReductionExplorer(Explorer):
    """Sliders for d, k, the output width and the split between branches; toggles for the pooling and the kernel.

    Attributes:
        sliders: ``size``, ``in_channels``, ``out_channels`` (``IntSlider``) and ``split`` (``FloatSlider``); names
            and ranges: :data:`~inception_lab.cost.grid_reduction.EXPLORER_CONTROLS`.
        pool: ``ToggleButtons`` (max / avg); kernel: ``ToggleButtons`` (1 / 3) for pool first and conv first.
        table: ``HTML`` read-out; plot: ``Output`` with the bars; message: ``HTML`` for settings that cannot be built.
        view: the plain data shown now (:func:`~inception_lab.cost.grid_reduction.explorer_view`); ``rows`` its
            strategies (those of :func:`~inception_lab.cost.grid_reduction.compare_strategies`; empty when the
            setting cannot be built).
        figure: the matplotlib figure now shown.
    """

    def __init__(self, size: int = 35, in_channels: int = 288, out_channels: int = 768, split: float = 0.8,
                 pool: str = "max", kernel: int = 3) -> None:
        values = check_settings(EXPLORER_CONTROLS, dict(size=size, in_channels=in_channels, out_channels=out_channels,
                                                        split=split, pool=pool, kernel=kernel))
        self.sliders: dict[str, W.Widget] = {}
        toggles: dict[str, W.ToggleButtons] = {}
        for c in EXPLORER_CONTROLS:
            if c.kind == "choice":
                toggles[c.name] = W.ToggleButtons(options=list(c.choices), value=values[c.name], description=c.label)
                continue
            slider = W.IntSlider if c.kind == "int" else W.FloatSlider
            self.sliders[c.name] = slider(value=values[c.name], min=c.minimum, max=c.maximum, step=c.step,
                                          description=c.label, continuous_update=False,
                                          style={"description_width": "80px"})
        self.pool, self.kernel = toggles["pool"], toggles["kernel"]
        self.table, self.message, self.plot = W.HTML(), W.HTML(), W.Output()
        for control in (*self.sliders.values(), self.pool, self.kernel):
            control.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([W.VBox(list(self.sliders.values())), W.VBox([self.pool, self.kernel])]),
                              self.message, self.table, self.plot])
        self.view: dict[str, Any] = {}
        self.figure: Figure | None = None
        self.update()

    @property
    def rows(self) -> list[dict]:
        """The strategies shown now (plain data; empty when the setting cannot be built)."""
        return self.view["rows"]

    def values(self) -> dict[str, object]:
        """Current settings, by the names of :data:`~inception_lab.cost.grid_reduction.EXPLORER_CONTROLS`."""
        return dict({name: s.value for name, s in self.sliders.items()}, pool=self.pool.value, kernel=self.kernel.value)

    def update(self) -> None:
        """Recompute the view and redraw from it; a setting that cannot be built shows why instead of numbers."""
        self.view = explorer_view(self.values())
        if self.view.get("error"):
            self.message.value = f"<b>{html.escape(self.view['error'])}</b>"
            self.table.value = ""
            with self.plot:
                self.plot.clear_output()
            return
        self.message.value = ""
        self.table.value = table_html(self.view["table"])
        with self.plot:
            self.plot.clear_output(wait=True)
            self.figure = plot_view(self.view)
            display(self.figure)
            plt.close(self.figure)

    def _on_change(self, change: dict) -> None:
        self.update()


__all__ = ["MIXED_6A_SETTING", "comparison_text", "GridReductionExplorer"]
