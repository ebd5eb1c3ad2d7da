"""The chapter-5 explorer: pool first vs conv first vs the parallel module [Rethinking, §5, Figs. 9-10].

Thin ipywidgets wiring over :func:`inception_lab.cost.grid_reduction.compare_strategies` (pure, torch-free); the
table (:func:`comparison_text`) and the bar chart (:func:`plot_strategies`) with the defaults are its static twin.
"""

from __future__ import annotations

import html
from typing import Sequence

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from inception_lab.cost.grid_reduction import CONV_KERNELS, POOLS, compare_strategies
from inception_lab.widgets import Explorer

#: Defaults: Inception-v3's first grid reduction, Mixed_6a (35x35x288 -> 17x17x768), 3x3 kernels, max pooling;
#: ``split=0.8`` puts 384 of the 480 new channels in the single 3x3/2 branch and 96 in the double one, as torchvision.
MIXED_6A_SETTING = dict(size=35, in_channels=288, out_channels=768, split=0.8, pool="max", kernel=3)

_RANGES = dict(size=(8, 72, 1), in_channels=(16, 1024, 16), out_channels=(32, 2048, 16))
_LABELS = dict(size="grid d", in_channels="input k", out_channels="output ch", split="split")
#: Bar colours per strategy (Okabe-Ito, as the diagrams).
COLOURS = {"pool_first": "#009E73", "conv_first": "#E69F00", "parallel": "#CC79A7"}
PANELS = (("params", "parameters", 1e6, "M"), ("macs", "MACs", 1e6, "M"),
          ("narrowest_numel", "narrowest representation", 1e3, "K"))


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


def comparison_html(rows: Sequence[dict]) -> str:
    """The same table in HTML (what the live explorer shows)."""
    head = "".join(f"<th>{h}</th>" for h in ("strategy", "params", "MACs", "vs pool first", "after 1st op",
                                             "narrowest"))
    base = rows[0]["macs"]
    body = "".join(
        f"<tr><td>{html.escape(str(r['label']))}</td><td>{r['params']:,}</td><td>{r['macs']:,}</td>"
        f"<td>{r['macs'] / base:.2f}x</td><td>{'x'.join(map(str, r['after_first']))}</td>"
        f"<td>{r['narrowest_numel']:,}</td></tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def plot_strategies(rows: Sequence[dict], title: str | None = None) -> Figure:
    """Three bar panels, one bar per strategy: parameters, MACs, and the narrowest representation on the way.

    The third panel also marks the output's size: a bar below that line is a representational bottleneck.
    """
    fig, axes = plt.subplots(1, 3, figsize=(11, 2.6))
    labels = [r["label"] for r in rows]
    for ax, (key, name, unit, suffix) in zip(axes, PANELS):
        values = [r[key] / unit for r in rows]
        ax.barh(labels, values, color=[COLOURS[r["strategy"]] for r in rows])
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:,.2f}{suffix}", va="center", fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(values) * 1.45 or 1)
        ax.set_xlabel(f"{name} [{suffix}]")
        if key == "narrowest_numel":
            c, h, w = rows[0]["output"]
            ax.axvline(c * h * w / unit, color="#333333", linestyle="--", linewidth=0.8)
            ax.text(c * h * w / unit, len(rows) - 0.45, " output size", fontsize=7, va="bottom")
        if ax is not axes[0]:
            ax.set_yticklabels([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


class GridReductionExplorer(Explorer):
    """Sliders for d, k, the output width and the split between branches; toggles for the pooling and the kernel.

    Attributes:
        sliders: ``size``, ``in_channels``, ``out_channels`` (``IntSlider``) and ``split`` (``FloatSlider``).
        pool: ``ToggleButtons`` (max / avg); kernel: ``ToggleButtons`` (1 / 3) for pool first and conv first.
        table: ``HTML`` read-out; plot: ``Output`` with the bars; message: ``HTML`` for settings that cannot be built.
        rows: the plain-data rows of :func:`~inception_lab.cost.grid_reduction.compare_strategies` now shown.
        figure: the matplotlib figure now shown.
    """

    def __init__(self, size: int = 35, in_channels: int = 288, out_channels: int = 768, split: float = 0.8,
                 pool: str = "max", kernel: int = 3) -> None:
        values = dict(size=size, in_channels=in_channels, out_channels=out_channels)
        self.sliders: dict[str, W.Widget] = {}
        for name, (lo, hi, step) in _RANGES.items():
            if not lo <= values[name] <= hi:
                raise ValueError(f"{name}={values[name]} is outside the explorer's range {lo}..{hi}.")
            self.sliders[name] = W.IntSlider(value=values[name], min=lo, max=hi, step=step, description=_LABELS[name],
                                             continuous_update=False, style={"description_width": "80px"})
        if not 0.0 <= split <= 1.0:
            raise ValueError(f"split={split} must lie in [0, 1] (the share of new channels in the single 3x3/2 branch).")
        self.sliders["split"] = W.FloatSlider(value=split, min=0.0, max=1.0, step=0.05, description="split",
                                              continuous_update=False, style={"description_width": "80px"})
        if pool not in POOLS or kernel not in CONV_KERNELS:
            raise ValueError(f"pool must be one of {POOLS} and kernel one of {CONV_KERNELS}; got {pool!r}, {kernel!r}.")
        self.pool = W.ToggleButtons(options=list(POOLS), value=pool, description="pooling")
        self.kernel = W.ToggleButtons(options=list(CONV_KERNELS), value=kernel, description="conv kernel")
        self.table, self.message, self.plot = W.HTML(), W.HTML(), W.Output()
        for control in (*self.sliders.values(), self.pool, self.kernel):
            control.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([W.VBox(list(self.sliders.values())), W.VBox([self.pool, self.kernel])]),
                              self.message, self.table, self.plot])
        self.rows: list[dict] = []
        self.figure: Figure | None = None
        self.update()

    def values(self) -> dict[str, object]:
        """Current settings, as keyword arguments of :func:`~inception_lab.cost.grid_reduction.compare_strategies`."""
        out = {name: s.value for name, s in self.sliders.items()}
        return dict(out, pool_kind=self.pool.value, kernel=self.kernel.value)

    def update(self) -> None:
        """Recompute and redraw; a setting that cannot be built shows why instead of the old numbers."""
        v = self.values()
        try:
            self.rows = compare_strategies(v["size"], v["in_channels"], v["out_channels"], split=v["split"],
                                           kernel=v["kernel"], pool_kind=v["pool_kind"])
        except ValueError as err:
            self.rows = []
            self.message.value = f"<b>Cannot build this setting:</b> {html.escape(str(err))}"
            self.table.value = ""
            with self.plot:
                self.plot.clear_output()
            return
        self.message.value = ""
        self.table.value = comparison_html(self.rows)
        with self.plot:
            self.plot.clear_output(wait=True)
            self.figure = plot_strategies(self.rows)
            display(self.figure)
            plt.close(self.figure)

    def _on_change(self, change: dict) -> None:
        self.update()


__all__ = ["MIXED_6A_SETTING", "comparison_text", "comparison_html", "plot_strategies", "GridReductionExplorer"]
