"""The torch side of the shape walk: any module of the book described as a chain of :mod:`inception_lab.shapes`.

:func:`to_spec` turns a module into ``Op`` / ``Parallel`` nodes from its layers' own kernel sizes, strides and
paddings; :func:`stage_shapes`, :func:`min_input_size` and :func:`receptive_fields` then apply the one walk of
:mod:`inception_lab.shapes`. A network takes part by listing its main path in forward order with a
``main_path()`` method returning ``(attribute name, module)`` pairs (auxiliary heads are not on it).
"""

from __future__ import annotations

from torch import nn

from inception_lab.checks import check_positive_int
from inception_lab.nn.branches import to_spec
from inception_lab.shapes import InputTooSmall, Shape, start_shape, walk
from inception_lab.shapes import min_input_size as chain_min_input_size


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
