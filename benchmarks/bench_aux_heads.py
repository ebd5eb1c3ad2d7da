"""Do GoogLeNet's auxiliary classifiers help the mini network? The recorded run behind chapter 2's experiment.

Usage:
    python benchmarks/bench_aux_heads.py [--seeds 0,1,...,9] [--epochs 15] [--n-train 4000] [--threads 1]

Chapter 2 trains ``mini_googlenet`` with and without its two auxiliary classifiers [GoogLeNet, §5] live, on a
budget that fits the chapter (a few hundred steps). This script runs the same paired comparison longer and over
enough seeds for the book's rule (:mod:`inception_lab.experiments.findings`):

* data: :func:`~inception_lab.data.make_shapes_dataset` at 32 px with the easier setting (``clutter=3,
  noise=0.05``), ``--n-train`` training and 1000 test images, **data seed = the seed**: each seed draws its own
  training and test images (the first recording, 2026-12-01, three seeds, kept the data fixed at seed 0);
* model: ``mini_googlenet(aux_logits=True / False, dropout=0.0, dropout_aux=0.0)`` in ``channels_last`` (dropout
  off: at this scale and budget it only slows learning; the chapter explains why);
* training: :func:`~inception_lab.train.fit` with Adam, learning rate 2e-3, batch 32, ``--epochs`` epochs, auxiliary
  losses weighted 0.3. Each seed is one *paired* run: the network without heads starts from the same initial
  weights as the one with heads (every shared tensor is copied) and sees the same batches in the same order, so
  the heads are the only difference. The seed moves the data, the initial weights and the batch order together;
* recorded per epoch: test accuracy and loss (eval mode, main head), training loss of the main head, and the mean
  gradient norm that reached ``conv1`` and ``inception3a`` (the early layers the heads are meant to help): of the
  whole objective (``grad_norm``) and, as the control, of the main head's loss alone (``main_grad_norm``; with
  heads the objective is main + 0.3 x aux1 + 0.3 x aux2, so part of a larger total gradient is there by
  construction).

**The budget and the comparisons, fixed before the recorded run** (2026-12-06): 15 epochs on 4000 training images
(the first recording's budget, not changed), seeds 0-9 (ten pairs: with the rule's threshold p <= 2/2**5, one seed
of ten may disagree in sign), and five paired comparisons, with heads minus without
(:func:`inception_lab.experiments.aux_heads.compare_aux_runs`): mean test accuracy over epochs 1-3 and over epochs
13-15; at ``conv1``, the log ratio of the objective's gradient over the first 50 steps, and of the main loss's own
gradient over the first 50 steps and over epoch 2. The run is not lengthened or repeated if a gap does not show.

Writes ``aux_heads.json`` (every number, the verdicts, the machine, the package version and the command) and
``aux_heads.md`` (a summary) to ``--results-dir`` (default ``benchmarks/results``). Estimated from a pilot (1 seed,
3 epochs on 400 images) at about 2 minutes of CPU time per run; the recorded run took 87 s per run, 29 minutes of
CPU time for the 20 runs (77 minutes of wall time on two shared cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import inception_lab
from inception_lab import data, train
from inception_lab.experiments.aux_heads import COMPARISONS, compare_aux_runs, describe
from inception_lab.experiments.findings import family_false_finding_chance
from inception_lab.models.googlenet import mini_googlenet
from inception_lab.runtime import machine_receipt, seed_everything

RESULTS = Path(__file__).resolve().parent / "results"

#: The settings shared with chapter 2's live run (which uses fewer images and epochs); the data seed is the seed.
DATA = dict(image_size=32, clutter=3, noise=0.05, n_test=1000)
MODEL = dict(dropout=0.0, dropout_aux=0.0)
TRAINING = dict(optimizer="adam", lr=2e-3, batch_size=32, aux_weight=0.3)
GRAD_LAYERS = ("conv1", "inception3a")
DEFAULT_SEEDS = ",".join(str(s) for s in range(10))


def initial_model(aux: bool, seed: int) -> torch.nn.Module:
    """The seed's initial network; without heads it gets the same weights as with them (heads dropped)."""
    seed_everything(seed)
    with_heads = mini_googlenet(aux_logits=True, **MODEL)
    if aux:
        return with_heads.to(memory_format=torch.channels_last)
    without = mini_googlenet(aux_logits=False, **MODEL)
    shared = {k: v for k, v in with_heads.state_dict().items() if not k.startswith(("aux1.", "aux2."))}
    without.load_state_dict(shared, strict=True)
    return without.to(memory_format=torch.channels_last)


def seed_data(seed: int, n_train: int) -> tuple[data.ShapesDataset, data.ShapesDataset]:
    """The seed's own training and test images (data seed = seed)."""
    common = dict(image_size=DATA["image_size"], seed=seed, clutter=DATA["clutter"], noise=DATA["noise"])
    return (data.make_shapes_dataset(n_train, split="train", **common),
            data.make_shapes_dataset(DATA["n_test"], split="test", **common))


