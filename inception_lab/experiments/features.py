"""Feature-map capture with forward hooks: what each module, and each branch of a module, outputs.

Used by every chapter that shows feature maps (chapter 1 onwards).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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

