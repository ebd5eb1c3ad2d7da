"""Plotting helpers (pure matplotlib): feature-map grids, branches side by side, cost bar charts.

Inputs may be numpy arrays or torch tensors (anything with ``.detach().cpu().numpy()``); this module does not
import torch, so the cost charts work without it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from inception_lab.cost import Cost, ModuleCost, check_positive_int

METRICS = ("params", "macs")


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


def plot_feature_grid(maps: Any, channels: Sequence[int] | int = 16, ncols: int = 8, title: str | None = None,
                      cmap: str = "viridis", fig: Figure | None = None) -> Figure:
    """A grid of single-channel feature maps, each scaled to its own min..max so patterns stay visible.

    Args:
        maps: (C, H, W) or (1, C, H, W) activations.
        channels: how many of the first channels to show, or the explicit channel indices.
        ncols: panels per row.
    """
    arr = _feature_stack(maps)
    idx = list(range(min(channels, arr.shape[0]))) if isinstance(channels, int) else list(channels)
    if not idx or any(not 0 <= i < arr.shape[0] for i in idx):
        raise ValueError(f"channels must select among the {arr.shape[0]} available channels, got {channels!r}.")
    check_positive_int("ncols", ncols)
    ncols = min(ncols, len(idx))
    nrows = math.ceil(len(idx) / ncols)
    fig = fig or plt.figure(figsize=(1.4 * ncols, 1.4 * nrows + (0.4 if title else 0)))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, c in zip(axes.flat, idx):
        ax.imshow(arr[c], cmap=cmap)
        ax.set_title(f"ch {c}", fontsize=7)
    if title:
        fig.suptitle(title)
    return fig


def plot_branches(branch_maps: Mapping[str, Any], channels: int = 4, titles: Mapping[str, str] | None = None,
                  cmap: str = "viridis", panel_size: float = 2.0) -> Figure:
    """The branches of one module side by side: one column per branch, ``channels`` maps per column."""
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
    return fig


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
    return ax


def plot_cost_bars(costs: Mapping[str, Cost], metric: str = "macs", ax: Axes | None = None,
                   title: str | None = None, unit: float = 1e6, unit_name: str = "M") -> Axes:
    """Horizontal bars, one per named cost, of ``params`` or ``macs`` with the value written on each bar."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}.")
    ax = ax or plt.figure(figsize=(6, 0.5 + 0.45 * len(costs))).gca()
    names = list(costs)
    values = [getattr(costs[n], metric) / unit for n in names]
    bars = ax.barh(names, values, color=plt.cm.tab10(np.arange(len(names)) % 10))
    ax.invert_yaxis()
    for bar, v in zip(bars, values):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {v:,.2f}{unit_name}", va="center",
                fontsize=8)
    label = "parameters" if metric == "params" else "MACs (multiply-accumulates)"
    ax.set_xlabel(f"{label} [{unit_name}]" if unit_name else label)
    ax.set_xlim(0, max(values + [1e-9]) * 1.3)
    if title:
        ax.set_title(title)
    return ax


#: Legend labels for the branches of GoogLeNet's Inception module [GoogLeNet, Fig. 2].
INCEPTION_BRANCH_LABELS = {"branch1": "1x1", "branch2": "3x3 (+ 1x1 reduce)", "branch3": "5x5 (+ 1x1 reduce)",
                           "branch4": "pool (+ 1x1 proj)"}


def plot_module_comparison(modules: Mapping[str, ModuleCost], title: str | None = None,
                           branch_labels: Mapping[str, str] = INCEPTION_BRANCH_LABELS) -> Figure:
    """Two stacked-bar panels (parameters, MACs) comparing modules branch by branch.

    ``modules`` maps a label (e.g. "naive", "reduced") to the :class:`~inception_lab.cost.ModuleCost` of that
    variant; each bar is split into its branches, so one sees *where* the cost goes.
    """
    labels = list(modules)
    branch_set: list[str] = []
    for m in modules.values():
        branch_set += [b for b in m.branches if b not in branch_set]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.9 + 0.7 * len(labels)))
    for ax, metric, unit, unit_name in ((axes[0], "params", 1e3, "K"), (axes[1], "macs", 1e6, "M")):
        left = np.zeros(len(labels))
        for k, b in enumerate(branch_set):
            vals = np.array([getattr(modules[l].branches.get(b, Cost()), metric) / unit for l in labels])
            ax.barh(labels, vals, left=left, color=plt.cm.tab10(k), label=branch_labels.get(b, b))
            left += vals
        for y, v in enumerate(left):
            ax.text(v, y, f" {v:,.1f}{unit_name}", va="center", fontsize=9)
        ax.invert_yaxis()
        ax.set_xlim(0, max(left.max(), 1e-9) * 1.35)
        ax.set_xlabel(("parameters" if metric == "params" else "MACs") + f" [{unit_name}]")
    axes[1].legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
