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
    assert {"cpu_model", "cpu_capability", "load_average", "device"} <= set(tiny_results.machine)


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


def test_within_spread_is_the_old_overlap_rule():
    results = _results({"a": [0.80, 0.90, 0.85], "b": [0.88, 0.95, 0.92], "c": [0.50, 0.55, 0.52]})
    assert results.within_spread("a", "b") and results.within_spread("b", "a")
    assert not results.within_spread("a", "c")
    summary = {s.preset: s for s in results.summary()}
    assert summary["a"].spread == pytest.approx(0.10) and summary["b"].mean_acc == pytest.approx(0.9166666)
    with pytest.raises(ValueError, match="not in these results"):
        results.within_spread("a", "zzz")


def test_findings_are_paired_by_seed_with_the_sign_test():
    # b beats a on every one of 5 seeds by 1 point although a's seeds spread over 40 points: a finding only paired
    a = [0.40, 0.50, 0.60, 0.70, 0.80]
    results = _results({"a": a, "b": [x + 0.01 for x in a], "c": [0.615, 0.60, 0.625, 0.585, 0.60]})
    assert results.within_spread("a", "b")  # the ranges overlap: the old rule would see nothing
    ab = results.comparison("b", "a")
    assert ab.finding and ab.p_value == pytest.approx(2 / 2**5) and ab.mean == pytest.approx(0.01)
    assert ab.interval[0] == pytest.approx(0.01) and ab.interval[1] == pytest.approx(0.01)
    ac = results.comparison("c", "a")  # c wins on 3 seeds, loses on 2: not a finding
    assert not ac.finding and ac.p_value == 1.0
    pairs = results.comparisons()
    assert [(c.a_name, c.b_name) for c in pairs] == [("b", "c"), ("b", "a"), ("c", "a")]  # by mean accuracy
    lines = results.findings()
    assert len(lines) == 4 and "b - a: +1.00 points" in lines[1] and ": a finding" in lines[1]
    assert "not a finding" in lines[2]
    assert results.family_chance() == pytest.approx(1 - (1 - 2 / 32) ** 3)
    assert "3 pairs" in lines[3] and f"{100 * results.family_chance():.0f} %" in lines[3]
    three = _results({"a": a[:3], "b": [x + 0.01 for x in a[:3]]})
    assert not three.comparison("b", "a").finding  # 3 of 3 seeds agree, but 3 seeds are too few
    with pytest.raises(ValueError, match="share no seed"):
        runner.LabResults(recipe={}, runs=_results({"a": [0.5]}).runs + [
            dataclasses.replace(_results({"b": [0.6]}).runs[0], seed=7)]).comparison("a", "b")


def test_plateau_epoch():
    rising = [0.1 * e for e in range(1, 11)]
    assert runner.plateau_epoch(rising) is None  # still gaining at the end
    flat_after_6 = [0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.955, 0.96, 0.958, 0.96, 0.961, 0.959]
    # gain at epoch e: mean(e-2..e) - mean(e-5..e-3); at 10: 0.9593 - 0.935 = 0.024 >= 0.01; at 11: 0.005 < 0.01
    assert runner.plateau_epoch(flat_after_6) == 11
    stuck_then_climbs = [0.1] * 8 + [0.3, 0.5, 0.7, 0.8, 0.81, 0.81, 0.81, 0.81, 0.81, 0.81]
    # epochs 6-8 gain 0 (stuck at chance) but later ones gain: not a plateau; at 16: 0.81 - 0.77; at 17: 0.0033
    assert runner.plateau_epoch(stuck_then_climbs) == 17
    assert runner.plateau_epoch([0.5] * 5) is None  # too short for two windows
    with pytest.raises(ValueError, match="min_gain"):
        runner.plateau_epoch(rising, min_gain=0)


