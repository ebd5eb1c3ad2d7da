"""Label smoothing (eps = 0.1) [Rethinking, §7] on the mini Inception-v3: confidence, calibration, accuracy.

Usage:
    python benchmarks/bench_label_smoothing.py [--seeds 0,1,2] [--epochs 6] [--n-train 4000] [--threads 1]

Chapter 6 trains the mini network with and without label smoothing live, once, briefly. This script repeats the
paired comparison over several seeds so the chapter can say which differences hold:

* data: :func:`~inception_lab.data.make_shapes_dataset` at 32 px, easier setting (``clutter=3, noise=0.05``),
  ``--n-train`` training and 1000 test images, data seed 0 (the same images in every run);
* model: ``mini_inception_v3(width_divisor=16)`` (no auxiliary head, dropout 0);
* training: :func:`~inception_lab.train.fit`, Adam lr 2e-3, batch 64, ``--epochs`` epochs, ``label_smoothing`` 0 or
  0.1. Each seed is a *paired* run: both start from the same initial weights and see the same batches;
* recorded on the test set (eval mode): accuracy, mean confidence (top softmax probability), expected calibration
  error (10 bins), and the logit gap (top logit minus the mean of the others);
  :mod:`inception_lab.experiments.calibration`.

Writes ``benchmarks/results/label_smoothing.json`` and ``.md``. About 13 minutes of CPU time with the defaults (the
recorded run: 2 threads, 8 minutes); 3 epochs on 1600 images left the networks at 12-40 % accuracy, too early to
say anything about calibration.
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
from inception_lab.experiments.calibration import confidence_report
from inception_lab.models.inception_v3 import mini_inception_v3
from inception_lab.runtime import machine_receipt, seed_everything

RESULTS = Path(__file__).resolve().parent / "results"
DATA = dict(image_size=32, clutter=3, noise=0.05, data_seed=0, n_test=1000)
MODEL = dict(width_divisor=16)
TRAINING = dict(optimizer="adam", lr=2e-3, batch_size=64)
EPSILONS = (0.0, 0.1)


def run(seed: int, eps: float, train_set, test_set, epochs: int) -> dict:
    seed_everything(seed)
    model = mini_inception_v3(**MODEL)
    train_loader, test_loader = data.loaders(train_set, test_set, batch_size=TRAINING["batch_size"], seed=seed)
    start = time.process_time()
    _, receipt = train.fit(model, train_loader, epochs=epochs, lr=TRAINING["lr"], optimizer=TRAINING["optimizer"],
                           label_smoothing=eps, device="cpu", seed=seed, progress=False)
    logits, targets = train.predict(model, test_loader, device="cpu")
    report = confidence_report(logits, targets)
    return dict(seed=seed, label_smoothing=eps, test_accuracy=report.accuracy, confidence=report.confidence,
                ece=report.ece, logit_gap=report.logit_gap, train_loss=receipt.metrics["train_loss"],
                cpu_time_s=time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    train_set = data.make_shapes_dataset(args.n_train, DATA["image_size"], DATA["data_seed"], split="train",
                                         clutter=DATA["clutter"], noise=DATA["noise"])
    test_set = data.make_shapes_dataset(DATA["n_test"], DATA["image_size"], DATA["data_seed"], split="test",
                                        clutter=DATA["clutter"], noise=DATA["noise"])
    runs = [run(seed, eps, train_set, test_set, args.epochs) for seed in seeds for eps in EPSILONS]
    for r in runs:
        print(r, flush=True)
    by = {eps: [r for r in runs if r["label_smoothing"] == eps] for eps in EPSILONS}
    metrics = ("test_accuracy", "confidence", "ece", "logit_gap")
    mean = {str(eps): {m: statistics.mean(r[m] for r in rs) for m in metrics} for eps, rs in by.items()}
    # smoothed - plain, per seed
    paired = {m: [s[m] - p[m] for p, s in zip(by[0.0], by[0.1], strict=True)] for m in metrics}
    record = dict(seeds=seeds, epochs=args.epochs, n_train=args.n_train, data=DATA, model=dict(
        preset="mini_inception_v3", **MODEL), training=TRAINING, threads=args.threads, runs=runs, mean=mean,
        paired_difference_smoothed_minus_plain=paired, torch=torch.__version__, machine=machine_receipt(),
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        command="python benchmarks/bench_label_smoothing.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "label_smoothing.json").write_text(json.dumps(record, indent=2) + "\n")
    lines = ["# Label smoothing on the mini Inception-v3", "",
             f"Written by `benchmarks/bench_label_smoothing.py` on {record['date']}; torch {torch.__version__}, "
             f"{args.threads} thread(s).", "",
             f"* data: shapes 32 px, clutter 3, noise 0.05, {args.n_train} training / 1000 test images (data seed 0)",
             f"* model: mini_inception_v3(width_divisor=16); training: Adam lr 2e-3, batch 64, {args.epochs} epochs",
             f"* paired runs (same initial weights and batches) for seeds {seeds}", "",
             "| seed | eps | test acc | confidence | ECE | logit gap | CPU time (s) |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| {r['seed']} | {r['label_smoothing']} | {100 * r['test_accuracy']:.1f} % | "
                     f"{r['confidence']:.3f} | {r['ece']:.3f} | {r['logit_gap']:.2f} | {r['cpu_time_s']:.0f} |")
    for eps in EPSILONS:
        m = mean[str(eps)]
        lines.append(f"| mean | {eps} | {100 * m['test_accuracy']:.1f} % | {m['confidence']:.3f} | {m['ece']:.3f} | "
                     f"{m['logit_gap']:.2f} | |")
    (RESULTS / "label_smoothing.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
