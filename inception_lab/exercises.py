"""Auto-checking helpers for the chapters' exercises.

Each checker computes the expected answer with the library (never a typed-in constant), returns a
:class:`Feedback` that renders as a green or red box in Jupyter and as plain text elsewhere, and recognises
common mistakes so a wrong answer gets a hint rather than just "wrong".
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from inception_lab.cost import conv2d_cost, inception_naive_cost, inception_reduced_cost


@dataclass(frozen=True)
class Feedback:
    """Result of an exercise check: ``correct`` plus a message (a confirmation or a hint)."""

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        message = self.message[:1].upper() + self.message[1:]
        return ("Correct! " if self.correct else "Not yet. ") + message

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour, border = ("#e6f4ea", "#34a853") if self.correct else ("#fdecea", "#d93025")
        return (f'<div style="background:{colour};border-left:4px solid {border};padding:6px 10px;'
                f'color:#202124">{html.escape(str(self))}</div>')


def check_number(answer: Any, expected: float, *, what: str, hints: Mapping[float, str] | None = None,
                 rel_tol: float = 0.0, fallback: str = "Write the sum out branch by branch.") -> Feedback:
    """Compare a numeric answer with ``expected``; known wrong values map to specific hints.

    Args:
        hints: wrong answer -> the mistake that produces it, explained.
        rel_tol: relative tolerance (0 = exact).
        fallback: advice for a wrong answer that no known mistake explains.
    """
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return Feedback(False, f"{what} should be a number, got {answer!r} ({type(answer).__name__}).")
    if answer == expected or (rel_tol and abs(answer - expected) <= rel_tol * abs(expected)):
        return Feedback(True, f"{what} = {expected:,}.")
    for wrong, hint in (hints or {}).items():
        if answer == wrong or (rel_tol and abs(answer - wrong) <= rel_tol * abs(wrong)):
            return Feedback(False, hint)
    direction = "too large" if answer > expected else "too small"
    return Feedback(False, f"{answer:,} is {direction} for {what}. {fallback}")


# ---------------------------------------------------------------------------------------------------------
# Chapter 1: the Inception module
# ---------------------------------------------------------------------------------------------------------
#: Exercise 1.1 setting: inception (3b)'s input (28x28x256) fed to a naive module with 3b's output widths.
EX1_NAIVE = dict(in_channels=256, size=28, ch1x1=128, ch3x3=192, ch5x5=96)
#: Exercise 1.2 setting: branch 3 of inception (3a) [GoogLeNet, Table 1].
EX1_BRANCH3 = dict(in_channels=192, size=28, ch5x5red=16, ch5x5=32)
#: Exercise 1.3 setting: the module's Table 1 widths without pool_proj, and the output the reader must reach.
EX1_POOL_PROJ = dict(ch1x1=64, ch3x3=128, ch5x5=32, target=256)


def ch1_naive_out_channels(answer: Any) -> Feedback:
    """Exercise 1.1: output channels of a naive module [Fig. 2a] with the widths in :data:`EX1_NAIVE`."""
    cfg = EX1_NAIVE
    expected = inception_naive_cost(cfg["in_channels"], cfg["size"], cfg["ch1x1"], cfg["ch3x3"],
                                    cfg["ch5x5"]).out_channels
    convs_only = cfg["ch1x1"] + cfg["ch3x3"] + cfg["ch5x5"]
    return check_number(answer, expected, what="the naive module's output channels", hints={
        convs_only: "You added the three convolution branches. What does the max-pooling branch output, and how "
                    "many channels does it have?",
        cfg["in_channels"]: "That is only the pooling branch. The concatenation stacks *all four* branches.",
    })


def ch1_branch3_macs(answer: Any) -> Feedback:
    """Exercise 1.2: MACs of inception (3a)'s 5x5 branch, 1x1 reduction included [Table 1, 'ops' unit]."""
    c = EX1_BRANCH3
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


