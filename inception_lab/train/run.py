"""One training run's state and its step: the optimizer, schedule, averaged weights, position and history.

:func:`inception_lab.train.fit` builds a :class:`TrainingRun` and drives it; a checkpoint is its
:meth:`TrainingRun.state`. One step: forward, loss, backward, (clip), optimizer step, schedule step, (average)
[Rethinking, §8].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from inception_lab.nn.losses import inception_loss, main_logits
from inception_lab.train import checkpoint as ckpt
from inception_lab.train import distributed
from inception_lab.train.averaging import ParameterAverage
from inception_lab.train.evaluation import evaluate
from inception_lab.train.recipes import TrainingRecipe
from inception_lab.train.records import History

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


def _grad_norm(params: list[nn.Parameter]) -> float:
    """L2 norm of the concatenated gradients (parameters without a gradient this step count as zero)."""
    grads = [p.grad.detach().float().flatten() for p in params if p.grad is not None]
    return torch.cat(grads).norm().item() if grads else 0.0


@dataclass
class Position:
    """Where a run is: the epoch, the step within it, the steps so far, and the epoch's running sums."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    sums: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])  # loss x n, main x n, correct, seen
    examples: int = 0  # examples of completed epochs (all processes)


class TrainingRun:
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
            ids = None
            if device.type == "cuda":  # this process's GPU (torchrun's LOCAL_RANK, set by distributed.init)
                ids = [device.index if device.index is not None else torch.cuda.current_device()]
            self.net = DistributedDataParallel(model, device_ids=ids)
        self.groups, self.main_loss_grad_norms = groups, main_loss_grad_norms
        self.history = History(grad_norms={prefix: [] for prefix in groups},
                               main_grad_norms={prefix: [] for prefix in groups} if main_loss_grad_norms else {})
        self.position = Position()
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
        self.position = Position(**saved["position"])
        self.history = History(**saved["history"])
        rank = self.procs.rank
        return saved["rng"][rank], saved["loader_generator"][rank]


def run_signature(model: nn.Module, recipe: TrainingRecipe, seed: int, loader: DataLoader,
                   run_info: Mapping[str, Any] | None) -> dict[str, Any]:
    """What must match for a checkpoint to continue this run (epochs may grow: the schedule is per epoch)."""
    settings = {k: v for k, v in recipe.to_dict().items() if k != "sources"}
    return dict(model=type(model).__name__, parameters=sum(p.numel() for p in model.parameters()),
                recipe=settings, seed=seed, batch_size=loader.batch_size, processes=distributed.current().world_size,
                steps_per_epoch=len(loader), **dict(run_info or {}))
