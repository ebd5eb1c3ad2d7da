"""The performance suite: how far each network runs from this CPU's limit, where the time goes, ours vs torchvision.

Usage:
    python benchmarks/bench_perf.py [--threads 1] [--batch 2] [--reps 5] [--quick] [--skip-compile]

Four parts, each timed with warm-up and *interleaved* repetitions (every variant once per repetition, in a rotating
order; medians), so that a change in the machine's load hits everything alike; the CPU's limits are sampled
*between* the repetitions of every part (:class:`~inception_lab.experiments.cpu_limits.LimitSampler`), so the peak
that the networks are compared with was measured under the same load:

1. **Limits.** The dense-matmul peak (best MACs/s of ``torch.mm`` on ``--mm-size`` square fp32 matrices) and the
   copy bandwidth (best bytes/s copying a ``--copy-mb`` buffer), with the networks' thread count.
2. **Presets.** Every full-size preset of ``inception_lab.models.PRESETS`` (the ``mini_`` ones left out), at its
   paper's input size, with its auxiliary heads: eval forward (``no_grad``) and training step (train-mode forward
   with the auxiliary heads, ``inception_loss`` with aux weight 0.3, backward, SGD step). MACs/s as a fraction of the
   peak. Forward MACs: ``cost.count`` in eval mode. Training-step MACs: 3 x the train-mode forward MACs (auxiliary
   heads included) - the first convolution's (the backward pass computes, for every convolution and linear layer,
   the gradient of its weights and of its input, each as many MACs as the forward; the image needs no gradient).
3. **Layer kinds of Inception-v3** (eval forward): time share, MAC share, MACs/s as a fraction of the peak, and
   arithmetic intensity, measured in place with forward hooks (:mod:`inception_lab.experiments.layer_time`, whose
   docstring says why), with the sum of the parts checked against the hook-free forward pass.
4. **Ours vs torchvision** for ``googlenet_tv`` and ``inception_v3``, torchvision's ``state_dict`` loaded strictly
   into ours (identical eval outputs checked): eval forward and training step, and what our options add, each as a
   ratio to our plain model in the same interleaved run: BN folding (``nn.folding.fold_batchnorm``, eval),
   ``channels_last`` (eval and train), both together (eval); ``torch.compile`` (inductor, eval and train step), in a
   subprocess per case with a time limit (compiling takes minutes on a small CPU; a case that fails or runs out of
   time is recorded with the reason); peak memory of a training step, as the peak resident set size (RSS,
   ``getrusage``) of a fresh process above its RSS just before the step (what the step itself needs: activations
   kept for backward, gradients, workspace).

Both clocks are recorded: wall (``time.perf_counter``) and the process's CPU time (``time.process_time``; with one
thread, the time the work was actually on a core: steadier on a shared machine). The results file carries the
machine receipt (``runtime.machine_receipt``) with the load average before and after, the library version, the
command and the duration.

Writes ``benchmarks/results/perf.json`` (every sample) and ``perf.md``. With the defaults about 40 minutes on one
thread of a shared 2-core CPU. ``--quick`` is a smoke test of every code path (batch 1, two repetitions, small
limits, one compile case; about 5 minutes); it writes to ``_build/bench-perf-quick/`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
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
    """Wall and CPU seconds of every task, ``reps`` times, each repetition in a rotated order, ``between`` after it."""
    names = list(tasks)
    seconds = {name: {"wall": [], "cpu": []} for name in names}
    for _ in range(warmup):
        for name in names:
            tasks[name]()
    between()
    for i in range(reps):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
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
        y = torch.randint(0, model.num_classes, (args.batch,), generator=g)
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


def preset_rates(presets: dict[str, Any], peak: float) -> dict[str, dict[str, float]]:
    """Per preset and clock: MACs/s of the eval forward and the training step, and their fractions of ``peak``."""
    rates = {}
    for name, row in presets["presets"].items():
        ev, tr = medians(row["eval_seconds"]), medians(row["train_seconds"])
        rates[name] = {f"{what}_{clock}": value for clock in ("wall", "cpu") for what, value in (
            ("eval_macs_per_s", row["forward_macs"] / ev[clock]),
            ("eval_peak_fraction", row["forward_macs"] / ev[clock] / peak),
            ("train_macs_per_s", row["train_step_macs"] / tr[clock]),
            ("train_peak_fraction", row["train_step_macs"] / tr[clock] / peak))}
    return rates


# ---------------------------------------------------------------------------------------------------------
# Part 3: Inception-v3 by kind of layer
# ---------------------------------------------------------------------------------------------------------
def bench_layer_kinds(args: argparse.Namespace, sampler: LimitSampler) -> dict[str, Any]:
    torch.manual_seed(0)
    model = build_model("inception_v3")
    x = torch.randn(args.batch, 3, 299, 299, generator=torch.Generator().manual_seed(0))
    print(f"  inception_v3 by layer kind, batch {args.batch}, {args.layer_reps} repetitions", flush=True)
    report = measure_layer_times(model, x, reps=args.layer_reps, warmup=args.warmup, between=sampler.sample)
    return report.to_dict()


# ---------------------------------------------------------------------------------------------------------
# Part 4: ours vs torchvision, and what our options add
# ---------------------------------------------------------------------------------------------------------
def pair_models(name: str) -> tuple[nn.Module, nn.Module]:
    """Ours and torchvision's, the same weights (torchvision's init, its state_dict loaded strictly into ours)."""
    torch.manual_seed(0)
    theirs = TORCHVISION[name](weights=None, aux_logits=True, init_weights=True)
    ours = build_model(name, aux_logits=True)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours, theirs


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
        ours.eval()
        theirs.eval()
        folded = fold_batchnorm(ours)
        with torch.no_grad():
            reference = ours(x)
            checks[name] = dict(identical_eval_outputs=torch.equal(reference, theirs(x)),
                                folded_max_abs_diff=(folded(x) - reference).abs().max().item(),
                                channels_last_max_abs_diff=(channels_last(ours)(x_cl) - reference).abs().max().item())
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
    """Run this script's ``--probe`` in a fresh process; its last stdout line is a JSON record."""
    command = [sys.executable, str(Path(__file__).resolve()), "--probe", what, "--probe-model", name,
               "--probe-mode", mode, "--threads", str(args.threads), "--batch", str(args.batch),
               "--compile-reps", str(args.compile_reps)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                  p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)})
    except subprocess.TimeoutExpired:
        return dict(ok=False, reason=f"did not finish within {timeout} s (--compile-timeout)",
                    seconds=round(time.perf_counter() - start, 1))
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return dict(ok=False, reason=f"exit code {done.returncode}: {' | '.join(tail)[-600:]}",
                    seconds=round(time.perf_counter() - start, 1))
    return dict(ok=True, seconds=round(time.perf_counter() - start, 1), **json.loads(lines[-1]))


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
            record["max_abs_diff"] = (compiled(x) - eager(x)).abs().max().item()
    seconds = interleave(tasks, reps, 1, lambda: None)
    record.update(seconds=seconds, speed=dict(wall=paired(seconds["compiled"], seconds["eager"], "wall"),
                                              cpu=paired(seconds["compiled"], seconds["eager"], "cpu")))
    return record


