"""A small, readable training loop that knows nothing about the model: fit, evaluate, predict.

Every chapter that trains uses :func:`fit`. It works for any ``nn.Module`` that maps a batch of images to
logits, and for networks with auxiliary classifiers that return :class:`~inception_lab.nn.losses.AuxOutputs` in
train mode: the loss is :func:`~inception_lab.nn.losses.inception_loss` (main + ``aux_weight`` x each auxiliary
head [GoogLeNet, §5]) and accuracy always reads the main head. It returns a :class:`History` (curves to plot) and
a :class:`Receipt` (what ran, where, and how well) that the book prints under each experiment.

Chapter 2 introduces it.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from inception_lab.checks import check_non_negative_int, check_positive_int
from inception_lab.nn.losses import inception_loss, main_logits
from inception_lab.runtime import describe_device, effective_seed, pick_device, seed_everything

OPTIMIZERS = ("sgd", "adam")
#: SGD momentum: "asynchronous stochastic gradient descent with 0.9 momentum" [GoogLeNet, §6].
SGD_MOMENTUM = 0.9

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


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
        step_loss: per optimiser step, the objective on that batch.
        grad_norms: for each prefix in ``grad_norm_layers``, per step, the L2 norm of the gradient of all
            parameters whose name starts with that prefix (measured before the optimiser step).
        main_grad_norms: with ``fit(..., main_loss_grad_norms=True)``, the same norms for the gradient of the
            main head's loss alone: the control for auxiliary heads, whose own terms it leaves out (equal to
            ``grad_norms`` for a model without them). Empty otherwise.
    """

    train_loss: list[float] = field(default_factory=list)
    train_main_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)
    main_grad_norms: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Receipt:
    """A record of one :func:`fit` run that the book prints: what ran, where, and the final metrics.

    ``str(receipt)`` gives every field, the wall time on its own last line (notebooks tag that line's cell
    ``nbval-ignore-output`` or print ``receipt.format(timing=False)``). ``metrics`` holds the last epoch's
    ``train_loss``, ``train_acc`` and, with a validation loader, ``val_loss`` and ``val_acc``.
    """

    seed: int
    device: str
    torch_version: str
    amp: str  # "off", "bfloat16" or "float16"
    optimizer: str
    lr: float
    epochs: int  # epochs run (the last one may be partial when max_steps stopped it)
    steps: int  # optimiser steps taken
    examples: int  # training examples seen
    wall_time_s: float
    metrics: dict[str, float]

    def format(self, timing: bool = True, environment: bool = True) -> str:
        """The receipt as text.

        Args:
            timing: include the wall-time line (it changes from run to run).
            environment: include the device and torch-version line (it changes from machine to machine).
        """
        lines = [f"seed {self.seed} | {self.optimizer} lr={self.lr:g} | {self.epochs} epoch(s), "
                 f"{self.steps} steps, {self.examples} examples | amp {self.amp}"]
        if environment:
            lines.append(f"device {self.device} | torch {self.torch_version}")
        parts = []
        for split in ("train", "val"):
            if f"{split}_loss" in self.metrics:
                parts.append(f"{split} loss {self.metrics[f'{split}_loss']:.4f}, "
                             f"{split} accuracy {100 * self.metrics[f'{split}_acc']:.1f} %")
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


def _resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return pick_device()
    if isinstance(device, torch.device):
        return device
    if isinstance(device, str):
        return torch.device(device)
    raise ValueError(f"device must be None (auto), a string such as 'cpu' or 'cuda', or a torch.device; "
                     f"got {device!r}.")


def _amp_dtype(amp: bool | None, device: torch.device) -> torch.dtype | None:
    """Autocast dtype: on CUDA only (amp=None means on), bfloat16 where supported, else float16; else None."""
    if amp is not None and not isinstance(amp, bool):
        raise ValueError(f"amp must be True, False or None (auto: on for CUDA), got {amp!r}.")
    if amp is False or device.type != "cuda":
        return None  # CPU and MPS train in float32: autocast there is slow or partial
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _make_optimizer(model: nn.Module, optimizer: str | OptimizerFactory, lr: float,
                    weight_decay: float) -> tuple[torch.optim.Optimizer, str]:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters (none with requires_grad=True).")
    if callable(optimizer):
        opt = optimizer(params)
        if not isinstance(opt, torch.optim.Optimizer):
            raise ValueError(f"the optimizer factory must return a torch.optim.Optimizer, got {type(opt).__name__}.")
        return opt, type(opt).__name__
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=SGD_MOMENTUM, weight_decay=weight_decay), "sgd"
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay), "adam"
    raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {OPTIMIZERS} or pass a factory "
                     f"params -> torch.optim.Optimizer.")


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


