"""The performance suite: how far each network runs from this CPU's limit, where the time goes, ours vs torchvision.

Usage:
    python benchmarks/bench_perf.py [--threads 1] [--batch 2] [--reps 5] [--quick] [--skip-compile]

Four parts, each timed with warm-up and *interleaved* repetitions (every variant once per repetition, in a new random
order each time; medians), so that a change in the machine's load hits everything alike; the CPU's limits are sampled
*between* the repetitions of every part (:class:`~inception_lab.experiments.cpu_limits.LimitSampler`), so the peak
that the networks are compared with was measured under the same load:

1. **Limits.** The dense-matmul peak (best MACs/s of ``torch.mm`` on ``--mm-size`` square fp32 matrices), the conv
   peak (a large 3x3 convolution: oneDNN outruns the BLAS on some CPUs), the compute peak as the better of the two,
   and the copy bandwidth (best bytes/s copying a ``--copy-mb`` buffer), all with the networks' thread count
   (:mod:`inception_lab.experiments.cpu_limits`).
2. **Presets.** Every full-size preset of ``inception_lab.models.PRESETS`` (the ``mini_`` ones left out), at its
   paper's input size, with its auxiliary heads: eval forward (``no_grad``) and training step (train-mode forward
   with the auxiliary heads, ``inception_loss`` with aux weight 0.3, backward, SGD step). MACs/s as a fraction of the
   compute peak (and of the matmul peak). Forward MACs: ``cost.count`` in eval mode. Training-step MACs: 3 x the
   train-mode forward MACs (auxiliary heads included) - the first convolution's (the backward pass computes, for
   every convolution and linear layer, the gradient of its weights and of its input, each as many MACs as the
   forward; the image needs no gradient).
3. **Layer kinds of Inception-v3** (eval forward): time share, MAC share, MACs/s as a fraction of the peak, and
   arithmetic intensity, measured in place with forward hooks (:mod:`inception_lab.experiments.layer_time`, whose
   docstring says why), with the sum of the parts checked against the hook-free forward pass.
4. **Ours vs torchvision** for ``googlenet_tv`` and ``inception_v3``, torchvision's ``state_dict`` loaded strictly
   into ours (identical eval outputs checked): eval forward and training step, and what our options add, each as a
   ratio to our plain model in the same interleaved run: BN folding (``nn.folding.fold_batchnorm``, eval),
   ``channels_last`` (eval and train), both together (eval); ``torch.compile`` (inductor, eval and train step), in a
   subprocess per case with a time limit (compiling takes minutes on a small CPU; a case that fails or runs out of
   time is recorded with the reason); peak memory of a training step, as the peak resident set size (RSS,
   ``VmHWM``) of a fresh process above its RSS just before the step (what the step itself needs: activations
   kept for backward, gradients, workspace).

Both clocks are recorded: wall (``time.perf_counter``) and the process's CPU time (``time.process_time``; with one
thread, the time the work was actually on a core: steadier on a shared machine, hence the headline ``--clock``).
The results file carries the machine receipt (``runtime.machine_receipt``) with the load average before and after,
the library version, the command and the duration.

Writes ``benchmarks/results/perf.json`` (every sample) and ``perf.md``; ``--markdown-from perf.json`` rewrites the
``.md`` alone. Duration with the defaults: 36 minutes measured on a shared 2-core CPU at load average 5-12, of which
26 were the four cold ``torch.compile`` cases (their compilation is most of it); about 15 minutes expected on a quiet
2-core machine (an estimate), about 5 with ``--skip-compile``. ``--quick`` is a smoke test of every code path (two
repetitions, small limits, one compile case; 7-10 minutes under load); it writes to ``_build/bench-perf-quick/``
unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import torchvision
from torch import nn

import inception_lab
from inception_lab.cost import count
from inception_lab.experiments.cpu_limits import LimitSampler
from inception_lab.experiments.layer_time import LayerTimeReport, measure_layer_times, peak_fractions
from inception_lab.models import PRESETS, build_model
from inception_lab.nn.folding import fold_batchnorm
from inception_lab.nn.losses import AuxOutputs, inception_loss
from inception_lab.runtime import load_average, machine_receipt

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
QUICK_OUT = ROOT / "_build" / "bench-perf-quick"

#: Input side of each full-size preset: the size its paper trains and evaluates at (GoogLeNet and BN-Inception 224,
#: Rethinking's networks 299). A new full-size preset must be added here (the suite refuses to guess).
INPUT_SIDE = {"googlenet": 224, "googlenet_tv": 224, "bn_inception": 224, "inception_v3": 299,
              "inception_v3_paper": 299, "inception_v2": 299}
#: Our torchvision-compatible presets and the torchvision builder whose state_dict they load.
TORCHVISION = {"googlenet_tv": torchvision.models.googlenet, "inception_v3": torchvision.models.inception_v3}
AUX_WEIGHT = 0.3  # [GoogLeNet, §5]; the same loss for ours and torchvision's outputs
#: How far the sum of the by-kind medians may lie from the hook-free forward pass's median before the results flag it.
COVERAGE_TOLERANCE = 0.05


def full_size_presets() -> list[str]:
    """The presets of ``PRESETS`` without the ``mini_`` ones, each with a known input size."""
    names = [name for name in PRESETS if not name.startswith("mini_")]
    unknown = [name for name in names if name not in INPUT_SIDE]
    if unknown:
        raise SystemExit(f"bench_perf: no input size for the full-size preset(s) {unknown}; add them to INPUT_SIDE.")
    return names


# ---------------------------------------------------------------------------------------------------------
# What is timed
# ---------------------------------------------------------------------------------------------------------
def as_aux(outputs: Any) -> AuxOutputs | torch.Tensor:
    """torchvision's train-mode outputs as our :class:`AuxOutputs` (aux heads earliest first), so one loss serves."""
    if isinstance(outputs, (AuxOutputs, torch.Tensor)):
        return outputs
    if isinstance(outputs, torchvision.models.GoogLeNetOutputs):
        return AuxOutputs(outputs.logits, (outputs.aux_logits1, outputs.aux_logits2))
    if isinstance(outputs, torchvision.models.InceptionOutputs):
        return AuxOutputs(outputs.logits, (outputs.aux_logits,))
    raise TypeError(f"unexpected model output {type(outputs).__name__}")


