"""BN vs no BN over learning rates [BN, §4.2]: the paired verdicts of chapter 3's recorded sweep.

``benchmarks/bench_bn_lr_sweep.py`` trains ``mini_bn_inception`` with and without BN at four learning rates for
several seeds; seed ``s`` moves the data, the initial weights (shared by the two variants) and the batch order
together, so each seed gives one *pair* per learning rate. This module turns its results file into the verdicts of
the book's rule (:mod:`inception_lab.experiments.findings`), test accuracy after the last step:

* per rate, BN (statistics recomputed as in [BN, Alg. 2]) minus no BN, and BN (the running averages training
  leaves) minus no BN;
* per rate, BN recomputed minus BN running averages (the same trained network, two sets of statistics);
* BN recomputed at the highest rate minus at the lowest (does the higher rate get further in the same steps?).

These comparisons were chosen after the sweep was recorded (the run length, 32 steps, was fixed before); the
chapter says so and states the chance of a false finding over all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inception_lab.experiments.findings import PairedComparison, family_false_finding_chance, paired_comparison

#: The three ways a sweep run is scored: the variant's name and the key of its test accuracy in the results file.
VARIANTS = {"no BN": (False, "test_acc"), "BN, running averages": (True, "test_acc_running"),
            "BN, recomputed": (True, "test_acc_recomputed")}
#: The paired comparisons made at every learning rate, as (arm a, arm b): a minus b.
PER_RATE = (("BN, recomputed", "no BN"), ("BN, running averages", "no BN"),
            ("BN, recomputed", "BN, running averages"))


def sweep_accuracy(result: Mapping[str, Any]) -> dict[str, dict[float, list[float]]]:
    """variant -> learning rate -> test accuracy per seed (in the order of ``result["seeds"]``).

    Raises:
        ValueError: if a (seed, BN, rate) run is missing from the file.
    """
    runs = {(int(r["seed"]), bool(r["bn"]), float(r["lr"])): r for r in result["runs"]}
    seeds, rates = [int(s) for s in result["seeds"]], [float(lr) for lr in result["learning_rates"]]
    missing = [(s, bn, lr) for s in seeds for bn in (True, False) for lr in rates if (s, bn, lr) not in runs]
    if missing:
        raise ValueError(f"the sweep lacks runs (seed, bn, lr): {missing}.")
    return {variant: {lr: [float(runs[s, bn, lr][key]) for s in seeds] for lr in rates}
            for variant, (bn, key) in VARIANTS.items()}


def compare_sweep(result: Mapping[str, Any]) -> dict[tuple[str, str, float], PairedComparison]:
    """Every comparison of the module docstring, keyed ``(arm a, arm b, rate)``; the rate comparison is keyed
    ``("BN, recomputed at <top>", "BN, recomputed at <bottom>", <top>)``."""
    acc, seeds = sweep_accuracy(result), [int(s) for s in result["seeds"]]
    rates = sorted(acc["no BN"])
    out = {(a, b, lr): paired_comparison(acc[a][lr], acc[b][lr], seeds, a_name=f"{a} at {lr:g}",
                                         b_name=f"{b} at {lr:g}")
           for lr in rates for a, b in PER_RATE}
    top, bottom = rates[-1], rates[0]
    a_name, b_name = f"BN, recomputed at {top:g}", f"BN, recomputed at {bottom:g}"
    out[a_name, b_name, top] = paired_comparison(acc["BN, recomputed"][top], acc["BN, recomputed"][bottom], seeds,
                                                 a_name=a_name, b_name=b_name)
    return out


def family_chance(result: Mapping[str, Any]) -> float:
    """Chance of at least one false finding over all comparisons of :func:`compare_sweep`, were none real."""
    return family_false_finding_chance(len(compare_sweep(result)))


def cell(comparison: PairedComparison) -> str:
    """A table cell: the mean difference in points, its interval, the sign count, p, and the verdict."""
    lo, hi = (100 * v for v in comparison.interval)
    verdict = "**finding**" if comparison.finding else "not a finding"
    return (f"{100 * comparison.mean:+.1f} [{lo:+.1f}, {hi:+.1f}], {comparison.agreeing}/{comparison.n}, "
            f"p = {comparison.p_value:.3g}: {verdict}")
