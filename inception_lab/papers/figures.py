"""The papers' module figures as data, and the check of a built module against its figure.

A module figure of [GoogLeNet], [BN] or [Rethinking] is written once, in that paper's file, as the figure draws it:
a :class:`ModuleFigure` whose ``branches`` list, per branch, the kernels of its layers from the input up. The
figures are transcribed from the papers' drawings and captions, not from our code; :func:`compare` then sets one
next to a built module's spec (:meth:`~inception_lab.nn.branches.MultiBranch.spec`), so a module built wrong fails
its test. Where the released model (TF-slim, ported by torchvision) differs from a figure, the difference is data
too (``RELEASED_DIFFERENCES`` in the paper's file, :class:`ReleasedDifference`), checked against the built model.

The words of a figure (a *token* per layer):

=====================  ==================================================================================
``"3x3"``, ``"1x7"``   a convolution, kernel height x width, stride 1
``"3x3/2"``            the same with stride 2
``"pool"``             a pooling whose kind and size the figure does not draw ("Pool" in [Rethinking])
``"max pool"``         a pooling whose kind it draws ([BN, Fig. 5]'s "max" / "avg" column)
``"3x3 max pool"``     a pooling whose size and kind it draws ([GoogLeNet, Fig. 2]'s "3x3 max pooling")
``"pool/2"``, ...      any of the poolings with stride 2
=====================  ==================================================================================

A branch is a tuple of tokens; layers drawn side by side on one input and concatenated ([Rethinking, Fig. 7]'s
1x3 and 3x1) are one step written as a nested tuple, compared without regard to their order. The drawings do not
fix the order in which the branches are concatenated (a filter concatenation is the same module up to a
permutation of its channels): each figure lists its branches in the order every implementation concatenates them,
the order of the columns of [GoogLeNet, Table 1] and [BN, Fig. 5]: 1x1 first, the pooling branch last.

Imports only the formula layer (:mod:`inception_lab.shapes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inception_lab.shapes import Node, Op, Parallel

#: One step of a branch: a token, or a tuple of tokens for layers drawn side by side on one input.
Step = str | tuple[str, ...]
#: A module as a figure draws it (or as it is built): its branches in concatenation order.
Branches = tuple[tuple[Step, ...], ...]

_CONV = re.compile(r"(\d+)x(\d+)(?:/(\d+))?")
_POOL = re.compile(r"(?:(\d+)x(\d+) )?(?:(max|avg) )?pool(?:/(\d+))?")


@dataclass(frozen=True)
class Drawn:
    """What one token says about a layer: its kind, and the kernel and pooling kind when the figure draws them."""

    kind: str  # "conv" or "pool"
    kernel: tuple[int, int] | None  # None: not drawn (a pooling)
    stride: int
    pool: str | None = None  # "max" / "avg"; None: a convolution, or a pooling whose kind is not drawn


def parse(token: str) -> Drawn:
    """A token of a figure (see the module docstring) as a :class:`Drawn`.

    Raises:
        ValueError: for a token outside the vocabulary, with the vocabulary.
    """
    if isinstance(token, str):
        if (m := _CONV.fullmatch(token)) is not None:
            return Drawn("conv", (int(m[1]), int(m[2])), int(m[3] or 1))
        if (m := _POOL.fullmatch(token)) is not None:
            kernel = (int(m[1]), int(m[2])) if m[1] else None
            return Drawn("pool", kernel, int(m[4] or 1), m[3])
    raise ValueError(f"{token!r} is not a figure token: a convolution reads '3x3', '1x7' or '3x3/2' (stride 2), a "
                     f"pooling 'pool', 'max pool', 'avg pool' or '3x3 max pool', each with an optional '/2'.")


def op_token(op: Op) -> str:
    """The full token of a built layer: ``"3x3/2"`` for a convolution, ``"3x3 avg pool"`` for a pooling."""
    stride = "" if op.stride == (1, 1) else f"/{op.stride[0]}" if op.stride[0] == op.stride[1] else \
        f"/{op.stride[0]}x{op.stride[1]}"
    kernel = f"{op.kernel[0]}x{op.kernel[1]}"
    if op.kind == "conv":
        return kernel + stride + (" dw" if op.groups > 1 else "")
    if op.kind in ("max_pool", "avg_pool"):
        return f"{kernel} {op.kind.removesuffix('_pool')} pool{stride}"
    return "global avg pool"


def _chain_steps(chain: tuple[Node, ...]) -> tuple[Step, ...]:
    steps: list[Step] = []
    for node in chain:
        if isinstance(node, Parallel):  # a Split: its layers read the same input
            steps.append(tuple(" -> ".join(str(s) for s in _chain_steps(b.chain)) for b in node.branches))
        else:
            steps.append(op_token(node))
    return tuple(steps)


def built_branches(spec: Parallel) -> Branches:
    """A built module's branches as full tokens, in concatenation order, from its spec (``module.spec()``)."""
    if not isinstance(spec, Parallel):
        raise ValueError(f"built_branches needs a module's spec (a shapes.Parallel, from module.spec()), got "
                         f"{type(spec).__name__}.")
    return tuple(_chain_steps(b.chain) for b in spec.branches)


