"""The lab runner, its results file, the budget rule and the exercises of chapter 7 (CPU, tiny data, seeded)."""

import dataclasses
import json
import pickle

import numpy as np
import pytest
import torch
from conftest import cpu_threads
from torch.utils.flop_counter import FlopCounterMode

import inception_lab
from inception_lab import cost
from inception_lab.exercises import lab as ex
from inception_lab.experiments import budget, runner
from inception_lab.models import PRESETS

TINY = runner.Recipe(n_train=64, n_test=32, epochs=1, batch_size=16)


@pytest.fixture(scope="module")
def tiny_results():
    with cpu_threads(1):  # restored afterwards: the thread count is global state other tests see
        return runner.run_lab(["mini_googlenet", "mini_bn_inception"], TINY, seeds=[0, 1], device="cpu")


def test_run_lab_records_every_run_with_its_receipt(tiny_results):
    assert [(r.preset, r.seed) for r in tiny_results.runs] == [
        ("mini_googlenet", 0), ("mini_bn_inception", 0), ("mini_googlenet", 1), ("mini_bn_inception", 1)]
    for run in tiny_results.runs:
        assert run.steps == 4 and run.examples == 64 and run.epochs == 1
        assert 0.0 <= run.test_acc <= 1.0 and len(run.test_acc_curve) == 1
        assert run.library_version == inception_lab.__version__ and run.torch_version == torch.__version__
        assert run.device.startswith("cpu") and run.amp == "off"
        assert run.wall_time_s > 0 and run.cpu_time_s > 0
        assert "seed" in run.receipt() and "wall" not in run.receipt(timing=False)
    assert tiny_results.recipe["n_train"] == 64 and tiny_results.machine["library_version"] == inception_lab.__version__


def test_counts_in_the_results_are_the_exact_counts(tiny_results):
    for run in tiny_results.runs:
        model = budget.build_lab_model(run.preset).eval()
        report = cost.count(model, (1, 3, 32, 32))
        assert run.params == sum(p.numel() for p in model.parameters()) == report.params
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(torch.zeros(1, 3, 32, 32))
        assert run.macs == report.macs == counter.get_total_flops() // 2


def test_same_seed_same_run(one_cpu_thread):
    a = runner.run_lab(["mini_bn_inception"], TINY, seeds=[3], device="cpu")
    b = runner.run_lab(["mini_bn_inception"], TINY, seeds=[3], device="cpu")
    assert a.runs[0].test_acc == b.runs[0].test_acc and a.runs[0].test_loss == b.runs[0].test_loss


def test_save_and_load_round_trip(tiny_results, tmp_path):
    path = tmp_path / "lab.json"
    tiny_results.save(path)
    loaded = runner.LabResults.load(path)
    assert loaded.to_dict() == json.loads(path.read_text())
    assert loaded.table() == tiny_results.table() and loaded.receipts() == tiny_results.receipts()
    assert loaded.findings() == tiny_results.findings()
    path.write_text(json.dumps({"runs": [{"preset": "x"}]}))
    with pytest.raises(ValueError, match="not a lab results record"):
        runner.LabResults.load(path)


def _results(accs: dict) -> runner.LabResults:
    runs = [runner.LabRun(preset=p, seed=s, options={}, params=1, macs=1, test_acc=a, test_loss=0.0, train_acc=0.0,
                       test_acc_curve=[a], steps=1, examples=1, epochs=1, wall_time_s=1.0, cpu_time_s=1.0,
                       device="cpu", amp="off", torch_version="t", library_version="v")
            for p, values in accs.items() for s, a in enumerate(values)]
    return runner.LabResults(recipe={}, runs=runs)


def test_within_spread_means_overlapping_ranges():
    results = _results({"a": [0.80, 0.90, 0.85], "b": [0.88, 0.95, 0.92], "c": [0.50, 0.55, 0.52]})
    assert results.within_spread("a", "b") and results.within_spread("b", "a")
    assert not results.within_spread("a", "c")
    summary = {s.preset: s for s in results.summary()}
    assert summary["a"].spread == pytest.approx(0.10) and summary["b"].mean_acc == pytest.approx(0.9166666)
    findings = results.findings()
    assert findings[0].startswith("b - a:") and "within the spread" in findings[0]
    assert any(f.startswith("a - c:") and "larger than the spread" in f for f in findings)
    with pytest.raises(ValueError, match="not in these results"):
        results.within_spread("a", "zzz")


def test_bad_arguments_say_what_is_allowed():
    with pytest.raises(ValueError, match="non-empty list"):
        runner.run_lab("mini_googlenet", TINY)
    with pytest.raises(ValueError, match="unknown preset"):
        runner.run_lab(["mini_alexnet"], TINY)
    with pytest.raises(ValueError, match="dataset"):
        runner.Recipe(dataset="imagenet")
    with pytest.raises(ValueError, match="n_train"):
        runner.make_datasets(runner.Recipe(n_train=None))
    with pytest.raises(ValueError, match="unknown preset"):
        budget.build_lab_model("mini_alexnet")


