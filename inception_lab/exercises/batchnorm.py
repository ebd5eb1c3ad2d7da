"""Exercises on batch normalization and BN-Inception [BN, Alg. 1-2, Fig. 5] (chapter 3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from inception_lab.exercises import Feedback, check_number
from inception_lab.models.bn_inception import BNInceptionModule, bn_inception
from inception_lab.nn.batchnorm import ScratchBatchNorm2d
from inception_lab.nn.folding import fold_conv_bn
from inception_lab.papers.batch_normalization import FIGURE5, output_size_table

#: Exercise 3.1 setting: module (3a) of BN-Inception [BN, Fig. 5] on its 28x28x192 input.
BN_PARAMS = dict(row="3a", in_channels=192)
#: Exercise 3.2 setting: a fresh BN layer (running mean 0) with PyTorch's momentum, fed two training batches whose
#: per-channel means are ``batch_means``.
MOMENTUM = dict(momentum=0.1, batch_means=(2.0, 4.0))
#: Exercise 3.3 setting: the Figure 5 row whose output channels the reader computes from the filter columns.
CHANNELS_4E = dict(row="4e")


def bn_params_3a(answer: Any) -> Feedback:
    """Exercise 3.1: learnable BatchNorm parameters (gamma and beta) in BN-Inception's module (3a) [BN, Fig. 5]."""
    row = next(r for r in FIGURE5 if r.name == BN_PARAMS["row"])
    module = BNInceptionModule.from_row(row, BN_PARAMS["in_channels"])
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


def running_mean(answer: Any) -> Feedback:
    """Exercise 3.2: running mean after two training batches, PyTorch's momentum convention [BN, Alg. 2]."""
    momentum, means = MOMENTUM["momentum"], MOMENTUM["batch_means"]
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


def output_channels_4e(answer: Any) -> Feedback:
    """Exercise 3.3: output channels of module (4e) computed from the filter columns of [BN, Fig. 5]."""
    sizes = {row.name: row for row in output_size_table(bn_inception(init_weights="pytorch"))}
    rows = {row.name: row for row in FIGURE5}
    name = CHANNELS_4E["row"]
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


def fold(fn: Callable[..., Any]) -> Feedback:
    """Exercise 3.4: ``fn(weight, gamma, beta, mean, var, eps)`` folds an eval-mode BN into a bias-free conv.

    It must return ``(folded_weight, folded_bias)``; the checker compares with
    :func:`inception_lab.nn.folding.fold_conv_bn` on random layers with non-trivial statistics.
    """
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


#: Conceptual exercise setting: BN in training mode on u @ (a W), u 32 x 20 and W 20 x 8 standard normal (so u @ W has
#: a variance of about 20), PyTorch's eps; which scalings ``a`` leave the output unchanged? [BN, §3.3]
SCALE_INVARIANCE = dict(batch=32, fan_in=20, units=8, eps=1e-5, candidates=(10.0, 0.5, -2.0, 0.001), atol=1e-3)


def invariant_scalings() -> set[float]:
    """The candidates ``a`` of :data:`SCALE_INVARIANCE` for which BN((aW)u) equals BN(Wu), measured with torch."""
    c = SCALE_INVARIANCE
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(c["batch"], c["fan_in"], generator=gen)
    w = torch.randn(c["fan_in"], c["units"], generator=gen)

    def bn(weight: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.batch_norm(u @ weight, None, None, training=True, eps=c["eps"])

    reference = bn(w)
    return {a for a in c["candidates"] if torch.allclose(bn(a * w), reference, atol=c["atol"])}


def scale_invariance(answer: Any) -> Feedback:
    """Conceptual exercise: for which ``a`` does BN((aW)u) = BN(Wu) hold? Answer a set of the candidates [BN, §3.3]."""
    c = SCALE_INVARIANCE
    if not isinstance(answer, (set, frozenset, list, tuple)) or not all(
            isinstance(a, (int, float)) and not isinstance(a, bool) for a in answer):
        return Feedback(False, f"answer a set of numbers chosen from {set(c['candidates'])}, got {answer!r}.")
    chosen, expected = {float(a) for a in answer}, invariant_scalings()
    unknown = chosen - set(c["candidates"])
    if unknown:
        return Feedback(False, f"choose only from {set(c['candidates'])}; {unknown} is not a candidate.")
    if chosen == expected:
        return Feedback(True, f"only a = {', '.join(f'{a:g}' for a in sorted(expected, reverse=True))} leave the "
                              "output unchanged.")
    if -2.0 in chosen:
        return Feedback(False, "with a = -2 the batch mean scales by a, but the standard deviation by |a|. What "
                               "happens to (x - mean) / std when a is negative?")
    if 0.001 in chosen:
        return Feedback(False, "with a = 0.001 the variance becomes a^2 x 20 = 2e-5, comparable with eps = 1e-5. The "
                               "layer divides by sqrt(var + eps), not by the standard deviation.")
    missing = expected - chosen
    return Feedback(False, f"the output is also unchanged for a = {', '.join(f'{a:g}' for a in sorted(missing))}: "
                           "the batch mean and standard deviation scale with a, so (x - mean) / std stays.")
