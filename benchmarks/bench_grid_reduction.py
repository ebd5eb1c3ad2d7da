"""Which grid reduction keeps the most of its input, and why? Chapter 5's bottleneck experiment, with controls.

Usage (the recorded run: every default, the budget below):
    python benchmarks/bench_grid_reduction.py [--threads 1] [--pilot]

Each arm trains a reduction ``8 x 32 x 32 -> 16 x 16 x 16`` with a linear decoder that reconstructs the input map,
then reads the shape class of each image from the frozen reduced map with a linear probe
(:mod:`inception_lab.experiments.representation`). Scores: recovered variance R^2 and probe accuracy, both on
held-out maps.

**Budget, fixed before the recorded run** (this docstring and the script were committed before it ran):

* seeds 0 to 8 (nine). Seed ``s`` varies **everything random**: the shapes images (data seed ``s``, train and
  test streams), the random 3x3 feature convolution (``conv_seed = 1234 + s``; the first edition used 1234 for every
  seed), the initial weights and the batch order (model seed ``s``). All arms of one seed share the data, the
  feature convolution and the batch order; ``parallel`` and ``parallel_relu`` also share their initial weights.
* maps: 8 channels, 32x32, 1024 training and 1024 test maps per seed, in both forms of
  :data:`~inception_lab.experiments.representation.INPUT_KINDS` (standardised; non-negative).
* training: Adam, lr 0.003, batch 32, **800 steps** for every arm (the first edition's length, itself chosen after a
  300-step run had not separated two arms; it is kept, not re-chosen, and no run is lengthened after looking).
* arms: pool first, conv first, stride-2 conv, parallel (Fig. 10) and, on standardised maps only, parallel with a
  ReLU on the pooled branch (on non-negative maps it is the same network as parallel; a test checks it); max and
  average pooling (the stride-2 conv has no pooling and runs once per seed and input kind).
* probe: ridge regression onto one-hot labels on the standardised reduced map, strength chosen among
  ``PROBE_STRENGTHS`` x features by 5-fold cross-validation on the training maps, scored once on the test maps;
  the same probe on the input maps and on their 3x3/2 pooling, for scale.
* analysis: the comparisons of :data:`~inception_lab.experiments.representation.COMPARISONS` for each input kind,
  pooling and score (36 in all), each paired by seed with the book's exact sign test (a finding needs
  p <= 2/2^5) and a 95 % bootstrap interval of the mean difference
  (:func:`inception_lab.experiments.findings.paired_comparison`); the chance of at least one false finding over
  the 36 is reported (:func:`~inception_lab.experiments.findings.family_false_finding_chance`). Primary setting:
  non-negative maps and max pooling (what Inception-v3's Mixed_6a and Mixed_7a receive and use).

Estimated CPU time from a timing pilot (``--pilot``: one seed, 40 steps, 80 s CPU, almost all of it the probes):
about 5.5 minutes per seed on one thread of the shared AMD EPYC (16 arms of about 16 s of training each, plus the
probes), about 50 minutes in all. Writes ``benchmarks/results/grid_reduction.json`` (every run and
comparison) and ``benchmarks/results/grid_reduction.md``; ``--pilot`` writes to a temporary folder instead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import inception_lab
from inception_lab.cost.grid_reduction import POOLS
from inception_lab.experiments import representation as rep
from inception_lab.experiments.findings import ALPHA, family_false_finding_chance
from inception_lab.runtime import machine_receipt

RESULTS = Path(__file__).resolve().parent / "results"
SEEDS = tuple(range(9))
BUDGET = dict(channels=8, image_size=32, n_train=1024, n_test=1024, steps=800, batch_size=32, lr=3e-3)
PILOT = dict(BUDGET, steps=40)


def arms_for(kind: str) -> tuple[str, ...]:
    """The arms run on one input kind (``parallel_relu`` only where it differs from ``parallel``)."""
    return tuple(a for a in rep.ARMS if not (a == "parallel_relu" and kind == "nonnegative"))


def run_seed(seed: int, budget: dict) -> tuple[list[dict], list[dict]]:
    """Every arm and reference probe of one seed: (runs, references)."""
    runs, references = [], []
    for kind in rep.INPUT_KINDS:
        sets = {split: rep.map_set(budget[f"n_{split}"], channels=budget["channels"], image_size=budget["image_size"],
                                   seed=seed, split=split, conv_seed=rep.FEATURE_CONV_SEED + seed, kind=kind)
                for split in ("train", "test")}
        for pool in POOLS:
            for name, probe in rep.reference_probes(sets["train"], sets["test"], pool).items():
                if name == "input" and pool != POOLS[0]:
                    continue  # the input itself does not depend on the pooling
                references.append(dict(inputs=kind, pool="none" if name == "input" else pool, seed=seed,
                                       reference=name, probe_accuracy=probe.accuracy, probe_strength=probe.strength))
            for arm in arms_for(kind):
                if arm in rep.UNPOOLED_ARMS and pool != POOLS[0]:
                    continue  # no pooling: one run serves both
                r = rep.train_recovery(arm, sets["train"], sets["test"], pool=pool, seed=seed, steps=budget["steps"],
                                       batch_size=budget["batch_size"], lr=budget["lr"])
                print(f"seed {seed} {kind:<12} {r.pool:<4} {arm:<13} R^2 {r.r2:.4f}  probe {r.probe_accuracy:.3f}",
                      flush=True)
                runs.append(r.as_dict())
    return runs, references


def summary_rows(runs: list[dict]) -> list[dict]:
    """Mean, min and max of each score per (input kind, pooling, arm)."""
    keys = sorted({(r["inputs"], r["pool"], r["strategy"]) for r in runs},
                  key=lambda k: (rep.INPUT_KINDS.index(k[0]), k[1], rep.ARMS.index(k[2])))
    rows = []
    for kind, pool, arm in keys:
        mine = [r for r in runs if (r["inputs"], r["pool"], r["strategy"]) == (kind, pool, arm)]
        row = dict(inputs=kind, pool=pool, strategy=arm, macs=mine[0]["macs"], params=mine[0]["params"],
                   narrowest=mine[0]["narrowest"])
        for metric in rep.METRICS:
            values = [r[metric] for r in mine]
            row[metric] = dict(mean=statistics.fmean(values), min=min(values), max=max(values))
        rows.append(row)
    return rows


def reference_rows(references: list[dict]) -> list[dict]:
    """Mean, min and max probe accuracy per (input kind, reference, pooling)."""
    keys = list(dict.fromkeys((r["inputs"], r["reference"], r["pool"]) for r in references))
    rows = []
    for kind, name, pool in keys:
        values = [r["probe_accuracy"] for r in references if (r["inputs"], r["reference"], r["pool"]) == (kind, name,
                                                                                                          pool)]
        rows.append(dict(inputs=kind, reference=name, pool=pool, mean=statistics.fmean(values), min=min(values),
                         max=max(values)))
    return rows


def summary_md(result: dict) -> str:
    b = result["budget"]
    lines = ["# Grid reduction: what each reduction keeps, with controls", "",
             f"Written by `{result['command']}` on {result['date']}; inception_lab {result['library_version']}, "
             f"torch {result['machine']['torch_version']}, {result['threads']} thread(s), "
             f"{result['machine']['cpu_model']}; {result['cpu_time_s'] / 60:.0f} min CPU in total.", "",
             f"* seeds {result['seeds']}: {result['seeds_vary']}",
             f"* maps: {b['channels']} channels, {b['image_size']}x{b['image_size']}, {b['n_train']} training / "
             f"{b['n_test']} test maps per seed",
             f"* training: Adam lr {b['lr']}, batch {b['batch_size']}, {b['steps']} steps per arm", "",
             "## Means over seeds", "",
             "| input | pooling | arm | MACs | params | narrowest cut | R^2 mean (min-max) | probe accuracy mean "
             "(min-max) |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for row in result["summary"]:
        r2, pa = row["r2"], row["probe_accuracy"]
        lines.append(f"| {row['inputs']} | {row['pool']} | {rep.ARM_LABELS[row['strategy']]} | {row['macs']:,} | "
                     f"{row['params']:,} | {row['narrowest']:,} | {r2['mean']:.3f} ({r2['min']:.3f}-{r2['max']:.3f})"
                     f" | {pa['mean']:.1%} ({pa['min']:.1%}-{pa['max']:.1%}) |")
    lines += ["", "Reference probes (the same linear probe on the maps themselves), mean accuracy over seeds: "
              + "; ".join(f"{r['inputs']} maps, {r['reference']}"
                          + (f" ({r['pool']})" if r["pool"] != "none" else "") + f" {r['mean']:.1%}"
                          for r in result["reference_summary"]) + ".", "",
        "## Paired comparisons (a - b per seed, percentage points)", "",
        "| input | pooling | score | question | a - b | mean | 95 % interval | agree | p | finding |",
        "|---|---|---|---|---|---:|---:|---:|---:|---|"]
    for c in result["comparisons"]:
        lo, hi = c["interval"]
        lines.append(f"| {c['input']} | {c['pool']} | {c['metric']} | {c['question']} | {rep.ARM_LABELS[c['a']]} - "
                     f"{rep.ARM_LABELS[c['b']]} | {100 * c['mean']:+.2f} | {100 * lo:+.2f} to {100 * hi:+.2f} | "
                     f"{c['agreeing']}/{c['n']} | {c['p_value']:.4f} | {'yes' if c['finding'] else 'no'} |")
    f = result["family"]
    lines += ["", f"{f['comparisons']} comparisons. Chance of at least one false finding among them if no arm "
                  f"differed: {f['at_alpha']:.0%} at the rule's threshold p <= {ALPHA:.4f}"
                  + (f"; {f['at_largest_finding_p']:.1%} at the largest p-value among the findings "
                     f"({f['largest_finding_p']:.4f})" if f["largest_finding_p"] is not None else "") + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--pilot", action="store_true",
                        help="one seed, 40 steps, for timing and to exercise the analysis; writes under --out")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default benchmarks/results; "
                        "with --pilot a temporary folder)")
    args = parser.parse_args()
    out = args.out or (Path(tempfile.mkdtemp(prefix="grid_reduction_pilot_")) if args.pilot else RESULTS)
    torch.set_num_threads(args.threads)
    budget, seeds = (PILOT, SEEDS[:1]) if args.pilot else (BUDGET, SEEDS)
    start = time.process_time()
    runs, references = [], []
    for seed in seeds:
        seed_runs, seed_refs = run_seed(seed, budget)
        runs += seed_runs
        references += seed_refs
        print(f"seed {seed} done: {time.process_time() - start:.0f} s CPU so far", flush=True)
    cpu = time.process_time() - start
    comparisons = rep.compare_arms(runs, list(seeds))
    finding_ps = [c["p_value"] for c in comparisons if c["finding"]]
    largest = max(finding_ps) if finding_ps else None
    result = dict(
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), library_version=inception_lab.__version__,
        command="python " + " ".join(["benchmarks/bench_grid_reduction.py"] + sys.argv[1:]), threads=args.threads,
        machine=machine_receipt(), cpu_time_s=cpu, seeds=list(seeds),
        seeds_vary="data seed s (images, train and test), feature-conv seed 1234 + s, model seed s (initial weights "
                   "and batch order); every arm of a seed shares them",
        budget=budget, probe=dict(strengths=list(rep.PROBE_STRENGTHS), folds=rep.PROBE_FOLDS),
        runs=runs, references=references, summary=summary_rows(runs), reference_summary=reference_rows(references),
        comparisons=comparisons,
        family=dict(comparisons=len(comparisons), alpha=ALPHA,
                    at_alpha=family_false_finding_chance(len(comparisons)), largest_finding_p=largest,
                    at_largest_finding_p=None if largest is None else family_false_finding_chance(len(comparisons),
                                                                                                  largest)))
    out.mkdir(parents=True, exist_ok=True)
    (out / "grid_reduction.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "grid_reduction.md").write_text(summary_md(result))
    if args.pilot:  # a pilot is for timing and bugs: its scores are not read
        print(f"pilot: {cpu:.0f} s CPU for one seed at {budget['steps']} steps; files in {out}")
    else:
        print(summary_md(result))


if __name__ == "__main__":
    main()
