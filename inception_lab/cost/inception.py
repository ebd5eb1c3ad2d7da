"""The Inception module of chapter 1 as pure data, and its cost branch by branch [GoogLeNet, Fig. 2].

:func:`naive_spec` and :func:`reduced_spec` describe the two modules of Fig. 2 as
:class:`~inception_lab.shapes.Parallel` nodes; :class:`inception_lab.models.googlenet.NaiveInception` and
:class:`~inception_lab.models.googlenet.Inception` describe themselves with exactly these specs (a test checks it),
so the explorer of chapter 1 and the torch modules share one description. :func:`explorer_view` is that explorer's
entry point: plain data that the ipywidgets explorer and the book's live explorer both draw. Pure Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inception_lab.checks import IntPair, check_choice, check_positive_int
from inception_lab.cost.core import ModuleCost, parallel_cost
from inception_lab.cost.view import Control, bar_panel, check_settings, segment, table
from inception_lab.shapes import BranchSpec, Parallel, conv, pool

#: Kernel of the "#5x5" branch: 5 in the paper, 3 in torchvision's port (pytorch/vision#906).
BRANCH3_KERNELS = (5, 3)


def naive_spec(in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int, *, bias: bool = True,
               batchnorm: bool = False) -> Parallel:
    """Naive Inception module [GoogLeNet, Fig. 2a]: 1x1, 3x3 and 5x5 convolutions and a 3x3 max-pool in parallel."""
    check_positive_int("in_channels", in_channels)
    widths = {"branch1": (ch1x1, 1), "branch2": (ch3x3, 3), "branch3": (ch5x5, 5)}
    branches = [BranchSpec(name, (conv(check_positive_int(f"{name} width", width), k, bias=bias,
                                       batchnorm=batchnorm),))
                for name, (width, k) in widths.items()]
    branches.append(BranchSpec("branch4", (pool("max", 3, 1, 1),)))
    return Parallel(tuple(branches))


def reduced_spec(ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int, *,
                 bias: bool = True, batchnorm: bool = False, branch3_kernel_size: int = 5) -> Parallel:
    """Inception module with dimension reductions [GoogLeNet, Fig. 2b]; the arguments are Table 1's columns.

    ``branch3_kernel_size=3`` gives torchvision's variant (pytorch/vision#906); ``batchnorm=True, bias=False``
    gives its conv-BN-ReLU atoms.
    """
    for name, value in dict(ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3, ch5x5red=ch5x5red, ch5x5=ch5x5,
                            pool_proj=pool_proj).items():
        check_positive_int(name, value)
    k = check_choice("branch3_kernel_size", branch3_kernel_size, BRANCH3_KERNELS)
    c = dict(bias=bias, batchnorm=batchnorm)
    return Parallel((
        BranchSpec("branch1", (conv(ch1x1, 1, **c),)),
        BranchSpec("branch2", (conv(ch3x3red, 1, **c), conv(ch3x3, 3, **c))),
        BranchSpec("branch3", (conv(ch5x5red, 1, **c), conv(ch5x5, k, **c))),
        BranchSpec("branch4", (pool("max", 3, 1, 1, ceil_mode=True), conv(pool_proj, 1, **c))),
    ))


def inception_naive_cost(in_channels: int, size: IntPair, ch1x1: int, ch3x3: int, ch5x5: int, *, bias: bool = True,
                         batchnorm: bool = False, batch: int = 1) -> ModuleCost:
    """Cost of the naive module [GoogLeNet, Fig. 2a] on an ``in_channels x size`` input.

    The pooling branch has no parameters and passes all ``in_channels`` through, which is why stacking naive
    modules makes the channel count grow from module to module [GoogLeNet, §4].
    """
    return parallel_cost(naive_spec(in_channels, ch1x1, ch3x3, ch5x5, bias=bias, batchnorm=batchnorm), in_channels,
                         size, batch=batch)


def inception_reduced_cost(in_channels: int, size: IntPair, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                           ch5x5: int, pool_proj: int, *, bias: bool = True, batchnorm: bool = False,
                           branch3_kernel_size: int = 5, batch: int = 1) -> ModuleCost:
    """Cost of the module with dimension reductions [GoogLeNet, Fig. 2b]; arguments are Table 1's columns."""
    check_positive_int("in_channels", in_channels)
    spec = reduced_spec(ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, bias=bias, batchnorm=batchnorm,
                        branch3_kernel_size=branch3_kernel_size)
    return parallel_cost(spec, in_channels, size, batch=batch)


