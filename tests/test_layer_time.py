"""The performance suite's library part: layer kinds, in-place layer times, the CPU's limits, the chart.

Timing values depend on the machine; what is checked is what cannot depend on it: the kinds cover every layer that
ran, the MACs add up to ``cost.count``'s (and the training-step MACs to ``FlopCounterMode``'s), the shares add up
to 1, the exclusive times add up to the hooked forward pass, the bytes follow from the shapes.
"""

from __future__ import annotations

import math

import matplotlib
import pytest
import torch
from conftest import load_module
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from inception_lab.cost import count
from inception_lab.experiments.cpu_limits import (
    LimitSampler,
    attainable_rate,
    conv_macs,
    conv_rate,
    copy_bandwidth,
    matmul_macs,
    matmul_rate,
)
from inception_lab.experiments.layer_time import (
    KINDS,
    MAC_KINDS,
    LayerTimeReport,
    layer_kind,
    measure_layer_times,
    peak_fractions,
)
from inception_lab.models import build_model
from inception_lab.nn.batchnorm import ScratchBatchNorm2d
from inception_lab.nn.branches import MultiBranch
from inception_lab.nn.layers import ConvBNReLU
from inception_lab.nn.losses import inception_loss
from inception_lab.viz.display import alt_text

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.mark.parametrize("module, kind", [
    (nn.Conv2d(4, 4, 1), "conv 1x1"),
    (nn.Conv2d(4, 4, 3, padding=1), "conv 3x3"),
    (nn.Conv2d(4, 4, 5), "conv 5x5"),
    (nn.Conv2d(4, 4, (1, 7)), "conv 1x7/7x1"),
    (nn.Conv2d(4, 4, (7, 1)), "conv 1x7/7x1"),
    (nn.Conv2d(4, 4, (1, 3)), "conv 1x3/3x1"),
    (nn.Conv2d(4, 4, (3, 1)), "conv 1x3/3x1"),
    (nn.Conv2d(4, 4, 3, stride=2), "conv stride 2"),
    (nn.Conv2d(4, 4, 7, stride=2), "conv stride 2"),
    (nn.Conv2d(4, 4, 7), "conv other"),
    (nn.Conv2d(4, 4, 3, groups=4), "conv other"),
    (nn.Linear(4, 2), "linear"),
    (nn.BatchNorm2d(4), "batchnorm"),
    (ScratchBatchNorm2d(4), "batchnorm"),
    (nn.ReLU(), "relu"),
    (nn.MaxPool2d(3, 2), "pooling"),
    (nn.AvgPool2d(3, 1, 1), "pooling"),
    (nn.AdaptiveAvgPool2d(1), "pooling"),
    (nn.Dropout(0.5), "other"),
    (nn.Identity(), "other"),
    (nn.Sequential(nn.ReLU()), "glue"),
    (ConvBNReLU(4, 4, 1), "glue"),
])
def test_layer_kind(module, kind):
    assert layer_kind(module) == kind
    assert kind in KINDS


def test_layer_kind_rejects_non_modules():
    with pytest.raises(ValueError, match="torch.nn.Module"):
        layer_kind("conv")


class TwoBranches(MultiBranch):
    def __init__(self) -> None:
        super().__init__(3)
        self.add_branch("a", ("a", nn.Conv2d(3, 4, 1)))
        self.add_branch("b", ("b", nn.Conv2d(3, 2, 3, padding=1)))


def test_multibranch_is_concatenation():
    assert layer_kind(TwoBranches()) == "concatenation"