def token_matches(drawn: str, built: str) -> bool:
    """Whether a built layer (a full token) is the layer the figure draws: every detail the figure gives agrees."""
    d = parse(drawn)
    try:
        b = parse(built)
    except ValueError:
        return False  # a depthwise or global layer: no figure of the book draws one inside a module
    if (d.kind, d.stride) != (b.kind, b.stride):
        return False
    if d.kernel is not None and d.kernel != b.kernel:
        return False
    return d.pool is None or d.pool == b.pool


def _step_matches(drawn: Step, built: Step) -> bool:
    if isinstance(drawn, tuple) or isinstance(built, tuple):
        if not (isinstance(drawn, tuple) and isinstance(built, tuple)) or len(drawn) != len(built):
            return False
        remaining = list(built)  # side by side: any order
        for token in drawn:
            hit = next((b for b in remaining if token_matches(token, b)), None)
            if hit is None:
                return False
            remaining.remove(hit)
        return True
    return token_matches(drawn, built)


def branch_matches(drawn: tuple[Step, ...], built: tuple[Step, ...]) -> bool:
    """Whether a built branch has the figure's layers, one for one, in order."""
    return len(drawn) == len(built) and all(_step_matches(d, b) for d, b in zip(drawn, built, strict=True))


def branch_text(branch: tuple[Step, ...]) -> str:
    """A branch as one line: ``1x1 -> 3x3``; side-by-side layers as ``[1x3 | 3x1]``."""
    return " -> ".join(f"[{' | '.join(s)}]" if isinstance(s, tuple) else s for s in branch) or "(empty)"


@dataclass(frozen=True)
class ModuleFigure:
    """One module figure of a paper, as drawn: its branches (tokens, see the module docstring) and its caption.

    Attributes:
        paper: the paper's key in ``references.bib`` terms (``"GoogLeNet"``, ``"BN"``, ``"Rethinking"``).
        figure: where it is drawn (``"Fig. 5"``).
        caption: the caption's words.
        branches: per branch, its layers from the input up; branches in concatenation order.
        reading: what the transcription had to decide that the drawing leaves open ("" when nothing).
    """

    paper: str
    figure: str
    caption: str
    branches: Branches
    reading: str = ""

    def __post_init__(self) -> None:
        if not self.branches or any(not branch for branch in self.branches):
            raise ValueError(f"{self.paper} {self.figure}: a figure needs branches, each with at least one layer.")
        for branch in self.branches:
            for step in branch:
                for token in step if isinstance(step, tuple) else (step,):
                    parse(token)

    @property
    def name(self) -> str:
        """``"Rethinking, Fig. 5"``."""
        return f"{self.paper}, {self.figure}"

    def describe(self) -> str:
        """The figure as text, one line per branch (as :meth:`MultiBranch.describe` prints a built module)."""
        lines = [f"{self.name}: {len(self.branches)} branches concatenated"]
        lines += [f"  branch {i}: {branch_text(branch)}" for i, branch in enumerate(self.branches, 1)]
        return "\n".join(lines)


def compare(figure: ModuleFigure, spec: Parallel) -> list[str]:
    """How a built module differs from ``figure``: one sentence per difference, none when it is the figure.

    Args:
        figure: the module as the paper draws it.
        spec: the built module's spec (``module.spec()``).
    """
    built = built_branches(spec)
    if len(built) != len(figure.branches):
        return [f"{figure.name} draws {len(figure.branches)} branches ("
                f"{'; '.join(branch_text(b) for b in figure.branches)}); the module has {len(built)} ("
                f"{'; '.join(branch_text(b) for b in built)})."]
    return [f"branch {i}: {figure.name} draws {branch_text(drawn)}, the module has {branch_text(have)}."
            for i, (drawn, have) in enumerate(zip(figure.branches, built, strict=True), 1)
            if not branch_matches(drawn, have)]


@dataclass(frozen=True)
class ReleasedDifference:
    """One place where the released model differs from what the paper prints, as data a test checks.

    Attributes:
        what: the difference in one sentence.
        where: the paper's artefact (``"Fig. 5"``, ``"Table 1"``, ``"§10"``).
        attributes: the released network's attributes (torchvision's names) where it shows.
        kind: ``"branch"`` -- branch ``branch`` (1-based) of each module in ``attributes``; ``"layers"`` -- the
            layers of ``attributes`` in order, one token each; ``"head"`` -- the layer classes between an
            auxiliary head's pooling and its logits.
        paper: what the paper prints (tokens, or layer class names for ``"head"``).
        released: what the released model has, in the same terms.
        sources: where the difference is discussed (issues), or the sentence of the paper that allows it.
        branch: for ``kind="branch"``, which branch (1-based).
    """

    what: str
    where: str
    attributes: tuple[str, ...]
    kind: str
    paper: tuple[Step, ...]
    released: tuple[Step, ...]
    sources: tuple[str, ...]
    branch: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("branch", "layers", "head"):
            raise ValueError(f"a ReleasedDifference's kind is 'branch', 'layers' or 'head', got {self.kind!r}.")
        if (self.kind == "branch") != (self.branch is not None):
            raise ValueError("a 'branch' difference names its branch (1-based); the other kinds do not.")
        if self.paper == self.released:
            raise ValueError(f"{self.what!r}: the paper's and the released side are the same.")
