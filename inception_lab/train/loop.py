"""The one training loop of the library: fit, evaluate, predict, for a chapter, the lab and the command line.

Every chapter that trains uses :func:`fit`; so do the lab (:func:`inception_lab.experiments.runner.run_lab`) and
``python -m inception_lab.train``. It works for any ``nn.Module`` that maps a batch of images to logits, and for
networks with auxiliary classifiers that return :class:`~inception_lab.nn.losses.AuxOutputs` in train mode: the loss
is :func:`~inception_lab.nn.losses.inception_loss` (main + ``aux_weight`` x each auxiliary head [GoogLeNet, §5]) and
accuracy always reads the main head. One step: forward, loss, backward, (clip), optimizer step, schedule step,
(average). A :class:`~inception_lab.train.recipes.TrainingRecipe` says which optimizer, schedule and regularizers;
``lr=...`` alone is a constant-rate recipe. Under ``torchrun`` the model trains as ``DistributedDataParallel``;
with ``out_dir`` the run writes checkpoints (:mod:`inception_lab.train.checkpoint`) and a metrics CSV, and
``resume=True`` continues from the last checkpoint. It returns a :class:`History` (curves to plot) and a
:class:`Receipt` (what ran, where, and how well) that the book prints under each experiment.

Chapter 2 introduces it; chapter 8 adds the recipes, checkpoints and ``torchrun``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import pathlib
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from inception_lab.checks import check_bool, check_non_negative_int, check_number, check_positive_int
from inception_lab.nn.losses import inception_loss, main_logits
from inception_lab.runtime import (
    autocast_dtype,
    describe_device,
    effective_seed,
    pick_device,
    resolve_device,
    seed_everything,
)
from inception_lab.train import checkpoint as ckpt
from inception_lab.train import distributed
from inception_lab.train.averaging import ParameterAverage
from inception_lab.train.recipes import TrainingRecipe, get_recipe

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
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


# ---------------------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------------------
def _resolve_recipe(recipe: TrainingRecipe | str | None, lr: float | None, optimizer: str | OptimizerFactory | None,
                    weight_decay: float | None, aux_weight: float | None,
                    label_smoothing: float | None) -> tuple[TrainingRecipe, OptimizerFactory | None]:
    """One recipe from either ``recipe=`` or the constant-rate arguments (never both); an optimizer factory aside."""
    loose = dict(lr=lr, optimizer=optimizer, weight_decay=weight_decay, aux_weight=aux_weight,
                 label_smoothing=label_smoothing)
    if recipe is not None:
        given = [name for name, value in loose.items() if value is not None]
        if given:
            raise ValueError(f"pass either recipe= or {given}, not both; change a recipe with "
                             f"recipe.replace({given[0]}=...).")
        return get_recipe(recipe), None
    if lr is None:
        raise ValueError("fit needs lr= (a constant rate) or recipe= (e.g. 'rethinking'; see "
                         "inception_lab.train.RECIPES).")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    check_number("lr", lr, minimum=0, strict_minimum=True)
    factory = optimizer if callable(optimizer) else None
    name = "sgd" if optimizer is None or factory is not None else optimizer
    options = dict(weight_decay=0.0 if weight_decay is None else weight_decay,
                   label_smoothing=0.0 if label_smoothing is None else label_smoothing,
                   aux_weight=0.3 if aux_weight is None else aux_weight)
    return TrainingRecipe.constant(name, float(lr), **options, name="constant"), factory


def _grad_norm_groups(model: nn.Module, prefixes: Sequence[str]) -> dict[str, list[nn.Parameter]]:
    if isinstance(prefixes, str):
        raise ValueError(f"grad_norm_layers must be a list of parameter-name prefixes, not a string; "
                         f"did you mean [{prefixes!r}]?")
    named = dict(model.named_parameters())
    groups = {prefix: [p for name, p in named.items() if name.startswith(prefix)] for prefix in prefixes}
    unknown = [prefix for prefix, params in groups.items() if not params]
    if unknown:
        tops = sorted({name.split(".")[0] for name in named})
        raise ValueError(f"grad_norm_layers {unknown} match no parameter name; top-level names: {tops}.")
    return groups


def _grad_norm(params: list[nn.Parameter]) -> float:
    """L2 norm of the concatenated gradients (parameters without a gradient this step count as zero)."""
    grads = [p.grad.detach().float().flatten() for p in params if p.grad is not None]
    return torch.cat(grads).norm().item() if grads else 0.0


# ---------------------------------------------------------------------------------------------------------
# The run: state, one step, one epoch, checkpoints
# ---------------------------------------------------------------------------------------------------------
@dataclass
class _Position:
    """Where a run is: the epoch, the step within it, the steps so far, and the epoch's running sums."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    sums: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])  # loss x n, main x n, correct, seen
    examples: int = 0  # examples of completed epochs (all processes)


