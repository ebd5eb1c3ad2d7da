"""What a training run leaves behind: its :class:`History` (curves), its :class:`Receipt`, its metrics CSV."""

from __future__ import annotations

import csv
import io
import os
import pathlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

#: The metrics CSV inside a run's output folder, one row per epoch.
METRICS_NAME = "metrics.csv"


@dataclass
class History:
    """What happened during :func:`fit`, as plain lists ready to plot.

    Attributes:
        train_loss: per epoch, the mean of the objective being minimised (main cross-entropy plus
            ``aux_weight`` x the auxiliary heads' cross-entropies, when the model has them).
        train_main_loss: per epoch, the mean cross-entropy of the main head alone; comparable between models
            with and without auxiliary heads (equal to ``train_loss`` for a model without them).
        train_acc: per epoch, the fraction of training examples whose main-head prediction was right, measured
            on the fly in train mode (dropout on), so it lags a little behind an eval-mode measurement.
        val_loss: per epoch, the main head's cross-entropy on ``val_loader`` in eval mode (empty without one).
        val_acc: per epoch, accuracy on ``val_loader`` in eval mode (empty without one).
        step_loss: per optimiser step, the objective on that batch (this process's share under ``torchrun``).
        grad_norms: for each prefix in ``grad_norm_layers``, per step, the L2 norm of the gradient of all
            parameters whose name starts with that prefix (measured before the optimiser step).
        main_grad_norms: with ``fit(..., main_loss_grad_norms=True)``, the same norms for the gradient of the
            main head's loss alone: the control for auxiliary heads, whose own terms it leaves out (equal to
            ``grad_norms`` for a model without them). Empty otherwise.
        lr: per step, the learning rate the optimiser used.
        total_grad_norm: per step, the global gradient norm before clipping (recipes that clip; else empty).
        val_loss_averaged, val_acc_averaged: per epoch, the same as ``val_loss``/``val_acc`` for the averaged
            weights (recipes with parameter averaging; else empty).
        epoch_time_s: per epoch, wall seconds of its training steps (evaluation and checkpoints left out; not
            compared by ``==``, since it changes from run to run).
    """

    train_loss: list[float] = field(default_factory=list)
    train_main_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)
    main_grad_norms: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    total_grad_norm: list[float] = field(default_factory=list)
    val_loss_averaged: list[float] = field(default_factory=list)
    val_acc_averaged: list[float] = field(default_factory=list)
    epoch_time_s: list[float] = field(default_factory=list, compare=False)


@dataclass
class Receipt:
    """A record of one :func:`fit` run that the book prints: what ran, where, and the final metrics.

    ``str(receipt)`` gives every field, the wall time on its own last line (notebooks tag that line's cell
    ``nbval-ignore-output`` or print ``receipt.format(timing=False)``). ``metrics`` holds the last epoch's
    ``train_loss``, ``train_acc`` and, with a validation loader, ``val_loss`` and ``val_acc`` (and
    ``val_acc_averaged`` with parameter averaging).
    """

    seed: int
    device: str
    torch_version: str
    amp: str  # "off", "bfloat16" or "float16"
    optimizer: str
    lr: float
    epochs: int  # epochs run (the last one may be partial when max_steps stopped it)
    steps: int  # optimiser steps taken
    examples: int  # training examples seen (all processes)
    wall_time_s: float
    metrics: dict[str, float]
    recipe: str = ""  # the training recipe's name ("" for a constant rate given as fit(lr=...))
    processes: int = 1  # data-parallel processes (torchrun)

    def format(self, timing: bool = True, environment: bool = True) -> str:
        """The receipt as text.

        Args:
            timing: include the wall-time line (it changes from run to run).
            environment: include the device and torch-version line (it changes from machine to machine).
        """
        recipe = f"recipe {self.recipe}: " if self.recipe else ""
        lines = [f"seed {self.seed} | {recipe}{self.optimizer} lr={self.lr:g} | {self.epochs} epoch(s), "
                 f"{self.steps} steps, {self.examples} examples | amp {self.amp}"]
        if environment:
            procs = f" x {self.processes} processes" if self.processes > 1 else ""
            lines.append(f"device {self.device}{procs} | torch {self.torch_version}")
        parts = []
        for split in ("train", "val"):
            if f"{split}_loss" in self.metrics:
                parts.append(f"{split} loss {self.metrics[f'{split}_loss']:.4f}, "
                             f"{split} accuracy {100 * self.metrics[f'{split}_acc']:.1f} %")
        if "val_acc_averaged" in self.metrics:
            parts.append(f"averaged weights {100 * self.metrics['val_acc_averaged']:.1f} %")
        lines.append(" | ".join(parts))
        if timing:
            lines.append(f"wall time {self.wall_time_s:.1f} s")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


class FitResult(NamedTuple):
    """What :func:`fit` returns; unpack it as ``history, receipt = fit(...)``."""

    history: History
    receipt: Receipt


def write_metrics_csv(history: History, path: str | os.PathLike[str]) -> None:
    """One row per epoch of ``history`` (written whole and atomically, so a resumed run never duplicates rows)."""
    columns = ["epoch", "train_loss", "train_main_loss", "train_acc", "val_loss", "val_acc", "val_loss_averaged",
               "val_acc_averaged"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for i in range(len(history.train_loss)):
        row = [i + 1] + [getattr(history, c)[i] if i < len(getattr(history, c)) else "" for c in columns[1:]]
        writer.writerow(row)
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buffer.getvalue())
    os.replace(tmp, path)


def tensorboard_writer(out_dir: pathlib.Path | None, is_main: bool) -> Any:
    """A TensorBoard ``SummaryWriter`` under ``out_dir/tensorboard`` when tensorboard is installed, else ``None``."""
    if out_dir is None or not is_main:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional; the CSV always has the same numbers
        return None
    return SummaryWriter(log_dir=str(out_dir / "tensorboard"))
