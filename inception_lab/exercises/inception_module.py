"""Exercises on the Inception module [GoogLeNet, Fig. 2] (chapter 1, ``notebooks/01_inception_module.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from inception_lab.cost import conv2d_cost, inception_naive_cost, inception_reduced_cost
from inception_lab.exercises import Feedback, check_number

#: Exercise 1.1 setting: inception (3b)'s input (28x28x256) fed to a naive module with 3b's output widths.
NAIVE = dict(in_channels=256, size=28, ch1x1=128, ch3x3=192, ch5x5=96)
#: Exercise 1.2 setting: branch 3 of inception (3a) [GoogLeNet, Table 1].
BRANCH3 = dict(in_channels=192, size=28, ch5x5red=16, ch5x5=32)
#: Exercise 1.3 setting: the module's Table 1 widths without pool_proj, and the output the reader must reach.
POOL_PROJ = dict(ch1x1=64, ch3x3=128, ch5x5=32, target=256)


def naive_out_channels(answer: Any) -> Feedback:
    """Exercise 1.1: output channels of a naive module [Fig. 2a] with the widths in :data:`NAIVE`."""
    cfg = NAIVE
    expected = inception_naive_cost(cfg["in_channels"], cfg["size"], cfg["ch1x1"], cfg["ch3x3"],
                                    cfg["ch5x5"]).out_channels
    convs_only = cfg["ch1x1"] + cfg["ch3x3"] + cfg["ch5x5"]
    return check_number(answer, expected, what="the naive module's output channels", hints={
        convs_only: "You added the three convolution branches. What does the max-pooling branch output, and how "
                    "many channels does it have?",
        cfg["in_channels"]: "That is only the pooling branch. The concatenation stacks *all four* branches.",
    })


def branch3_macs(answer: Any) -> Feedback:
    """Exercise 1.2: MACs of inception (3a)'s 5x5 branch, 1x1 reduction included [Table 1, 'ops' unit]."""
    c = BRANCH3
    hw = (c["size"], c["size"])
    reduce = conv2d_cost(c["in_channels"], c["ch5x5red"], 1, hw).macs
    conv5 = conv2d_cost(c["ch5x5red"], c["ch5x5"], 5, hw).macs
    direct = conv2d_cost(c["in_channels"], c["ch5x5"], 5, hw).macs
    return check_number(answer, reduce + conv5, what="the MACs of branch 3 of inception (3a)", hints={
        conv5: "That is the 5x5 convolution alone: the 1x1 reduction in front of it costs MACs too.",
        reduce: "That is the 1x1 reduction alone: add the 5x5 convolution that runs on its 16 channels.",
        direct: "That is a 5x5 convolution straight on the 192 input channels -- the cost *without* the "
                "reduction. With it, the 5x5 filters only see ch5x5red channels.",
        2 * (reduce + conv5): "That is FLOPs (2 per multiply-accumulate). The question asks for MACs.",
    })


def pool_proj(answer: Any) -> Feedback:
    """Exercise 1.3: the ``pool_proj`` that makes the reduced module [Fig. 2b] output ``target`` channels."""
    c = POOL_PROJ
    expected = c["target"] - (c["ch1x1"] + c["ch3x3"] + c["ch5x5"])
    if isinstance(answer, int) and not isinstance(answer, bool) and answer >= 1:
        got = inception_reduced_cost(192, 28, c["ch1x1"], 96, c["ch3x3"], 16, c["ch5x5"], answer).out_channels
        if got != c["target"]:
            return Feedback(False, f"With pool_proj={answer} the module outputs {got} channels, not "
                                   f"{c['target']}. Only the branch *outputs* are concatenated: reductions "
                                   "do not count.")
    return check_number(answer, expected, what="the width of the pool projection (pool_proj)")


def pointwise_as_linear(fn: Callable[..., Any]) -> Feedback:
    """Exercise 1.4: ``fn(x, weight, bias)`` must compute a 1x1 convolution with a matrix product.

    The checker runs ``fn`` on random tensors of several shapes and compares with ``torch.nn.functional.conv2d``.
    """
    if not callable(fn):
        return Feedback(False, f"Pass your function itself (no parentheses), got {type(fn).__name__}.")
    gen = torch.Generator().manual_seed(0)
    for n, c_in, c_out, h, w in [(2, 5, 3, 4, 6), (1, 8, 8, 7, 7), (3, 1, 4, 2, 9)]:
        x = torch.randn(n, c_in, h, w, generator=gen)
        weight = torch.randn(c_out, c_in, 1, 1, generator=gen)
        bias = torch.randn(c_out, generator=gen)
        expected = F.conv2d(x, weight, bias)
        try:
            got = fn(x, weight, bias)
        except Exception as exc:  # the learner's code: report, don't crash the notebook
            return Feedback(False, f"Your function raised {type(exc).__name__}: {exc}. Hint: move channels last "
                                   "with x.permute(0, 2, 3, 1), multiply by weight.view(c_out, c_in).T, add "
                                   "the bias, and permute back.")
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return Feedback(False, f"For x of shape {tuple(x.shape)} the result must have shape "
                                   f"{tuple(expected.shape)}, got {shape}.")
        if not torch.allclose(got, expected, atol=1e-5, rtol=1e-4):
            err = (got - expected).abs().max().item()
            return Feedback(False, f"Shapes match but values differ (max error {err:.3g}). Did you forget the "
                                   "bias, or mix up the order of the channel axes?")
    return Feedback(True, "your matrix product equals a 1x1 convolution on every tested shape.")


