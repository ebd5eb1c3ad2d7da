"""Counting a real model: :func:`count` runs one forward pass with hooks and applies the formulas of
:mod:`inception_lab.cost.core` to every convolution and linear layer it meets.

torch is imported only inside :func:`count`, so ``import inception_lab.cost`` stays torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inception_lab.checks import check_positive_int
from inception_lab.cost.core import Cost, conv2d_cost, linear_cost

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    import torch


@dataclass(frozen=True)
class LayerCost:
    """One row of a :class:`CostReport`: a module that owns parameters or does multiply-accumulates."""

    name: str
    kind: str
    params: int
    macs: int
    input_shape: tuple[int, ...] | None  # None when the layer did not run (e.g. an aux head in eval mode)
    output_shape: tuple[int, ...] | None
    torchinfo_extra: int = 0  # what torchinfo adds on top of MACs for this layer (see torchinfo_mult_adds)

    @property
    def flops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True)
class CostReport:
    """Result of :func:`count`: totals plus a per-layer breakdown.

    Attributes:
        params: all parameters of the model (``sum(p.numel() for p in model.parameters())``).
        macs: multiply-accumulates of the forward pass on ``input_shape`` (whole batch).
        input_shape: the shape that was run.
        layers: one :class:`LayerCost` per module that has parameters or MACs, in registration order.
    """

    params: int
    macs: int
    input_shape: tuple[int, ...]
    layers: tuple[LayerCost, ...] = field(repr=False)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def torchinfo_mult_adds(self) -> int:
        """torchinfo's ``total_mult_adds`` for the same forward pass.

        torchinfo also counts every bias once per output value (conv: C_out * H_out * W_out per sample;
        linear: out_features per sample) and each BatchNorm as 2 * C per sample (gamma and beta, not scaled by
        H * W). Those terms are the whole difference from MACs.
        """
        return self.macs + sum(layer.torchinfo_extra for layer in self.layers)

    def group(self, depth: int = 1) -> dict[str, Cost]:
        """Costs summed by the first ``depth`` components of the layer names (e.g. per module, per branch)."""
        check_positive_int("depth", depth)
        out: dict[str, Cost] = {}
        for layer in self.layers:
            key = ".".join(layer.name.split(".")[:depth])
            out[key] = out.get(key, Cost()) + Cost(layer.params, layer.macs)
        return out

    def table(self, depth: int | None = None) -> str:
        """A fixed-width text table: per layer, or per group of names when ``depth`` is given."""
        if depth is None:
            lines = [f"{'layer':<32} {'kind':<12} {'output':<20} {'params':>12} {'MACs':>15}"]
            for layer in self.layers:
                shape = "x".join(map(str, layer.output_shape)) if layer.output_shape else "(not run)"
                lines.append(f"{layer.name:<32} {layer.kind:<12} {shape:<20} {layer.params:>12,} {layer.macs:>15,}")
        else:
            lines = [f"{'group':<32} {'params':>12} {'MACs':>15}"]
            lines += [f"{k:<32} {c.params:>12,} {c.macs:>15,}" for k, c in self.group(depth).items()]
        lines.append(f"{'total':<32} {self.params:>12,} {self.macs:>15,}" if depth is not None else
                     f"{'total':<32} {'':<12} {'':<20} {self.params:>12,} {self.macs:>15,}")
        return "\n".join(lines)

    def __iter__(self) -> Iterator[LayerCost]:
        return iter(self.layers)


def count(model: torch.nn.Module, input_shape: Sequence[int]) -> CostReport:
    """Count parameters and MACs of ``model`` on an input of ``input_shape`` (batch dimension included).

    Runs one forward pass of zeros under ``torch.no_grad()`` in the model's current mode (eval mode is what
    you usually want: in train mode GoogLeNet-style auxiliary heads run too) and records, with forward hooks,
    the input and output shape of every ``nn.Conv2d`` and ``nn.Linear``; their MACs come from
    :func:`conv2d_cost` and :func:`linear_cost`. Every other layer counts 0 MACs, as in ``FlopCounterMode``.
    Parameters are counted for every module, whether or not it ran.

    Example:
        >>> report = count(model.eval(), (1, 3, 224, 224))
        >>> report.params, report.macs, report.flops
    """
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise ValueError(f"count() needs a torch.nn.Module, got {type(model).__name__}.")
    if isinstance(input_shape, int) or len(input_shape) < 2:
        raise ValueError(f"input_shape must include the batch dimension, e.g. (1, 3, 224, 224); got {input_shape!r}.")
    shape = tuple(check_positive_int(f"input_shape[{i}]", s) for i, s in enumerate(input_shape))

    seen: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def record(name: str):
        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            if name in seen:
                raise ValueError(f"module {name!r} ran twice in one forward pass; count() needs each layer to "
                                 "run once (shared layers are not supported).")
            seen[name] = (tuple(inputs[0].shape), tuple(output.shape))
        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in model.named_modules()
               if isinstance(m, (nn.Conv2d, nn.Linear, nn.modules.batchnorm._BatchNorm))]
    try:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else torch.device("cpu")
        dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
        with torch.no_grad():
            model(torch.zeros(shape, device=device, dtype=dtype))
    finally:
        for h in handles:
            h.remove()

    layers = []
    for name, module in model.named_modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        ran = seen.get(name)
        macs = extra = 0
        if ran is not None and isinstance(module, nn.Conv2d):
            (n, _, _, _), (_, _, oh, ow) = ran[0], ran[1]
            kh, kw = module.kernel_size
            cost = conv2d_cost(module.in_channels, module.out_channels, (kh, kw), (oh, ow),
                               groups=module.groups, bias=module.bias is not None, batch=n)
            macs, extra = cost.macs, (n * module.out_channels * oh * ow if module.bias is not None else 0)
        elif ran is not None and isinstance(module, nn.Linear):
            rows = math.prod(ran[0][:-1])
            macs = linear_cost(module.in_features, module.out_features, bias=module.bias is not None,
                               batch=rows).macs
            extra = rows * module.out_features if module.bias is not None else 0
        elif ran is not None and isinstance(module, nn.modules.batchnorm._BatchNorm):
            extra = ran[0][0] * own
        if own or macs:
            layers.append(LayerCost(name, type(module).__name__, own, macs, ran[0] if ran else None,
                                    ran[1] if ran else None, extra))
    params = sum(p.numel() for p in model.parameters())
    return CostReport(params=params, macs=sum(layer.macs for layer in layers), input_shape=shape, layers=tuple(layers))