def _record_main_grad_norms(history: History, groups: dict[str, list[nn.Parameter]], outputs: object,
                            targets: torch.Tensor, loss: torch.Tensor, label_smoothing: float,
                            scaler: torch.amp.GradScaler | None) -> None:
    """Append the gradient norm of the main head's loss alone, per prefix, to ``history.main_grad_norms``.

    ``torch.autograd.grad`` with ``retain_graph=True`` leaves ``.grad`` untouched, so training is unchanged.
    """
    logits = main_logits(outputs)
    main = loss if logits is outputs else inception_loss(logits, targets, label_smoothing=label_smoothing)
    scale = 1.0
    if scaler is not None:
        scale = scaler.get_scale()
        main = main * scale
    every = [p for params in groups.values() for p in params]  # one backward pass for all prefixes
    grads = iter(torch.autograd.grad(main, every, retain_graph=True, allow_unused=True))
    for prefix, params in groups.items():
        flat = [g.detach().float().flatten() for g in (next(grads) for _ in params) if g is not None]
        history.main_grad_norms[prefix].append(torch.cat(flat).norm().item() / scale if flat else 0.0)


def fit(model: nn.Module, train_loader: DataLoader, *, epochs: int, lr: float,
        optimizer: str | OptimizerFactory = "sgd", weight_decay: float = 0.0, aux_weight: float = 0.3,
        val_loader: DataLoader | None = None, device: str | torch.device | None = None,
        amp: bool | None = None, seed: int = 0, progress: bool = True,
        grad_norm_layers: Sequence[str] | None = None, max_steps: int | None = None,
        label_smoothing: float = 0.0, main_loss_grad_norms: bool = False) -> FitResult:
    """Train ``model`` on ``train_loader`` with cross-entropy, auxiliary heads weighted by ``aux_weight``.

    One step: forward in train mode, ``inception_loss(outputs, target, aux_weight)`` (total = main +
    0.3 x aux1 + 0.3 x aux2 for GoogLeNet [GoogLeNet, §5]), backward, record gradient norms, optimiser step.
    After each epoch, :func:`evaluate` on ``val_loader`` when given. The model is moved to ``device`` and left in
    train mode there.

    Args:
        model: any module mapping (N, C, H, W) images to (N, K) logits, or to ``AuxOutputs`` in train mode.
        train_loader: yields ``(images, targets)`` batches.
        epochs: passes over ``train_loader`` (>= 1).
        lr: learning rate (> 0), constant throughout.
        optimizer: ``"sgd"`` (momentum 0.9, as in [GoogLeNet, §6]), ``"adam"``, or a factory
            ``params -> torch.optim.Optimizer`` (then ``lr`` and ``weight_decay`` are the factory's business,
            and ``lr`` is only recorded on the receipt).
        weight_decay: L2 penalty passed to the built-in optimisers (>= 0).
        aux_weight: weight of each auxiliary head's loss (>= 0; 0.3 in the paper, ignored for plain logits).
        val_loader: evaluated after every epoch when given.
        device: ``"cuda"``, ``"mps"``, ``"cpu"``, a ``torch.device``, or ``None`` for
            :func:`~inception_lab.runtime.pick_device` (CUDA, then MPS, then CPU).
        amp: mixed precision (autocast) on CUDA: ``None`` = on when the device is CUDA, ``True`` likewise,
            ``False`` = off. bfloat16 where the GPU supports it, else float16 with loss scaling. A no-op on CPU
            and MPS (they train in float32).
        seed: seeds Python, NumPy and torch (:func:`~inception_lab.runtime.seed_everything`) and the training
            loader's shuffling generator, if it has one, before training. The environment variable
            ``INCEPTION_LAB_SEED=K`` shifts it by ``K`` (:func:`~inception_lab.runtime.effective_seed`); the
            receipt records the seed actually used. The model's initial weights are the
            caller's: seed before building it.
        progress: show a ``tqdm.auto`` bar (a widget in Jupyter, stderr elsewhere). Its timings change from run
            to run, so notebooks checked by nbval pass ``progress=False``.
        grad_norm_layers: parameter-name prefixes (e.g. ``["conv1", "inception3a"]``) whose gradient norm is
            recorded at every step in ``History.grad_norms``.
        max_steps: stop after this many optimiser steps in total (the last epoch is then partial).
        label_smoothing: epsilon of label-smoothing regularization, in [0, 1): every head is trained towards
            ``(1 - eps) * one_hot + eps / K`` [Rethinking, §7: eps = 0.1]; 0 = plain cross-entropy. Passed to
            :func:`~inception_lab.nn.losses.inception_loss`. The recorded ``train_main_loss`` and the validation loss
            stay the plain cross-entropy, so runs with and without smoothing compare on the same scale.
        main_loss_grad_norms: also record, for the same prefixes, the gradient norm of the main head's loss
            alone (``History.main_grad_norms``). With auxiliary heads the objective is main + 0.3 x aux1 + 0.3 x
            aux2, so part of a larger gradient is there by construction; this is the control that leaves the
            heads' terms out. Costs one extra partial backward pass per step for models with heads.

    Returns:
        ``FitResult(history, receipt)``.

    Raises:
        ValueError: for an invalid argument (the message says what is allowed).
    """
    check_positive_int("epochs", epochs)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or weight_decay < 0:
        raise ValueError(f"weight_decay must be a number >= 0, got {weight_decay!r}.")
    if isinstance(aux_weight, bool) or not isinstance(aux_weight, (int, float)) or aux_weight < 0:
        raise ValueError(f"aux_weight must be a number >= 0, got {aux_weight!r}.")
    if max_steps is not None:
        check_positive_int("max_steps", max_steps)
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
            or not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be a number in [0, 1) (0.1 in the paper), got {label_smoothing!r}.")
    check_non_negative_int("seed", seed)
    if len(train_loader) == 0:
        raise ValueError("train_loader yields no batches (empty dataset, or drop_last with a small dataset).")
    device = _resolve_device(device)
    amp_dtype = _amp_dtype(amp, device)
    groups = _grad_norm_groups(model, grad_norm_layers or [])
    if not isinstance(main_loss_grad_norms, bool):
        raise ValueError(f"main_loss_grad_norms must be True or False, got {main_loss_grad_norms!r}.")
    if main_loss_grad_norms and not groups:
        raise ValueError("main_loss_grad_norms=True needs grad_norm_layers (the prefixes whose norms to record).")

    seed_everything(seed)  # dropout masks, and the shuffling of loaders without their own generator
    seed = effective_seed(seed)  # what seed_everything used (INCEPTION_LAB_SEED shifts it); the receipt records it
    if train_loader.generator is not None:
        train_loader.generator.manual_seed(seed)  # same seed, same batch order, even when a loader is reused
    model.to(device)
    opt, opt_name = _make_optimizer(model, optimizer, lr, weight_decay)
    # float16 gradients can underflow; the scaler multiplies the loss up and the gradients back down.
    scaler = torch.amp.GradScaler("cuda") if amp_dtype is torch.float16 else None

    history = History(grad_norms={prefix: [] for prefix in groups},
                      main_grad_norms={prefix: [] for prefix in groups} if main_loss_grad_norms else {})
    steps = examples = epochs_run = 0
    start = time.perf_counter()
    total = epochs * len(train_loader) if max_steps is None else min(max_steps, epochs * len(train_loader))
    bar = tqdm(total=total, desc="training", unit="step", disable=not progress, file=sys.stderr)
    for epoch in range(epochs):
        model.train()
        sum_loss = sum_main = 0.0
        correct = seen = 0
        for images, targets in train_loader:
            images, targets = images.to(device), targets.to(device)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                outputs = model(images)
                loss = inception_loss(outputs, targets, aux_weight=aux_weight, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            if main_loss_grad_norms:
                _record_main_grad_norms(history, groups, outputs, targets, loss, label_smoothing, scaler)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(opt)  # so that the recorded gradient norms are the true ones
            else:
                loss.backward()
            for prefix, params in groups.items():
                history.grad_norms[prefix].append(_grad_norm(params))
            if scaler is not None:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()

            with torch.no_grad():
                logits = main_logits(outputs).float()
                n = targets.shape[0]
                step_loss = loss.item()
                sum_loss += step_loss * n
                sum_main += F.cross_entropy(logits, targets).item() * n
                correct += (logits.argmax(1) == targets).sum().item()
                seen += n
            history.step_loss.append(step_loss)
            steps += 1
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{step_loss:.3f}", refresh=False)
            if max_steps is not None and steps >= max_steps:
                break
        epochs_run += 1
        examples += seen
        history.train_loss.append(sum_loss / seen)
        history.train_main_loss.append(sum_main / seen)
        history.train_acc.append(correct / seen)
        if val_loader is not None:
            val = evaluate(model, val_loader, device=device)
            history.val_loss.append(val["loss"])
            history.val_acc.append(val["accuracy"])
            bar.set_postfix(epoch=epoch + 1, val_acc=f"{val['accuracy']:.3f}")
        if max_steps is not None and steps >= max_steps:
            break
    bar.close()
    wall = time.perf_counter() - start

    metrics = {"train_loss": history.train_loss[-1], "train_acc": history.train_acc[-1]}
    if val_loader is not None:
        metrics.update(val_loss=history.val_loss[-1], val_acc=history.val_acc[-1])
    receipt = Receipt(seed=seed, device=describe_device(device), torch_version=torch.__version__,
                      amp="off" if amp_dtype is None else str(amp_dtype).removeprefix("torch."),
                      optimizer=opt_name, lr=float(lr), epochs=epochs_run, steps=steps, examples=examples,
                      wall_time_s=wall, metrics=metrics)
    return FitResult(history, receipt)


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
    device = _resolve_device(device)
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
