"""Factorized convolutions as pure data, and what they cost [Rethinking, §3.1-3.2, Figs. 1, 3].

Three ways to cover an ``n x n`` window, each a chain of :mod:`~inception_lab.shapes` operations:

* :func:`square_chain` -- one ``n x n`` convolution (the reference);
* :func:`asymmetric_chain` -- ``1 x n`` followed by ``n x 1`` (or the reverse) [§3.2, Fig. 3];
* :func:`stacked_chain` -- a stack of small ``s x s`` convolutions, ``(n - 1) / (s - 1)`` of them: two 3x3 for a
  5x5 [§3.1, Fig. 1], three 3x3 for a 7x7 [§6], two 2x2 for a 3x3 [§3.2].

Every layer of these comparisons keeps the grid ("same" padding; for an even kernel that padding is uneven, as in
TensorFlow, which a single ``nn.Conv2d`` cannot express -- the torch blocks of :mod:`inception_lab.nn.layers` take odd
kernels only). So a layer's MACs are :func:`~inception_lab.cost.core.conv2d_cost` on a ``grid x grid`` output,
and for odd kernels :func:`chain_cost_same_grid` equals the shape walk's :func:`~inception_lab.cost.core.chain_cost`
exactly (a test checks it, and the torch counter agrees).

:func:`paper_savings` reproduces the paper's 28 %, 33 % and 11 % and the 25/9 from these chains;
:func:`explore` and :func:`sweep_n` are the explorer's compute functions: plain numbers and labels, no torch;
:func:`explorer_view` is the explorer's entry point (what the ipywidgets and the book's live explorer draw).
Introduced in chapter 4 (``notebooks/04_factorization.ipynb``). Pure Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from inception_lab.checks import check_choice, check_positive_int
from inception_lab.cost.core import Cost, conv2d_cost, total
from inception_lab.cost.view import Control, bar_panel, check_settings, segment, table
from inception_lab.shapes import Op, chain_label, conv, start_shape, walk

#: Variants of an ``n x n`` window, in the order the book shows them.
VARIANTS = ("square", "asymmetric", "stacked")
#: Human-readable names of the variants (for tables and bar labels).
VARIANT_NAMES = {"square": "n x n", "asymmetric": "1 x n + n x 1", "stacked": "stack of 3 x 3"}


def _check_side(name: str, n: int, minimum: int = 2) -> int:
    check_positive_int(name, n)
    if n < minimum:
        raise ValueError(f"{name} must be at least {minimum} (a 1x1 convolution has nothing to factorize), got {n}.")
    return n


def square_chain(n: int, out_channels: int, *, bias: bool = False) -> tuple[Op, ...]:
    """One ``n x n`` convolution with ``out_channels`` filters, padded to keep the grid (odd ``n``)."""
    return (conv(out_channels, _check_side("n", n, 1), bias=bias),)


def asymmetric_chain(n: int, out_channels: int, mid_channels: int | None = None, *, first: str = "1xn",
                     bias: bool = False) -> tuple[Op, ...]:
    """``1 x n`` then ``n x 1`` (``first="1xn"``) or the reverse [Rethinking, §3.2, Fig. 3].

    Args:
        mid_channels: filters of the first factor (default ``out_channels``, the paper's "same number of output
            filters").
    """
    _check_side("n", n)
    check_choice("first", first, ("1xn", "nx1"))
    mid = out_channels if mid_channels is None else check_positive_int("mid_channels", mid_channels)
    kernels = [(1, n), (n, 1)] if first == "1xn" else [(n, 1), (1, n)]
    return (conv(mid, kernels[0], bias=bias), conv(out_channels, kernels[1], bias=bias))


def stack_depth(n: int, small: int = 3) -> int:
    """How many ``small x small`` layers see an ``n x n`` window: ``(n - 1) / (small - 1)``.

    Raises:
        ValueError: if no whole number of them does (a 6x6 from 3x3 layers).
    """
    _check_side("n", n)
    _check_side("small", small)
    if small >= n or (n - 1) % (small - 1):
        raise ValueError(f"an {n}x{n} window is not covered exactly by a stack of {small}x{small} convolutions: "
                         f"(n - 1) must be a multiple of {small - 1} and n > {small}.")
    return (n - 1) // (small - 1)


def stacked_chain(n: int, out_channels: int, mid_channels: int | None = None, *, small: int = 3,
                  bias: bool = False) -> tuple[Op, ...]:
    """A stack of ``small x small`` convolutions that sees an ``n x n`` window [Rethinking, §3.1, Fig. 1].

    All layers but the last have ``mid_channels`` filters (default ``out_channels``). ``padding`` is "same" for odd
    ``small``; for ``small = 2`` the first layer pads 1 and the second 0, so two 2x2 keep the grid as a 3x3 does (in
    PyTorch the map between them is one larger; :func:`chain_cost_same_grid` counts it on the grid, as an uneven
    "same" padding would).
    """
    depth = stack_depth(n, small)
    mid = out_channels if mid_channels is None else check_positive_int("mid_channels", mid_channels)
    widths = [mid] * (depth - 1) + [out_channels]
    if small % 2:
        return tuple(conv(w, small, bias=bias) for w in widths)
    return tuple(conv(w, small, padding=1 if i % 2 == 0 else 0, bias=bias) for i, w in enumerate(widths))


def chain_cost_same_grid(chain: Sequence[Op], in_channels: int, grid: int, *, batch: int = 1) -> Cost:
    """Cost of a chain of grid-keeping convolutions on an ``in_channels x grid x grid`` input.

    Each layer is :func:`~inception_lab.cost.core.conv2d_cost` with a ``grid x grid`` output; the channels flow from
    layer to layer as in the shape walk.
    """
    channels = check_positive_int("in_channels", in_channels)
    check_positive_int("grid", grid)
    costs = []
    for op in chain:
        if op.kind != "conv" or op.stride != (1, 1):
            raise ValueError(f"factorization chains hold stride-1 convolutions only, got {op.label}.")
        costs.append(conv2d_cost(channels, op.out_channels, op.kernel, grid, bias=op.bias, batch=batch))
        channels = op.out_channels  # type: ignore[assignment]
    return total(costs)


def weights_per_channel_pair(chain: Sequence[Op]) -> int:
    """Weights that connect one input channel to one output channel through a single path: the kernel areas summed.

    ``n x n``: n^2; ``1 x n + n x 1``: 2n (the study note's "n^2 -> 2n"); two 3x3: 18.
    """
    return sum(op.kernel[0] * op.kernel[1] for op in chain)


def receptive_field_size(chain: Sequence[Op]) -> tuple[int, int]:
    """(height, width) of the window one output value sees, from the shape walk."""
    side = 1 + sum(max(op.kernel) for op in chain)  # any input large enough for the chain
    return walk(chain, start_shape(1, side, side))[-1].field.size


def variant_chains(n: int, out_channels: int, mid_channels: int | None = None, *,
                   bias: bool = False) -> dict[str, tuple[Op, ...]]:
    """The chains that cover an ``n x n`` window: square, asymmetric and (odd ``n >= 5``) a stack of 3x3."""
    chains = {"square": square_chain(n, out_channels, bias=bias),
              "asymmetric": asymmetric_chain(n, out_channels, mid_channels, bias=bias)}
    if n >= 5 and n % 2:
        chains["stacked"] = stacked_chain(n, out_channels, mid_channels, bias=bias)
    return chains


def saving(reference: Cost, candidate: Cost) -> dict[str, float]:
    """Fraction of parameters and of MACs that ``candidate`` saves against ``reference`` (0.28 = 28 % saved)."""
    return {"params": 1 - candidate.params / reference.params, "macs": 1 - candidate.macs / reference.macs}


# ---------------------------------------------------------------------------------------------------------
# The paper's statements, from first principles
# ---------------------------------------------------------------------------------------------------------
def paper_savings(channels: int = 64, grid: int = 17) -> dict[str, float]:
    """The savings Rethinking states in §3, recomputed from chains with equal input, middle and output widths.

    * ``"5x5 / 3x3"``: 25/9 = 2.78 -- "a 5 x 5 convolution ... is 25/9 = 2.78 times more computationally expensive
      than a 3 x 3 convolution with the same number of filters" [§3.1];
    * ``"5x5 -> two 3x3"``: 1 - (9 + 9)/25 = 0.28 [§3.1] (MACs; "the exact same saving holds for the parameter
      count", which :func:`paper_savings_params` checks);
    * ``"3x3 -> 3x1 + 1x3"``: 1 - 6/9 = 0.33 [§3.2];
    * ``"3x3 -> two 2x2"``: 1 - 8/9 = 0.11 [§3.2].

    The result does not depend on ``channels`` or ``grid``: both cancel in every ratio (tests check several).
    """
    c, g = channels, grid
    cost = lambda chain: chain_cost_same_grid(chain, c, g)  # noqa: E731
    five, three = cost(square_chain(5, c)), cost(square_chain(3, c))
    return {
        "5x5 / 3x3": five.macs / three.macs,
        "5x5 -> two 3x3": saving(five, cost(stacked_chain(5, c)))["macs"],
        "3x3 -> 3x1 + 1x3": saving(three, cost(asymmetric_chain(3, c, first="nx1")))["macs"],
        "3x3 -> two 2x2": saving(three, cost(stacked_chain(3, c, small=2)))["macs"],
    }


def paper_savings_params(channels: int = 64) -> dict[str, float]:
    """The same savings counted in parameters (no bias, as the paper's "exact same saving" assumes)."""
    c = channels
    cost = lambda chain: chain_cost_same_grid(chain, c, 1)  # noqa: E731
    five, three = cost(square_chain(5, c)), cost(square_chain(3, c))
    return {
        "5x5 -> two 3x3": saving(five, cost(stacked_chain(5, c)))["params"],
        "3x3 -> 3x1 + 1x3": saving(three, cost(asymmetric_chain(3, c, first="nx1")))["params"],
        "3x3 -> two 2x2": saving(three, cost(stacked_chain(3, c, small=2)))["params"],
    }


# ---------------------------------------------------------------------------------------------------------
# The explorer's compute functions: plain data
# ---------------------------------------------------------------------------------------------------------
def explore(n: int = 7, in_channels: int = 192, out_channels: int = 192, grid: int = 17,
            mid_channels: int | None = None, *, bias: bool = False) -> list[dict[str, object]]:
    """One row per variant covering an ``n x n`` window: what it is, what it costs, what it saves.

    The defaults are the paper's choice for the 17x17 grid: ``n = 7`` [Rethinking, Fig. 6] with 192 channels
    (the width torchvision's ``InceptionC`` outputs per branch).

    Returns:
        Rows of plain data: ``variant`` (key), ``name``, ``layers`` (``"1x7 -> 7x1"``), ``params``, ``macs``,
        ``weights_per_pair``, ``receptive_field`` (side), ``params_saving`` and ``macs_saving`` (fractions
        against the ``n x n`` row; 0 for it). The stacked row is present for odd ``n >= 5``.
    """
    rows: list[dict[str, object]] = []
    reference: Cost | None = None
    for variant, chain in variant_chains(n, out_channels, mid_channels, bias=bias).items():
        cost = chain_cost_same_grid(chain, in_channels, grid)
        reference = reference or cost
        saved = saving(reference, cost)
        rows.append(dict(variant=variant, name=VARIANT_NAMES[variant], layers=chain_label(chain),
                         params=cost.params, macs=cost.macs, weights_per_pair=weights_per_channel_pair(chain),
                         receptive_field=receptive_field_size(chain)[0], params_saving=saved["params"],
                         macs_saving=saved["macs"]))
    return rows


def sweep_n(ns: Iterable[int] = range(2, 10), in_channels: int = 192, out_channels: int = 192, grid: int = 17,
            mid_channels: int | None = None) -> list[dict[str, object]]:
    """:func:`explore` for every ``n`` in ``ns``, flattened: one row per (n, variant), with ``n`` added."""
    return [dict(n=n, **row) for n in ns for row in explore(n, in_channels, out_channels, grid, mid_channels)]


def sweep_text(rows: Sequence[dict[str, object]]) -> str:
    """The rows of :func:`sweep_n` as a fixed-width table (the static twin of the explorer)."""
    lines = [f"{'n':>2}  {'variant':<15} {'layers':<22} {'w/pair':>6} {'params':>10} {'MACs':>14} {'saved':>7}"]
    for r in rows:
        lines.append(f"{r['n']:>2}  {r['name']:<15} {r['layers']:<22} {r['weights_per_pair']:>6} "
                     f"{r['params']:>10,} {r['macs']:>14,} {100 * r['macs_saving']:>6.1f}%")
    return "\n".join(lines)


#: Defaults of the explorer: the paper's n = 7 on the 17x17 grid [Rethinking, Fig. 6], 192 channels in, out and in
#: the middle.
EXPLORER_DEFAULTS = dict(n=7, in_channels=192, out_channels=192, grid=17, mid_channels=192)
#: The explorer's sliders: (name, label, minimum, maximum, step).
EXPLORER_CONTROLS = tuple(
    Control(name, label, EXPLORER_DEFAULTS[name], lo, hi, step) for name, label, lo, hi, step in (
        ("n", "kernel n", 2, 9, 1), ("in_channels", "input ch", 8, 512, 8), ("out_channels", "output ch", 8, 512, 8),
        ("grid", "grid H=W", 1, 64, 1), ("mid_channels", "middle ch", 8, 512, 8)))


def explorer_view(settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the chapter-4 explorer shows, as plain data: ``n x n`` against its factorizations.

    Args:
        settings: values of :data:`EXPLORER_CONTROLS` by name (the arguments of :func:`explore`); missing ones take
            :data:`EXPLORER_DEFAULTS`.

    Returns:
        ``settings``, ``title``, ``rows`` (:func:`explore`), ``table`` (the read-out's cells), ``charts`` (bars of
        parameters and MACs, one per variant, labelled with the saving against ``n x n``), ``legend`` and ``alt``.
    """
    v = check_settings(EXPLORER_CONTROLS, settings)
    rows = explore(v["n"], v["in_channels"], v["out_channels"], v["grid"], v["mid_channels"])
    series = {variant: i for i, variant in enumerate(VARIANTS)}

    def bars(metric: str) -> list:
        return [(f"{r['name']} ({r['layers']})", [segment(r["variant"], r["name"], series[r["variant"]], r[metric])],
                 "" if r["variant"] == "square" else f"  (-{100 * r[f'{metric}_saving']:.1f} %)") for r in rows]

    charts = [bar_panel("parameters", "K", 1e3, bars("params")), bar_panel("MACs", "M", 1e6, bars("macs"))]
    cells = [[r["name"], r["layers"], str(r["weights_per_pair"]), f"{r['params']:,}", f"{r['macs']:,}",
              f"{100 * r['macs_saving']:.1f} %"] for r in rows]
    alt = (f"Bar charts of parameters and MACs covering a {v['n']}x{v['n']} window on a {v['grid']}x{v['grid']} grid "
           f"({v['in_channels']} channels in, {v['mid_channels']} in the middle, {v['out_channels']} out): "
           + "; ".join(f"{r['name']} ({r['layers']}) {r['params']:,} parameters, {r['macs']:,} MACs"
                       + ("" if r["variant"] == "square" else f", {100 * r['macs_saving']:.1f} % of the MACs saved")
                       for r in rows) + ".")
    return dict(explorer="factorization", settings=v, title=f"n = {v['n']} on a {v['grid']}x{v['grid']} grid",
                rows=rows, table=table(("variant", "layers", "weights / channel pair", "params", "MACs", "saved"),
                                       cells),
                charts=charts, legend=[{"series": series[r["variant"]], "label": r["name"]} for r in rows], alt=alt)


__all__ = ["VARIANTS", "VARIANT_NAMES", "square_chain", "asymmetric_chain", "stack_depth", "stacked_chain",
           "chain_cost_same_grid", "weights_per_channel_pair", "receptive_field_size", "variant_chains", "saving",
           "paper_savings", "paper_savings_params", "explore", "sweep_n", "sweep_text", "EXPLORER_DEFAULTS",
           "EXPLORER_CONTROLS", "explorer_view"]
