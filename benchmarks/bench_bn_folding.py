"""CPU inference latency of BN-Inception before and after folding BatchNorm into the convolutions.

Usage:
    python benchmarks/bench_bn_folding.py [--threads 1] [--reps 30] [--warmup 3]

Two cases, both in eval mode under ``torch.inference_mode()``, with non-trivial BN statistics:

* ``bn_inception`` [BN, Fig. 5], batch 1, 3x224x224: single-image latency of the full network;
* ``mini_bn_inception`` (the chapter's preset), batch 128, 3x32x32: a batch of small images.

Threads: ``torch.set_num_threads`` takes each value of ``--threads`` in turn; the default is 1 thread. On a small
machine shared with other processes (the book's 2-core reference machine runs several jobs at once), more threads
than free cores make the OpenMP workers wait for each other, and one forward pass was measured 20x slower with 2
threads than with 1; on an idle machine pass ``--threads 1,2`` (or more).

Method (:func:`inception_lab.experiments.timing.time_modules`): for each thread count, ``--warmup`` untimed runs
of each model, then ``--reps`` timed repetitions in which the folded and unfolded model alternate (swapping which
goes first every repetition), so that a change in machine load hits both alike. Each forward pass is timed twice:
wall-clock (``time.perf_counter``: the latency a user sees) and CPU time of this process (``time.process_time``:
the work done, much less disturbed by other processes on a shared machine; with several threads it also counts
their busy-waiting). Reported: medians; speed-up = median(unfolded) / median(folded).
The load average before and after is recorded, since other processes compete for the same cores.

Writes ``benchmarks/results/bn_folding.json`` (all numbers) and ``benchmarks/results/bn_folding.md`` (a summary).
Takes under a minute with the defaults on two shared cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from inception_lab.cost import count
from inception_lab.experiments.timing import time_modules
from inception_lab.models.bn_inception import bn_inception, mini_bn_inception
from inception_lab.nn.folding import fold_batchnorm
from inception_lab.runtime import load_average, machine_receipt

RESULTS = Path(__file__).resolve().parent / "results"


def time_pair(model: nn.Module, folded: nn.Module, x: torch.Tensor, reps: int,
              warmup: int) -> dict[str, dict[str, list[float]]]:
    """Wall-clock and process CPU seconds per forward pass of both models, interleaved (:func:`time_modules`)."""
    timings = time_modules({"unfolded": model, "folded": folded}, x, reps=reps, warmup=warmup, modes=("forward",))
    return {name: timings.seconds[name]["forward"] for name in ("unfolded", "folded")}


def summarise(seconds: list[float]) -> dict[str, float]:
    ms = [1e3 * s for s in seconds]
    q1, _, q3 = statistics.quantiles(ms, n=4)
    return {"median_ms": statistics.median(ms), "min_ms": min(ms), "q1_ms": q1, "q3_ms": q3}


def run_case(name: str, build: Callable[[], nn.Module], input_shape: tuple[int, ...], threads: int, reps: int,
             warmup: int) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build().eval()
    with torch.no_grad():  # non-trivial BN statistics, as after training
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    folded = fold_batchnorm(model)
    x = torch.randn(input_shape)
    with torch.inference_mode():
        max_abs_diff = (model(x) - folded(x)).abs().max().item()
    times = time_pair(model, folded, x, reps, warmup)
    before, after = count(model, (1, *input_shape[1:])), count(folded, (1, *input_shape[1:]))
    latency = {variant: {clock: summarise(v) for clock, v in clocks.items()} for variant, clocks in times.items()}
    return {
        "model": name,
        "threads": threads,
        "batch_size": input_shape[0],
        "input_size": list(input_shape[1:]),
        "params_unfolded": before.params,
        "params_folded": after.params,
        "macs_per_image": before.macs,
        "batchnorm_layers_folded": sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()),
        "max_abs_output_diff": max_abs_diff,
        "latency": latency,
        "speedup_wall": latency["unfolded"]["wall"]["median_ms"] / latency["folded"]["wall"]["median_ms"],
        "speedup_cpu": latency["unfolded"]["cpu"]["median_ms"] / latency["folded"]["cpu"]["median_ms"],
        "raw_seconds": times,
    }


def write_markdown(result: dict, path: Path) -> None:
    m = result["machine"]
    loads = (m["load_average_before"] or []) + (m["load_average"] or [])
    busy = bool(loads) and max(loads[:1] + loads[3:4]) > (m["logical_cpus"] or 1)  # the 1-minute averages
    note = (" -- above the number of CPUs: other processes shared these cores, so wall-clock times are noisy; the "
            "variants alternate, so their ratio is fairer than the absolute numbers, and CPU time is the steadier "
            "measure" if busy else "")
    lines = [
        "# BN folding: CPU inference latency",
        "",
        f"Written by `benchmarks/bench_bn_folding.py` on {result['date']}.",
        "",
        f"* CPU: {m['cpu_model']}, {m['logical_cpus']} logical CPUs; `torch.set_num_threads` = {result['threads']}",
        f"* torch {m['torch_version']}, Python {m['python']}, {m['platform']}",
        f"* load average (1, 5, 15 min) before: {m['load_average_before']}, after: {m['load_average']}{note}",
        f"* {result['warmup']} warm-up runs, then {result['reps']} timed repetitions per variant; median reported",
        "",
        "Medians in ms. Wall: `time.perf_counter`; CPU: `time.process_time` of the benchmark process.",
        "",
        "| model | threads | batch | input | BN layers folded | wall unfolded | wall folded | speed-up (wall) | "
        "CPU unfolded | CPU folded | speed-up (CPU) | max abs output diff |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in result["cases"]:
        u, f = c["latency"]["unfolded"], c["latency"]["folded"]
        lines.append(
            f"| {c['model']} | {c['threads']} | {c['batch_size']} | {'x'.join(map(str, c['input_size']))} | "
            f"{c['batchnorm_layers_folded']} | {u['wall']['median_ms']:.1f} | {f['wall']['median_ms']:.1f} | "
            f"{c['speedup_wall']:.2f}x | {u['cpu']['median_ms']:.1f} | {f['cpu']['median_ms']:.1f} | "
            f"{c['speedup_cpu']:.2f}x | {c['max_abs_output_diff']:.1e} |")
    lines.append("")
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1",
                        help="comma-separated torch.set_num_threads values to run (default 1; e.g. 1,2)")
    parser.add_argument("--reps", type=int, default=30, help="timed repetitions per variant (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs per variant first (default 3)")
    args = parser.parse_args()
    try:
        threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        raise SystemExit(f"--threads must be comma-separated integers, got {args.threads!r}") from None
    if min(threads) < 1 or args.reps < 2 or args.warmup < 0:
        raise SystemExit("--threads values must be >= 1, --reps >= 2, --warmup >= 0")

    load_before = load_average()
    start = time.perf_counter()
    cases = []
    for n in threads:
        cases.append(run_case("bn_inception", bn_inception, (1, 3, 224, 224), n, args.reps, args.warmup))
        cases.append(run_case("mini_bn_inception", mini_bn_inception, (128, 3, 32, 32), n, args.reps, args.warmup))
    machine = dict(machine_receipt(), load_average_before=load_before)  # its load_average: at the end
    result = {"benchmark": "bn_folding", "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "threads": threads,
              "reps": args.reps, "warmup": args.warmup, "wall_seconds": round(time.perf_counter() - start, 1),
              "machine": machine, "cases": cases}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bn_folding.json").write_text(json.dumps(result, indent=2) + "\n")
    write_markdown(result, RESULTS / "bn_folding.md")
    for c in cases:
        print(f"{c['model']:<18} threads {c['threads']} batch {c['batch_size']:>3} "
              f"{'x'.join(map(str, c['input_size'])):<9} speed-up wall {c['speedup_wall']:.2f}x, "
              f"CPU {c['speedup_cpu']:.2f}x (unfolded {c['latency']['unfolded']['wall']['median_ms']:.1f} ms wall)")
    print(f"wrote {RESULTS / 'bn_folding.json'} and bn_folding.md ({result['wall_seconds']} s)")


if __name__ == "__main__":
    main()
