"""Exercises on factorized convolutions [Rethinking, §3.1-3.2] (chapter 4, ``notebooks/04_factorization.ipynb``)."""

from __future__ import annotations

from typing import Any

from inception_lab.cost.factorization import asymmetric_chain, chain_cost_same_grid, square_chain, stacked_chain
from inception_lab.exercises import Feedback, check_number
from inception_lab.shapes import conv, pool, start_shape, walk

#: Exercise 4.1: n = 7 with 192 input, middle and output channels on a 17x17 grid [Rethinking, Fig. 6].
N7 = dict(n=7, channels=192, grid=17)
#: Exercise 4.2: a 7x7 convolution 64 -> 64 with bias, replaced by three 3x3 convolutions with bias [Rethinking, §6].
STACK = dict(k=7, channels=64)
#: Exercise 4.3: three 3x3 convolutions, a 3x3/2 max-pool, then a 1x7 and a 7x1 convolution.
FIELD_CHAIN = (conv(8, 3), conv(8, 3), conv(8, 3), pool("max", 3, 2), conv(8, (1, 7)), conv(8, (7, 1)))


def macs_saved_n7(answer: Any) -> Feedback:
    """Exercise 4.1: MACs saved by 1x7 -> 7x1 against one 7x7 (:data:`N7`), both keeping the grid."""
    c = N7
    square = chain_cost_same_grid(square_chain(c["n"], c["channels"]), c["channels"], c["grid"]).macs
    pair = chain_cost_same_grid(asymmetric_chain(c["n"], c["channels"]), c["channels"], c["grid"]).macs
    saved = square - pair
    per_position = saved // (c["grid"] ** 2)
    return check_number(answer, saved, what="the MACs saved", hints={
        pair: "That is what the factorized pair costs. The question asks how much it *saves* against the 7x7.",
        square: "That is the cost of the 7x7 convolution itself. Subtract what 1x7 then 7x1 costs.",
        2 * saved: "That is FLOPs (2 per multiply-accumulate). The question asks for MACs.",
        per_position: "That is the saving for one output position. Every one of the 17 x 17 positions saves as "
                      "much: multiply by the grid.",
        saved // 2: "Both factors cost MACs: 1x7 (192 -> 192) *and* 7x1 (192 -> 192), 7 weights per channel pair "
                    "each. 49 - 14 = 35 weights per channel pair are saved.",
    }, fallback="Per channel pair and position, 7x7 uses 49 weights and the pair 7 + 7 = 14; multiply the "
                "difference by 192 x 192 channel pairs and 17 x 17 positions.")


def stack_params(answer: Any) -> Feedback:
    """Exercise 4.2: parameters of three 3x3 convolutions (with bias) that replace a 7x7 (:data:`STACK`)."""
    c = STACK
    with_bias = chain_cost_same_grid(stacked_chain(c["k"], c["channels"], bias=True), c["channels"], 1).params
    no_bias = chain_cost_same_grid(stacked_chain(c["k"], c["channels"]), c["channels"], 1).params
    seven = chain_cost_same_grid(square_chain(c["k"], c["channels"], bias=True), c["channels"], 1).params
    return check_number(answer, with_bias, what="the parameters of the three 3x3 layers", hints={
        no_bias: "Each of the three layers has a bias too: 64 more parameters per layer.",
        with_bias // 3: "That is one 3x3 layer. A 7x7 window needs three of them: (7 - 1) / (3 - 1) = 3.",
        seven: "That is the 7x7 convolution being replaced. Count the three 3x3 layers instead.",
        2 * with_bias // 3: "Two 3x3 layers see only a 5x5 window; a 7x7 window needs three.",
    })


def stack_field(answer: Any) -> Feedback:
    """Exercise 4.3: side of the receptive field of :data:`FIELD_CHAIN` (from the shape walk)."""
    field = walk(FIELD_CHAIN, start_shape(8, 64, 64))[-1].field
    expected = field.size[0]
    no_jump = 1 + 2 * 3 + 2 + 6  # the 1x7 / 7x1 growth taken as 6 input pixels, ignoring the pooling's stride
    return check_number(answer, expected, what="the receptive field's side", hints={
        no_jump: "After the stride-2 pooling, neighbouring positions are 2 input pixels apart: the 7x1 convolution "
                 "adds 6 steps of 2 pixels, not 6 pixels.",
        9: "That is the field after the pooling. The 1x7 then 7x1 pair widens it further (in both directions).",
    }, fallback="Add (k - 1) x jump per layer, starting at 1 with jump 1; the pooling doubles the jump.")
