"""Exercises on grid-size reduction [Rethinking, §5, Figs. 9-10] (chapter 5, ``notebooks/05_grid_reduction.ipynb``)."""

from __future__ import annotations

from typing import Any

from inception_lab.cost.grid_reduction import (
    MIXED_6A,
    conv_first_spec,
    fig9_ratio,
    parallel_spec,
    pool_first_spec,
    strategy_cost,
)
from inception_lab.exercises import Feedback, check_number
from inception_lab.experiments.cuts import narrowest_cut
from inception_lab.shapes import pool_output_size

#: Exercise 5.1: §5's conv first with a 1x1 convolution, k = 64 -> 128 filters on a 28x28 grid ("same" padding).
CONV_FIRST = dict(d=28, k=64)
#: Exercise 5.2: pool first on the same input: the size of the representation right after the pooling.
POOL_FIRST = dict(d=28, k=64)
#: Exercise 5.3: Mixed_6a (torchvision's InceptionB) on its 35x35x288 input: its output channels.
MIXED_6A_INPUT = dict(in_channels=288, size=35)
#: Exercise 5.4: conv first vs pool first with Inception's valid 3x3/2 pooling from a 17x17 grid (Mixed_7a's).
RATIO_GRID = 17
#: Exercise 5.5: Fig. 10's setting, 35x35x320 -> 17x17x640, half of the output pooled (320 channels); the other 320
#: from 1x1 (r) -> 3x3/2 (160) and 1x1 (r) -> 3x3 (160) -> 3x3/2 (160). ``reduction`` is r; ``wide_reduction`` the
#: r of the exercise's first prediction.
FIG10_DESIGN = dict(in_channels=320, size=35, ch3x3=160, ch3x3dbl=160, reduction=32, wide_reduction=64)


def _section5(cfg: dict, strategy: str):
    d, k = cfg["d"], cfg["k"]
    spec = (conv_first_spec if strategy == "conv_first" else pool_first_spec)(2 * k, kernel=1, padding="same")
    return strategy_cost(strategy, spec, k, d)


def conv_first_macs(answer: Any) -> Feedback:
    """Exercise 5.1: MACs of conv first (1x1, ``k -> 2k`` on ``d x d``, then pooling) = 2 d^2 k^2 [§5]."""
    expected = _section5(CONV_FIRST, "conv_first").macs
    pool_first = _section5(CONV_FIRST, "pool_first").macs
    return check_number(answer, expected, what="the MACs of conv first", hints={
        2 * expected: "That is FLOPs (a multiply and an add per weight and position). The paper's 'operations' "
                      "here are multiply-accumulates: count one per weight and output position.",
        pool_first: "That is the convolution on the pooled 14x14 grid (pool first). Conv first runs it on the "
                    "full 28x28 grid, before the pooling.",
        9 * expected: "That is a 3x3 convolution. Here the convolution is 1x1 (§5's 2d^2k^2 counts one kernel tap): "
                      "k x 2k weights per position.",
        expected // 2: "You used k filters out. The convolution widens the map to 2k = 128 channels.",
    }, fallback="Count output positions (d x d) times weights per position (k x 2k).")


