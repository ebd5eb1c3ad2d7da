"""How much of a feature map survives each grid reduction? The multi-seed run behind chapter 5's bottleneck experiment.

Usage:
    python benchmarks/bench_grid_reduction.py [--seeds 0,1,2,3,4] [--steps 800] [--threads 1]

Chapter 5 trains, live and for one seed, a reduction ``k x d x d -> 2k x d/2 x d/2`` (pool first, conv first, or the
parallel module of [Rethinking, Fig. 10]) together with a linear decoder that reconstructs the input feature map
(:mod:`inception_lab.experiments.representation`), and reports the recovered variance R^2 on held-out maps. This
script runs the same experiment longer (``--steps``) for several training seeds and both pooling types, so the
chapter can say which differences hold:

* data: :func:`inception_lab.experiments.representation.feature_maps` with the defaults of
  :data:`inception_lab.experiments.representation.DEFAULTS` (8 channels, 32x32, 1024 training and 256 test maps, data
  seed 0: the same maps for every run);
* training: Adam, learning rate and batch size of ``DEFAULTS``, ``--steps`` steps, the same for every strategy;
* recorded: R^2 per run, the reduction's parameters and MACs.

Writes ``benchmarks/results/grid_reduction.json`` (every number) and ``benchmarks/results/grid_reduction.md``.
Takes about 7 minutes of CPU time with the defaults (30 runs of 800 steps, one thread).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from inception_lab.cost.grid_reduction import POOLS, STRATEGIES
from inception_lab.experiments import representation
from inception_lab.runtime import machine_receipt

RESULTS = Path(__file__).resolve().parent / "results"


def machine_line(machine: dict | str) -> str:
    """The processor, from the receipt (older results files recorded a string)."""
    return machine if isinstance(machine, str) else f"{machine['cpu_model']} ({machine['logical_cpus']} CPUs)"


def summary_md(result: dict) -> str:
    s = result["settings"]
    lines = ["# Grid reduction: variance of the input map recovered after each reduction", "",
             f"Written by `benchmarks/bench_grid_reduction.py` on {result['date']}; torch {result['torch_version']}, "
             f"{result['threads']} thread(s), {machine_line(result['machine'])}; {result['cpu_time_s']:.0f} s CPU in "
             "total.", "",
             f"* maps: {s['channels']} channels, {s['image_size']}x{s['image_size']}, {s['n_train']} training / "
             f"{s['n_test']} test maps (data seed 0)",
             f"* training: Adam lr {s['lr']}, batch {s['batch_size']}, {s['steps']} steps; seeds {result['seeds']}", "",
             "| pooling | strategy | MACs | params | R^2 mean | R^2 min | R^2 max | R^2 per seed |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for row in result["summary"]:
        lines.append(f"| {row['pool']} | {row['strategy']} | {row['macs']:,} | {row['params']:,} | "
                     f"{row['r2_mean']:.3f} | {row['r2_min']:.3f} | {row['r2_max']:.3f} | "
                     + ", ".join(f"{v:.3f}" for v in row["r2"]) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated training seeds")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    d = representation.DEFAULTS
    train_maps = representation.feature_maps(d["n_train"], channels=d["channels"], image_size=d["image_size"])
    test_maps = representation.feature_maps(d["n_test"], channels=d["channels"], image_size=d["image_size"],
                                        split="test")
    start = time.process_time()
    runs = []
    for pool in POOLS:
        for seed in seeds:
            for strategy in STRATEGIES:
                r = representation.train_recovery(strategy, train_maps, test_maps, pool=pool, seed=seed,
                                              steps=args.steps, batch_size=d["batch_size"], lr=d["lr"])
                print(f"{pool} seed {seed} {strategy}: R^2 {r.r2:.4f}", flush=True)
                runs.append(r.as_dict())
    summary = []
    for pool in POOLS:
        for strategy in STRATEGIES:
            mine = [r for r in runs if r["pool"] == pool and r["strategy"] == strategy]
            values = [r["r2"] for r in mine]
            summary.append(dict(pool=pool, strategy=strategy, macs=mine[0]["macs"], params=mine[0]["params"],
                                r2=values, r2_mean=statistics.fmean(values), r2_min=min(values), r2_max=max(values)))
    result = dict(date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), torch_version=torch.__version__,
                  threads=args.threads, machine=machine_receipt(),
                  cpu_time_s=time.process_time() - start, seeds=seeds,
                  settings=dict(d, steps=args.steps), runs=runs, summary=summary)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "grid_reduction.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "grid_reduction.md").write_text(summary_md(result))
    print(summary_md(result))


if __name__ == "__main__":
    main()
