"""Where the time goes: share of MACs (what [Rethinking, §3.1-3.2] counts) beside share of time, by kind of layer.

Draws what :func:`inception_lab.experiments.layer_time.measure_layer_times` measured (or the record that
``benchmarks/bench_perf.py`` wrote, read back with :meth:`~inception_lab.experiments.layer_time.LayerTimeReport
.from_dict`). Pure matplotlib; used by chapter 6.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from inception_lab.palette import series_colour
from inception_lab.viz.display import set_alt_text

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from inception_lab.experiments.layer_time import KindTime


def plot_time_vs_macs(kinds: Sequence[KindTime], title: str | None = None, min_share: float = 0.0) -> Figure:
    """Horizontal paired bars per kind of layer: its share of the MACs and its share of the measured time.

    A kind whose time bar is longer than its MAC bar runs slower per MAC than the network's average; the kinds
    with no MACs at all (BatchNorm, ReLU, pooling, concatenation, the Python between layers) show time only.

    Args:
        kinds: :class:`~inception_lab.experiments.layer_time.KindTime` rows (``LayerTimeReport.kinds``), in the
            order to draw them (top to bottom).
        title: figure title.
        min_share: leave out kinds below this share of both time and MACs (e.g. 0.005 to drop what is invisible).
    """
    if not kinds:
        raise ValueError("plot_time_vs_macs needs at least one kind of layer (LayerTimeReport.kinds).")
    if not 0.0 <= min_share < 1.0:
        raise ValueError(f"min_share must be in [0, 1), got {min_share!r}.")
    shown = [k for k in kinds if max(k.time_share, k.mac_share) >= min_share]
    if not shown:
        raise ValueError(f"no kind has a share of at least {min_share}; lower min_share.")
    labels = [k.kind for k in shown]
    y = np.arange(len(shown))
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.42 * len(shown)))
    height = 0.38
    series = (("share of MACs", [100 * k.mac_share for k in shown], series_colour(0), -height / 2),
              ("share of time", [100 * k.time_share for k in shown], series_colour(1), height / 2))
    for label, values, colour, offset in series:
        ax.barh(y + offset, values, height=height, color=colour, label=label)
        for yi, v in zip(y, values, strict=True):
            ax.text(v, yi + offset, f" {v:.1f} %", va="center", fontsize=8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    top = max(max(values) for _, values, _, _ in series)
    ax.set_xlim(0, top * 1.2 + 1)
    ax.set_xlabel("% of the network's total")
    ax.legend(loc="lower right", fontsize=9)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    parts = "; ".join(f"{k.kind}: {100 * k.mac_share:.1f} % of MACs, {100 * k.time_share:.1f} % of time"
                      for k in shown)
    return set_alt_text(fig, f"Bar chart{' (' + title + ')' if title else ''}: for each kind of layer, two "
                             f"horizontal bars, its share of the multiply-accumulates and its share of the measured "
                             f"time. {parts}.")