class _Run:
    """Everything one :func:`fit` call trains with, and the loop over its steps."""

    def __init__(self, model: nn.Module, recipe: TrainingRecipe, factory: OptimizerFactory | None, *,
                 device: torch.device, amp_dtype: torch.dtype | None, steps_per_epoch: int, total_steps: int,
                 groups: dict[str, list[nn.Parameter]], main_loss_grad_norms: bool, channels_last: bool) -> None:
        self.procs = distributed.current()
        self.model, self.recipe, self.device, self.amp_dtype = model, recipe, device, amp_dtype
        self.channels_last = channels_last
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("the model has no trainable parameters (none with requires_grad=True).")
        self.params = params
        if factory is not None:
            self.optimizer = factory(params)
            if not isinstance(self.optimizer, torch.optim.Optimizer):
                raise ValueError(f"the optimizer factory must return a torch.optim.Optimizer, got "
                                 f"{type(self.optimizer).__name__}.")
            self.optimizer_name = type(self.optimizer).__name__
        else:
            self.optimizer, self.optimizer_name = recipe.make_optimizer(params), recipe.optimizer
        self.scheduler = recipe.make_scheduler(self.optimizer, steps_per_epoch)
        self.averager: ParameterAverage | None = recipe.make_averager(model, total_steps)
        # float16 gradients can underflow; the scaler multiplies the loss up and the gradients back down.
        self.scaler = torch.amp.GradScaler(device.type) if amp_dtype is torch.float16 else None
        self.net: nn.Module = model
        if torch.distributed.is_available() and torch.distributed.is_initialized():  # torchrun, 1 process or more
            # DistributedDataParallel averages the gradients of all processes during backward
            self.net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        self.groups, self.main_loss_grad_norms = groups, main_loss_grad_norms
        self.history = History(grad_norms={prefix: [] for prefix in groups},
                               main_grad_norms={prefix: [] for prefix in groups} if main_loss_grad_norms else {})
        self.position = _Position()
        self.steps_per_epoch, self.total_steps = steps_per_epoch, total_steps

    def step(self, images: torch.Tensor, targets: torch.Tensor) -> None:
        """One optimizer step on one batch, and its metrics."""
        images, targets = images.to(self.device), targets.to(self.device)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        recipe, history = self.recipe, self.history
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            outputs = self.net(images)
            loss = inception_loss(outputs, targets, aux_weight=recipe.aux_weight,
                                  label_smoothing=recipe.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        if self.main_loss_grad_norms:
            self._record_main_grad_norms(outputs, targets, loss)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)  # true gradients: for the recorded norms and for clipping
        else:
            loss.backward()
        for prefix, params in self.groups.items():
            history.grad_norms[prefix].append(_grad_norm(params))
        if recipe.grad_clip_norm is not None:  # "gradient clipping with threshold 2.0" [Rethinking, §8]
            total = torch.nn.utils.clip_grad_norm_(self.params, recipe.grad_clip_norm)
            history.total_grad_norm.append(total.item())
        history.lr.append(self.optimizer.param_groups[0]["lr"])
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        pos = self.position
        pos.global_step += 1
        pos.step_in_epoch += 1
        if self.averager is not None:
            self.averager.maybe_update(self.model, pos.global_step)
        with torch.no_grad():
            logits = main_logits(outputs).float()
            n = targets.shape[0]
            step_loss = loss.item()
            pos.sums[0] += step_loss * n
            pos.sums[1] += F.cross_entropy(logits, targets).item() * n
            pos.sums[2] += (logits.argmax(1) == targets).sum().item()
            pos.sums[3] += n
        history.step_loss.append(step_loss)

    def _record_main_grad_norms(self, outputs: object, targets: torch.Tensor, loss: torch.Tensor) -> None:
        """Append the gradient norm of the main head's loss alone, per prefix, to ``history.main_grad_norms``.

        ``torch.autograd.grad`` with ``retain_graph=True`` leaves ``.grad`` untouched, so training is unchanged.
        """
        logits = main_logits(outputs)
        main = loss if logits is outputs else inception_loss(logits, targets,
                                                             label_smoothing=self.recipe.label_smoothing)
        scale = 1.0
        if self.scaler is not None:
            scale = self.scaler.get_scale()
            main = main * scale
        every = [p for params in self.groups.values() for p in params]  # one backward pass for all prefixes
        grads = iter(torch.autograd.grad(main, every, retain_graph=True, allow_unused=True))
        for prefix, params in self.groups.items():
            flat = [g.detach().float().flatten() for g in (next(grads) for _ in params) if g is not None]
            self.history.main_grad_norms[prefix].append(torch.cat(flat).norm().item() / scale if flat else 0.0)

    def end_epoch(self, val_loader: DataLoader | None) -> None:
        """Epoch means over all processes into the history; validation of the raw (and averaged) weights."""
        pos, history = self.position, self.history
        loss_sum, main_sum, correct, seen = distributed.all_sum(pos.sums, self.device)
        history.train_loss.append(loss_sum / seen)
        history.train_main_loss.append(main_sum / seen)
        history.train_acc.append(correct / seen)
        pos.examples += int(seen)
        if val_loader is not None:
            scores = None
            if self.procs.is_main:  # one process scores the whole validation set
                scores = [evaluate(self.model, val_loader, device=self.device)]
                if self.averager is not None:
                    scores.append(evaluate(self.averager.module, val_loader, device=self.device))
            scores = distributed.from_main(scores)
            history.val_loss.append(scores[0]["loss"])
            history.val_acc.append(scores[0]["accuracy"])
            if len(scores) > 1:
                history.val_loss_averaged.append(scores[1]["loss"])
                history.val_acc_averaged.append(scores[1]["accuracy"])
        pos.epoch += 1
        pos.step_in_epoch = 0
        pos.sums = [0.0, 0.0, 0.0, 0.0]

    # ---- checkpoints ----------------------------------------------------------------------------------------
    def state(self, run: Mapping[str, Any], loader: DataLoader, wall_time_s: float) -> dict[str, Any] | None:
        """The checkpoint's content (on rank 0; ``None`` on the others, which contribute their random states)."""
        generator = loader.generator.get_state() if loader.generator is not None else None
        rngs = distributed.gather((ckpt.rng_state(), generator))
        if not self.procs.is_main:
            return None
        return dict(format=ckpt.FORMAT_VERSION, run=dict(run), position=dataclasses.asdict(self.position),
                    model=self.model.state_dict(), optimizer=self.optimizer.state_dict(),
                    scheduler=self.scheduler.state_dict(),
                    averager=None if self.averager is None else self.averager.state_dict(),
                    scaler=None if self.scaler is None else self.scaler.state_dict(),
                    history=dataclasses.asdict(self.history), rng=[r for r, _ in rngs],
                    loader_generator=[g for _, g in rngs], wall_time_s=wall_time_s)

    def load_state(self, saved: Mapping[str, Any]) -> tuple[Any, Any]:
        """Restore a checkpoint's state; returns this process's (random states, loader generator state)."""
        if len(saved["rng"]) != self.procs.world_size:
            raise ckpt.CheckpointError(f"the checkpoint was written by {len(saved['rng'])} process(es); resume it "
                                       f"with the same number (this run has {self.procs.world_size}).")
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        if self.averager is not None:
            self.averager.load_state_dict(saved["averager"])
        if self.scaler is not None and saved["scaler"] is not None:
            self.scaler.load_state_dict(saved["scaler"])
        self.position = _Position(**saved["position"])
        self.history = History(**saved["history"])
        rank = self.procs.rank
        return saved["rng"][rank], saved["loader_generator"][rank]


