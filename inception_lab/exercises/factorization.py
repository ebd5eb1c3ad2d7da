"""Exercises on factorized convolutions [Rethinking, §3.1-3.2] (chapter 4, ``notebooks/04_factorization.ipynb``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

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


#: Exercise 4.4: six 3x3 kernels (rows top to bottom). Which can a 1x3 convolution followed by a 3x1 compute exactly
#: (one channel in, one in the middle, one out; no bias, no nonlinearity)? [Rethinking, §3.2]
PAIR_KERNELS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "blur": ((1, 2, 1), (2, 4, 2), (1, 2, 1)),
    "sobel": ((1, 0, -1), (2, 0, -2), (1, 0, -1)),
    "cross": ((0, 1, 0), (1, 1, 1), (0, 1, 0)),
    "checkerboard": ((1, -1, 1), (-1, 1, -1), (1, -1, 1)),
    "diagonal": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "corner": ((1, 1, 0), (1, 1, 0), (0, 0, 0)),
}

#: Why a prediction about one kernel is wrong, keyed by the kernel and the wrong prediction.
_PAIR_HINTS: dict[tuple[str, bool], str] = {
    ("blur", False): "it is (1, 2, 1) down the column times (1, 2, 1) along the row: every row is a multiple of "
                     "(1, 2, 1).",
    ("sobel", False): "it is (1, 2, 1) down the column times (1, 0, -1) along the row: every row is a multiple "
                      "of (1, 0, -1).",
    ("cross", True): "it looks like a 1x3 plus a 3x1, but the pair does not add its two kernels: it applies one "
                     "after the other, so entry (i, j) is column[i] * row[j], a product. The rows (0, 1, 0) and "
                     "(1, 1, 1) are not multiples of one another: rank 2.",
    ("checkerboard", False): "every row is (1, -1, 1) or its negative: it is (1, -1, 1) down the "
                             "column times (1, -1, 1) along the row.",
    ("diagonal", True): "its rows are independent (it is the identity matrix, rank 3); a product "
                        "column[i] * row[j] has all its non-zero rows proportional.",
    ("corner", False): "it is (1, 1, 0) down the column times (1, 1, 0) along the row: two equal rows and a "
                       "zero row.",
}


def pair_kernel_rank(name: str) -> int:
    """The rank of :data:`PAIR_KERNELS` ``[name]``: the number of middle channels a linear 1x3 -> 3x1 pair needs."""
    return int(np.linalg.matrix_rank(np.array(PAIR_KERNELS[name], dtype=float)))


def pair_kernels_text() -> str:
    """:data:`PAIR_KERNELS` side by side, as the exercise shows them."""
    width = 14
    lines = ["".join(f"{name:<{width}}" for name in PAIR_KERNELS).rstrip()]
    for i in range(3):
        lines.append("".join(f"{' '.join(f'{v:>3}' for v in k[i]):<{width}}" for k in PAIR_KERNELS.values()).rstrip())
    return "\n".join(lines)


def pair_expressible(answer: Any) -> Feedback:
    """Exercise 4.4: for each kernel of :data:`PAIR_KERNELS`, can 1x3 then 3x1 (one middle channel, linear) compute
    it exactly? The answer is a dict, kernel name -> ``True`` / ``False``; the checker computes each kernel's rank."""
    expected = {name: pair_kernel_rank(name) == 1 for name in PAIR_KERNELS}
    if not isinstance(answer, Mapping):
        return Feedback(False, f"the answer should be a dict, kernel name -> True or False, for the kernels "
                               f"{list(PAIR_KERNELS)}; got {answer!r} ({type(answer).__name__}).")
    missing = [name for name in PAIR_KERNELS if name not in answer]
    unknown = [name for name in answer if name not in PAIR_KERNELS]
    if missing or unknown:
        return Feedback(False, f"give one prediction per kernel: {list(PAIR_KERNELS)}"
                               + (f"; missing {missing}" if missing else "") + (f"; unknown {unknown}" if unknown
                                                                               else "") + ".")
    not_bool = [name for name, value in answer.items() if not isinstance(value, bool)]
    if not_bool:
        return Feedback(False, f"each prediction is True (the pair computes it exactly) or False; {not_bool} "
                               f"{'is' if len(not_bool) == 1 else 'are'} not.")
    wrong = [name for name in PAIR_KERNELS if answer[name] != expected[name]]
    if not wrong:
        yes = [name for name, ok in expected.items() if ok]
        return Feedback(True, f"the pair computes exactly the kernels of rank 1: {', '.join(yes)}; the others have "
                              f"rank {', '.join(f'{n} {pair_kernel_rank(n)}' for n in PAIR_KERNELS if n not in yes)}.")
    return Feedback(False, f"{len(wrong)} of {len(PAIR_KERNELS)} predictions are off. "
                           + " ".join(f"{name}: {_PAIR_HINTS[(name, answer[name])]}" for name in wrong))
