"""The torch side of the shape walk: any module of the book described as a chain of :mod:`inception_lab.shapes`.

:func:`to_spec` turns a module into ``Op`` / ``Parallel`` nodes from its layers' own kernel sizes, strides and
paddings; :func:`stage_shapes`, :func:`min_input_size` and :func:`receptive_fields` then apply the one walk of
:mod:`inception_lab.shapes`. A network takes part by listing its main path in forward order with a
``main_path()`` method returning ``(attribute name, module)`` pairs (auxiliary heads are not on it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from inception_lab.checks import check_positive_int
from inception_lab.batchnorm import ScratchBatchNorm2d
from inception_lab.layers import MultiBranch
from inception_lab.shapes import InputTooSmall, Node, Op, Shape, start_shape, walk
from inception_lab.shapes import min_input_size as chain_min_input_size

#: Layers that change neither the grid nor the channels.
POINTWISE = (nn.ReLU, nn.modules.batchnorm._BatchNorm, nn.LocalResponseNorm, nn.Dropout, nn.Identity, nn.Sigmoid,
             nn.Flatten, ScratchBatchNorm2d)


def _ints(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def to_spec(module: nn.Module) -> tuple[Node, ...]:
    """``module`` as a chain of :class:`~inception_lab.shapes.Op` and :class:`~inception_lab.shapes.Parallel` nodes.

    Understands convolutions, max/avg pooling, global average pooling, :class:`~inception_lab.layers.MultiBranch`
    modules (through their branch contract), ``nn.Sequential`` and any container whose children run in
    registration order (the conv atoms), networks with a ``main_path()``, and layers that keep the shape (ReLU,
    BatchNorm, LRN, dropout).

    Raises:
        ValueError: for a layer whose effect on the shape it does not know.
    """
    if isinstance(module, MultiBranch):
        return (module.spec(),)
    if hasattr(module, "main_path"):
        return tuple(node for _, child in module.main_path() for node in to_spec(child))
    if isinstance(module, nn.Conv2d):
        if module.padding_mode != "zeros" or isinstance(module.padding, str):
            raise ValueError("to_spec supports convolutions with integer zero padding only.")
        return (Op("conv", kernel=_ints(module.kernel_size), stride=_ints(module.stride),
                   padding=_ints(module.padding), dilation=_ints(module.dilation), out_channels=module.out_channels,
                   groups=module.groups, bias=module.bias is not None),)
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        kind = "max_pool" if isinstance(module, nn.MaxPool2d) else "avg_pool"
        stride = module.stride if module.stride is not None else module.kernel_size
        return (Op(kind, kernel=_ints(module.kernel_size), stride=_ints(stride), padding=_ints(module.padding),
                   ceil_mode=bool(module.ceil_mode)),)
    if isinstance(module, nn.AdaptiveAvgPool2d):
        if _ints(module.output_size) != (1, 1):
            raise ValueError("to_spec supports adaptive average pooling to 1x1 (global pooling) only.")
        return (Op("global_avg_pool"),)
    if isinstance(module, POINTWISE):
        return ()
    children = list(module.children())
    if children:
        nodes: list[Node] = []
        for child in children:
            if isinstance(child, (nn.modules.batchnorm._BatchNorm, ScratchBatchNorm2d)) and nodes and isinstance(nodes[-1], Op) \
                    and nodes[-1].kind == "conv":
                nodes[-1] = replace(nodes[-1], batchnorm=True)  # conv -> BN: the cost model counts gamma, beta
            nodes += to_spec(child)
        return tuple(nodes)
    raise ValueError(f"to_spec does not know what {type(module).__name__} does to a feature map's shape.")


def stage_shapes(model: nn.Module, height: int, width: int, in_channels: int | None = None) -> dict[str, Shape]:
    """Shape (and receptive field) after every stage of ``model``'s ``main_path()``, without running it.

    Raises:
        ValueError: if the input is too small, naming the first stage whose output would be empty and the smallest
            input the network accepts.
    """
    channels = in_channels if in_channels is not None else getattr(model, "in_channels", 3)
    shape = start_shape(channels, check_positive_int("height", height), check_positive_int("width", width))
    out: dict[str, Shape] = {}
    for name, child in model.main_path():
        try:
            shapes = walk(to_spec(child), shape)
        except InputTooSmall as err:
            raise ValueError(
                f"{type(model).__name__}: a {height}x{width} input is too small; the feature map would be empty "
                f"after {name}. The smallest input this network accepts is "
                f"{min_input_size(model)}x{min_input_size(model)}.") from err
        shape = shapes[-1] if shapes else shape
        out[name] = shape
    return out


def min_input_size(model: nn.Module, in_channels: int | None = None) -> int:
    """Smallest square input side ``model`` accepts (every stage keeps at least one output position)."""
    channels = in_channels if in_channels is not None else getattr(model, "in_channels", 3)
    return chain_min_input_size(to_spec(model), channels)
