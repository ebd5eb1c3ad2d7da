"""The lab: every family member's mini preset trained with one recipe and one seed set, side by side.

* the presets and their budget (equal MACs) are in :mod:`inception_lab.experiments.budget`.
* :class:`Recipe` -- the data and training settings every preset shares; ``dataset="cifar10"`` is the switch
  that moves the same cells from the synthetic shapes to CIFAR-10 on a GPU. Its optimizer and rate are a constant
  :class:`~inception_lab.train.recipes.TrainingRecipe`; ``run_lab(..., training="rethinking")`` uses a paper's.
* :func:`run_lab` -- trains a list of presets over a list of seeds with :func:`inception_lab.train.fit` and
  returns :class:`LabResults`: one :class:`LabRun` per (preset, seed) with its receipt (seed, device, steps, wall
  and CPU time, library and torch versions), a summary table, a rule for "within the spread between seeds", and
  :meth:`LabResults.save` / :meth:`LabResults.load` so a chapter can show a long recorded run beside a short live
  one.
* :func:`time_steps` -- training-step time per preset, measured interleaved (medians), for a time estimate and
  for time ratios that do not depend on what else the machine was doing.

:func:`inception_lab.viz.experiment_charts.plot_lab_results` draws accuracy against parameters, MACs and training
time. Introduced in chapter 7 (``notebooks/07_lab.ipynb``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

import inception_lab
from inception_lab import data, train
from inception_lab.checks import check_choice, check_non_negative_int, check_positive_int
from inception_lab.experiments.budget import LAB_PRESETS, available_presets, build_lab_model, model_cost
from inception_lab.models import PRESETS
from inception_lab.nn.losses import main_logits
from inception_lab.runtime import autocast_dtype, describe_device, resolve_device, seed_everything
from inception_lab.train.recipes import TrainingRecipe, get_recipe

DATASETS = ("shapes", "cifar10")


# ---------------------------------------------------------------------------------------------------------
# The recipe and the data
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """The data and training settings shared by every preset and seed of a lab run.

    Attributes:
        dataset: ``"shapes"`` (:func:`~inception_lab.data.make_shapes_dataset`, CPU-sized) or ``"cifar10"``
            (:func:`~inception_lab.data.cifar10`, downloaded; for a GPU).
        image_size, n_train, n_test, clutter, noise, data_seed: the shapes settings (``n_train``/``n_test`` of
            ``None`` = the whole CIFAR-10 split; CIFAR-10 images are always 32 px).
        optimizer, lr, batch_size, epochs, max_steps: passed to :func:`~inception_lab.train.fit`.
        augment: random crops and flips for the CIFAR-10 training images.
        channels_last: train in ``channels_last`` memory format (faster pooling on CPUs, tensor cores on GPUs).
        amp: mixed precision, as :func:`~inception_lab.train.fit` (``None``: on for CUDA only).
        cifar_root: where CIFAR-10 is, or is downloaded to.
        num_workers: data-loader worker processes (0 for the in-memory shapes; 2 suits Colab's CIFAR-10).
    """

    dataset: str = "shapes"
    image_size: int = 32
    n_train: int | None = 3000
    n_test: int | None = 1000
    clutter: int = 3
    noise: float = 0.05
    data_seed: int = 0
    optimizer: str = "adam"
    lr: float = 2e-3
    batch_size: int = 32
    epochs: int = 3
    max_steps: int | None = None
    augment: bool = False
    channels_last: bool = True
    amp: bool | None = None
    cifar_root: str = "data"
    num_workers: int = 0

    def __post_init__(self) -> None:
        check_choice("dataset", self.dataset, DATASETS)
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("epochs", self.epochs)
        check_non_negative_int("num_workers", self.num_workers)
        for name in ("n_train", "n_test", "max_steps"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))

    def training_recipe(self) -> TrainingRecipe:
        """The lab's optimizer and constant rate as a training recipe (how to optimise; this class adds the data)."""
        return TrainingRecipe.constant(self.optimizer, self.lr)

    @classmethod
    def cifar10(cls, epochs: int = 30, batch_size: int = 128, lr: float = 2e-3, root: str = "data") -> Recipe:
        """The GPU tier: the whole of CIFAR-10 with augmentation, mixed precision and ``channels_last``."""
        return cls(dataset="cifar10", n_train=None, n_test=None, epochs=epochs, batch_size=batch_size, lr=lr,
                   augment=True, channels_last=True, amp=None, cifar_root=root, num_workers=2)


def make_datasets(recipe: Recipe) -> tuple[Dataset, Dataset]:
    """The recipe's training and test sets (CIFAR-10 is downloaded on first use; clear errors offline)."""
    if recipe.dataset == "shapes":
        if recipe.n_train is None or recipe.n_test is None:
            raise ValueError("the shapes data set needs n_train and n_test (it has no fixed size).")
        settings = dict(clutter=recipe.clutter, noise=recipe.noise)
        return (data.make_shapes_dataset(recipe.n_train, recipe.image_size, recipe.data_seed, split="train",
                                         **settings),
                data.make_shapes_dataset(recipe.n_test, recipe.image_size, recipe.data_seed, split="test",
                                         **settings))
    train_set = data.cifar10(recipe.cifar_root, train=True, transform=data.cifar10_transform(recipe.augment))
    test_set = data.cifar10(recipe.cifar_root, train=False)
    if recipe.n_train is not None:
        train_set = torch.utils.data.Subset(train_set, range(min(recipe.n_train, len(train_set))))
    if recipe.n_test is not None:
        test_set = torch.utils.data.Subset(test_set, range(min(recipe.n_test, len(test_set))))
    return train_set, test_set


def make_loaders(recipe: Recipe, train_set: Dataset, test_set: Dataset, seed: int,
                 device: torch.device) -> tuple[DataLoader, DataLoader]:
    """Seeded loaders (the training loader shuffles with its own generator, reseeded by ``fit``)."""
    pin = device.type == "cuda"
    train_loader = DataLoader(train_set, batch_size=recipe.batch_size, shuffle=True, num_workers=recipe.num_workers,
                              pin_memory=pin, generator=torch.Generator().manual_seed(seed))
    test_loader = DataLoader(test_set, batch_size=max(recipe.batch_size, 256), shuffle=False,
                             num_workers=recipe.num_workers, pin_memory=pin)
    return train_loader, test_loader


# ---------------------------------------------------------------------------------------------------------
# Runs and results
# ---------------------------------------------------------------------------------------------------------
@dataclass
class LabRun:
    """One preset trained with one seed: the numbers, the curve, and the receipt."""

    preset: str
    seed: int
    options: dict[str, Any]
    params: int
    macs: int  # per image at inference
    test_acc: float  # after the last epoch, eval mode
    test_loss: float
    train_acc: float  # last epoch, measured on the fly in train mode
    test_acc_curve: list[float]
    steps: int
    examples: int
    epochs: int
    wall_time_s: float
    cpu_time_s: float
    device: str
    amp: str
    torch_version: str
    library_version: str
    training: str = ""  # the training recipe when run_lab(..., training=...) gave one; "" for the lab's own

    def receipt(self, timing: bool = True) -> str:
        """One line: what ran, where, and with which versions (timings optional: they change run to run)."""
        line = (f"{self.preset} seed {self.seed} | {self.steps} steps, {self.examples} examples | {self.device}, "
                f"amp {self.amp} | inception_lab {self.library_version}, torch {self.torch_version}")
        return line + (f" | {self.wall_time_s:.1f} s wall, {self.cpu_time_s:.1f} s CPU" if timing else "")


@dataclass(frozen=True)
class PresetSummary:
    """All seeds of one preset: mean, spread (max - min) and range of the final test accuracy, mean times."""

    preset: str
    seeds: tuple[int, ...]
    params: int
    macs: int
    mean_acc: float
    min_acc: float
    max_acc: float
    mean_wall_time_s: float
    mean_cpu_time_s: float

    @property
    def spread(self) -> float:
        """Largest minus smallest final test accuracy over the seeds."""
        return self.max_acc - self.min_acc


@dataclass
class LabResults:
    """Every run of a lab session with the recipe and the machine they ran on; saved and loaded as JSON."""

    recipe: dict[str, Any]
    runs: list[LabRun] = field(default_factory=list)
    date: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    step_time_ms: dict[str, float] = field(default_factory=dict)  # interleaved medians, see time_steps

    @property
    def presets(self) -> list[str]:
        """Presets in the order they first ran."""
        return list(dict.fromkeys(r.preset for r in self.runs))

    @property
    def seeds(self) -> list[int]:
        return sorted({r.seed for r in self.runs})

    def summary(self) -> list[PresetSummary]:
        """One :class:`PresetSummary` per preset, in run order."""
        rows = []
        for name in self.presets:
            runs = [r for r in self.runs if r.preset == name]
            accs = [r.test_acc for r in runs]
            rows.append(PresetSummary(name, tuple(r.seed for r in runs), runs[0].params, runs[0].macs,
                                      statistics.fmean(accs), min(accs), max(accs),
                                      statistics.fmean(r.wall_time_s for r in runs),
                                      statistics.fmean(r.cpu_time_s for r in runs)))
        return rows

    def within_spread(self, a: str, b: str) -> bool:
        """Whether presets ``a`` and ``b`` differ by no more than the spread between seeds.

        The rule: their ranges of final test accuracy over the seeds overlap. With three seeds that is the least
        one can ask before calling a difference a finding; overlapping ranges mean "not shown".
        """
        rows = {s.preset: s for s in self.summary()}
        for name in (a, b):
            if name not in rows:
                raise ValueError(f"preset {name!r} is not in these results; they hold {self.presets}.")
        return rows[a].min_acc <= rows[b].max_acc and rows[b].min_acc <= rows[a].max_acc

    def findings(self) -> list[str]:
        """Every pair of presets, ordered by mean accuracy, as a sentence: a finding, or within the spread."""
        rows = sorted(self.summary(), key=lambda s: -s.mean_acc)
        lines = []
        for i, hi in enumerate(rows):
            for lo in rows[i + 1:]:
                gap = 100 * (hi.mean_acc - lo.mean_acc)
                verdict = ("within the spread between seeds" if self.within_spread(hi.preset, lo.preset)
                           else "larger than the spread between seeds (the ranges do not overlap)")
                lines.append(f"{hi.preset} - {lo.preset}: {gap:+.1f} points, {verdict}")
        return lines

    def table(self, timing: bool = True) -> str:
        """The summary as a fixed-width text table (times optional: they differ from run to run)."""
        head = f"{'preset':<20}{'params':>9}{'MACs':>12}{'seeds':>7}{'mean acc':>10}{'range':>15}"
        head += f"{'wall s':>8}{'CPU s':>8}" if timing else ""
        lines = [head]
        for s in self.summary():
            line = (f"{s.preset:<20}{s.params:>9,}{s.macs:>12,}{len(s.seeds):>7}{100 * s.mean_acc:>9.1f}%"
                    f"{f'{100 * s.min_acc:.1f}-{100 * s.max_acc:.1f} %':>15}")
            line += f"{s.mean_wall_time_s:>8.1f}{s.mean_cpu_time_s:>8.1f}" if timing else ""
            lines.append(line)
        return "\n".join(lines)

    def receipts(self, timing: bool = True) -> str:
        """Every run's receipt, one per line."""
        return "\n".join(r.receipt(timing) for r in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return dict(recipe=self.recipe, date=self.date, machine=self.machine, step_time_ms=self.step_time_ms,
                    runs=[asdict(r) for r in self.runs])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the results as JSON (every number, the recipe, the machine and the receipts)."""
        with open(path, "w") as f:
            f.write(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LabResults:
        names = {f.name for f in fields(LabRun)}
        try:
            runs = [LabRun(**{k: v for k, v in r.items() if k in names}) for r in raw["runs"]]
            return cls(recipe=dict(raw["recipe"]), runs=runs, date=raw.get("date", ""),
                       machine=dict(raw.get("machine", {})), step_time_ms=dict(raw.get("step_time_ms", {})))
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a lab results record (written by LabResults.save): {err}") from err

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LabResults:
        """Read results written by :meth:`save`."""
        with open(path) as f:
            return cls.from_dict(json.load(f))


def machine_description(device: torch.device) -> dict[str, Any]:
    """Where a lab session ran: the device, CPU architecture, thread count, Python, torch and library versions."""
    return dict(device=describe_device(device), machine=platform.machine(), processor=platform.processor() or "",
                threads=torch.get_num_threads(), python=platform.python_version(), torch_version=torch.__version__,
                library_version=inception_lab.__version__)


def run_lab(presets: Sequence[str], recipe: Recipe = Recipe(), seeds: Sequence[int] = (0,), *,
            device: str | torch.device | None = None, options: Mapping[str, Mapping[str, Any]] | None = None,
            progress: bool = False, datasets: tuple[Dataset, Dataset] | None = None,
            training: TrainingRecipe | str | None = None) -> LabResults:
    """Train every preset with every seed under one recipe; return all runs with their receipts.

    For each seed and preset: seed everything, build the preset with its budget options (:data:`LAB_PRESETS`,
    overridden per preset by ``options``), count its parameters and MACs per image, train it with
    :func:`~inception_lab.train.fit` (the recipe's optimiser, learning rate, epochs, batch order from the seed),
    and score it on the test set after every epoch.

    Args:
        presets: preset names (see :func:`available_presets`).
        recipe: the shared settings; ``Recipe.cifar10()`` for the GPU tier.
        seeds: training seeds (initial weights and batch order); the data are the recipe's, the same for all.
        device: as :func:`~inception_lab.train.fit` (``None``: CUDA, then MPS, then CPU).
        options: per-preset builder options on top of the budget ones.
        progress: a progress bar per run (with the time left).
        datasets: ready-made ``(train, test)`` sets instead of :func:`make_datasets` (tests use tiny fakes).
        training: a :class:`~inception_lab.train.recipes.TrainingRecipe` (or its name) instead of the recipe's
            constant-rate optimizer; its model options (BN-x5's dropout 0) go to the builders.
    """
    if isinstance(presets, str) or not presets:
        raise ValueError(f"presets must be a non-empty list of preset names, got {presets!r}.")
    unknown = [p for p in presets if p not in PRESETS]
    if unknown:
        raise ValueError(f"unknown preset(s) {unknown}; the lab presets available here are {available_presets()}.")
    if not seeds:
        raise ValueError("seeds must hold at least one seed.")
    options = options or {}
    device = resolve_device(device)
    schedule = recipe.training_recipe() if training is None else get_recipe(training)
    train_set, test_set = make_datasets(recipe) if datasets is None else datasets
    results = LabResults(recipe=asdict(recipe), date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                         machine=machine_description(device))
    for seed in seeds:
        check_non_negative_int("seed", seed)
        train_loader, test_loader = make_loaders(recipe, train_set, test_set, seed, device)
        for name in presets:
            seed_everything(seed)
            model = build_lab_model(name, options={**schedule.model_options(), **options.get(name, {})})
            c = model_cost(model, recipe.image_size)
            if recipe.channels_last:
                model = model.to(memory_format=torch.channels_last)
            cpu_start = time.process_time()
            history, receipt = train.fit(model, train_loader, epochs=recipe.epochs, recipe=schedule,
                                         val_loader=test_loader, device=device, amp=recipe.amp, seed=seed,
                                         progress=progress, max_steps=recipe.max_steps)
            results.runs.append(LabRun(
                preset=name, seed=seed,
                options={**LAB_PRESETS.get(name, {}), **schedule.model_options(), **options.get(name, {})},
                params=c.params, macs=c.macs, test_acc=history.val_acc[-1], test_loss=history.val_loss[-1],
                train_acc=history.train_acc[-1], test_acc_curve=list(history.val_acc), steps=receipt.steps,
                examples=receipt.examples, epochs=receipt.epochs, wall_time_s=receipt.wall_time_s,
                cpu_time_s=time.process_time() - cpu_start, device=receipt.device, amp=receipt.amp,
                torch_version=receipt.torch_version, library_version=inception_lab.__version__,
                training="" if training is None else schedule.name))
    return results


def time_steps(presets: Sequence[str], recipe: Recipe = Recipe(), *, repeats: int = 5, steps: int = 3,
               device: str | torch.device | None = None) -> dict[str, float]:
    """Median milliseconds per training step of each preset, measured interleaved.

    Each repeat times ``steps`` optimiser steps of every preset in turn (after one warm-up step each), so a
    slow-down of the machine hits all presets alike; the median over repeats discards the outliers. On the CPU the
    clock is the process's CPU time, on CUDA the wall clock. Ratios between presets are the robust reading;
    absolute values depend on the machine.
    """
    check_positive_int("repeats", repeats)
    check_positive_int("steps", steps)
    device = resolve_device(device)
    size = recipe.image_size if recipe.dataset == "shapes" else 32
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(recipe.batch_size, 3, size, size, generator=gen).to(device)
    targets = torch.randint(0, 10, (recipe.batch_size,), generator=gen).to(device)
    fmt = torch.channels_last if recipe.channels_last else torch.contiguous_format
    images = images.contiguous(memory_format=fmt)
    amp_dtype = autocast_dtype(recipe.amp, device)
    jobs = {}
    for name in presets:
        seed_everything(0)
        model = build_lab_model(name).to(device=device, memory_format=fmt).train()
        jobs[name] = (model, torch.optim.Adam(model.parameters(), lr=recipe.lr))

    def step(model: torch.nn.Module, opt: torch.optim.Optimizer) -> None:
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = torch.nn.functional.cross_entropy(main_logits(model(images)).float(), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for model, opt in jobs.values():
        step(model, opt)  # warm-up: allocation, kernel selection
    times: dict[str, list[float]] = {name: [] for name in presets}
    # On the CPU the clock is this process's CPU time: another program on the same cores then slows the wall
    # clock but not the measurement (the book computes with one thread). On a GPU it is the wall clock.
    clock = time.perf_counter if device.type == "cuda" else time.process_time
    for _ in range(repeats):
        for name, (model, opt) in jobs.items():
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = clock()
            for _ in range(steps):
                step(model, opt)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times[name].append(1000 * (clock() - start) / steps)
    return {name: statistics.median(t) for name, t in times.items()}


def estimate_seconds(step_ms: Mapping[str, float], recipe: Recipe, n_train: int, seeds: int = 1) -> dict[str, float]:
    """Expected training seconds per preset: step time x steps per epoch x epochs x seeds (evaluation not counted)."""
    steps = -(-n_train // recipe.batch_size) * recipe.epochs
    if recipe.max_steps is not None:
        steps = min(steps, recipe.max_steps)
    return {name: ms / 1000 * steps * seeds for name, ms in step_ms.items()}
