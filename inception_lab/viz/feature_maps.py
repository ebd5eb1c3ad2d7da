"""Chapter 2's feature-map selection, drawn and described: the figure of the explorer and its static twin.

:func:`plot_feature_map_selection` draws one selection of the maps that
:func:`inception_lab.experiments.features.capture_layer_maps` captured (the input, one channel enlarged, all channels
as tiles) with its alternative text; :func:`describe_selection` is the explorer's one-sentence read-out. The
explorer (:class:`inception_lab.widgets.feature_maps.FeatureMapExplorer`) calls both on every change.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from torch import Tensor, nn

from inception_lab.experiments.features import OUTPUT_LABEL, LayerMaps, branch_label, branch_offsets
from inception_lab.palette import OKABE_ITO
from inception_lab.viz.display import set_alt_text
from inception_lab.viz.plotting import to_numpy


def plot_feature_map_selection(image: Tensor, maps: LayerMaps, layer: str, branch: str = "output",
                               channel: int = 0, title: str | None = None, ncols: int | None = None,
                               cmap: str = "viridis", label: str | None = None) -> Figure:
    """The feature-map explorer's figure, and its static twin: the image, one channel enlarged, all channels.

    Args:
        image: (3, H, W) in [0, 1] for display (denormalised).
        maps: :func:`~inception_lab.experiments.features.capture_layer_maps` of that image.
        layer, branch, channel: the selection; ``branch="output"`` is the module's concatenated output.
        ncols: tiles per row in the all-channels panel (default: about 2.5 times as many columns as rows).
        label: what to call the selection in the figure (default: the branch key; the explorer passes the
            module's branch label, :func:`~inception_lab.experiments.features.branch_label`).

    The enlarged map has its own colour scale (colour bar); the tiles share one scale, 0 to the largest value of
    the selection, so that silent channels look dark and the strongest responses stand out. The selected tile
    is framed in vermillion. The figure's alternative text says what is selected and how many channels respond.
    """
    if layer not in maps or branch not in maps[layer]:
        raise ValueError(f"no maps for {layer!r} / {branch!r}; captured: "
                         f"{ {k: list(v) for k, v in maps.items()} }.")
    stack = to_numpy(maps[layer][branch])
    if not 0 <= channel < stack.shape[0]:
        raise ValueError(f"channel must be between 0 and {stack.shape[0] - 1}, got {channel}.")
    n = stack.shape[0]
    ncols = min(n, ncols if ncols is not None else max(1, round((2.5 * n) ** 0.5)))
    nrows = -(-n // ncols)
    fig = plt.figure(figsize=(11, 3.2))
    outer = fig.add_gridspec(1, 3, width_ratios=[1, 1.15, 2.6], wspace=0.25)
    ax_img = fig.add_subplot(outer[0])
    ax_img.imshow(np.clip(to_numpy(image).transpose(1, 2, 0), 0, 1))
    ax_img.set_title(f"input {image.shape[-2]}x{image.shape[-1]}", fontsize=9)
    ax_img.axis("off")
    ax_big = fig.add_subplot(outer[1])
    shown = ax_big.imshow(stack[channel], cmap=cmap, interpolation="nearest")
    ax_big.set_title(f"channel {channel} ({stack.shape[1]}x{stack.shape[2]})", fontsize=9)
    ax_big.axis("off")
    fig.colorbar(shown, ax=ax_big, fraction=0.046, pad=0.04)
    inner = outer[2].subgridspec(nrows, ncols, wspace=0.08, hspace=0.08)
    vmax = max(float(stack.max()), 1e-12)
    for c in range(nrows * ncols):
        ax = fig.add_subplot(inner[c // ncols, c % ncols])
        ax.set_xticks([])
        ax.set_yticks([])
        if c >= n:
            ax.axis("off")
            continue
        ax.imshow(stack[c], cmap=cmap, vmin=0.0, vmax=vmax, interpolation="nearest")
        for spine in ax.spines.values():
            spine.set_visible(c == channel)
            spine.set_color(OKABE_ITO["vermillion"])
            spine.set_linewidth(2.0)
    label = label or (OUTPUT_LABEL if branch == "output" else branch)
    fig.text(0.695, 0.93, f"all {n} channels of {layer} / {label} (common scale)", ha="center", fontsize=9)
    if title:
        fig.suptitle(title, y=1.02)
    responding = int((stack.reshape(n, -1).max(1) > 0).sum())
    return set_alt_text(fig, f"Feature maps of {layer} / {label}{' (' + title + ')' if title else ''}: the "
                             f"{image.shape[-2]} x {image.shape[-1]} input image, channel {channel} enlarged ("
                             f"{stack.shape[1]} x {stack.shape[2]} heat map, max {float(stack[channel].max()):.2f}), "
                             f"and all {n} channels as small tiles on a common scale, channel {channel} framed; "
                             f"{responding} of the {n} channels respond somewhere on this image.")


def describe_selection(model: nn.Module, maps: LayerMaps, layer: str, branch: str, channel: int) -> str:
    """One sentence on the selected map: where its channel sits in the module's output, and its activation."""
    offsets = branch_offsets(model, layer)
    if branch not in offsets:
        raise ValueError(f"{layer!r} has no branch {branch!r}; choose one of {list(offsets)}.")
    start, channels = offsets[branch]
    if not 0 <= channel < channels:
        raise ValueError(f"channel must be between 0 and {channels - 1} for {layer} {branch}, got {channel}.")
    selection = maps[layer][branch]
    fmap = selection[channel]
    active = (selection.flatten(1).amax(1) > 0).sum().item()
    where = "" if branch == "output" else (f" = channel {start + channel} of the concatenated output "
                                           f"(this branch holds channels {start}-{start + channels - 1})")
    return (f"{layer}, {branch_label(model, layer, branch)}: channel {channel} of {channels}{where}; a "
            f"{fmap.shape[0]}x{fmap.shape[1]} map, mean {fmap.mean().item():.3f}, max {fmap.max().item():.3f}. "
            f"{active} of the {channels} channels respond somewhere on this image.")
