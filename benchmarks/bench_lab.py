"""The lab's recorded run: every family member's mini preset, one recipe, several seeds (chapter 7's findings).

Usage:
    python benchmarks/bench_lab.py [--seeds 0,1,2] [--epochs 3] [--n-train 2000] [--threads 1]

Chapter 7 trains the mini presets live for a few dozen steps, one seed: one sample. This script runs the
comparison longer and over several seeds so that the chapter can say which differences hold:

* presets: every preset of :data:`inception_lab.experiments.budget.LAB_PRESETS` that the library has, with its budget
  options (equal MACs per 32x32 image within 15 %; no auxiliary heads, no dropout);
* data: :func:`~inception_lab.data.make_shapes_dataset` at 32 px, clutter 3, noise 0.05 (the easier setting, so a
  short budget separates the networks), ``--n-train`` training and 1000 test images, data seed 0 (the same images for
  every run);
* training: :func:`inception_lab.experiments.runner.run_lab` -- :func:`~inception_lab.train.fit` with Adam, learning
  rate 2e-3, batch 32, ``--epochs`` epochs, ``channels_last``, on the CPU with ``--threads`` threads; each seed fixes
  the initial weights and the batch order;
* time: each run's wall and CPU time, plus :func:`inception_lab.experiments.runner.time_steps` (median CPU
  milliseconds per training step, presets interleaved), whose ratios do not depend on what else the machine was doing.

Writes ``benchmarks/results/lab.json`` (:meth:`inception_lab.experiments.runner.LabResults.save`: every run with its
receipt) and ``benchmarks/results/lab.md`` (the table, the receipts, and which differences are within the spread
between seeds). About 5 minutes of CPU time with the defaults (twelve runs of 189 steps). On a shared machine, run one
process per seed and merge (how ``benchmarks/results/lab.json`` was made)::

    for s in 0 1 2; do python benchmarks/bench_lab.py --seeds $s --out /tmp/lab_$s.json & done; wait
    python benchmarks/bench_lab.py --merge /tmp/lab_0.json /tmp/lab_1.json /tmp/lab_2.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from inception_lab.experiments import budget, runner

RESULTS = Path(__file__).resolve().parent / "results"


def summary_md(results: runner.LabResults) -> str:
    r, m = results.recipe, results.machine
    lines = ["# The lab: the Inception family's mini presets on one recipe", "",
             f"Written by `benchmarks/bench_lab.py` on {results.date}; {m['device']}, torch {m['torch_version']}, "
             f"inception_lab {m['library_version']}, Python {m['python']} ({m['machine']}).", "",
             f"* data: shapes {r['image_size']} px, clutter {r['clutter']}, noise {r['noise']}, {r['n_train']} "
             f"training / {r['n_test']} test images (data seed {r['data_seed']})",
             f"* training: {r['optimizer']} lr {r['lr']}, batch {r['batch_size']}, {r['epochs']} epochs, "
             f"channels_last {r['channels_last']}; seeds {results.seeds}",
             f"* budget: {budget.BUDGET_RULE}", "",
             "| preset | params | MACs / image | seeds | mean test acc | range over seeds | mean CPU s | "
             "step time (CPU ms, median) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in results.summary():
        step = results.step_time_ms.get(s.preset)
        lines.append(f"| {s.preset} | {s.params:,} | {s.macs:,} | {len(s.seeds)} | {100 * s.mean_acc:.1f} % | "
                     f"{100 * s.min_acc:.1f}-{100 * s.max_acc:.1f} % | {s.mean_cpu_time_s:.0f} | "
                     f"{'' if step is None else f'{step:.0f}'} |")
    lines += ["", "## Which differences hold", "",
              "A difference counts as a finding only when the two presets' ranges over the seeds do not overlap.", ""]
    lines += [f"* {line}" for line in results.findings()]
    lines += ["", "## Receipts", "", "```", results.receipts(), "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds (default 0,1,2)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--out", type=Path, default=RESULTS / "lab.json")
    parser.add_argument("--merge", type=Path, nargs="+", default=None,
                        help="instead of training: merge result files of separate processes (one per seed, run "
                             "in parallel on a shared machine) into --out, and time the steps")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    presets = budget.available_presets()
    recipe = runner.Recipe(n_train=args.n_train, epochs=args.epochs)

    if args.merge:
        parts = [runner.LabResults.load(path) for path in args.merge]
        if any(p.recipe != parts[0].recipe for p in parts):
            raise SystemExit("the files to merge were made with different recipes.")
        results = runner.LabResults(recipe=parts[0].recipe, runs=[r for p in parts for r in p.runs],
                                 date=max(p.date for p in parts), machine=parts[0].machine)
        recipe = runner.Recipe(**results.recipe)
    else:
        results = runner.run_lab(presets, recipe, seeds, device="cpu")
    results.step_time_ms = runner.time_steps(presets, recipe, repeats=7, steps=3, device="cpu")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results.save(args.out)
    args.out.with_suffix(".md").write_text(summary_md(results))
    print(summary_md(results))


if __name__ == "__main__":
    main()