def _run_signature(model: nn.Module, recipe: TrainingRecipe, seed: int, loader: DataLoader,
                   run_info: Mapping[str, Any] | None) -> dict[str, Any]:
    """What must match for a checkpoint to continue this run (epochs may grow: the schedule is per epoch)."""
    settings = {k: v for k, v in recipe.to_dict().items() if k != "sources"}
    return dict(model=type(model).__name__, parameters=sum(p.numel() for p in model.parameters()),
                recipe=settings, seed=seed, batch_size=loader.batch_size, processes=distributed.current().world_size,
                steps_per_epoch=len(loader), **dict(run_info or {}))


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


def _tensorboard(out_dir: pathlib.Path | None, is_main: bool) -> Any:
    """A TensorBoard ``SummaryWriter`` under ``out_dir/tensorboard`` when tensorboard is installed, else ``None``."""
    if out_dir is None or not is_main:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional; the CSV always has the same numbers
        return None
    return SummaryWriter(log_dir=str(out_dir / "tensorboard"))


def fit(model: nn.Module, train_loader: DataLoader, *, epochs: int, lr: float | None = None,
        optimizer: str | OptimizerFactory | None = None, weight_decay: float | None = None,
        aux_weight: float | None = None, val_loader: DataLoader | None = None,
        device: str | torch.device | None = None, amp: bool | None = None, seed: int = 0, progress: bool = True,
        grad_norm_layers: Sequence[str] | None = None, max_steps: int | None = None,
        label_smoothing: float | None = None, main_loss_grad_norms: bool = False,
        recipe: TrainingRecipe | str | None = None, out_dir: str | os.PathLike[str] | None = None,
        checkpoint_every: int | None = None, resume: bool = False, run_info: Mapping[str, Any] | None = None,
        channels_last: bool = False) -> FitResult:
    """Train ``model`` on ``train_loader`` with cross-entropy, auxiliary heads weighted, as a recipe says.

    One step: forward in train mode, ``inception_loss(outputs, target, aux_weight)`` (total = main +
    0.3 x aux1 + 0.3 x aux2 for GoogLeNet [GoogLeNet, §5]), backward, record gradient norms, clip (when the recipe
    clips), optimiser step, schedule step, update the averaged weights (when the recipe averages). After each
    epoch, :func:`evaluate` on ``val_loader`` (and on the averaged weights). The model is moved to ``device`` and
    left in train mode there.

    Args:
        model: any module mapping (N, C, H, W) images to (N, K) logits, or to ``AuxOutputs`` in train mode.
        train_loader: yields ``(images, targets)`` batches (under ``torchrun``: this process's share, from an
            :class:`~inception_lab.train.distributed.EpochSampler`).
        epochs: passes over ``train_loader`` (>= 1).
        lr: a constant learning rate (> 0), for a run without ``recipe``.
        optimizer: without ``recipe``: ``"sgd"`` (the default; momentum 0.9, as in [GoogLeNet, §6]), ``"adam"``,
            ``"rmsprop_tf"`` ... (:data:`inception_lab.train.optim.OPTIMIZERS`), or a factory
            ``params -> torch.optim.Optimizer`` (then ``lr`` and ``weight_decay`` are the factory's business,
            and ``lr`` is only recorded on the receipt).
        weight_decay: without ``recipe``: L2 penalty passed to the built-in optimisers (>= 0; default 0).
        aux_weight: without ``recipe``: weight of each auxiliary head's loss (>= 0; default 0.3 as in the paper).
        val_loader: evaluated after every epoch when given.
        device: ``"cuda"``, ``"mps"``, ``"cpu"``, a ``torch.device``, or ``None`` for
            :func:`~inception_lab.runtime.pick_device` (CUDA, then MPS, then CPU).
        amp: mixed precision (autocast) on CUDA: ``None`` = on when the device is CUDA, ``True`` likewise,
            ``False`` = off. bfloat16 where the GPU supports it, else float16 with loss scaling. A no-op on CPU
            and MPS (they train in float32).
        seed: seeds Python, NumPy and torch (:func:`~inception_lab.runtime.seed_everything`; process ``r`` of a
            ``torchrun`` run with ``seed + r``, so dropout masks differ between processes) and the training
            loader's shuffling generator, if it has one, before training. ``INCEPTION_LAB_SEED=K`` shifts it by
            ``K`` (:func:`~inception_lab.runtime.effective_seed`); the receipt records the seed actually used. The
            model's initial weights are the caller's: seed before building it.
        progress: show a ``tqdm.auto`` bar (on rank 0 only). Its timings change from run to run, so notebooks
            checked by nbval pass ``progress=False``.
        grad_norm_layers: parameter-name prefixes (e.g. ``["conv1", "inception3a"]``) whose gradient norm is
            recorded at every step in ``History.grad_norms``.
        max_steps: stop after this many optimiser steps in total (the last epoch is then partial).
        label_smoothing: without ``recipe``: epsilon of label-smoothing regularization, in [0, 1) [Rethinking,
            §7: 0.1]; 0 (the default) = plain cross-entropy. The recorded ``train_main_loss`` and the validation
            loss stay the plain cross-entropy, so runs with and without smoothing compare on the same scale.
        main_loss_grad_norms: also record, for the same prefixes, the gradient norm of the main head's loss
            alone (``History.main_grad_norms``). With auxiliary heads the objective is main + 0.3 x aux1 + 0.3 x
            aux2, so part of a larger gradient is there by construction; this is the control that leaves the
            heads' terms out. Costs one extra partial backward pass per step for models with heads.
        recipe: a :class:`~inception_lab.train.recipes.TrainingRecipe` or the name of one in
            :data:`~inception_lab.train.recipes.RECIPES` (e.g. ``"rethinking"``): optimizer, schedule, clipping,
            averaging, label smoothing, auxiliary weight. Exclusive with ``lr``/``optimizer``/``weight_decay``/
            ``aux_weight``/``label_smoothing``.
        out_dir: folder for ``checkpoint.pt`` (every ``checkpoint_every`` steps, at each epoch's end and at the
            end), ``metrics.csv`` (one row per epoch) and TensorBoard logs when tensorboard is installed.
        checkpoint_every: also checkpoint every this many optimiser steps (needs ``out_dir``).
        resume: continue from ``out_dir/checkpoint.pt``; the checkpoint must come from the same run (model,
            recipe, seed, batch size, processes, ``run_info``), else a clear error. Mid-epoch resumption needs the
            loader's sampler to be an :class:`~inception_lab.train.distributed.EpochSampler`.
        run_info: more settings that identify the run for ``resume`` (the command line passes preset and data).
        channels_last: train in ``channels_last`` memory format (model and batches): faster on GPUs and many CPUs.

    Returns:
        ``FitResult(history, receipt)``.

    Raises:
        ValueError: for an invalid argument (the message says what is allowed);
        :class:`~inception_lab.train.checkpoint.CheckpointError` for a checkpoint that cannot be resumed.
    """
    recipe, factory = _resolve_recipe(recipe, lr, optimizer, weight_decay, aux_weight, label_smoothing)
    check_positive_int("epochs", epochs)
    if max_steps is not None:
        check_positive_int("max_steps", max_steps)
    check_non_negative_int("seed", seed)
    check_bool("main_loss_grad_norms", main_loss_grad_norms)
    check_bool("resume", resume)
    if len(train_loader) == 0:
        raise ValueError("train_loader yields no batches (empty dataset, or drop_last with a small dataset).")
    out_dir = None if out_dir is None else pathlib.Path(out_dir)
    if (checkpoint_every is not None or resume) and out_dir is None:
        raise ValueError("checkpoint_every and resume need out_dir (the folder of checkpoint.pt).")
    if checkpoint_every is not None:
        check_positive_int("checkpoint_every", checkpoint_every)
    device = resolve_device(device)
    amp_dtype = autocast_dtype(amp, device)
    groups = _grad_norm_groups(model, grad_norm_layers or [])
    if main_loss_grad_norms and not groups:
        raise ValueError("main_loss_grad_norms=True needs grad_norm_layers (the prefixes whose norms to record).")
    procs = distributed.current()

    seed_everything(seed + procs.rank)  # dropout masks, and the shuffling of loaders without their own generator
    seed = effective_seed(seed)  # what seed_everything used (INCEPTION_LAB_SEED shifts it); the receipt records it
    if train_loader.generator is not None:
        train_loader.generator.manual_seed(seed)  # same seed, same batch order, even when a loader is reused
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    steps_per_epoch = len(train_loader)
    total = epochs * steps_per_epoch if max_steps is None else min(max_steps, epochs * steps_per_epoch)
    run = _Run(model, recipe, factory, device=device, amp_dtype=amp_dtype, steps_per_epoch=steps_per_epoch,
               total_steps=total, groups=groups, main_loss_grad_norms=main_loss_grad_norms,
               channels_last=channels_last)
    signature = _run_signature(model, recipe, seed, train_loader, run_info)
    checkpoint_path = None if out_dir is None else out_dir / ckpt.CHECKPOINT_NAME
    pending_rng, elapsed = None, 0.0
    if resume:
        saved = ckpt.load(checkpoint_path)
        ckpt.check_same_run(saved["run"], signature, checkpoint_path)
        pending_rng, elapsed = run.load_state(saved), saved["wall_time_s"]
    writer = _tensorboard(out_dir, procs.is_main)
    start = time.perf_counter() - elapsed

    def save() -> None:
        if checkpoint_path is not None:
            payload = run.state(signature, train_loader, time.perf_counter() - start)
            if payload is not None:
                ckpt.save_atomic(payload, checkpoint_path)
            distributed.barrier()

    pos = run.position
    bar = tqdm(total=total, initial=pos.global_step, desc="training", unit="step",
               disable=not progress or not procs.is_main, file=sys.stderr)
    if pending_rng is not None and pos.step_in_epoch == 0:
        _restore_rng(pending_rng, train_loader)  # at an epoch boundary: before the epoch draws anything
        pending_rng = None
    while pos.epoch < epochs and pos.global_step < total:
        run.model.train()
        sampler = train_loader.sampler
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(pos.epoch)  # DistributedSampler/EpochSampler: a new order every epoch
        if pos.step_in_epoch:
            if not hasattr(sampler, "set_start"):
                raise ckpt.CheckpointError("resuming mid-epoch needs a loader whose sampler can start part-way "
                                           "(inception_lab.train.distributed.EpochSampler).")
            sampler.set_start(pos.step_in_epoch * train_loader.batch_size)
        epoch_start = time.perf_counter()
        batches = iter(train_loader)
        if pending_rng is not None:  # mid-epoch: the interrupted run had drawn the iterator's seed already
            _restore_rng(pending_rng, train_loader)
            pending_rng = None
        for images, targets in batches:
            run.step(images, targets)
            bar.update(1)
            bar.set_postfix(epoch=pos.epoch + 1, loss=f"{run.history.step_loss[-1]:.3f}", refresh=False)
            if checkpoint_every is not None and pos.global_step % checkpoint_every == 0:
                save()
            if pos.global_step >= total:
                break
        if run.device.type == "cuda":
            torch.cuda.synchronize(run.device)
        run.history.epoch_time_s.append(time.perf_counter() - epoch_start)
        run.end_epoch(val_loader)
        if run.history.val_acc:
            bar.set_postfix(epoch=pos.epoch, val_acc=f"{run.history.val_acc[-1]:.3f}")
        save()
        if out_dir is not None and procs.is_main:
            write_metrics_csv(run.history, out_dir / METRICS_NAME)
            if writer is not None:
                for key in ("train_loss", "train_acc", "val_loss", "val_acc", "val_acc_averaged"):
                    if getattr(run.history, key):
                        writer.add_scalar(key, getattr(run.history, key)[-1], pos.epoch)
    bar.close()
    if writer is not None:
        writer.close()
    return FitResult(run.history, _receipt(run, seed, time.perf_counter() - start))


