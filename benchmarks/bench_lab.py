"""The lab's recorded run: every family member's mini preset, one recipe, 40 epochs, five seeds, paired.

Usage:
    python benchmarks/bench_lab.py --pilot                 # the pilot: one seed, PILOT_EPOCHS, the budget rule
    python benchmarks/bench_lab.py [--seeds 0,1,2,3,4]     # the recorded run (EPOCHS, fixed below)
    python benchmarks/bench_lab.py --seeds 3 --out /tmp/lab_3.json; ...; python benchmarks/bench_lab.py --merge ...

What is fixed before the recorded run (committed with this docstring, before the run; never lengthened after it):

* presets: every preset of :data:`inception_lab.experiments.budget.LAB_PRESETS` that the library has, with its budget
  options (equal MACs per 32x32 image within 15 %; no auxiliary heads, no dropout);
* data: :func:`~inception_lab.data.make_shapes_dataset` at 32 px, clutter 3, noise 0.05, 2000 training and 1000 test
  images. Seed ``s`` draws its own images (data seed ``s``, ``run_lab(vary_data=True)``) and fixes the initial
  weights and the batch order; every preset sees the same images in the same order for the same seed, so the runs
  are **paired by seed**, and the spread between seeds includes the sampling of the data;
* training: :func:`inception_lab.experiments.runner.run_lab` -- :func:`~inception_lab.train.fit` with Adam at a
  constant learning rate of 2e-3, batch 32, ``channels_last``, on the CPU with one thread;
* run length: :data:`EPOCHS` = 40 epochs (63 steps each), fixed from the pilot (``lab_pilot.md``, seed 100, 40
  epochs) before the recorded run. By :data:`PLATEAU_RULE` the pilot's curves plateau at epoch 39
  (mini_googlenet), 34 (mini_bn_inception) and 36 (mini_inception_v3), which the rule rounds up to 40 epochs;
  mini_inception_v2 (the Table-1-layout mini) had **not** plateaued by the rule within the pilot's 40 epochs (its
  test accuracy still moves by about 4 points from one epoch to the next, e.g. 88.9, 87.7, 80.8, 87.5, 86.6, 88.4
  over epochs 35-40). The run is fixed at 40 epochs anyway (the CPU time left allows no longer pilot), so the
  Table-1-layout mini's numbers are "at 40 epochs", not "at convergence"; the other three are at their plateau;
* seeds: 0, 1, 2, 3, 4 (five per preset, the fewest a finding needs); seed ``s`` is both the data seed and the
  run seed (weights, batch order), as in the pilot;
* the measure: each run's test accuracy after its last epoch; every pair of presets compared by
  :meth:`~inception_lab.experiments.runner.LabResults.comparison` (exact sign test over the five paired differences,
  a finding only at ``p <= 2/2**5``, the 95 % bootstrap interval beside it, the chance of a false finding over the six
  pairs stated);
* time: each run's wall and CPU time, plus :func:`inception_lab.experiments.runner.time_steps` (median CPU
  milliseconds per training step, presets interleaved), whose ratios do not depend on what else the machine did.

**The pilot** (``--pilot``; ``benchmarks/results/lab_pilot.{json,md}``) trains every preset once, with seed
:data:`PILOT_SEED` (images and weights that the recorded run does not use), for :data:`PILOT_EPOCHS` epochs, and
applies :data:`PLATEAU_RULE` to each preset's test-accuracy curve; it is for timing, for catching bugs and for the
run length, not for the comparison.

The recorded run takes about 690 s of CPU per seed at 40 epochs (four presets; the pilot's measure); on a shared
machine run one process per seed through ``/work/briefs/bench_slot.sh`` and merge::

    for s in 0 1 2 3 4; do python benchmarks/bench_lab.py --seeds $s --out /tmp/lab_$s.json; done
    python benchmarks/bench_lab.py --merge /tmp/lab_0.json /tmp/lab_1.json ... /tmp/lab_4.json

Writes ``benchmarks/results/lab.json`` (:meth:`~inception_lab.experiments.runner.LabResults.save`: every run with its
receipt and curve, the machine receipt, the command) and ``benchmarks/results/lab.md`` (the table, the verdicts, the
receipts).
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

import torch

import inception_lab
from inception_lab.experiments import budget, runner
from inception_lab.runtime import machine_receipt

RESULTS = Path(__file__).resolve().parent / "results"

#: The pilot: one seed the recorded run does not use, trained long enough to see every preset's curve flatten.
PILOT_SEED = 100
PILOT_EPOCHS = 40
#: How the run length was chosen from the pilot's curves (runner.plateau_epoch with window 3, min_gain 0.01).
PLATEAU_RULE = ("a preset has plateaued at the first epoch from which its test accuracy, averaged over the last 3 "
                "epochs, stays within 1 point of the 3 epochs before (runner.plateau_epoch(curve, window=3, "
                "min_gain=0.01)); the run length is the latest plateau epoch over the presets in the pilot, rounded "
                "up to a multiple of 5")
#: The recorded run's epochs: fixed from the pilot (lab_pilot.md) before the recorded run (see the docstring: three
#: presets plateau by epoch 39, mini_inception_v2 not within the pilot's 40; its numbers are "at 40 epochs").
EPOCHS = 40
#: The recorded run's seeds.
SEEDS = (0, 1, 2, 3, 4)
N_TRAIN, N_TEST = 2000, 1000


def recipe(epochs: int) -> runner.Recipe:
    return runner.Recipe(n_train=N_TRAIN, n_test=N_TEST, epochs=epochs)


def budget_from_pilot(results: runner.LabResults) -> tuple[dict[str, int | None], int | None]:
    """Each preset's plateau epoch in the pilot, and the run length :data:`PLATEAU_RULE` gives (None: no plateau)."""
    plateaus = {r.preset: runner.plateau_epoch(r.test_acc_curve, window=3, min_gain=0.01) for r in results.runs}
    if any(e is None for e in plateaus.values()):
        return plateaus, None
    latest = max(e for e in plateaus.values() if e is not None)
    return plateaus, -(-latest // 5) * 5


def header(results: runner.LabResults, title: str) -> list[str]:
    r, m = results.recipe, results.machine
    return [f"# {title}", "",
            f"Written by `{results.extra.get('command', 'benchmarks/bench_lab.py')}` on {results.date}; "
            f"{m['device']} ({m.get('cpu_model', '')}), torch {m['torch_version']}, "
            f"inception_lab {m['library_version']}, Python {m['python']}.", "",
            f"* data: shapes {r['image_size']} px, clutter {r['clutter']}, noise {r['noise']}, {r['n_train']} "
            f"training / {r['n_test']} test images; data seed = seed "
            f"({sorted({run.data_seed for run in results.runs})})",
            f"* training: {r['optimizer']} lr {r['lr']} (constant), batch {r['batch_size']}, {r['epochs']} epochs "
            f"({results.runs[0].steps} steps), channels_last {r['channels_last']}; seeds {results.seeds}",
            f"* budget: {budget.BUDGET_RULE}", ""]


def curve_table(results: runner.LabResults) -> list[str]:
    """Mean test accuracy over the seeds at a few epochs, per preset."""
    epochs = results.runs[0].epochs
    marks = sorted({1, 3, 5, 10, 15, 20, 30, 40, 50, epochs} & set(range(1, epochs + 1)))
    lines = ["| preset | " + " | ".join(f"epoch {e}" for e in marks) + " |",
             "|---|" + "---:|" * len(marks)]
    for name in results.presets:
        curves = [r.test_acc_curve for r in results.runs if r.preset == name]
        lines.append(f"| {name} | " + " | ".join(f"{100 * statistics.fmean(c[e - 1] for c in curves):.1f} %"
                                                for e in marks) + " |")
    return lines


def summary_md(results: runner.LabResults) -> str:
    lines = header(results, "The lab: the Inception family's mini presets on one recipe, 40 epochs, paired by seed")
    lines += ["| preset | params | MACs / image | seeds | mean test acc | range over seeds | mean CPU s | "
              "step time (CPU ms, median) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in results.summary():
        step = results.step_time_ms.get(s.preset)
        lines.append(f"| {s.preset} | {s.params:,} | {s.macs:,} | {len(s.seeds)} | {100 * s.mean_acc:.1f} % | "
                     f"{100 * s.min_acc:.1f}-{100 * s.max_acc:.1f} % | {s.mean_cpu_time_s:.0f} | "
                     f"{'' if step is None else f'{step:.0f}'} |")
    lines += ["", "## Mean test accuracy during training", ""] + curve_table(results)
    lines += ["", "## Which differences hold", "",
              "Paired by seed: a finding needs at least 5 seeds and an exact sign test p <= 2/2^5 = 0.0625; the 95 % "
              "bootstrap interval of the mean paired difference is reported beside it.", ""]
    lines += [f"* {line}" for line in results.findings()]
    lines += ["", "## Receipts", "", "```", results.receipts(), "```"]
    return "\n".join(lines) + "\n"


def pilot_md(results: runner.LabResults) -> str:
    plateaus, epochs = budget_from_pilot(results)
    lines = header(results, "The lab's pilot: one seed, long curves, the run length")
    lines += ["The pilot is for timing, catching bugs and the run length; its accuracies are one sample and are not "
              "compared.", "", f"Rule: {PLATEAU_RULE}.", "",
              "| preset | plateau epoch | test acc at the plateau | at the end | CPU s |", "|---|---:|---:|---:|---:|"]
    for r in results.runs:
        e = plateaus[r.preset]
        at = "" if e is None else f"{100 * r.test_acc_curve[e - 1]:.1f} %"
        lines.append(f"| {r.preset} | {'none' if e is None else e} | {at} | {100 * r.test_acc:.1f} % | "
                     f"{r.cpu_time_s:.0f} |")
    lines += ["", f"Run length by the rule: **{epochs if epochs else 'no plateau within the pilot'}** epochs.", "",
              "## Test accuracy per epoch", ""]
    for r in results.runs:
        lines.append(f"* {r.preset}: " + ", ".join(f"{100 * a:.1f}" for a in r.test_acc_curve))
    lines += ["", "## Receipts", "", "```", results.receipts(), "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pilot", action="store_true", help="the pilot (seed PILOT_SEED, PILOT_EPOCHS epochs)")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="comma-separated seeds (default 0-4)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--out", type=Path, default=None, help="results file (default results/lab.json, or "
                        "results/lab_pilot.json with --pilot)")
    parser.add_argument("--merge", type=Path, nargs="+", default=None,
                        help="instead of training: merge result files of separate processes (one per seed) into "
                             "--out, and time the steps")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    command = "python benchmarks/bench_lab.py " + shlex.join(sys.argv[1:])
    presets = budget.available_presets()
    out = args.out or RESULTS / ("lab_pilot.json" if args.pilot else "lab.json")
    if args.pilot:
        results = runner.run_lab(presets, recipe(PILOT_EPOCHS), [PILOT_SEED], device="cpu", vary_data=True)
    elif args.merge:
        parts = [runner.LabResults.load(path) for path in args.merge]
        if any(p.recipe != parts[0].recipe for p in parts):
            raise SystemExit("the files to merge were made with different recipes.")
        results = runner.LabResults(recipe=parts[0].recipe, runs=[r for p in parts for r in p.runs],
                                    date=max(p.date for p in parts), machine=parts[-1].machine,
                                    extra=dict(parts=[p.extra for p in parts]))
        keys = [(r.preset, r.seed) for r in results.runs]
        if len(set(keys)) != len(keys):
            raise SystemExit("the files to merge repeat a (preset, seed) run.")
    else:
        if EPOCHS is None:
            raise SystemExit("EPOCHS is not fixed yet: run the pilot (--pilot), apply PLATEAU_RULE, write EPOCHS "
                             "into this script and commit it before the recorded run.")
        seeds = [int(s) for s in args.seeds.split(",")]
        results = runner.run_lab(presets, recipe(EPOCHS), seeds, device="cpu", vary_data=True)
    results.step_time_ms = runner.time_steps(presets, runner.Recipe(**results.recipe), repeats=7, steps=3,
                                             device="cpu")
    results.extra = {**results.extra, "command": command, "receipt": machine_receipt(),
                     "library_version": inception_lab.__version__}
    out.parent.mkdir(parents=True, exist_ok=True)
    results.save(out)
    text = pilot_md(results) if args.pilot else summary_md(results)
    out.with_suffix(".md").write_text(text)
    print(text)
    if args.pilot:
        print(json.dumps(budget_from_pilot(results)[0]))


if __name__ == "__main__":
    main()