@pytest.fixture(autouse=True)
def one_thread():
    """One thread, as the suite runs: on a shared 2-core machine, two OpenMP threads can wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def mini_v3_report():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = build_model("mini_inception_v3").train()
    x = torch.randn(2, 3, 32, 32)
    calls = []
    report = measure_layer_times(model, x, reps=3, warmup=1, between=lambda: calls.append(1))
    torch.set_num_threads(threads)
    return model, x, report, calls, model.training


def test_report_covers_every_layer_that_ran(mini_v3_report):
    model, x, report, _, _ = mini_v3_report
    ran: list[str] = []
    names = {m: n for n, m in model.named_modules()}
    handles = [m.register_forward_hook(lambda mod, i, o: ran.append(names[mod])) for m in model.modules()]
    with torch.no_grad():
        model.eval()(x)
    for h in handles:
        h.remove()
    reported = {layer.name: layer.kind for layer in report.layers}
    assert set(reported) == set(ran)  # every module that ran, no other
    modules = dict(model.named_modules())
    leaves = [n for n in ran if next(modules[n].children(), None) is None]
    assert leaves and all(reported[n] == layer_kind(modules[n]) != "glue" for n in leaves)
    assert "AuxLogits" not in reported or model.AuxLogits is None  # eval mode: the aux head does not run
    assert [k.kind for k in report.kinds] == [k for k in KINDS if k in set(reported.values())]
    assert sum(k.layers for k in report.kinds) == len(report.layers)


def test_mode_is_restored_and_between_is_called(mini_v3_report):
    _, _, report, calls, training_after = mini_v3_report
    assert training_after
    assert len(calls) == report.reps == 3
    assert len(report.forward_samples) == len(report.hooked_samples) == 3


def test_macs_add_up_to_cost_count(mini_v3_report):
    model, x, report, _, _ = mini_v3_report
    total = count(model.eval(), tuple(x.shape)).macs
    assert report.total_macs == total == sum(k.macs for k in report.kinds) == sum(lay.macs for lay in report.layers)
    assert all(k.macs == 0 for k in report.kinds if k.kind not in MAC_KINDS)
    # an independent count of one kind: every 1x7 / 7x1 convolution from its weight and output shape
    outputs = {}
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and tuple(m.kernel_size) in ((1, 7), (7, 1))]
    handles = [m.register_forward_hook(lambda mod, i, o: outputs.__setitem__(mod, o.shape)) for m in convs]
    with torch.no_grad():
        model.eval()(x)
    for h in handles:
        h.remove()
    expected = sum(math.prod(outputs[m]) * m.weight[0].numel() for m in convs)
    assert expected > 0 and report.kind("conv 1x7/7x1").macs == expected


def test_shares_sum_to_one(mini_v3_report):
    _, _, report, _, _ = mini_v3_report
    assert math.isclose(sum(k.time_share for k in report.kinds), 1.0, rel_tol=1e-9)
    assert math.isclose(sum(k.mac_share for k in report.kinds), 1.0, rel_tol=1e-9)
    assert all(k.seconds > 0 for k in report.kinds if k.kind != "other")


def test_exclusive_times_add_up_to_the_hooked_pass(mini_v3_report):
    _, _, report, _, _ = mini_v3_report
    for rep, hooked in enumerate(report.hooked_samples):
        parts = sum(samples[rep] for samples in report.kind_samples.values())
        assert math.isclose(parts, hooked, rel_tol=1e-9)
    assert report.forward_seconds > 0 and report.coverage > 0


def test_bytes_and_intensity_from_shapes():
    conv = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU())
    report = measure_layer_times(conv, torch.randn(1, 3, 8, 8), reps=1, warmup=0)
    c = report.kind("conv 3x3")
    assert c.macs == 4 * 6 * 6 * 3 * 9  # outputs x (C_in x k x k)
    assert c.bytes == 4 * (3 * 8 * 8 + 4 * 3 * 9 + 4 * 6 * 6)  # fp32 input + weights + output
    assert c.intensity == c.macs / c.bytes
    assert report.kind("batchnorm").bytes == 4 * (2 * 4 * 6 * 6 + 4 * 4)  # in + out + gamma, beta, mean, var
    assert report.kind("relu").bytes == 4 * 2 * 4 * 6 * 6
    assert report.kind("relu").intensity == 0.0
    cat = measure_layer_times(TwoBranches(), torch.randn(1, 3, 5, 5), reps=1, warmup=0).kind("concatenation")
    assert cat.bytes == 2 * 4 * (6 * 5 * 5) and cat.layers == 1


def test_round_trip_and_table(mini_v3_report):
    _, _, report, _, _ = mini_v3_report
    again = LayerTimeReport.from_dict(report.to_dict())
    assert again == report
    assert "conv 1x7/7x1" in report.table() and "coverage" in report.table()
    with pytest.raises(ValueError, match="layer-time record"):
        LayerTimeReport.from_dict({"kinds": []})
    with pytest.raises(ValueError, match="no layers of kind"):
        report.kind("conv 9x9")


def test_peak_fractions(mini_v3_report):
    _, _, report, _, _ = mini_v3_report
    rows = peak_fractions(report, peak_macs_per_s=1e10, bytes_per_s=1e10)
    assert [r["kind"] for r in rows] == [k.kind for k in report.kinds]
    for row, k in zip(rows, report.kinds, strict=True):
        assert math.isclose(row["peak_fraction"], k.macs / k.seconds / 1e10)
        assert row["bound_by"] == ("compute" if k.intensity >= 1.0 else "memory")  # ridge point 1 MAC/byte here
        assert row["roofline_fraction"] >= row["peak_fraction"]
    with pytest.raises(ValueError, match="positive"):
        peak_fractions(report, 0.0, 1e10)


@pytest.mark.parametrize("bad", [dict(reps=0), dict(warmup=-1)])
def test_measure_rejects_bad_arguments(bad):
    with pytest.raises(ValueError, match="reps|warmup"):
        measure_layer_times(nn.ReLU(), torch.randn(1, 2), **bad)


def test_measure_rejects_bad_inputs():
    with pytest.raises(ValueError, match="torch.nn.Module"):
        measure_layer_times("model", torch.randn(1, 2))
    with pytest.raises(ValueError, match="batch dimension"):
        measure_layer_times(nn.ReLU(), torch.randn(5))


def test_cpu_limits():
    assert matmul_macs(3) == 27
    assert conv_macs(1, 2, 4) == 4 * 4 * 2 * 2 * 9
    assert matmul_rate(size=64, repeats=1) > 0
    assert conv_rate(1, 8, 8, repeats=1) > 0
    assert copy_bandwidth(megabytes=1, repeats=1) > 0
    assert attainable_rate(2.0, peak_macs_per_s=10.0, bytes_per_s=1.0) == 2.0  # memory-bound
    assert attainable_rate(20.0, peak_macs_per_s=10.0, bytes_per_s=1.0) == 10.0  # compute-bound
    with pytest.raises(ValueError):
        attainable_rate(-1.0, 10.0, 1.0)
    with pytest.raises(ValueError, match="size"):
        matmul_rate(size=0)
    with pytest.raises(ValueError, match="channels"):
        conv_rate(1, 0, 8)
    sampler = LimitSampler(size=64, conv_shape=(1, 8, 8), megabytes=1, repeats=1)
    with pytest.raises(ValueError, match="no samples"):
        sampler.summary()
    sampler.sample()
    sampler.sample()
    summary = sampler.summary()
    assert summary["samples"] == 2
    for clock in ("wall", "cpu"):
        best = {what: max(sampler.samples[what][clock]) for what in ("matmul", "conv3x3", "copy")}
        assert summary[clock]["matmul_macs_per_s"] == best["matmul"] > 0
        assert summary[clock]["peak_macs_per_s"] == max(best["matmul"], best["conv3x3"])
        assert summary[clock]["peak_bytes_per_s"] == best["copy"]
        assert sampler.ridge_point(clock) == sampler.peak_macs_per_s(clock) / sampler.peak_bytes_per_s(clock)
    with pytest.raises(ValueError, match="clock"):
        sampler.peak_macs_per_s("gpu")
    with pytest.raises(ValueError, match="what"):
        sampler.best("fft")
    with pytest.raises(ValueError, match="megabytes"):
        LimitSampler(megabytes=0)


def test_cpu_clock_breakdown():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    report = measure_layer_times(model, torch.randn(2, 3, 16, 16), reps=2, warmup=0, clock="cpu")
    assert report.clock == "cpu" and math.isclose(sum(k.time_share for k in report.kinds), 1.0)
    with pytest.raises(ValueError, match="clock"):
        measure_layer_times(model, torch.randn(2, 3, 16, 16), reps=1, clock="gpu")


@pytest.mark.parametrize("name", ["mini_googlenet", "mini_inception_v3", "mini_bn_inception"])
def test_training_step_macs_match_flop_counter(name):
    """bench_perf's training-step MACs (3 x forward - first conv) equal what FlopCounterMode counts for fwd + bwd."""
    bench = load_module("benchmarks/bench_perf.py")
    torch.manual_seed(0)
    model = build_model(name)
    shape = (2, 3, 64, 64)
    macs = bench.train_step_macs(model, shape)
    x, y = torch.randn(shape), torch.randint(0, 10, (2,))
    with FlopCounterMode(display=False) as flops:
        inception_loss(model.train()(x), y).backward()
    assert 2 * macs["train_step_macs"] == flops.get_total_flops()


