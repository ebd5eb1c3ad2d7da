"""Train the mini GoogLeNet on the synthetic shapes and write the weights the library ships.

Usage (from the repository root, with the package installed, e.g. ``pip install -e .``):
    python scripts/train_mini_weights.py [--threads 1] [--out-dir inception_lab/weights]

Writes ``inception_lab/weights/mini_googlenet.pt`` (the ``state_dict`` only: plain tensors, loadable with
``torch.load(..., weights_only=True)``, about 400 KB) and ``inception_lab/weights/mini_googlenet.json`` (how it was
made: preset and options, data settings, seed, schedule, test accuracy, torch version, date, the file's SHA-256).
:func:`inception_lab.pretrained.load_mini_googlenet` reads both. Chapters 1 and 2 show the feature maps of this
network.

What is trained, and why:

* **Model**: ``mini_googlenet(aux_logits=False, dropout=0.0)`` -- the chapter-2 preset without auxiliary
  classifiers. The heads are discarded at inference [GoogLeNet, §5], so the shipped file holds only what inference
  uses; in chapter 2's longer runs (``benchmarks/bench_aux_heads.py``) they sped up the slow start in two of three
  seeds and moved the final accuracy by about two points, within the spread between seeds, and the longer
  schedule below gets past the slow start without them. Dropout is off: at this size and budget it only slowed
  learning (chapter 2's calibration).
* **Data**: :func:`~inception_lab.data.make_shapes_dataset` with its default (harder) settings, clutter 6 and
  noise 0.08, 32 px: the book's standard set. ``--n-train`` training images (data seed 0, ``split="train"``),
  2000 test images (``split="test"``, never seen in training).
* **Training**: :func:`~inception_lab.train.fit` on the CPU in ``channels_last`` memory format (faster
  max-pooling on CPUs), Adam, batch 32, seed 0; learning rate 2e-3 for ``--epochs`` epochs, then 2e-4 for
  ``--fine-epochs`` more (a step decay, so the last epochs settle instead of bouncing).

Reproducibility: the same seed, torch version and thread count give the same weights; other thread counts
or CPUs can change the last bits of the sums, and with them the weights slightly (the accuracy stays close).
The shipped file was made with ``--threads 1`` (about 7 minutes of CPU time); the JSON records the command.
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

import torch

from inception_lab import data, train
from inception_lab.models import build_model
from inception_lab.runtime import seed_everything

ROOT = Path(__file__).resolve().parents[1]

#: The preset and builder options; load_mini_googlenet rebuilds the model from these (recorded in the JSON).
MODEL = dict(name="mini_googlenet", options=dict(num_classes=10, aux_logits=False, dropout=0.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the batch order")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic images")
    parser.add_argument("--n-train", type=int, default=12000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=12, help="epochs at learning rate --lr")
    parser.add_argument("--fine-epochs", type=int, default=3, help="epochs at --lr / 10 afterwards")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out-dir", type=Path, default=ROOT / "inception_lab" / "weights")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    settings = dict(image_size=32, seed=args.data_seed, clutter=6, noise=0.08, n_train=args.n_train,
                    n_test=args.n_test)
    train_set = data.make_shapes_dataset(args.n_train, settings["image_size"], args.data_seed, split="train",
                                         clutter=settings["clutter"], noise=settings["noise"])
    test_set = data.make_shapes_dataset(args.n_test, settings["image_size"], args.data_seed, split="test",
                                        clutter=settings["clutter"], noise=settings["noise"])
    train_loader, test_loader = data.loaders(train_set, test_set, batch_size=args.batch_size, seed=args.seed)

    seed_everything(args.seed)
    model = build_model(MODEL["name"], **MODEL["options"]).to(memory_format=torch.channels_last)
    schedule = [dict(lr=args.lr, epochs=args.epochs), dict(lr=args.lr / 10, epochs=args.fine_epochs)]
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    curve = []
    for phase, step in enumerate(s for s in schedule if s["epochs"] > 0):
        # Each phase reseeds with seed + phase: the batch order of the second phase differs from the first.
        history, _ = train.fit(model, train_loader, epochs=step["epochs"], lr=step["lr"], optimizer="adam",
                               val_loader=test_loader, device="cpu", seed=args.seed + phase, progress=True)
        curve += [dict(lr=step["lr"], train_acc=a, test_acc=v) for a, v in zip(history.train_acc, history.val_acc)]
        print(f"phase {phase + 1}: lr {step['lr']:g}, test accuracy per epoch "
              f"{[round(v, 3) for v in history.val_acc]}", flush=True)
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    metrics = train.evaluate(model, test_loader, device="cpu")
    train_metrics = train.evaluate(model, train_loader, device="cpu")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    weights = args.out_dir / "mini_googlenet.pt"
    state_dict = {k: v.detach().contiguous() for k, v in model.state_dict().items()}  # plain NCHW tensors
    torch.save(state_dict, weights)
    record = dict(
        model=MODEL,
        data=settings,
        training=dict(seed=args.seed, optimizer="adam", batch_size=args.batch_size, schedule=schedule,
                      memory_format="channels_last", device="cpu", threads=args.threads, curve=curve),
        results=dict(test_accuracy=round(metrics["accuracy"], 4), test_loss=round(metrics["loss"], 4),
                     train_accuracy=round(train_metrics["accuracy"], 4), wall_time_s=round(wall, 1),
                     cpu_time_s=round(cpu, 1)),
        parameters=sum(p.numel() for p in model.parameters()),
        file=dict(name=weights.name, bytes=weights.stat().st_size,
                  sha256=hashlib.sha256(weights.read_bytes()).hexdigest()),
        torch_version=torch.__version__,
        python=platform.python_version(),
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        command="python scripts/train_mini_weights.py " + " ".join(sys.argv[1:]),
    )
    (args.out_dir / "mini_googlenet.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {weights} ({weights.stat().st_size:,} bytes): test accuracy {metrics['accuracy']:.3f}, "
          f"train accuracy {train_metrics['accuracy']:.3f}, {wall:.0f} s wall, {cpu:.0f} s CPU")


if __name__ == "__main__":
    main()
