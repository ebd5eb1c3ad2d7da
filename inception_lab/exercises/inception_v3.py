"""Exercises on Inception-v3 [Rethinking, Figs. 6-8, §4, §7]: module C's channels, module B's cost, the auxiliary
head, label smoothing (chapter 6)."""

from __future__ import annotations

from typing import Any

from inception_lab.cost import batchnorm_cost, conv2d_cost, linear_cost
from inception_lab.exercises import Feedback, check_number
from inception_lab.models.inception_v3 import InceptionAux, InceptionE

#: Exercise 6.1: module C (Fig. 7) on the 8x8 grid with 1280 channels in (torchvision's Mixed_7b).
MODULE_C = dict(in_channels=1280)
#: Exercise 6.2: branch7x7 of Mixed_6c: 1x1 (768 -> 160), 1x7 (160 -> 160), 7x1 (160 -> 192) on 17x17.
BRANCH_7X7 = dict(in_channels=768, c7=160, out=192, grid=17, n=7)
#: Exercise 6.3: the released auxiliary head on Mixed_6e (768 channels), 1000 classes.
AUX = dict(in_channels=768, num_classes=1000)
#: Exercise 6.4: label smoothing with the paper's eps and K classes [Rethinking, §7].
SMOOTHING = dict(epsilon=0.1, num_classes=10)


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
