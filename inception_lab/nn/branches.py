"""The branch contract: parallel branches concatenated along channels [GoogLeNet, Fig. 2], and any module as a spec.

* :class:`MultiBranch` -- the "filter concatenation" of [GoogLeNet, Fig. 2]. Every Inception module of the book
  derives from it and declares its branches with :meth:`MultiBranch.add_branch`; cost counting, feature capture,
  the explorers, the knock-outs and the diagrams work from that declaration alone.
* :class:`Split` -- the step of a branch that runs several layers on one input and concatenates their outputs
  (Inception-v3's expanded filter bank [Rethinking, Fig. 7]).
* :func:`to_spec` -- any module of the book as a chain of :mod:`inception_lab.shapes` nodes, for the one shape walk
  and the cost model; :data:`POINTWISE` lists the layers that keep the shape.
* :func:`network_input_checked` / :func:`check_block_input` -- a network checks its input once per forward pass
  (:class:`~inception_lab.models.base.InceptionNet`); its blocks check theirs only when called on their own.

Introduced in chapter 1 (``notebooks/01_inception_module.ipynb``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from inception_lab.checks import check_image_batch, check_positive_int
from inception_lab.nn.batchnorm import ScratchBatchNorm2d
from inception_lab.shapes import BranchSpec, Node, Op, Parallel, chain_channels

# ---------------------------------------------------------------------------------------------------------
# One input check per network forward
# ---------------------------------------------------------------------------------------------------------
_INPUT_CHECKED: ContextVar[bool] = ContextVar("inception_lab_network_input_checked", default=False)


@contextmanager
def network_input_checked() -> Iterator[None]:
    """Inside the ``with`` block a network has checked its input (shape and size), so its blocks skip their checks."""
    token = _INPUT_CHECKED.set(True)
    try:
        yield
    finally:
        _INPUT_CHECKED.reset(token)


def check_block_input(x: Any, in_channels: int, who: str) -> bool:
    """A clear ``ValueError`` for a wrong input to a block called on its own; nothing inside a checked network.

    Returns whether the check ran (``False`` inside :func:`network_input_checked`).
    """
    if _INPUT_CHECKED.get():
        return False
    check_image_batch(x, in_channels, who)
    return True


# ---------------------------------------------------------------------------------------------------------
# The branch contract
# ---------------------------------------------------------------------------------------------------------
#: A layer of a branch: the attribute it is stored under (its ``state_dict`` prefix) and the module.
Layer = tuple[str, nn.Module]


def _checked_layer(branch: str, layer: Any) -> Layer:
    if not (isinstance(layer, tuple) and len(layer) == 2 and isinstance(layer[0], str)):
        raise ValueError(f"branch {branch!r}: a layer is an (attribute, module) pair, got {layer!r}.")
    if not isinstance(layer[1], nn.Module):
        raise ValueError(f"branch {branch!r}: {layer[0]!r} must be an nn.Module, got {type(layer[1]).__name__}.")
    return layer


class Split:
    """One step of a branch that runs several layers on the same input and concatenates their outputs.

    "Inception modules with expanded the filter bank outputs" [Rethinking, Fig. 7]: after a 1x1 (384), a 1x3 and a
    3x1 convolution both read its output, and the branch outputs 384 + 384 channels::

        self.add_branch("branch3x3", ("branch3x3_1", conv_block(c_in, 384, kernel_size=1)),
                        Split(("branch3x3_2a", conv_1xn(conv_block, 384, 384, 3)),
                              ("branch3x3_2b", conv_nx1(conv_block, 384, 384, 3))))

    Args:
        layers: two or more ``(attribute, module)`` pairs, in concatenation order.
    """

    def __init__(self, *layers: Layer) -> None:
        if len(layers) < 2:
            raise ValueError(f"a Split needs at least two (attribute, module) layers, got {len(layers)}; a single "
                             "layer is a plain step.")
        self.layers: tuple[Layer, ...] = tuple(_checked_layer("Split", layer) for layer in layers)

    def __repr__(self) -> str:
        return f"Split({', '.join(name for name, _ in self.layers)})"


#: One step of a branch: a module (the whole branch, stored under the branch's name), an ``(attribute, module)``
#: pair, or a :class:`Split`.
Step = nn.Module | Layer | Split


@dataclass(frozen=True)
class Branch:
    """One branch of a :class:`MultiBranch` module, as declared by :meth:`MultiBranch.add_branch`.

    Attributes:
        name: the branch's key (``"branch2"``, ``"branch7x7dbl"``): used in feature capture, costs and legends.
        steps: attribute names of the module's layers, in order; a step with several names is a :class:`Split`.
        label: a fixed label, or ``""`` to derive one from the layers (``"1x1 -> 3x3"``).
    """

    name: str
    steps: tuple[tuple[str, ...], ...]
    label: str = ""


class MultiBranch(nn.Module):
    """Parallel branches on the same input, outputs concatenated along channels [GoogLeNet, Fig. 2].

    A subclass calls :meth:`add_branch` once per branch, in concatenation order. Each step of a branch is
    applied to the previous step's output:

    * ``add_branch("branch1", conv)`` -- a one-step branch; the layer is stored under the branch's name;
    * ``add_branch("branch5x5", ("branch5x5_1", conv_a), ("branch5x5_2", conv_b))`` -- one ``(attribute,
      module)`` pair per step;
    * a :class:`Split` step runs its layers on the same input and concatenates them (Inception-v3's module C).

    From the declared branches the module knows its :meth:`spec` (cached; recomputed when a branch is added or
    a layer replaced), its branches' labels and output channels, :meth:`describe` (the data flow as text) and
    :meth:`branch_outputs`; nothing else needs to know how a particular module is wired.

    Two dialects, one contract: the attribute names are the ``state_dict`` keys, and torchvision spells them two
    ways. Its GoogLeNet keeps each branch in one ``nn.Sequential`` (``branch2.0.conv.weight``), so v1 and
    BN-Inception declare one-step branches of a Sequential; its Inception-v3 keeps every layer as a flat
    attribute (``branch3x3dbl_2.conv.weight``), so v3 names each step. Both load torchvision's weights unchanged.

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H', W') with ``out_channels = sum(branch_channels)``.
        Called on its own, a module checks its input; inside a network, the network checks once
        (:func:`network_input_checked`).
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self._branches: list[Branch] = []
        self._recorded: dict[str, torch.Tensor] | None = None

    def add_branch(self, name: str, *steps: Step, label: str = "") -> None:
        """Register the branch ``name``: its steps in order (see the class docstring), and an optional label."""
        if any(b.name == name for b in self._branches):
            raise ValueError(f"{type(self).__name__} already has a branch named {name!r}.")
        if not steps:
            raise ValueError(f"branch {name!r} needs at least one step.")
        names: list[tuple[str, ...]] = []
        for step in steps:
            if isinstance(step, nn.Module):
                if len(steps) > 1:
                    raise ValueError(f"branch {name!r}: a bare module is a one-step branch stored under the branch's "
                                     "name; give each step of a longer branch as an (attribute, module) pair.")
                layers: tuple[Layer, ...] = ((name, step),)
            elif isinstance(step, Split):
                layers = step.layers
            elif isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str):
                layers = (_checked_layer(name, step),)
            else:
                raise ValueError(f"branch {name!r}: a step is a module (a one-step branch), an (attribute, module) "
                                 f"pair, or a Split of such pairs; got {type(step).__name__} {step!r}.")
            for attribute, module in layers:
                self.add_module(attribute, module)
            names.append(tuple(attribute for attribute, _ in layers))
        self._branches.append(Branch(name, tuple(names), label))
        self.__dict__.pop("_spec_cache", None)

    @property
    def branches(self) -> tuple[Branch, ...]:
        """The declared branches, in concatenation order."""
        return tuple(self._branches)

    def spec(self) -> Parallel:
        """This module as a :class:`~inception_lab.shapes.Parallel` node (for the shape walk, costs, diagrams).

        Computed once and kept while the module's layers are the same objects (adding a branch, or replacing a
        layer as :func:`~inception_lab.nn.folding.fold_batchnorm` does, recomputes it).
        """
        layers = tuple(self.modules())[1:]
        cached = self.__dict__.get("_spec_cache")
        if cached is not None and len(cached[0]) == len(layers) \
                and all(a is b for a, b in zip(cached[0], layers, strict=True)):
            return cached[1]
        spec = Parallel(tuple(BranchSpec(b.name, tuple(node for step in b.steps for node in self._step_spec(step)),
                                         b.label) for b in self._branches))
        self.__dict__["_spec_cache"] = (layers, spec)
        return spec

    def _step_spec(self, step: tuple[str, ...]) -> tuple[Node, ...]:
        if len(step) == 1:
            return to_spec(getattr(self, step[0]))
        return (Parallel(tuple(BranchSpec(n, to_spec(getattr(self, n))) for n in step)),)

    @property
    def branch_labels(self) -> dict[str, str]:
        """Branch name -> label (declared, or derived from the layers: ``"1x1 -> 3x3"``)."""
        return {b.name: b.text for b in self.spec().branches}

    @property
    def branch_channels(self) -> dict[str, int]:
        """Branch name -> channels that branch contributes to the concatenation."""
        return {b.name: chain_channels(b.chain, self.in_channels) for b in self.spec().branches}

    @property
    def out_channels(self) -> int:
        """Channels after the filter concatenation."""
        return sum(self.branch_channels.values())

    def describe(self) -> str:
        """The data flow as text, one line per branch: ``branch3x3: 1x1(384) -> [1x3(384) | 3x1(384)]``.

        Convolutions read ``kernel(filters)`` (``/2`` for stride 2), poolings ``3x3 max-pool``; ``[a | b]`` is a
        :class:`Split`. The first line gives the channels in and out.
        """
        lines = [f"{type(self).__name__}: {self.in_channels} -> {self.out_channels} channels, "
                 f"{len(self._branches)} branches concatenated"]
        lines += [f"  {b.name}: {_flow(b.chain)}" for b in self.spec().branches]
        return "\n".join(lines)

    def _run(self, step: tuple[str, ...], x: torch.Tensor) -> torch.Tensor:
        if len(step) == 1:
            return getattr(self, step[0])(x)
        return torch.cat([getattr(self, name)(x) for name in step], dim=1)

    def branch_outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every branch's output before the concatenation (for inspection and feature maps)."""
        standalone = check_block_input(x, self.in_channels, type(self).__name__)
        outputs = {}
        for branch in self._branches:
            y = x
            for step in branch.steps:
                y = self._run(step, y)
            outputs[branch.name] = y
        if standalone and len({tuple(out.shape[2:]) for out in outputs.values()}) > 1:
            sizes = {name: tuple(out.shape[2:]) for name, out in outputs.items()}
            raise ValueError(f"{type(self).__name__}: branch outputs have different grid sizes {sizes}; "
                             f"the input {tuple(x.shape[2:])} is too small for this module.")
        return outputs

    @contextmanager
    def recording_branches(self) -> Iterator[dict[str, torch.Tensor]]:
        """Inside the ``with`` block, each forward pass stores its branch outputs in the yielded dict."""
        self._recorded = recorded = {}
        try:
            yield recorded
        finally:
            self._recorded = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x H x W -> N x out_channels x H' x W'
        outputs = self.branch_outputs(x)
        if self._recorded is not None:
            self._recorded.update(outputs)
        return torch.cat(list(outputs.values()), dim=1)


