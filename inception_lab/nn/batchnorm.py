"""Batch normalization written out step by step [BN, Alg. 1 and Alg. 2], for teaching.

:class:`ScratchBatchNorm2d` is a drop-in twin of ``torch.nn.BatchNorm2d``: same arguments, same parameters and
buffers (so ``state_dict`` loads both ways), same outputs, running statistics and gradients; the tests in
``tests/test_batchnorm.py`` prove it in float64. Every line of the arithmetic carries the step of the paper it
implements. Use ``nn.BatchNorm2d`` for real work: it is one fused kernel, this class is a dozen tensor operations.

Introduced in chapter 3 (``notebooks/03_bn_inception.ipynb``).
"""

from __future__ import annotations

import torch
from torch import nn

from inception_lab.checks import check_number, check_positive_int


class ScratchBatchNorm2d(nn.Module):
    """Batch Normalizing Transform for convolutional feature maps [BN, Alg. 1, §3.2], PyTorch's conventions.

    Training mode normalises each channel with the mean and the *biased* variance of the current mini-batch,
    taken jointly over the batch and all spatial positions, so a batch of N maps of size H x W is an effective
    mini-batch of m = N * H * W values per channel [BN, §3.2]; then it scales by gamma (``weight``) and shifts by
    beta (``bias``). Eval mode uses the running estimates instead, so the output of one example no longer depends
    on the rest of the batch [BN, Alg. 2].

    The momentum convention (PyTorch's; easy to get backwards): after each training step ::

        running = (1 - momentum) * running + momentum * batch_statistic

    so the default ``momentum=0.1`` means ``new = 0.9 * old + 0.1 * batch``. Keras/TensorFlow
    (``BatchNormalization(momentum=0.99)``) and Caffe (``moving_average_fraction``) write the weight of the
    *old* value instead, so their 0.9 is PyTorch's 0.1. ``momentum=None`` gives the cumulative average
    ``running = mean over all batches seen``, which is exactly the population estimate of [BN, Alg. 2, step 10]
    when the batches have equal size.

    Args:
        num_features: number of channels C.
        eps: added to the variance before the square root, for numerical stability [BN, Alg. 1].
        momentum: weight of the new batch statistic in the running estimate (see above), in [0, 1], or ``None``
            for a cumulative average.
        affine: learn a per-channel scale gamma (init 1) and shift beta (init 0) [BN, §3]; without them the
            layer only standardises.
        track_running_stats: keep ``running_mean``, ``running_var`` and ``num_batches_tracked``; without them
            eval mode also normalises with the statistics of the batch at hand (as ``nn.BatchNorm2d`` does).

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    Deviations:
        [BN, Alg. 2] estimates the population statistics once, after training, by averaging over many training
        mini-batches; PyTorch (and this class, to stay its twin) keeps an exponential moving average during
        training instead (``momentum=None`` recovers the paper's plain average). The running variance uses the
        unbiased estimate m/(m-1) * sigma_B^2 exactly as the paper's step 10 does.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.num_features = check_positive_int("num_features", num_features)
        self.eps = check_number("eps", eps, minimum=0.0, strict_minimum=True)
        # momentum None: a cumulative average of all batches seen, as in nn.BatchNorm2d
        self.momentum = None if momentum is None else check_number("momentum", momentum, minimum=0.0, maximum=1.0)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = nn.Parameter(torch.ones(num_features))  # gamma [BN, Alg. 1]
            self.bias = nn.Parameter(torch.zeros(num_features))  # beta [BN, Alg. 1]
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))  # E[x] [BN, Alg. 2]
            self.register_buffer("running_var", torch.ones(num_features))  # Var[x] [BN, Alg. 2]
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked (as ``nn.BatchNorm2d``)."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Running statistics reset; gamma = 1, beta = 0, so a fresh layer only standardises."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"ScratchBatchNorm2d expects a torch.Tensor, got {type(x).__name__}.")
        if x.dim() != 4:
            raise ValueError(f"ScratchBatchNorm2d expects 4D input (N, C, H, W), got {x.dim()}D input of shape "
                             f"{tuple(x.shape)}.")
        if x.shape[1] != self.num_features:
            raise ValueError(f"ScratchBatchNorm2d({self.num_features}) expects {self.num_features} channels, got "
                             f"input of shape {tuple(x.shape)} with {x.shape[1]} channels.")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        # Batch statistics in training; also in eval when there are no running estimates (as nn.BatchNorm2d).
        use_batch_stats = self.training or not self.track_running_stats
        dims = (0, 2, 3)  # every position of every example shares its channel's statistics [BN, §3.2]
        if use_batch_stats:
            m = x.numel() // self.num_features  # effective mini-batch size m' = N * H * W [BN, §3.2]
            if self.training and m <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                                 f"{tuple(x.shape)}: a batch variance needs at least two values.")
            mean = x.mean(dim=dims)  # mu_B = 1/m sum_i x_i  [BN, Alg. 1]
            # sigma_B^2 = 1/m sum_i (x_i - mu_B)^2, the biased variance, used to normalise  [BN, Alg. 1]
            var = ((x - mean[None, :, None, None]) ** 2).mean(dim=dims)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.detach(), var.detach(), m)
        else:
            mean, var = self.running_mean, self.running_var  # E[x], Var[x]  [BN, Alg. 2, step 10]
        x_hat = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + self.eps)  # [BN, Alg. 1]
        if not self.affine:
            return x_hat
        # y = gamma * x_hat + beta: scale and shift, so the layer can still represent the identity  [BN, Alg. 1, §3]
        return self.weight[None, :, None, None] * x_hat + self.bias[None, :, None, None]

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, m: int) -> None:
        self.num_batches_tracked += 1
        # momentum=None: factor 1/k after k batches turns the update into a cumulative average.
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        unbiased_var = var * (m / (m - 1))  # m/(m-1) sigma_B^2  [BN, Alg. 2, step 10]
        self.running_mean.mul_(1.0 - factor).add_(factor * mean)  # new = (1 - momentum) old + momentum batch
        self.running_var.mul_(1.0 - factor).add_(factor * unbiased_var)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
