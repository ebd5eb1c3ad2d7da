"""Chapter 2's and chapter 3's recorded comparisons read through the book's rule (experiments.findings)."""

from __future__ import annotations

import json
import math
import pathlib

import pytest

from inception_lab.experiments import aux_heads, bn_sweep
from inception_lab.experiments.findings import ALPHA

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def _aux_run(seed: int, aux: bool, shift: float, epochs: int = 6) -> dict:
    acc = [min(0.95, 0.1 * (e + 1) + shift) for e in range(epochs)]
    main = [1.0 + e for e in range(epochs)]
    return dict(seed=seed, aux=aux, test_acc=acc, main_grad_norm={"conv1": main},
                grad_norm_first_50_steps={"conv1": {"total": 2.0 if aux else 1.0, "main": 1.0}})


def test_aux_comparisons_pair_by_seed_and_follow_the_rule():
    seeds = list(range(6))
    runs = [_aux_run(s, True, 0.02) for s in seeds] + [_aux_run(s, False, 0.0) for s in seeds]
    verdicts = aux_heads.compare_aux_runs(dict(seeds=seeds, runs=runs))
    assert list(verdicts) == list(aux_heads.COMPARISONS)
    early = verdicts["early accuracy"]
    assert early.finding and early.p_value == pytest.approx(2 / 2**6) and early.mean == pytest.approx(0.02)
    objective = verdicts["objective gradient, first 50 steps"]
    assert objective.finding and objective.mean == pytest.approx(math.log(2))  # a log ratio: x2
    assert "x2.00" in aux_heads.describe("objective gradient, first 50 steps", objective)
    control = verdicts["main-loss gradient, first 50 steps"]
    assert not control.finding and control.p_value == 1.0  # all ties
    assert "+2.0 points" in aux_heads.describe("early accuracy", early)
    assert aux_heads.first_epoch_above([0.1, 0.4, 0.6, 0.7]) == 3 and aux_heads.first_epoch_above([0.1]) is None


def test_aux_comparisons_refuse_incomplete_pairs():
    runs = [_aux_run(0, True, 0.0), _aux_run(1, True, 0.0), _aux_run(1, False, 0.0)]
    with pytest.raises(ValueError, match=r"missing \(seed, aux\): \[\(0, False\)\]"):
        aux_heads.compare_aux_runs(dict(seeds=[0, 1], runs=runs))
    with pytest.raises(ValueError, match="unknown comparison"):
        aux_heads.endpoint(runs[0], "final accuracy")


def test_the_recorded_aux_run_has_its_verdicts_and_enough_seeds():
    result = json.loads((RESULTS / "aux_heads.json").read_text())
    assert len(result["seeds"]) >= 5 and result["settings"]["epochs"] == 15 and result["settings"]["n_train"] == 4000
    recomputed = aux_heads.compare_aux_runs(result)
    for name, stored in result["verdicts"]["comparisons"].items():
        assert stored["finding"] == recomputed[name].finding and stored["p_value"] == recomputed[name].p_value


def test_bn_sweep_verdicts_from_the_recorded_file():
    result = json.loads((RESULTS / "bn_lr_sweep.json").read_text())
    verdicts = bn_sweep.compare_sweep(result)
    assert len(verdicts) == 3 * len(result["learning_rates"]) + 1
    # Recomputed BN beat no BN in all five seeds at the three higher rates: p = 2/2**5, the rule's threshold.
    for lr in (0.03, 0.1, 0.3):
        c = verdicts["BN, recomputed", "no BN", lr]
        assert c.finding and c.p_value == pytest.approx(ALPHA) and c.interval[0] > 0
    assert not verdicts["BN, recomputed", "no BN", 0.01].finding  # one seed of five the other way
    assert not any(verdicts["BN, running averages", "no BN", lr].finding for lr in result["learning_rates"])
    assert bn_sweep.family_chance(result) == pytest.approx(1 - (1 - ALPHA) ** 13)
    assert bn_sweep.cell(verdicts["BN, recomputed", "no BN", 0.3]).endswith("**finding**")


def test_bn_sweep_refuses_missing_runs():
    result = json.loads((RESULTS / "bn_lr_sweep.json").read_text())
    result["runs"] = [r for r in result["runs"] if not (r["seed"] == 2 and r["lr"] == 0.1 and not r["bn"])]
    with pytest.raises(ValueError, match=r"\(2, False, 0.1\)"):
        bn_sweep.sweep_accuracy(result)
