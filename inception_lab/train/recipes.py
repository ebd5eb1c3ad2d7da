"""A training recipe: the optimizer, schedule and regularizers a paper trained with, for any preset.

:class:`TrainingRecipe` is one flat, frozen record of how to train: optimizer and its hyper-parameters, the
learning-rate schedule, weight decay, gradient clipping, parameter averaging, label smoothing, the auxiliary heads'
weight and dropout. :data:`RECIPES` holds the papers' recipes (from :mod:`inception_lab.papers.training`, where each
value carries its source) and the lab's constant-rate Adam; :meth:`TrainingRecipe.replace` makes a variant (Table 3's
rows are variants of one another). :func:`inception_lab.train.fit` and ``python -m inception_lab.train --recipe``
take one.

Naming: chapter 7's :class:`inception_lab.experiments.runner.Recipe` is the *lab's* settings (which data, how many
images, the batch size and epochs, plus the lab's optimizer and rate); its ``training_recipe()`` turns its
optimizer and rate into a :class:`TrainingRecipe`, so the lab trains through the same machinery. A "training
recipe" is how to optimise; the lab's "recipe" is that plus the data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from inception_lab.checks import check_choice, check_number, check_positive_int, check_probability
from inception_lab.papers.training import PAPER_RECIPES, RECIPE_PAPERS, SETTINGS
from inception_lab.train import schedules
from inception_lab.train.averaging import AVERAGING, ParameterAverage
from inception_lab.train.optim import OPTIMIZERS, build_optimizer


@dataclass(frozen=True)
class TrainingRecipe:
    """How to train: optimizer, schedule and regularizers (:data:`inception_lab.papers.training.SETTINGS`).

    Build one with :meth:`from_paper`, take one from :data:`RECIPES`, or :meth:`constant` for a fixed rate.
    ``sources`` maps each setting to where its value comes from (the paper's words, or our choice and why).
    ``batch_size``, ``replicas`` and ``epochs`` record the paper's scale; the run's own come from the caller.
    """

    name: str
    optimizer: str
    lr: float
    momentum: float = 0.9
    rmsprop_decay: float | None = None
    epsilon: float | None = None
    lr_decay: float = 1.0
    lr_decay_every_epochs: float = 1.0
    warmup_epochs: float = 0.0
    weight_decay: float = 0.0
    grad_clip_norm: float | None = None
    averaging: str | None = None
    averaging_decay: float | None = None
    averaging_start: float | None = None
    label_smoothing: float = 0.0
    aux_weight: float = 0.3
    dropout: float | None = None
    batch_size: int | None = None
    replicas: int | None = None
    epochs: int | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a recipe needs a name, got {self.name!r}.")
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_number("lr", self.lr, minimum=0, strict_minimum=True)
        check_number("momentum", self.momentum, minimum=0, maximum=1, strict_maximum=True)
        if self.optimizer.startswith("rmsprop"):
            if self.rmsprop_decay is None or self.epsilon is None:
                raise ValueError(f"recipe {self.name!r}: RMSProp needs rmsprop_decay and epsilon "
                                 "([Rethinking, §8]: 0.9 and 1.0).")
            check_number("rmsprop_decay", self.rmsprop_decay, minimum=0, maximum=1, strict_maximum=True)
            check_number("epsilon", self.epsilon, minimum=0, strict_minimum=True)
        check_number("lr_decay", self.lr_decay, minimum=0, maximum=1, strict_minimum=True)
        check_number("lr_decay_every_epochs", self.lr_decay_every_epochs, minimum=0, strict_minimum=True)
        check_number("warmup_epochs", self.warmup_epochs, minimum=0)
        check_number("weight_decay", self.weight_decay, minimum=0)
        if self.grad_clip_norm is not None:
            check_number("grad_clip_norm", self.grad_clip_norm, minimum=0, strict_minimum=True)
        if self.averaging is not None:
            check_choice("averaging", self.averaging, AVERAGING)
            check_number("averaging_start", self.averaging_start if self.averaging_start is not None else 0.0,
                         minimum=0, maximum=1, strict_maximum=True)
            if self.averaging == "ema":
                check_number("averaging_decay", self.averaging_decay, minimum=0, maximum=1, strict_minimum=True,
                             strict_maximum=True)
        check_probability("label_smoothing", self.label_smoothing)
        check_number("aux_weight", self.aux_weight, minimum=0)
        if self.dropout is not None:
            check_probability("dropout", self.dropout)
        for name in ("batch_size", "replicas", "epochs"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))

    # ---- construction -------------------------------------------------------------------------------------
    @classmethod
    def from_paper(cls, name: str) -> TrainingRecipe:
        """The recipe :data:`inception_lab.papers.training.PAPER_RECIPES` ``[name]``, with every value's source."""
        check_choice("recipe", name, tuple(PAPER_RECIPES))
        settings = PAPER_RECIPES[name]
        values = {key: setting.value for key, setting in settings.items()}
        sources = {key: ("paper: " if setting.stated else "our choice: ") + setting.source
                   for key, setting in settings.items()}
        return cls(name=name, sources=sources, **values)

    @classmethod
    def constant(cls, optimizer: str, lr: float, *, weight_decay: float = 0.0, label_smoothing: float = 0.0,
                 aux_weight: float = 0.3, name: str = "constant") -> TrainingRecipe:
        """A constant rate, no clipping, no averaging: what ``fit(lr=..., optimizer=...)`` trains with."""
        return cls(name=name, optimizer=optimizer, lr=lr, weight_decay=weight_decay, label_smoothing=label_smoothing,
                   aux_weight=aux_weight, sources={"lr": "the caller's constant rate"})

    def replace(self, name: str | None = None, **changes: Any) -> TrainingRecipe:
        """A variant with ``changes`` (a new ``name`` defaults to ``"<name>+<changed settings>"``).

        Each changed setting's source becomes "changed from <name>".
        """
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)} - {"sources"})
        if unknown:
            raise ValueError(f"unknown recipe setting(s) {unknown}; the settings are {list(SETTINGS)}.")
        sources = {**self.sources, **{key: f"changed from {self.name}" for key in changes}}
        return dataclasses.replace(self, name=name or f"{self.name}+{'+'.join(sorted(changes))}",
                                   sources=sources, **changes)

    # ---- what it builds -------------------------------------------------------------------------------------
    def make_optimizer(self, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        """The recipe's optimizer over ``params`` (:func:`inception_lab.train.optim.build_optimizer`)."""
        return build_optimizer(self.optimizer, params, lr=self.lr, momentum=self.momentum,
                               weight_decay=self.weight_decay, rmsprop_decay=self.rmsprop_decay,
                               epsilon=self.epsilon)

    def lr_factor(self, steps_per_epoch: int) -> Callable[[int], float]:
        """The schedule as a factor of the initial rate per optimizer step (:func:`schedules.staircase`)."""
        warmup = round(self.warmup_epochs * steps_per_epoch)
        return schedules.staircase(self.lr_decay, self.lr_decay_every_epochs, steps_per_epoch, warmup)

    def make_scheduler(self, optimizer: torch.optim.Optimizer,
                       steps_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
        """A per-step ``LambdaLR`` over ``optimizer`` following :meth:`lr_factor`."""
        return schedules.make_scheduler(optimizer, self.lr_factor(steps_per_epoch))

    def lr_after_epochs(self, epochs: float) -> float:
        """The paper's formula for the rate after ``epochs`` whole epochs (no warm-up)."""
        return schedules.lr_after_epochs(self.lr, self.lr_decay, self.lr_decay_every_epochs, epochs)

    def make_averager(self, model: nn.Module, total_steps: int) -> ParameterAverage | None:
        """The averaged copy of ``model`` for evaluation, or ``None`` when the recipe does not average."""
        if self.averaging is None:
            return None
        start = int((self.averaging_start or 0.0) * total_steps)
        return ParameterAverage(model, self.averaging, self.averaging_decay, start_step=start)

    def model_options(self) -> dict[str, Any]:
        """Builder options the recipe sets (``dropout`` when it has one, as BN-x5's "Remove Dropout")."""
        return {} if self.dropout is None else {"dropout": self.dropout}

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain data (for checkpoints, results files and tables); ``sources`` included."""
        out = dataclasses.asdict(self)
        out["sources"] = dict(self.sources)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TrainingRecipe:
        """The inverse of :meth:`to_dict`."""
        return cls(**dict(raw))


def lab_adam(lr: float = 2e-3) -> TrainingRecipe:
    """Chapter 7's lab recipe: Adam at a constant rate (our choice for small CPU runs; no paper trained so)."""
    return TrainingRecipe(name="lab_adam", optimizer="adam", lr=lr, sources={
        "optimizer": "our choice: chapter 7's lab (Adam needs no tuning at CPU scale)",
        "lr": "our choice: chapter 7's lab, 2e-3"})


#: Every recipe by name: the papers' (:data:`inception_lab.papers.training.PAPER_RECIPES`) and ``"lab_adam"``.
RECIPES: dict[str, TrainingRecipe] = {name: TrainingRecipe.from_paper(name) for name in PAPER_RECIPES}
RECIPES["lab_adam"] = lab_adam()

#: Where each recipe comes from, for tables.
RECIPE_SOURCES: dict[str, str] = {**RECIPE_PAPERS, "lab_adam": "our choice (chapter 7's lab)"}


def get_recipe(recipe: str | TrainingRecipe) -> TrainingRecipe:
    """``recipe`` itself, or the recipe of that name in :data:`RECIPES` (a clear error for an unknown name)."""
    if isinstance(recipe, TrainingRecipe):
        return recipe
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose one of {sorted(RECIPES)} or pass a TrainingRecipe.")
    return RECIPES[recipe]
