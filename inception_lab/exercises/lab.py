"""Exercises on the lab: a preset's budget, a knock-out map, a paired multi-seed table, the old rule's risk (ch. 7)."""

from __future__ import annotations

import math
from typing import Any

from inception_lab import cost
from inception_lab.exercises import Feedback, check_number
from inception_lab.experiments import budget
from inception_lab.experiments.findings import (
    MIN_SEEDS,
    family_false_finding_chance,
    range_rule_false_finding_chance,
)
from inception_lab.experiments.knockout import KnockoutResult
from inception_lab.experiments.runner import LabResults

#: Exercise 7.1 setting: one module of a mini preset, on the grid it sees for a 32x32 image.
MODULE_MACS = dict(preset="mini_googlenet", module="inception3a", grid=8, image_size=32)
#: Exercise 7.2 setting: the preset whose width divisor the reader picks for the budget, and the candidates.
DIVISOR = dict(preset="mini_bn_inception", candidates=tuple(range(6, 13)))


def _module_macs() -> dict[str, int]:
    """MACs of the exercise's module on its grid, on the 32x32 input grid, and of its 1x1 convolutions alone."""
    model = budget.build_lab_model(MODULE_MACS["preset"])
    module = model.get_submodule(MODULE_MACS["module"]).eval()
    grid, size = MODULE_MACS["grid"], MODULE_MACS["image_size"]
    report = cost.count(module, (1, module.in_channels, grid, grid))
    one_by_one = sum(layer.macs for layer in report.layers
                     if getattr(module.get_submodule(layer.name), "kernel_size", None) == (1, 1))
    return dict(expected=report.macs, on_input=cost.count(module, (1, module.in_channels, size, size)).macs,
                one_by_one=one_by_one)


def module_macs(answer: Any) -> Feedback:
    """Exercise 7.1: MACs of inception (3a) of the mini GoogLeNet for one 32x32 image (its 8x8 grid)."""
    macs = _module_macs()
    expected, grid = macs["expected"], MODULE_MACS["grid"]
    hw = grid * grid
    return check_number(answer, expected, what=f"the MACs of {MODULE_MACS['module']} in the mini GoogLeNet", hints={
        2 * expected: "That is FLOPs (2 per multiply-accumulate). The question asks for MACs.",
        macs["on_input"]: f"You used the 32x32 input grid. The stem halves the image twice before (3a): the module "
                          f"works on a {grid}x{grid} grid.",
        expected // hw: f"That is the cost of one output position; multiply by the {grid}x{grid} = {hw} positions.",
        macs["one_by_one"]: "That counts only the 1x1 convolutions; add the 3x3 and 5x5 convolutions after the "
                            "reductions.",
    }, fallback=f"Write each branch's layers out: H W x C_out x C_in k^2 on the {grid}x{grid} grid, with the mini "
                "widths (Table 1's divided by 8, rounded half up).")


def budget_divisor(answer: Any) -> Feedback:
    """Exercise 7.2: the width divisor that puts the mini BN-Inception closest to the reference's MACs."""
    target = budget.model_cost(budget.build_lab_model(budget.BUDGET_REFERENCE)).macs
    expected, macs = budget.width_divisor_for_budget(DIVISOR["preset"], target, DIVISOR["candidates"])
    if isinstance(answer, bool) or not isinstance(answer, int):
        return Feedback(False, f"the width divisor should be an integer, got {answer!r}.")
    if answer == expected:
        return Feedback(True, f"width divisor {expected}: {macs:,} MACs against the reference's {target:,} "
                              f"({100 * (macs / target - 1):+.1f} %).")
    if answer not in DIVISOR["candidates"]:
        return Feedback(False, f"try a divisor between {DIVISOR['candidates'][0]} and {DIVISOR['candidates'][-1]}.")
    theirs = budget.model_cost(budget.build_lab_model(DIVISOR["preset"], options=dict(width_divisor=answer))).macs
    if answer == budget.LAB_PRESETS[budget.BUDGET_REFERENCE]["width_divisor"]:
        return Feedback(False, f"the reference's own divisor gives {theirs:,} MACs, "
                               f"{100 * (theirs / target - 1):+.1f} %: at the same widths BN-Inception costs more "
                               "than GoogLeNet (its paper: 'the computational cost is increased by about 30%'). "
                               "Divide a little more.")
    direction = "more" if theirs > target else "less"
    return Feedback(False, f"divisor {answer} gives {theirs:,} MACs ({100 * (theirs / target - 1):+.1f} % against "
                           f"{target:,}); divide {direction}. MACs shrink roughly with the square of the divisor.")


