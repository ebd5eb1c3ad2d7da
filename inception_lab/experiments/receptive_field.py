"""Receptive fields, computed and measured: what one output value of a stack of layers can see.

* :func:`exact_field` -- the exact field (size, jump, start) of any torch module or shape chain, from the book's one
  shape walk (:func:`inception_lab.nn.branches.to_spec` + :func:`inception_lab.shapes.walk`), and :func:`field_box`, the
  input window of one output position.
* :func:`gradient_map` -- the empirical field: the gradient of one output position with respect to the input. An
  input pixel the output cannot see gets a gradient of exactly zero, so the non-zero region is the field, and the
  magnitudes show how much each pixel counts (the "effective" receptive field, which concentrates in the centre).

Two 3x3 convolutions see the 5x5 window of one 5x5 convolution [Rethinking, §3.1, Fig. 1], and ``1 x n`` then
``n x 1`` sees the ``n x n`` window of an ``n x n`` convolution [Rethinking, §3.2, Fig. 3]; chapter 4 shows both,
drawn by :func:`inception_lab.viz.experiment_charts.plot_gradient_maps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from inception_lab.checks import check_positive_int
from inception_lab.nn.branches import to_spec
from inception_lab.shapes import Node, ReceptiveField, start_shape, walk


def _chain(module: Any) -> tuple[Node, ...]:
    if isinstance(module, nn.Module):
        return to_spec(module)
    return tuple(module)


def exact_field(module: Any, in_channels: int, size: int) -> ReceptiveField:
    """The receptive field of ``module`` (a torch module or a chain of shape nodes) on a ``size x size`` input.

    Returns:
        The :class:`~inception_lab.shapes.ReceptiveField` of one output value: ``size`` (window side in input
        pixels), ``jump`` (input pixels between neighbouring outputs) and ``start`` (centre of the first output's
        window).
    """
    shapes = walk(_chain(module), start_shape(in_channels, check_positive_int("size", size), size))
    return shapes[-1].field if shapes else ReceptiveField()


def field_box(field: ReceptiveField, row: int, column: int) -> tuple[float, float, float, float]:
    """Input window ``(top, bottom, left, right)`` (inclusive) seen by output position ``(row, column)``.

    Edges may lie outside the image (in the padding) or be fractional (even kernels).
    """
    centre = (field.start[0] + row * field.jump[0], field.start[1] + column * field.jump[1])
    half = ((field.size[0] - 1) / 2, (field.size[1] - 1) / 2)
    return centre[0] - half[0], centre[0] + half[0], centre[1] - half[1], centre[1] + half[1]


@dataclass(frozen=True)
class GradientMap:
    """The empirical receptive field of one output position.

    Attributes:
        magnitude: (H, W) array, the absolute input gradient summed over samples, channels and output channels,
            normalised to a maximum of 1.
        box: ``(top, bottom, left, right)`` of the non-zero region (inclusive), or ``None`` if it is empty.
        position: the output position whose gradient was taken.
    """

    magnitude: np.ndarray
    box: tuple[int, int, int, int] | None
    position: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the non-zero region: the measured receptive field."""
        if self.box is None:
            return (0, 0)
        top, bottom, left, right = self.box
        return bottom - top + 1, right - left + 1

    def window(self, fraction: float = 0.9) -> int:
        """Side of the smallest square around the centre of mass holding ``fraction`` of the gradient magnitude.

        A measured *effective* field: the theoretical field (:attr:`size`) counts every pixel with any influence,
        this counts where the influence is. The square is clipped to the input; ``fraction`` lies in (0, 1].
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must lie in (0, 1], got {fraction}.")
        m = self.magnitude
        total = m.sum()
        if total == 0:
            return 0
        rows, cols = np.indices(m.shape)
        cy, cx = (rows * m).sum() / total, (cols * m).sum() / total
        for k in range(1, max(m.shape) + 1):
            top = int(np.clip(round(cy - (k - 1) / 2), 0, max(m.shape[0] - k, 0)))
            left = int(np.clip(round(cx - (k - 1) / 2), 0, max(m.shape[1] - k, 0)))
            if m[top:top + k, left:left + k].sum() >= fraction * total * (1 - 1e-12):
                return k
        return max(m.shape)


def gradient_map(module: nn.Module, in_channels: int, size: int, *, samples: int = 8,
                 position: tuple[int, int] | None = None, generator: torch.Generator | None = None,
                 inputs: torch.Tensor | None = None) -> GradientMap:
    """The input gradient of one output position of ``module``, over ``samples`` random inputs (or ``inputs``).

    Runs ``module`` (in its current mode, on its device) on ``samples`` standard-normal ``in_channels x size x size``
    inputs, sums the output channels at ``position`` (default: the centre) and backpropagates. With ReLUs in the
    stack a path can be switched off for one input; summing absolute gradients over several inputs makes the
    non-zero region the whole field in practice (a single zero would need every path to every pixel switched off
    for all samples). ``inputs`` (``N x in_channels x size x size``, e.g. test images) replaces the random ones: the
    influence a trained network's output draws from real images.
    """
    check_positive_int("samples", samples)
    first = next(iter(module.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    if inputs is not None and (inputs.dim() != 4 or tuple(inputs.shape[1:]) != (in_channels, size, size)):
        raise ValueError(f"inputs must be N x {in_channels} x {size} x {size}, got {tuple(inputs.shape)}.")
    x = (torch.randn(samples, in_channels, size, size, generator=generator) if inputs is None else inputs.detach())
    x = x.to(device).clone().requires_grad_(True)
    y = module(x)
    row, column = position if position is not None else (y.shape[2] // 2, y.shape[3] // 2)
    if not (0 <= row < y.shape[2] and 0 <= column < y.shape[3]):
        raise ValueError(f"position {(row, column)} is outside the {y.shape[2]}x{y.shape[3]} output.")
    (grad,) = torch.autograd.grad(y[:, :, row, column].sum(), x)
    magnitude = grad.detach().abs().sum(dim=(0, 1)).cpu().double().numpy()
    rows, columns = np.nonzero(magnitude)
    box = None if rows.size == 0 else (int(rows.min()), int(rows.max()), int(columns.min()), int(columns.max()))
    peak = magnitude.max()
    return GradientMap(magnitude / peak if peak > 0 else magnitude, box, (row, column))
