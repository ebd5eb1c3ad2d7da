"""Interactive explorers (thin ipywidgets wiring over :mod:`inception_lab.cost`, :mod:`inception_lab.features` and
:mod:`inception_lab.plotting`): :class:`InceptionExplorer` (chapter 1) and :class:`FeatureMapExplorer` (chapter 2).

Every explorer computes with pure functions that are tested without a kernel, exposes its sliders and its
read-outs as attributes (so tests can set a slider and read what it shows), and has a static twin -- the same
figure and table drawn with default values -- for the rendered book, where no kernel runs.
"""

from __future__ import annotations

import html
from typing import Callable, Mapping, Sequence

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from matplotlib.figure import Figure
from torch import nn

from inception_lab.cost import ModuleCost, compare_inception_modules
from inception_lab.data import denormalize_shapes
from inception_lab.features import capture_features
from inception_lab.layers import MultiBranch
from inception_lab.plotting import plot_module_comparison, to_numpy

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


class InceptionExplorer:
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

    def _repr_mimebundle_(self, **kwargs: object) -> dict | None:
        """Show the widget when the explorer is the last expression of a cell."""
        return self.widget._repr_mimebundle_(**kwargs)


# ---------------------------------------------------------------------------------------------------------
# Chapter 2: what a trained network's modules and branches respond to
# ---------------------------------------------------------------------------------------------------------
#: Dropdown labels of the feature-map explorer: the module's concatenated output, then GoogLeNet's four branches.
BRANCH_LABELS = {"output": "all branches (concatenated)", "branch1": "1x1", "branch2": "1x1 -> 3x3",
                 "branch3": "1x1 -> 5x5", "branch4": "3x3 pool -> 1x1"}

#: Captured maps of one image: layer name -> {"output" or branch name -> (C, H, W) tensor}.
LayerMaps = dict[str, dict[str, torch.Tensor]]


def feature_map_layers(model: nn.Module) -> list[str]:
    """The layers the explorer offers, in forward order: the stem's convolutions and every Inception module.

    Top-level children that are multi-branch modules (:class:`~inception_lab.layers.MultiBranch`) or conv atoms
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


def branch_options(model: nn.Module, layer: str) -> list[tuple[str, str]]:
    """``(label, key)`` pairs for the branch dropdown of ``layer``, each label with its channel count."""
    return [(f"{BRANCH_LABELS.get(key, key)} ({channels} ch)", key)
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
    names = []
    for layer in layers:
        names.append(layer)
        names += [f"{layer}.{key}" for key in branch_offsets(model, layer) if key != "output"]
    first = next(model.parameters(), None)
    image = image.to(first.device if first is not None else "cpu")
    was_training = model.training
    model.eval()
    try:
        maps = capture_features(model, image, names)
    finally:
        model.train(was_training)
    out: LayerMaps = {}
    for layer in layers:
        out[layer] = {"output": maps[layer][0]}
        out[layer].update({key: maps[f"{layer}.{key}"][0] for key in branch_offsets(model, layer) if key != "output"})
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
    return (f"{layer}, {BRANCH_LABELS.get(branch, branch)}: channel {channel} of {channels}{where}; a "
            f"{fmap.shape[0]}x{fmap.shape[1]} map, mean {fmap.mean().item():.3f}, max {fmap.max().item():.3f}. "
            f"{active} of the {channels} channels respond somewhere on this image.")


def plot_feature_map_selection(image: torch.Tensor, maps: LayerMaps, layer: str, branch: str = "output",
                               channel: int = 0, title: str | None = None, ncols: int | None = None,
                               cmap: str = "viridis") -> Figure:
    """The feature-map explorer's figure, and its static twin: the image, one channel enlarged, all channels.

    Args:
        image: (3, H, W) in [0, 1] for display (denormalised).
        maps: :func:`capture_layer_maps` of that image.
        layer, branch, channel: the selection; ``branch="output"`` is the module's concatenated output.
        ncols: tiles per row in the all-channels panel (default: about 2.5 times as many columns as rows).

    The enlarged map has its own colour scale (colour bar); the tiles share one scale, 0 to the largest value of
    the selection, so that silent channels look dark and the strongest responses stand out. The selected tile
    is framed in red.
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
            spine.set_color("red")
            spine.set_linewidth(2.0)
    label = BRANCH_LABELS.get(branch, branch)
    fig.text(0.695, 0.93, f"all {n} channels of {layer} / {label} (common scale)", ha="center", fontsize=9)
    if title:
        fig.suptitle(title, y=1.02)
    return fig


class FeatureMapExplorer:
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
                                                     v["layer"], v["branch"], v["channel"])
            display(self.figure)
            plt.close(self.figure)

    def _repr_mimebundle_(self, **kwargs: object) -> dict | None:
        """Show the widget when the explorer is the last expression of a cell."""
        return self.widget._repr_mimebundle_(**kwargs)