def pool_first_size(answer: Any) -> Feedback:
    """Exercise 5.2: values in the representation right after the pooling of pool first: (d/2)^2 k [§5]."""
    d, k = POOL_FIRST["d"], POOL_FIRST["k"]
    c, h, w = _section5(POOL_FIRST, "pool_first").after_first
    expected = c * h * w
    return check_number(answer, expected, what="the size of the pooled representation", hints={
        (d // 2) ** 2 * 2 * k: "That is the output after the convolution (2k channels). The bottleneck sits right "
                               "after the pooling, which keeps the k input channels.",
        d * d * k: "That is the input. Pooling with stride 2 halves both the height and the width.",
        (d // 2) ** 2 * k * k: "That is (d/2)^2 k^2, a misreading of §5 (one transcription prints it). A feature map "
                               "has height x width x channels values: (d/2)^2 k.",
    }, fallback="Multiply height, width and channels of the map right after the pooling.")


def mixed_6a_out_channels(answer: Any) -> Feedback:
    """Exercise 5.3: output channels of Mixed_6a (3x3/2 -> 384; 1x1 64 -> 3x3 96 -> 3x3/2 96; 3x3/2 max-pool)."""
    cfg = MIXED_6A_INPUT
    expected = strategy_cost("parallel", parallel_spec(**MIXED_6A), cfg["in_channels"], cfg["size"]).output[0]
    convs = MIXED_6A["ch3x3"] + MIXED_6A["ch3x3dbl"]
    return check_number(answer, expected, what="Mixed_6a's output channels", hints={
        convs: "You added the two convolution branches. The pooling branch passes all 288 input channels on.",
        convs + MIXED_6A["ch3x3dbl_red"] + cfg["in_channels"]: "The 1x1 reduction (64) is inside a branch; only each "
                                                               "branch's *last* layer reaches the concatenation.",
        cfg["in_channels"]: "That is the pooling branch alone; the concatenation stacks all three branches.",
    })


def fig9_cost_ratio(answer: Any) -> Feedback:
    """Exercise 5.4: conv-first MACs / pool-first MACs when a valid 3x3/2 pooling shrinks 17x17 to 8x8."""
    expected = fig9_ratio(RATIO_GRID)["as_much"]
    return check_number(answer, expected, what="the cost ratio conv first / pool first", rel_tol=0.005, hints={
        4: "4 is the ratio for an exact halving (d -> d/2). A valid 3x3/2 pooling takes 17 to 8, not 8.5: compare "
           "17^2 with 8^2 positions.",
        3: "3 is the paper's 'three times more expensive' (Fig. 9). Count it: the convolution runs on 17^2 positions "
           "instead of 8^2.",
        expected - 1: "That is how much *more* conv first costs (the extra, in units of pool first). The question "
                      "asks for the ratio of the two costs.",
    }, fallback="Channels and kernel cancel: only the number of output positions of the convolution differs.")


def fig10_design(reduction: int):
    """Exercise 5.5's module as a cost-layer chain: :data:`FIG10_DESIGN` with 1x1 reductions of ``reduction``."""
    d = FIG10_DESIGN
    return parallel_spec(d["ch3x3"], ch3x3red=reduction, ch3x3dbl_red=reduction, ch3x3dbl=d["ch3x3dbl"])


def fig10_cut(reduction: int):
    """The narrowest cut of :func:`fig10_design` on its 35x35x320 input [Rethinking, §2, principle 1]."""
    d = FIG10_DESIGN
    return narrowest_cut(fig10_design(reduction), d["in_channels"], d["size"])


def fig10_narrowest_cut(answer: Any) -> Feedback:
    """Exercise 5.5: values per image in the narrowest cut of the Fig. 10 module with 1x1 reductions of 32."""
    d = FIG10_DESIGN
    r, size = d["reduction"], d["size"]
    out = pool_output_size(size, 3, stride=2)  # the valid 3x3/2 grid: 35 -> 17
    expected = fig10_cut(r).numel
    reduced = size * size * r  # one 1x1 reduction, on the full grid
    branch_out = out * out * d["ch3x3"]  # one convolution branch's 17x17 output
    pooled = out * out * d["in_channels"]
    output = out * out * (d["ch3x3"] + d["ch3x3dbl"] + d["in_channels"])
    return check_number(answer, expected, what="the narrowest cut", hints={
        output: f"That is the output, {out}x{out}x{output // (out * out)} (and the narrowest cut when r = "
                f"{d['wide_reduction']}). With r = {r}, each 1x1 reduction holds {size}x{size}x{r} = {reduced:,} "
                f"values, fewer than its branch's {out}x{out}x{d['ch3x3']} = {branch_out:,} output: cut there.",
        reduced: "One tensor is not a cut: the other branches still connect input and output. A cut crosses every "
                 "branch once; add the pieces.",
        2 * reduced: f"Both convolution branches are cut, but the pooling branch still carries {out}x{out}x"
                     f"{d['in_channels']} from input to output: add it.",
        pooled: "That is the pooling branch alone; the convolution branches must be cut too.",
        size * size * d["in_channels"]: "The input is a cut, but not the narrowest one.",
        reduced + branch_out + pooled: "The double-3x3 branch starts with a 1x1 reduction of the same width: its "
                                       "narrowest tensor is that reduction, not the branch's output.",
    }, fallback="Take the smallest tensor of each branch (the pooling branch has only its output) and add them.")


__all__ = ["CONV_FIRST", "POOL_FIRST", "MIXED_6A_INPUT", "RATIO_GRID", "conv_first_macs", "pool_first_size",
           "mixed_6a_out_channels", "fig9_cost_ratio", "FIG10_DESIGN", "fig10_design", "fig10_cut",
           "fig10_narrowest_cut"]