def rss_bytes() -> int:
    """Current resident set size of this process (Linux ``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


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
    before, peak_before = rss_bytes(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    step()
    step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return dict(rss_before_bytes=before, peak_rss_before_bytes=peak_before, peak_rss_bytes=peak,
                step_peak_bytes=peak - before, params_bytes=sum(p.numel() * p.element_size()
                                                                 for p in model.parameters()),
                exceeded_earlier_peak=peak > peak_before)


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


def write_markdown(record: dict[str, Any], path: Path) -> None:
    limits, m = record["limits"], record["machine"]
    peak, bandwidth = limits["peak_macs_per_s"], limits["peak_bytes_per_s"]
    lines = ["# Performance suite: how far each network runs from this CPU's limit (CPU, fp32)", "",
             f"Written by `benchmarks/bench_perf.py` on {record['date']} in {record['duration_s'] / 60:.1f} min: "
             f"`{record['command']}`.", "",
             f"* CPU: {m['cpu_model']}, {m['logical_cpus']} logical CPUs; {record['threads']} thread(s) "
             f"(`torch.set_num_threads`) for the networks and the limits alike; batch {record['batch']}",
             f"* inception_lab {record['inception_lab_version']}, torch {m['torch_version']}, torchvision "
             f"{record['torchvision_version']}, Python {m['python']}",
             f"* load average (1, 5, 15 min) before: {m['load_average_before']}, after: {m['load_average_after']}"
             + (" -- above the number of CPUs: other processes shared the cores. Everything was interleaved (the "
                "limits sampled between the repetitions), so ratios are fairer than absolute times; CPU-time columns "
                "are the steadier measure" if max((m['load_average_before'] or [0])[:1]
                                                  + (m['load_average_after'] or [0])[:1]) > m['logical_cpus'] else ""),
             "",
             "## 1. The CPU's limits", "",
             f"* dense-matmul peak: **{peak / 1e9:.1f} GMAC/s** (best of {limits['samples']} samples of `torch.mm` "
             f"{limits['matmul_size']}x{limits['matmul_size']} fp32; median sample "
             f"{limits['median_macs_per_s'] / 1e9:.1f})",
             f"* copy bandwidth: **{bandwidth / 1e9:.1f} GB/s** (read + write, {limits['copy_megabytes']} MB buffers; "
             f"median sample {limits['median_bytes_per_s'] / 1e9:.1f})",
             f"* ridge point: {limits['ridge_point_macs_per_byte']:.2f} MACs per byte: a layer that does fewer MACs "
             "per byte it moves is bound by memory, more by arithmetic", "",
             "## 2. Every full-size preset as a fraction of the peak", "",
             f"Medians of {record['presets']['reps']} interleaved repetitions after {record['presets']['warmup']} "
             "warm-up. Training-step MACs = 3 x train-mode forward MACs (auxiliary heads included) - the first "
             "convolution's. Fractions: MACs/s over the matmul peak; wall clock (CPU time in brackets).", "",
             "| preset | input | forward GMACs | eval s | eval GMAC/s | eval / peak | train-step GMACs | train s | "
             "train GMAC/s | train / peak |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in record["presets"]["presets"].items():
        r = record["preset_rates"][name]
        lines.append(
            f"| {name} | {'x'.join(map(str, row['input_shape']))} | {row['forward_macs'] / 1e9:.2f} | "
            f"{medians(row['eval_seconds'])['wall']:.3f} | {r['eval_macs_per_s_wall'] / 1e9:.1f} | "
            f"{r['eval_peak_fraction_wall']:.2f} ({r['eval_peak_fraction_cpu']:.2f}) | "
            f"{row['train_step_macs'] / 1e9:.2f} | {medians(row['train_seconds'])['wall']:.3f} | "
            f"{r['train_macs_per_s_wall'] / 1e9:.1f} | {r['train_peak_fraction_wall']:.2f} "
            f"({r['train_peak_fraction_cpu']:.2f}) |")
    lk = record["layer_kinds"]
    lines += ["", "## 3. Inception-v3 by kind of layer (eval forward)", "",
              f"Input {'x'.join(map(str, lk['input_shape']))}; every module timed in place with forward hooks "
              f"(`inception_lab.experiments.layer_time`), medians of {lk['reps']} repetitions. Sum of the kinds: "
              f"{1e3 * sum(k['seconds'] for k in lk['kinds']):.1f} ms against a hook-free forward of "
              f"{1e3 * lk['forward_seconds']:.1f} ms ({100 * (lk['coverage'] - 1):+.1f} %); hooks cost "
              f"{100 * lk['hook_overhead']:+.1f} %. Intensity: MACs per byte of compulsory traffic (input + weights + "
              f"output, fp32). Bound: which roofline applies (ridge {limits['ridge_point_macs_per_byte']:.2f} "
              "MACs/B). Of roofline: MACs/s over min(peak, intensity x bandwidth); for 0-MAC kinds, bytes/s over the "
              "copy bandwidth.", "",
              "| kind | layers | ms | time share | MAC share | GMAC/s | of peak | MACs/byte | bound | of roofline |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for k in record["layer_kind_rates"]:
        of_roof = k["roofline_fraction"] if k["macs"] else k["bandwidth_fraction"]
        lines.append(f"| {k['kind']} | {k['layers']} | {1e3 * k['seconds']:.1f} | {100 * k['time_share']:.1f} % | "
                     f"{100 * k['mac_share']:.1f} % | {k['macs_per_s'] / 1e9:.1f} | {k['peak_fraction']:.2f} | "
                     f"{k['intensity']:.1f} | {k['bound_by']} | {of_roof:.2f}"
                     f"{'' if k['macs'] else ' (of bandwidth)'} |")
    lines += ["", "Slowest layers (median ms, in place):", ""]
    for layer in sorted(lk["layers"], key=lambda layer: -layer["seconds"])[:10]:
        lines.append(f"* `{layer['name']}` ({layer['kind']}): {1e3 * layer['seconds']:.1f} ms, "
                     f"{layer['macs'] / 1e6:.0f} MMACs, {layer['bytes'] / 1e6:.1f} MB")
    vs = record["versus"]
    lines += ["", "## 4. Ours vs torchvision, and what our options add", "",
              f"Same weights (torchvision's `state_dict` loaded strictly into ours); {vs['reps']} interleaved "
              f"repetitions after {vs['warmup']} warm-up, batch {vs['batch']}. Speed ratio = time of the reference / "
              "time of the variant (> 1: the variant is faster): median of the per-repetition ratios [min-max], "
              "wall clock; CPU time in the last column. Target: ours vs torchvision >= 1.0.", "",
              "| network | comparison | speed ratio (wall) | speed ratio (CPU) |", "|---|---|---:|---:|"]
    for name, rows in record["versus_ratios"].items():
        for row, clocks in rows.items():
            lines.append(f"| {name} | {row} | {fmt_ratio(clocks['wall'])} | {clocks['cpu']['median']:.3f} |")
    for name, c in vs["checks"].items():
        lines.append(f"\n{name}: identical eval outputs {c['identical_eval_outputs']}; max abs difference BN-folded "
                     f"{c['folded_max_abs_diff']:.1e}, channels_last {c['channels_last_max_abs_diff']:.1e}.")
    medians_s = {task: medians(samples) for task, samples in vs["seconds"].items()}
    lines += ["", "Median seconds:", "", "| task | wall s | CPU s |", "|---|---:|---:|"]
    lines += [f"| {task} | {v['wall']:.3f} | {v['cpu']:.3f} |" for task, v in medians_s.items()]
    probes = record["probes"]
    lines += ["", "### torch.compile (inductor, CPU)", ""]
    if not probes["compile"]:
        lines.append("Not run (`--skip-compile`).")
    else:
        lines += ["| case | result | compile s | speed ratio compiled vs eager (wall) | (CPU) | max abs diff |",
                  "|---|---|---:|---:|---:|---:|"]
        for case, c in probes["compile"].items():
            if c["ok"]:
                lines.append(f"| {case} | ok | {c['compile_seconds']:.0f} | {fmt_ratio(c['speed']['wall'])} | "
                             f"{c['speed']['cpu']['median']:.3f} | {c.get('max_abs_diff', float('nan')):.1e} |")
            else:
                lines.append(f"| {case} | failed: {c['reason']} | | | | |")
    lines += ["", "### Peak memory of a training step", "",
              "Peak resident set size (`getrusage` ru_maxrss) of a fresh process during two training steps, minus "
              "its RSS just before them (model, optimizer and batch already resident).", "",
              "| case | step peak MB | parameters MB | peak RSS MB |", "|---|---:|---:|---:|"]
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
    parser.add_argument("--compare-reps", type=int, default=7,
                        help="interleaved repetitions of ours vs torchvision (default 7)")
    parser.add_argument("--compile-reps", type=int, default=5, help="repetitions eager vs compiled (default 5)")
    parser.add_argument("--compile-timeout", type=int, default=1200,
                        help="seconds each torch.compile case may take, compiling included (default 1200)")
    parser.add_argument("--skip-compile", action="store_true", help="leave torch.compile out")
    parser.add_argument("--mm-size", type=int, default=2048, help="side of the matmul-peak matrices (default 2048)")
    parser.add_argument("--copy-mb", type=int, default=128, help="MB per copy-bandwidth buffer (default 128)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: batch 1, 2 repetitions, small limits, one compile case")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"results folder (default {RESULTS.relative_to(ROOT)}; with --quick "
                             f"{QUICK_OUT.relative_to(ROOT)})")
    parser.add_argument("--probe", choices=("compile", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--probe-model", help=argparse.SUPPRESS)
    parser.add_argument("--probe-mode", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.reps, args.layer_reps, args.compare_reps, args.compile_reps = 1, 2, 2, 2, 2
        args.mm_size, args.copy_mb, args.compile_timeout = 1024, 32, min(args.compile_timeout, 600)
    for name in ("threads", "batch", "reps", "layer_reps", "compare_reps", "compile_reps", "compile_timeout",
                 "mm_size", "copy_mb"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.warmup < 0:
        parser.error(f"--warmup must be >= 0, got {args.warmup}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
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
    report = LayerTimeReport.from_dict(layer_kinds)
    record = dict(benchmark="perf", date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                  command="python benchmarks/bench_perf.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  duration_s=round(time.perf_counter() - start, 1), quick=args.quick, threads=args.threads,
                  batch=args.batch, inception_lab_version=inception_lab.__version__,
                  torchvision_version=torchvision.__version__, machine=machine, limits=limits,
                  presets=presets, preset_rates=preset_rates(presets, limits["peak_macs_per_s"]),
                  layer_kinds=layer_kinds,
                  layer_kind_rates=peak_fractions(report, limits["peak_macs_per_s"], limits["peak_bytes_per_s"]),
                  versus=versus, versus_ratios=versus_ratios(versus), probes=probes)
    out.mkdir(parents=True, exist_ok=True)
    (out / "perf.json").write_text(json.dumps(record, indent=1) + "\n")
    write_markdown(record, out / "perf.md")
    print((out / "perf.md").read_text())
    print(f"wrote {out / 'perf.json'} and perf.md in {record['duration_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
