"""Scoring a trained network: main-head logits (:func:`predict`) and loss and accuracy (:func:`evaluate`).

Auxiliary heads are discarded at inference [GoogLeNet, §5], so only the main head counts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from inception_lab.nn.losses import main_logits
from inception_lab.runtime import pick_device, resolve_device


class _EvalMode:
    """Context manager: every submodule in eval mode inside, each one's own previous mode restored on exit."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.modes: dict[nn.Module, bool] = {}

    def __enter__(self) -> None:
        self.modes = {m: m.training for m in self.model.modules()}
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        for module, mode in self.modes.items():
            module.training = mode


def predict(model: nn.Module, loader: DataLoader,
            device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Main-head logits and targets for every batch of ``loader``, in eval mode without gradients.

    The model is moved to ``device`` (``None``: the device of its first parameter, else
    :func:`~inception_lab.runtime.pick_device`); each submodule's train/eval mode is restored afterwards.

    Returns:
        ``(logits, targets)``: (N, K) float32 and (N,) on the CPU.
    """
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else pick_device()
    device = resolve_device(device)
    model.to(device)
    all_logits, all_targets = [], []
    with _EvalMode(model), torch.no_grad():
        for images, targets in loader:
            all_logits.append(main_logits(model(images.to(device))).float().cpu())
            all_targets.append(targets.cpu())
    if not all_logits:
        raise ValueError("loader yields no batches.")
    return torch.cat(all_logits), torch.cat(all_targets)


def evaluate(model: nn.Module, loader: DataLoader, device: str | torch.device | None = None) -> dict[str, float]:
    """Main-head cross-entropy and accuracy over ``loader``, in eval mode without gradients.

    Auxiliary heads are discarded at inference [GoogLeNet, §5], so only the main head counts. The model's
    train/eval mode (of every submodule) is the same after the call as before. See :func:`predict` for
    ``device``.

    Returns:
        ``{"loss": mean cross-entropy per example, "accuracy": fraction correct}``.
    """
    logits, targets = predict(model, loader, device=device)
    return {"loss": F.cross_entropy(logits, targets).item(),
            "accuracy": (logits.argmax(1) == targets).float().mean().item()}
