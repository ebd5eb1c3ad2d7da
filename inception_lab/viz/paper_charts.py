"""What Rethinking's tables and figures print, drawn from :mod:`inception_lab.papers.rethinking` with their alt text.

* :func:`plot_table3` -- [Rethinking, Table 3] as a dot chart: top-1 error per row, the cumulative steps from
  Inception-v2 to Inception-v3 as arrows labelled with what each bought, the cost each row prints.
* :func:`draw_head` -- an auxiliary classifier ([Rethinking, Fig. 8]; [GoogLeNet, §5]) drawn from the built head:
  its layers top to bottom with the shape after each.

Pure matplotlib; the colours are :mod:`inception_lab.palette`'s. Used by chapter 6.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from inception_lab.palette import OKABE_ITO, series_colour
from inception_lab.papers.rethinking import TABLE3, ResultRow
from inception_lab.viz.display import set_alt_text


def table3_steps(rows: Sequence[ResultRow] = TABLE3) -> list[tuple[str, float]]:
    """``(row, top-1 error it removed)`` for each cumulative "Inception-v2 + ..." row (the row above minus it)."""
    names = [r.network for r in rows]
    if "Inception-v2" not in names:
        raise ValueError(f"Table 3's rows need an 'Inception-v2' row to start the steps from; got {names}.")
    start = names.index("Inception-v2")
    return [(rows[i].network, round(rows[i - 1].top1 - rows[i].top1, 2)) for i in range(start + 1, len(rows))]


def plot_table3(rows: Sequence[ResultRow] = TABLE3, title: str | None = None) -> Figure:
    """[Rethinking, Table 3] as a dot chart of top-1 error, with the steps from Inception-v2 to v3 as arrows.

    Each row is a dot at its top-1 error (lower is better), labelled with the cost the table prints in billions of
    operations. From the "Inception-v2" row on, the rows are cumulative: an arrow joins each to the one above it,
    labelled with the points of top-1 error the change removed.
    """
    if not rows:
        raise ValueError("plot_table3 needs at least one row of Table 3.")
    steps = dict(table3_steps(rows))
    y = list(range(len(rows)))
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.46 * len(rows)))
    earlier, cumulative = series_colour(0), series_colour(1)
    for i, row in enumerate(rows):
        colour = cumulative if row.network.startswith("Inception-v2") else earlier
        ax.plot(row.top1, i, "o", color=colour, markersize=8, zorder=3)
        ax.text(row.top1 + 0.25, i, f"{row.top1:.1f} %  ({row.cost_bn_ops:.1f} Bn ops)", va="center", fontsize=8)
        if row.network in steps:
            ax.annotate("", xy=(row.top1, i), xytext=(rows[i - 1].top1, i - 1),
                        arrowprops=dict(arrowstyle="-|>", color=OKABE_ITO["vermillion"], lw=1.2))
            ax.text(row.top1 - 0.25, i - 0.5, f"-{steps[row.network]:.1f}", ha="right", va="center", fontsize=8,
                    color=OKABE_ITO["vermillion"])
    ax.set_yticks(y, [r.network.replace("Inception-v2 + ", "+ ") for r in rows])
    ax.invert_yaxis()
    low, high = min(r.top1 for r in rows), max(r.top1 for r in rows)
    ax.set_xlim(low - 1.5, high + 3.5)
    ax.set_xlabel("top-1 error (%), single crop, ILSVRC 2012 validation (lower is better)")
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    parts = "; ".join(f"{r.network}: {r.top1:.1f} % at {r.cost_bn_ops:.1f} Bn ops"
                      + (f" (-{steps[r.network]:.1f} points)" if r.network in steps else "") for r in rows)
    return set_alt_text(fig, f"Dot chart{' (' + title + ')' if title else ''} of the top-1 error of each row of "
                             f"Rethinking's Table 3, one row per line, the cumulative Inception-v2 rows joined by "
                             f"arrows labelled with the error each change removed. {parts}.")


def _head_rows(head: Any, input_shape: Sequence[int]) -> list[tuple[str, str]]:
    """``(layer label, shape after it)`` for each child of an auxiliary head, run on a zero input of that shape."""
    import torch
    from torch import nn

    x = torch.zeros(2, *input_shape)
    rows = [("input", " x ".join(str(d) for d in input_shape))]
    was_training = head.training
    head.eval()
    try:
        with torch.no_grad():
            for name, child in head.named_children():
                if isinstance(child, (nn.Linear, nn.BatchNorm1d)) and x.dim() > 2:
                    x = torch.flatten(x, 1)
                x = child(x)
                if isinstance(child, nn.Identity):
                    continue
                rows.append((f"{name}: {_layer_label(child)}", " x ".join(str(d) for d in x.shape[1:])))
    finally:
        head.train(was_training)
    return rows


def _layer_label(module: Any) -> str:
    from torch import nn

    if isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
        kind = "avg" if isinstance(module, nn.AvgPool2d) else "max"
        k, s = module.kernel_size, module.stride
        k, s = (k if isinstance(k, int) else k[0]), (s if isinstance(s, int) else s[0])
        return f"{k}x{k}/{s} {kind}-pool"
    if isinstance(module, nn.AdaptiveAvgPool2d):
        return "global average pool"
    if isinstance(module, nn.BatchNorm1d):
        return f"BatchNorm of the FC's {module.num_features} inputs"
    if isinstance(module, nn.Linear):
        return f"fully connected {module.in_features} -> {module.out_features}"
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    if len(convs) == 1:
        c = convs[0]
        extras = [type(m).__name__.replace("2d", "") for m in module.modules() if isinstance(m, (nn.BatchNorm2d,
                                                                                               nn.ReLU))]
        return f"{c.kernel_size[0]}x{c.kernel_size[1]} conv, {c.out_channels}" + (
            f" + {' + '.join(extras)}" if extras else "")
    return type(module).__name__


def draw_head(head: Any, input_shape: Sequence[int], title: str | None = None) -> Figure:
    """An auxiliary classifier drawn from the built module: its layers top to bottom, the shape after each.

    Args:
        head: the head module (e.g. ``inception_v3_paper().AuxLogits``); its children run in registration order.
        input_shape: (C, H, W) of the feature map it reads (Mixed_6e's 768 x 17 x 17 for Inception-v3).
        title: figure title.
    """
    rows = _head_rows(head, input_shape)
    fig, ax = plt.subplots(figsize=(5.2, 0.7 + 0.62 * len(rows)))
    top = len(rows)
    for i, (label, shape) in enumerate(rows):
        y = top - i
        colour = ("#F0F0F0" if i == 0 else OKABE_ITO["bluish green"] if "pool" in label
                  else OKABE_ITO["sky blue"] if "BatchNorm of" in label or "fully connected" in label
                  else OKABE_ITO["orange"])
        ax.add_patch(FancyBboxPatch((0.3, y - 0.2), 4.6, 0.4, boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor=colour, edgecolor="#333333", linewidth=0.8))
        ax.text(2.6, y, f"{label}  ->  {shape}" if i else f"input {shape}", ha="center", va="center", fontsize=8)
        if i:
            ax.annotate("", xy=(2.6, y + 0.2), xytext=(2.6, y + 0.8),
                        arrowprops=dict(arrowstyle="-|>", color="#444444", lw=0.8))
    ax.set_xlim(0, 5.2)
    ax.set_ylim(0.4, top + 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    steps = "; ".join(f"{label} (output {shape})" for label, shape in rows[1:])
    return set_alt_text(fig, f"Diagram{' (' + title + ')' if title else ''} of an auxiliary classifier, top to "
                             f"bottom: input {rows[0][1]}; {steps}.")
