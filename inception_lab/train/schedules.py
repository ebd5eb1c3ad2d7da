"""Learning-rate schedules as the papers state them: staircase exponential decay [GoogLeNet, §6], [Rethinking, §8].

"decreasing the learning rate by 4% every 8 epochs" [GoogLeNet, §6] and "a learning rate of 0.045, decayed every two
epoch using an exponential rate of 0.94" [Rethinking, §8] are both TensorFlow's ``exponential_decay(...,
staircase=True)``: the rate after ``t`` steps is ``lr x decay ** floor(t / decay_steps)``, with ``decay_steps`` the
steps in ``every`` epochs. We compute ``floor`` in exact rational arithmetic, so a decay every 8/6 epochs (BN-x5's
"6 times faster", [BN, §4.2.1]) lands on the same step on every machine. An optional linear warm-up multiplies the
first steps by ``(t + 1) / warmup_steps``; none of the papers uses one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import torch

from inception_lab.checks import check_number, check_positive_int


def _epochs_fraction(every_epochs: float) -> Fraction:
    """``every_epochs`` as an exact fraction (8/6 written as 1.3333333333333333 becomes 4/3)."""
    return Fraction(every_epochs).limit_denominator(1000)


def decays_after(step: int, steps_per_epoch: int, every_epochs: float) -> int:
    """How many decays have happened after ``step`` optimizer steps: ``floor(step / (steps_per_epoch x every))``."""
    every = _epochs_fraction(every_epochs)
    return (step * every.denominator) // (steps_per_epoch * every.numerator)


def staircase(decay: float, every_epochs: float, steps_per_epoch: int,
              warmup_steps: int = 0) -> Callable[[int], float]:
    """The factor ``decay ** decays_after(step)`` (times a linear warm-up), for ``torch.optim.lr_scheduler.LambdaLR``.

    Args:
        decay: factor per decay, in (0, 1] (1.0: a constant rate).
        every_epochs: epochs between decays (> 0).
        steps_per_epoch: optimizer steps in one epoch (>= 1).
        warmup_steps: steps of linear warm-up from ``1 / warmup_steps`` of the rate (0: none).
    """
    check_number("lr_decay", decay, minimum=0, maximum=1, strict_minimum=True)
    check_number("lr_decay_every_epochs", every_epochs, minimum=0, strict_minimum=True)
    check_positive_int("steps_per_epoch", steps_per_epoch)

    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
        return warm * decay ** decays_after(step, steps_per_epoch, every_epochs)

    return factor


def lr_after_epochs(lr: float, decay: float, every_epochs: float, epochs: float) -> float:
    """The paper's formula: the rate after ``epochs`` whole epochs, ``lr x decay ** floor(epochs / every)``."""
    return lr * decay ** math.floor(Fraction(epochs) / _epochs_fraction(every_epochs))


def make_scheduler(optimizer: torch.optim.Optimizer,
                   factor: Callable[[int], float]) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` stepped once per optimizer step: the rate of step ``t`` is the initial rate x ``factor(t)``.

    ``factor`` is a plain function, so the scheduler's ``state_dict`` holds only numbers (checkpoints load with
    ``weights_only=True``).
    """
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