def compare_inception_modules(in_channels: int, size: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                              ch5x5: int, pool_proj: int) -> dict[str, ModuleCost]:
    """The naive module [Fig. 2a] and the reduced one [Fig. 2b] with the same 1x1/3x3/5x5 output widths.

    This is the comparison behind the chapter-1 explorer: same input, same number of 3x3 and 5x5 filters,
    with and without the 1x1 reductions (and with the pool projection instead of passing pooled channels on).
    """
    return {
        "naive": inception_naive_cost(in_channels, size, ch1x1, ch3x3, ch5x5),
        "reduced": inception_reduced_cost(in_channels, size, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj),
    }


# ---------------------------------------------------------------------------------------------------------
# The chapter-1 explorer's entry point: plain data
# ---------------------------------------------------------------------------------------------------------
#: Defaults of the chapter-1 explorer: inception (3a) of GoogLeNet's Table 1 on its 28x28x192 input.
INCEPTION_3A = dict(in_channels=192, size=28, ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32,
                    pool_proj=32)
#: The explorer's sliders: (name, label, minimum, maximum, step); defaults from :data:`INCEPTION_3A`.
EXPLORER_CONTROLS = tuple(
    Control(name, label, INCEPTION_3A[name], lo, hi, step) for name, label, lo, hi, step in (
        ("in_channels", "input ch", 16, 1024, 16), ("size", "grid H=W", 7, 56, 1), ("ch1x1", "#1x1", 8, 512, 8),
        ("ch3x3red", "#3x3 reduce", 8, 512, 8), ("ch3x3", "#3x3", 8, 512, 8), ("ch5x5red", "#5x5 reduce", 8, 256, 8),
        ("ch5x5", "#5x5", 8, 256, 8), ("pool_proj", "pool proj", 8, 256, 8)))


def comparison_rows(modules: Mapping[str, ModuleCost]) -> list[dict[str, Any]]:
    """One row per module variant: output channels, parameters, MACs, MACs relative to the first variant, and the
    same per branch (``branches``: name, label, out_channels, params, macs)."""
    first = next(iter(modules.values())).total.macs
    return [dict(variant=name, out_channels=m.out_channels, params=m.total.params, macs=m.total.macs,
                 macs_ratio=m.total.macs / first,
                 branches=[dict(name=b, label=m.labels[b], out_channels=m.branch_channels[b], params=c.params,
                                macs=c.macs) for b, c in m.branches.items()])
            for name, m in modules.items()]


def explorer_view(settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the chapter-1 explorer shows, as plain data: naive [Fig. 2a] vs reduced [Fig. 2b] module.

    Args:
        settings: values of :data:`EXPLORER_CONTROLS` by name (the arguments of :func:`compare_inception_modules`);
            missing ones take the defaults (:data:`INCEPTION_3A`).

    Returns:
        ``settings`` (all values), ``title``, ``rows`` (:func:`comparison_rows`), ``table`` (the read-out's cells),
        ``charts`` (stacked bars of parameters and MACs by branch, :func:`~inception_lab.cost.view.bar_panel`),
        ``legend`` (series index and label of each branch) and ``alt`` (the charts in words).
    """
    values = check_settings(EXPLORER_CONTROLS, settings)
    rows = comparison_rows(compare_inception_modules(**values))
    labels: dict[str, str] = {}
    for row in rows:  # the legend names a branch by the last variant that has it
        labels.update({b["name"]: b["label"] for b in row["branches"]})
    series = {name: i for i, name in enumerate(labels)}
    charts = [bar_panel(title, suffix, scale,
                        [(r["variant"], [segment(b["name"], labels[b["name"]], series[b["name"]], b[metric])
                                         for b in r["branches"]], "") for r in rows])
              for metric, title, suffix, scale in (("params", "parameters", "K", 1e3), ("macs", "MACs", "M", 1e6))]
    cells = [[str(r["variant"]), str(r["out_channels"]), f"{r['params']:,}", f"{r['macs']:,}",
              f"{r['macs_ratio']:.2f}x"] for r in rows]
    naive, reduced = rows
    alt = (f"Stacked bar charts of parameters and MACs, split by branch, for a {values['in_channels']}-channel "
           f"{values['size']}x{values['size']} input: the naive module has {naive['params']:,} parameters and "
           f"{naive['macs']:,} MACs and outputs {naive['out_channels']} channels; the module with 1x1 reductions has "
           f"{reduced['params']:,} parameters and {reduced['macs']:,} MACs ({reduced['macs_ratio']:.2f}x the "
           f"naive MACs) and outputs {reduced['out_channels']} channels.")
    return dict(explorer="inception-module", settings=values,
                title="naive [Fig. 2a] vs with 1x1 reductions [Fig. 2b]", rows=rows,
                table=table(("variant", "out ch", "params", "MACs", "MACs vs first"), cells), charts=charts,
                legend=[{"series": series[b], "label": label} for b, label in labels.items()], alt=alt)
