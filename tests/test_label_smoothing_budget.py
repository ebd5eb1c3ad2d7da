"""Chapter 6's label-smoothing benchmark: its budget rule, and the recorded run read back through the book's rule."""

from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest

from inception_lab.experiments.findings import ALPHA, paired_comparison

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_label_smoothing",
                                                  ROOT / "benchmarks" / "bench_label_smoothing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plateau_epoch_is_the_first_epoch_whose_last_window_gains_less_than_the_step(bench):
    rising = [0.1 * e for e in range(1, 13)]  # 10 points per epoch: never flat
    assert bench.plateau_epoch(rising) is None
    slowing = [0.2, 0.4, 0.6, 0.8, 0.85, 0.86, 0.865, 0.866, 0.867, 0.868]
    # epochs 7-9 average 0.866, 4-6 0.837: 2.9 points, not flat; epochs 8-10 vs 5-7: 0.867 vs 0.858, flat
    assert bench.plateau_epoch(slowing) == 10
    assert bench.plateau_epoch([0.1, 0.84] + [0.85] * 5) == 7  # 0.850 vs 0.847
    assert bench.plateau_epoch([0.5] * 6) == 6


def test_budget_from_pilot_rounds_up_to_even_and_stays_within_the_caps(bench):
    rule = bench.PLATEAU
    assert bench.budget_from_pilot([[0.1 * e for e in range(1, 13)]] * 2) == rule["longest"] == 12
    assert bench.budget_from_pilot([[0.5] * 12]) == rule["shortest"]
    assert bench.budget_from_pilot([[0.1, 0.84] + [0.85] * 10]) == 8  # plateau at 7, rounded up to even


def test_the_recorded_run_used_the_budget_the_pilot_fixed(bench):
    pilot = json.loads((RESULTS / "label_smoothing_pilot.json").read_text())
    record = json.loads((RESULTS / "label_smoothing.json").read_text())
    assert pilot["epsilons"] == [0.0] and not set(pilot["seeds"]) & set(record["seeds"])
    curves = [r["test_accuracy_per_epoch"] for r in pilot["runs"]]
    assert pilot["budget"]["epochs"] == bench.budget_from_pilot(curves) == bench.DEFAULTS["epochs"]
    args = record["args"]
    assert (args["epochs"], args["n_train"], args["lr_decay"]) == (
        bench.DEFAULTS["epochs"], bench.DEFAULTS["n_train"], bench.DEFAULTS["lr_decay"])
    assert record["seeds"] == [int(s) for s in bench.DEFAULTS["seeds"].split(",")]
    assert len(record["seeds"]) >= 5 and record["alpha"] == ALPHA


def test_the_recorded_verdicts_follow_from_the_recorded_runs(bench):
    record = json.loads((RESULTS / "label_smoothing.json").read_text())
    by = {(r["seed"], r["label_smoothing"]): r for r in record["runs"]}
    seeds = record["seeds"]
    for metric, verdict in record["verdicts"].items():
        again = paired_comparison([by[s, 0.1][metric] for s in seeds], [by[s, 0.0][metric] for s in seeds], seeds)
        assert again.finding == verdict["finding"] and again.p_value == pytest.approx(verdict["p_value"])
        assert list(again.differences) == pytest.approx(verdict["differences"])
