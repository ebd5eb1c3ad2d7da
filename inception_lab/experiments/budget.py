"""The budget rule of the lab: every family member's mini preset at the same multiply-accumulates per image.

* :data:`LAB_PRESETS` -- the mini presets of the family, in the book's order, with the builder options that put
  them on one budget; :data:`BUDGET_RULE` states the rule (equal MACs) and why, :data:`BUDGET_TOLERANCE` how close;
  :data:`LAB_LABELS` -- what the chapter calls each (the two Rethinking minis by their layout).
* :func:`budget_table` -- parameters and MACs of each preset from :func:`inception_lab.cost.count`, and the ratio
  to the reference; :func:`width_divisor_for_budget` -- how each width divisor was chosen.
* :func:`last_layer_fields` -- the receptive field of each preset's last layer
  (:func:`inception_lab.nn.shape_walk.stage_shapes`).

Introduced in chapter 7 (``notebooks/07_lab.ipynb``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from inception_lab import cost
from inception_lab.models import PRESETS, build_model
from inception_lab.nn import shape_walk

#: Every family member's mini preset, in the order of the book, with the options that put it on the budget.
#: The auxiliary heads are off and dropout is 0 for all, so the recipe (main-head loss only) is the same for all;
#: presets not yet in :data:`inception_lab.models.PRESETS` are skipped by :func:`available_presets`.
LAB_PRESETS: dict[str, dict[str, Any]] = {
    "mini_googlenet": dict(width_divisor=8, aux_logits=False, dropout=0.0),  # [GoogLeNet], chapter 2
    "mini_bn_inception": dict(width_divisor=9, dropout=0.0),  # [BN], chapter 3
    "mini_inception_v2": dict(width_divisor=22),  # [Rethinking, §6], chapters 4-5
    "mini_inception_v3": dict(width_divisor=20, aux_logits=False),  # [Rethinking, §6-§10], chapter 6
}

#: What each mini preset is called in the lab's tables and charts. The two Rethinking minis are named by their layout,
#: not "v2" and "v3": both train with the lab's one recipe (Adam, small stem, no auxiliary head, no label smoothing),
#: so none of Table 3's v2 -> v3 changes is in either; they differ in module A's branch 2 (Fig. 5's 1x1 -> 3x3 vs the
#: released 1x1 -> 5x5), in the number of 17x17 modules (Table 1's five vs the released four) and in the width
#: divisor the budget gives each.
LAB_LABELS: dict[str, str] = {
    "mini_googlenet": "GoogLeNet",
    "mini_bn_inception": "BN-Inception",
    "mini_inception_v2": "Table 1 layout",
    "mini_inception_v3": "released layout",
}

#: The budget rule the mini presets follow, and why (chapter 7 explains it).
BUDGET_RULE = (
    "equal MACs: every mini preset costs the reference's multiply-accumulates per 32x32 image at inference "
    "(mini_googlenet with width divisor 8), within BUDGET_TOLERANCE. MACs are the budget the papers themselves "
    "design and compare at (GoogLeNet's '1.5 billion multiply-adds', Rethinking's Table 3 cost column and its "
    "equal-cost resolution study); they depend on the architecture alone, so they are exact and the same on every "
    "machine. Parameters are reported, not equalised (Inception trades parameters for compute on purpose), and "
    "wall-clock time is measured, not equalised (it depends on the machine, the thread count and kernels that cost "
    "time but no MACs, such as BatchNorm).")
#: The reference preset of the budget rule.
BUDGET_REFERENCE = "mini_googlenet"
#: Largest allowed relative difference between a preset's MACs and the reference's (integer width divisors move
#: the MACs in steps of about 25 %, so 15 % is the tightest tolerance every preset can meet).
BUDGET_TOLERANCE = 0.15



def available_presets() -> list[str]:
    """The presets of :data:`LAB_PRESETS` that this version of the library has, in the book's order."""
    return [name for name in LAB_PRESETS if name in PRESETS]


def build_lab_model(name: str, num_classes: int = 10, options: Mapping[str, Any] | None = None) -> torch.nn.Module:
    """The preset ``name`` with its budget options (:data:`LAB_PRESETS`), overridden by ``options``."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; the lab presets available here are {available_presets()}.")
    merged = {**LAB_PRESETS.get(name, {}), **(options or {})}
    return build_model(name, num_classes=num_classes, **merged)


# ---------------------------------------------------------------------------------------------------------
# The budget
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BudgetRow:
    """One preset's cost under the budget rule: parameters and MACs per image at inference, and the MAC ratio."""

    preset: str
    options: dict[str, Any]
    params: int
    macs: int
    ratio: float  # macs / reference macs


def model_cost(model: torch.nn.Module, image_size: int = 32) -> cost.Cost:
    """Parameters and MACs of ``model`` for one ``image_size`` image in eval mode (:func:`inception_lab.cost.count`)."""
    was_training = model.training
    report = cost.count(model.eval(), (1, 3, image_size, image_size))
    model.train(was_training)
    return cost.Cost(report.params, report.macs)


def budget_table(presets: Sequence[str] | None = None, image_size: int = 32,
                 options: Mapping[str, Mapping[str, Any]] | None = None) -> list[BudgetRow]:
    """Parameters and MACs of each preset with its budget options, and its MACs relative to the reference."""
    presets = available_presets() if presets is None else list(presets)
    options = options or {}
    reference = model_cost(build_lab_model(BUDGET_REFERENCE, options=options.get(BUDGET_REFERENCE)), image_size)
    rows = []
    for name in presets:
        merged = {**LAB_PRESETS.get(name, {}), **options.get(name, {})}
        c = model_cost(build_lab_model(name, options=options.get(name)), image_size)
        rows.append(BudgetRow(name, merged, c.params, c.macs, c.macs / reference.macs))
    return rows


def width_divisor_for_budget(name: str, target_macs: int, candidates: Sequence[int] = range(4, 17),
                             image_size: int = 32) -> tuple[int, int]:
    """The width divisor among ``candidates`` whose MACs are closest to ``target_macs``, and those MACs.

    How the divisors of :data:`LAB_PRESETS` were chosen (the tests check they are still the closest).
    """
    best = None
    for divisor in candidates:
        macs = model_cost(build_lab_model(name, options=dict(width_divisor=divisor)), image_size).macs
        if best is None or abs(macs - target_macs) < abs(best[1] - target_macs):
            best = (divisor, macs)
    if best is None:
        raise ValueError("candidates must hold at least one width divisor.")
    return best


@dataclass(frozen=True)
class FieldRow:
    """The last feature map of a preset before global pooling: its stage, grid and receptive field."""

    preset: str
    stage: str
    channels: int
    grid: int
    field: int  # receptive field of one position of that map, in input pixels (per side)


def last_layer_fields(presets: Sequence[str] | None = None, image_size: int = 32) -> list[FieldRow]:
    """For each preset: the last stage before the global average pool and its receptive field on the input.

    From the shape walk alone (:func:`inception_lab.nn.shape_walk.stage_shapes`), no forward pass. A field larger
    than the
    image means each position of the last map can draw on every input pixel (and on the zero padding around it).
    """
    rows = []
    for name in available_presets() if presets is None else presets:
        stages = shape_walk.stage_shapes(build_lab_model(name), image_size, image_size)
        stage = [s for s in stages if s != "avgpool"][-1]
        shape = stages[stage]
        rows.append(FieldRow(name, stage, shape.channels, shape.height, shape.field.size[0]))
    return rows