def eval_task(model: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """One eval forward pass without autograd."""
    model.eval()

    def run() -> None:
        with torch.no_grad():
            model(x)
    return run


def train_task(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    """One training step: train-mode forward (auxiliary heads too), inception_loss, backward, SGD step."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)

    def run() -> None:
        loss = inception_loss(as_aux(model(x)), y, aux_weight=AUX_WEIGHT)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)  # free the gradients between steps: the models share the machine's memory
    return run


def interleave(tasks: dict[str, Callable[[], None]], reps: int, warmup: int,
               between: Callable[[], None]) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU seconds of every task, ``reps`` times, ``between`` after each repetition.

    Each repetition runs the tasks in a new random order (seeded): a fixed order, even a rotated one, would always
    run a task right after the same other task, and what that one leaves behind (memory just freed to the system,
    caches filled) would bias the comparison.
    """
    names = list(tasks)
    order = random.Random(0)
    seconds = {name: {"wall": [], "cpu": []} for name in names}
    for _ in range(warmup):
        for name in names:
            tasks[name]()
    between()
    for i in range(reps):
        for name in order.sample(names, len(names)):
            wall, cpu = time.perf_counter(), time.process_time()
            tasks[name]()
            seconds[name]["cpu"].append(time.process_time() - cpu)
            seconds[name]["wall"].append(time.perf_counter() - wall)
        between()
        print(f"    repetition {i + 1}/{reps} done (load {load_average()})", flush=True)
    return seconds


def medians(samples: dict[str, list[float]]) -> dict[str, float]:
    return {clock: statistics.median(values) for clock, values in samples.items()}


def paired(a: dict[str, list[float]], b: dict[str, list[float]], clock: str = "wall") -> dict[str, float]:
    """Ratio b / a per repetition (interleaved, so each pair shared its moment's load): median, min and max.

    With a = our model's times and b = the other's, > 1 means ours is faster.
    """
    ratios = [y / x for x, y in zip(a[clock], b[clock], strict=True)]
    return dict(median=statistics.median(ratios), min=min(ratios), max=max(ratios),
                of_medians=statistics.median(b[clock]) / statistics.median(a[clock]))


# ---------------------------------------------------------------------------------------------------------
# Part 2: every full-size preset, forward and training step, as a fraction of the peak
# ---------------------------------------------------------------------------------------------------------
def train_step_macs(model: nn.Module, shape: tuple[int, ...]) -> dict[str, int]:
    """MACs of one training step (see the module docstring): 3 x train-mode forward - the first convolution's."""
    probe = copy.deepcopy(model).train()  # count() runs a forward pass; in train mode that moves BN statistics
    report = count(probe, shape)
    first_conv = next(layer.macs for layer in report.layers if layer.kind == "Conv2d" and layer.macs)
    return dict(train_forward_macs=report.macs, first_conv_macs=first_conv,
                train_step_macs=3 * report.macs - first_conv)


def bench_presets(args: argparse.Namespace, sampler: LimitSampler) -> dict[str, Any]:
    tasks: dict[str, Callable[[], None]] = {}
    info: dict[str, dict[str, Any]] = {}
    g = torch.Generator().manual_seed(0)
    for name in full_size_presets():
        torch.manual_seed(0)
        model = build_model(name)
        shape = (args.batch, 3, INPUT_SIDE[name], INPUT_SIDE[name])
        x = torch.randn(shape, generator=g)
        y = torch.randint(0, model.fc.out_features, (args.batch,), generator=g)
        info[name] = dict(input_shape=list(shape), params=sum(p.numel() for p in model.parameters()),
                          forward_macs=count(model.eval(), shape).macs, **train_step_macs(model, shape))
        train_model = copy.deepcopy(model)
        tasks[f"{name} eval"] = eval_task(model, x)
        tasks[f"{name} train"] = train_task(train_model, x, y)
    print(f"  presets: {list(info)}; {len(tasks)} tasks interleaved", flush=True)
    seconds = interleave(tasks, args.reps, args.warmup, sampler.sample)
    for name, row in info.items():
        row["eval_seconds"] = seconds[f"{name} eval"]
        row["train_seconds"] = seconds[f"{name} train"]
    return dict(batch=args.batch, reps=args.reps, warmup=args.warmup, presets=info)


def preset_rates(presets: dict[str, Any], limits: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per preset and clock: MACs/s of the eval forward and the training step, and their fractions of the peak
    measured on the same clock."""
    rates = {}
    for name, row in presets["presets"].items():
        ev, tr = medians(row["eval_seconds"]), medians(row["train_seconds"])
        rates[name] = {}
        for clock in ("wall", "cpu"):
            peak, matmul = limits[clock]["peak_macs_per_s"], limits[clock]["matmul_macs_per_s"]
            eval_rate, train_rate = row["forward_macs"] / ev[clock], row["train_step_macs"] / tr[clock]
            rates[name].update({f"eval_macs_per_s_{clock}": eval_rate,
                                f"eval_peak_fraction_{clock}": eval_rate / peak,
                                f"eval_matmul_fraction_{clock}": eval_rate / matmul,
                                f"train_macs_per_s_{clock}": train_rate,
                                f"train_peak_fraction_{clock}": train_rate / peak,
                                f"train_matmul_fraction_{clock}": train_rate / matmul})
    return rates


# ---------------------------------------------------------------------------------------------------------
# Part 3: Inception-v3 by kind of layer
# ---------------------------------------------------------------------------------------------------------
def bench_layer_kinds(args: argparse.Namespace, sampler: LimitSampler) -> dict[str, Any]:
    """Inception-v3's eval forward by kind of layer, in the default layout and in channels_last."""
    torch.manual_seed(0)
    model = build_model("inception_v3")
    x = torch.randn(args.batch, 3, 299, 299, generator=torch.Generator().manual_seed(0))
    out = {}
    for layout, (m, batch) in {"contiguous": (model, x), "channels_last": (
            channels_last(model), x.contiguous(memory_format=torch.channels_last))}.items():
        print(f"  inception_v3 by layer kind ({layout}), batch {args.batch}, {args.layer_reps} repetitions, "
              f"{args.clock} clock", flush=True)
        out[layout] = measure_layer_times(m, batch, reps=args.layer_reps, warmup=args.warmup,
                                          between=sampler.sample, clock=args.clock).to_dict()
    return out


# ---------------------------------------------------------------------------------------------------------
# Part 4: ours vs torchvision, and what our options add
# ---------------------------------------------------------------------------------------------------------
@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, side: int, batches: int = 2, batch: int = 4) -> None:
    """BatchNorm running statistics from a few random batches (train-mode forward passes, cumulative averages).

    Freshly initialised statistics (mean 0, variance 1) let eval activations grow or shrink layer after layer until
    the outputs are huge or zero, and then "identical outputs" or "max difference" would check nothing.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.momentum = None  # cumulative moving average over the calibration batches
    g = torch.Generator().manual_seed(4)
    model.train()
    for _ in range(batches):
        model(torch.randn(batch, 3, side, side, generator=g))
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    model.eval()


def pair_models(name: str) -> tuple[nn.Module, nn.Module]:
    """Ours and torchvision's, the same weights (torchvision's init and calibrated BN statistics, its state_dict
    loaded strictly into ours)."""
    torch.manual_seed(0)
    theirs = TORCHVISION[name](weights=None, aux_logits=True, init_weights=True)
    calibrate_batchnorm(theirs, INPUT_SIDE[name])
    ours = build_model(name, aux_logits=True)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours.eval(), theirs.eval()


def relative_difference(a: torch.Tensor, reference: torch.Tensor) -> float:
    """max |a - reference| / max |reference|: the largest difference relative to the outputs' scale."""
    return ((a - reference).abs().max() / reference.abs().max().clamp_min(1e-30)).item()


def channels_last(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model).to(memory_format=torch.channels_last)


def bench_versus_torchvision(args: argparse.Namespace, sampler: LimitSampler) -> dict[str, Any]:
    tasks: dict[str, Callable[[], None]] = {}
    checks: dict[str, dict[str, Any]] = {}
    g = torch.Generator().manual_seed(1)
    for name in TORCHVISION:
        ours, theirs = pair_models(name)
        side = INPUT_SIDE[name]
        x = torch.randn(args.batch, 3, side, side, generator=g)
        y = torch.randint(0, 1000, (args.batch,), generator=g)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        folded = fold_batchnorm(ours)
        with torch.no_grad():
            reference = ours(x)
            checks[name] = dict(identical_eval_outputs=torch.equal(reference, theirs(x)),
                                output_max_abs=reference.abs().max().item(),
                                folded_relative_diff=relative_difference(folded(x), reference),
                                channels_last_relative_diff=relative_difference(channels_last(ours)(x_cl), reference))
        tasks[f"{name} eval ours"] = eval_task(ours, x)
        tasks[f"{name} eval torchvision"] = eval_task(theirs, x)
        tasks[f"{name} eval ours folded"] = eval_task(folded, x)
        tasks[f"{name} eval ours channels_last"] = eval_task(channels_last(ours), x_cl)
        tasks[f"{name} eval ours folded+channels_last"] = eval_task(channels_last(folded), x_cl)
        tasks[f"{name} train ours"] = train_task(copy.deepcopy(ours), x, y)
        tasks[f"{name} train torchvision"] = train_task(copy.deepcopy(theirs), x, y)
        tasks[f"{name} train ours channels_last"] = train_task(channels_last(ours), x_cl, y)
    print(f"  ours vs torchvision: {len(tasks)} tasks interleaved", flush=True)
    seconds = interleave(tasks, args.compare_reps, args.warmup, sampler.sample)
    return dict(batch=args.batch, reps=args.compare_reps, warmup=args.warmup, checks=checks, seconds=seconds)


def versus_ratios(versus: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Speed ratios (time of the reference / time of the variant: > 1 = the variant is faster), per clock.

    ``ours_vs_torchvision``: torchvision's time / ours; each option: our plain model's time / the option's.
    """
    s = versus["seconds"]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in TORCHVISION:
        rows = {"eval ours vs torchvision": (f"{name} eval ours", f"{name} eval torchvision"),
                "train ours vs torchvision": (f"{name} train ours", f"{name} train torchvision"),
                "eval BN folding": (f"{name} eval ours folded", f"{name} eval ours"),
                "eval channels_last": (f"{name} eval ours channels_last", f"{name} eval ours"),
                "eval BN folding + channels_last": (f"{name} eval ours folded+channels_last", f"{name} eval ours"),
                "train channels_last": (f"{name} train ours channels_last", f"{name} train ours")}
        out[name] = {row: {clock: paired(s[a], s[b], clock) for clock in ("wall", "cpu")}
                     for row, (a, b) in rows.items()}
    return out


def run_probe(args: argparse.Namespace, what: str, name: str, mode: str, timeout: int) -> dict[str, Any]:
    """Run this script's ``--probe`` in a fresh process; its last stdout line is a JSON record.

    A compile probe gets an empty inductor cache (``TORCHINDUCTOR_CACHE_DIR``), so its compile time is a cold one
    whatever ran before. On timeout the probe's whole process group is killed (inductor's compile workers too).
    """
    command = [sys.executable, str(Path(__file__).resolve()), "--probe", what, "--probe-model", name,
               "--probe-mode", mode, "--threads", str(args.threads), "--batch", str(args.batch),
               "--compile-reps", str(args.compile_reps)]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-perf-inductor-") as cache:
        env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache,
               "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return dict(ok=False, reason=f"did not finish within {timeout} s (--compile-timeout)",
                        probe_seconds=round(time.perf_counter() - start, 1))
    lines = stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        return dict(ok=False, reason=f"exit code {proc.returncode}: {' | '.join(tail)[-600:]}",
                    probe_seconds=round(time.perf_counter() - start, 1))
    return dict(ok=True, probe_seconds=round(time.perf_counter() - start, 1), **json.loads(lines[-1]))


def probe_compile(name: str, mode: str, batch: int, reps: int) -> dict[str, Any]:
    """In a fresh process: compile time of ``torch.compile(ours)`` and interleaved eager vs compiled medians."""
    ours, _ = pair_models(name)
    side = INPUT_SIDE[name]
    g = torch.Generator().manual_seed(2)
    x = torch.randn(batch, 3, side, side, generator=g)
    y = torch.randint(0, 1000, (batch,), generator=g)
    eager = ours if mode == "eval" else copy.deepcopy(ours)
    compiled = torch.compile(copy.deepcopy(ours))
    make = (lambda m: eval_task(m, x)) if mode == "eval" else (lambda m: train_task(m, x, y))
    tasks = {"eager": make(eager), "compiled": make(compiled)}
    start = time.perf_counter()
    tasks["compiled"]()  # the first call compiles (forward; in train mode the backward graph too)
    compile_seconds = time.perf_counter() - start
    record: dict[str, Any] = dict(compile_seconds=compile_seconds)
    if mode == "eval":
        with torch.no_grad():
            record["relative_diff"] = relative_difference(compiled(x), eager(x))
    seconds = interleave(tasks, reps, 1, lambda: None)
    record.update(seconds=seconds, speed=dict(wall=paired(seconds["compiled"], seconds["eager"], "wall"),
                                              cpu=paired(seconds["compiled"], seconds["eager"], "cpu")))
    return record


def proc_status_bytes(field: str) -> int:
    """A memory field of ``/proc/self/status`` (Linux), e.g. ``VmRSS`` (resident now) or ``VmHWM`` (its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError(f"/proc/self/status has no {field} field")


def reset_peak_rss() -> None:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0: ``echo 5 > /proc/self/clear_refs``).

    ``getrusage``'s ru_maxrss cannot be used: Linux carries it over ``exec`` from the forked parent, so a fresh
    process started by a large one begins with the parent's peak.
    """
    Path("/proc/self/clear_refs").write_text("5")


def probe_memory(name: str, variant: str, batch: int) -> dict[str, Any]:
    """In a fresh process: peak RSS during two training steps, above the RSS just before them."""
    if variant not in ("ours", "torchvision", "ours channels_last"):
        raise ValueError(f"unknown memory variant {variant!r}")
    torch.manual_seed(0)  # only the measured model is built: memory freed before the step could hide its peak
    if variant == "torchvision":
        model = TORCHVISION[name](weights=None, aux_logits=True, init_weights=True)
    else:
        model = build_model(name, aux_logits=True)
        if variant == "ours channels_last":
            model = model.to(memory_format=torch.channels_last)
    side = INPUT_SIDE[name]
    g = torch.Generator().manual_seed(3)
    x = torch.randn(batch, 3, side, side, generator=g)
    if variant.endswith("channels_last"):
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), generator=g)
    step = train_task(model, x, y)
    gc.collect()
    reset_peak_rss()
    before = proc_status_bytes("VmRSS")
    step()
    step()
    peak = proc_status_bytes("VmHWM")
    return dict(rss_before_bytes=before, peak_rss_bytes=peak, step_peak_bytes=peak - before,
                params_bytes=sum(p.numel() * p.element_size() for p in model.parameters()))


def bench_probes(args: argparse.Namespace) -> dict[str, Any]:
    compile_cases = [] if args.skip_compile else (
        [("googlenet_tv", "eval")] if args.quick else [(n, m) for n in TORCHVISION for m in ("eval", "train")])
    memory_cases = [(n, v) for n in (["googlenet_tv"] if args.quick else list(TORCHVISION))
                    for v in ("ours", "torchvision", "ours channels_last")]
    result: dict[str, Any] = dict(compile={}, memory={})
    for name, mode in compile_cases:
        print(f"  torch.compile {name} {mode} (limit {args.compile_timeout} s)", flush=True)
        result["compile"][f"{name} {mode}"] = run_probe(args, "compile", name, mode, args.compile_timeout)
        print(f"    {result['compile'][f'{name} {mode}'].get('reason', 'ok')}", flush=True)
    for name, variant in memory_cases:
        print(f"  peak memory of a training step: {name} {variant}", flush=True)
        result["memory"][f"{name} {variant}"] = run_probe(args, "memory", name, variant, 900)
    return result


# ---------------------------------------------------------------------------------------------------------
# The results file
# ---------------------------------------------------------------------------------------------------------
def fmt_ratio(r: dict[str, float]) -> str:
    return f"{r['median']:.3f} [{r['min']:.2f}-{r['max']:.2f}]"


def kind_rows(report: dict[str, Any], limits: dict[str, Any]) -> list[dict[str, Any]]:
    """The by-kind rows of one recorded breakdown, with fractions of the limits measured on its clock."""
    clocked = limits[report["clock"]]
    return peak_fractions(LayerTimeReport.from_dict(report), clocked["peak_macs_per_s"], clocked["peak_bytes_per_s"])


def markdown_kinds(report: dict[str, Any], limits: dict[str, Any], layout: str) -> list[str]:
    ridge = limits[report["clock"]]["ridge_point_macs_per_byte"]
    lines = [f"### {layout}", "",
             f"Sum of the kinds {1e3 * sum(k['seconds'] for k in report['kinds']):.1f} ms against a hook-free forward "
             f"pass of {1e3 * report['forward_seconds']:.1f} ms ({100 * (report['coverage'] - 1):+.1f} %: "
             + ("within" if abs(report["coverage"] - 1) <= COVERAGE_TOLERANCE else "**outside**")
             + f" the {100 * COVERAGE_TOLERANCE:.0f} % this suite accepts); hooked against plain forward pass, "
             f"medians: {100 * report['hook_overhead']:+.1f} %.", "",
             "| kind | layers | ms | time share | MAC share | GMAC/s | of peak | MACs/byte | bound | of roofline |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for k in kind_rows(report, limits):
        of_roof = (f"{k['roofline_fraction']:.2f}" if k["macs"] else f"{k['bandwidth_fraction']:.2f} of bandwidth")
        lines.append(f"| {k['kind']} | {k['layers']} | {1e3 * k['seconds']:.1f} | {100 * k['time_share']:.1f} % | "
                     f"{100 * k['mac_share']:.1f} % | {k['macs_per_s'] / 1e9:.1f} | {k['peak_fraction']:.2f} | "
                     f"{k['intensity']:.1f} | {k['bound_by']} | {of_roof} |")
    lines += ["", f"Slowest layers ({layout}; median ms in place, MACs, compulsory traffic; ridge point "
                  f"{ridge:.2f} MACs/byte):", ""]
    for layer in sorted(report["layers"], key=lambda layer: -layer["seconds"])[:8]:
        lines.append(f"* `{layer['name']}` ({layer['kind']}): {1e3 * layer['seconds']:.1f} ms, "
                     f"{layer['macs'] / 1e6:.0f} MMACs, {layer['bytes'] / 1e6:.1f} MB")
    return lines + [""]


def write_markdown(record: dict[str, Any], path: Path) -> None:
    limits, m, clock = record["limits"], record["machine"], record["clock"]
    other = "wall" if clock == "cpu" else "cpu"
    names = {"cpu": "CPU time", "wall": "wall clock"}
    loads = (m["load_average_before"] or [0])[:1] + (m["load_average_after"] or [0])[:1]
    busy = max(loads) > (m["logical_cpus"] or 1)
    lines = ["# Performance suite: how far each network runs from this CPU's limit (CPU, fp32)", "",
             f"Written by `benchmarks/bench_perf.py` on {record['date']} in {record['duration_s'] / 60:.1f} min: "
             f"`{record['command']}`.", "",
             f"* CPU: {m['cpu_model']}, {m['logical_cpus']} logical CPUs; {record['threads']} thread(s) "
             f"(`torch.set_num_threads`) for the networks and the limits alike; batch {record['batch']}",
             f"* inception_lab {record['inception_lab_version']}, torch {m['torch_version']}, torchvision "
             f"{record['torchvision_version']}, Python {m['python']}",
             f"* load average (1, 5, 15 min) before: {m['load_average_before']}, after: {m['load_average_after']}"
             + (" -- above the number of CPUs: other processes shared the cores. Everything was interleaved (the "
                "limits sampled between the repetitions), so ratios are fairer than absolute times, and the "
                "headline numbers use the process's CPU time, which a process that takes the core away does not "
                "inflate" if busy else ""),
             f"* headline clock: {names[clock]} (`{'time.process_time' if clock == 'cpu' else 'time.perf_counter'}`)"
             f"; the {names[other]} is in brackets or in `perf.json`", "",
             "## 1. The CPU's limits", "",
             "| limit | best, " + names[clock] + " | best, " + names[other] + " | median sample, " + names[clock]
             + " |", "|---|---:|---:|---:|",
             f"| dense-matmul peak, `torch.mm` {limits['matmul_size']}x{limits['matmul_size']} fp32 "
             f"(GMAC/s) | {limits[clock]['matmul_macs_per_s'] / 1e9:.1f} | "
             f"{limits[other]['matmul_macs_per_s'] / 1e9:.1f} | "
             f"{limits[clock]['median_matmul_macs_per_s'] / 1e9:.1f} |",
             f"| conv peak, 3x3 convolution {'x'.join(map(str, limits['conv_shape']))} (batch x channels x side) "
             f"fp32 (GMAC/s) | {limits[clock]['conv3x3_macs_per_s'] / 1e9:.1f} | "
             f"{limits[other]['conv3x3_macs_per_s'] / 1e9:.1f} | "
             f"{limits[clock]['median_conv3x3_macs_per_s'] / 1e9:.1f} |",
             f"| **compute peak** = the better of the two (GMAC/s) | "
             f"**{limits[clock]['peak_macs_per_s'] / 1e9:.1f}** | {limits[other]['peak_macs_per_s'] / 1e9:.1f} | |",
             f"| copy bandwidth, {limits['copy_megabytes']} MB buffers, read + write (GB/s) | "
             f"**{limits[clock]['peak_bytes_per_s'] / 1e9:.1f}** | {limits[other]['peak_bytes_per_s'] / 1e9:.1f} | "
             f"{limits[clock]['median_bytes_per_s'] / 1e9:.1f} |",
             f"| ridge point (MACs per byte) | {limits[clock]['ridge_point_macs_per_byte']:.2f} | "
             f"{limits[other]['ridge_point_macs_per_byte']:.2f} | |", "",
             f"{limits['samples']} samples, each the best of {limits['repeats_per_sample']} calls, taken between the "
             "repetitions of everything below. The fractions below are of the compute peak; where oneDNN's "
             "convolution outruns the BLAS, a fraction of the matmul peak alone would exceed 1 (it is given too). "
             "A layer that does fewer MACs per byte it moves than the ridge point is bound by memory bandwidth, one "
             "that does more by arithmetic.", "",
             "## 2. Every full-size preset as a fraction of the peak", "",
             f"Medians of {record['presets']['reps']} interleaved repetitions after {record['presets']['warmup']} "
             "warm-up, batch " + str(record["batch"]) + ", at the paper's input size, auxiliary heads built. "
             "Training step: train-mode forward (auxiliary heads run), loss with aux weight 0.3, backward, SGD. "
             "Training-step MACs = 3 x train-mode forward MACs - the first convolution's (gradients of weights "
             "and inputs, none for the image; equal to `FlopCounterMode`'s count, `tests/test_layer_time.py`). "
             f"Times and fractions on the {names[clock]}; the {names[other]} fraction in brackets.", "",
             "| preset | input | forward GMACs | eval s | eval GMAC/s | eval / peak | eval / matmul | "
             "train-step GMACs | train s | train GMAC/s | train / peak | train / matmul |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in record["presets"]["presets"].items():
        r = record["preset_rates"][name]
        lines.append(
            f"| {name} | {'x'.join(map(str, row['input_shape']))} | {row['forward_macs'] / 1e9:.2f} | "
            f"{medians(row['eval_seconds'])[clock]:.3f} | {r[f'eval_macs_per_s_{clock}'] / 1e9:.1f} | "
            f"**{r[f'eval_peak_fraction_{clock}']:.2f}** ({r[f'eval_peak_fraction_{other}']:.2f}) | "
            f"{r[f'eval_matmul_fraction_{clock}']:.2f} | "
            f"{row['train_step_macs'] / 1e9:.2f} | {medians(row['train_seconds'])[clock]:.3f} | "
            f"{r[f'train_macs_per_s_{clock}'] / 1e9:.1f} | **{r[f'train_peak_fraction_{clock}']:.2f}** "
            f"({r[f'train_peak_fraction_{other}']:.2f}) | {r[f'train_matmul_fraction_{clock}']:.2f} |")
    lk = record["layer_kinds"]
    first = next(iter(lk.values()))
    lines += ["", "## 3. Inception-v3 by kind of layer (eval forward)", "",
              f"Input {'x'.join(map(str, first['input_shape']))}; every module timed in place with forward hooks "
              f"(`inception_lab.experiments.layer_time`: its exclusive time goes to its kind; an Inception module's "
              f"own time is its concatenation; containers' is Python glue), medians of {first['reps']} repetitions, "
              f"{names[first['clock']]}. Intensity: MACs per byte of compulsory traffic (input + weights + output, "
              "fp32). Bound: the roofline that applies. Of roofline: MACs/s over min(peak, intensity x bandwidth); "
              "for kinds without MACs, bytes/s over the copy bandwidth, which is a stream from and to main memory: "
              "above 1 (ReLU) the data were still in cache, written by the layer just before.", ""]
    for layout, report in lk.items():
        lines += markdown_kinds(report, limits, layout)
    vs = record["versus"]
    lines += ["## 4. Ours vs torchvision, and what our options add", "",
              f"Same weights (torchvision's init, BN statistics calibrated on random batches, its `state_dict` "
              f"loaded strictly into ours); {vs['reps']} interleaved repetitions after {vs['warmup']} warm-up, batch "
              f"{vs['batch']}. Speed ratio = time of the reference / time of the variant (> 1: the variant is "
              f"faster): median of the per-repetition ratios [min-max]. Target: ours vs torchvision >= 1.0.", "",
              f"| network | comparison | speed ratio ({names[clock]}) | ({names[other]}) |", "|---|---|---:|---:|"]
    for name, rows in record["versus_ratios"].items():
        for row, clocks in rows.items():
            lines.append(f"| {name} | {row} | {fmt_ratio(clocks[clock])} | {clocks[other]['median']:.3f} |")
    lines.append("")
    for name, c in vs["checks"].items():
        lines.append(f"* {name}: identical eval outputs {c['identical_eval_outputs']} (largest |logit| "
                     f"{c['output_max_abs']:.3g}); largest difference relative to it: BN-folded "
                     f"{c['folded_relative_diff']:.1e}, channels_last {c['channels_last_relative_diff']:.1e}")
    medians_s = {task: medians(samples) for task, samples in vs["seconds"].items()}
    lines += ["", "| task | median s, " + names[clock] + " | " + names[other] + " |", "|---|---:|---:|"]
    lines += [f"| {task} | {v[clock]:.3f} | {v[other]:.3f} |" for task, v in medians_s.items()]
    probes = record["probes"]
    lines += ["", "### torch.compile (inductor, CPU)", "",
              "A fresh process per case, with an empty inductor cache: compile ours (`torch.compile(model)`, default "
              f"mode), time the first call (the compilation, cold), then {record['compile_reps']} interleaved "
              "repetitions of eager and compiled.", ""]
    if not probes["compile"]:
        lines.append("Not run (`--skip-compile`).")
    else:
        lines += [f"| case | result | compile s (wall) | speed ratio compiled vs eager ({names[clock]}) | "
                  f"({names[other]}) | relative difference |", "|---|---|---:|---:|---:|---:|"]
        for case, c in probes["compile"].items():
            if c["ok"]:
                diff = f"{c['relative_diff']:.1e}" if "relative_diff" in c else "(train step)"
                lines.append(f"| {case} | ok | {c['compile_seconds']:.0f} | {fmt_ratio(c['speed'][clock])} | "
                             f"{c['speed'][other]['median']:.3f} | {diff} |")
            else:
                lines.append(f"| {case} | failed: {c['reason']} | | | | |")
    lines += ["", "### Peak memory of a training step", "",
              "A fresh process per case: peak resident set size (`VmHWM` of `/proc/self/status`, reset to the current "
              "RSS just before) during two training steps, minus the RSS just before them (model, optimizer and batch "
              "already resident): what the step itself needs (activations kept for the backward pass, gradients, "
              "workspace).", "", "| case | step peak MB | parameters MB | peak RSS MB |", "|---|---:|---:|---:|"]
    for case, c in probes["memory"].items():
        if c["ok"]:
            lines.append(f"| {case} | {c['step_peak_bytes'] / 2**20:.0f} | {c['params_bytes'] / 2**20:.0f} | "
                         f"{c['peak_rss_bytes'] / 2**20:.0f} |")
        else:
            lines.append(f"| {case} | failed: {c['reason']} | | |")
    path.write_text("\n".join(lines) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads for everything (default 1)")
    parser.add_argument("--batch", type=int, default=2, help="batch size of every network (default 2)")
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions of the presets (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of every task first (default 1)")
    parser.add_argument("--layer-reps", type=int, default=7, help="repetitions of the by-kind breakdown (default 7)")
    parser.add_argument("--compare-reps", type=int, default=9,
                        help="interleaved repetitions of ours vs torchvision (default 9)")
    parser.add_argument("--compile-reps", type=int, default=5, help="repetitions eager vs compiled (default 5)")
    parser.add_argument("--compile-timeout", type=int, default=1800,
                        help="seconds each torch.compile case may take, compiling included (default 1800)")
    parser.add_argument("--skip-compile", action="store_true", help="leave torch.compile out")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="headline clock and the clock of the by-kind breakdown (default cpu: the process's CPU "
                             "time, which other processes on a shared machine do not inflate)")
    parser.add_argument("--mm-size", type=int, default=2048, help="side of the matmul-peak matrices (default 2048)")
    parser.add_argument("--copy-mb", type=int, default=128, help="MB per copy-bandwidth buffer (default 128)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 repetitions, small limits, one compile case")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"results folder (default {RESULTS.relative_to(ROOT)}; with --quick "
                             f"{QUICK_OUT.relative_to(ROOT)})")
    parser.add_argument("--markdown-from", type=Path, default=None, metavar="PERF_JSON",
                        help="only write perf.md again from a recorded perf.json (into --out, or beside it)")
    parser.add_argument("--probe", choices=("compile", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--probe-model", help=argparse.SUPPRESS)
    parser.add_argument("--probe-mode", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.layer_reps, args.compare_reps, args.compile_reps = 2, 2, 2, 2
        args.mm_size, args.copy_mb, args.compile_timeout = 1024, 32, min(args.compile_timeout, 600)
    for name in ("threads", "batch", "reps", "layer_reps", "compare_reps", "compile_reps", "compile_timeout",
                 "mm_size", "copy_mb"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.batch < 2:
        parser.error(f"--batch must be >= 2 (got {args.batch}): in a training step, Inception-v3's auxiliary head "
                     "batch-normalizes a 1x1 map, which needs more than one value per channel")
    if args.warmup < 0:
        parser.error(f"--warmup must be >= 0, got {args.warmup}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.markdown_from:
        record = json.loads(args.markdown_from.read_text())
        target = (args.out or args.markdown_from.parent) / "perf.md"
        write_markdown(record, target)
        print(f"wrote {target}")
        return
    if args.probe:
        probe = (probe_compile(args.probe_model, args.probe_mode, args.batch, args.compile_reps)
                 if args.probe == "compile" else probe_memory(args.probe_model, args.probe_mode, args.batch))
        print(json.dumps(probe))
        return
    start = time.perf_counter()
    machine = machine_receipt()
    machine["load_average_before"] = machine.pop("load_average")
    out = args.out or (QUICK_OUT if args.quick else RESULTS)
    sampler = LimitSampler(size=args.mm_size, megabytes=args.copy_mb)
    print(f"bench_perf: {args.threads} thread(s), batch {args.batch}; writing to {out}", flush=True)
    print("part 2: presets", flush=True)
    presets = bench_presets(args, sampler)
    print("part 3: layer kinds", flush=True)
    layer_kinds = bench_layer_kinds(args, sampler)
    print("part 4: ours vs torchvision", flush=True)
    versus = bench_versus_torchvision(args, sampler)
    probes = bench_probes(args)
    machine["load_average_after"] = load_average()
    limits = sampler.summary()
    record = dict(benchmark="perf", date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                  command=" ".join(["python benchmarks/bench_perf.py", *(argv if argv is not None else sys.argv[1:])]),
                  duration_s=round(time.perf_counter() - start, 1), quick=args.quick, threads=args.threads,
                  batch=args.batch, clock=args.clock, compile_reps=args.compile_reps,
                  inception_lab_version=inception_lab.__version__, torchvision_version=torchvision.__version__,
                  machine=machine, limits=limits, presets=presets, preset_rates=preset_rates(presets, limits),
                  layer_kinds=layer_kinds,
                  layer_kind_rates={layout: kind_rows(report, limits) for layout, report in layer_kinds.items()},
                  versus=versus, versus_ratios=versus_ratios(versus), probes=probes)
    out.mkdir(parents=True, exist_ok=True)
    (out / "perf.json").write_text(json.dumps(record, indent=1) + "\n")
    write_markdown(record, out / "perf.md")
    print((out / "perf.md").read_text())
    print(f"wrote {out / 'perf.json'} and perf.md in {record['duration_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