def test_time_steps_and_estimate():
    times = runner.time_steps(["mini_googlenet", "mini_bn_inception"], TINY, repeats=1, steps=1, device="cpu")
    assert set(times) == {"mini_googlenet", "mini_bn_inception"} and all(t > 0 for t in times.values())
    estimate = runner.estimate_seconds({"m": 100.0}, TINY, n_train=64, seeds=2)
    assert estimate == {"m": pytest.approx(0.1 * 4 * 2)}


# --- the budget rule -----------------------------------------------------------------------------------------

def test_every_lab_preset_is_on_the_budget():
    rows = budget.budget_table()
    assert [r.preset for r in rows] == budget.available_presets()
    assert {"mini_googlenet", "mini_bn_inception"} <= set(budget.available_presets())
    for row in rows:
        assert abs(row.ratio - 1) <= budget.BUDGET_TOLERANCE, row
        model = budget.build_lab_model(row.preset)
        assert row.params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", [n for n in budget.LAB_PRESETS if n in PRESETS and n != budget.BUDGET_REFERENCE])
def test_width_divisors_are_the_closest_to_the_budget(name):
    target = budget.model_cost(budget.build_lab_model(budget.BUDGET_REFERENCE)).macs
    chosen = budget.LAB_PRESETS[name]["width_divisor"]
    divisor, _ = budget.width_divisor_for_budget(name, target, candidates=range(chosen - 2, chosen + 3))
    assert divisor == budget.LAB_PRESETS[name]["width_divisor"]


def test_last_layer_fields_come_from_the_shape_walk():
    rows = {r.preset: r for r in budget.last_layer_fields()}
    googlenet = rows["mini_googlenet"]
    assert (googlenet.stage, googlenet.channels, googlenet.grid) == ("inception5b", 128, 2)
    assert all(r.field > 32 for r in rows.values())  # every last layer sees the whole 32x32 image


# --- the GPU tier's code path on tiny fake CIFAR-10 (no network) ----------------------------------------------

def _write_fake_cifar(root, per_batch=4):
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"batch_label": name, "data": rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8),
                 "labels": [i % 10 for i in range(per_batch)], "filenames": [f"{i}.png" for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}))


def test_the_cifar10_switch_trains_the_same_presets(tmp_path, monkeypatch):
    cifar = pytest.importorskip("torchvision.datasets.cifar")
    _write_fake_cifar(tmp_path)
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)  # fake files, other MD5s
    recipe = dataclasses.replace(runner.Recipe.cifar10(epochs=1, batch_size=8, root=str(tmp_path)), num_workers=0)
    assert recipe.augment and recipe.channels_last and recipe.amp is None
    results = runner.run_lab(["mini_googlenet"], recipe, seeds=[0], device="cpu")
    run = results.runs[0]
    assert run.examples == 20 and run.steps == 3 and results.recipe["dataset"] == "cifar10"


def test_cifar10_offline_gives_the_clear_message(tmp_path, monkeypatch):
    cifar = pytest.importorskip("torchvision.datasets.cifar")

    def offline(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(cifar, "download_and_extract_archive", offline)
    with pytest.raises(RuntimeError, match="No internet"):
        runner.make_datasets(runner.Recipe.cifar10(root=str(tmp_path)))


# --- exercises -----------------------------------------------------------------------------------------------

def test_module_macs_exercise():
    model = budget.build_lab_model("mini_googlenet")
    module = model.inception3a.eval()
    right = cost.count(module, (1, module.in_channels, 8, 8)).macs
    assert right == 163_328 and ex.module_macs(right).correct
    assert "FLOPs" in str(ex.module_macs(2 * right))
    assert "32x32 input grid" in str(ex.module_macs(cost.count(module, (1, module.in_channels, 32, 32)).macs))
    assert "one output position" in str(ex.module_macs(right // 64))
    assert "only the 1x1" in str(ex.module_macs(39_936))
    assert "should be a number" in str(ex.module_macs(None))


def test_budget_divisor_exercise():
    right = budget.LAB_PRESETS["mini_bn_inception"]["width_divisor"]
    assert ex.budget_divisor(right).correct
    assert "30%" in str(ex.budget_divisor(8))
    assert "divide less" in str(ex.budget_divisor(12))
    assert "integer" in str(ex.budget_divisor("9")) and "between" in str(ex.budget_divisor(40))


def test_is_finding_exercise():
    results = _results({"a": [0.80, 0.90, 0.85], "b": [0.88, 0.95, 0.92], "c": [0.50, 0.55, 0.52]})
    assert ex.is_finding(False, results, "b", "a").correct and ex.is_finding(True, results, "a", "c").correct
    assert "ranges over the seeds overlap" in str(ex.is_finding(True, results, "b", "a"))
    assert "the ranges, not only the means" in str(ex.is_finding(False, results, "a", "c"))
    assert "True (a finding)" in str(ex.is_finding("yes", results, "a", "c"))
