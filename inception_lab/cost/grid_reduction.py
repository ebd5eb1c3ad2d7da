"""Grid-size reduction as pure data: pool first, conv first, or both in parallel [Rethinking, §5, Figs. 9-10].

Going from a ``d x d`` grid with ``k`` filters to ``d/2 x d/2`` with ``2k`` filters can be done in three ways:

* **pool first** -- a stride-2 pooling, then a convolution ``k -> 2k`` on the small grid (cheap, but the
  representation right after the pooling has only ``(d/2)^2 k`` values: a *representational bottleneck*);
* **conv first** -- a convolution ``k -> 2k`` on the full grid, then the pooling (no bottleneck, four times the cost);
* **parallel** -- stride-2 convolution branches beside a stride-2 pooling branch, concatenated [Fig. 10].

Each strategy is a chain of :mod:`inception_lab.shapes` nodes; :func:`strategy_cost` walks it with the one shape walk
and prices it with :func:`inception_lab.cost.core.chain_cost`, so there is no second formula. The torch modules of
:mod:`inception_lab.nn.reduction` describe themselves with exactly these chains (a test checks it).

Which operations does §5 count? "2d^2k^2 operations" for ``k -> 2k`` channels on a ``d x d`` grid is
``d^2 * k * 2k``: the multiply-accumulates of a **1x1** convolution. With a ``n x n`` kernel every count is
multiplied by ``n^2`` (a 3x3: ``18 d^2 k^2``); the ratios between the strategies do not change.

:func:`explorer_view` is the chapter-5 explorer's entry point (what the ipywidgets and the book's live explorer draw).
Pure Python: imports only :mod:`inception_lab.checks`, :mod:`inception_lab.shapes` and :mod:`inception_lab.cost`.
Introduced in chapter 5 (``notebooks/05_grid_reduction.ipynb``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inception_lab.checks import check_choice, check_non_negative_int, check_number, check_positive_int
from inception_lab.cost.core import chain_cost
from inception_lab.cost.view import Control, bar_panel, check_settings, segment, table
from inception_lab.shapes import BranchSpec, Node, Op, Parallel, conv, pool, start_shape, walk

STRATEGIES = ("pool_first", "conv_first", "parallel")
STRATEGY_LABELS = {"pool_first": "pool first", "conv_first": "conv first", "parallel": "parallel [Fig. 10]"}
POOLS = ("max", "avg")
#: ``"valid"``: 3x3/2 windows without padding, as in Inception-v3 (35 -> 17, 17 -> 8); ``"same"``: padding 1,
#: so an even grid is halved exactly (``d -> d/2``), the setting of the paper's §5 formulas.
PADDINGS = ("valid", "same")
CONV_KERNELS = (1, 3)

#: Inception-v3's two grid reductions (torchvision's Mixed_6a = ``InceptionB`` and Mixed_7a = ``InceptionD``):
#: input channels and grid, output channels [Rethinking, Table 1: 35x35x288 -> 17x17x768 -> 8x8x1280].
INCEPTION_V3_REDUCTIONS = {"Mixed_6a": dict(in_channels=288, size=35, out_channels=768),
                           "Mixed_7a": dict(in_channels=768, size=17, out_channels=1280)}
#: Mixed_6a's branch widths (torchvision ``InceptionB``): 3x3/2 -> 384; 1x1 64 -> 3x3 96 -> 3x3/2 96; max-pool.
MIXED_6A = dict(ch3x3=384, ch3x3dbl_red=64, ch3x3dbl=96)


def _pool_node(pool_kind: str, padding: str) -> Op:
    check_choice("pool", pool_kind, POOLS)
    return pool(pool_kind, 3, 2, 1 if check_choice("padding", padding, PADDINGS) == "same" else 0)


def pool_first_spec(out_channels: int, *, kernel: int = 1, pool_kind: str = "max", padding: str = "valid",
                    bias: bool = False, batchnorm: bool = False) -> tuple[Node, ...]:
    """Pool first [Rethinking, Fig. 9 left]: a 3x3/2 pooling, then a ``kernel x kernel`` conv to ``out_channels``."""
    k = check_choice("kernel", kernel, CONV_KERNELS)
    return (_pool_node(pool_kind, padding), conv(out_channels, k, bias=bias, batchnorm=batchnorm))


def conv_first_spec(out_channels: int, *, kernel: int = 1, pool_kind: str = "max", padding: str = "valid",
                    bias: bool = False, batchnorm: bool = False) -> tuple[Node, ...]:
    """Conv first [Rethinking, Fig. 9 right]: a ``kernel x kernel`` conv to ``out_channels``, then the pooling."""
    k = check_choice("kernel", kernel, CONV_KERNELS)
    return (conv(out_channels, k, bias=bias, batchnorm=batchnorm), _pool_node(pool_kind, padding))


def parallel_spec(ch3x3: int, *, ch3x3red: int = 0, ch3x3dbl_red: int = 0, ch3x3dbl: int = 0,
                  pool_kind: str = "max", padding: str = "valid", bias: bool = False,
                  batchnorm: bool = False) -> Parallel:
    """The grid-reduction module [Rethinking, Fig. 10]: stride-2 conv branches beside a stride-2 pooling branch.

    Branches (names as in torchvision's ``InceptionB``), each ending on the reduced grid:
        branch3x3: [1x1 ``ch3x3red`` ->] 3x3/2 ``ch3x3`` (no reduction when ``ch3x3red`` is 0);
        branch3x3dbl: 1x1 ``ch3x3dbl_red`` -> 3x3 ``ch3x3dbl`` -> 3x3/2 ``ch3x3dbl`` (absent when ``ch3x3dbl`` is 0);
        branch_pool: 3x3/2 pooling, which passes all input channels on.

    ``MIXED_6A`` widths with ``batchnorm=True`` give torchvision's Mixed_6a; ``ch3x3red`` and the double branch give
    Fig. 10 as drawn. At least one convolution branch is needed (``ch3x3`` or ``ch3x3dbl`` >= 1).
    """
    check_non_negative_int("ch3x3", ch3x3)
    check_non_negative_int("ch3x3red", ch3x3red)
    check_non_negative_int("ch3x3dbl", ch3x3dbl)
    check_non_negative_int("ch3x3dbl_red", ch3x3dbl_red)
    if ch3x3 == 0 and ch3x3dbl == 0:
        raise ValueError("the parallel module needs at least one convolution branch: ch3x3 or ch3x3dbl >= 1.")
    check_choice("padding", padding, PADDINGS)
    pad = 1 if padding == "same" else 0
    c = dict(bias=bias, batchnorm=batchnorm)
    branches = []
    if ch3x3:
        reduce = (conv(ch3x3red, 1, **c),) if ch3x3red else ()
        branches.append(BranchSpec("branch3x3", reduce + (conv(ch3x3, 3, 2, pad, **c),)))
    if ch3x3dbl:
        red = check_positive_int("ch3x3dbl_red (needed with a double branch)", ch3x3dbl_red)
        branches.append(BranchSpec("branch3x3dbl", (conv(red, 1, **c), conv(ch3x3dbl, 3, **c),
                                                    conv(ch3x3dbl, 3, 2, pad, **c))))
    branches.append(BranchSpec("branch_pool", (_pool_node(pool_kind, padding),)))
    return Parallel(tuple(branches))


@dataclass(frozen=True)
class ReductionCost:
    """What one strategy costs and how large its representations are (plain numbers, for tables and explorers).

    Attributes:
        strategy: ``"pool_first"``, ``"conv_first"`` or ``"parallel"``.
        params, macs: of the whole reduction (units: :mod:`inception_lab.cost`).
        input, after_first, output: (channels, height, width) of the input, of the representation right after the
            first operation (for the parallel module: the concatenation, since all its branches reduce at once), and
            of the output.
    """

    strategy: str
    params: int
    macs: int
    input: tuple[int, int, int]
    after_first: tuple[int, int, int]
    output: tuple[int, int, int]

    @property
    def label(self) -> str:
        return STRATEGY_LABELS[self.strategy]

    @property
    def after_first_numel(self) -> int:
        """Values right after the first operation: the "dimensionality of the representation" of §5."""
        c, h, w = self.after_first
        return c * h * w

    @property
    def narrowest_numel(self) -> int:
        """The smallest representation on the way from input to output: where information can be lost for good."""
        return min(self.after_first_numel, self.output[0] * self.output[1] * self.output[2])

    def as_dict(self) -> dict[str, object]:
        """Plain data: the fields and the derived sizes (for a browser version of the explorer)."""
        return dict(strategy=self.strategy, label=self.label, params=self.params, macs=self.macs, input=self.input,
                    after_first=self.after_first, output=self.output, after_first_numel=self.after_first_numel,
                    narrowest_numel=self.narrowest_numel)


def strategy_cost(strategy: str, chain: Sequence[Node] | Parallel, in_channels: int, size: int) -> ReductionCost:
    """Parameters, MACs and representation sizes of a reduction ``chain`` (or one Parallel module) on an
    ``in_channels x size x size`` input."""
    check_choice("strategy", strategy, STRATEGIES)
    chain = (chain,) if isinstance(chain, Parallel) else tuple(chain)
    start = start_shape(in_channels, check_positive_int("size", size), size)
    shapes = walk(chain, start)
    total, out = chain_cost(chain, start)
    return ReductionCost(strategy, total.params, total.macs, start.chw, shapes[0].chw, out.chw)


def section5_costs(d: int, k: int, *, kernel: int = 1, pool_kind: str = "max") -> dict[str, ReductionCost]:
    """§5's setting: ``d x d x k -> d/2 x d/2 x 2k`` (even ``d``, "same" padding, no bias), pool first vs conv first.

    The simplest parallel module of §5 ("two parallel stride 2 blocks: P and C") is added: one 3x3/2 convolution
    ``k -> k`` beside the pooling, concatenated to ``2k``.
    """
    check_positive_int("d", d)
    if d % 2:
        raise ValueError(f"§5 halves the grid exactly: d must be even, got {d}.")
    check_positive_int("k", k)
    opts = dict(kernel=kernel, pool_kind=pool_kind, padding="same")
    return {"pool_first": strategy_cost("pool_first", pool_first_spec(2 * k, **opts), k, d),
            "conv_first": strategy_cost("conv_first", conv_first_spec(2 * k, **opts), k, d),
            "parallel": strategy_cost("parallel", parallel_spec(k, pool_kind=pool_kind, padding="same"), k, d)}


def paper_formulas(d: int, k: int) -> dict[str, float]:
    """The numbers §5 states, written as the paper writes them (``d`` even): operations and the pooled size."""
    return {"conv_first_ops": 2 * d ** 2 * k ** 2, "pool_first_ops": 2 * (d / 2) ** 2 * k ** 2,
            "pool_first_dimension": (d / 2) ** 2 * k}


def fig9_ratio(size: int, *, padding: str = "valid") -> dict[str, float]:
    """Conv first vs pool first with the same layers: only the grid the convolution runs on differs.

    Returns ``as_much`` (conv-first MACs / pool-first MACs, independent of channels and kernel) and ``more`` (the
    extra cost in units of the pool-first cost, ``as_much - 1``). With "same" padding and an even grid,
    ``as_much`` is exactly 4 and ``more`` exactly 3: Fig. 9's "3 times more expensive" read as "costs three times
    more", i.e. four times as much. On Inception's odd grids (valid 3x3/2 pooling: 35 -> 17, 17 -> 8) the ratio is
    larger: ``35^2 / 17^2``, ``17^2 / 8^2``.
    """
    check_positive_int("size", size)
    pool_first = strategy_cost("pool_first", pool_first_spec(1, padding=padding), 1, size)
    conv_first = strategy_cost("conv_first", conv_first_spec(1, padding=padding), 1, size)
    as_much = conv_first.macs / pool_first.macs
    return {"as_much": as_much, "more": as_much - 1}


def split_widths(in_channels: int, out_channels: int, split: float) -> dict[str, int]:
    """Branch widths of a parallel module with ``out_channels`` in total: the pooling branch passes ``in_channels``
    on, and ``split`` of the remaining convolution channels go to the single 3x3/2 branch, the rest to the double one
    (whose 1x1 reduction gets two thirds of its width, Mixed_6a's 64 for 96)."""
    check_positive_int("in_channels", in_channels)
    check_positive_int("out_channels", out_channels)
    share = check_number("split", split, minimum=0.0, maximum=1.0)
    conv_channels = out_channels - in_channels
    if conv_channels < 1:
        raise ValueError(f"the parallel module's pooling branch already passes {in_channels} channels on: "
                         f"out_channels must exceed in_channels, got {out_channels}.")
    ch3x3 = round(share * conv_channels)
    dbl = conv_channels - ch3x3
    return dict(ch3x3=ch3x3, ch3x3dbl=dbl, ch3x3dbl_red=max(1, round(2 * dbl / 3)) if dbl else 0)


def compare_strategies(size: int, in_channels: int, out_channels: int, *, split: float = 0.8, kernel: int = 3,
                       pool_kind: str = "max", padding: str = "valid",
                       batchnorm: bool = True) -> list[dict[str, object]]:
    """The explorer's entry point: every strategy from ``in_channels x size x size`` to ``out_channels``, as plain data.

    One dict per strategy (see :meth:`ReductionCost.as_dict`) plus ``widths`` (the branch widths of the parallel
    module, from :func:`split_widths`). The defaults are Inception-v3's Mixed_6a setting (35x35x288 -> 768, 3x3
    kernels, BN atoms), where ``split=0.8`` gives torchvision's widths exactly.
    """
    c = dict(pool_kind=pool_kind, padding=padding, bias=not batchnorm, batchnorm=batchnorm)
    widths = split_widths(in_channels, out_channels, split)
    rows = [strategy_cost("pool_first", pool_first_spec(out_channels, kernel=kernel, **c), in_channels, size),
            strategy_cost("conv_first", conv_first_spec(out_channels, kernel=kernel, **c), in_channels, size),
            strategy_cost("parallel", parallel_spec(**widths, **c), in_channels, size)]
    return [dict(r.as_dict(), widths=widths if r.strategy == "parallel" else {}) for r in rows]


#: Defaults of the explorer: Inception-v3's first grid reduction, Mixed_6a (35x35x288 -> 17x17x768), 3x3 kernels,
#: max pooling; ``split=0.8`` puts 384 of the 480 new channels in the single 3x3/2 branch and 96 in the double one,
#: as torchvision.
MIXED_6A_SETTING = dict(size=35, in_channels=288, out_channels=768, split=0.8, pool="max", kernel=3)
#: The explorer's controls: sliders for d, k, the output width and the split; choices of pooling and kernel.
EXPLORER_CONTROLS = tuple(
    Control(name, label, MIXED_6A_SETTING[name], lo, hi, step) for name, label, lo, hi, step in (
        ("size", "grid d", 8, 72, 1), ("in_channels", "input k", 16, 1024, 16),
        ("out_channels", "output ch", 32, 2048, 16), ("split", "split", 0.0, 1.0, 0.05))) + (
    Control("pool", "pooling", MIXED_6A_SETTING["pool"], choices=POOLS),
    Control("kernel", "conv kernel", MIXED_6A_SETTING["kernel"], choices=CONV_KERNELS))


def explorer_view(settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the chapter-5 explorer shows, as plain data: pool first vs conv first vs the parallel module.

    Args:
        settings: values of :data:`EXPLORER_CONTROLS` by name; missing ones take :data:`MIXED_6A_SETTING`.

    Returns:
        ``settings``, ``title``, ``rows`` (:func:`compare_strategies`), ``table``, ``charts`` (parameters, MACs and
        the narrowest representation, with the output's size as a reference line), ``legend`` and ``alt``; or, for
        a setting that cannot be built (too few output channels), ``error`` (why) and empty ``rows`` and
        ``charts``. A value outside the controls' ranges raises a ``ValueError``.
    """
    v = check_settings(EXPLORER_CONTROLS, settings)
    view: dict[str, Any] = dict(explorer="grid-reduction", settings=v,
                                title=f"{v['size']}x{v['size']}x{v['in_channels']} -> {v['out_channels']} channels, "
                                      f"{v['kernel']}x{v['kernel']} kernels, {v['pool']} pooling")
    try:
        rows = compare_strategies(v["size"], v["in_channels"], v["out_channels"], split=v["split"],
                                  kernel=v["kernel"], pool_kind=v["pool"])
    except ValueError as err:
        return dict(view, error=f"Cannot build this setting: {err}", rows=[], table=None, charts=[], legend=[],
                    alt="")
    base = rows[0]["macs"]
    series = {"pool_first": 2, "conv_first": 0, "parallel": 3}  # the book's colours (view palette) of each strategy
    c, h, w = rows[0]["output"]
    charts = [bar_panel(name, suffix, scale,
                        [(r["label"], [segment(r["strategy"], r["label"], series[r["strategy"]], r[key])], "")
                         for r in rows],
                        decimals=2, marker=("output size", c * h * w) if key == "narrowest_numel" else None)
              for key, name, scale, suffix in (("params", "parameters", 1e6, "M"), ("macs", "MACs", 1e6, "M"),
                                               ("narrowest_numel", "narrowest representation", 1e3, "K"))]
    cells = [[r["label"], f"{r['params']:,}", f"{r['macs']:,}", f"{r['macs'] / base:.2f}x",
              "x".join(map(str, r["after_first"])), f"{r['narrowest_numel']:,}"] for r in rows]
    alt = ("Bar charts of parameters, MACs and the narrowest representation of each grid-reduction strategy: "
           + "; ".join(f"{r['label']} {r['params']:,} parameters, {r['macs']:,} MACs, narrowest "
                       f"{r['narrowest_numel']:,} values" for r in rows)
           + f"; the output holds {c * h * w:,} values ({c}x{h}x{w}).")
    return dict(view, rows=rows, table=table(("strategy", "params", "MACs", "vs pool first", "after 1st op",
                                              "narrowest"), cells),
                charts=charts, legend=[{"series": series[r["strategy"]], "label": r["label"]} for r in rows],
                alt=alt)


__all__ = ["STRATEGIES", "STRATEGY_LABELS", "POOLS", "PADDINGS", "CONV_KERNELS", "INCEPTION_V3_REDUCTIONS",
           "MIXED_6A", "pool_first_spec", "conv_first_spec", "parallel_spec", "ReductionCost", "strategy_cost",
           "section5_costs", "paper_formulas", "fig9_ratio", "split_widths", "compare_strategies", "MIXED_6A_SETTING",
           "EXPLORER_CONTROLS", "explorer_view"]
