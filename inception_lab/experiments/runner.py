"""The lab: every family member's mini preset trained with one recipe and one seed set, side by side.

* the presets and their budget (equal MACs) are in :mod:`inception_lab.experiments.budget`.
* :class:`Recipe` -- the data and training settings every preset shares; ``dataset="cifar10"`` is the switch
  that moves the same cells from the synthetic shapes to CIFAR-10 on a GPU. Its optimizer and rate are a constant
  :class:`~inception_lab.train.recipes.TrainingRecipe`; ``run_lab(..., training="rethinking")`` uses a paper's.
* :func:`run_lab` -- trains a list of presets over a list of seeds with :func:`inception_lab.train.fit` and
  returns :class:`LabResults`: one :class:`LabRun` per (preset, seed) with its receipt (seed, data seed, device,
  steps, wall and CPU time, library and torch versions), a summary table, the book's rule for a finding
  (:meth:`LabResults.comparisons`: paired by seed, sign test, bootstrap interval; see
  :mod:`~inception_lab.experiments.findings`),
  and :meth:`LabResults.save` / :meth:`LabResults.load` so a chapter can show a long recorded run beside a short
  live one.
* :func:`plateau_epoch` -- the epoch from which a test-accuracy curve stops gaining (how the recorded run's epoch
  budget was chosen from a pilot).
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
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

import inception_lab
from inception_lab import data, train
from inception_lab.checks import check_choice, check_non_negative_int, check_positive_int
from inception_lab.experiments.budget import LAB_PRESETS, available_presets, build_lab_model, model_cost
from inception_lab.experiments.findings import (
    PairedComparison,
    family_false_finding_chance,
    paired_comparison,
    range_rule_false_finding_chance,
)
from inception_lab.models import PRESETS
from inception_lab.nn.losses import main_logits
from inception_lab.runtime import (
    autocast_dtype,
    describe_device,
    machine_receipt,
    resolve_device,
    seed_everything,
)
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
    data_seed: int = 0  # the seed of the training and test images this run saw (vary_data: recipe's + seed)

    def receipt(self, timing: bool = True) -> str:
        """One line: what ran, where, and with which versions (timings optional: they change run to run)."""
        line = (f"{self.preset} seed {self.seed} (data seed {self.data_seed}) | {self.steps} steps, "
                f"{self.examples} examples | {self.device}, amp {self.amp} | inception_lab {self.library_version}, "
                f"torch {self.torch_version}")
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
    extra: dict[str, Any] = field(default_factory=dict)  # what a benchmark adds: its command, the machine receipt

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

    def _check_presets(self, *names: str) -> None:
        for name in names:
            if name not in self.presets:
                raise ValueError(f"preset {name!r} is not in these results; they hold {self.presets}.")

    def within_spread(self, a: str, b: str) -> bool:
        """The first edition's rule, kept to teach why it was dropped: do the two ranges over the seeds overlap?

        Two presets with no real difference give non-overlapping ranges over three seeds each with probability
        2/C(6,3) = 10 % (:func:`~inception_lab.experiments.findings.range_rule_false_finding_chance`), about 47 %
        for at least one of six pairs: non-overlap is suggestive, not a finding. :meth:`comparison` is the rule.
        """
        self._check_presets(a, b)
        rows = {s.preset: s for s in self.summary()}
        return rows[a].min_acc <= rows[b].max_acc and rows[b].min_acc <= rows[a].max_acc

    def accuracies(self, preset: str) -> dict[int, float]:
        """Final test accuracy of ``preset`` per seed."""
        self._check_presets(preset)
        return {r.seed: r.test_acc for r in self.runs if r.preset == preset}

    def comparison(self, a: str, b: str) -> PairedComparison:
        """Preset ``a`` minus preset ``b``, paired by seed (the seeds both ran), by the book's rule.

        :func:`~inception_lab.experiments.findings.paired_comparison`: the exact sign test over the paired
        differences of final test accuracy, their 95 % bootstrap interval, a finding only with at least
        :data:`~inception_lab.experiments.findings.MIN_SEEDS` seeds and ``p <= 2/2**5``.
        """
        acc_a, acc_b = self.accuracies(a), self.accuracies(b)
        seeds = sorted(set(acc_a) & set(acc_b))
        if not seeds:
            raise ValueError(f"presets {a!r} and {b!r} share no seed, so they cannot be paired.")
        return paired_comparison([acc_a[s] for s in seeds], [acc_b[s] for s in seeds], seeds, a_name=a, b_name=b)

    def comparisons(self) -> list[PairedComparison]:
        """Every pair of presets, the one with the higher mean accuracy first, in order of mean accuracy."""
        order = [s.preset for s in sorted(self.summary(), key=lambda s: -s.mean_acc)]
        return [self.comparison(hi, lo) for i, hi in enumerate(order) for lo in order[i + 1:]]

    def family_chance(self) -> float:
        """Chance of at least one false finding over all the pairs if no preset differed from another.

        :func:`~inception_lab.experiments.findings.family_false_finding_chance` at each pair's threshold, treating
        the pairs as independent (they share runs, so this is a rough figure, stated, not corrected for).
        """
        pairs = self.comparisons()
        return family_false_finding_chance(len(pairs), pairs[0].alpha) if pairs else 0.0

    def findings(self) -> list[str]:
        """Every pair as a sentence with its verdict (accuracy in points), then the family-wise chance."""
        pairs = self.comparisons()
        lines = [c.verdict(scale=100, unit=" points") for c in pairs]
        if pairs:
            lines.append(f"{len(pairs)} pairs: if no preset differed from another, the chance of at least one false "
                         f"finding among them is {100 * self.family_chance():.0f} % (each pair "
                         f"{100 * pairs[0].alpha:.1f} %); the old three-seed range rule's would be "
                         f"{100 * family_false_finding_chance(len(pairs), range_rule_false_finding_chance(3)):.0f} %.")
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
                    extra=self.extra, runs=[asdict(r) for r in self.runs])

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
                       machine=dict(raw.get("machine", {})), step_time_ms=dict(raw.get("step_time_ms", {})),
                       extra=dict(raw.get("extra", {})))
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a lab results record (written by LabResults.save): {err}") from err

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LabResults:
        """Read results written by :meth:`save`."""
        with open(path) as f:
            return cls.from_dict(json.load(f))


def machine_description(device: torch.device) -> dict[str, Any]:
    """Where a lab session ran: :func:`~inception_lab.runtime.machine_receipt`, the device and the library version.

    The receipt's keys (CPU model and capability, threads, CUDA device, platform, Python, torch, load average) plus
    ``device`` (:func:`~inception_lab.runtime.describe_device`), ``machine`` (the architecture) and
    ``library_version``; take it at the end of a session, so that the load average covers the runs.
    """
    return dict(machine_receipt(), device=describe_device(device), machine=platform.machine(),
                library_version=inception_lab.__version__)


def run_lab(presets: Sequence[str], recipe: Recipe = Recipe(), seeds: Sequence[int] = (0,), *,
            device: str | torch.device | None = None, options: Mapping[str, Mapping[str, Any]] | None = None,
            progress: bool = False, datasets: tuple[Dataset, Dataset] | None = None,
            training: TrainingRecipe | str | None = None, vary_data: bool = False) -> LabResults:
    """Train every preset with every seed under one recipe; return all runs with their receipts.

    For each seed and preset: seed everything, build the preset with its budget options (:data:`LAB_PRESETS`,
    overridden per preset by ``options``), count its parameters and MACs per image, train it with
    :func:`~inception_lab.train.fit` (the recipe's optimiser, learning rate, epochs, batch order from the seed),
    and score it on the test set after every epoch.

    Args:
        presets: preset names (see :func:`available_presets`).
        recipe: the shared settings; ``Recipe.cifar10()`` for the GPU tier.
        seeds: training seeds (initial weights and batch order); the data are the recipe's, the same for all,
            unless ``vary_data``.
        device: as :func:`~inception_lab.train.fit` (``None``: CUDA, then MPS, then CPU).
        options: per-preset builder options on top of the budget ones.
        progress: a progress bar per run (with the time left).
        datasets: ready-made ``(train, test)`` sets instead of :func:`make_datasets` (tests use tiny fakes).
        training: a :class:`~inception_lab.train.recipes.TrainingRecipe` (or its name) instead of the recipe's
            constant-rate optimizer; its model options (BN-x5's dropout 0) go to the builders.
        vary_data: seed ``s`` also draws its own training and test images (data seed ``recipe.data_seed + s``),
            so the spread between seeds includes the sampling of the data, not only the initialisation and the
            batch order; every preset still sees the same images for the same seed (the runs stay paired).
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
    if vary_data and datasets is not None:
        raise ValueError("vary_data draws each seed's images from the recipe; it cannot vary ready-made datasets.")
    if vary_data and recipe.dataset != "shapes":
        raise ValueError(f"vary_data needs the synthetic shapes (they are drawn from a seed); got {recipe.dataset!r}.")
    if datasets is None and not vary_data:
        datasets = make_datasets(recipe)
    results = LabResults(recipe=asdict(recipe), date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
    for seed in seeds:
        check_non_negative_int("seed", seed)
        data_seed = recipe.data_seed + seed if vary_data else recipe.data_seed
        train_set, test_set = make_datasets(replace(recipe, data_seed=data_seed)) if vary_data else datasets
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
                training="" if training is None else schedule.name, data_seed=data_seed))
    results.machine = machine_description(device)
    return results


def plateau_epoch(curve: Sequence[float], window: int = 3, min_gain: float = 0.01) -> int | None:
    """The first epoch from which a test-accuracy curve stops gaining, for good (how a run length is chosen).

    The gain at epoch ``e`` (1-based) is the mean of the last ``window`` epochs up to ``e`` minus the mean of the
    ``window`` epochs before them. The plateau starts at the first ``e >= 2 * window`` from which the gain stays
    below ``min_gain`` at every later epoch of the curve (a flat start at chance followed by a climb is not a
    plateau). ``None`` when the curve still gains at its end, or is shorter than ``2 * window`` epochs.
    """
    check_positive_int("window", window)
    if min_gain <= 0:
        raise ValueError(f"min_gain must be positive (an accuracy gain, e.g. 0.01 = 1 point), got {min_gain}.")
    values = [float(v) for v in curve]
    plateau = None
    for e in range(len(values), 2 * window - 1, -1):
        gain = statistics.fmean(values[e - window:e]) - statistics.fmean(values[e - 2 * window:e - window])
        if gain >= min_gain:
            break
        plateau = e
    return plateau


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
