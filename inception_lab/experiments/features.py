"""Feature-map capture with forward hooks: what each module, and each branch of a module, outputs.

Used by every chapter that shows feature maps (chapter 1 onwards). Chapter 2's feature-map explorer captures every
layer and branch of one image at once (:func:`capture_layer_maps`) and finds a branch's channels inside its
module's concatenated output (:func:`branch_offsets`); its figure and read-out are drawn by
:mod:`inception_lab.viz.feature_maps`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

import torch
from torch import nn

from inception_lab.nn.branches import MultiBranch


@contextmanager
def record_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Context manager that records the outputs of the named submodules during forward passes.

    Outputs are detached and moved to the CPU. Hooks are removed on exit, also after an exception.

    Example:
        >>> with record_outputs(model, ["inception3a", "inception3a.branch2"]) as maps:
        ...     model(x)
        >>> maps["inception3a"].shape
    """
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules]
    if unknown:
        available = [n for n in modules if n][:20]
        raise ValueError(f"unknown module name(s) {unknown}; available names include {available} ...")
    captured: dict[str, torch.Tensor] = {}

    def hook_for(name: str):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            captured[name] = output.detach().to("cpu")
        return hook

    handles = [modules[n].register_forward_hook(hook_for(n)) for n in names]
    try:
        yield captured
    finally:
        for h in handles:
            h.remove()


def capture_features(model: nn.Module, x: torch.Tensor, names: Sequence[str]) -> dict[str, torch.Tensor]:
    """Run ``model(x)`` without gradients and return the outputs of the named submodules."""
    with record_outputs(model, names) as maps, torch.no_grad():
        model(x)
    return dict(maps)


def multi_branch(model: nn.Module, module_name: str = "") -> MultiBranch:
    """The :class:`~inception_lab.nn.branches.MultiBranch` module ``module_name`` of ``model`` (``""`` = the model)."""
    module = model.get_submodule(module_name) if module_name else model
    if not isinstance(module, MultiBranch):
        raise ValueError(f"{module_name or type(model).__name__!r} is a {type(module).__name__}, not a "
                         "multi-branch Inception module.")
    return module


def capture_branches(model: nn.Module, x: torch.Tensor, module_name: str = "") -> dict[str, torch.Tensor]:
    """Outputs of every branch of one Inception module, keyed by branch name, from one forward pass of ``model``.

    Works from the branch contract alone (:meth:`~inception_lab.nn.branches.MultiBranch.branch_outputs`), so it
    serves modules whose branches are single attributes (GoogLeNet's ``branch2``) and modules whose branches are
    several flat attributes or split and concatenate (Inception-v3's ``branch3x3dbl_1`` ... ``_3``).
    """
    module = multi_branch(model, module_name)
    with module.recording_branches() as captured, torch.no_grad():
        model(x)
    return {name: out.detach().to("cpu") for name, out in captured.items()}


def strongest_channels_first(branch_maps: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each branch's (1, C, H, W) maps with channels reordered by mean activation on the first image, largest first.

    Trained filters are sparse: most channels of a branch are silent on a given image, so plots show the active
    ones first.
    """
    return {name: maps[:, maps[0].mean((1, 2)).argsort(descending=True)] for name, maps in branch_maps.items()}


#: What a layer's whole (concatenated) output is called (the explorer's branch dropdown, figure titles).
OUTPUT_LABEL = "all branches (concatenated)"

#: Captured maps of one image: layer name -> {"output" or branch name -> (C, H, W) tensor}.
LayerMaps = dict[str, dict[str, torch.Tensor]]


def feature_map_layers(model: nn.Module) -> list[str]:
    """The layers whose feature maps chapter 2 shows, in forward order: the stem's convolutions and every module.

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
    """What to call ``key`` of ``layer``: the module's own branch label, or :data:`OUTPUT_LABEL`."""
    module = model.get_submodule(layer)
    if key == "output" or not isinstance(module, MultiBranch):
        return OUTPUT_LABEL
    return module.branch_labels[key]


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
