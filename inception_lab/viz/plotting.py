"""Plotting helpers (pure matplotlib): feature maps of a module's branches side by side, an input image.

Inputs may be numpy arrays or torch tensors (anything with ``.detach().cpu().numpy()``); this module does not
import torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from inception_lab.checks import check_positive_int
from inception_lab.viz.display import set_alt_text


def to_numpy(array: Any) -> np.ndarray:
    """A numpy copy of a tensor or array (detached, on the CPU)."""
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    return np.asarray(array)


def _feature_stack(maps: Any) -> np.ndarray:
    """(C, H, W) array from a (C, H, W) or (1, C, H, W) input."""
    arr = to_numpy(maps)
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 3:
        raise ValueError(f"feature maps must have shape (C, H, W) or (1, C, H, W), got {arr.shape}.")
    return arr


def plot_branches(branch_maps: Mapping[str, Any], channels: int = 4, titles: Mapping[str, str] | None = None,
                  cmap: str = "viridis", panel_size: float = 2.0) -> Figure:
    """The branches of one module side by side: one column per branch, ``channels`` maps per column.

    ``cmap`` should stay perceptually uniform (viridis, cividis): readable with any colour vision.
    """
    check_positive_int("channels", channels)
    names = list(branch_maps)
    fig, axes = plt.subplots(channels, len(names), figsize=(1.05 * panel_size * len(names), panel_size * channels),
                             squeeze=False)
    for j, name in enumerate(names):
        arr = _feature_stack(branch_maps[name])
        for i in range(channels):
            ax = axes[i, j]
            ax.axis("off")
            if i < arr.shape[0]:
                ax.imshow(arr[i], cmap=cmap)
            if i == 0:
                label = (titles or {}).get(name, name)
                ax.set_title(f"{label}\n({arr.shape[0]} ch)", fontsize=9)
    fig.tight_layout()
    return set_alt_text(fig, describe_branches(branch_maps, channels, titles))


def describe_branches(branch_maps: Mapping[str, Any], channels: int = 4,
                      titles: Mapping[str, str] | None = None) -> str:
    """Alternative text for :func:`plot_branches`: each branch's label, its channels and its grid."""
    parts = []
    for name, maps in branch_maps.items():
        arr = _feature_stack(maps)
        label = (titles or {}).get(name, name).replace("\n", " ")
        parts.append(f"{label} ({arr.shape[0]} channel{'s' if arr.shape[0] != 1 else ''} of {arr.shape[1]} x "
                     f"{arr.shape[2]})")
    return (f"Feature maps of {len(parts)} branches side by side, one column per branch, the first "
            f"{channels} channel{'s' if channels > 1 else ''} of each as heat maps (bright = strong): "
            + "; ".join(parts) + ".")


def plot_image(image: Any, title: str | None = None, ax: Axes | None = None) -> Axes:
    """Show a (3, H, W) image with values in [0, 1]."""
    arr = to_numpy(image)
    if arr.ndim != 3 or arr.shape[0] != 3:
        raise ValueError(f"image must have shape (3, H, W), got {arr.shape}.")
    ax = ax or plt.figure(figsize=(3, 3)).gca()
    ax.imshow(np.clip(arr.transpose(1, 2, 0), 0, 1))
    ax.axis("off")
    if title:
        ax.set_title(title)
    set_alt_text(ax.figure, f"The input image{': ' + title if title else ''} ({arr.shape[1]} x {arr.shape[2]} pixels).")
    return ax
