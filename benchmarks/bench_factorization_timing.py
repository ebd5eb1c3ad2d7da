"""MACs are not time: CPU time of an n x n convolution vs its factorizations, next to the MAC ratio (chapter 4).

Usage:
    python benchmarks/bench_factorization_timing.py [--threads 1] [--rounds 3] [--reps 7] [--batch 8]

Cases: n = 3, 5, 7 with 64 and 192 channels (in = middle = out) on a 17x17 grid, batch ``--batch``. Variants:
``n x n``; ``1 x n -> n x 1`` (:class:`inception_lab.nn.layers.FactorizedConv`, linear, no bias); for n = 5, 7 the
stack of 3x3 (:class:`inception_lab.nn.layers.StackedConv`). All convolutions are plain ``nn.Conv2d`` without bias or
activation, so the comparison is the convolutions alone.

Method (:func:`inception_lab.experiments.timing.time_modules`): per case and round, warm-up runs, then ``--reps``
repetitions in which every variant runs once, in a rotating order; forward (``torch.inference_mode``) and forward +
backward are timed separately. Reported per round: median(variant) / median(n x n), for wall-clock and process CPU
time; over ``--rounds`` rounds (each with freshly initialised weights, ``torch.manual_seed(round)``): the median
ratio and its range. The MAC ratio comes from :mod:`inception_lab.cost.factorization` and is checked against
``cost.count``.

Writes ``benchmarks/results/factorization_timing.json`` and ``.md``. Takes about 3 minutes on two shared cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from inception_lab.cost import count
from inception_lab.cost.factorization import explore
from inception_lab.experiments.timing import time_modules
from inception_lab.nn.layers import FactorizedConv, StackedConv
from inception_lab.runtime import load_average, machine_receipt

RESULTS = Path(__file__).resolve().parent / "results"
NS = (3, 5, 7)
WIDTHS = (64, 192)
GRID = 17






def linear(in_channels: int, out_channels: int, kernel_size, stride=1, padding=0) -> nn.Module:
    """A plain convolution without bias: the atom of every variant here."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)


def variants(n: int, channels: int) -> dict[str, nn.Module]:
    """The torch modules of :func:`inception_lab.cost.factorization.variant_chains` for ``n`` (linear, no bias)."""
    out = {"n x n": linear(channels, channels, n, padding=n // 2),
           "1 x n + n x 1": FactorizedConv(channels, channels, n, between="none", conv_block=linear)}
    if n >= 5:
        out["stack of 3 x 3"] = StackedConv(channels, channels, n, conv_block=linear)
    return out


def run_case(n: int, channels: int, args: argparse.Namespace) -> dict:
    rows = {r["name"]: r for r in explore(n, channels, channels, GRID, channels)}
    rounds = []
    for r in range(args.rounds):
        torch.manual_seed(r)
        modules = variants(n, channels)
        for name, module in modules.items():  # the analytic MACs are the counted ones
            assert count(module.eval(), (1, channels, GRID, GRID)).macs == rows[name]["macs"], name
        x = torch.randn(args.batch, channels, GRID, GRID)
        timings = time_modules(modules, x, reps=args.reps, warmup=args.warmup)
        rounds.append({name: {f"{mode}_{clock}": timings.ratio(name, "n x n", mode, clock)
                              for mode in ("forward", "forward_backward") for clock in ("wall", "cpu")}
                       | {f"{mode}_{clock}_ms": timings.median_ms(name, mode, clock)
                          for mode in ("forward", "forward_backward") for clock in ("wall", "cpu")}
                       for name in modules})
    summary = {}
    for name in rounds[0]:
        entry = {"macs": rows[name]["macs"], "mac_ratio": rows[name]["macs"] / rows["n x n"]["macs"],
                 "params": rows[name]["params"]}
        for key in rounds[0][name]:
            values = [rnd[name][key] for rnd in rounds]
            entry[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
        summary[name] = entry
    return {"n": n, "channels": channels, "grid": GRID, "batch": args.batch, "variants": summary}


def write_markdown(result: dict, path: Path) -> None:
    m = result["machine"]
    lines = [
        "# Factorized convolutions: time vs MACs",
        "",
        f"Written by `benchmarks/bench_factorization_timing.py` on {result['date']}.",
        "",
        f"* CPU: {m['cpu_model']}, {m['logical_cpus']} logical CPUs; `torch.set_num_threads` = {result['threads']}",
        f"* torch {m['torch_version']}, Python {m['python']}, {m['platform']}",
        f"* load average (1, 5, 15 min) before: {m['load_average_before']}, after: {m['load_average']}",
        f"* {result['rounds']} rounds (weights seeded 0..{result['rounds'] - 1}), each {result['warmup']} warm-up "
        f"runs and {result['reps']} interleaved repetitions per variant; batch {result['batch']}, grid "
        f"{GRID}x{GRID}, in = middle = out channels, no bias, no activation",
        "",
        "Ratios are median(variant) / median(n x n) within one round (CPU time of the process); the table shows the "
        "median over rounds and, in brackets, the range. < 1 means faster than the n x n convolution.",
        "",
        "| n | channels | variant | MAC ratio | forward time ratio | forward+backward time ratio | "
        "n x n forward ms |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    for case in result["cases"]:
        ref = case["variants"]["n x n"]["forward_cpu_ms"]["median"]
        for name, v in case["variants"].items():
            f, fb = v["forward_cpu"], v["forward_backward_cpu"]
            lines.append(f"| {case['n']} | {case['channels']} | {name} | {v['mac_ratio']:.2f} | "
                         f"{f['median']:.2f} [{f['min']:.2f}, {f['max']:.2f}] | "
                         f"{fb['median']:.2f} [{fb['min']:.2f}, {fb['max']:.2f}] | {ref:.1f} |")
    lines.append("")
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="independent rounds (default 3)")
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions per variant and round (default 7)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per variant first (default 2)")
    parser.add_argument("--batch", type=int, default=8, help="batch size (default 8)")
    args = parser.parse_args()
    if args.threads < 1 or args.rounds < 1 or args.reps < 1 or args.warmup < 0 or args.batch < 1:
        raise SystemExit("--threads, --rounds, --reps and --batch must be >= 1, --warmup >= 0")
    torch.set_num_threads(args.threads)
    load_before = load_average()
    start = time.perf_counter()
    cases = [run_case(n, c, args) for c in WIDTHS for n in NS]
    machine = dict(machine_receipt(), load_average_before=load_before)  # its load_average: at the end
    result = {"benchmark": "factorization_timing", "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
              "threads": args.threads, "rounds": args.rounds, "reps": args.reps, "warmup": args.warmup,
              "batch": args.batch, "grid": GRID, "wall_seconds": round(time.perf_counter() - start, 1),
              "machine": machine, "cases": cases}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "factorization_timing.json").write_text(json.dumps(result, indent=2) + "\n")
    write_markdown(result, RESULTS / "factorization_timing.md")
    print((RESULTS / "factorization_timing.md").read_text())
    print(f"({result['wall_seconds']} s)")


if __name__ == "__main__":
    main()