def ch1_pool_proj(answer: Any) -> Feedback:
    """Exercise 1.3: the ``pool_proj`` that makes the reduced module [Fig. 2b] output ``target`` channels."""
    c = EX1_POOL_PROJ
    expected = c["target"] - (c["ch1x1"] + c["ch3x3"] + c["ch5x5"])
    if isinstance(answer, int) and not isinstance(answer, bool) and answer >= 1:
        got = inception_reduced_cost(192, 28, c["ch1x1"], 96, c["ch3x3"], 16, c["ch5x5"], answer).out_channels
        if got != c["target"]:
            return Feedback(False, f"With pool_proj={answer} the module outputs {got} channels, not "
                                   f"{c['target']}. Only the branch *outputs* are concatenated: reductions "
                                   "do not count.")
    return check_number(answer, expected, what="the width of the pool projection (pool_proj)")


def ch1_pointwise_as_linear(fn: Callable[..., Any]) -> Feedback:
    """Exercise 1.4: ``fn(x, weight, bias)`` must compute a 1x1 convolution with a matrix product.

    The checker runs ``fn`` on random tensors of several shapes and compares with ``torch.nn.functional.conv2d``.
    """
    import torch
    import torch.nn.functional as F

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


# ---------------------------------------------------------------------------------------------------------
# Chapter 2: GoogLeNet
# ---------------------------------------------------------------------------------------------------------
#: Exercise 2.1 setting: the Table 1 row whose output channels the reader computes [GoogLeNet, Table 1].
EX2_CHANNELS = dict(row="4e")
#: Exercise 2.2 setting: the paper's auxiliary classifier on inception (4a), 14x14x512, 1000 classes [GoogLeNet, §5].
EX2_AUX = dict(in_channels=512, size=14, num_classes=1000)
#: Exercise 2.4 setting: the "#5x5" branch of this Table 1 row, 5x5 (paper) vs 3x3 (torchvision) kernel.
EX2_KERNEL = dict(row="4e", size=14)


def _table1_row(name: str) -> Any:
    from inception_lab.googlenet import TABLE1_ROWS

    return next(r for r in TABLE1_ROWS if r.name == name)


def ch2_out_channels(answer: Any) -> Feedback:
    """Exercise 2.1: output channels of inception (4e) from its Table 1 row [GoogLeNet, Table 1]."""
    row = _table1_row(EX2_CHANNELS["row"])
    expected = row.out_channels
    return check_number(answer, expected, what=f"the output channels of inception ({row.name})", hints={
        sum(row.widths): "You added all six columns. The reductions (#3x3 reduce, #5x5 reduce) feed the 3x3 and "
                         "5x5 convolutions; only the last layer of each branch reaches the concatenation.",
        expected - row.pool_proj: "Three branches are in, one is missing: the pooling branch contributes its "
                                  "'pool proj' filters.",
        row.ch1x1 + row.ch3x3red + row.ch5x5red + row.pool_proj: "Those are the 1x1 convolutions that read the "
                                                                   "module's input. Add the branch *outputs*.",
    })


def ch2_aux_head_macs(answer: Any) -> Feedback:
    """Exercise 2.2: MACs of the paper's auxiliary classifier on inception (4a), for one image [GoogLeNet, §5]."""
    from inception_lab.cost import linear_cost, pool_output_size
    from inception_lab.googlenet import AuxSpec

    c, spec = EX2_AUX, AuxSpec()
    grid = pool_output_size(c["size"], 5, 3)  # "average pooling layer with 5x5 filter size and stride 3"
    conv = conv2d_cost(c["in_channels"], spec.conv, 1, grid).macs
    fc1 = linear_cost(spec.conv * grid * grid, spec.fc).macs
    fc2 = linear_cost(spec.fc, c["num_classes"]).macs
    expected = conv + fc1 + fc2
    conv_unpooled = conv2d_cost(c["in_channels"], spec.conv, 1, c["size"]).macs
    return check_number(answer, expected, what="the MACs of the auxiliary classifier on (4a)", hints={
        conv + fc1: "You stopped at the hidden layer: the last linear layer (1024 -> 1000 classes) costs MACs too.",
        fc1 + fc2: "Add the 1x1 convolution (512 -> 128 channels on the pooled grid).",
        conv: "That is the 1x1 convolution alone; add the two fully connected layers.",
        conv_unpooled + fc1 + fc2: f"The 1x1 convolution runs after the 5x5/3 average pooling, on a {grid}x{grid} "
                                   f"grid, not on the {c['size']}x{c['size']} input.",
        2 * expected: "That is FLOPs (2 per multiply-accumulate). The question asks for MACs.",
    })


