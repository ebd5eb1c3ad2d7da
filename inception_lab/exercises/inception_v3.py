"""Exercises on Inception-v3 [Rethinking, Figs. 6-8, §4, §7, Table 3]: module C's channels, module B's cost, the
auxiliary head, label smoothing and its best logit gap, what Table 3's steps bought (chapter 6)."""

from __future__ import annotations

import math
from typing import Any

from inception_lab.cost import batchnorm_cost, conv2d_cost, linear_cost
from inception_lab.exercises import Feedback, check_number
from inception_lab.models.inception_v3 import InceptionAux, InceptionE
from inception_lab.papers.rethinking import LABEL_SMOOTHING_EPSILON, TABLE3, TABLE3_STEPS

#: Exercise 6.1: module C (Fig. 7) on the 8x8 grid with 1280 channels in (torchvision's Mixed_7b).
MODULE_C = dict(in_channels=1280)
#: Exercise 6.2: branch7x7 of Mixed_6c: 1x1 (768 -> 160), 1x7 (160 -> 160), 7x1 (160 -> 192) on 17x17.
BRANCH_7X7 = dict(in_channels=768, c7=160, out=192, grid=17, n=7)
#: Exercise 6.3: the released auxiliary head on Mixed_6e (768 channels), 1000 classes.
AUX = dict(in_channels=768, num_classes=1000)
#: Exercise 6.4: label smoothing with the paper's eps and K classes [Rethinking, §7].
SMOOTHING = dict(epsilon=0.1, num_classes=10)
#: Exercise 6.5: the best logit gap with the paper's eps and ImageNet's K = 1000 classes [Rethinking, §7].
GAP = dict(epsilon=LABEL_SMOOTHING_EPSILON, num_classes=1000)
#: Exercise 6.6: the four cumulative steps of Table 3, by letter (the order of the table).
TABLE3_CHOICES: dict[str, str] = {letter: row for letter, (row, _, _) in zip("abcd", TABLE3_STEPS, strict=True)}


def module_c_channels(answer: Any) -> Feedback:
    """Exercise 6.1: output channels of module C (Mixed_7b) [Rethinking, Fig. 7]."""
    module = InceptionE(MODULE_C["in_channels"])
    expected = module.out_channels
    widths = module.branch_channels
    no_split = widths["branch1x1"] + widths["branch3x3"] // 2 + widths["branch3x3dbl"] // 2 + widths["branch_pool"]
    return check_number(answer, expected, what="the output channels of module C", hints={
        no_split: "The 1x3 and 3x1 convolutions at the end of two branches run side by side on the same input and "
                  "are both concatenated: each of those branches contributes 384 + 384 channels.",
        no_split + 448: "The 448 filters of the 1x1 reduction feed the 3x3; only each branch's last layers reach "
                        "the concatenation.",
        expected - widths["branch_pool"]: "Add the pooling branch's 1x1 projection (192 channels).",
        expected + MODULE_C["in_channels"] - widths["branch_pool"]:
            "The pooling branch of module C has a 1x1 projection: it does not pass its input through.",
    })


def branch_7x7_macs(answer: Any) -> Feedback:
    """Exercise 6.2: MACs of Mixed_6c's branch7x7 (1x1, 1x7, 7x1 on 17x17) for one image [Rethinking, Fig. 6]."""
    c = BRANCH_7X7
    g, n = c["grid"], c["n"]
    reduce = conv2d_cost(c["in_channels"], c["c7"], 1, g).macs
    first = conv2d_cost(c["c7"], c["c7"], (1, n), g).macs
    second = conv2d_cost(c["c7"], c["out"], (n, 1), g).macs
    expected = reduce + first + second
    square = conv2d_cost(c["c7"], c["out"], n, g).macs
    return check_number(answer, expected, what="the MACs of branch7x7", hints={
        2 * expected: "That is FLOPs (2 per multiply-accumulate). The question asks for MACs.",
        first + second: "Add the 1x1 reduction (768 -> 160 channels) in front of the factorized pair.",
        reduce + square: "That is a 1x1 followed by one full 7x7 (160 -> 192): the branch factorizes the 7x7 into "
                         "1x7 then 7x1, 7 + 7 weights per channel pair instead of 49.",
        reduce + 2 * first: "The 7x1 convolution outputs 192 channels, not 160.",
        conv2d_cost(c["in_channels"], c["c7"], 1, 8).macs + conv2d_cost(c["c7"], c["c7"], (1, n), 8).macs
        + conv2d_cost(c["c7"], c["out"], (n, 1), 8).macs: "Module B runs on the 17x17 grid, not 8x8.",
    })