def _flow(chain: tuple[Node, ...]) -> str:
    """A chain as :meth:`MultiBranch.describe` prints it: ``1x1(384) -> [1x3(384) | 3x1(384)]``."""
    parts = []
    for node in chain:
        if isinstance(node, Parallel):
            parts.append("[" + " | ".join(_flow(b.chain) for b in node.branches) + "]")
        elif node.kind == "conv":
            parts.append(f"{node.short_label}({node.out_channels})")
        else:
            parts.append(node.short_label)
    return " -> ".join(parts) if parts else "identity"


# ---------------------------------------------------------------------------------------------------------
# Any module as a chain of shape-walk nodes (the branch contract's other half)
# ---------------------------------------------------------------------------------------------------------
#: Layers that change neither the grid nor the channels.
POINTWISE = (nn.ReLU, nn.modules.batchnorm._BatchNorm, nn.LocalResponseNorm, nn.Dropout, nn.Identity, nn.Sigmoid,
             nn.Flatten, ScratchBatchNorm2d)
_BATCHNORMS = (nn.modules.batchnorm._BatchNorm, ScratchBatchNorm2d)


def _ints(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def to_spec(module: nn.Module) -> tuple[Node, ...]:
    """``module`` as a chain of :class:`~inception_lab.shapes.Op` and :class:`~inception_lab.shapes.Parallel` nodes.

    Understands convolutions, max/avg pooling, global average pooling, :class:`MultiBranch` modules (through their
    branch contract), ``nn.Sequential`` and any container whose children run in registration order (the conv
    atoms), networks with a ``main_path()``, and layers that keep the shape (ReLU, BatchNorm, LRN, dropout).

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
            if isinstance(child, _BATCHNORMS) and nodes and isinstance(nodes[-1], Op) and nodes[-1].kind == "conv":
                nodes[-1] = replace(nodes[-1], batchnorm=True)  # conv -> BN: the cost model counts gamma, beta
            nodes += to_spec(child)
        return tuple(nodes)
    raise ValueError(f"to_spec does not know what {type(module).__name__} does to a feature map's shape.")