def run(aux: bool, seed: int, epochs: int, train_set: data.ShapesDataset,
        test_set: data.ShapesDataset) -> dict:
    """One training run; returns its curves and final numbers."""
    train_loader, test_loader = data.loaders(train_set, test_set, batch_size=TRAINING["batch_size"], seed=seed)
    model = initial_model(aux, seed)
    start = time.process_time()
    history, receipt = train.fit(model, train_loader, epochs=epochs, lr=TRAINING["lr"],
                                 optimizer=TRAINING["optimizer"], aux_weight=TRAINING["aux_weight"],
                                 val_loader=test_loader, device="cpu", seed=seed, progress=False,
                                 grad_norm_layers=list(GRAD_LAYERS), main_loss_grad_norms=True)
    cpu = time.process_time() - start
    steps_per_epoch = len(train_loader)

    def per_epoch(norms_by_layer: dict[str, list[float]]) -> dict[str, list[float]]:
        return {layer: [statistics.fmean(norms[e * steps_per_epoch:(e + 1) * steps_per_epoch]) for e in range(epochs)]
                for layer, norms in norms_by_layer.items()}

    grad, main_grad = per_epoch(history.grad_norms), per_epoch(history.main_grad_norms)
    first_steps = {layer: dict(total=statistics.fmean(history.grad_norms[layer][:50]),
                               main=statistics.fmean(history.main_grad_norms[layer][:50])) for layer in GRAD_LAYERS}
    return dict(aux=aux, seed=seed, data_seed=seed, test_acc=history.val_acc, test_loss=history.val_loss,
                train_main_loss=history.train_main_loss, train_acc=history.train_acc, grad_norm=grad,
                main_grad_norm=main_grad, grad_norm_first_50_steps=first_steps,
                final_test_acc=history.val_acc[-1], best_test_acc=max(history.val_acc), steps=receipt.steps,
                cpu_time_s=cpu, wall_time_s=receipt.wall_time_s)


def verdicts(result: dict) -> dict:
    """The paired comparisons of the docstring, as plain data for the results file."""
    comparisons = compare_aux_runs(result)
    return dict(
        rule="exact two-sided sign test over the paired seeds, finding if p <= alpha with >= 5 seeds; 95 % "
             "percentile bootstrap interval of the mean difference (gradients: of the log ratio)",
        family_false_finding_chance=family_false_finding_chance(len(comparisons)),
        comparisons={name: dict(differences=list(c.differences), mean=c.mean, interval=list(c.interval),
                                p_value=c.p_value, agreeing=c.agreeing, n=c.n, alpha=c.alpha, finding=c.finding,
                                text=describe(name, c))
                     for name, c in comparisons.items()})


def summary_md(result: dict) -> str:
    s = result["settings"]
    m = result["machine"]
    lines = ["# Auxiliary classifiers on the mini GoogLeNet", "",
             f"Written by `{result['command']}` on {result['date']}; inception_lab {result['inception_lab_version']}, "
             f"torch {m['torch_version']}, {result['threads']} thread(s); {m['cpu_model']} ({m['logical_cpus']} CPUs, "
             f"load average at the end {m['load_average']}).", "",
             f"* data: shapes {s['data']['image_size']} px, clutter {s['data']['clutter']}, noise "
             f"{s['data']['noise']}, {s['n_train']} training / {s['data']['n_test']} test images, data seed = seed",
             f"* model: mini_googlenet, dropout {s['model']['dropout']}, aux dropout {s['model']['dropout_aux']}",
             f"* training: {s['training']['optimizer']} lr {s['training']['lr']}, batch "
             f"{s['training']['batch_size']}, {s['epochs']} epochs, aux weight {s['training']['aux_weight']}",
             f"* seeds {result['seeds']}: each a pair (same data, initial weights and batches with and without heads)",
             "",
             "| seed | aux heads | final test acc | best test acc | grad norm conv1, epoch 1: objective | "
             "main loss alone | CPU time (s) |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for r in result["runs"]:
        lines.append(f"| {r['seed']} | {'yes' if r['aux'] else 'no'} | {100 * r['final_test_acc']:.1f} % | "
                     f"{100 * r['best_test_acc']:.1f} % | {r['grad_norm']['conv1'][0]:.3f} | "
                     f"{r['main_grad_norm']['conv1'][0]:.3f} | {r['cpu_time_s']:.0f} |")
    for aux in (True, False):
        finals = [r["final_test_acc"] for r in result["runs"] if r["aux"] is aux]
        lines.append(f"| mean | {'yes' if aux else 'no'} | {100 * statistics.fmean(finals):.1f} % | | | | |")
    v = result["verdicts"]
    lines += ["", f"Paired comparisons, with heads minus without ({v['rule']}); chance of at least one false finding "
                  f"over the {len(v['comparisons'])}: {100 * v['family_false_finding_chance']:.0f} %:", ""]
    lines += [f"* {c['text']}" for c in v["comparisons"].values()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default=DEFAULT_SEEDS, help=f"comma-separated seeds (default {DEFAULT_SEEDS})")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where to write (a pilot: elsewhere)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]

    runs = []
    for seed in seeds:
        train_set, test_set = seed_data(seed, args.n_train)
        for aux in (True, False):
            r = run(aux, seed, args.epochs, train_set, test_set)
            print(f"seed {seed} aux={aux}: final test acc {r['final_test_acc']:.3f} (best {r['best_test_acc']:.3f}),"
                  f" {r['cpu_time_s']:.0f} s CPU", flush=True)
            runs.append(r)
    result = dict(date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                  inception_lab_version=inception_lab.__version__, torch_version=torch.__version__,
                  command=" ".join(["python benchmarks/bench_aux_heads.py", *sys.argv[1:]]),
                  threads=args.threads, seeds=seeds, machine=machine_receipt(),
                  settings=dict(data=DATA, data_seed="seed", model=MODEL, training=TRAINING, epochs=args.epochs,
                                n_train=args.n_train, grad_norm_layers=list(GRAD_LAYERS),
                                comparisons=list(COMPARISONS)),
                  runs=runs)
    result["verdicts"] = verdicts(result)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "aux_heads.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.results_dir / "aux_heads.md").write_text(summary_md(result))
    print(summary_md(result))


if __name__ == "__main__":
    main()
