"""Feature-map capture with forward hooks: what each module, and each branch of a module, outputs.

Used by every chapter that shows feature maps (chapter 1 onwards).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import torch
from torch import nn

from inception_lab.layers import MultiBranch


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


def branch_names(model: nn.Module, module_name: str = "") -> list[str]:
    """Qualified names of the branches of the :class:`MultiBranch` module ``module_name`` (``""`` = model itself)."""
    module = model.get_submodule(module_name) if module_name else model
    if not isinstance(module, MultiBranch):
        raise ValueError(f"{module_name or type(model).__name__!r} is a {type(module).__name__}, not a "
                         "multi-branch Inception module.")
    prefix = f"{module_name}." if module_name else ""
    return [prefix + b for b in module.branch_channels]


def capture_branches(model: nn.Module, x: torch.Tensor, module_name: str = "") -> dict[str, torch.Tensor]:
    """Outputs of every branch of one Inception module (keys are the short branch names)."""
    names = branch_names(model, module_name)
    maps = capture_features(model, x, names)
    return {n.rsplit(".", 1)[-1]: maps[n] for n in names}


def strongest_channels_first(branch_maps: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each branch's (1, C, H, W) maps with channels reordered by mean activation on the first image, largest first.

    Trained filters are sparse: most channels of a branch are silent on a given image, so plots show the active
    ones first.
    """
    return {name: maps[:, maps[0].mean((1, 2)).argsort(descending=True)] for name, maps in branch_maps.items()}