def aux_head_params(answer: Any) -> Feedback:
    """Exercise 6.3: parameters of the released auxiliary classifier (torchvision's AuxLogits) [Rethinking, §4]."""
    c = AUX
    expected = sum(p.numel() for p in InceptionAux(c["in_channels"], c["num_classes"]).parameters())
    bn = batchnorm_cost(128).params + batchnorm_cost(768).params
    fc_bias = c["num_classes"]
    bn_aux = sum(p.numel() for p in InceptionAux(c["in_channels"], c["num_classes"], bn_fc=True).parameters())
    return check_number(answer, expected, what="the parameters of the auxiliary head", hints={
        expected - bn: "Each convolution is followed by BatchNorm with a scale and a shift per channel "
                       "(2 x 128 + 2 x 768 parameters).",
        expected - fc_bias: "The linear layer has a bias: one per class.",
        expected - bn - fc_bias: "Count BatchNorm's scale and shift and the linear layer's bias too.",
        bn_aux: "That is the paper's BN-auxiliary head (its FC batch-normalized too); the released head has no BN "
                "on the FC layer.",
        linear_cost(768, c["num_classes"]).params: "That is the linear layer alone; the head also has a 1x1 "
                                                    "convolution (768 -> 128) and a 5x5 convolution (128 -> 768).",
    })


def smoothed_target_of_true_class(answer: Any) -> Feedback:
    """Exercise 6.4: q'(y|x) for the true class y with eps = 0.1 and K = 10 [Rethinking, §7]."""
    eps, k = SMOOTHING["epsilon"], SMOOTHING["num_classes"]
    expected = 1 - eps + eps / k
    return check_number(answer, expected, what="the smoothed target of the true class", rel_tol=1e-9, hints={
        1 - eps: "The uniform part eps * u(k) = eps / K is added to every class, the true one included.",
        eps / k: "That is the target of each *other* class; the true class also keeps 1 - eps.",
        1.0: "That is the one-hot target, before smoothing.",
        1 - eps + eps / 1000: "The paper used K = 1000 (ImageNet); here K = 10.",
    }, fallback="q'(k) = (1 - eps) [k = y] + eps / K.")


def best_logit_gap(epsilon: float, num_classes: int) -> float:
    """The logit gap that minimises the smoothed cross-entropy: log((1 - eps + eps/K) / (eps/K)) [Rethinking, §7].

    The loss is smallest where the softmax equals the smoothed target; with every other logit equal, the target's
    ratio of the true class's probability to another class's is the exponential of the gap.
    """
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must lie strictly between 0 and 1 for a finite best gap, got {epsilon!r}.")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer of at least 2, got {num_classes!r}.")
    other = epsilon / num_classes
    return math.log((1 - epsilon + other) / other)


def optimal_logit_gap(answer: Any) -> Feedback:
    """Exercise 6.5: the best logit gap for eps = 0.1 and K = 1000 classes (ImageNet) [Rethinking, §7]."""
    eps, k = GAP["epsilon"], GAP["num_classes"]
    expected = round(best_logit_gap(eps, k), 3)
    ratio = (1 - eps + eps / k) / (eps / k)
    return check_number(answer, expected, what="the best logit gap for K = 1000", rel_tol=1e-3, hints={
        best_logit_gap(eps, 10): "That is the gap for K = 10 classes, the chapter's example; ImageNet has K = 1000, "
                                 "so each other class's target eps / K is 100 times smaller.",
        ratio: "That is the ratio of the two target probabilities; the gap between logits is its (natural) "
               "logarithm, since softmax probabilities are exponentials of the logits.",
        math.log10(ratio): "Softmax uses the natural exponential, so take the natural logarithm (log, not log10).",
        math.log((1 - eps) / eps): "Each other class gets eps / K, not eps: the uniform part is shared by all K "
                                   "classes.",
    }, fallback="The loss is smallest where the softmax equals the smoothed target: write the target's probability "
                "of the true class and of one other class, and take the log of their ratio.")


def biggest_table3_step(answer: Any) -> Feedback:
    """Exercise 6.6: which cumulative step of [Rethinking, Table 3] removed the most top-1 error? (a letter)"""
    if not isinstance(answer, str) or answer.strip().lower() not in TABLE3_CHOICES:
        return Feedback(False, f"answer with one letter of {sorted(TABLE3_CHOICES)}, got {answer!r}.")
    rows = {row.network: row for row in TABLE3}
    names = [row.network for row in TABLE3]
    gains = {name: round(rows[names[names.index(name) - 1]].top1 - rows[name].top1, 2)
             for name in TABLE3_CHOICES.values()}
    costs = {name: round(rows[name].cost_bn_ops - rows[names[names.index(name) - 1]].cost_bn_ops, 2)
             for name in TABLE3_CHOICES.values()}
    best = max(gains, key=gains.get)
    choice = TABLE3_CHOICES[answer.strip().lower()]
    said = f"{choice} removed {gains[choice]:.1f} points of top-1 error (the row above minus its row)"
    if choice == best:
        return Feedback(True, f"{said}, the most of the four steps; it is also the only one that adds cost "
                              f"(+{costs[choice]:.1f} Bn ops: the 3x3 stem does more work than one 7x7).")
    return Feedback(False, f"{said}. Subtract each row's top-1 error from the row above it, for all four steps, "
                           "and compare.")
