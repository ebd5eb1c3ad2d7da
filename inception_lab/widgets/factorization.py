"""The chapter-4 explorer: an ``n x n`` convolution vs ``1 x n + n x 1`` vs a stack of 3x3 [Rethinking, §3].

Thin ipywidgets wiring over :func:`inception_lab.cost.factorization.explorer_view`, the explorer's one entry point
(pure, tested without a kernel; the book's live explorer draws the same view in the browser). Sliders for ``n``, the
input and output channels, the grid and the middle width of the factorized pair; bars of parameters and MACs with
the saving in % (:func:`~inception_lab.viz.cost_charts.plot_view`); a "measure" button that times the variants on
the current device with :func:`inception_lab.experiments.timing.time_modules`. Static twin for the book: the same
``plot_view(explorer_view())`` with the defaults, then :func:`~inception_lab.viz.cost_charts.plot_sweep` over
n = 2 ... 9 (with :func:`~inception_lab.cost.factorization.sweep_text`).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display

from inception_lab.cost.factorization import EXPLORER_CONTROLS, EXPLORER_DEFAULTS, explorer_view
from inception_lab.cost.view import check_settings
from inception_lab.viz.cost_charts import plot_view
from inception_lab.widgets import Explorer, table_html

#: Defaults: the paper's n = 7 on the 17x17 grid [Rethinking, Fig. 6] with 192 channels in, out and in the middle.
DEFAULTS = EXPLORER_DEFAULTS


class FactorizationExplorer(Explorer):
    """Sliders for n, channels, grid and middle width; bars and a table of the variants' cost; a measure button.

    Attributes:
        sliders: name -> ``IntSlider`` (the arguments of :func:`~inception_lab.cost.factorization.explore`; names and
            ranges: :data:`~inception_lab.cost.factorization.EXPLORER_CONTROLS`).
        table: ``HTML`` read-out with every variant's layers, weights per channel pair, params, MACs, saving.
        plot: ``Output`` with the bars (:func:`~inception_lab.viz.cost_charts.plot_view`); ``figure`` the figure shown.
        measure_button, measured: the "measure" button and the ``HTML`` it writes the timing to.
        view: the plain data shown now (:func:`~inception_lab.cost.factorization.explorer_view`); ``rows`` its
            variants; ``timings`` the last measurement (or ``None``).
        device: where the measurement runs (``"cpu"``, ``"cuda"``, ...).
    """

    def __init__(self, device: str = "cpu", **defaults: int) -> None:
        values = check_settings(EXPLORER_CONTROLS, defaults)
        self.sliders: dict[str, W.IntSlider] = {}
        for c in EXPLORER_CONTROLS:
            self.sliders[c.name] = W.IntSlider(value=values[c.name], min=c.minimum, max=c.maximum, step=c.step,
                                               description=c.label, continuous_update=False,
                                               style={"description_width": "80px"})
            self.sliders[c.name].observe(self._on_change, names="value")
        self.device = device
        self.table, self.plot, self.measured = W.HTML(), W.Output(), W.HTML()
        self.measure_button = W.Button(description="measure on " + device, tooltip="time the variants (a few s)")
        self.measure_button.on_click(lambda _: self.measure())
        self.widget = W.VBox([W.HBox([W.VBox(list(self.sliders.values())[:3]),
                                      W.VBox(list(self.sliders.values())[3:])]),
                              self.table, self.plot, W.HBox([self.measure_button, self.measured])])
        self.view: dict[str, Any] = {}
        self.timings = None
        self.update()

    @property
    def rows(self) -> list[dict]:
        """The variants shown now (plain data, :func:`~inception_lab.cost.factorization.explore`)."""
        return self.view["rows"]

    def values(self) -> dict[str, int]:
        """Current slider values."""
        return {name: s.value for name, s in self.sliders.items()}

    def update(self) -> None:
        """Recompute the costs and redraw the read-outs."""
        self.view = explorer_view(self.values())
        self.table.value = table_html(self.view["table"])
        self.measured.value = ""
        with self.plot:
            self.plot.clear_output(wait=True)
            self.figure = plot_view(self.view)
            display(self.figure)
            plt.close(self.figure)

    def measure(self, reps: int = 5, batch: int = 8) -> None:
        """Time every variant (forward, median of ``reps`` interleaved runs) and show time ratios next to MACs."""
        import torch

        from inception_lab.experiments.timing import time_modules

        v = self.values()
        modules = {r["name"]: _torch_variant(r["variant"], v).to(self.device) for r in self.rows
                   if r["variant"] == "square" or v["n"] % 2}
        x = torch.randn(batch, v["in_channels"], v["grid"], v["grid"], device=self.device)
        self.timings = timings = time_modules(modules, x, reps=reps, warmup=1, modes=("forward",))
        reference = self.rows[0]
        cells = []
        for r in self.rows:
            if r["name"] in modules:
                cells.append(f"{html.escape(str(r['name']))}: {timings.median_ms(r['name']):.2f} ms "
                             f"(time x{timings.ratio(r['name'], reference['name']):.2f}, "
                             f"MACs x{r['macs'] / reference['macs']:.2f})")
        note = "" if v["n"] % 2 else " (even n: only n x n can keep the grid in PyTorch, so only it is timed)"
        self.measured.value = "; ".join(cells) + note

    def _on_change(self, change: dict) -> None:
        self.update()


def _torch_variant(variant: str, v: dict[str, int]):
    """The torch module of one variant for the current slider values (linear convolutions, no bias)."""
    from torch import nn

    from inception_lab.nn.layers import FactorizedConv, StackedConv

    n, cin, cout, mid = v["n"], v["in_channels"], v["out_channels"], v["mid_channels"]

    def linear(i: int, o: int, kernel_size, stride=1, padding=0) -> nn.Module:
        return nn.Conv2d(i, o, kernel_size, stride=stride, padding=padding, bias=False)

    if variant == "square":
        return linear(cin, cout, n, padding=n // 2) if n % 2 else linear(cin, cout, n, padding=0)
    if variant == "asymmetric":
        return FactorizedConv(cin, cout, n, mid_channels=mid, between="none", conv_block=linear)
    return StackedConv(cin, cout, n, mid_channels=mid, conv_block=linear)