def _restore_rng(saved: tuple[Any, Any], loader: DataLoader) -> None:
    rng, generator = saved
    ckpt.set_rng_state(rng)
    if generator is not None and loader.generator is not None:
        loader.generator.set_state(generator)


def _receipt(run: _Run, seed: int, wall: float) -> Receipt:
    history = run.history
    metrics = {"train_loss": history.train_loss[-1], "train_acc": history.train_acc[-1]}
    if history.val_loss:
        metrics.update(val_loss=history.val_loss[-1], val_acc=history.val_acc[-1])
    if history.val_acc_averaged:
        metrics.update(val_loss_averaged=history.val_loss_averaged[-1], val_acc_averaged=history.val_acc_averaged[-1])
    recipe = run.recipe
    return Receipt(seed=seed, device=describe_device(run.device), torch_version=torch.__version__,
                   amp="off" if run.amp_dtype is None else str(run.amp_dtype).removeprefix("torch."),
                   optimizer=run.optimizer_name, lr=float(recipe.lr), epochs=run.position.epoch,
                   steps=run.position.global_step, examples=run.position.examples, wall_time_s=wall,
                   metrics=metrics, recipe="" if recipe.name == "constant" else recipe.name,
                   processes=run.procs.world_size)


class _EvalMode:
    """Context manager: every submodule in eval mode inside, each one's own previous mode restored on exit."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.modes: dict[nn.Module, bool] = {}

    def __enter__(self) -> None:
        self.modes = {m: m.training for m in self.model.modules()}
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        for module, mode in self.modes.items():
            module.training = mode


def predict(model: nn.Module, loader: DataLoader,
            device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Main-head logits and targets for every batch of ``loader``, in eval mode without gradients.

    The model is moved to ``device`` (``None``: the device of its first parameter, else
    :func:`~inception_lab.runtime.pick_device`); each submodule's train/eval mode is restored afterwards.

    Returns:
        ``(logits, targets)``: (N, K) float32 and (N,) on the CPU.
    """
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else pick_device()
    device = resolve_device(device)
    model.to(device)
    all_logits, all_targets = [], []
    with _EvalMode(model), torch.no_grad():
        for images, targets in loader:
            all_logits.append(main_logits(model(images.to(device))).float().cpu())
            all_targets.append(targets.cpu())
    if not all_logits:
        raise ValueError("loader yields no batches.")
    return torch.cat(all_logits), torch.cat(all_targets)


def evaluate(model: nn.Module, loader: DataLoader, device: str | torch.device | None = None) -> dict[str, float]:
    """Main-head cross-entropy and accuracy over ``loader``, in eval mode without gradients.

    Auxiliary heads are discarded at inference [GoogLeNet, §5], so only the main head counts. The model's
    train/eval mode (of every submodule) is the same after the call as before. See :func:`predict` for
    ``device``.

    Returns:
        ``{"loss": mean cross-entropy per example, "accuracy": fraction correct}``.
    """
    logits, targets = predict(model, loader, device=device)
    return {"loss": F.cross_entropy(logits, targets).item(),
            "accuracy": (logits.argmax(1) == targets).float().mean().item()}
