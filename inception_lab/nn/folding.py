"""Folding inference-mode BatchNorm into the preceding convolution [BN, Alg. 2, step 11].

In eval mode BN is a fixed per-channel affine map, ``y = gamma / sqrt(Var[x] + eps) * x + (beta - gamma E[x] /
sqrt(Var[x] + eps))`` [BN, Alg. 2, step 11], and a convolution followed by a per-channel affine map is again a
convolution. :func:`fold_batchnorm` rewrites the weights so the BN layers disappear: the same outputs (up to
floating-point rounding), one layer fewer per convolution, and less memory traffic at inference time.

Introduced in chapter 3 (``notebooks/03_bn_inception.ipynb``).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from inception_lab.nn.batchnorm import ScratchBatchNorm2d

BATCHNORM_TYPES = (nn.BatchNorm2d, ScratchBatchNorm2d)


def _foldable_pairs(module: nn.Module) -> list[tuple[str, str]]:
    """(conv name, BN name) pairs among the direct children of ``module`` that run one right after the other.

    Two patterns are recognised: consecutive children of an ``nn.Sequential`` (its order is its forward order), and
    the ``conv``/``bn`` children of a conv atom (:class:`~inception_lab.nn.layers.ConvBNReLU`, torchvision's
    ``BasicConv2d``), whose forward applies ``bn`` to the output of ``conv``.
    """
    children = dict(module.named_children())
    if isinstance(module, nn.Sequential):
        names = list(children)
        return [(a, b) for a, b in zip(names, names[1:], strict=False)
                if isinstance(children[a], nn.Conv2d) and isinstance(children[b], BATCHNORM_TYPES)]
    if isinstance(children.get("conv"), nn.Conv2d) and isinstance(children.get("bn"), BATCHNORM_TYPES):
        return [("conv", "bn")]
    return []


@torch.no_grad()
def fold_conv_bn(conv: nn.Conv2d, bn: nn.Module) -> nn.Conv2d:
    """A new ``nn.Conv2d`` (with bias) that computes ``bn(conv(x))`` for an eval-mode ``bn``.

    With s = gamma / sqrt(Var[x] + eps) per output channel [BN, Alg. 2, step 11]:
    ``w' = w * s`` and ``b' = beta + (b - E[x]) * s`` (b = 0 for a conv without bias). The arithmetic runs in
    float64 and the result is cast back to the convolution's dtype.

    Raises:
        ValueError: if ``bn`` is in training mode, has no running statistics, or its size does not match.
    """
    if not isinstance(conv, nn.Conv2d) or not isinstance(bn, BATCHNORM_TYPES):
        raise ValueError(f"fold_conv_bn() needs an nn.Conv2d and a BatchNorm2d, got {type(conv).__name__} and "
                         f"{type(bn).__name__}.")
    if bn.training:
        raise ValueError("fold_conv_bn() needs an eval-mode BatchNorm: in training mode BN normalises with the "
                         "statistics of each batch, which no fixed convolution can reproduce. Call .eval() first.")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("cannot fold a BatchNorm without running statistics (track_running_stats=False): it "
                         "normalises with batch statistics even in eval mode.")
    if bn.num_features != conv.out_channels:
        raise ValueError(f"BatchNorm has {bn.num_features} features but the convolution has {conv.out_channels} "
                         "output channels.")
    dtype = conv.weight.dtype
    mean, var = bn.running_mean.double(), bn.running_var.double()
    gamma = bn.weight.double() if bn.weight is not None else torch.ones_like(mean)
    beta = bn.bias.double() if bn.bias is not None else torch.zeros_like(mean)
    bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(mean)
    scale = gamma / torch.sqrt(var + bn.eps)  # gamma / sqrt(Var[x] + eps)  [BN, Alg. 2, step 11]

    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                       padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=True,
                       padding_mode=conv.padding_mode, device=conv.weight.device, dtype=dtype)
    folded.weight.copy_((conv.weight.double() * scale[:, None, None, None]).to(dtype))  # w' = w * s
    folded.bias.copy_((beta + (bias - mean) * scale).to(dtype))  # b' = beta + (b - E[x]) * s
    folded.weight.requires_grad_(conv.weight.requires_grad)
    folded.bias.requires_grad_(conv.weight.requires_grad)
    return folded.train(conv.training)


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of an eval-mode ``model`` with every Conv2d -> BatchNorm2d pair folded into one Conv2d.

    Each folded convolution gains a bias (``b' = beta + (b - E[x]) * gamma / sqrt(Var[x] + eps)``) and the BN
    becomes an ``nn.Identity``, so attribute names and the ``state_dict`` layout of everything else are unchanged.
    Both ``nn.BatchNorm2d`` and :class:`~inception_lab.nn.batchnorm.ScratchBatchNorm2d` fold. Pairs are recognised
    inside conv atoms (``conv`` then ``bn``, e.g. :class:`~inception_lab.nn.layers.ConvBNReLU`) and between
    consecutive layers of an ``nn.Sequential``; a BN anywhere else is left in place.

    The parameter count drops by one per folded channel: gamma and beta (2 per channel) go, a conv bias
    (1 per channel) comes, unless the conv had a bias already.

    Args:
        model: a module in eval mode (every submodule). It is not modified.

    Raises:
        ValueError: if any submodule is in training mode, or a BN to fold has no running statistics.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"fold_batchnorm() needs a torch.nn.Module, got {type(model).__name__}.")
    training = [name or "<model>" for name, m in model.named_modules() if m.training]
    if training:
        raise ValueError(f"fold_batchnorm() needs a model in eval mode (call model.eval()); in training mode: "
                         f"{training[:5]}{' ...' if len(training) > 5 else ''}.")
    folded = copy.deepcopy(model)
    for module in list(folded.modules()):
        for conv_name, bn_name in _foldable_pairs(module):
            setattr(module, conv_name, fold_conv_bn(getattr(module, conv_name), getattr(module, bn_name)))
            setattr(module, bn_name, nn.Identity())
    return folded