def ch2_training_only_params(answer: Any) -> Feedback:
    """Exercise 2.3: parameters of the paper-faithful GoogLeNet that are used in training only [GoogLeNet, §5].

    The two auxiliary classifiers (on 4a, 512 channels, and on 4d, 528 channels) are discarded at inference.
    """
    from inception_lab.googlenet import TABLE1_ROWS, InceptionAux

    channels = {r.name: r.out_channels for r in TABLE1_ROWS}
    heads = [sum(p.numel() for p in InceptionAux(channels[name], 1000).parameters()) for name in ("4a", "4d")]
    expected = sum(heads)
    return check_number(answer, expected, what="the parameters used only in training", hints={
        heads[0]: "That is the head on (4a) alone; there is a second one on (4d).",
        heads[1]: "That is the head on (4d) alone; there is a second one on (4a).",
        2 * heads[0]: "The two heads are not identical: the one on (4d) reads 528 channels, not 512.",
    })


def ch2_kernel_saving(answer: Any) -> Feedback:
    """Exercise 2.4: MACs that torchvision's 3x3 kernel saves in the "#5x5" branch of inception (4e)."""
    row, size = _table1_row(EX2_KERNEL["row"]), EX2_KERNEL["size"]
    five = conv2d_cost(row.ch5x5red, row.ch5x5, 5, size).macs
    three = conv2d_cost(row.ch5x5red, row.ch5x5, 3, size).macs
    return check_number(answer, five - three, what=f"the MACs saved in inception ({row.name})'s 5x5 branch", hints={
        five: "That is the whole 5x5 convolution. The 3x3 kernel still costs something: subtract it.",
        three: "That is the cost of the 3x3 convolution; the question asks for the difference to the 5x5.",
        2 * (five - three): "That is FLOPs (2 per multiply-accumulate). The question asks for MACs.",
    })


# ---------------------------------------------------------------------------------------------------------
# Chapter 3: BN-Inception
# ---------------------------------------------------------------------------------------------------------
#: Exercise 3.1 setting: module (3a) of BN-Inception [BN, Fig. 5] on its 28x28x192 input.
EX3_BN_PARAMS = dict(row="3a", in_channels=192)
#: Exercise 3.2 setting: a fresh BN layer (running mean 0) with PyTorch's momentum, fed two training batches whose
#: per-channel means are ``batch_means``.
EX3_MOMENTUM = dict(momentum=0.1, batch_means=(2.0, 4.0))
#: Exercise 3.3 setting: the Figure 5 row whose output channels the reader computes from the filter columns.
EX3_CHANNELS = dict(row="4e")


def ch3_bn_params_3a(answer: Any) -> Feedback:
    """Exercise 3.1: learnable BatchNorm parameters (gamma and beta) in BN-Inception's module (3a) [BN, Fig. 5]."""
    import torch

    from inception_lab.batchnorm import ScratchBatchNorm2d
    from inception_lab.bn_inception import FIGURE5, BNInceptionModule

    row = next(r for r in FIGURE5 if r.name == EX3_BN_PARAMS["row"])
    module = BNInceptionModule.from_row(row, EX3_BN_PARAMS["in_channels"])
    bns = [m for m in module.modules() if isinstance(m, (torch.nn.BatchNorm2d, ScratchBatchNorm2d))]
    channels = sum(bn.num_features for bn in bns)
    expected = sum(p.numel() for bn in bns for p in bn.parameters())  # gamma and beta: 2 per channel
    out_channels = module.out_channels
    return check_number(answer, expected, what="the learnable BN parameters of module (3a)", fallback=(
        "List the convolutions of the module (branch by branch, reductions included); each is followed by a BN "
        "with one gamma and one beta per output channel."), hints={
        channels: f"That is one per normalised channel ({channels} channels). Each channel learns two numbers: "
                  "the scale gamma and the shift beta.",
        4 * channels: "You also counted the running mean and the running variance. Those are buffers, estimated "
                      "from the data, not learned by gradient descent.",
        2 * out_channels: f"That counts only the {out_channels} output channels of the module. Every convolution "
                          "inside it has its own BN -- the reductions too.",
    })


