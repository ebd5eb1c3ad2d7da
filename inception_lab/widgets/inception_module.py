"""The chapter-1 explorer: naive [GoogLeNet, Fig. 2a] vs reduced [Fig. 2b] Inception module, parameters and MACs.

Thin ipywidgets wiring over :func:`inception_lab.cost.compare_inception_modules`; the table and the figure it shows
are also its static twin (:func:`comparison_text`, :func:`~inception_lab.plotting.plot_module_comparison`).
"""

from __future__ import annotations

import html
from typing import Mapping

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display

from inception_lab.cost import ModuleCost, compare_inception_modules
from inception_lab.plotting import plot_module_comparison
from inception_lab.widgets import Explorer

#: Defaults of the chapter-1 explorer: inception (3a) of GoogLeNet's Table 1 on its 28x28x192 input.
INCEPTION_3A = dict(in_channels=192, size=28, ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32,
                    pool_proj=32)

_SLIDER_RANGES = dict(in_channels=(16, 1024, 16), size=(7, 56, 7), ch1x1=(8, 512, 8), ch3x3red=(8, 512, 8),
                      ch3x3=(8, 512, 8), ch5x5red=(8, 256, 8), ch5x5=(8, 256, 8), pool_proj=(8, 256, 8))
_SLIDER_LABELS = dict(in_channels="input ch", size="grid H=W", ch1x1="#1x1", ch3x3red="#3x3 reduce",
                      ch3x3="#3x3", ch5x5red="#5x5 reduce", ch5x5="#5x5", pool_proj="pool proj")


def comparison_rows(modules: Mapping[str, ModuleCost]) -> list[dict[str, object]]:
    """One row per module variant: output channels, parameters, MACs, and MACs relative to the first variant."""
    first = next(iter(modules.values())).total.macs
    return [dict(variant=name, out_channels=m.out_channels, params=m.total.params, macs=m.total.macs,
                 macs_ratio=m.total.macs / first) for name, m in modules.items()]


def comparison_text(modules: Mapping[str, ModuleCost]) -> str:
    """The comparison as a fixed-width text table (the static twin of the explorer's read-out)."""
    lines = [f"{'variant':<10} {'out ch':>7} {'params':>12} {'MACs':>15} {'MACs vs first':>14}"]
    for r in comparison_rows(modules):
        lines.append(f"{r['variant']:<10} {r['out_channels']:>7} {r['params']:>12,} {r['macs']:>15,} "
                     f"{r['macs_ratio']:>13.2f}x")
    return "\n".join(lines)


def comparison_html(modules: Mapping[str, ModuleCost]) -> str:
    """The comparison as an HTML table (what the live explorer shows)."""
    head = "".join(f"<th>{h}</th>" for h in ("variant", "out ch", "params", "MACs", "MACs vs first"))
    body = "".join(
        f"<tr><td>{html.escape(str(r['variant']))}</td><td>{r['out_channels']}</td><td>{r['params']:,}</td>"
        f"<td>{r['macs']:,}</td><td>{r['macs_ratio']:.2f}x</td></tr>" for r in comparison_rows(modules))
    return f"<table><tr>{head}</tr>{body}</table>"


class InceptionExplorer(Explorer):
    """Sliders for the input and every branch width; shows naive [Fig. 2a] vs reduced [Fig. 2b] module cost.

    Attributes:
        sliders: name -> ``IntSlider`` (names are the arguments of
            :func:`~inception_lab.cost.compare_inception_modules`).
        table: ``HTML`` widget with the comparison table.
        plot: ``Output`` widget with the stacked bar chart.
        widget: the whole explorer (display it, or just put the explorer last in a cell).
        modules: the :class:`~inception_lab.cost.ModuleCost` of each variant for the current slider values.
        figure: the matplotlib figure currently shown in ``plot``.
    """

    def __init__(self, **defaults: int) -> None:
        unknown = set(defaults) - set(INCEPTION_3A)
        if unknown:
            raise ValueError(f"unknown explorer setting(s) {sorted(unknown)}; allowed: {sorted(INCEPTION_3A)}.")
        values = {**INCEPTION_3A, **defaults}
        self.sliders: dict[str, W.IntSlider] = {}
        for name, (lo, hi, step) in _SLIDER_RANGES.items():
            value = values[name]
            if not lo <= value <= hi:
                raise ValueError(f"{name}={value} is outside the explorer's range {lo}..{hi}.")
            self.sliders[name] = W.IntSlider(value=value, min=lo, max=hi, step=1 if name == "size" else step,
                                             description=_SLIDER_LABELS[name], continuous_update=False,
                                             style={"description_width": "90px"})
        self.table = W.HTML()
        self.plot = W.Output()
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([W.VBox(list(self.sliders.values())[:4]),
                                      W.VBox(list(self.sliders.values())[4:])]), self.table, self.plot])
        self.modules: dict[str, ModuleCost] = {}
        self.update()

    def values(self) -> dict[str, int]:
        """Current slider values."""
        return {name: s.value for name, s in self.sliders.items()}

    def update(self) -> None:
        """Recompute the costs and redraw the read-outs."""
        self.modules = compare_inception_modules(**self.values())
        self.table.value = comparison_html(self.modules)
        with self.plot:
            self.plot.clear_output(wait=True)
            self.figure = plot_module_comparison(self.modules,
                                                 title="naive [Fig. 2a] vs with 1x1 reductions [Fig. 2b]")
            display(self.figure)
            plt.close(self.figure)  # shown once in the Output widget, not again by the inline backend

    def _on_change(self, change: dict) -> None:
        self.update()