#: Exercise setting: the Table 1 row whose share of 3x3 and 5x5 output channels the reader computes.
LARGE_KERNEL_SHARE = dict(row="4d")


def large_kernel_share(answer: Any) -> Feedback:
    """Exercise: the fraction of a Table 1 row's output channels that come from its 3x3 and 5x5 branches.

    The paper expects "the ratio of 3x3 and 5x5 convolutions" to "increase as we move to higher layers"
    [GoogLeNet, §4]; the reader checks the rows (an answer within 0.005 counts).
    """
    from inception_lab.papers.going_deeper import TABLE1_ROWS

    row = next(r for r in TABLE1_ROWS if r.name == LARGE_KERNEL_SHARE["row"])
    exact = (row.ch3x3 + row.ch5x5) / row.out_channels
    expected = round(exact, 3)
    hints = {
        row.ch3x3 / row.out_channels: "That is the 3x3 branch alone: the 5x5 branch counts too.",
        (row.ch3x3 + row.ch5x5) / (row.out_channels + row.ch3x3red + row.ch5x5red):
            "The reductions are internal: divide by the module's output channels only.",
        (row.ch3x3 + row.ch5x5 + row.ch3x3red + row.ch5x5red) / row.out_channels:
            "The '#3x3 reduce' and '#5x5 reduce' filters are 1x1 convolutions inside the branches; they do not "
            "reach the concatenation.",
        100 * exact: "Give a fraction between 0 and 1, not a percentage.",
    }
    hints = {round(value, 3): hint for value, hint in hints.items()}
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):  # within rounding of a known value
        close = [v for v in [expected, *hints] if abs(answer - v) <= 0.005 * max(1.0, abs(v))]
        answer = close[0] if close else answer
    return check_number(answer, expected, what=f"the share of 3x3 and 5x5 channels in inception ({row.name})",
                        hints=hints, fallback="Add the #3x3 and #5x5 columns and divide by the output channels.")


#: Conceptual exercise setting: inception (3a)'s 5x5 branch, a 1x1 reduction to ``reduce`` channels, then a 5x5
#: convolution, with no nonlinearity between them [GoogLeNet, Fig. 2b, Table 1].
REDUCTION_RANK = dict(in_channels=192, reduce=16, out_channels=32, kernel=5)


def merged_kernel_rank() -> int:
    """Channel rank of the one 5x5 convolution that a 1x1 reduction followed by a 5x5 convolution equals.

    The merged weight W2 . W1 (shape out x in x k x k) is read as a matrix with one column per input channel,
    ``(out * k * k) x in``; with random (seeded) weights its rank is the bound the narrowest layer sets.
    """
    c = REDUCTION_RANK
    gen = torch.Generator().manual_seed(0)
    reduction = torch.randn(c["reduce"], c["in_channels"], generator=gen)                    # W1: reduce x in
    spatial = torch.randn(c["out_channels"], c["reduce"], c["kernel"], c["kernel"], generator=gen)  # W2
    merged = torch.einsum("oikl,ic->ockl", spatial, reduction)                              # out x in x k x k
    matrix = merged.permute(0, 2, 3, 1).reshape(-1, c["in_channels"])                       # (out k k) x in
    return int(torch.linalg.matrix_rank(matrix).item())


def reduction_rank(answer: Any) -> Feedback:
    """Conceptual exercise: the rank of the merged convolution, i.e. what a 1x1 reduction constrains (chapter 1)."""
    c = REDUCTION_RANK
    rows = c["out_channels"] * c["kernel"] ** 2
    return check_number(answer, merged_kernel_rank(), what="the rank of the merged 5x5 convolution", hints={
        c["out_channels"]: "32 filters, but each filter has 25 taps: the matrix has 32 x 25 = 800 rows, so the "
                           "output side allows more. Look for the narrowest point every path must pass through.",
        c["in_channels"]: "192 columns, one per input channel; but every input channel reaches the 5x5 "
                          "convolution only through the reduction. How many numbers per pixel leave it?",
        rows: "800 is the number of rows; a matrix's rank is at most the smaller side, and here a product's rank is "
              "at most the rank of each factor.",
        c["in_channels"] - c["reduce"]: "That is the dimension of what the reduction throws away (its null "
                                        "space); the rank is what it keeps.",
    }, fallback="Write the merged weight as a product W2 . W1 and ask how wide the middle is.")