def ch3_running_mean(answer: Any) -> Feedback:
    """Exercise 3.2: running mean after two training batches, PyTorch's momentum convention [BN, Alg. 2]."""
    import torch

    from inception_lab.batchnorm import ScratchBatchNorm2d

    momentum, means = EX3_MOMENTUM["momentum"], EX3_MOMENTUM["batch_means"]
    bn = ScratchBatchNorm2d(1, momentum=momentum).train()
    for value in means:  # a batch whose channel mean is exactly `value` (its variance does not matter here)
        bn(torch.full((2, 1, 2, 2), value))
    expected = round(bn.running_mean.item(), 6)
    keras, old = 0.0, 0.0
    for value in means:  # the same numbers with momentum read as the weight of the *old* value (Keras, Caffe)
        keras = momentum * keras + (1 - momentum) * value
        old = (1 - momentum) * old + momentum * value
    hints = {
        round(keras, 6): f"That is {momentum} read as the weight of the *old* value (Keras' and Caffe's convention). "
                         f"In PyTorch it is the weight of the new batch: new = {1 - momentum:g} * old + "
                         f"{momentum:g} * batch.",
        round(sum(means) / len(means), 6): "That is the plain average of the batch means (momentum=None). With "
                                           f"momentum={momentum} the running mean starts at 0 and moves only "
                                           f"{momentum:.0%} of the way towards each batch mean.",
        round(momentum * means[-1], 6): "That is the update from the last batch alone, starting from 0. Apply the "
                                        "update once per batch, in order.",
        round(momentum * sum(means), 6): "You added momentum * batch mean for each batch but forgot to decay the "
                                         f"old value by {1 - momentum:g} at the second step.",
    }
    if isinstance(answer, float) and not isinstance(answer, bool):
        answer = round(answer, 6)
    return check_number(answer, expected, what="the running mean after two batches", hints=hints,
                        rel_tol=1e-6, fallback=(
        f"Start from running_mean = 0 and apply new = {1 - momentum:g} * old + {momentum:g} * batch_mean once "
        "per batch."))


def ch3_output_channels_4e(answer: Any) -> Feedback:
    """Exercise 3.3: output channels of module (4e) computed from the filter columns of [BN, Fig. 5]."""
    from inception_lab.bn_inception import FIGURE5, output_size_table

    sizes = {row.name: row for row in output_size_table()}
    rows = {row.name: row for row in FIGURE5}
    name = EX3_CHANNELS["row"]
    row, previous = rows[name], sizes["4d"]
    expected = sizes[name].computed[2]
    convs = row.ch1x1 + row.ch3x3 + row.dbl3x3
    return check_number(answer, expected, what=f"the output channels of module ({name})", fallback=(
        "Add the widths of the branch outputs (#3x3, double #3x3) and the channels the max-pool passes through: "
        "all of 4d's output, computed from 4d's own columns."), hints={
        sizes[name].printed[2]: f"That is the printed value. It is what the filter columns give if 4d outputs its "
                                f"printed {previous.printed[2]} channels ({convs} + {previous.printed[2]}); add up "
                                "4d's own columns first.",
        convs: f"That is the three convolution branches ({row.ch3x3} + {row.dbl3x3}). The max-pool branch is a "
               "'pass through': it adds all of its input channels, unprojected.",
        convs + row.dbl3x3red + row.ch3x3red: "Reductions are not concatenated: only the last layer of each branch "
                                              "reaches the output.",
    })


