"""The chapter-2 explorer: what a trained network's modules, branches and channels respond to.

:class:`FeatureMapExplorer` is thin ipywidgets wiring: the maps come from
:func:`~inception_lab.experiments.features.capture_layer_maps`, the figure (also the chapter's static twin) and the
read-out from :mod:`inception_lab.viz.feature_maps`. Branch labels come from each module's branch contract
(:attr:`~inception_lab.nn.branches.MultiBranch.branch_labels`), so the explorer names GoogLeNet's, BN-Inception's
and Inception-v3's branches correctly.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import ipywidgets as W
import matplotlib.pyplot as plt
import torch
from IPython.display import display
from matplotlib.figure import Figure
from torch import nn

from inception_lab.data import denormalize_shapes
from inception_lab.experiments.features import (
    LayerMaps,
    branch_label,
    branch_offsets,
    capture_layer_maps,
    feature_map_layers,
)
from inception_lab.viz.feature_maps import describe_selection, plot_feature_map_selection
from inception_lab.widgets import Explorer


def branch_options(model: nn.Module, layer: str) -> list[tuple[str, str]]:
    """``(label, key)`` pairs for the branch dropdown of ``layer``, each label with its channel count."""
    return [(f"{branch_label(model, layer, key)} ({channels} ch)", key)
            for key, (_, channels) in branch_offsets(model, layer).items()]


class FeatureMapExplorer(Explorer):
    """Pick an image, a layer, a branch and a channel: see what a trained network's feature map looks like.

    Every selection is drawn by :func:`~inception_lab.viz.feature_maps.plot_feature_map_selection` (also the static
    twin) from maps captured by :func:`~inception_lab.experiments.features.capture_layer_maps` (one forward pass per
    image, cached).

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
        readout: ``HTML`` widget describing the selection (:func:`~inception_lab.viz.feature_maps.describe_selection`).
        plot: ``Output`` widget with the figure; ``figure`` is the matplotlib figure currently shown.
        maps: the :func:`~inception_lab.experiments.features.capture_layer_maps` of the current image.
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
            labels = [int(label) for label in labels]
            if len(labels) != len(images):
                raise ValueError(f"labels must hold one class index per image ({len(images)}), got {len(labels)}.")
            names = [f"{n}: {class_names[c] if class_names else c}" for n, c in zip(names, labels, strict=True)]
        style = {"description_width": "60px"}
        self.image = W.Dropdown(options=list(zip(names, range(len(images)), strict=True)), value=image_index,
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
        """The maps of the selected image, every layer and branch (captured on first use, then cached)."""
        index = self.image.value
        if index not in self._cache:
            self._cache[index] = capture_layer_maps(self.model, self.images[index])
        return self._cache[index]

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
