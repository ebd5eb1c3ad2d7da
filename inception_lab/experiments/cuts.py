"""The narrowest cut of a chain of layers: the fewest values that every path from input to output must pass.

[Rethinking, §2, principle 1] reasons about *cuts*: any set of intermediate representations that separates a
network's input from its output carries everything that reaches the output, so the smallest cut bounds the
"dimensionality of the representation" (§5) along the way. For a plain chain a cut is one tensor; through an
Inception module (a :class:`~inception_lab.shapes.Parallel` node) it may also cross every branch at once, one tensor
per branch, and then holds the sum of their sizes. The branches are independent paths between the module's input
and its concatenation, so the narrowest cut through a module is either its input, its output, or the sum over
branches of each branch's narrowest inner tensor (computed recursively). Sizes are values per image
(channels x height x width), from the book's one shape walk (:func:`inception_lab.shapes.walk`).

Pure Python (no torch): :func:`narrowest_cut` works on the chains of :mod:`inception_lab.cost` and on
``to_spec(module)`` of any torch module the branch contract describes. Introduced in chapter 5
(``notebooks/05_grid_reduction.ipynb``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inception_lab.shapes import Node, Op, Parallel, Shape, apply, start_shape


@dataclass(frozen=True)
class Cut:
    """A set of representations separating input from output [Rethinking, §2, principle 1].

    Attributes:
        numel: values in the cut, per image (the sum over its tensors).
        tensors: where it crosses, one ``(place, (channels, height, width))`` per tensor; ``place`` is ``"input"``,
            ``"output"`` or the branch and layer, e.g. ``"branch3x3: 1x1"``.
    """

    numel: int
    tensors: tuple[tuple[str, tuple[int, int, int]], ...]

    @property
    def where(self) -> str:
        """The tensors in words: ``"branch3x3: 1x1 (32x35x35) + branch_pool: 3x3/2 max-pool (320x17x17)"``."""
        return " + ".join(f"{place} ({'x'.join(map(str, chw))})" for place, chw in self.tensors)


def _tensor_cut(place: str, shape: Shape) -> Cut:
    return Cut(shape.numel, ((place, shape.chw),))


def _inner_cut(chain: Sequence[Node], start: Shape, prefix: str) -> Cut | None:
    """The narrowest cut among the tensors *produced* by ``chain`` (not its input); None for an empty chain."""
    best: Cut | None = None
    shape = start
    for node in chain:
        candidates = []
        out = apply(node, shape)
        if isinstance(node, Op):
            candidates.append(_tensor_cut(f"{prefix}{node.short_label}", out))
        else:
            candidates.append(_tensor_cut(f"{prefix}concatenation", out))
            across = _across_branches(node, shape, prefix)
            if across is not None:
                candidates.append(across)
        for cut in candidates:
            if best is None or cut.numel < best.numel:
                best = cut
        shape = out
    return best


def _across_branches(node: Parallel, start: Shape, prefix: str) -> Cut | None:
    """One tensor inside every branch; None when a branch has no inner tensor (an identity passes the input)."""
    parts = []
    for branch in node.branches:
        inner = _inner_cut(branch.chain, start, f"{prefix}{branch.name}: ")
        if inner is None:
            return None  # the cut would have to include the input itself, which the outer walk already offers
        parts.append(inner)
    return Cut(sum(p.numel for p in parts), tuple(t for p in parts for t in p.tensors))


def narrowest_cut(chain: Sequence[Node] | Parallel, channels: int, height: int, width: int | None = None) -> Cut:
    """The smallest set of representations that separates the input of ``chain`` from its output.

    Args:
        chain: a chain of :class:`~inception_lab.shapes.Op` / :class:`~inception_lab.shapes.Parallel` nodes (or one
            Parallel node, e.g. :func:`inception_lab.cost.grid_reduction.parallel_spec`).
        channels, height, width: the input (``width`` defaults to ``height``).

    Returns:
        The :class:`Cut`; the input itself counts as a cut (a chain that only grows its representation has its
        narrowest cut at the input). Ties go to the cut found first, walking from the input.
    """
    chain = (chain,) if isinstance(chain, Parallel) else tuple(chain)
    start = start_shape(channels, height, height if width is None else width)
    best = _tensor_cut("input", start)
    inner = _inner_cut(chain, start, "")
    return inner if inner is not None and inner.numel < best.numel else best


__all__ = ["Cut", "narrowest_cut"]