def ch3_fold(fn: Callable[..., Any]) -> Feedback:
    """Exercise 3.4: ``fn(weight, gamma, beta, mean, var, eps)`` folds an eval-mode BN into a bias-free conv.

    It must return ``(folded_weight, folded_bias)``; the checker compares with
    :func:`inception_lab.folding.fold_conv_bn` on random layers with non-trivial statistics.
    """
    import torch
    from torch import nn

    from inception_lab.folding import fold_conv_bn

    if not callable(fn):
        return Feedback(False, f"Pass your function itself (no parentheses), got {type(fn).__name__}.")
    gen = torch.Generator().manual_seed(0)
    for c_in, c_out, k, eps in [(3, 4, 3, 1e-5), (5, 2, 1, 1e-3), (2, 6, 3, 0.1)]:
        conv = nn.Conv2d(c_in, c_out, k, bias=False)
        bn = nn.BatchNorm2d(c_out, eps=eps).eval()
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen))
            bn.weight.copy_(torch.rand(c_out, generator=gen) + 0.5)
            bn.bias.copy_(torch.randn(c_out, generator=gen))
            bn.running_mean.copy_(torch.randn(c_out, generator=gen))
            bn.running_var.copy_(torch.rand(c_out, generator=gen) * 0.2 + 0.01)
        reference = fold_conv_bn(conv, bn)
        args = [t.detach().clone() for t in (conv.weight, bn.weight, bn.bias, bn.running_mean, bn.running_var)]
        try:
            with torch.no_grad():
                got = fn(*args, eps)
        except Exception as exc:  # the learner's code: report, don't crash the notebook
            return Feedback(False, f"Your function raised {type(exc).__name__}: {exc}. Hint: compute the per-channel "
                                   "scale s = gamma / sqrt(var + eps) and reshape it to (C_out, 1, 1, 1) to multiply "
                                   "the weight.")
        if not (isinstance(got, (tuple, list)) and len(got) == 2
                and all(isinstance(t, torch.Tensor) for t in got)):
            return Feedback(False, "Return a pair of tensors: (folded_weight, folded_bias).")
        weight, bias = got
        if weight.shape != reference.weight.shape or bias.shape != reference.bias.shape:
            return Feedback(False, f"Shapes: the weight must be {tuple(reference.weight.shape)} and the bias "
                                   f"{tuple(reference.bias.shape)}, got {tuple(weight.shape)} and {tuple(bias.shape)}.")
        ok_w = torch.allclose(weight, reference.weight, atol=1e-5, rtol=1e-4)
        ok_b = torch.allclose(bias, reference.bias, atol=1e-5, rtol=1e-4)
        if ok_w and ok_b:
            continue
        gamma, beta, mean, var = args[1:]
        if not ok_w:
            no_eps = args[0] * (gamma / torch.sqrt(var))[:, None, None, None]
            no_sqrt = args[0] * (gamma / (var + eps))[:, None, None, None]
            if torch.allclose(weight, no_eps, atol=1e-5, rtol=1e-4):
                return Feedback(False, f"Close, but the weight ignores eps (here eps={eps}). BN divides by "
                                       "sqrt(var + eps), so the fold must too.")
            if torch.allclose(weight, no_sqrt, atol=1e-5, rtol=1e-4):
                return Feedback(False, "The weight is divided by the variance; BN divides by the standard deviation, "
                                       "sqrt(var + eps).")
            return Feedback(False, "The folded weight is wrong. Each output channel c is scaled by "
                                   "s[c] = gamma[c] / sqrt(var[c] + eps): weight * s[:, None, None, None].")
        return Feedback(False, "The weight is right, the bias is not. Eval-mode BN computes gamma * (z - mean) / "
                               "sqrt(var + eps) + beta; with z = conv(x) and no conv bias, the constant left over is "
                               "beta - mean * s.")
    return Feedback(True, "your folded convolution computes exactly what conv followed by eval-mode BN computes.")
