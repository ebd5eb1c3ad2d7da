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

import os
import pathlib
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from inception_lab.checks import check_bool, check_non_negative_int, check_number, check_positive_int
from inception_lab.runtime import (
    autocast_dtype,
    describe_device,
    effective_seed,
    resolve_device,
    seed_everything,
)
from inception_lab.train import checkpoint as ckpt
from inception_lab.train import distributed
from inception_lab.train.recipes import TrainingRecipe, get_recipe
from inception_lab.train.records import METRICS_NAME, FitResult, Receipt, tensorboard_writer, write_metrics_csv
from inception_lab.train.run import OptimizerFactory, TrainingRun, run_signature


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
    _check_arguments(train_loader, epochs, max_steps, seed, main_loss_grad_norms, resume, out_dir, checkpoint_every)
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
    run = TrainingRun(model, recipe, factory, device=device, amp_dtype=amp_dtype, steps_per_epoch=steps_per_epoch,
                      total_steps=total, groups=groups, main_loss_grad_norms=main_loss_grad_norms,
                      channels_last=channels_last)
    files = _RunFiles(None if out_dir is None else pathlib.Path(out_dir), run,
                      run_signature(model, recipe, seed, train_loader, run_info), train_loader, checkpoint_every)
    pending_rng = files.resume() if resume else None
    pos = run.position
    bar = tqdm(total=total, initial=pos.global_step, desc="training", unit="step",
               disable=not progress or not procs.is_main, file=sys.stderr)
    if pending_rng is not None and pos.step_in_epoch == 0:
        _restore_rng(pending_rng, train_loader)  # at an epoch boundary: before the epoch draws anything
        pending_rng = None
    while pos.epoch < epochs and pos.global_step < total:
        epoch_start = time.perf_counter()
        for images, targets in _start_epoch(run, train_loader, pending_rng):
            run.step(images, targets)
            bar.update(1)
            bar.set_postfix(epoch=pos.epoch + 1, loss=f"{run.history.step_loss[-1]:.3f}", refresh=False)
            files.after_step()
            if pos.global_step >= total:
                break
        pending_rng = None
        if run.device.type == "cuda":
            torch.cuda.synchronize(run.device)
        run.history.epoch_time_s.append(time.perf_counter() - epoch_start)
        run.end_epoch(val_loader)
        if run.history.val_acc:
            bar.set_postfix(epoch=pos.epoch, val_acc=f"{run.history.val_acc[-1]:.3f}")
        files.after_epoch()
    bar.close()
    files.close()
    return FitResult(run.history, _receipt(run, seed, files.elapsed()))


def _check_arguments(train_loader: DataLoader, epochs: int, max_steps: int | None, seed: int,
                     main_loss_grad_norms: bool, resume: bool, out_dir: object, checkpoint_every: int | None) -> None:
    """The checks of :func:`fit` that need no device or model (each message says what is allowed)."""
    check_positive_int("epochs", epochs)
    if max_steps is not None:
        check_positive_int("max_steps", max_steps)
    check_non_negative_int("seed", seed)
    check_bool("main_loss_grad_norms", main_loss_grad_norms)
    check_bool("resume", resume)
    if len(train_loader) == 0:
        raise ValueError("train_loader yields no batches (empty dataset, or drop_last with a small dataset).")
    if (checkpoint_every is not None or resume) and out_dir is None:
        raise ValueError("checkpoint_every and resume need out_dir (the folder of checkpoint.pt).")
    if checkpoint_every is not None:
        check_positive_int("checkpoint_every", checkpoint_every)


def _start_epoch(run: TrainingRun, loader: DataLoader, pending_rng: tuple[Any, Any] | None) -> Iterator[Any]:
    """The batches of the run's current epoch, from its current step (a resumed run starts part-way)."""
    run.model.train()
    pos, sampler = run.position, loader.sampler
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(pos.epoch)  # DistributedSampler/EpochSampler: a new order every epoch
    if pos.step_in_epoch:
        if not hasattr(sampler, "set_start"):
            raise ckpt.CheckpointError("resuming mid-epoch needs a loader whose sampler can start part-way "
                                       "(inception_lab.train.distributed.EpochSampler).")
        sampler.set_start(pos.step_in_epoch * loader.batch_size)
    batches = iter(loader)
    if pending_rng is not None:  # mid-epoch: the interrupted run had drawn the iterator's seed already
        _restore_rng(pending_rng, loader)
    return batches


class _RunFiles:
    """What a run with ``out_dir`` writes: checkpoints (every N steps and at each epoch's end), metrics, logs."""

    def __init__(self, out_dir: pathlib.Path | None, run: TrainingRun, signature: dict[str, Any],
                 loader: DataLoader, checkpoint_every: int | None) -> None:
        self.out_dir, self.run, self.signature, self.loader = out_dir, run, signature, loader
        self.every = checkpoint_every
        self.path = None if out_dir is None else out_dir / ckpt.CHECKPOINT_NAME
        self.writer = tensorboard_writer(out_dir, run.procs.is_main)
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        """Wall seconds of training, including the time before an interruption."""
        return time.perf_counter() - self.start

    def resume(self) -> tuple[Any, Any]:
        """Load the checkpoint (refused if it belongs to another run); returns the random states to restore."""
        saved = ckpt.load(self.path)
        ckpt.check_same_run(saved["run"], self.signature, self.path)
        self.start -= saved["wall_time_s"]
        return self.run.load_state(saved)

    def save(self) -> None:
        if self.path is not None:
            payload = self.run.state(self.signature, self.loader, self.elapsed())
            if payload is not None:
                ckpt.save_atomic(payload, self.path)
            distributed.barrier()

    def after_step(self) -> None:
        if self.every is not None and self.run.position.global_step % self.every == 0:
            self.save()

    def after_epoch(self) -> None:
        self.save()
        history = self.run.history
        if self.out_dir is not None and self.run.procs.is_main:
            write_metrics_csv(history, self.out_dir / METRICS_NAME)
            if self.writer is not None:
                for key in ("train_loss", "train_acc", "val_loss", "val_acc", "val_acc_averaged"):
                    if getattr(history, key):
                        self.writer.add_scalar(key, getattr(history, key)[-1], self.run.position.epoch)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _restore_rng(saved: tuple[Any, Any], loader: DataLoader) -> None:
    rng, generator = saved
    ckpt.set_rng_state(rng)
    if generator is not None and loader.generator is not None:
        loader.generator.set_state(generator)


def _receipt(run: TrainingRun, seed: int, wall: float) -> Receipt:
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


