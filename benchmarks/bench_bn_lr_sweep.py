"""BN vs no BN over four learning rates, several seeds: the recorded run behind chapter 3's ablation.

Usage:
    python benchmarks/bench_bn_lr_sweep.py [--seeds 0,1,2,3,4] [--threads 1]

Chapter 3 trains ``mini_bn_inception(num_classes=4, use_bn=True / False)`` live at four learning rates, once, with
seed 0. One seed cannot say which of the live run's differences are findings, so this script repeats exactly that
sweep for several seeds. Seed ``s`` here is the chapter run with ``INCEPTION_LAB_SEED=s``: the seed changes the
data (``make_shapes_dataset``), the initial weights, the batch order and the shuffling, all at once:

* data: :func:`~inception_lab.data.make_shapes_dataset` at 32 px, 4 classes, no clutter, 1,024 training and 500
  test images, data seed ``s``;
* model: ``mini_bn_inception(num_classes=4, use_bn=...)`` built right after ``seed_everything(s)``, so both variants
  start from the same convolution weights (He-normal, fan-in, zero biases; classifier N(0, 0.01));
* training: :func:`~inception_lab.train.fit`, SGD with momentum 0.9, constant learning rate 0.01, 0.03, 0.1, 0.3,
  batch 64, 2 epochs = 32 steps, seed ``s``;
* recorded: test accuracy (no BN; BN with the running averages training leaves; BN with its statistics recomputed
  on 256 training images as in [BN, Alg. 2], the chapter's ``recompute_bn_statistics``), the training loss of
  every step and of each epoch, and whether any loss was not finite (divergence).

Writes ``benchmarks/results/bn_lr_sweep.json`` (every number, with the machine) and ``bn_lr_sweep.md`` (summary,
with the paired verdicts of :func:`inception_lab.experiments.bn_sweep.compare_sweep`). ``--summarize-only`` rewrites
the summary from the recorded JSON without training (the verdicts were added to the summary this way on 2026-12-06;
the recorded runs of 2026-12-01 are unchanged).
Takes about 5 minutes of CPU time with the defaults (40 runs of 32 steps).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from inception_lab.data import loaders, make_shapes_dataset
from inception_lab.experiments.bn_sweep import cell, compare_sweep, family_chance
from inception_lab.models.bn_inception import mini_bn_inception
from inception_lab.runtime import SEED_ENV, machine_receipt, seed_everything, seed_offset
from inception_lab.train import evaluate, fit

RESULTS = Path(__file__).resolve().parent / "results"

#: The chapter's settings (notebooks/03_bn_inception.ipynb, section "A fair ablation").
DATA = dict(image_size=32, num_classes=4, clutter=0, n_train=1024, n_test=500)
TRAINING = dict(optimizer="sgd", momentum=0.9, batch_size=64, epochs=2, recompute_images=256)
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3)
#: A training loss within this distance of ln 4 (the loss of a uniform guess over 4 classes) has "not left" it.
UNIFORM_LOSS = math.log(4)




def recompute_bn_statistics(model: nn.Module, images: torch.Tensor, batch_size: int = 128) -> nn.Module:
    """[BN, Alg. 2]: plain averages of the batch statistics over training batches (chapter 3's function)."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            model(images[start:start + batch_size])
    for bn in bns:
        bn.momentum = 0.1
    return model.eval()


def run_seed(seed: int) -> list[dict]:
    """The chapter's eight runs (two variants x four rates) for one seed."""
    common = dict(image_size=DATA["image_size"], num_classes=DATA["num_classes"], clutter=DATA["clutter"])
    train_set = make_shapes_dataset(DATA["n_train"], seed=seed, split="train", **common)
    test_set = make_shapes_dataset(DATA["n_test"], seed=seed, split="test", **common)
    train_loader, test_loader = loaders(train_set, test_set, batch_size=TRAINING["batch_size"], seed=seed)
    runs = []
    for use_bn in (True, False):
        for lr in LEARNING_RATES:
            seed_everything(seed)
            model = mini_bn_inception(num_classes=DATA["num_classes"], use_bn=use_bn)
            start = time.process_time()
            history, receipt = fit(model, train_loader, epochs=TRAINING["epochs"], lr=lr, seed=seed, device="cpu",
                                   progress=False)
            run = dict(seed=seed, bn=use_bn, lr=lr, steps=receipt.steps, train_loss=history.train_loss,
                       step_loss=history.step_loss,
                       diverged=not all(math.isfinite(v) for v in history.step_loss))
            if use_bn:
                run["test_acc_running"] = evaluate(model, test_loader)["accuracy"]
                recompute_bn_statistics(model, train_set.images[:TRAINING["recompute_images"]])
                run["test_acc_recomputed"] = evaluate(model, test_loader)["accuracy"]
            else:
                run["test_acc"] = evaluate(model, test_loader)["accuracy"]
            run["cpu_time_s"] = round(time.process_time() - start, 2)
            runs.append(run)
            acc = run.get("test_acc", run.get("test_acc_recomputed"))
            print(f"seed {seed} {'BN' if use_bn else 'no BN':>5} lr {lr:<5}: final loss {history.train_loss[-1]:.3f}, "
                  f"test acc {acc:.3f} ({run['cpu_time_s']:.0f} s CPU)", flush=True)
    return runs


def summary(result: dict) -> dict:
    """Per (variant, lr): mean, min and max over seeds of the test accuracy and of the last epoch's loss."""
    out = {}
    for lr in LEARNING_RATES:
        for variant, bn, key in (("no BN", False, "test_acc"), ("BN, running averages", True, "test_acc_running"),
                                 ("BN, recomputed", True, "test_acc_recomputed")):
            runs = [r for r in result["runs"] if r["bn"] is bn and r["lr"] == lr]
            accs = [r[key] for r in runs]
            losses = [r["train_loss"][-1] for r in runs]
            out[f"{variant} @ {lr}"] = dict(variant=variant, lr=lr, acc_mean=statistics.fmean(accs), acc_min=min(accs),
                                            acc_max=max(accs), loss_mean=statistics.fmean(losses),
                                            loss_min=min(losses), loss_max=max(losses))
    return out


def summary_md(result: dict) -> str:
    m = result["machine"]
    lines = ["# BN vs no BN: learning-rate sweep on the mini BN-Inception, several seeds", "",
             f"Written by `benchmarks/bench_bn_lr_sweep.py` on {result['date']} in {result['wall_seconds']:.0f} s.",
             f"Machine: {m['cpu_model']} ({m['logical_cpus']} logical CPUs, ATen CPU capability "
             f"{m['cpu_capability']}), torch {m['torch_version']}, Python {m['python']}, "
             f"{result['threads']} thread(s).", "",
             f"* seeds {result['seeds']} (seed s = chapter 3's sweep run with `{SEED_ENV}=s`: data, initial weights "
             f"and batch order all change)",
             f"* data: shapes {DATA['image_size']} px, {DATA['num_classes']} classes, clutter {DATA['clutter']}, "
             f"{DATA['n_train']} training / {DATA['n_test']} test images",
             f"* training: SGD momentum {TRAINING['momentum']}, batch {TRAINING['batch_size']}, "
             f"{TRAINING['epochs']} epochs = {result['runs'][0]['steps']} steps, constant learning rate; "
             f"He-normal convolutions (same initial weights with and without BN)",
             f"* BN statistics recomputed on {TRAINING['recompute_images']} training images [BN, Alg. 2]", "",
             "Test accuracy after the last step (chance 0.25), mean [min, max] over the seeds; last epoch's "
             f"training loss (ln 4 = {UNIFORM_LOSS:.3f} is a uniform guess):", "",
             "| lr | no BN | BN, running averages | BN, recomputed | loss no BN | loss BN |",
             "|---:|---:|---:|---:|---:|---:|"]
    s = result["summary"]
    fmt = lambda d, k: f"{d[k + '_mean']:.3f} [{d[k + '_min']:.3f}, {d[k + '_max']:.3f}]"  # noqa: E731
    for lr in LEARNING_RATES:
        lines.append(f"| {lr} | {fmt(s[f'no BN @ {lr}'], 'acc')} | {fmt(s[f'BN, running averages @ {lr}'], 'acc')} | "
                     f"{fmt(s[f'BN, recomputed @ {lr}'], 'acc')} | {fmt(s[f'no BN @ {lr}'], 'loss')} | "
                     f"{fmt(s[f'BN, recomputed @ {lr}'], 'loss')} |")
    diverged = [f"seed {r['seed']} {'BN' if r['bn'] else 'no BN'} lr {r['lr']}"
                for r in result["runs"] if r["diverged"]]
    lines += ["", f"Runs whose loss was not finite (diverged): {', '.join(diverged) or 'none'}.", "",
              "Paired comparisons of test accuracy (a minus b, same seeds): mean in points [95 % bootstrap interval], "
              "seeds agreeing in sign, exact sign-test p; a finding needs >= 5 seeds and p <= 2/2**5. Chosen after "
              f"the run; chance of at least one false finding over all {len(compare_sweep(result))}: "
              f"{100 * family_chance(result):.0f} %.", "", "| a | b | lr | a - b |", "|---|---|---:|---|"]
    lines += [f"| {a} | {b} | {lr:g} | {cell(c)} |" for (a, b, lr), c in compare_sweep(result).items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds (default 0,1,2,3,4)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--summarize-only", action="store_true",
                        help="rewrite bn_lr_sweep.md from the recorded bn_lr_sweep.json, without training")
    args = parser.parse_args()
    if args.summarize_only:
        result = json.loads((RESULTS / "bn_lr_sweep.json").read_text())
        (RESULTS / "bn_lr_sweep.md").write_text(summary_md(result))
        print(summary_md(result))
        return
    if seed_offset():
        raise SystemExit(f"unset {SEED_ENV}: this script chooses its seeds itself (--seeds).")
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    start = time.perf_counter()
    runs = [run for seed in seeds for run in run_seed(seed)]
    result = dict(benchmark="bn_lr_sweep", date=time.strftime("%Y-%m-%d %H:%M:%S %Z"), threads=args.threads,
                  seeds=seeds, learning_rates=list(LEARNING_RATES), data=DATA, training=TRAINING,
                  wall_seconds=round(time.perf_counter() - start, 1),
                  machine=machine_receipt(),
                  runs=runs)
    result["summary"] = summary(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bn_lr_sweep.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "bn_lr_sweep.md").write_text(summary_md(result))
    print(summary_md(result))


if __name__ == "__main__":
    main()
