"""The chapter-2 explorer: what a trained network's modules, branches and channels respond to.

:class:`FeatureMapExplorer` is thin ipywidgets wiring over pure functions (:func:`capture_layer_maps`,
:func:`describe_selection`, :func:`plot_feature_map_selection`, the last also its static twin). Branch labels come
from each module's branch contract (:attr:`~inception_lab.nn.branches.MultiBranch.branch_labels`), so the explorer
names GoogLeNet's, BN-Inception's and Inception-v3's branches correctly.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from contextlib import ExitStack

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from matplotlib.figure import Figure
from torch import nn

from inception_lab.data import denormalize_shapes
from inception_lab.experiments.features import capture_features
from inception_lab.nn.branches import MultiBranch
from inception_lab.viz.display import set_alt_text
from inception_lab.viz.palette import OKABE_ITO
from inception_lab.viz.plotting import to_numpy
from inception_lab.widgets import Explorer

#: Label of the module's whole (concatenated) output in the branch dropdown.
OUTPUT_LABEL = "all branches (concatenated)"

#: Captured maps of one image: layer name -> {"output" or branch name -> (C, H, W) tensor}.
LayerMaps = dict[str, dict[str, torch.Tensor]]


def feature_map_layers(model: nn.Module) -> list[str]:
    """The layers the explorer offers, in forward order: the stem's convolutions and every Inception module.

    Top-level children that are multi-branch modules (:class:`~inception_lab.nn.branches.MultiBranch`) or conv atoms
    (a child with an ``nn.Conv2d`` called ``conv``); auxiliary classifiers (``aux*``) are left out.
    """
    names = [name for name, child in model.named_children()
             if not name.startswith("aux")
             and (isinstance(child, MultiBranch) or isinstance(getattr(child, "conv", None), nn.Conv2d))]
    if not names:
        raise ValueError(f"{type(model).__name__} has no top-level convolution or Inception module to explore.")
    return names


def branch_offsets(model: nn.Module, layer: str) -> dict[str, tuple[int, int]]:
    """``branch -> (first channel, channels)`` of each branch inside ``layer``'s concatenated output.

    For a layer without branches: ``{"output": (0, channels)}``. In GoogLeNet's inception (3a) the 1x1 branch is
    channels 0-63, the 3x3 branch 64-191, the 5x5 branch 192-223 and the pool branch 224-255.
    """
    module = model.get_submodule(layer)
    if isinstance(module, MultiBranch):
        offsets, start = {}, 0
        for name, channels in module.branch_channels.items():
            offsets[name] = (start, channels)
            start += channels
        return {"output": (0, start), **offsets}
    return {"output": (0, module.conv.out_channels)}


def branch_label(model: nn.Module, layer: str, key: str) -> str:
    """What the explorer calls ``key`` of ``layer``: the module's own branch label, or :data:`OUTPUT_LABEL`."""
    module = model.get_submodule(layer)
    if key == "output" or not isinstance(module, MultiBranch):
        return OUTPUT_LABEL
    return module.branch_labels[key]


def branch_options(model: nn.Module, layer: str) -> list[tuple[str, str]]:
    """``(label, key)`` pairs for the branch dropdown of ``layer``, each label with its channel count."""
    return [(f"{branch_label(model, layer, key)} ({channels} ch)", key)
            for key, (_, channels) in branch_offsets(model, layer).items()]


def capture_layer_maps(model: nn.Module, image: torch.Tensor,
                       layers: Sequence[str] | None = None) -> LayerMaps:
    """Feature maps of one image at every explored layer and every branch, from one forward pass in eval mode.

    Args:
        model: the network (its train/eval mode is restored afterwards).
        image: (3, H, W) or (1, 3, H, W), normalised as the model expects.
        layers: layer names (default :func:`feature_map_layers`).

    Returns:
        ``{layer: {"output": (C, H', W'), "branch1": ..., ...}}`` on the CPU.
    """
    if image.dim() == 3:
        image = image[None]
    if image.dim() != 4 or image.shape[0] != 1:
        raise ValueError(f"image must have shape (3, H, W) or (1, 3, H, W), got {tuple(image.shape)}.")
    layers = feature_map_layers(model) if layers is None else list(layers)
    first = next(model.parameters(), None)
    image = image.to(first.device if first is not None else "cpu")
    was_training = model.training
    model.eval()
    branching = [model.get_submodule(layer) for layer in layers
                 if isinstance(model.get_submodule(layer), MultiBranch)]
    try:
        with ExitStack() as stack:
            recorded = {id(m): stack.enter_context(m.recording_branches()) for m in branching}
            maps = capture_features(model, image, layers)
    finally:
        model.train(was_training)
    out: LayerMaps = {}
    for layer in layers:
        module = model.get_submodule(layer)
        out[layer] = {"output": maps[layer][0]}
        if isinstance(module, MultiBranch):
            out[layer].update({key: value[0].detach().cpu() for key, value in recorded[id(module)].items()})
    return out


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


