"""Do GoogLeNet's auxiliary classifiers help? [GoogLeNet, §5] The paired comparisons of chapter 2's recorded run.

``benchmarks/bench_aux_heads.py`` trains ``mini_googlenet`` with and without its two auxiliary heads for several
seeds; each seed is one *pair* (same data, same initial weights of the shared layers, same batches). This module
turns its results file into the verdicts of the book's rule (:mod:`inception_lab.experiments.findings`). The
quantities compared were fixed with the budget, before the recorded run (the script's docstring lists them):

* ``early accuracy``: mean test accuracy of the main head over the first :data:`EARLY_EPOCHS` epochs (the start);
* ``late accuracy``: mean test accuracy over the last :data:`LATE_EPOCHS` epochs (where training ends up);
* ``objective gradient, first 50 steps``: gradient norm at ``conv1`` of the whole objective, main + 0.3 x each
  head, mean over the first 50 steps (log ratio with / without heads);
* ``main-loss gradient, first 50 steps``: the control, the main loss's own gradient at ``conv1`` (log ratio);
* ``main-loss gradient, epoch 2``: the same control, mean over the second epoch (log ratio).

Gradient norms are compared as log ratios, so a verdict's mean difference ``d`` reads as the factor ``exp(d)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from inception_lab.experiments.findings import PairedComparison, paired_comparison

#: Epochs averaged for "the start": test accuracy over epochs 1..EARLY_EPOCHS.
EARLY_EPOCHS = 3
#: Epochs averaged for "the end": test accuracy over the last LATE_EPOCHS epochs.
LATE_EPOCHS = 3
#: The layer whose incoming gradient the comparison follows (the earliest convolution).
GRADIENT_LAYER = "conv1"
#: The comparisons, in the order the chapter reports them; the gradient ones are log ratios.
COMPARISONS = ("early accuracy", "late accuracy", "objective gradient, first 50 steps",
               "main-loss gradient, first 50 steps", "main-loss gradient, epoch 2")
LOG_RATIOS = frozenset(COMPARISONS[2:])


def first_epoch_above(accuracies: Sequence[float], level: float = 0.5) -> int | None:
    """The first epoch (1-based) whose test accuracy reaches ``level``, or None if none does."""
    return next((epoch for epoch, a in enumerate(accuracies, start=1) if a >= level), None)


def _runs_by_seed(result: Mapping[str, Any]) -> tuple[list[int], dict[tuple[int, bool], Mapping[str, Any]]]:
    """The seeds and the runs keyed by (seed, with heads); refuses a file whose pairs are incomplete."""
    seeds = [int(s) for s in result["seeds"]]
    runs = {(int(r["seed"]), bool(r["aux"])): r for r in result["runs"]}
    missing = [(s, aux) for s in seeds for aux in (True, False) if (s, aux) not in runs]
    if missing:
        raise ValueError(f"every seed needs a run with and one without heads; missing (seed, aux): {missing}.")
    epochs = {len(r["test_acc"]) for r in runs.values()}
    if len(epochs) != 1 or epochs.pop() < max(EARLY_EPOCHS, LATE_EPOCHS, 2):
        raise ValueError(f"all runs need the same number of epochs, at least {max(EARLY_EPOCHS, LATE_EPOCHS, 2)}.")
    return seeds, runs


def endpoint(run: Mapping[str, Any], name: str) -> float:
    """One run's value of the comparison ``name`` (see :data:`COMPARISONS`); gradient norms as their logarithm."""
    if name == "early accuracy":
        return sum(run["test_acc"][:EARLY_EPOCHS]) / EARLY_EPOCHS
    if name == "late accuracy":
        return sum(run["test_acc"][-LATE_EPOCHS:]) / LATE_EPOCHS
    if name == "objective gradient, first 50 steps":
        return math.log(run["grad_norm_first_50_steps"][GRADIENT_LAYER]["total"])
    if name == "main-loss gradient, first 50 steps":
        return math.log(run["grad_norm_first_50_steps"][GRADIENT_LAYER]["main"])
    if name == "main-loss gradient, epoch 2":
        return math.log(run["main_grad_norm"][GRADIENT_LAYER][1])
    raise ValueError(f"unknown comparison {name!r}; choose one of {COMPARISONS}.")


def compare_aux_runs(result: Mapping[str, Any]) -> dict[str, PairedComparison]:
    """The verdict of every comparison in :data:`COMPARISONS`, with heads minus without, paired by seed.

    Args:
        result: the parsed ``benchmarks/results/aux_heads.json`` (``seeds`` and ``runs``).

    Raises:
        ValueError: if a seed lacks one of its two runs or the runs differ in length.
    """
    seeds, runs = _runs_by_seed(result)
    return {name: paired_comparison([endpoint(runs[s, True], name) for s in seeds],
                                    [endpoint(runs[s, False], name) for s in seeds], seeds,
                                    a_name="with heads", b_name="without")
            for name in COMPARISONS}


def describe(name: str, comparison: PairedComparison) -> str:
    """One line for a table: accuracies in points, gradient log ratios as factors, then the sign count and p."""
    if name in LOG_RATIOS:
        lo, hi = (math.exp(v) for v in comparison.interval)
        size = f"x{math.exp(comparison.mean):.2f} (interval x{lo:.2f} to x{hi:.2f})"
    else:
        lo, hi = (100 * v for v in comparison.interval)
        size = f"{100 * comparison.mean:+.1f} points (interval {lo:+.1f} to {hi:+.1f})"
    verdict = "a finding" if comparison.finding else "not a finding"
    return (f"{name}: {size}; {comparison.agreeing} of {comparison.n} seeds agree, p = {comparison.p_value:.3g}: "
            f"{verdict}")
