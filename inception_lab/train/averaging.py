"""Parameter averaging for evaluation: Polyak averaging [GoogLeNet, §6] and a running average [Rethinking, §8].

"Polyak averaging [13] was used to create the final model used at inference time" [GoogLeNet, §6]: the uniform mean
of the iterates (Polyak and Juditsky). "Model evaluations are performed using a running average of the parameters
computed over time" [Rethinking, §8]: an exponential moving average (EMA), as TensorFlow's
``ExponentialMovingAverage(decay, num_updates)`` computes it, whose decay after ``n`` updates is
``min(decay, (1 + n) / (10 + n))``: early on the average follows the weights closely, later it forgets slowly.

Both are ``torch.optim.swa_utils.AveragedModel`` with ``use_buffers=True``: BatchNorm's running mean and variance
are averaged like the weights, as TensorFlow's Inception-v3 trainer averaged its "moving_average_variables" too.
The averaged copy is what :func:`inception_lab.train.evaluate` scores as "averaged".
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from inception_lab.checks import check_choice, check_number

AVERAGING = ("polyak", "ema")


def tf_ema_decay(decay: float, num_updates: int | torch.Tensor) -> float | torch.Tensor:
    """TensorFlow's decay after ``num_updates`` updates: ``min(decay, (1 + n) / (10 + n))``."""
    return torch.clamp((1 + num_updates) / (10 + num_updates), max=decay) if isinstance(num_updates, torch.Tensor) \
        else min(decay, (1 + num_updates) / (10 + num_updates))


class ParameterAverage(AveragedModel):
    """An averaged copy of a model's parameters and buffers, updated after every optimizer step from ``start_step``.

    Args:
        model: the trained model (unwrapped: not a ``DistributedDataParallel``).
        kind: ``"polyak"`` (uniform mean of the iterates) or ``"ema"`` (TensorFlow's EMA with ``decay``).
        decay: the EMA's decay in (0, 1); ignored for ``"polyak"``.
        start_step: optimizer steps before the first update (the average then starts as a copy of the weights).
    """

    def __init__(self, model: nn.Module, kind: str, decay: float | None = None, start_step: int = 0) -> None:
        check_choice("averaging", kind, AVERAGING)
        if kind == "ema":
            decay = check_number("averaging_decay", decay, minimum=0, maximum=1, strict_minimum=True,
                                 strict_maximum=True)

            def avg_fn(averaged: torch.Tensor, current: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
                d = tf_ema_decay(decay, n.to(averaged.dtype))  # n: updates so far, before this one
                return d * averaged + (1 - d) * current
        else:
            avg_fn = None  # AveragedModel's default: the running uniform mean a + (x - a) / (n + 1)
        super().__init__(model, avg_fn=avg_fn, use_buffers=True)
        self.kind, self.decay, self.start_step = kind, decay, start_step

    def maybe_update(self, model: nn.Module, step: int) -> None:
        """Fold the weights after optimizer step ``step`` (1-based count) into the average, from ``start_step`` on."""
        if step > self.start_step:
            self.update_parameters(model)

    @property
    def updates(self) -> int:
        """How many weight vectors the average holds."""
        return int(self.n_averaged.item())
