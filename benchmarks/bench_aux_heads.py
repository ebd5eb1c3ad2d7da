"""Do GoogLeNet's auxiliary classifiers help the mini network? The longer run behind chapter 2's experiment.

Usage:
    python benchmarks/bench_aux_heads.py [--seeds 0,1,2] [--epochs 15] [--n-train 4000] [--threads 1]

Chapter 2 trains ``mini_googlenet`` with and without its two auxiliary classifiers [GoogLeNet, §5] live, on a
budget that fits the chapter (a few hundred steps). This script runs the same comparison longer and over several
seeds, so the chapter can show whether the short run's picture holds:

* data: :func:`~inception_lab.data.make_shapes_dataset` at 32 px with the easier setting (``clutter=3,
  noise=0.05``), ``--n-train`` training and 1000 test images, data seed 0 (the same images for every run);
* model: ``mini_googlenet(aux_logits=True / False, dropout=0.0, dropout_aux=0.0)`` in ``channels_last`` (dropout
  off: at this scale and budget it only slows learning; the chapter explains why);
* training: :func:`~inception_lab.train.fit` with Adam, learning rate 2e-3, batch 32, ``--epochs`` epochs, auxiliary
  losses weighted 0.3. Each seed is one *paired* run: the network without heads starts from the same initial
  weights as the one with heads (every shared tensor is copied) and sees the same batches in the same order, so
  the heads are the only difference;
* recorded per epoch: test accuracy and loss (eval mode, main head), training loss of the main head, and the mean
  gradient norm that reached ``conv1`` and ``inception3a`` (the early layers the heads are meant to help): of the
  whole objective (``grad_norm``) and, as the control, of the main head's loss alone (``main_grad_norm``; with
  heads the objective is main + 0.3 x aux1 + 0.3 x aux2, so part of a larger total gradient is there by
  construction).

Writes ``benchmarks/results/aux_heads.json`` (every number) and ``benchmarks/results/aux_heads.md`` (a summary).
Takes about 20 minutes of CPU time with the defaults (six runs of 15 epochs on 4000 images).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from inception_lab import data, train
from inception_lab.models.googlenet import mini_googlenet
from inception_lab.runtime import machine_receipt, seed_everything

RESULTS = Path(__file__).resolve().parent / "results"

#: The settings shared with chapter 2's live run (which uses fewer images and epochs).
DATA = dict(image_size=32, clutter=3, noise=0.05, data_seed=0, n_test=1000)
MODEL = dict(dropout=0.0, dropout_aux=0.0)
TRAINING = dict(optimizer="adam", lr=2e-3, batch_size=32, aux_weight=0.3)
GRAD_LAYERS = ("conv1", "inception3a")


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
    return dict(aux=aux, seed=seed, test_acc=history.val_acc, test_loss=history.val_loss,
                train_main_loss=history.train_main_loss, train_acc=history.train_acc, grad_norm=grad,
                main_grad_norm=main_grad, grad_norm_first_50_steps=first_steps,
                final_test_acc=history.val_acc[-1], best_test_acc=max(history.val_acc), steps=receipt.steps,
                cpu_time_s=cpu, wall_time_s=receipt.wall_time_s)


def summary_md(result: dict) -> str:
    s = result["settings"]
    lines = ["# Auxiliary classifiers on the mini GoogLeNet", "",
             f"Written by `benchmarks/bench_aux_heads.py` on {result['date']}; torch {result['torch_version']}, "
             f"{result['threads']} thread(s); {result['machine']['cpu_model']} "
             f"({result['machine']['logical_cpus']} CPUs, "
             f"load average at the end {result['machine']['load_average']}).", "",
             f"* data: shapes {s['data']['image_size']} px, clutter {s['data']['clutter']}, noise "
             f"{s['data']['noise']}, {s['n_train']} training / {s['data']['n_test']} test images (data seed "
             f"{s['data']['data_seed']})",
             f"* model: mini_googlenet, dropout {s['model']['dropout']}, aux dropout {s['model']['dropout_aux']}",
             f"* training: {s['training']['optimizer']} lr {s['training']['lr']}, batch "
             f"{s['training']['batch_size']}, {s['epochs']} epochs, aux weight {s['training']['aux_weight']}", "",
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
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds (default 0,1,2)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]

    train_set = data.make_shapes_dataset(args.n_train, DATA["image_size"], DATA["data_seed"], split="train",
                                         clutter=DATA["clutter"], noise=DATA["noise"])
    test_set = data.make_shapes_dataset(DATA["n_test"], DATA["image_size"], DATA["data_seed"], split="test",
                                        clutter=DATA["clutter"], noise=DATA["noise"])
    runs = []
    for seed in seeds:
        for aux in (True, False):
            r = run(aux, seed, args.epochs, train_set, test_set)
            print(f"seed {seed} aux={aux}: final test acc {r['final_test_acc']:.3f} (best {r['best_test_acc']:.3f}),"
                  f" {r['cpu_time_s']:.0f} s CPU", flush=True)
            runs.append(r)
    result = dict(date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), torch_version=torch.__version__,
                  threads=args.threads, seeds=seeds,
                  machine=machine_receipt(),
                  settings=dict(data=DATA, model=MODEL, training=TRAINING, epochs=args.epochs, n_train=args.n_train,
                                grad_norm_layers=list(GRAD_LAYERS)),
                  runs=runs)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "aux_heads.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "aux_heads.md").write_text(summary_md(result))
    print(summary_md(result))


if __name__ == "__main__":
    main()