def most_important_branch(answer: Any, result: KnockoutResult) -> Feedback:
    """Exercise 7.3: the (module, branch) whose knock-out costs the most accuracy, read from a knock-out map."""
    module, branch, drop = result.ranked()[0]
    if not (isinstance(answer, tuple) and len(answer) == 2 and all(isinstance(a, str) for a in answer)):
        return Feedback(False, f"answer with a pair of names such as ('{result.modules[0]}', "
                               f"'{result.branches[result.modules[0]][0]}'), got {answer!r}.")
    if answer == (module, branch):
        return Feedback(True, f"{module}.{branch} ({result.labels[module][branch]}): knocking it out costs "
                              f"about {100 * drop:.0f} points.")
    given_module, given_branch = answer
    if given_module not in result.branches or given_branch not in result.branches[given_module]:
        return Feedback(False, f"{answer!r} is not a cell of the map; modules are {list(result.modules)}, branches "
                               "are named 'branch1', 'branch2', ... (or as in the row labels).")
    least = min(result.ranked(), key=lambda c: c[2])
    if answer == least[:2]:
        return Feedback(False, "that is the cell with the *smallest* drop; the question asks which branch the "
                               "network needs most (the darkest cell).")
    most_active = max(((m, b) for m in result.modules for b in result.branches[m]),
                      key=lambda mb: result.active[mb[0]][mb[1]])
    if answer == most_active:
        return Feedback(False, "that branch is the most *active* (most positive outputs), but activity is not need: "
                               "read the accuracy drop, not the activity.")
    if given_module == module:
        return Feedback(False, f"right module; in {module}, another branch costs more when it is zeroed.")
    return Feedback(False, f"knocking out {given_module}.{given_branch} costs "
                           f"about {100 * result.drop(given_module, given_branch):.0f} points; find the darkest cell.")


def is_finding(answer: Any, results: LabResults | None, a: str, b: str) -> Feedback:
    """Exercise 7.4: is the gap between presets ``a`` and ``b`` a finding by the book's paired rule?"""
    if not isinstance(answer, bool):
        return Feedback(False, f"answer True (a finding) or False (not a finding), got {answer!r}.")
    if results is None:
        return Feedback(False, "this exercise reads the recorded lab run, benchmarks/results/lab.json, which is in the "
                               "repository: open the chapter from a clone, or run `python benchmarks/bench_lab.py`.")
    c = results.comparison(a, b)
    where = (f"{c.agreeing} of {c.n} seeds agree in sign (sign test p = {c.p_value:.3f}, threshold "
             f"{c.alpha:.4f}); mean paired difference {100 * c.mean:+.1f} points")
    if answer == c.finding:
        return Feedback(True, f"{where}, so {'it is' if c.finding else 'it is not'} a finding.")
    if c.finding:
        return Feedback(False, "pair the runs by seed: the same seed gave both presets the same images, so compare "
                               "each seed's difference, not the two ranges.")
    if c.n < MIN_SEEDS:
        return Feedback(False, f"{where}, but only {c.n} seeds per arm: a finding needs at least {MIN_SEEDS}, and "
                               f"with {c.n} even full agreement gives p = {2 / 2**c.n:.3f}.")
    if c.agreeing < c.n:
        return Feedback(False, "look at each seed's difference, not only the mean: the seeds do not all agree in "
                               "sign, and the sign test counts them.")
    return Feedback(False, f"not by the rule: {where}.")


#: Exercise 7.5 setting: seeds per arm under the old rule, and how many pairs a four-preset table compares.
RANGE_RULE = dict(seeds=3, pairs=6)


def range_rule_chance(answer: Any) -> Feedback:
    """Exercise 7.5: the chance that two arms with *no* real difference give non-overlapping 3-seed ranges."""
    seeds = RANGE_RULE["seeds"]
    expected = range_rule_false_finding_chance(seeds)
    arrangements = math.comb(2 * seeds, seeds)
    return check_number(answer, expected, what="the chance of non-overlapping ranges with no real difference",
                        rel_tol=0.02, hints={
        1 / arrangements: f"One arrangement of {arrangements} gives arm A the three smallest values, but another "
                          "gives it the three largest: either way the ranges do not overlap.",
        1 / 2**seeds: "That treats the seeds as pairs. The range rule compares sets: which three of the six values "
                      "belong to arm A?",
        2 / 2**seeds: "That is a sign test on three pairs. The range rule ignores the pairing: count which three of "
                      "the six values belong to arm A.",
        family_false_finding_chance(RANGE_RULE["pairs"], expected): "That is the chance over all six pairs; the "
                                                                     "question asks about one pair.",
        100 * expected: "Give a probability between 0 and 1, not a percentage.",
    }, fallback=f"With no real difference, the {2 * seeds} final accuracies are exchangeable: every choice of which "
                f"{seeds} belong to arm A is equally likely. In how many of them do the ranges not overlap?")
