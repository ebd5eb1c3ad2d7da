"""Train a shipped preset on the synthetic shapes and write the weights the library ships, with their record.

Usage (from the repository root, with the package installed, e.g. ``pip install -e .``):
    python scripts/train_weights.py --preset mini_googlenet [--preset mini_bn_inception ...] [--threads 1]
        [--out-dir inception_lab/weights] [--n-train N] [--n-test N] [--epochs E] [--fine-epochs F] [--seed S]

For each preset writes ``<out-dir>/<preset>.pt`` (the ``state_dict`` only: plain tensors, loadable with
``torch.load(..., weights_only=True)``, well under 1 MB) and ``<preset>.json`` beside it (preset and options, data
settings, seed, schedule, per-epoch accuracy, test accuracy, parameters, torch version, date, the file's SHA-256,
the command). :func:`inception_lab.pretrained.load_preset` reads both: chapters 1 and 2 show the feature maps of
the mini GoogLeNet, chapter 7 the feature maps and branch knock-outs of the lab's networks.

What is trained, and why (:data:`SHIPPED` holds each preset's settings; ``tests/test_pretrained.py`` checks that
they are the ones each shipped ``.json`` records):

* **Model.** ``mini_googlenet(aux_logits=False, dropout=0.0)``: the chapter-2 preset without auxiliary classifiers,
  which are discarded at inference [GoogLeNet, §5] (in chapter 2's longer runs, ``benchmarks/bench_aux_heads.py``,
  they moved the final accuracy by less than the spread between seeds), and without dropout, which at this size
  only slowed learning. The lab's presets with their budget options
  (:data:`inception_lab.experiments.budget.LAB_PRESETS`: equal MACs, no auxiliary heads, no dropout), so the shipped
  networks are the ones chapter 7 compares.
* **Data.** :func:`~inception_lab.data.make_shapes_dataset` with the book's standard (harder) settings, clutter 6
  and noise 0.08, 32 px, data seed 0: the same 2000 test images for every preset (``split="test"``, never seen in
  training), so chapter 7 shows all networks on the same images.
* **Training.** :func:`~inception_lab.train.fit` on the CPU in ``channels_last`` (faster max-pooling on CPUs), Adam,
  batch 32, seed 0; learning rate 2e-3 for the preset's epochs, then 2e-4 for its fine epochs (a step decay, so the
  last epochs settle instead of bouncing). The mini GoogLeNet gets the most images and epochs; the BN networks
  learn faster, and each lab model should take a few minutes at most.

Reproducibility: the same seed, torch version and thread count give the same weights; other thread counts or CPUs
can change the last bits of the sums, and with them the weights slightly (the accuracy stays close). The shipped
files were made with ``--threads 1``; each JSON records its command.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from inception_lab import data, train
from inception_lab.experiments.budget import LAB_PRESETS
from inception_lab.models import build_model
from inception_lab.runtime import seed_everything

ROOT = Path(__file__).resolve().parents[1]
#: The data every shipped preset is trained and scored on (``n_train`` is the preset's).
DATA = dict(image_size=32, seed=0, clutter=6, noise=0.08, n_test=2000)
#: Each shipped preset: builder options, training images, epochs at the learning rate and at a tenth of it.
SHIPPED: dict[str, dict[str, Any]] = {
    "mini_googlenet": dict(options=dict(num_classes=10, aux_logits=False, dropout=0.0), n_train=12000, epochs=12,
                           fine_epochs=3),
    "mini_bn_inception": dict(options=dict(num_classes=10, **LAB_PRESETS["mini_bn_inception"]), n_train=6000,
                              epochs=6, fine_epochs=2),
    "mini_inception_v3": dict(options=dict(num_classes=10, **LAB_PRESETS["mini_inception_v3"]), n_train=4000,
                              epochs=5, fine_epochs=1),
}
TRAINING = dict(seed=0, optimizer="adam", batch_size=32, lr=2e-3, memory_format="channels_last", device="cpu")


def train_one(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Train preset ``name`` with its settings (overridden by ``args``); write its weights and record; return it."""
    preset = SHIPPED[name]
    n_train = args.n_train or preset["n_train"]
    epochs = preset["epochs"] if args.epochs is None else args.epochs
    fine_epochs = preset["fine_epochs"] if args.fine_epochs is None else args.fine_epochs
    settings = dict(DATA, n_train=n_train, n_test=args.n_test or DATA["n_test"])
    shape = dict(clutter=settings["clutter"], noise=settings["noise"])
    train_set = data.make_shapes_dataset(n_train, settings["image_size"], settings["seed"], split="train", **shape)
    test_set = data.make_shapes_dataset(settings["n_test"], settings["image_size"], settings["seed"], split="test",
                                        **shape)
    train_loader, test_loader = data.loaders(train_set, test_set, batch_size=TRAINING["batch_size"], seed=args.seed)

    seed_everything(args.seed)
    model = build_model(name, **preset["options"]).to(memory_format=torch.channels_last)
    lr = TRAINING["lr"]
    schedule = [dict(lr=lr, epochs=epochs), dict(lr=lr / 10, epochs=fine_epochs)]
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    curve = []
    for phase, step in enumerate(s for s in schedule if s["epochs"] > 0):
        # Each phase reseeds with seed + phase: the batch order of the second phase differs from the first.
        history, _ = train.fit(model, train_loader, epochs=step["epochs"], lr=step["lr"], optimizer="adam",
                               val_loader=test_loader, device="cpu", seed=args.seed + phase, progress=False)
        curve += [dict(lr=step["lr"], train_acc=a, test_acc=v)
                  for a, v in zip(history.train_acc, history.val_acc, strict=True)]
        print(f"{name} phase {phase + 1}: lr {step['lr']:g}, test accuracy per epoch "
              f"{[round(v, 3) for v in history.val_acc]}", flush=True)
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    metrics = train.evaluate(model, test_loader, device="cpu")
    train_metrics = train.evaluate(model, train_loader, device="cpu")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    weights = args.out_dir / f"{name}.pt"
    state_dict = {k: v.detach().contiguous() for k, v in model.state_dict().items()}  # plain NCHW tensors
    torch.save(state_dict, weights)
    record = dict(
        model=dict(name=name, options=preset["options"]),
        data=settings,
        training=dict(seed=args.seed, optimizer=TRAINING["optimizer"], batch_size=TRAINING["batch_size"],
                      schedule=schedule, memory_format=TRAINING["memory_format"], device=TRAINING["device"],
                      threads=args.threads, curve=curve),
        results=dict(test_accuracy=round(metrics["accuracy"], 4), test_loss=round(metrics["loss"], 4),
                     train_accuracy=round(train_metrics["accuracy"], 4), wall_time_s=round(wall, 1),
                     cpu_time_s=round(cpu, 1)),
        parameters=sum(p.numel() for p in model.parameters()),
        file=dict(name=weights.name, bytes=weights.stat().st_size,
                  sha256=hashlib.sha256(weights.read_bytes()).hexdigest()),
        torch_version=torch.__version__,
        python=platform.python_version(),
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        command=f"python scripts/train_weights.py --preset {name} --threads {args.threads}" + "".join(
            f" {flag} {value}" for flag, value in (("--n-train", args.n_train), ("--n-test", args.n_test),
                                                   ("--epochs", args.epochs),
                                                   ("--fine-epochs", args.fine_epochs), ("--seed", args.seed))
            if value is not None and (flag != "--seed" or value != TRAINING["seed"])),
    )
    (args.out_dir / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {weights} ({weights.stat().st_size:,} bytes): test accuracy {metrics['accuracy']:.3f}, "
          f"train accuracy {train_metrics['accuracy']:.3f}, {wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", action="append", required=True, choices=sorted(SHIPPED),
                        help="a preset to train (repeat for several)")
    parser.add_argument("--seed", type=int, default=TRAINING["seed"], help="seed of the initial weights and the "
                        "batch order")
    parser.add_argument("--n-train", type=int, help="training images (default: the preset's)")
    parser.add_argument("--n-test", type=int, help=f"test images (default {DATA['n_test']}, the same for every preset)")
    parser.add_argument("--epochs", type=int, help="epochs at learning rate 2e-3 (default: the preset's)")
    parser.add_argument("--fine-epochs", type=int, help="epochs at 2e-4 afterwards (default: the preset's)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1, as shipped)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "inception_lab" / "weights")
    args = parser.parse_args(argv)
    if args.threads < 1 or any(n is not None and n < 1 for n in (args.n_train, args.n_test)):
        parser.error(f"--threads, --n-train and --n-test must be positive, got {args.threads}, {args.n_train} and "
                     f"{args.n_test}")
    if any(v is not None and v < 0 for v in (args.epochs, args.fine_epochs)):
        parser.error(f"--epochs and --fine-epochs must be >= 0, got {args.epochs} and {args.fine_epochs}")
    torch.set_num_threads(args.threads)
    for name in args.preset:
        train_one(name, args)


if __name__ == "__main__":
    main(sys.argv[1:])
