"""Block diagrams drawn from the code: any multi-branch module, any network's stages, a classifier head; alt texts.

A diagram is drawn from the module's :mod:`~inception_lab.shapes` spec -- the same description the shape walk
and the cost model use -- so a figure in the book always shows what the code builds. :func:`draw_module` draws
the branches as columns of boxes ("1x1 conv, 64", "3x3 max-pool") joined at the filter concatenation, with each
branch's output channels and the output grid; :func:`draw_network` draws a network's stages in order with their
output shapes. :func:`describe_module` and :func:`describe_network` give the matching alternative text.

Pure matplotlib: a torch module is first turned into its spec by :func:`inception_lab.nn.branches.to_spec` (imported
only when a module, not a spec, is passed). Colours are the Okabe-Ito colour-blind-safe palette
(:mod:`inception_lab.palette`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from inception_lab.palette import OKABE_ITO
from inception_lab.shapes import BranchSpec, Node, Op, Parallel, Shape, apply, start_shape, walk
from inception_lab.viz.display import set_alt_text

#: Okabe-Ito colours by kind of operation (colour-blind safe); inputs and outputs in light grey.
COLOURS = {"conv1x1": OKABE_ITO["sky blue"], "conv": OKABE_ITO["orange"], "pool": OKABE_ITO["bluish green"],
           "concat": OKABE_ITO["reddish purple"], "io": "#F0F0F0", "module": OKABE_ITO["yellow"]}


def _as_parallel(module: Any) -> tuple[Parallel, bool]:
    """``module`` as a Parallel node, and whether it really is one (a plain chain becomes a single column)."""
    if isinstance(module, Parallel):
        return module, True
    if isinstance(module, (tuple, list)):
        chain = tuple(module)
    else:
        from inception_lab.nn.branches import to_spec  # torch is needed only for a torch module

        chain = to_spec(module)
    if len(chain) == 1 and isinstance(chain[0], Parallel):
        return chain[0], True
    return Parallel((BranchSpec("output", chain),)), False


def _colour(op: Op) -> str:
    if op.kind != "conv":
        return COLOURS["pool"]
    return COLOURS["conv1x1"] if op.kernel == (1, 1) else COLOURS["conv"]


def _box(ax: Any, x: float, y: float, w: float, h: float, text: str, colour: str, fontsize: float = 8) -> None:
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=colour, edgecolor="#333333", linewidth=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color="#111111")


def _arrow(ax: Any, x0: float, y0: float, x1: float, y1: float) -> None:
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                arrowprops=dict(arrowstyle="-|>", color="#444444", lw=0.8, shrinkA=0, shrinkB=0))


def _shape_text(shape: Shape) -> str:
    return f"{shape.channels} x {shape.height} x {shape.width}"


def draw_module(module: Any, input_shape: Sequence[int], title: str | None = None) -> Figure:
    """A block diagram of a multi-branch module on an input of ``input_shape`` = (channels, height, width).

    Args:
        module: a :class:`~inception_lab.nn.branches.MultiBranch` torch module or a
            :class:`~inception_lab.shapes.Parallel`; any other module (or a chain of :mod:`~inception_lab.shapes`
            nodes) is drawn as one column.
        input_shape: (C, H, W) of the module's input.
        title: figure title (default: none).

    Branches are columns, in concatenation order; a split inside a branch (Inception-v3's expanded filter bank) is
    drawn as boxes side by side. Under each column: the channels that branch contributes.
    """
    spec, branching = _as_parallel(module)
    start = start_shape(*input_shape)
    out = apply(spec, start)
    columns = [(b, walk(b.chain, start)[-1] if b.chain else start) for b in spec.branches]
    depth = max(len(b.chain) for b, _ in columns) or 1
    width = max(2.6, 2.2 * len(columns))
    fig, ax = plt.subplots(figsize=(width, 1.3 + 0.62 * (depth + 2)))
    top, bottom = depth + 1.6, 0.0
    xs = [(i + 0.5) * width / len(columns) for i in range(len(columns))]
    centre = width / 2
    _box(ax, centre, top, min(width * 0.6, 3.6), 0.45, f"input {_shape_text(start)}", COLOURS["io"])
    col_w = 0.9 * width / len(columns)
    for x, (branch, branch_out) in zip(xs, columns, strict=True):
        _arrow(ax, centre, top - 0.23, x, top - 0.77)
        y = top - 1.0
        for i, node in enumerate(branch.chain or (None,)):
            if i:
                _arrow(ax, x, y + 0.77, x, y + 0.23)
            if node is None:
                _box(ax, x, y, col_w, 0.45, "identity", COLOURS["io"])
            elif isinstance(node, Op):
                _box(ax, x, y, col_w, 0.45, node.label, _colour(node))
            else:  # a split: its branches side by side, concatenated
                n = len(node.branches)
                for j, sub in enumerate(node.branches):
                    sx = x - col_w / 2 + (j + 0.5) * col_w / n
                    label = " / ".join(op.label for op in sub.chain if isinstance(op, Op))
                    _box(ax, sx, y, col_w / n * 0.92, 0.45, label.replace(", ", "\n"), _colour(sub.chain[0]), 7)
            y -= 1.0
        _arrow(ax, x, y + 0.77, x, bottom + 0.23)
        ax.text(x + 0.08, (y + 0.77 + bottom + 0.23) / 2, f"{branch_out.channels} ch", ha="left", va="center",
                fontsize=8, color="#333333")
    _box(ax, centre, bottom, width - 0.3, 0.45,
         f"{'filter concatenation' if branching else 'output'}: {_shape_text(out)}", COLOURS["concat"])
    ax.set_xlim(0, width)
    ax.set_ylim(bottom - 0.5, top + 0.5)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return set_alt_text(fig, describe_module(spec if branching else spec.branches[0].chain, input_shape,
                                             title or "module"))


def describe_module(module: Any, input_shape: Sequence[int], name: str = "module") -> str:
    """Alternative text for :func:`draw_module`: every branch's layers, its channels, and the output shape."""
    spec, branching = _as_parallel(module)
    start = start_shape(*input_shape)
    out = apply(spec, start)
    if not branching:
        layers = ", then ".join(op.label if isinstance(op, Op) else f"{len(op.branches)} parallel branches"
                                for op in spec.branches[0].chain)
        return (f"Block diagram of the {name}: on a {_shape_text(start)} input, {layers}; output "
                f"{_shape_text(out)}.")
    parts = []
    for branch in spec.branches:
        branch_out = walk(branch.chain, start)[-1] if branch.chain else start
        layers = ", then ".join(op.label if isinstance(op, Op) else
                                "in parallel " + " and ".join(b.text for b in op.branches) for op in branch.chain)
        parts.append(f"{branch.name}: {layers or 'the input itself'} ({branch_out.channels} channels)")
    return (f"Block diagram of the {name}: {len(spec.branches)} parallel branches read a {_shape_text(start)} "
            f"input. " + "; ".join(parts) + f". Their outputs are concatenated into {_shape_text(out)}.")


def _stage_label(name: str, chain: Sequence[Node]) -> str:
    if len(chain) == 1 and isinstance(chain[0], Parallel):
        return f"{name}: {len(chain[0].branches)} branches"
    ops = [node.label for node in chain if isinstance(node, Op)]
    return f"{name}: " + " + ".join(ops) if ops else name


def network_stages(model: Any, height: int, width: int) -> list[tuple[str, str, Shape, str]]:
    """``(stage, label, output shape, kind)`` for every stage of ``model.main_path()`` on a ``height x width`` input."""
    from inception_lab.nn.shape_walk import stage_shapes, to_spec

    shapes = stage_shapes(model, height, width)
    rows = []
    for name, child in model.main_path():
        chain = to_spec(child)
        if not chain:
            continue  # layers that keep the shape (LRN, identity) are left out of the picture
        kind = ("module" if isinstance(chain[0], Parallel) else
                "pool" if all(isinstance(n, Op) and n.kind != "conv" for n in chain) else "conv")
        rows.append((name, _stage_label(name, chain), shapes[name], kind))
    return rows


def draw_network(model: Any, height: int, width: int, title: str | None = None, columns: int = 2) -> Figure:
    """A network's stages top to bottom (in ``columns`` columns), each box with its output shape.

    Args:
        model: a network with a ``main_path()`` (every network of :mod:`inception_lab.models`).
        height, width: the input size the shapes are computed for.
    """
    rows = network_stages(model, height, width)
    per_column = -(-len(rows) // columns)
    fig, ax = plt.subplots(figsize=(4.4 * columns, 0.5 + 0.42 * per_column))
    colours = {"module": COLOURS["module"], "pool": COLOURS["pool"], "conv": COLOURS["conv"]}
    for i, (_, label, shape, kind) in enumerate(rows):
        col, row = divmod(i, per_column)
        x, y = 2.2 + 4.4 * col, per_column - row
        _box(ax, x, y, 4.0, 0.34, f"{label}  ->  {_shape_text(shape)}", colours[kind], 7.5)
        if row < per_column - 1 and i < len(rows) - 1:
            _arrow(ax, x, y - 0.17, x, y - 0.66)
    ax.set_xlim(0, 4.4 * columns)
    ax.set_ylim(0.4, per_column + 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return set_alt_text(fig, describe_network(model, height, width, title))


def describe_network(model: Any, height: int, width: int, name: str | None = None) -> str:
    """Alternative text for :func:`draw_network`: the stages in order with their output shapes."""
    rows = network_stages(model, height, width)
    stages = "; ".join(f"{label} ({_shape_text(shape)})" for _, label, shape, _ in rows)
    return (f"Stages of {name or type(model).__name__} on a {height} x {width} input, in order: {stages}.")


#: Colour of fully connected layers in :func:`draw_head` (the other kinds keep :data:`COLOURS`).
HEAD_COLOURS = {"linear": OKABE_ITO["reddish purple"], "other": "#F0F0F0"}


def head_layers(module: Any, input_shape: Sequence[int]) -> list[tuple[str, str, tuple[int, ...]]]:
    """``(label, kind, output shape)`` for every layer of a classifier head, in the order its children are registered.

    For the library's auxiliary heads (GoogLeNet's [GoogLeNet, §5] and Inception-v3's [Rethinking, Fig. 8]) that is
    the order of ``forward``. Convolutions and pools are walked with :mod:`~inception_lab.shapes` (via
    :func:`~inception_lab.nn.branches.to_spec`); a linear layer flattens the map it receives and must match its
    ``in_features``; a ReLU is appended to the label before it; dropout and 1-d batch norm keep the shape; identities
    are skipped. ``kind`` is ``"conv1x1"``, ``"conv"``, ``"pool"``, ``"linear"`` or ``"other"``.

    Raises:
        ValueError: if a linear layer's ``in_features`` do not match what reaches it, or a layer is not supported.
    """
    import torch.nn as tnn

    from inception_lab.nn.branches import to_spec

    shape: tuple[int, ...] = tuple(int(v) for v in input_shape)
    rows: list[tuple[str, str, tuple[int, ...]]] = []
    for name, child in module.named_children():
        if isinstance(child, (tnn.Identity, tnn.Flatten)):
            continue
        if isinstance(child, tnn.ReLU):
            if rows:
                label, kind, out = rows[-1]
                rows[-1] = (f"{label} + ReLU", kind, out)
            continue
        if isinstance(child, tnn.Linear):
            features = 1
            for v in shape:
                features *= v
            if features != child.in_features:
                raise ValueError(f"{name}: a linear layer with {child.in_features} inputs receives "
                                 f"{' x '.join(map(str, shape))} = {features} values.")
            flat = "flatten, " if len(shape) > 1 else ""
            rows.append((f"{flat}fully connected, {child.out_features}", "linear", (child.out_features,)))
        elif isinstance(child, tnn.Dropout):
            rows.append((f"dropout {child.p:.0%}", "other", shape))
        elif isinstance(child, tnn.BatchNorm1d):
            rows.append(("batch norm", "other", shape))
        elif isinstance(child, tnn.AdaptiveAvgPool2d) and child.output_size not in (1, (1, 1)):
            size = child.output_size if isinstance(child.output_size, tuple) else (child.output_size,) * 2
            rows.append((f"adaptive avg-pool to {size[0]}x{size[1]}", "pool", (shape[0], *size)))
        else:
            if len(shape) != 3:
                raise ValueError(f"{name}: a {type(child).__name__} needs a feature map, got shape {shape}.")
            chain = to_spec(child)
            out = walk(chain, start_shape(*shape))[-1]
            ops = [node for node in chain if isinstance(node, Op)]
            kind = ("pool" if all(op.kind != "conv" for op in ops) else
                    "conv1x1" if all(op.kernel == (1, 1) for op in ops if op.kind == "conv") else "conv")
            rows.append((", then ".join(op.label for op in ops), kind, (out.channels, out.height, out.width)))
        shape = rows[-1][2]
    return rows


def draw_head(module: Any, input_shape: Sequence[int], title: str | None = None) -> Figure:
    """A classifier head (an auxiliary classifier) as one column of boxes, each with its output shape.

    Args:
        module: the head, e.g. ``googlenet().aux1``; see :func:`head_layers` for what it may contain.
        input_shape: (C, H, W) of the map the head reads.
        title: figure title (default: none).
    """
    rows = head_layers(module, input_shape)
    fig, ax = plt.subplots(figsize=(5.6, 0.9 + 0.62 * (len(rows) + 1)))
    top = len(rows) + 1
    _box(ax, 2.0, top, 3.4, 0.42, f"input {' x '.join(map(str, input_shape))}", COLOURS["io"])
    for i, (label, kind, out) in enumerate(rows, start=1):
        y = top - i
        _arrow(ax, 2.0, y + 0.79, 2.0, y + 0.21)
        colour = HEAD_COLOURS.get(kind) or COLOURS[kind]
        _box(ax, 2.0, y, 3.4, 0.42, label, colour)
        ax.text(3.85, y, " x ".join(map(str, out)), ha="left", va="center", fontsize=8, color="#333333")
    ax.set_xlim(0, 5.6)
    ax.set_ylim(top - len(rows) - 0.5, top + 0.5)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return set_alt_text(fig, describe_head(module, input_shape, title or "head"))


def describe_head(module: Any, input_shape: Sequence[int], name: str = "head") -> str:
    """Alternative text for :func:`draw_head`: the layers in order with their output shapes."""
    rows = head_layers(module, input_shape)
    layers = "; then ".join(f"{label} ({' x '.join(map(str, out))})" for label, _, out in rows)
    return f"Block diagram of the {name}: on a {' x '.join(map(str, input_shape))} input, {layers}."
