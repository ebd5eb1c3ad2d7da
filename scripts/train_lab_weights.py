"""Train the lab's mini presets on the synthetic shapes and write the weights the library ships (chapter 7).

Usage (from the repository root, with the package installed, e.g. ``pip install -e .``):
    python scripts/train_lab_weights.py --preset mini_bn_inception [--preset mini_inception_v3 ...] [--threads 1]

For each preset writes ``inception_lab/weights/<preset>.pt`` (the ``state_dict`` only: plain tensors, loadable with
``torch.load(..., weights_only=True)``, well under 1 MB) and ``<preset>.json`` beside it (preset and options, data
settings, seed, schedule, per-epoch accuracy, test accuracy, parameters, torch version, date, the file's SHA-256,
the command). :func:`inception_lab.pretrained.load_preset` reads both; chapter 7 shows the feature maps and the
branch knock-outs of these networks. The mini GoogLeNet's weights come from ``scripts/train_mini_weights.py``.

What is trained, and why:

* **Model**: the preset with its lab budget options (:data:`inception_lab.experiments.runner.LAB_PRESETS`: equal MACs, no
  auxiliary heads, no dropout), so the shipped networks are the ones the lab compares.
* **Data**: :func:`~inception_lab.data.make_shapes_dataset` with the book's standard (harder) settings, clutter 6
  and noise 0.08, 32 px, data seed 0 -- the same test images as the shipped mini GoogLeNet, so chapter 7 can show
  all of them on the same images. ``--n-train`` training images, 2000 test images (never seen in training).
* **Training**: :func:`~inception_lab.train.fit` on the CPU in ``channels_last``, Adam, batch 32, seed 0; learning
  rate 2e-3 for ``--epochs`` epochs, then 2e-4 for ``--fine-epochs`` (a step decay, as for the mini GoogLeNet, on
  fewer images and epochs: the BN networks learn fast, and each model should take a few minutes at most).

Reproducibility: the same seed, torch version and thread count give the same weights; other thread counts or CPUs
can change the last bits of the sums, and with them the weights slightly (the accuracy stays close). The shipped
files were made with ``--threads 1`` (the BN-Inception one with a longer schedule, ``--n-train 6000 --epochs 6
--fine-epochs 2``); each JSON records its full command.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from inception_lab import data, train
from inception_lab.experiments import runner
from inception_lab.runtime import seed_everything

ROOT = Path(__file__).resolve().parents[1]


def train_one(name: str, args: argparse.Namespace) -> dict:
    """Train preset ``name``; write its weights and metadata; return the metadata."""
    settings = dict(image_size=32, seed=args.data_seed, clutter=6, noise=0.08, n_train=args.n_train,
                    n_test=args.n_test)
    train_set = data.make_shapes_dataset(args.n_train, 32, args.data_seed, split="train", clutter=6, noise=0.08)
    test_set = data.make_shapes_dataset(args.n_test, 32, args.data_seed, split="test", clutter=6, noise=0.08)
    train_loader, test_loader = data.loaders(train_set, test_set, batch_size=args.batch_size, seed=args.seed)

    options = dict(num_classes=10, **runner.LAB_PRESETS[name])
    seed_everything(args.seed)
    model = runner.build_lab_model(name).to(memory_format=torch.channels_last)
    schedule = [dict(lr=args.lr, epochs=args.epochs), dict(lr=args.lr / 10, epochs=args.fine_epochs)]
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    curve = []
    for phase, step in enumerate(s for s in schedule if s["epochs"] > 0):
        # Each phase reseeds with seed + phase: the batch order of the second phase differs from the first.
        history, _ = train.fit(model, train_loader, epochs=step["epochs"], lr=step["lr"], optimizer="adam",
                               val_loader=test_loader, device="cpu", seed=args.seed + phase, progress=False)
        curve += [dict(lr=step["lr"], train_acc=a, test_acc=v) for a, v in zip(history.train_acc, history.val_acc)]
        print(f"{name} phase {phase + 1}: lr {step['lr']:g}, test accuracy per epoch "
              f"{[round(v, 3) for v in history.val_acc]}", flush=True)
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    metrics = train.evaluate(model, test_loader, device="cpu")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    weights = args.out_dir / f"{name}.pt"
    state_dict = {k: v.detach().contiguous() for k, v in model.state_dict().items()}  # plain NCHW tensors
    torch.save(state_dict, weights)
    record = dict(
        model=dict(name=name, options=options),
        data=settings,
        training=dict(seed=args.seed, optimizer="adam", batch_size=args.batch_size, schedule=schedule,
                      memory_format="channels_last", device="cpu", threads=args.threads, curve=curve),
        results=dict(test_accuracy=round(metrics["accuracy"], 4), test_loss=round(metrics["loss"], 4),
                     wall_time_s=round(wall, 1), cpu_time_s=round(cpu, 1)),
        parameters=sum(p.numel() for p in model.parameters()),
        file=dict(name=weights.name, bytes=weights.stat().st_size,
                  sha256=hashlib.sha256(weights.read_bytes()).hexdigest()),
        torch_version=torch.__version__,
        python=platform.python_version(),
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        command=(f"python scripts/train_lab_weights.py --preset {name} --threads {args.threads} --n-train "
                 f"{args.n_train} --epochs {args.epochs} --fine-epochs {args.fine_epochs} --seed {args.seed}"),
    )
    (args.out_dir / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {weights} ({weights.stat().st_size:,} bytes): test accuracy {metrics['accuracy']:.3f}, "
          f"{wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", action="append", required=True, choices=sorted(runner.LAB_PRESETS),
                        help="a lab preset to train (repeat for several)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the batch order")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic images")
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=5, help="epochs at learning rate --lr")
    parser.add_argument("--fine-epochs", type=int, default=1, help="epochs at --lr / 10 afterwards")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "inception_lab" / "weights")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.preset:
        if name == "mini_googlenet":
            parser.error("the mini GoogLeNet's shipped weights come from scripts/train_mini_weights.py.")
        train_one(name, args)


if __name__ == "__main__":
    main()