def test_vary_data_gives_each_seed_its_own_images_and_keeps_the_presets_paired(one_cpu_thread):
    fixed = runner.run_lab(["mini_googlenet"], TINY, seeds=[0, 1], device="cpu")
    varied = runner.run_lab(["mini_googlenet", "mini_bn_inception"], TINY, seeds=[0, 1], device="cpu",
                            vary_data=True)
    assert [r.data_seed for r in fixed.runs] == [0, 0]
    assert [(r.preset, r.seed, r.data_seed) for r in varied.runs] == [
        ("mini_googlenet", 0, 0), ("mini_bn_inception", 0, 0), ("mini_googlenet", 1, 1), ("mini_bn_inception", 1, 1)]
    assert varied.runs[0].test_acc == fixed.runs[0].test_acc  # seed 0 draws data seed 0 either way
    other = runner.run_lab(["mini_googlenet"], dataclasses.replace(TINY, data_seed=1), seeds=[1], device="cpu")
    assert other.runs[0].test_acc == varied.runs[2].test_acc and other.runs[0].test_loss == varied.runs[2].test_loss
    assert "data seed 1" in varied.runs[2].receipt()
    with pytest.raises(ValueError, match="ready-made"):
        runner.run_lab(["mini_googlenet"], TINY, datasets=runner.make_datasets(TINY), vary_data=True)


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
    a = [0.40, 0.50, 0.60, 0.70, 0.80]
    results = _results({"a": a, "b": [x + 0.01 for x in a], "c": [0.615, 0.60, 0.625, 0.585, 0.60]})
    assert ex.is_finding(True, results, "b", "a").correct and ex.is_finding(False, results, "c", "a").correct
    assert "5 of 5 seeds agree in sign" in str(ex.is_finding(True, results, "b", "a"))
    assert "the runs by seed" in str(ex.is_finding(False, results, "b", "a"))  # the ranges overlap: a trap
    assert "do not all agree in sign" in str(ex.is_finding(True, results, "c", "a"))
    three = _results({"a": a[:3], "b": [x + 0.01 for x in a[:3]]})
    assert "a finding needs at least 5" in str(ex.is_finding(True, three, "b", "a"))  # 3 of 3 agree: too few
    assert "True (a finding)" in str(ex.is_finding("yes", results, "a", "c"))
    assert "benchmarks/results/lab.json" in str(ex.is_finding(True, None, "a", "c"))


def test_range_rule_chance_exercise():
    assert ex.range_rule_chance(0.1).correct and ex.range_rule_chance(2 / 20).correct
    assert "three largest" in str(ex.range_rule_chance(1 / 20))
    assert "sign test on three pairs" in str(ex.range_rule_chance(0.25))
    assert "over all six pairs" in str(ex.range_rule_chance(1 - 0.9**6))
    assert "not a percentage" in str(ex.range_rule_chance(10))
    assert "exchangeable" in str(ex.range_rule_chance(0.3))
    assert "should be a number" in str(ex.range_rule_chance(None))


# --- the measured effective field -----------------------------------------------------------------------------

def test_gradient_map_window_is_the_square_that_holds_the_mass():
    from inception_lab.experiments import receptive_field as rf

    point = np.zeros((9, 9))
    point[4, 4] = 1.0
    uniform = np.ones((9, 9))
    assert rf.GradientMap(point, (4, 4, 4, 4), (0, 0)).window(0.9) == 1
    assert rf.GradientMap(uniform, (0, 8, 0, 8), (0, 0)).window(1.0) == 9
    assert rf.GradientMap(uniform, (0, 8, 0, 8), (0, 0)).window(0.5) == 7  # 49/81 >= 0.5 > 36/81
    corner = np.zeros((9, 9))
    corner[:2, :2] = 1.0  # mass in a corner: the square follows the centre of mass, clipped to the input
    assert rf.GradientMap(corner, (0, 1, 0, 1), (0, 0)).window(1.0) == 2
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    torch.nn.init.ones_(conv.weight)
    measured = rf.gradient_map(conv, 1, 9)
    assert measured.size == (3, 3) and measured.window(1.0) == 3 and measured.window(0.1) == 1
    with pytest.raises(ValueError, match="fraction"):
        measured.window(0)


def test_gradient_map_of_given_inputs():
    from inception_lab.experiments import receptive_field as rf

    conv = torch.nn.Conv2d(2, 1, 3, padding=1, bias=False)
    images = torch.randn(4, 2, 7, 7, generator=torch.Generator().manual_seed(0))
    measured = rf.gradient_map(conv, 2, 7, inputs=images)
    assert measured.size == (3, 3) and not images.requires_grad
    with pytest.raises(ValueError, match="inputs must be N x 2 x 7 x 7"):
        rf.gradient_map(conv, 2, 7, inputs=images[:, :1])


def test_the_rethinking_minis_differ_as_their_labels_say():
    """'Table 1 layout' vs 'released layout': module A's branch 2 and the number of 17x17 (here 7x7) modules."""
    from inception_lab.experiments import knockout
    from inception_lab.nn import shape_walk

    assert set(budget.LAB_LABELS) == set(budget.LAB_PRESETS)
    built = {name: budget.build_lab_model(name) for name in ("mini_inception_v2", "mini_inception_v3")}
    assert built["mini_inception_v2"].Mixed_5b.branch_labels["branch3x3"] == "1x1 -> 3x3"  # Fig. 5
    assert built["mini_inception_v3"].Mixed_5b.branch_labels["branch5x5"] == "1x1 -> 5x5"  # released
    on_7x7 = {name: sum(shape_walk.stage_shapes(m, 32, 32)[s].height == 7 for s in knockout.inception_modules(m))
              for name, m in built.items()}
    assert on_7x7 == {"mini_inception_v2": 6, "mini_inception_v3": 5}  # the reduction Mixed_6a, then 5 vs 4 modules
    for model in built.values():
        assert model.aux_logits is False and isinstance(model.AuxLogits, torch.nn.Identity)  # no auxiliary head