def test_bench_paired_ratio():
    bench = load_module("benchmarks/bench_perf.py")
    r = bench.paired({"wall": [1.0, 2.0, 4.0]}, {"wall": [2.0, 2.0, 2.0]})
    assert (r["median"], r["min"], r["max"]) == (1.0, 0.5, 2.0)
    assert r["of_medians"] == 1.0


def test_plot_time_vs_macs(mini_v3_report):
    from inception_lab.viz.perf import plot_time_vs_macs

    _, _, report, _, _ = mini_v3_report
    fig = plot_time_vs_macs(report.kinds, title="mini")
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * len(report.kinds)
    assert [t.get_text() for t in ax.get_yticklabels()] == [k.kind for k in report.kinds]
    assert "conv 1x1" in alt_text(fig) and "% of time" in alt_text(fig)
    plt.close(fig)
    fewer = plot_time_vs_macs(report.kinds, min_share=0.05)
    assert len(fewer.axes[0].patches) < 2 * len(report.kinds)
    plt.close(fewer)
    with pytest.raises(ValueError, match="at least one"):
        plot_time_vs_macs([])


def test_recorded_results_match_the_code():
    """benchmarks/results/perf.json: its MACs are what cost.count gives today, its fractions follow from its samples."""
    import json
    import pathlib
    import statistics

    record = json.loads((pathlib.Path(__file__).resolve().parents[1] / "benchmarks/results/perf.json").read_text())
    torch.manual_seed(0)
    per_image = count(build_model("inception_v3").eval(), (1, 3, 299, 299)).macs
    for layout, data in record["layer_kinds"].items():
        report = LayerTimeReport.from_dict(data)
        assert report.total_macs == report.input_shape[0] * per_image == sum(k.macs for k in report.kinds), layout
        assert math.isclose(sum(k.time_share for k in report.kinds), 1.0, rel_tol=1e-9)
        assert abs(report.coverage - 1) <= load_module("benchmarks/bench_perf.py").COVERAGE_TOLERANCE
    assert record["presets"]["presets"]["inception_v3"]["forward_macs"] == record["batch"] * per_image
    limits = record["limits"]
    for clock in ("wall", "cpu"):
        assert limits[clock]["peak_macs_per_s"] == max(limits["raw"]["matmul"][clock] + limits["raw"]["conv3x3"][clock])
        for name, row in record["presets"]["presets"].items():
            rate = row["forward_macs"] / statistics.median(row["eval_seconds"][clock])
            assert math.isclose(record["preset_rates"][name][f"eval_peak_fraction_{clock}"],
                                rate / limits[clock]["peak_macs_per_s"])
    assert all(check["identical_eval_outputs"] for check in record["versus"]["checks"].values())