def plot_feature_map_selection(image: torch.Tensor, maps: LayerMaps, layer: str, branch: str = "output",
                               channel: int = 0, title: str | None = None, ncols: int | None = None,
                               cmap: str = "viridis", label: str | None = None) -> Figure:
    """The feature-map explorer's figure, and its static twin: the image, one channel enlarged, all channels.

    Args:
        image: (3, H, W) in [0, 1] for display (denormalised).
        maps: :func:`capture_layer_maps` of that image.
        layer, branch, channel: the selection; ``branch="output"`` is the module's concatenated output.
        ncols: tiles per row in the all-channels panel (default: about 2.5 times as many columns as rows).
        label: what to call the selection in the figure (default: the branch key; the explorer passes the
            module's branch label, :func:`branch_label`).

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


class FeatureMapExplorer(Explorer):
    """Pick an image, a layer, a branch and a channel: see what a trained network's feature map looks like.

    Every selection is drawn by :func:`plot_feature_map_selection` (also the static twin) from maps captured by
    :func:`capture_layer_maps` (one forward pass per image, cached).

    Args:
        model: a network whose top-level children include conv atoms and/or Inception modules (GoogLeNet family).
        images: (N, 3, H, W) inputs, normalised as the model expects.
        labels: optional (N,) class indices, shown in the image dropdown with ``class_names``.
        class_names: names of the classes.
        layer, branch, channel, image_index: the initial selection.
        denormalize: maps an input back to [0, 1] pixels for display (default: the shapes data's).

    Attributes:
        image, layer, branch: ``Dropdown`` widgets (image index, layer name, branch key).
        channel: ``IntSlider`` over the selected branch's channels.
        readout: ``HTML`` widget describing the selection (:func:`describe_selection`).
        plot: ``Output`` widget with the figure; ``figure`` is the matplotlib figure currently shown.
        maps: the :func:`capture_layer_maps` of the current image.
        widget: the whole explorer.
    """

    def __init__(self, model: nn.Module, images: torch.Tensor, labels: Sequence[int] | torch.Tensor | None = None,
                 class_names: Sequence[str] | None = None, *, layer: str = "inception3a", branch: str = "output",
                 channel: int = 0, image_index: int = 0,
                 denormalize: Callable[[torch.Tensor], torch.Tensor] = denormalize_shapes) -> None:
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3 or len(images) == 0:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ValueError(f"images must be a (N, 3, H, W) tensor with N >= 1, got {shape}.")
        layers = feature_map_layers(model)
        if layer not in layers:
            raise ValueError(f"unknown layer {layer!r}; choose one of {layers}.")
        if not 0 <= image_index < len(images):
            raise ValueError(f"image_index must be between 0 and {len(images) - 1}, got {image_index}.")
        self.model = model
        self.images = images
        self.denormalize = denormalize
        self._cache: dict[int, LayerMaps] = {}
        names = [f"#{i}" for i in range(len(images))]
        if labels is not None:
            labels = [int(l) for l in labels]
            names = [f"{n}: {class_names[l] if class_names else l}" for n, l in zip(names, labels)]
        style = {"description_width": "60px"}
        self.image = W.Dropdown(options=list(zip(names, range(len(images)))), value=image_index,
                                description="image", style=style)
        self.layer = W.Dropdown(options=layers, value=layer, description="layer", style=style)
        self.branch = W.Dropdown(options=branch_options(model, layer), description="branch", style=style)
        self.channel = W.IntSlider(min=0, max=1, value=0, description="channel", continuous_update=False, style=style)
        self.readout = W.HTML()
        self.plot = W.Output()
        self._quiet = True
        self._set_branch(branch)
        self._set_channel(channel)
        self._quiet = False
        self.image.observe(self._on_change, names="value")
        self.layer.observe(self._on_layer, names="value")
        self.branch.observe(self._on_branch, names="value")
        self.channel.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([self.image, self.layer]), W.HBox([self.branch, self.channel]), self.readout,
                              self.plot])
        self.figure: Figure | None = None
        self.update()

    # -- pure parts --------------------------------------------------------------------------------------
    def values(self) -> dict[str, object]:
        """The current selection."""
        return dict(image=self.image.value, layer=self.layer.value, branch=self.branch.value,
                    channel=self.channel.value)

    @property
    def maps(self) -> LayerMaps:
        index = self.image.value
        if index not in self._cache:
            self._cache[index] = capture_layer_maps(self.model, self.images[index])
        return self._cache[index]

    def selected_map(self) -> torch.Tensor:
        """The (H, W) feature map currently selected."""
        v = self.values()
        return self.maps[v["layer"]][v["branch"]][v["channel"]]

    # -- wiring ------------------------------------------------------------------------------------------
    def _set_branch(self, branch: str) -> None:
        options = branch_options(self.model, self.layer.value)
        keys = [key for _, key in options]
        self.branch.options = options
        self.branch.value = branch if branch in keys else "output"

    def _set_channel(self, channel: int) -> None:
        _, channels = branch_offsets(self.model, self.layer.value)[self.branch.value]
        if not 0 <= channel < channels:
            raise ValueError(f"channel must be between 0 and {channels - 1} for {self.layer.value} "
                             f"{self.branch.value}, got {channel}.")
        self.channel.max = max(channels - 1, 0)
        self.channel.value = channel

    def _on_layer(self, change: dict) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            self._set_branch(self.branch.value)
            self._set_channel(min(self.channel.value, branch_offsets(self.model, self.layer.value)
                                  [self.branch.value][1] - 1))
        finally:
            self._quiet = False
        self.update()

    def _on_branch(self, change: dict) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            channels = branch_offsets(self.model, self.layer.value)[self.branch.value][1]
            self._set_channel(min(self.channel.value, channels - 1))
        finally:
            self._quiet = False
        self.update()

    def _on_change(self, change: dict) -> None:
        if not self._quiet:
            self.update()

    def update(self) -> None:
        """Redraw the read-out and the figure for the current selection."""
        v = self.values()
        self.readout.value = html.escape(describe_selection(self.model, self.maps, v["layer"], v["branch"],
                                                            v["channel"]))
        with self.plot:
            self.plot.clear_output(wait=True)
            self.figure = plot_feature_map_selection(self.denormalize(self.images[v["image"]].cpu()), self.maps,
                                                     v["layer"], v["branch"], v["channel"],
                                                     label=branch_label(self.model, v["layer"], v["branch"]))
            display(self.figure)
            plt.close(self.figure)
